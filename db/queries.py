"""Read-side queries shared by the CLI and the report. Results are plain dataclasses."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, select

from bot.errors import ConfigError
from db.engine import session_scope
from db.recorder import _aware
from db.schema import ObservationRow, ParticipantRow, SessionRow, SnapshotRow


@dataclass(frozen=True)
class SessionSummary:
    id: int
    started_utc: datetime
    ended_utc: datetime | None
    duration_s: float
    participants: int
    frames: int
    source: str
    privacy: str
    status: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["started_utc"] = self.started_utc.isoformat()
        d["ended_utc"] = self.ended_utc.isoformat() if self.ended_utc else None
        return d


def list_sessions(engine: Engine) -> list[SessionSummary]:
    """All sessions, newest first."""
    with session_scope(engine) as s:
        counts = dict(s.execute(select(ParticipantRow.session_id, func.count())
                                .group_by(ParticipantRow.session_id)).all())
        last_t = dict(s.execute(select(SnapshotRow.session_id, func.max(SnapshotRow.t_s))
                                .group_by(SnapshotRow.session_id)).all())
        out = []
        for r in s.scalars(select(SessionRow).order_by(SessionRow.id.desc())):
            start = _aware(r.started_utc)
            end = _aware(r.ended_utc) if r.ended_utc else None
            wall = ((end or datetime.now(UTC)) - start).total_seconds()
            # Files run faster than real time: their media time is the class's duration.
            from_file = r.source.split(":")[0] in ("video", "image", "folder")
            duration = float(last_t.get(r.id) or 0.0) if from_file else wall
            out.append(SessionSummary(r.id, start, end, max(duration, 0.0), int(counts.get(r.id, 0)), r.frames,
                                      r.source, r.privacy, r.status))
        return out


def latest_session_id(engine: Engine) -> int | None:
    with session_scope(engine) as s:
        return s.scalar(select(func.max(SessionRow.id)))


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` -> timedelta; ``ConfigError`` otherwise."""
    m = _AGE.match(text)
    if not m:
        raise ConfigError(f"config: --older-than must look like 30d, 12h or 90m, not {text!r}")
    value, unit = float(m.group(1)), m.group(2)
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: value})


def purge_sessions(engine: Engine, older_than: timedelta) -> int:
    """Delete sessions that started before now - ``older_than``, with all their rows."""
    cutoff = datetime.now(UTC) - older_than
    with session_scope(engine) as s:
        ids = [r.id for r in s.scalars(select(SessionRow).where(SessionRow.status != "running"))
               if _aware(r.started_utc) < cutoff]
        # In chunks: SQLite and PostgreSQL cap the parameters of one statement.
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for table in (ObservationRow, SnapshotRow, ParticipantRow):
                s.execute(delete(table).where(table.session_id.in_(chunk)))
            s.execute(delete(SessionRow).where(SessionRow.id.in_(chunk)))
        return len(ids)
