"""The CSV sink: a zip of ``observations.csv``, ``snapshots.csv``, ``participants.csv`` and ``pauses.csv``.

One zip rather than loose files so ``--out`` names one thing; spreadsheets open the CSVs once
unzipped, Windows Explorer opens them straight from the zip. Rows stream from ``db.queries``
in chunks, so a long session is written in constant memory. Times are UTC with their offset
(``+00:00``); text cells that a spreadsheet would run as a formula are neutralised (``safe_cell``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from db import queries
from db.tables import PROB_COLUMNS
from report.data import ReportData
from report.json_sink import participants_json
from vocab.timefmt import aware_utc

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
    return aware_utc(t).isoformat()


def _counted(rows: Iterator[Any], tick: Callable[[int], None], every: int = _CHUNK) -> Iterator[Any]:
    n = 0
    for n, r in enumerate(rows, 1):
        yield r
        if n % every == 0:
            tick(every)
    tick(n % every)


def _write_csv_zip(engine: Any, data: ReportData, path: Path, tick: Callable[[int], None]) -> None:
    sid = data.meta.id
    n_probs = len(PROB_COLUMNS)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        # observation columns from db.queries: 0 track, 1 frame, 2 t_utc, 3 t_s, 4..7 box, 8 score, 9 label,
        # 10 confidence, 11..17 probabilities, 18 attention, 19..21 yaw/pitch/roll, 22 eyes, 23 name
        _csv_member(z, "observations.csv", ["participant", "frame_id", "t_utc", "t_s", "x", "y", "w", "h",
                                            "detection_score", "label", "confidence", *PROB_COLUMNS, "attention",
                                            "yaw_deg", "pitch_deg", "roll_deg", "eyes", "name"],
                    ((f"P{r[0]}", r[1], _iso(r[2]), round(r[3], 3), *r[4:8], *map(_r6, r[8:11 + n_probs]),
                      r[18], *map(_r6, r[19:22]), r[22], r[23])
                     for r in _counted(queries.observation_rows(engine, sid, _CHUNK), tick)))
        _csv_member(z, "snapshots.csv", ["frame_id", "t_utc", "t_s", "faces_seen", "tiles_seen",
                                         "participants_known", "mood_index", "negative_share", *PROB_COLUMNS,
                                         "faces_readable", "attention_share", "hidden_by_overlay", "cameras_off"],
                    ((r[0], _iso(r[1]), round(r[2], 3), *r[3:6], *map(_r6, r[6:]))
                     for r in _counted(queries.snapshot_rows(engine, sid, _CHUNK), tick)))
        people = participants_json(data)
        header = ["participant", "name", "first_seen_s", "last_seen_s", "frames_seen", "frames_hidden_by_overlay",
                  "frames_camera_off", "presence", "top_label", "top_label_share", "uncertain_share",
                  "unreadable_share", "happy_share", "negative_share", "mood_index", "attention_readings",
                  "attention_share", "longest_away_s", "eyes_closed_s"]
        _csv_member(z, "participants.csv", header, ([p[k] for k in header] for p in people))
        _csv_member(z, "pauses.csv", ["t_from_s", "t_to_s"], ([round(a, 3), round(b, 3)] for a, b in data.pauses))


def _csv_member(z: zipfile.ZipFile, name: str, header: list[str], rows: Any) -> None:
    with z.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([safe_cell(v) for v in row] for row in rows)  # csv writes None as an empty cell


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet will not run: one starting with ``= + - @``, tab or CR gets a leading ``'``.

    Names come from participants (anyone in a meeting picks their own), so ``=HYPERLINK(...)`` must
    stay text (OWASP "CSV injection"). Numbers are written as numbers and left alone.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _r6(v: object) -> object:
    """Six decimals: float32 probabilities carry no more, and the file stays readable."""
    return round(v, 6) if isinstance(v, float) else v
