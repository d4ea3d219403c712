"""The HTML sink: one self-contained page (figures as inline PNGs, CSS and sorting script inline).

Summary, mood timeline, emotion mix, participants (heat map + sortable table), moments worth a
look and a note on what the numbers mean; opens offline anywhere.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from report.data import (
    ABSENT,
    AWAY_CODE,
    AWAY_MIN_S,
    AWAY_SHARE,
    CAMERA_OFF_CODE,
    CAMERAS_OFF_MIN_S,
    CAMERAS_OFF_SHARE,
    GAP_MIN_S,
    HIDDEN_CODE,
    MIN_MOMENT,
    NO_DATA,
    NOISE_K,
    PAUSED,
    PRESENT,
    UNCERTAIN_CODE,
    UNREADABLE_CODE,
    Moment,
    ReportData,
)
from vocab.labels import EMOTIONS, mood_index
from vocab.settings import Privacy
from vocab.timefmt import hms, local_time

REPORT_VERSION = 1
_PRIVACY_TEXT = {Privacy.FULL: "every face's expressions stored", Privacy.AGGREGATE: "class-level numbers only",
                 Privacy.PRESENCE: "faces and where they look, no expressions analysed"}


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


def zone_text(t: datetime) -> str:
    """The computer's time zone at ``t``: ``CET (UTC+01:00)``, or ``UTC+01:00`` where it has no name."""
    lt = local_time(t)
    off = lt.strftime("%z")
    off = f"UTC{off[:3]}:{off[3:]}" if off else "UTC"
    zone = lt.tzname() or ""
    return f"{zone} ({off})" if zone and not zone.startswith(("+", "-", "UTC")) else off


def clock_text(t: datetime) -> str:
    """An instant as the teacher's wall clock reads it, with the zone: ``09:05 CET (UTC+01:00)``."""
    return f"{local_time(t):%H:%M} {zone_text(t)}"


def _moment_text(m: Moment) -> str:
    """What happened in a moment, in words (its numbers are in their own columns)."""
    if m.kind in ("drop", "rise"):
        if m.driver is None or m.driver_change is None:
            return "no single expression moved it"
        return f"{m.driver} {100 * m.driver_change:+.0f} points"
    if m.kind == "no_faces":
        return "no face was seen (cameras off, gallery hidden or a shared screen)"
    faces = f"{m.faces:.0f}" if m.faces is not None else "?"
    if m.kind == "cameras_off":
        return f"{_pct(m.share)} of the video tiles without a face ({faces} faces seen on average)"
    return f"{_pct(m.share)} of the faces not looking at the screen (of {faces} seen on average)"


_KIND_TEXT = {"drop": "Mood dropped", "rise": "Mood rose", "no_faces": "No faces", "cameras_off": "Cameras off",
              "looking_away": "Many looking away"}


def render_html(data: ReportData, progress: Any = None) -> str:
    """The whole report as one HTML string (figures inlined).

    Every explanation on the page is written only beside what it explains: a column, a colour of
    the heat map or a panel of the timeline that is not shown is not explained either.
    """
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
                       "who was visible and where they looked, and no emotions.")
    if not data.empty and meta.privacy is not Privacy.PRESENCE and data.distribution is None:
        notices.append("No face could be read in this session (cameras off, faces turned away, or the gallery "
                       "was not visible), so there are no emotions to show.")
    if meta.status in ("interrupted", "failed", "running"):
        notices.append(f"This session is marked {meta.status}: its data may stop early.")
    figures: dict[str, str] = {}
    heatmap_png = None
    legend: list[tuple[int, str, str]] = []
    if not data.empty and data.timeline is not None:
        figures["timeline"] = plots.timeline_png(data.timeline, data.moments, data.has_emotions, data.pauses)
        step("figures: emotion mix")
        if data.distribution is not None:
            figures["distribution"] = plots.distribution_png(data.distribution)
        step("figures: participants")
        if data.heatmap is not None and data.heatmap.names:
            heatmap_png = plots.heatmap_png(data.heatmap, data.pauses)
            legend = plots.heatmap_legend(data.heatmap)
    mood_mean = None
    if data.distribution is not None:
        mood_mean = float(mood_index(np.array([data.distribution[e] for e in EMOTIONS])))
    settings = sorted((k, json.dumps(v) if not isinstance(v, str) else v) for k, v in meta.settings.items())
    forget = meta.settings.get("forget_after_s", 600.0)
    tl = data.timeline
    people = data.people
    # what the participants table shows: a column only where the session has something for it
    cols = {
        "hidden": any(p.frames_hidden for p in people),
        "camera-off": any(p.frames_camera_off for p in people),
        "emotions": data.has_emotions,
        "uncertain": data.has_emotions and data.label_shares is not None,
        "unreadable": data.has_emotions and any(p.unreadable_share for p in people),
        "attention": any(p.attention_share is not None for p in people),
    }
    env = Environment(loader=PackageLoader("report", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=False, lstrip_blocks=False)
    template = env.get_template("report.html.j2")
    return template.render(
        report_version=REPORT_VERSION, meta=meta, duration=hms(meta.duration_s), frames=data.frames,
        participants=data.participants, has_participants=data.has_participants, has_emotions=data.has_emotions,
        has_attention=data.has_attention, attention_share=data.attention_share,
        faces_seen=data.faces_seen, faces_mean=data.faces_per_frame_mean, faces_max=data.faces_per_frame_max,
        privacy_text=_PRIVACY_TEXT.get(meta.privacy, ""), mood_mean=mood_mean, settings=settings,
        notices=notices, empty=data.empty, plots=figures, heatmap_png=heatmap_png, heatmap_legend=legend,
        heatmap_explain=_HEATMAP_EXPLAIN,
        timeline_bin=_bin_text(tl.bin_s) if tl else "",
        timeline_attention=tl is not None and bool(np.isfinite(tl.attention_share).any()),
        heatmap_bin=_bin_text(data.heatmap.bin_s) if data.heatmap else "",
        heatmap_omitted=data.heatmap.omitted if data.heatmap else 0,
        uncertain_color=plots.UNCERTAIN_COLOR, unreadable_color=plots.UNREADABLE_COLOR,
        moments=data.moments, moment_text=_moment_text, kind_text=_KIND_TEXT,
        mood_moments=data.swings,
        mood_threshold=data.mood_threshold, min_moment=f"{MIN_MOMENT:g}", noise_k=f"{NOISE_K:g}",
        gap_min=_bin_text(GAP_MIN_S), cameras_off_min=_bin_text(CAMERAS_OFF_MIN_S),
        cameras_off_share=_pct(CAMERAS_OFF_SHARE), away_min=_bin_text(AWAY_MIN_S), away_share=_pct(AWAY_SHARE),
        emotions=EMOTIONS, colors=plots.EMOTION_COLORS, distribution=data.distribution,
        label_shares=data.label_shares, unreadable_share=data.unreadable_share,
        pauses=data.pauses, paused=hms(data.paused_s),
        uncertain_below=meta.settings.get("uncertain_below", 0.4), people=people, cols=cols, hms=hms, pct=_pct,
        frame_interval=f"{data.frame_interval_s:.2g} s",
        forget_after=_bin_text(float(forget)) if isinstance(forget, (int, float)) else str(forget),
        observations_text=f"{data.observations:,} face observations" if data.observations
        else f"{data.frames:,} class snapshots",
        started_local=local_time(meta.started_utc), started_clock=clock_text(meta.started_utc),
        clock_at=(lambda t_s: clock_text(meta.started_utc + timedelta(seconds=t_s))) if meta.live else None,
        paused_s=data.paused_s, zone_text=zone_text(meta.started_utc),
        generated=f"{local_time(datetime.now(UTC)):%Y-%m-%d} {clock_text(datetime.now(UTC))}")


# What each colour of the heat map means, beside its legend entry (keys: heat-map codes).
_HEATMAP_EXPLAIN: dict[int, str] = {
    PAUSED: "you paused ClassMood: nothing was captured",
    NO_DATA: "no frame was captured in this time (the capture skipped it): unknown, not absent",
    ABSENT: "frames were captured but this person was not in them",
    UNCERTAIN_CODE: "the model was mostly unsure of the expression",
    PRESENT: "the face was seen (and, where measured, mostly looking at the screen)",
    AWAY_CODE: "the face was seen, mostly looking away, down or with eyes closed",
    UNREADABLE_CODE: "the face was seen but its expression could not be read: looking away or down, eyes "
                     "closed or lower face covered; not an expression",
    HIDDEN_CODE: "present but covered by your own ClassMood overlay: not absent",
    CAMERA_OFF_CODE: "present with the camera off",
    **{i: "the most likely expression in that time" for i in range(len(EMOTIONS))},
}
