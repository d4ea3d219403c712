"""``classmood report``: a session as one self-contained HTML page, a zip of CSVs, or one JSON document.

``write_report(db_url, session_id, out, fmt) -> exit code`` is what the CLI calls;
``render_html(data)`` and ``report_json(data)`` render a ``ReportData`` for other callers.

- ``html``: summary, mood timeline, emotion mix, participants (heat map + sortable table),
  moments worth a look and a note on what the numbers mean; images are inline PNGs, CSS and
  the few lines of sorting JavaScript are inline too, so the file opens offline anywhere.
- ``csv``: a zip holding ``observations.csv``, ``snapshots.csv`` and ``participants.csv``
  (one zip rather than loose files so ``--out`` names one thing; spreadsheets open the CSVs
  once unzipped, Windows Explorer opens them straight from the zip).
- ``json``: the report's numbers (session, summary, distribution, binned timeline, moments,
  participants, heat map) for scripts; the raw rows are what the CSV export is for.

Exit codes: 0 written (an empty session gets a report that says so; an empty or missing
database, asked for the latest session, gets a message), 2 an unknown session id or format.
Storage faults raise ``StorageError``, which the CLI turns into exit code 3. A missing SQLite
file is never created by asking for a report.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from db.engine import _safe, default_db_url, open_engine, session_scope
from db.queries import latest_session_id
from db.report_data import ABSENT, MIN_MOMENT, PRESENT, UNCERTAIN, ReportData, UnknownSession, load_report_data
from db.schema import PROB_COLUMNS, ObservationRow, ParticipantRow, SnapshotRow
from models.labels import EMOTIONS

log = logging.getLogger(__name__)

REPORT_VERSION = 1
FORMATS = ("html", "csv", "json")
_EXT = {"html": "html", "csv": "zip", "json": "json"}
_PRIVACY_TEXT = {"full": "every face's expressions stored", "aggregate": "class-level numbers only",
                 "presence": "faces counted, no expressions analysed"}
_CSV_CHUNK = 5000


def write_report(db_url: str | None, session_id: int | None = None, out: Path | str | None = None,
                 fmt: str = "html") -> int:
    """Write the report of ``session_id`` (latest when None) to ``out``; returns the exit code.

    ``out`` defaults to ``classmood-report-<id>.<html|zip|json>`` in the current folder.
    Prints one line on stdout saying what was written, or one on stderr saying what is wrong.
    """
    if fmt not in FORMATS:
        print(f"classmood: report format must be one of {', '.join(FORMATS)}, not {fmt!r}", file=sys.stderr)
        return 2
    url = db_url or default_db_url()
    missing = _missing_sqlite_file(url)
    if missing is not None:
        if session_id is None:
            print(f"no sessions recorded yet ({missing} does not exist): start one with `classmood run`")
            return 0
        print(f"classmood: no session {session_id}: there is no database at {missing}", file=sys.stderr)
        return 2
    engine = open_engine(url)
    try:
        return _write(engine, url, session_id, out, fmt)
    finally:
        engine.dispose()


def _write(engine: Engine, url: str, session_id: int | None, out: Path | str | None, fmt: str) -> int:
    sid = session_id if session_id is not None else latest_session_id(engine)
    if sid is None:
        print(f"no sessions recorded yet in {_safe(url)}: start one with `classmood run`")
        return 0
    started = time.perf_counter()
    with _progress(engine, sid) as progress:
        step = progress.step
        try:
            data = load_report_data(engine, sid, step)
        except UnknownSession:
            latest = latest_session_id(engine)
            hint = f"the latest is {latest}; " if latest is not None else ""
            print(f"classmood: no session {sid} in {_safe(url)} ({hint}see `classmood sessions`)", file=sys.stderr)
            return 2
        path = Path(out) if out is not None else Path(f"classmood-report-{sid}.{_EXT[fmt]}")
        if path.is_dir():
            path = path / f"classmood-report-{sid}.{_EXT[fmt]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            step("figures")
            text = render_html(data, step)
            step("writing")
            path.write_text(text, encoding="utf-8")
        elif fmt == "json":
            step("writing")
            path.write_text(json.dumps(report_json(data), allow_nan=False, indent=1), encoding="utf-8")
        else:
            _write_csv_zip(engine, data, path, progress.rows(data.observations + data.frames))
    took = time.perf_counter() - started
    log.debug("report of session %d took %.2f s", sid, took)
    if data.empty:
        print(f"session {sid} recorded no frames; wrote a report that says so to {path}")
    else:
        people = f", {data.participants} participant{'s' * (data.participants != 1)}" if data.has_participants else ""
        print(f"wrote {path} (session {sid}, {data.frames} frame{'s' * (data.frames != 1)}{people})")
    return 0


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite file that does not exist (opening it would create an empty one)."""
    try:
        u = make_url(url)
    except Exception:
        return None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not u.database.startswith("file:") and not Path(u.database).exists():
        return u.database
    return None


class _progress:  # noqa: N801  (reads as a function at its one call site)
    """A tqdm bar on stderr over the report's steps, shown for long sessions on a terminal."""

    STEPS = 7
    LONG_FRAMES = 1800  # half an hour at 1 fps

    def __init__(self, engine: Engine, session_id: int) -> None:
        self._engine, self._sid = engine, session_id
        self._bar: Any = None

    def __enter__(self) -> _progress:
        from db.schema import SessionRow

        with session_scope(self._engine) as s:
            frames = s.scalar(select(SessionRow.frames).where(SessionRow.id == self._sid)) or 0
        if frames >= self.LONG_FRAMES and sys.stderr.isatty():
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


# -- HTML -------------------------------------------------------------------------------------

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

    from db import report_plots as plots

    step = progress or (lambda _m: None)
    meta = data.meta
    notices = []
    if data.empty:
        notices.append("This session recorded no frames (it was stopped before the first one was analysed), "
                       "so there is nothing to chart.")
    if meta.privacy == "aggregate":
        notices.append("Recorded with --privacy aggregate: only class-level numbers were stored, so this "
                       "report has no per-participant part.")
    if meta.privacy == "presence":
        notices.append("Recorded with --privacy presence: no expressions were analysed, so this report shows "
                       "who was visible when, and no emotions.")
    if not data.empty and meta.privacy == "full" and data.distribution is None:
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
        from db.report_data import VALENCE_VEC

        mood_mean = float(100.0 * np.array([data.distribution[e] for e in EMOTIONS]) @ VALENCE_VEC)
    settings = sorted((k, json.dumps(v) if not isinstance(v, str) else v) for k, v in meta.settings.items())
    forget = meta.settings.get("forget_after_s", 600.0)
    env = Environment(loader=PackageLoader("db", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=False, lstrip_blocks=False)
    template = env.get_template("report.html.j2")
    return template.render(
        report_version=REPORT_VERSION, meta=meta, duration=plots.hms(meta.duration_s), frames=data.frames,
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
        uncertain_below=meta.settings.get("uncertain_below", 0.4), people=data.people, hms=plots.hms, pct=_pct,
        forget_after=_bin_text(float(forget)) if isinstance(forget, (int, float)) else str(forget),
        observations_text=f"{data.observations:,} face observations" if data.observations
        else f"{data.frames:,} class snapshots",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


# -- JSON -------------------------------------------------------------------------------------

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
        legend = {str(ABSENT): "not seen", str(UNCERTAIN): "Uncertain", str(PRESENT): "Present",
                  **{str(i): e for i, e in enumerate(EMOTIONS)}}
        doc["heatmap"] = {"bin_s": hm.bin_s, "participants": hm.names, "omitted": hm.omitted,
                          "legend": legend, "codes": hm.codes.tolist()}
    return doc


# -- CSV --------------------------------------------------------------------------------------

def _iso(t: datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def _rows(engine: Engine, stmt: Any) -> Iterator[tuple]:
    with session_scope(engine) as s:
        yield from s.execute(stmt.execution_options(yield_per=_CSV_CHUNK))


def _counted(rows: Iterator[tuple], tick: Callable[[int], None], every: int = _CSV_CHUNK) -> Iterator[tuple]:
    n = 0
    for n, r in enumerate(rows, 1):
        yield r
        if n % every == 0:
            tick(every)
    tick(n % every)


def _write_csv_zip(engine: Engine, data: ReportData, path: Path, tick: Callable[[int], None]) -> None:
    sid = data.meta.id
    Obs, Snap, Part = ObservationRow, SnapshotRow, ParticipantRow  # noqa: N806
    probs = [getattr(Obs, c) for c in PROB_COLUMNS]
    obs = (select(Part.track_id, Obs.frame_id, Obs.t_utc, Obs.t_s,
                  Obs.x, Obs.y, Obs.w, Obs.h, Obs.detection_score, Obs.label, Obs.confidence, *probs)
           .join(Part, Part.id == Obs.participant_id).where(Obs.session_id == sid).order_by(Obs.t_s, Obs.id))
    snaps = (select(Snap.frame_id, Snap.t_utc, Snap.t_s, Snap.faces_seen, Snap.tiles_seen, Snap.participants_known,
                    Snap.mood_index, Snap.negative_share, *[getattr(Snap, c) for c in PROB_COLUMNS])
             .where(Snap.session_id == sid).order_by(Snap.t_s, Snap.id))
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        _csv_member(z, "observations.csv", ["participant", "frame_id", "t_utc", "t_s", "x", "y", "w", "h",
                                            "detection_score", "label", "confidence", *PROB_COLUMNS],
                    ((f"P{r[0]}", r[1], _iso(r[2]), round(r[3], 3), *r[4:8], *map(_r6, r[8:]))
                     for r in _counted(_rows(engine, obs), tick)))
        _csv_member(z, "snapshots.csv", ["frame_id", "t_utc", "t_s", "faces_seen", "tiles_seen",
                                         "participants_known", "mood_index", "negative_share", *PROB_COLUMNS],
                    ((r[0], _iso(r[1]), round(r[2], 3), *r[3:6], *map(_r6, r[6:]))
                     for r in _counted(_rows(engine, snaps), tick)))
        people = report_json(data)["participants"]
        header = ["participant", "first_seen_s", "last_seen_s", "frames_seen", "presence", "top_label",
                  "top_label_share", "uncertain_share", "happy_share", "negative_share", "mood_index"]
        _csv_member(z, "participants.csv", header, ([p[k] for k in header] for p in people))
    tmp.replace(path)


def _csv_member(z: zipfile.ZipFile, name: str, header: list[str], rows: Any) -> None:
    with z.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)  # csv writes None as an empty cell


def _r6(v: object) -> object:
    """Six decimals: float32 probabilities carry no more, and the file stays readable."""
    return round(v, 6) if isinstance(v, float) else v
