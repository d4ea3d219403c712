"""The report's figures: matplotlib (Agg, no pyplot state) drawn to inline ``data:image/png`` URIs."""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from report.data import ABSENT, PRESENT, Heatmap, Moment, Timeline
from vocab.labels import EMOTIONS

EMOTION_COLORS: dict[str, str] = {
    "Angry": "#d62728", "Disgust": "#8c9a2b", "Fear": "#9467bd", "Happy": "#f2b701",
    "Sad": "#1f77b4", "Surprise": "#ff7f0e", "Neutral": "#d4d0c4",
}
UNCERTAIN_COLOR, PRESENT_COLOR, ABSENT_COLOR = "#6f6f6f", "#2ca02c", "#ffffff"
DPI = 96
WIDTH_IN = 11.5


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


def timeline_png(tl: Timeline, swings: list[Moment], with_emotions: bool) -> str:
    """Stacked emotion shares and the mood index over time, drops shaded; faces seen below.

    Presence-only sessions get the faces/tiles panel alone.
    """
    span = float(tl.t_s[-1] + tl.bin_s) if len(tl.t_s) else 1.0
    x = tl.t_s + tl.bin_s / 2
    if with_emotions:
        fig = Figure(figsize=(WIDTH_IN, 6.2), layout="constrained")
        ax_mix, ax_mood, ax_faces = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 1])
    else:
        fig = Figure(figsize=(WIDTH_IN, 2.6), layout="constrained")
        ax_faces = fig.subplots(1, 1)
    if with_emotions:
        shares = np.nan_to_num(tl.distribution.T * 100.0)
        ax_mix.stackplot(x, shares, labels=EMOTIONS, colors=[EMOTION_COLORS[e] for e in EMOTIONS],
                         linewidth=0)
        ax_mix.set_ylim(0, 100)
        ax_mix.set_ylabel("share of faces, %")
        ax_mix.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, reverse=True)
        ax_mix.set_title("Class emotion mix over time", loc="left", fontsize=11)
        ax_mood.axhline(0, color="#999", linewidth=0.8)
        ax_mood.plot(x, tl.mood_index, color="#333", linewidth=1.2)
        lo = min(-20.0, float(np.nanmin(tl.mood_index)) - 5) if np.isfinite(tl.mood_index).any() else -20.0
        hi = max(20.0, float(np.nanmax(tl.mood_index)) + 5) if np.isfinite(tl.mood_index).any() else 20.0
        ax_mood.set_ylim(max(lo, -100), min(hi, 100))
        ax_mood.set_ylabel("mood index")
        for m in swings:
            for ax in (ax_mix, ax_mood):
                ax.axvspan(m.t_from_s, m.t_to_s, color="#d62728", alpha=0.18, linewidth=0)
            ax_mood.text((m.t_from_s + m.t_to_s) / 2, 0.95, f"{m.change:+.0f}", transform=ax_mood.get_xaxis_transform(),
                         ha="center", va="top", fontsize=8, color="#a00", fontweight="bold")
    ax_faces.plot(x, tl.faces_mean, color="#2ca02c", linewidth=1.2, label="faces seen")
    ax_faces.plot(x, tl.tiles_mean, color="#999", linewidth=1.0, linestyle="--", label="video tiles")
    ax_faces.set_ylim(0, max(1.0, float(np.nanmax(tl.tiles_mean)), float(np.nanmax(tl.faces_mean))) * 1.15)
    ax_faces.yaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax_faces.set_ylabel("per frame")
    ax_faces.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if not with_emotions:
        ax_faces.set_title("Faces seen over time", loc="left", fontsize=11)
    ax_faces.set_xlim(0, span)
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
    ax.set_xlabel("mean share over all classified faces, %")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def heatmap_png(hm: Heatmap, with_emotions: bool) -> str:
    """Participants (rows) x time bins: the dominant emotion of each bin, or present/absent."""
    colors = [ABSENT_COLOR, UNCERTAIN_COLOR, *[EMOTION_COLORS[e] for e in EMOTIONS], PRESENT_COLOR]
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(ABSENT, PRESENT + 2) - 0.5, cmap.N)
    rows = max(1, len(hm.names))
    fig = Figure(figsize=(WIDTH_IN, 1.1 + 0.19 * rows), layout="constrained")
    ax = fig.subplots()
    span = float(hm.t_s[-1] + hm.bin_s) if len(hm.t_s) else 1.0
    ax.imshow(hm.codes, aspect="auto", interpolation="nearest", cmap=cmap, norm=norm,
              extent=(0, span, rows - 0.5, -0.5))
    ax.set_yticks(range(len(hm.names)), hm.names, fontsize=7 if rows > 30 else 8)
    _time_axis(ax, span)
    for s in ax.spines.values():
        s.set_color("#bbb")
    if with_emotions:
        handles = [Patch(facecolor=EMOTION_COLORS[e], label=e) for e in EMOTIONS]
        handles += [Patch(facecolor=UNCERTAIN_COLOR, label="Uncertain"),
                    Patch(facecolor=ABSENT_COLOR, edgecolor="#999", label="not seen")]
    else:
        handles = [Patch(facecolor=PRESENT_COLOR, label="face seen"),
                   Patch(facecolor=ABSENT_COLOR, edgecolor="#999", label="not seen")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return _png(fig)
