"""Storage faults with real components: a read-only database, a full disk, a stopped server.

Each fault comes mid-run, after some frames are committed. While it lasts the recorder keeps the
rows in memory and says what is wrong in one line; once it is gone the writer stores everything
by itself (no help from ``close()``), and nothing committed before the fault is lost.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from storage_helpers import count_rows, make_frame, session_info, wait_for

from db.engine import open_engine
from db.recorder import Recorder
from vocab.errors import StorageError

_roles = itertools.count()


def _start(engine: Engine) -> Recorder:
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)
    rec.submit(make_frame(1, [1, 2]))
    wait_for(lambda: rec.health.frames_committed == 1, what="the first commit")
    return rec


def _during_fault(rec: Recorder, frames: range, faces: int = 2) -> str:
    for fid in frames:
        rec.submit(make_frame(fid, list(range(1, faces + 1))))
    wait_for(lambda: rec.health.last_error is not None and rec.health.frames_pending == len(frames),
             what="the write error with every frame kept")
    error = rec.health.last_error
    assert error is not None and "\n" not in error and "kept in memory" in error
    assert rec.health.frames_committed == 1
    return error


def _after_fault(rec: Recorder, engine: Engine, total_frames: int, expected: tuple[int, int, int]) -> None:
    wait_for(lambda: rec.health.frames_committed == total_frames, timeout_s=30, what="the buffered frames")
    assert rec.health.last_error is None and rec.health.frames_pending == 0
    rec.close()
    assert count_rows(engine, rec.session_id) == expected


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


@contextmanager
def _read_only(url: str, engine: Engine, postgres_server) -> Iterator[None]:  # noqa: ANN001
    """The database refuses writes: SELECT-only privileges, or a read-only SQLite file."""
    if url.startswith("postgresql"):
        db = make_url(url).database
        grant = f"INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public {{}} {make_url(url).username}"
        postgres_server.admin("REVOKE " + grant.format("FROM"), database=db)
        yield
        postgres_server.admin("GRANT " + grant.format("TO"), database=db)
        return
    path = _sqlite_path(url)
    if os.geteuid() != 0:
        files = [path.parent, path, *path.parent.glob(path.name + "-*")]
        modes = {p: stat.S_IMODE(p.stat().st_mode) for p in files}
        for p in reversed(files):
            p.chmod(modes[p] & ~0o222)
        engine.dispose()  # open connections keep their writable file handle
        yield
        for p in files:
            p.chmod(modes[p])
        return

    # root ignores file modes: have SQLite itself refuse every write instead.
    def query_only(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", query_only)
    engine.dispose()
    yield
    event.remove(engine, "connect", query_only)
    engine.dispose()


@pytest.fixture
def writer_url(db_url: str, request: pytest.FixtureRequest) -> str:
    """``db_url``; on PostgreSQL, as a role that owns the database but is not a superuser (those bypass privileges)."""
    if not db_url.startswith("postgresql"):
        return db_url
    server = request.getfixturevalue("postgres_server")
    url = make_url(db_url)
    role = f"writer_{os.getpid()}_{next(_roles)}"
    server.admin(f'CREATE ROLE "{role}" LOGIN')
    server.admin(f'ALTER DATABASE "{url.database}" OWNER TO "{role}"')
    return url.set(username=role).render_as_string(hide_password=False)


def test_read_only_database_buffers_then_stores_everything(writer_url: str, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("postgres_server") if writer_url.startswith("postgresql") else None
    engine = open_engine(writer_url)
    rec = _start(engine)
    with _read_only(writer_url, engine, server):
        error = _during_fault(rec, range(2, 5))
        assert "readonly" in error or "permission denied" in error, error
        assert count_rows(engine, rec.session_id) == (2, 1, 2), "what was committed is still there"
    _after_fault(rec, engine, 4, (2 + 3 * 2, 4, 2))


def test_full_disk_buffers_then_recovers_when_space_is_back(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'full.sqlite3'}")
    rec = _start(engine)

    # SQLite's own SQLITE_FULL: the file may not grow past the pages it has now.
    def no_growth(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.execute("PRAGMA max_page_count = 1")  # raised to the current size by SQLite

    event.listen(engine, "connect", no_growth)
    engine.dispose()
    error = _during_fault(rec, range(2, 12), faces=40)
    assert "full" in error, error
    assert count_rows(engine, rec.session_id) == (2, 1, 2)
    event.remove(engine, "connect", no_growth)
    engine.dispose()
    _after_fault(rec, engine, 11, (2 + 10 * 40, 11, 40))


def test_stopped_server_buffers_then_stores_after_restart(postgres_server, pg_url: str) -> None:
    engine = open_engine(pg_url)
    rec = _start(engine)
    postgres_server.stop()
    try:
        error = _during_fault(rec, range(2, 5))
        assert "connect" in error or "server" in error, error
        with pytest.raises(StorageError) as e:  # a second `classmood run` now says why it cannot start
            open_engine(pg_url)
        assert str(e.value).startswith("cannot open database postgresql+psycopg://") and "\n" not in str(e.value)
    finally:
        postgres_server.start()
    _after_fault(rec, engine, 4, (2 + 3 * 2, 4, 2))
