"""Read-side queries shared by the CLI and the report. Results are plain dataclasses, never ORM rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, select

from db.schema import ObservationRow, ParticipantRow, PauseRow, SessionRow, SnapshotRow, session_scope
from db.tables import PROB_COLUMNS
from vocab.errors import ConfigError, UnknownSession
from vocab.settings import Privacy
from vocab.timefmt import aware_utc, session_duration_s


@dataclass(frozen=True)
class SessionSummary:
    """One recorded session as the CLI lists it and the report heads it."""

    id: int
    started_utc: datetime
    ended_utc: datetime | None
    duration_s: float
    participants: int
    frames: int
    source: str
    live: bool
    privacy: Privacy
    status: str
    model_sha256: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("settings")
        d["privacy"] = self.privacy.value
        d["started_utc"] = self.started_utc.isoformat()
        d["ended_utc"] = self.ended_utc.isoformat() if self.ended_utc else None
        return d


def _settings(text: str | None) -> dict[str, Any]:
    try:
        settings = json.loads(text) if text else {}
    except ValueError:
        return {"unreadable settings": (text or "")[:200]}
    return settings if isinstance(settings, dict) else {"settings": settings}


def _summaries(engine: Engine, ids: Sequence[int] | None) -> list[SessionSummary]:
    with session_scope(engine) as s:
        where = [ParticipantRow.session_id.in_(ids)] if ids is not None else []
        counts = dict(s.execute(select(ParticipantRow.session_id, func.count()).where(*where)
                                .group_by(ParticipantRow.session_id)).all())
        where = [SnapshotRow.session_id.in_(ids)] if ids is not None else []
        last_t = dict(s.execute(select(SnapshotRow.session_id, func.max(SnapshotRow.t_s)).where(*where)
                                .group_by(SnapshotRow.session_id)).all())
        stmt = select(SessionRow).order_by(SessionRow.id.desc())
        if ids is not None:
            stmt = stmt.where(SessionRow.id.in_(ids))
        out = []
        for r in s.scalars(stmt):
            start = aware_utc(r.started_utc)
            end = aware_utc(r.ended_utc) if r.ended_utc else None
            live = True if r.live is None else bool(r.live)
            out.append(SessionSummary(
                id=r.id, started_utc=start, ended_utc=end,
                duration_s=session_duration_s(start, end, last_t.get(r.id), live),
                participants=int(counts.get(r.id, 0)), frames=r.frames, source=r.source, live=live,
                privacy=Privacy(r.privacy), status=r.status, model_sha256=r.model_sha256,
                settings=_settings(r.settings_json)))
        return out


def list_sessions(engine: Engine) -> list[SessionSummary]:
    """All sessions, newest first."""
    return _summaries(engine, None)


def session_summary(engine: Engine, session_id: int) -> SessionSummary:
    """One session; ``UnknownSession`` when there is none with that id."""
    found = _summaries(engine, [session_id])
    if not found:
        raise UnknownSession(session_id)
    return found[0]


def latest_session_id(engine: Engine) -> int | None:
    with session_scope(engine) as s:
        return s.scalar(select(func.max(SessionRow.id)))


def observation_rows(engine: Engine, session_id: int, chunk: int = 5000) -> Iterator[Sequence[Any]]:
    """Every face observation of a session in time order, streamed ``chunk`` rows at a time.

    Columns: track id, frame id, t_utc, t_s, x, y, w, h, detection score, label, confidence, the
    seven ``PROB_COLUMNS``, then (schema 3, NULL in older rows) attention, yaw, pitch and roll in
    degrees, eyes, and the participant's display name (NULL where none was read).
    """
    Obs, Part = ObservationRow, ParticipantRow  # noqa: N806
    stmt = (select(Part.track_id, Obs.frame_id, Obs.t_utc, Obs.t_s, Obs.x, Obs.y, Obs.w, Obs.h,
                   Obs.detection_score, Obs.label, Obs.confidence, *[getattr(Obs, c) for c in PROB_COLUMNS],
                   Obs.attention, Obs.yaw_deg, Obs.pitch_deg, Obs.roll_deg, Obs.eyes, Part.name)
            .join(Part, Part.id == Obs.participant_id).where(Obs.session_id == session_id)
            .order_by(Obs.t_s, Obs.id))
    with session_scope(engine) as s:
        yield from s.execute(stmt.execution_options(yield_per=chunk))


def snapshot_rows(engine: Engine, session_id: int, chunk: int = 5000) -> Iterator[Sequence[Any]]:
    """Every class snapshot of a session in time order, streamed.

    Columns: frame id, t_utc, t_s, faces seen, tiles seen, participants known, mood index,
    negative share, the seven ``PROB_COLUMNS``, then (schema 3, NULL in older rows) faces readable,
    attention share, hidden by the overlay and cameras off.
    """
    Snap = SnapshotRow  # noqa: N806
    stmt = (select(Snap.frame_id, Snap.t_utc, Snap.t_s, Snap.faces_seen, Snap.tiles_seen, Snap.participants_known,
                   Snap.mood_index, Snap.negative_share, *[getattr(Snap, c) for c in PROB_COLUMNS],
                   Snap.faces_readable, Snap.attention_share, Snap.hidden_by_overlay, Snap.cameras_off)
            .where(Snap.session_id == session_id).order_by(Snap.t_s, Snap.id))
    with session_scope(engine) as s:
        yield from s.execute(stmt.execution_options(yield_per=chunk))


def pause_rows(engine: Engine, session_id: int) -> list[tuple[float, float | None]]:
    """The host's pauses of a session as ``(t_from_s, t_to_s)`` in time order; ``t_to_s`` is None
    for a pause the run never resumed from (it lasted to the end)."""
    with session_scope(engine) as s:
        return [(float(a), None if b is None else float(b)) for a, b in s.execute(
            select(PauseRow.t_from_s, PauseRow.t_to_s).where(PauseRow.session_id == session_id)
            .order_by(PauseRow.t_from_s, PauseRow.id))]


def attention_readings(engine: Engine, session_id: int, chunk: int = 5000) -> Iterator[Sequence[Any]]:
    """Every attention reading of a session, per participant in time order, streamed.

    Columns: participant row id, t_s, attention (``screen`` | ``down`` | ``away`` | ``eyes_closed`` |
    ``hidden``). Rows without a reading (older databases, no attention engine) are not returned.
    """
    Obs = ObservationRow  # noqa: N806
    stmt = (select(Obs.participant_id, Obs.t_s, Obs.attention)
            .where(Obs.session_id == session_id, Obs.attention.is_not(None))
            .order_by(Obs.participant_id, Obs.t_s, Obs.id))
    with session_scope(engine) as s:
        yield from s.execute(stmt.execution_options(yield_per=chunk))


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNIT = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
MAX_AGE = timedelta(days=36500)  # 100 years: older than any session; far beyond, dates overflow


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` -> timedelta up to ``MAX_AGE``; ``ConfigError`` otherwise."""
    m = _AGE.match(text)
    if not m:
        raise ConfigError(f"config: --older-than must look like 30d, 12h or 90m, not {text!r}")
    value, unit = float(m.group(1)), _UNIT[m.group(2)]
    if value * unit.total_seconds() > MAX_AGE.total_seconds():
        raise ConfigError(f"config: --older-than must be at most {MAX_AGE.days}d (100 years), not {text!r}")
    return value * unit


def sessions_older_than(engine: Engine, older_than: timedelta) -> list[SessionSummary]:
    """Finished sessions that started before now - ``older_than`` (what ``purge`` would delete)."""
    cutoff = datetime.now(UTC) - older_than
    return [s for s in list_sessions(engine) if s.status != "running" and s.started_utc < cutoff]


def purge_sessions(engine: Engine, ids: Sequence[int]) -> int:
    """Delete these sessions with all their rows; returns how many sessions were deleted."""
    ids = list(ids)
    with session_scope(engine) as s:
        # In chunks: SQLite and PostgreSQL cap the parameters of one statement.
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for table in (ObservationRow, SnapshotRow, ParticipantRow, PauseRow):
                s.execute(delete(table).where(table.session_id.in_(chunk)))
            s.execute(delete(SessionRow).where(SessionRow.id.in_(chunk)))
    return len(ids)
