"""The report's figures: matplotlib (Agg, no pyplot state) drawn to inline ``data:image/png`` URIs."""

from __future__ import annotations

import base64
import io
import logging

import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from report.data import (
    ABSENT,
    AWAY_CODE,
    CAMERA_OFF_CODE,
    HEATMAP_CODES,
    HIDDEN_CODE,
    NO_DATA,
    PAUSED,
    PRESENT,
    UNCERTAIN_CODE,
    UNREADABLE_CODE,
    Heatmap,
    Moment,
    Timeline,
    split_at_pauses,
)
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

EMOTION_COLORS: dict[str, str] = {
    "Angry": "#d62728", "Disgust": "#8c9a2b", "Fear": "#9467bd", "Happy": "#f2b701",
    "Sad": "#1f77b4", "Surprise": "#ff7f0e", "Neutral": "#d4d0c4",
}
UNCERTAIN_COLOR, PRESENT_COLOR, ABSENT_COLOR = "#6f6f6f", "#2ca02c", "#ffffff"
NO_DATA_COLOR, PAUSED_COLOR, AWAY_COLOR = "#e6e6e6", "#bcd0e6", "#e07b00"
UNREADABLE_COLOR, HIDDEN_COLOR, CAMERA_OFF_COLOR = "#8c564b", "#f4a6cf", "#2f2f2f"
DPI = 96
WIDTH_IN = 11.5
# The families participants' names are drawn in, tried glyph by glyph in this order (matplotlib's
# font fallback): DejaVu Sans (bundled with matplotlib: Latin, Greek, Cyrillic), then fonts with
# Hangul, Han and kana, which DejaVu lacks: Noto Sans CJK (most Linux desktops), NanumGothic
# (fonts-nanum, which bootstrap.py installs: Hanja and kana, not every simplified Chinese
# character), WenQuanYi Micro Hei (fonts-wqy-microhei, installed too: simplified and traditional
# Chinese), Windows' and macOS's own.
# Only the installed ones are asked for: matplotlib warns on every label for a missing family.
NAME_FONT_FAMILIES = ("DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK KR", "NanumGothic",
                      "NanumBarunGothic", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback",
                      "Malgun Gothic", "Microsoft YaHei", "Yu Gothic", "Apple SD Gothic Neo", "PingFang SC",
                      "Hiragino Sans")


_TICK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200)


def _time_axis(ax: Axes, span_s: float) -> None:
    """Ticks on round clock times (every 10 s ... 2 h), labelled m:ss or h:mm."""
    step = next((s for s in _TICK_STEPS_S if span_s / s <= 10), _TICK_STEPS_S[-1])
    ax.xaxis.set_major_locator(MultipleLocator(step))
    if span_s >= 3600:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{int(v) // 3600}:{int(v) % 3600 // 60:02d}"))
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{int(v) // 60}:{int(v) % 60:02d}"))
    ax.set_xlabel("time since the start (h:mm)" if span_s >= 3600 else "time since the start (m:ss)")


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _broken(tl: Timeline, pauses: list[tuple[float, float]], *series: np.ndarray) -> list[np.ndarray]:
    """``x`` and each series with a NaN inserted where the line must not be drawn across.

    That is a pause, or more than two missing bins in a row (a capture gap): at 1 fps a second
    without a frame now and then is normal and is drawn through.
    """
    x = tl.t_s + tl.bin_s / 2
    if len(x) < 2:
        return [x, *series]
    gap = (np.diff(tl.t_s) > 2.5 * tl.bin_s) | split_at_pauses(tl.t_s, tl.bin_s, pauses)[1:]
    at = np.flatnonzero(gap) + 1
    return [np.insert(x, at, np.nan), *[np.insert(s.astype(float), at, np.nan, axis=0) for s in series]]


def _shade_pauses(axes: list[Axes], pauses: list[tuple[float, float]], label_ax: Axes | None) -> None:
    for p_from, p_to in pauses:
        for ax in axes:
            ax.axvspan(p_from, p_to, facecolor=PAUSED_COLOR, edgecolor="#5b7aa0", hatch="//", alpha=0.55,
                       linewidth=0, zorder=0.5)
        if label_ax is not None:
            label_ax.text((p_from + p_to) / 2, 0.5, "paused", transform=label_ax.get_xaxis_transform(), ha="center",
                          va="center", fontsize=8, color="#1d3557", rotation=90 if p_to - p_from < 0.04 * (
                              label_ax.get_xlim()[1] or 1) else 0, fontweight="bold",
                          bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5})


def timeline_png(tl: Timeline, moments: list[Moment], with_emotions: bool,
                 pauses: list[tuple[float, float]] | None = None) -> str:
    """Stacked emotion shares and the mood index over time, attention, faces seen below.

    Mood moments are shaded (drops red, rises green) and labelled with their change; stretches
    with no faces or most cameras off are shaded grey on the faces panel, long looking-away
    stretches orange on the attention panel; pauses are hatched blue on every panel and labelled.
    Presence-only sessions get attention and faces; the attention panel is left out where
    attention was not measured.
    """
    pauses = pauses or []
    span = float(max(tl.t_s[-1] + tl.bin_s, max((b for _a, b in pauses), default=0.0))) if len(tl.t_s) else 1.0
    with_attention = bool(np.isfinite(tl.attention_share).any())
    panels = (["mix", "mood"] if with_emotions else []) + (["attention"] if with_attention else []) + ["faces"]
    ratios = {"mix": 3.0, "mood": 2.0, "attention": 1.4, "faces": 1.2}
    height = 1.1 + sum(ratios[p] for p in panels) * 0.95
    fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, height_ratios=[ratios[p] for p in panels], squeeze=False)[:, 0]
    ax_of = dict(zip(panels, axes, strict=True))
    for ax in axes:
        ax.set_xlim(0, span)
    mood_moments = [m for m in moments if m.kind in ("drop", "rise")]
    if with_emotions:
        ax_mix, ax_mood = ax_of["mix"], ax_of["mood"]
        x, dist = _broken(tl, pauses, tl.distribution)
        # stacked by hand: where no face was readable (NaN) nothing is drawn, not a slope down to 0
        ok = np.isfinite(dist).all(axis=1)
        top = np.cumsum(np.nan_to_num(dist) * 100.0, axis=1)
        for i, e in enumerate(EMOTIONS):
            ax_mix.fill_between(x, top[:, i - 1] if i else 0.0, top[:, i], where=ok, color=EMOTION_COLORS[e],
                                linewidth=0, label=e)
        ax_mix.set_ylim(0, 100)
        ax_mix.set_ylabel("share of readable\nfaces, %")
        ax_mix.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, reverse=True)
        ax_mix.set_title("Class emotion mix over time (faces whose expression could be read)", loc="left",
                         fontsize=11)
        ax_mood.axhline(0, color="#999", linewidth=0.8)
        x, mood = _broken(tl, pauses, tl.mood_index)
        ax_mood.plot(x, mood, color="#333", linewidth=1.2, label="mood index")
        finite = np.isfinite(tl.mood_index).any()
        lo = min(-20.0, float(np.nanmin(tl.mood_index)) - 5) if finite else -20.0
        hi = max(20.0, float(np.nanmax(tl.mood_index)) + 5) if finite else 20.0
        ax_mood.set_ylim(max(lo, -100), min(hi, 100))
        ax_mood.set_ylabel("mood index")
        for m in mood_moments:
            color, text_color = ("#d62728", "#a00") if m.kind == "drop" else ("#2ca02c", "#1a6e1a")
            for ax in (ax_mix, ax_mood):
                ax.axvspan(m.t_from_s, m.t_to_s, color=color, alpha=0.18, linewidth=0)
            ax_mood.text((m.t_from_s + m.t_to_s) / 2, 0.95, f"{m.change:+.0f}",
                         transform=ax_mood.get_xaxis_transform(), ha="center", va="top", fontsize=8,
                         color=text_color, fontweight="bold")
        handles = [Patch(facecolor="#d62728", alpha=0.3, label="mood drop"),
                   Patch(facecolor="#2ca02c", alpha=0.3, label="mood rise")] if mood_moments else []
        ax_mood.legend(handles=[*ax_mood.get_legend_handles_labels()[0], *handles], loc="upper left",
                       bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if with_attention:
        ax_att = ax_of["attention"]
        x, att = _broken(tl, pauses, tl.attention_share * 100.0)
        ax_att.plot(x, att, color="#1f5fa8", linewidth=1.2, label="looking at\nthe screen")
        ax_att.set_ylim(0, 105)
        ax_att.yaxis.set_major_locator(MultipleLocator(50))
        ax_att.set_ylabel("looking at\nscreen, %")
        away = [m for m in moments if m.kind == "looking_away"]
        for m in away:
            ax_att.axvspan(m.t_from_s, m.t_to_s, color="#e07b00", alpha=0.25, linewidth=0)
        handles = [Patch(facecolor="#e07b00", alpha=0.4, label="many looking away")] if away else []
        ax_att.legend(handles=[*ax_att.get_legend_handles_labels()[0], *handles], loc="upper left",
                      bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        if not with_emotions:
            ax_att.set_title("Attention and faces over time", loc="left", fontsize=11)
    ax_faces = ax_of["faces"]
    x, faces, tiles = _broken(tl, pauses, tl.faces_mean, tl.tiles_mean)
    ax_faces.plot(x, faces, color="#2ca02c", linewidth=1.2, label="faces seen")
    ax_faces.plot(x, tiles, color="#777", linewidth=1.0, linestyle="--", label="video tiles")
    gaps = [m for m in moments if m.kind in ("no_faces", "cameras_off")]
    for m in gaps:
        ax_faces.axvspan(m.t_from_s, m.t_to_s, color="#555", alpha=0.22, linewidth=0)
    ax_faces.set_ylim(0, max(1.0, float(np.nanmax(tl.tiles_mean)), float(np.nanmax(tl.faces_mean))) * 1.15)
    ax_faces.yaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax_faces.set_ylabel("per frame")
    handles = [Patch(facecolor="#555", alpha=0.35, label="no faces /\ncameras off")] if gaps else []
    if pauses:
        handles.append(Patch(facecolor=PAUSED_COLOR, edgecolor="#5b7aa0", hatch="//", label="paused"))
    ax_faces.legend(handles=[*ax_faces.get_legend_handles_labels()[0], *handles], loc="upper left",
                    bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if len(panels) == 1:
        ax_faces.set_title("Faces seen over time", loc="left", fontsize=11)
    _shade_pauses(list(axes), pauses, axes[0])
    _time_axis(ax_faces, span)
    return _png(fig)


def distribution_png(distribution: dict[str, float]) -> str:
    """Horizontal bars of the overall emotion mix, largest on top."""
    order = sorted(EMOTIONS, key=lambda e: distribution[e])
    fig = Figure(figsize=(5.6, 2.8), layout="constrained")
    ax = fig.subplots()
    values = [100.0 * distribution[e] for e in order]
    ax.barh(order, values, color=[EMOTION_COLORS[e] for e in order], edgecolor="#555", linewidth=0.5)
    for y, v in enumerate(values):
        ax.text(v + 0.8, y, f"{v:.1f} %", va="center", fontsize=8)
    ax.set_xlim(0, max(values) * 1.2 + 1)
    ax.set_xlabel("mean share over all readable faces, %")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# Heat-map codes: colour, legend label. Only the codes a map holds get a legend entry.
HEATMAP_STYLE: dict[int, tuple[str, str]] = {
    PAUSED: (PAUSED_COLOR, "paused"), NO_DATA: (NO_DATA_COLOR, "no frame captured"),
    ABSENT: (ABSENT_COLOR, "not seen"), UNCERTAIN_CODE: (UNCERTAIN_COLOR, "Uncertain"),
    **{i: (EMOTION_COLORS[e], e) for i, e in enumerate(EMOTIONS)},
    PRESENT: (PRESENT_COLOR, "face seen"), AWAY_CODE: (AWAY_COLOR, "looking away / down, eyes closed"),
    UNREADABLE_CODE: (UNREADABLE_COLOR, "not readable (looking away / down, eyes closed)"),
    HIDDEN_CODE: (HIDDEN_COLOR, "covered by your overlay"), CAMERA_OFF_CODE: (CAMERA_OFF_COLOR, "camera off"),
}


def name_font_families() -> list[str]:
    """The families of ``NAME_FONT_FAMILIES`` installed here, in that order (at least DejaVu Sans).

    Matplotlib lists the system's fonts once and keeps the list across runs, so fonts installed
    after its first run (fonts-nanum, by bootstrap.py after pip) are not in it; system font files
    it does not list are added to it first when one of the families is missing.
    """
    manager = font_manager.fontManager
    if not {f.name for f in manager.ttflist}.issuperset(NAME_FONT_FAMILIES):
        listed = {f.fname for f in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in listed:
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError) as e:  # a broken or unsupported font file
                    log.debug("font %s left out: %s", path, e)
    known = {f.name for f in manager.ttflist}
    return [family for family in NAME_FONT_FAMILIES if family in known]


def plot_text(name: str, limit: int = 28) -> str:
    """A participant's name as matplotlib must draw it: literal ``$`` (no mathtext), printable, capped."""
    clean = "".join(c if c.isprintable() else " " for c in name)
    clean = clean if len(clean) <= limit else clean[:limit - 1] + "…"
    return clean.replace("$", "\\$")  # outside mathtext matplotlib reads only "\\$", as "$"


def heatmap_legend(hm: Heatmap) -> list[tuple[int, str, str]]:
    """``(code, colour, label)`` of every code the map holds, in ``HEATMAP_CODES`` order."""
    held = set(np.unique(hm.codes).tolist())
    return [(c, *HEATMAP_STYLE[c]) for c in HEATMAP_CODES if c in held]


def heatmap_png(hm: Heatmap, pauses: list[tuple[float, float]] | None = None) -> str:
    """Participants (rows) x time bins: each bin's dominant expression or state, pauses hatched and labelled."""
    codes = list(HEATMAP_CODES)
    cmap = ListedColormap([HEATMAP_STYLE[c][0] for c in codes])
    index = np.searchsorted(codes, hm.codes)  # HEATMAP_CODES is sorted: -4..11
    norm = BoundaryNorm(np.arange(len(codes) + 1) - 0.5, cmap.N)
    rows = max(1, len(hm.names))
    fig = Figure(figsize=(WIDTH_IN, 1.4 + 0.19 * rows), layout="constrained")
    ax = fig.subplots()
    span = float(hm.t_s[-1] + hm.bin_s) if len(hm.t_s) else 1.0
    ax.imshow(index, aspect="auto", interpolation="nearest", cmap=cmap, norm=norm,
              extent=(0, span, rows - 0.5, -0.5))
    ax.set_yticks(range(len(hm.names)), [plot_text(n) for n in hm.names], fontsize=7 if rows > 30 else 8,
                  fontfamily=name_font_families())
    ax.set_xlim(0, span)
    _time_axis(ax, span)
    for s in ax.spines.values():
        s.set_color("#bbb")
    for p_from, p_to in pauses or []:
        ax.axvspan(p_from, p_to, facecolor="none", edgecolor="#5b7aa0", hatch="//", linewidth=0)
        ax.text((p_from + p_to) / 2, -0.5, "paused", ha="center", va="bottom", fontsize=8, color="#1d3557",
                fontweight="bold", clip_on=False)
    handles = [Patch(facecolor=color, edgecolor="#999", label=label, hatch="//" if code == PAUSED else None)
               for code, color, label in heatmap_legend(hm)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return _png(fig)
