"""Schema migrations: each step takes a database from one ``SCHEMA_VERSION`` to the next, in place.

Old databases stay readable: ``open_engine`` runs the steps a database lacks before anything
reads or writes it, in one transaction on PostgreSQL. SQLite's Python driver commits every
``ALTER TABLE`` on its own, so a step interrupted there (a locked file, another process upgrading
at the same moment) leaves some columns added and the version unchanged: every step can therefore
run again over its own partial work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, inspect, text

from db.tables import SNAPSHOT_FRAME_KEY

log = logging.getLogger(__name__)


def _add_column(conn: Connection, table: str, column: str, kind: str) -> None:
    """``ALTER TABLE ... ADD COLUMN`` unless an interrupted earlier run of the step already added it."""
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))


def _v1_to_v2(conn: Connection) -> None:
    # Version 1 kept the kind of source only in the description text ("video:...", "folder:...").
    _add_column(conn, "sessions", "live", "BOOLEAN")
    conn.execute(text("UPDATE sessions SET live = CASE WHEN source LIKE 'video:%' OR source LIKE 'image:%' "
                      "OR source LIKE 'folder:%' THEN FALSE ELSE TRUE END"))
    # A commit retried after a lost connection could store a frame twice: keep the first copy.
    conn.execute(text("DELETE FROM class_snapshots WHERE id NOT IN "
                      "(SELECT MIN(id) FROM class_snapshots GROUP BY session_id, frame_id)"))
    conn.execute(text("DELETE FROM observations WHERE id NOT IN "
                      "(SELECT MIN(id) FROM observations GROUP BY participant_id, frame_id)"))
    conn.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS {SNAPSHOT_FRAME_KEY} "
                      "ON class_snapshots (session_id, frame_id)"))


def _v2_to_v3(conn: Connection) -> None:
    # New nullable columns only: older rows read as "not measured". The pauses table is created
    # by create_all afterwards, like any table a database lacks.
    for table, column, kind in (("participants", "name", "VARCHAR(64)"),
                                ("observations", "attention", "VARCHAR(16)"),
                                ("observations", "yaw_deg", "FLOAT"), ("observations", "pitch_deg", "FLOAT"),
                                ("observations", "roll_deg", "FLOAT"), ("observations", "eyes", "VARCHAR(8)"),
                                ("class_snapshots", "faces_readable", "INTEGER"),
                                ("class_snapshots", "attention_share", "FLOAT"),
                                ("class_snapshots", "hidden_by_overlay", "INTEGER"),
                                ("class_snapshots", "cameras_off", "INTEGER")):
        _add_column(conn, table, column, kind)


STEPS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(conn: Connection, from_version: int, to_version: int) -> None:
    """Run every step from ``from_version`` up to ``to_version`` on ``conn``."""
    for version in range(from_version, to_version):
        log.info("upgrading the database schema from version %d to %d", version, version + 1)
        STEPS[version](conn)
