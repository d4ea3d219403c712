"""Build a session's report into a file with one of the sinks (HTML page, CSV zip, JSON document).

``build_report(engine, session_id, fmt, out) -> ReportOutcome`` is what the CLI calls; it
raises ``UnknownSession`` for an id that is not there, and prints nothing: what to tell the
user, and with which exit code, is the CLI's job.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from db.queries import session_summary
from report.csv_sink import CsvZipSink
from report.data import ReportData, load_report_data
from report.html import HtmlSink
from report.json_sink import JsonSink

log = logging.getLogger(__name__)



class ReportSink(Protocol):
    """Writes a session's ``ReportData`` to one file."""

    extension: str

    def write(self, data: ReportData, path: Path, progress: Any = None) -> None: ...


@dataclass(frozen=True)
class ReportOutcome:
    """What was written, for the line the CLI prints."""

    path: Path
    session_id: int
    frames: int
    participants: int | None  # None where per-participant data was not kept (aggregate)
    empty: bool
    asked_path: Path | None = None  # the --out given, where the file had to be named otherwise


def make_sink(fmt: str, engine: Engine) -> ReportSink:
    if fmt == "html":
        return HtmlSink()
    if fmt == "json":
        return JsonSink()
    return CsvZipSink(engine)


def build_report(engine: Engine, session_id: int, fmt: str = "html", out: Path | None = None) -> ReportOutcome:
    """Write the report of ``session_id`` as ``fmt`` to ``out`` (default: ``classmood-report-<id>.<ext>``).

    ``out`` may be a folder. The file is written whole or not at all. A zip (the CSV sink) always
    ends in ``.zip``: ``grades.csv`` is written as ``grades.csv.zip``, since a zip named ``.csv``
    opens as garbage in a spreadsheet.
    """
    sink = make_sink(fmt, engine)
    started = time.perf_counter()
    meta = session_summary(engine, session_id)  # UnknownSession before any work
    with _progress(session_id, meta.frames) as progress:
        data = load_report_data(engine, session_id, progress.step, meta)
        path = Path(out) if out is not None else Path(f"classmood-report-{session_id}.{sink.extension}")
        if path.is_dir():
            path = path / f"classmood-report-{session_id}.{sink.extension}"
        asked = path
        path = _zip_suffixed(path) if sink.extension == "zip" else path
        path.parent.mkdir(parents=True, exist_ok=True)
        progress.step("writing")
        tmp = path.with_name(path.name + ".part")
        try:
            sink.write(data, tmp, progress)
        except BaseException:
            tmp.unlink(missing_ok=True)  # never leave half a report behind
            raise
        tmp.replace(path)
    log.debug("report of session %d took %.2f s", session_id, time.perf_counter() - started)
    return ReportOutcome(path=path, session_id=session_id, frames=data.frames,
                         participants=data.participants if data.has_participants else None, empty=data.empty,
                         asked_path=asked if asked != path else None)


def _zip_suffixed(path: Path) -> Path:
    """``path``, with ``.zip`` added unless it already ends so (any case)."""
    return path if path.suffix.lower() == ".zip" else path.with_name(path.name + ".zip")


class _progress:  # noqa: N801  (reads as a function at its one call site)
    """A tqdm bar on stderr over the report's steps, shown for long sessions on a terminal."""

    STEPS = 7
    LONG_FRAMES = 1800  # half an hour at 1 fps

    def __init__(self, session_id: int, frames: int) -> None:
        self._sid, self._frames = session_id, frames
        self._bar: Any = None

    def __enter__(self) -> _progress:
        if self._frames >= self.LONG_FRAMES and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.STEPS, desc=f"report of session {self._sid}", file=sys.stderr,
                             leave=False, bar_format="{desc}: {bar} {n_fmt}/{total_fmt} {postfix}")
        return self

    def step(self, what: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(what, refresh=False)
            if self._bar.n < self._bar.total:
                self._bar.update(1)

    def rows(self, total: int) -> Callable[[int], None]:
        """Switch the bar to counting ``total`` rows (the CSV export); returns ``tick(n)``."""
        if self._bar is None:
            return lambda _n: None
        from tqdm import tqdm

        self._bar.close()
        self._bar = tqdm(total=total, desc=f"session {self._sid} to CSV", unit=" rows", unit_scale=True,
                         file=sys.stderr, leave=False)
        return self._bar.update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
