"""The HTML sink: one self-contained page (figures as inline PNGs, CSS and sorting script inline).

Summary, mood timeline, emotion mix, participants (heat map + sortable table), moments worth a
look and a note on what the numbers mean; opens offline anywhere.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from report.data import MIN_MOMENT, ReportData
from vocab.labels import EMOTIONS, mood_index
from vocab.settings import Privacy
from vocab.timefmt import hms

REPORT_VERSION = 1
_PRIVACY_TEXT = {Privacy.FULL: "every face's expressions stored", Privacy.AGGREGATE: "class-level numbers only",
                 Privacy.PRESENCE: "faces counted, no expressions analysed"}


class HtmlSink:
    """Writes ``ReportData`` as one HTML file."""

    extension = "html"

    def write(self, data: ReportData, path: Path, progress: Any = None) -> None:
        path.write_text(render_html(data, progress.step if progress is not None else None), encoding="utf-8")


def _bin_text(bin_s: float) -> str:
    if bin_s < 60:
        return f"{bin_s:g} second{'s' if bin_s != 1 else ''}"
    if bin_s < 3600:
        return f"{bin_s / 60:g} minute{'s' if bin_s != 60 else ''}"
    return f"{bin_s / 3600:g} hour{'s' if bin_s != 3600 else ''}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def render_html(data: ReportData, progress: Any = None) -> str:
    """The whole report as one HTML string (figures inlined)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from report import plots

    step = progress or (lambda _m: None)
    meta = data.meta
    notices = []
    if data.empty:
        notices.append("This session recorded no frames (it was stopped before the first one was analysed), "
                       "so there is nothing to chart.")
    if meta.privacy is Privacy.AGGREGATE:
        notices.append("Recorded with --privacy aggregate: only class-level numbers were stored, so this "
                       "report has no per-participant part.")
    if meta.privacy is Privacy.PRESENCE:
        notices.append("Recorded with --privacy presence: no expressions were analysed, so this report shows "
                       "who was visible when, and no emotions.")
    if not data.empty and meta.privacy is Privacy.FULL and data.distribution is None:
        notices.append("No face was analysed in this session (cameras off, or the gallery was not visible), "
                       "so there are no emotions to show.")
    if meta.status in ("interrupted", "failed", "running"):
        notices.append(f"This session is marked {meta.status}: its data may stop early.")
    figures: dict[str, str] = {}
    heatmap_png = None
    if not data.empty and data.timeline is not None:
        figures["timeline"] = plots.timeline_png(data.timeline, data.swings, data.has_emotions)
        step("figures: emotion mix")
        if data.distribution is not None:
            figures["distribution"] = plots.distribution_png(data.distribution)
        step("figures: participants")
        if data.heatmap is not None and data.heatmap.names:
            heatmap_png = plots.heatmap_png(data.heatmap, data.has_emotions)
    mood_mean = None
    if data.distribution is not None:
        mood_mean = float(mood_index(np.array([data.distribution[e] for e in EMOTIONS])))
    settings = sorted((k, json.dumps(v) if not isinstance(v, str) else v) for k, v in meta.settings.items())
    forget = meta.settings.get("forget_after_s", 600.0)
    env = Environment(loader=PackageLoader("report", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=False, lstrip_blocks=False)
    template = env.get_template("report.html.j2")
    return template.render(
        report_version=REPORT_VERSION, meta=meta, duration=hms(meta.duration_s), frames=data.frames,
        participants=data.participants, has_participants=data.has_participants, has_emotions=data.has_emotions,
        faces_seen=data.faces_seen, faces_mean=data.faces_per_frame_mean, faces_max=data.faces_per_frame_max,
        privacy_text=_PRIVACY_TEXT.get(meta.privacy, ""), mood_mean=mood_mean, settings=settings,
        notices=notices, empty=data.empty, plots=figures, heatmap_png=heatmap_png,
        timeline_bin=_bin_text(data.timeline.bin_s) if data.timeline else "",
        heatmap_bin=_bin_text(data.heatmap.bin_s) if data.heatmap else "",
        heatmap_omitted=data.heatmap.omitted if data.heatmap else 0,
        uncertain_color=plots.UNCERTAIN_COLOR, moments=data.moments, min_moment=f"{MIN_MOMENT:g}",
        emotions=EMOTIONS, colors=plots.EMOTION_COLORS,
        distribution=data.distribution, label_shares=data.label_shares,
        uncertain_below=meta.settings.get("uncertain_below", 0.4), people=data.people, hms=hms, pct=_pct,
        forget_after=_bin_text(float(forget)) if isinstance(forget, (int, float)) else str(forget),
        observations_text=f"{data.observations:,} face observations" if data.observations
        else f"{data.frames:,} class snapshots",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


