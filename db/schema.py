"""The database schema (SQLAlchemy 2 ORM). ORM objects stay inside ``db/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# 2: sessions.live (how long a session lasted is read from it), one snapshot per (session, frame)
#    so that a commit retried after a lost connection never stores a frame twice.
# 3: what the attention engine reads per face (state, head pose, eyes), participants' display
#    names, class-level readable/attention/hidden/camera-off counts, and pauses.
SCHEMA_VERSION = 3
# Observation labels besides the emotions: "Uncertain" (under the threshold), "Present" (no
# emotion inference), "Unreadable" (looking away/down, eyes closed, lower face hidden),
# "Hidden" (under the host's own overlay: present, not absent) and "Camera off".
OBSERVATION_LABELS_EXTRA = ("Uncertain", "Present", "Unreadable", "Hidden", "Camera off")
PROB_COLUMNS = ("p_angry", "p_disgust", "p_fear", "p_happy", "p_sad", "p_surprise", "p_neutral")


SNAPSHOT_FRAME_KEY = "uq_snapshots_session_frame"


class Base(DeclarativeBase):
    pass


class SchemaInfo(Base):
    __tablename__ = "schema_info"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class SessionRow(Base):
    """One monitored class, from ``classmood run`` start to stop."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(500))
    settings_json: Mapped[str] = mapped_column(Text)
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    privacy: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)  # running | complete | interrupted | failed
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    # A live capture lasts on the wall clock; a file's length is its media time. NULL only in
    # rows a migration could not classify.
    live: Mapped[bool | None] = mapped_column(Boolean)


class ParticipantRow(Base):
    """A participant as the tracker knows them: an id within one session, no name, no image."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("session_id", "track_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(Integer)
    first_seen_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The display name read from the tile, sanitised; only in the full privacy mode.
    name: Mapped[str | None] = mapped_column(String(64))


class EmotionProbabilities:
    """Seven probability columns in FER2013 order (``p_<emotion>``), NULL where emotions are not inferred."""

    p_angry: Mapped[float | None] = mapped_column(Float)
    p_disgust: Mapped[float | None] = mapped_column(Float)
    p_fear: Mapped[float | None] = mapped_column(Float)
    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_surprise: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)


class ObservationRow(EmotionProbabilities, Base):
    """One face in one frame. Probabilities are NULL in presence-only mode."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_session_t", "session_id", "t_s"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    frame_id: Mapped[int] = mapped_column(Integer)
    t_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    t_s: Mapped[float] = mapped_column(Float)  # seconds since the session started
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    detection_score: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))  # an emotion or one of OBSERVATION_LABELS_EXTRA
    confidence: Mapped[float | None] = mapped_column(Float)
    attention: Mapped[str | None] = mapped_column(String(16))  # screen | down | away | eyes_closed | hidden
    yaw_deg: Mapped[float | None] = mapped_column(Float)
    pitch_deg: Mapped[float | None] = mapped_column(Float)
    roll_deg: Mapped[float | None] = mapped_column(Float)
    eyes: Mapped[str | None] = mapped_column(String(8))  # open | closed


class SnapshotRow(EmotionProbabilities, Base):
    """The class as a whole in one frame."""

    __tablename__ = "class_snapshots"
    __table_args__ = (Index("ix_snapshots_session_t", "session_id", "t_s"),
                      Index(SNAPSHOT_FRAME_KEY, "session_id", "frame_id", unique=True))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    frame_id: Mapped[int] = mapped_column(Integer)
    t_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    t_s: Mapped[float] = mapped_column(Float)
    faces_seen: Mapped[int] = mapped_column(Integer)
    tiles_seen: Mapped[int] = mapped_column(Integer)
    participants_known: Mapped[int] = mapped_column(Integer)
    mood_index: Mapped[float | None] = mapped_column(Float)
    negative_share: Mapped[float | None] = mapped_column(Float)
    faces_readable: Mapped[int | None] = mapped_column(Integer)  # faces the mood was computed from
    attention_share: Mapped[float | None] = mapped_column(Float)  # share of read faces looking at the screen
    hidden_by_overlay: Mapped[int | None] = mapped_column(Integer)
    cameras_off: Mapped[int | None] = mapped_column(Integer)


class PauseRow(Base):
    """A stretch of a session the host paused: nothing was captured or stored."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    started_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_utc: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    t_from_s: Mapped[float] = mapped_column(Float)  # seconds since the session started
    t_to_s: Mapped[float | None] = mapped_column(Float)
