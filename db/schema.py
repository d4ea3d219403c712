"""The ORM's view of the database (SQLAlchemy 2), for code that reads it: queries, the report.

The classes are mapped onto the Core tables of ``db.tables`` (one definition of the schema);
the live writer uses those tables directly and never imports the ORM. ORM objects stay inside
``db/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, sessionmaker

from db import tables


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """An ORM session in one transaction that commits, or rolls back and re-raises."""
    factory = sessionmaker(engine, expire_on_commit=False)
    s = factory()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


class Base(DeclarativeBase):
    metadata = tables.metadata


class SchemaInfo(Base):
    __table__ = tables.schema_info

    version: Mapped[int]


class SessionRow(Base):
    """One monitored class, from ``classmood run`` start to stop."""

    __table__ = tables.sessions

    id: Mapped[int]
    started_utc: Mapped[datetime]
    ended_utc: Mapped[datetime | None]
    heartbeat_utc: Mapped[datetime | None]
    source: Mapped[str]
    settings_json: Mapped[str]
    model_sha256: Mapped[str | None]
    privacy: Mapped[str]
    status: Mapped[str]  # running | complete | interrupted | failed
    host: Mapped[str]
    pid: Mapped[int]
    frames: Mapped[int]
    # A live capture lasts on the wall clock; a file's length is its media time. NULL only in
    # rows a migration could not classify.
    live: Mapped[bool | None]


class ParticipantRow(Base):
    """A participant as the tracker knows them: an id within one session, no name, no image."""

    __table__ = tables.participants

    id: Mapped[int]
    session_id: Mapped[int]
    track_id: Mapped[int]
    first_seen_utc: Mapped[datetime]
    last_seen_utc: Mapped[datetime]
    # The display name read from the tile, sanitised; only in the full privacy mode.
    name: Mapped[str | None]


class EmotionProbabilities:
    """Seven probability columns in FER2013 order (``p_<emotion>``), NULL where emotions are not inferred."""

    p_angry: Mapped[float | None]
    p_disgust: Mapped[float | None]
    p_fear: Mapped[float | None]
    p_happy: Mapped[float | None]
    p_sad: Mapped[float | None]
    p_surprise: Mapped[float | None]
    p_neutral: Mapped[float | None]


class ObservationRow(EmotionProbabilities, Base):
    """One face in one frame. Probabilities are NULL in presence-only mode."""

    __table__ = tables.observations

    id: Mapped[int]
    session_id: Mapped[int]
    participant_id: Mapped[int]
    frame_id: Mapped[int]
    t_utc: Mapped[datetime]
    t_s: Mapped[float]  # seconds since the session started
    x: Mapped[int]
    y: Mapped[int]
    w: Mapped[int]
    h: Mapped[int]
    detection_score: Mapped[float]
    label: Mapped[str]  # an emotion or one of OBSERVATION_LABELS_EXTRA
    confidence: Mapped[float | None]
    attention: Mapped[str | None]  # screen | down | away | eyes_closed | hidden
    yaw_deg: Mapped[float | None]
    pitch_deg: Mapped[float | None]
    roll_deg: Mapped[float | None]
    eyes: Mapped[str | None]  # open | closed


class SnapshotRow(EmotionProbabilities, Base):
    """The class as a whole in one frame."""

    __table__ = tables.class_snapshots

    id: Mapped[int]
    session_id: Mapped[int]
    frame_id: Mapped[int]
    t_utc: Mapped[datetime]
    t_s: Mapped[float]
    faces_seen: Mapped[int]
    tiles_seen: Mapped[int]
    participants_known: Mapped[int]
    mood_index: Mapped[float | None]
    negative_share: Mapped[float | None]
    faces_readable: Mapped[int | None]  # faces the mood was computed from
    attention_share: Mapped[float | None]  # share of read faces looking at the screen
    hidden_by_overlay: Mapped[int | None]
    cameras_off: Mapped[int | None]


class PauseRow(Base):
    """A stretch of a session the host paused: nothing was captured or stored."""

    __table__ = tables.pauses

    id: Mapped[int]
    session_id: Mapped[int]
    started_utc: Mapped[datetime]
    ended_utc: Mapped[datetime | None]
    t_from_s: Mapped[float]  # seconds since the session started
    t_to_s: Mapped[float | None]
