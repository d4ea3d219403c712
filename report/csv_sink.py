"""The CSV sink: a zip of ``observations.csv``, ``snapshots.csv`` and ``participants.csv``.

One zip rather than loose files so ``--out`` names one thing; spreadsheets open the CSVs once
unzipped, Windows Explorer opens them straight from the zip. Rows stream from ``db.queries``
in chunks, so a long session is written in constant memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from db import queries
from db.schema import PROB_COLUMNS
from report.data import ReportData
from report.json_sink import report_json

_CHUNK = 5000


class CsvZipSink:
    """Writes every stored row of a session, plus the per-participant table, as CSVs in one zip."""

    extension = "zip"

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def write(self, data: ReportData, path: Path, progress: Any = None) -> None:
        tick = progress.rows(data.observations + data.frames) if progress is not None else (lambda _n: None)
        _write_csv_zip(self._engine, data, path, tick)


def _iso(t: datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def _counted(rows: Iterator[Any], tick: Callable[[int], None], every: int = _CHUNK) -> Iterator[Any]:
    n = 0
    for n, r in enumerate(rows, 1):
        yield r
        if n % every == 0:
            tick(every)
    tick(n % every)


def _write_csv_zip(engine: Any, data: ReportData, path: Path, tick: Callable[[int], None]) -> None:
    sid = data.meta.id
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        _csv_member(z, "observations.csv", ["participant", "frame_id", "t_utc", "t_s", "x", "y", "w", "h",
                                            "detection_score", "label", "confidence", *PROB_COLUMNS],
                    ((f"P{r[0]}", r[1], _iso(r[2]), round(r[3], 3), *r[4:8], *map(_r6, r[8:]))
                     for r in _counted(queries.observation_rows(engine, sid, _CHUNK), tick)))
        _csv_member(z, "snapshots.csv", ["frame_id", "t_utc", "t_s", "faces_seen", "tiles_seen",
                                         "participants_known", "mood_index", "negative_share", *PROB_COLUMNS],
                    ((r[0], _iso(r[1]), round(r[2], 3), *r[3:6], *map(_r6, r[6:]))
                     for r in _counted(queries.snapshot_rows(engine, sid, _CHUNK), tick)))
        people = report_json(data)["participants"]
        header = ["participant", "first_seen_s", "last_seen_s", "frames_seen", "presence", "top_label",
                  "top_label_share", "uncertain_share", "happy_share", "negative_share", "mood_index"]
        _csv_member(z, "participants.csv", header, ([p[k] for k in header] for p in people))


def _csv_member(z: zipfile.ZipFile, name: str, header: list[str], rows: Any) -> None:
    with z.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)  # csv writes None as an empty cell


def _r6(v: object) -> object:
    """Six decimals: float32 probabilities carry no more, and the file stays readable."""
    return round(v, 6) if isinstance(v, float) else v
