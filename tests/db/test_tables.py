"""One schema, two views: the live writer's Core tables and the ORM classes the report reads with.

A live run must not pay for SQLAlchemy's ORM (issue 13: ~6 MB of a run's resident memory), so
the modules a ``classmood run`` loads write through ``db.tables`` alone; the ORM classes of
``db.schema`` are mapped onto those very tables, so rows written one way read back the other.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from db.engine import open_engine
from db.schema import PauseRow, SessionRow, session_scope
from db.tables import pauses, sessions

ROOT = Path(__file__).resolve().parents[2]


def test_a_live_run_loads_no_orm() -> None:
    """Everything ``classmood run`` imports to capture, store and show a class, in a fresh interpreter."""
    code = ("import sys; import classmood.live, classmood.cli, overlay.app, overlay.window, db.recorder, db.engine; "
            "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.orm')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"the live path imports the ORM: {out.stdout.strip()}"


def test_rows_written_with_core_read_back_through_the_orm(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        sid = conn.execute(insert(sessions).values(
            started_utc=now, source="screen:1 1920x1080", settings_json="{}", privacy="full", status="running",
            host="laptop", pid=123, live=True)).inserted_primary_key[0]
        conn.execute(insert(pauses).values(session_id=sid, started_utc=now, t_from_s=12.5))
    with session_scope(engine) as s:
        row = s.get(SessionRow, sid)
        assert row is not None and (row.source, row.frames, row.live) == ("screen:1 1920x1080", 0, True)
        assert s.scalars(select(PauseRow.t_from_s).where(PauseRow.session_id == sid)).all() == [12.5]
    engine.dispose()
