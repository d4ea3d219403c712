"""The database's tables as SQLAlchemy Core ``Table`` objects: what the live writer needs.

A live run opens, migrates and writes the database through these alone, so it never imports
SQLAlchemy's ORM (issue 13: ``sqlalchemy.orm`` and the mapped classes cost ~6 MB of a run's
resident memory). Reading code (queries, the report) may use the ORM classes of ``db.schema``,
which are mapped onto these same tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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

metadata = MetaData()


def _session_fk() -> Column[int]:
    return Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False)


def _probabilities() -> list[Column[float]]:
    """Seven probability columns in FER2013 order (``p_<emotion>``), NULL where emotions are not inferred."""
    return [Column(name, Float, nullable=True) for name in PROB_COLUMNS]


schema_info = Table("schema_info", metadata, Column("version", Integer, primary_key=True))

# One monitored class, from ``classmood run`` start to stop.
sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("started_utc", DateTime(timezone=True), nullable=False),
    Column("ended_utc", DateTime(timezone=True), nullable=True),
    Column("heartbeat_utc", DateTime(timezone=True), nullable=True),
    Column("source", String(500), nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("model_sha256", String(64), nullable=True),
    Column("privacy", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # running | complete | interrupted | failed
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("frames", Integer, nullable=False, default=0),
    # A live capture lasts on the wall clock; a file's length is its media time. NULL only in
    # rows a migration could not classify.
    Column("live", Boolean, nullable=True),
)

# A participant as the tracker knows them: an id within one session, no image.
participants = Table(
    "participants", metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("track_id", Integer, nullable=False),
    Column("first_seen_utc", DateTime(timezone=True), nullable=False),
    Column("last_seen_utc", DateTime(timezone=True), nullable=False),
    # The display name read from the tile, sanitised; only in the full privacy mode.
    Column("name", String(64), nullable=True),
    UniqueConstraint("session_id", "track_id"),
)

# One face in one frame. Probabilities are NULL in presence-only mode.
observations = Table(
    "observations", metadata,
    Column("id", Integer, primary_key=True),
    _session_fk(),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("frame_id", Integer, nullable=False),
    Column("t_utc", DateTime(timezone=True), nullable=False),
    Column("t_s", Float, nullable=False),  # seconds since the session started
    Column("x", Integer, nullable=False),
    Column("y", Integer, nullable=False),
    Column("w", Integer, nullable=False),
    Column("h", Integer, nullable=False),
    Column("detection_score", Float, nullable=False),
    Column("label", String(16), nullable=False),  # an emotion or one of OBSERVATION_LABELS_EXTRA
    Column("confidence", Float, nullable=True),
    Column("attention", String(16), nullable=True),  # screen | down | away | eyes_closed | hidden
    Column("yaw_deg", Float, nullable=True),
    Column("pitch_deg", Float, nullable=True),
    Column("roll_deg", Float, nullable=True),
    Column("eyes", String(8), nullable=True),  # open | closed
    *_probabilities(),
    Index("ix_observations_session_t", "session_id", "t_s"),
)

# The class as a whole in one frame.
class_snapshots = Table(
    "class_snapshots", metadata,
    Column("id", Integer, primary_key=True),
    _session_fk(),
    Column("frame_id", Integer, nullable=False),
    Column("t_utc", DateTime(timezone=True), nullable=False),
    Column("t_s", Float, nullable=False),
    Column("faces_seen", Integer, nullable=False),
    Column("tiles_seen", Integer, nullable=False),
    Column("participants_known", Integer, nullable=False),
    Column("mood_index", Float, nullable=True),
    Column("negative_share", Float, nullable=True),
    Column("faces_readable", Integer, nullable=True),  # faces the mood was computed from
    Column("attention_share", Float, nullable=True),  # share of read faces looking at the screen
    Column("hidden_by_overlay", Integer, nullable=True),
    Column("cameras_off", Integer, nullable=True),
    *_probabilities(),
    Index("ix_snapshots_session_t", "session_id", "t_s"),
    Index(SNAPSHOT_FRAME_KEY, "session_id", "frame_id", unique=True),
)

# A stretch of a session the host paused: nothing was captured or stored.
pauses = Table(
    "pauses", metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("started_utc", DateTime(timezone=True), nullable=False),
    Column("ended_utc", DateTime(timezone=True), nullable=True),
    Column("t_from_s", Float, nullable=False),  # seconds since the session started
    Column("t_to_s", Float, nullable=True),
)
