"""``classmood sessions`` and ``classmood purge`` on both back ends, through ``main(argv)``."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool
from storage_helpers import count_rows, make_frame, session_info, wait_for

from classmood.cli import main
from db.engine import open_engine
from db.queries import parse_age
from db.recorder import Recorder
from db.schema import SessionRow, session_scope

NOW = datetime.now(UTC)


def _record(engine, started_utc: datetime, frames: int, faces: int, source: str = "screen",  # noqa: ANN001
            status: str | None = "complete", privacy: str = "full") -> Recorder:
    """A session with rows, started at ``started_utc``; left running when ``status`` is None."""
    live = not source.startswith("video:")
    rec = Recorder(engine, session_info(privacy, source, live=live), commit_interval_s=0.05)
    for fid in range(1, frames + 1):
        rec.submit(make_frame(fid, list(range(1, faces + 1))))
    if status is not None:
        rec.close(status)
    else:
        wait_for(lambda: rec.health.frames_committed == frames, what="the running session's rows")
    ended = started_utc + timedelta(minutes=45) if status is not None else None
    with session_scope(engine) as s:
        s.execute(update(SessionRow).where(SessionRow.id == rec.session_id)
                  .values(started_utc=started_utc, ended_utc=ended))
    return rec


@pytest.fixture
def kolkata_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The computer's local time zone is UTC+5:30 for this test (no daylight saving there)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_sessions_lists_newest_first_in_local_time(db_url: str, capsys: pytest.CaptureFixture[str],
                                                   kolkata_time: None) -> None:
    assert main(["sessions", "--db", db_url]) == 0
    assert capsys.readouterr().out.startswith("no sessions recorded yet")
    engine = open_engine(db_url)
    _record(engine, datetime(2026, 1, 5, 9, 0, tzinfo=UTC), frames=3, faces=2)
    _record(engine, datetime(2026, 1, 6, 14, 30, 15, tzinfo=UTC), frames=4, faces=3,
            source="video:/tmp/class.mp4", status="interrupted", privacy="aggregate")

    assert main(["sessions", "--db", db_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "started", "(local", "time)", "duration", "people", "privacy", "status"]
    # A video's duration is its media time (t_s of the last frame: 3 s), a live class's its wall time;
    # an aggregate session kept no people, so it shows none rather than 0. Times are local (UTC+5:30).
    assert lines[1].split() == ["2", "2026-01-06", "20:00:15", "0:00:03", "-", "aggregate", "interrupted"]
    assert lines[2].split() == ["1", "2026-01-05", "14:30:00", "0:45:00", "2", "full", "complete"]

    assert main(["sessions", "--db", db_url, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["started_utc"], r["ended_utc"], r["frames"], r["participants"]) for r in rows] == [
        (2, "2026-01-06T14:30:15+00:00", "2026-01-06T15:15:15+00:00", 4, 0),
        (1, "2026-01-05T09:00:00+00:00", "2026-01-05T09:45:00+00:00", 3, 2)]


def test_purge_deletes_old_sessions_only_and_never_a_running_one(db_url: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_engine(db_url)
    old = _record(engine, NOW - timedelta(days=40), frames=3, faces=2)
    old_interrupted = _record(engine, NOW - timedelta(days=31), frames=2, faces=1, status="interrupted")
    recent = _record(engine, NOW - timedelta(days=29), frames=3, faces=2)
    # A class that has been running for 40 days (this process, fresh heartbeat): never purged.
    running = _record(engine, NOW - timedelta(days=40), frames=2, faces=3, status=None)
    before = {sid: count_rows(engine, sid) for sid in (recent.session_id, running.session_id)}
    with session_scope(engine) as s:
        row = s.get(SessionRow, running.session_id)
        assert row is not None and (row.status, row.host, row.pid) == ("running", socket.gethostname(), os.getpid())

    # Without --yes and without a terminal to ask on, nothing is deleted.
    assert main(["purge", "--older-than", "30d", "--db", db_url]) == 2
    captured = capsys.readouterr()
    assert "refusing to delete without confirmation" in captured.err
    assert f"  {old.session_id:>4}  " in captured.out and f"  {recent.session_id:>4}  " not in captured.out
    assert main(["purge", "--older-than", "30d", "--db", db_url, "--dry-run"]) == 0
    assert "2 sessions older than 30d would be deleted" in capsys.readouterr().out
    with session_scope(engine) as s:
        assert len(set(s.scalars(select(SessionRow.id)))) == 4

    assert main(["purge", "--older-than", "30d", "--db", db_url, "--yes"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "deleted 2 sessions older than 30d"
    with session_scope(engine) as s:
        kept = set(s.scalars(select(SessionRow.id)))
    assert kept == {recent.session_id, running.session_id}
    for sid in (old.session_id, old_interrupted.session_id):
        assert count_rows(engine, sid) == (0, 0, 0)
    assert {sid: count_rows(engine, sid) for sid in kept} == before

    running.close()
    with session_scope(engine) as s:
        assert s.get(SessionRow, running.session_id).frames == 2  # type: ignore[union-attr]
    assert main(["purge", "--older-than", "30d", "--db", db_url, "--yes"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "deleted 1 session older than 30d"
    assert count_rows(engine) == count_rows(engine, recent.session_id) == (6, 3, 2)


def test_purge_deletes_an_old_session_that_a_crashed_run_left_running(db_url: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_engine(db_url)
    crashed = _record(engine, NOW - timedelta(days=40), frames=2, faces=2, status=None)
    crashed.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    with session_scope(engine) as s:  # as if its process had been killed mid-class
        s.execute(update(SessionRow).where(SessionRow.id == crashed.session_id)
                  .values(status="running", ended_utc=None, pid=int(dead.stdout)))

    assert main(["purge", "--older-than", "30d", "--db", db_url, "--yes"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "deleted 1 session older than 30d"
    assert count_rows(engine) == (0, 0, 0)
    with session_scope(engine) as s:
        assert s.scalar(select(SessionRow.id)) is None


@pytest.fixture
def sqlite_as_commonly_built() -> Iterator[None]:
    """SQLite with ``secure_delete`` off by default, as upstream builds ship it (Debian's turns it
    on at compile time, which would hide the fault here): set on each new connection, before the
    engine's own settings run."""
    def off(dbapi_conn: object, _record: object) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.execute("PRAGMA secure_delete=OFF")

    event.listen(Pool, "connect", off)
    yield
    event.remove(Pool, "connect", off)


@pytest.mark.usefixtures("sqlite_as_commonly_built")
def test_purged_names_cannot_be_read_from_the_sqlite_file(sqlite_url: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Deleted rows must not linger in the file's free space, where any hex viewer finds them."""
    name = "Zyxwvut Quillfeather"
    engine = open_engine(sqlite_url)
    rec = Recorder(engine, session_info("full"), commit_interval_s=0.05)
    frame = make_frame(1, [1, 2])
    rec.submit(dataclasses.replace(frame, faces=dataclasses.replace(frame.faces, name=np.array([name, None], object))))
    rec.close()
    with session_scope(engine) as s:
        s.execute(update(SessionRow).values(started_utc=NOW - timedelta(days=40)))
    engine.dispose()
    path = Path(make_url(sqlite_url).database or "")

    def file_bytes() -> bytes:
        return b"".join(p.read_bytes() for p in [path, *path.parent.glob(path.name + "-*")])

    assert name.encode() in file_bytes()  # the test finds a name where there is one
    assert main(["purge", "--older-than", "30d", "--db", sqlite_url, "--yes"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "deleted 1 session older than 30d"
    assert name.encode() not in file_bytes()


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), (" 90m ", timedelta(minutes=90)),
    ("1.5d", timedelta(hours=36)),
])
def test_parse_age(text: str, expected: timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["30", "d30", "30 days", "-1d", ""])
def test_purge_with_a_bad_age_is_a_settings_error(text: str, sqlite_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purge", f"--older-than={text}", "--db", sqlite_url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("classmood: config: --older-than must look like 30d") and "\n" not in err


@pytest.mark.parametrize("text", ["36501d", "999999d", "99999999999999999999m"])
def test_purge_with_an_age_beyond_any_date_is_one_line(text: str, sqlite_url: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purge", f"--older-than={text}", "--db", sqlite_url, "--yes"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"classmood: config: --older-than must be at most 36500d (100 years), not '{text}'"


def test_purge_of_a_database_locked_by_another_program_is_one_line_and_a_storage_error(
        sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_engine(sqlite_url)
    old = _record(engine, NOW - timedelta(days=40), frames=2, faces=1)
    engine.dispose()
    blocker = sqlite3.connect(make_url(sqlite_url).database or "", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # a backup tool, or a second ClassMood gone wrong
    try:
        code = main(["purge", "--older-than", "30d", "--db", sqlite_url, "--yes"])
    finally:
        blocker.rollback()
        blocker.close()
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert err.splitlines()[-1] == f"classmood: database error in {sqlite_url}: database is locked", err
    assert "Traceback" not in err
    assert count_rows(engine, old.session_id) == (2, 2, 1), "nothing was deleted"


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["table", "json"])
def test_sessions_piped_into_head_ends_quietly(sqlite_url: str, json_flag: list[str]) -> None:
    """``classmood sessions | head -1`` stops reading early: no BrokenPipeError traceback."""
    engine = open_engine(sqlite_url)
    with session_scope(engine) as s:  # enough sessions that the output outgrows the pipe's buffer
        s.add_all([SessionRow(started_utc=NOW, ended_utc=NOW, source=f"screen:{i}", settings_json="{}",
                              privacy="full", status="complete", host="h", pid=1, frames=0, live=True)
                   for i in range(3000)])
    engine.dispose()
    command = (f"{shlex.quote(sys.executable)} -m classmood.cli sessions --db {shlex.quote(sqlite_url)} "
               f"{' '.join(json_flag)} | head -c 100")
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert len(result.stdout) == 100
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
