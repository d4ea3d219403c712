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

from report.data import ABSENT, PRESENT, UNCERTAIN_CODE, ReportData
from report.html import REPORT_VERSION
from vocab.labels import EMOTIONS


class JsonSink:
    """Writes ``report_json(data)`` to a file."""

    extension = "json"

    def write(self, data: ReportData, path: Path, progress: Any = None) -> None:
        path.write_text(json.dumps(report_json(data), allow_nan=False, indent=1), encoding="utf-8")


def _floats(a: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in a]


def report_json(data: ReportData) -> dict[str, Any]:
    """The report's numbers as one JSON-able dict (NaN becomes null)."""
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
                    "observations": data.observations},
        "distribution": data.distribution, "label_shares": data.label_shares,
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
            if data.has_emotions else None}
    doc["moments"] = [{"t_from_s": x.t_from_s, "t_to_s": x.t_to_s, "mood_from": round(x.mood_from, 3),
                       "mood_to": round(x.mood_to, 3), "change": round(x.change, 3), "driver": x.driver,
                       "driver_change": round(x.driver_change, 4)} for x in data.moments]
    doc["participants"] = [{"participant": p.name, "first_seen_s": p.first_seen_s, "last_seen_s": p.last_seen_s,
                            "frames_seen": p.frames_seen, "presence": round(p.presence, 6),
                            "top_label": p.top_label, "top_label_share": p.top_label_share,
                            "uncertain_share": p.uncertain_share, "happy_share": p.happy_share,
                            "negative_share": p.negative_share, "mood_index": p.mood_index} for p in data.people]
    hm = data.heatmap
    if hm is not None:
        legend = {str(ABSENT): "not seen", str(UNCERTAIN_CODE): "Uncertain", str(PRESENT): "Present",
                  **{str(i): e for i, e in enumerate(EMOTIONS)}}
        doc["heatmap"] = {"bin_s": hm.bin_s, "participants": hm.names, "omitted": hm.omitted,
                          "legend": legend, "codes": hm.codes.tolist()}
    return doc


