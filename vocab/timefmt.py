"""How durations and times are written for people, in one place for the CLI, overlay and report."""

from __future__ import annotations

from datetime import UTC, datetime


def hms(seconds: float) -> str:
    """``H:MM:SS``, e.g. ``0:05:07`` (rounded to the second; negative durations read as 0)."""
    s = max(0, int(round(seconds)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def session_duration_s(started_utc: datetime, ended_utc: datetime | None, last_media_t_s: float | None,
                       live: bool, now: datetime | None = None) -> float:
    """A session's length as people think of it.

    Live captures last from start to end on the wall clock (still running: until ``now``);
    files run faster than real time, so their media time (the last frame's ``t_s``) is the
    class's length.
    """
    if not live:
        return max(float(last_media_t_s or 0.0), 0.0)
    end = ended_utc or now or datetime.now(UTC)
    return max((end - started_utc).total_seconds(), 0.0)


def local_time(t: datetime) -> datetime:
    """An aware instant in the computer's local time zone (what a teacher reads on the wall clock)."""
    return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).astimezone()


def aware_utc(t: datetime) -> datetime:
    """The same instant as an aware UTC datetime.

    SQLite returns naive datetimes (stored as UTC); PostgreSQL returns aware ones in the
    connection's time zone, which need not be UTC.
    """
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
