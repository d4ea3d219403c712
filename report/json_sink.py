"""The JSON sink: the report's numbers as one document for scripts (NaN becomes null).

Session, summary, distribution, binned timeline, moments, participants and heat map; the raw
rows are what the CSV sink is for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from report.data import ReportData
from report.html import REPORT_VERSION
from report.plots import HEATMAP_STYLE
from vocab.labels import EMOTIONS


class JsonSink:
    """Writes ``report_json(data)`` to a file."""

    extension = "json"

    def write(self, data: ReportData, path: Path, progress: Any = None) -> None:
        path.write_text(json.dumps(report_json(data), allow_nan=False, indent=1), encoding="utf-8")


def _floats(a: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in a]


def participants_json(data: ReportData) -> list[dict[str, Any]]:
    """One dict per participant (the JSON document's and the CSV export's participant rows)."""
    return [{"participant": p.key, "name": p.name, "first_seen_s": p.first_seen_s,
             "last_seen_s": p.last_seen_s, "frames_seen": p.frames_seen,
             "frames_hidden_by_overlay": p.frames_hidden, "frames_camera_off": p.frames_camera_off,
             "presence": round(p.presence, 6), "top_label": p.top_label,
             "top_label_share": p.top_label_share, "uncertain_share": p.uncertain_share,
             "unreadable_share": p.unreadable_share, "happy_share": p.happy_share,
             "negative_share": p.negative_share, "mood_index": p.mood_index,
             "attention_readings": p.attention_readings, "attention_share": p.attention_share,
             "longest_away_s": _round(p.longest_away_s, 3), "eyes_closed_s": _round(p.eyes_closed_s, 3)}
            for p in data.people]


def report_json(data: ReportData) -> dict[str, Any]:
    """The report's numbers as one JSON-able dict (NaN becomes null; times in UTC with their offset)."""
    m = data.meta
    doc: dict[str, Any] = {
        "format": "classmood-report", "version": REPORT_VERSION,
        "session": {"id": m.id, "started_utc": m.started_utc.isoformat(),
                    "ended_utc": m.ended_utc.isoformat() if m.ended_utc else None, "duration_s": round(m.duration_s, 3),
                    "source": m.source, "privacy": m.privacy, "status": m.status, "model_sha256": m.model_sha256,
                    "settings": m.settings},
        "summary": {"frames": data.frames, "faces_seen": data.faces_seen,
                    "faces_per_frame_mean": round(data.faces_per_frame_mean, 4),
                    "faces_per_frame_max": data.faces_per_frame_max,
                    "participants": data.participants if data.has_participants else None,
                    "observations": data.observations, "paused_s": round(data.paused_s, 3),
                    "attention_share": _round(data.attention_share, 6),
                    "unreadable_share": _round(data.unreadable_share, 6),
                    "mood_moment_threshold": _round(data.mood_threshold, 3)},
        "distribution": data.distribution, "label_shares": data.label_shares,
        "pauses": [{"t_from_s": round(a, 3), "t_to_s": round(b, 3)} for a, b in data.pauses],
        "timeline": None, "moments": [], "participants": [], "heatmap": None,
    }
    tl = data.timeline
    if tl is not None:
        doc["timeline"] = {
            "bin_s": tl.bin_s, "t_s": _floats(tl.t_s, 3), "frames": tl.frames.tolist(),
            "faces_mean": _floats(tl.faces_mean), "tiles_mean": _floats(tl.tiles_mean),
            "mood_index": _floats(tl.mood_index, 3) if data.has_emotions else None,
            "negative_share": _floats(tl.negative_share) if data.has_emotions else None,
            "distribution": {e: _floats(tl.distribution[:, i]) for i, e in enumerate(EMOTIONS)}
            if data.has_emotions else None,
            "attention_share": _floats(tl.attention_share), "cameras_off_mean": _floats(tl.cameras_off_mean),
            "hidden_by_overlay_mean": _floats(tl.hidden_mean), "faces_readable_mean": _floats(tl.readable_mean)}
    doc["moments"] = [{"kind": x.kind, "t_from_s": round(x.t_from_s, 3), "t_to_s": round(x.t_to_s, 3),
                       "mood_from": _round(x.mood_from, 3), "mood_to": _round(x.mood_to, 3),
                       "change": round(x.change, 3) if x.mood_from is not None else None, "driver": x.driver,
                       "driver_change": _round(x.driver_change, 4), "share": _round(x.share, 4)}
                      for x in data.moments]
    doc["participants"] = participants_json(data)
    hm = data.heatmap
    if hm is not None:
        doc["heatmap"] = {"bin_s": hm.bin_s, "participants": hm.names, "omitted": hm.omitted,
                          "legend": {str(c): label for c, (_color, label) in HEATMAP_STYLE.items()},
                          "codes": hm.codes.tolist()}
    return doc


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), digits)
