"""The background writer on real SQLite and real PostgreSQL: rows, privacy, time zones, ids.

SQLite-only behaviours (the private file, another program holding SQLite's lock) stay SQLite-only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import OperationalError
from storage_helpers import T0, count_rows, make_frame, session_info, wait_for

from classmood.cli import main as cli_main
from db.engine import open_engine
from db.recorder import Recorder, mark_interrupted_sessions
from db.schema import ObservationRow, ParticipantRow, SessionRow, SnapshotRow, session_scope
from db.tables import SCHEMA_VERSION
from vocab.errors import StorageError
from vocab.timefmt import aware_utc as _aware
from vocab.types import FrameResult


def test_rows_are_stored_and_session_completes(db_url: str) -> None:
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)
    for fid in range(1, 6):
        rec.submit(make_frame(fid, [1, 2, 3] if fid < 4 else [1, 2, 3, 4]))
    rec.close()
    assert count_rows(engine) == (3 * 3 + 2 * 4, 5, 4)
    with session_scope(engine) as s:
        row = s.get(SessionRow, rec.session_id)
        assert row is not None
        assert row.status == "complete" and row.ended_utc is not None and row.frames == 5
        t_s = s.scalars(select(SnapshotRow.t_s).order_by(SnapshotRow.frame_id)).all()
        assert t_s == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_participants_get_first_and_last_seen_across_commits(db_url: str) -> None:
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)
    for fid, ids in [(1, [1, 2]), (2, [1, 2]), (3, [1])]:
        rec.submit(make_frame(fid, ids))
    wait_for(lambda: rec.health.frames_committed == 3, what="the first commit")
    rec.submit(make_frame(4, [1, 3]))
    rec.close()
    with session_scope(engine) as s:
        seen = {p.track_id: (_aware(p.first_seen_utc), _aware(p.last_seen_utc))
                for p in s.scalars(select(ParticipantRow))}
        pids = {p.track_id: p.id for p in s.scalars(select(ParticipantRow))}
        obs = s.execute(select(ObservationRow.frame_id, ObservationRow.participant_id)).all()
    at = {fid: T0 + timedelta(seconds=fid) for fid in range(1, 5)}
    assert seen == {1: (at[1], at[4]), 2: (at[1], at[2]), 3: (at[4], at[4])}
    assert sorted(obs) == sorted([(1, pids[1]), (1, pids[2]), (2, pids[1]), (2, pids[2]), (3, pids[1]),
                                  (4, pids[1]), (4, pids[3])])


def test_a_name_read_after_a_person_was_first_seen_is_stored_with_them(db_url: str) -> None:
    """A label read a few frames late (the reader was busy, the text was covered) still names
    the participant row stored before it, and only the full privacy mode keeps it."""
    for privacy, expected in (("full", {1: "Ana Souza", 2: "Omar Haddad", 3: None}),
                              ("presence", {1: None, 2: None, 3: None})):
        engine = open_engine(db_url)
        rec = Recorder(engine, session_info(privacy), commit_interval_s=0.1)
        rec.submit(make_frame(1, [1, 2, 3]))
        wait_for(lambda r=rec: r.health.frames_committed == 1, what="the first commit")
        named = make_frame(2, [1, 2, 3])
        named = dataclasses.replace(named, faces=dataclasses.replace(
            named.faces, name=np.array(["Ana Souza", "Omar Haddad", None], object)))
        rec.submit(named)
        rec.close()
        with session_scope(engine) as s:
            names = {p.track_id: p.name for p in s.scalars(select(ParticipantRow).where(
                ParticipantRow.session_id == rec.session_id))}
        assert names == expected, privacy
        engine.dispose()


def _with_names(fr: FrameResult, names: list[str | None],
                off: dict[int, tuple[list[int], str]] | None = None) -> FrameResult:
    """``fr`` with names on its faces and, in ``off``, camera-off participants: track id -> (tile, name)."""
    fr = dataclasses.replace(fr, faces=dataclasses.replace(fr.faces, name=np.array(names, object)))
    if not off:
        return fr
    tiles = [tile for tile, _ in off.values()]
    return dataclasses.replace(fr, tiles_xyxy=np.array(tiles, np.int32), tile_names=tuple(n for _, n in off.values()),
                               camera_off_track_ids=np.array(list(off), np.int64),
                               camera_off_xyxy=np.array(tiles, np.float32))


def test_the_name_stored_is_the_one_read_most_and_camera_off_people_are_named(db_url: str) -> None:
    """A label misread on the first frame ("Will Turmer") is corrected by the reads after it, and a
    participant with the camera off is stored with the name on their tile."""
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info("full"), commit_interval_s=0.1)
    rec.submit(_with_names(make_frame(1, [1]), ["Will Turmer"], off={2: ([300, 0, 500, 120], "Carla Dias")}))
    wait_for(lambda: rec.health.frames_committed == 1, what="the first commit")
    for fid in range(2, 5):
        rec.submit(_with_names(make_frame(fid, [1]), ["Will Turner"], off={2: ([300, 0, 500, 120], "Carla Dias")}))
    rec.close()
    with session_scope(engine) as s:
        names = {p.track_id: p.name for p in s.scalars(select(ParticipantRow).where(
            ParticipantRow.session_id == rec.session_id))}
    assert names == {1: "Will Turner", 2: "Carla Dias"}


def test_times_come_back_as_the_same_utc_instants(db_url: str) -> None:
    # The test PostgreSQL server runs in Pacific/Chatham (+13:45 in January): a dropped or
    # misread time zone moves every time by hours.
    engine = open_engine(db_url)
    before = datetime.now(UTC)
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)
    rec.submit(make_frame(7, [1]))
    rec.close()
    with session_scope(engine) as s:
        session = s.get(SessionRow, rec.session_id)
        obs_t = s.scalar(select(ObservationRow.t_utc))
        snap_t = s.scalar(select(SnapshotRow.t_utc))
    assert session is not None and obs_t is not None and snap_t is not None
    started = _aware(session.started_utc)
    assert started.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= started <= datetime.now(UTC)
    assert _aware(obs_t) == _aware(snap_t) == T0 + timedelta(seconds=7)


@pytest.mark.parametrize(("t", "expected"), [
    (datetime(2026, 1, 1, 9, 0), datetime(2026, 1, 1, 9, 0, tzinfo=UTC)),
    (datetime(2026, 1, 1, 22, 45, tzinfo=timezone(timedelta(hours=13, minutes=45))),
     datetime(2026, 1, 1, 9, 0, tzinfo=UTC)),
])
def test_aware_gives_utc(t: datetime, expected: datetime) -> None:
    assert _aware(t) == expected and _aware(t).tzinfo is UTC


def test_aggregate_privacy_stores_no_participant_rows(db_url: str) -> None:
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info("aggregate"), commit_interval_s=0.1)
    for fid in range(1, 4):
        rec.submit(make_frame(fid, [1, 2]))
    rec.close()
    assert count_rows(engine) == (0, 3, 0)


def test_presence_rows_have_no_emotions(db_url: str) -> None:
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info("presence"), commit_interval_s=0.1)
    rec.submit(make_frame(1, [1, 2], with_probs=False))
    rec.close()
    with session_scope(engine) as s:
        rows = s.scalars(select(ObservationRow)).all()
        assert [r.label for r in rows] == ["Present", "Present"] and all(r.p_happy is None for r in rows)


def test_a_very_long_source_still_starts_a_session(db_url: str) -> None:
    # PostgreSQL enforces VARCHAR(500); SQLite would have stored it whole.
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info(source="video:/" + "x" * 800 + ".mp4"), commit_interval_s=0.1)
    rec.close()
    with session_scope(engine) as s:
        assert len(s.scalars(select(SessionRow.source)).one()) == 500


def test_sessions_of_dead_processes_are_marked_interrupted(db_url: str) -> None:
    engine = open_engine(db_url)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    old = Recorder(engine, session_info(), commit_interval_s=0.1)
    old.close()
    with session_scope(engine) as s:  # as if its process had been killed mid-class
        s.execute(update(SessionRow).values(status="running", ended_utc=None, pid=int(dead.stdout)))
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)  # the next run cleans up
    assert mark_interrupted_sessions(engine) == []
    rec.close()
    with session_scope(engine) as s:
        status = dict(s.execute(select(SessionRow.id, SessionRow.status)).all())
    # The new run stored no frame: it says so rather than "complete".
    assert status == {old.session_id: "interrupted", rec.session_id: "no frames"}


def test_a_database_that_cannot_be_reached_is_one_clear_line(postgres_server) -> None:
    url = f"postgresql+psycopg://someone:s3cret@127.0.0.1:{_closed_port()}/classmood"
    t = time.monotonic()
    with pytest.raises(StorageError) as e:
        open_engine(url)
    msg = str(e.value)
    assert time.monotonic() - t < 15
    assert msg.startswith("cannot open database postgresql+psycopg://someone:***@127.0.0.1:")
    assert "\n" not in msg and "s3cret" not in msg


def test_a_bare_postgresql_url_uses_psycopg3(postgres_server, pg_url: str) -> None:
    engine = open_engine(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "private.sqlite3"
    open_engine(f"sqlite:///{path}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o444, 0o640], ids=["read-only", "group-readable"])
def test_an_existing_sqlite_file_keeps_its_mode_and_is_still_read(tmp_path: Path, mode: int,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Only a file ClassMood creates is made private: an archive the user made read-only (0444) or
    shared with their group (0640) keeps that mode when opened again, and `sessions` and `report`
    still read it. (The mode is what is checked: as root a read-only file can be written anyway.)"""
    path = tmp_path / "archive.sqlite3"
    url = f"sqlite:///{path}"
    engine = open_engine(url)
    rec = Recorder(engine, session_info(), commit_interval_s=0.05)
    rec.submit(make_frame(1, [1, 2]))
    rec.close()
    engine.dispose()
    os.chmod(path, mode)
    again = open_engine(url)
    again.dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert cli_main(["sessions", "--db", url, "--json"]) == 0
    assert [s["id"] for s in json.loads(capsys.readouterr().out)] == [rec.session_id]
    assert cli_main(["report", "--db", url, "--format", "json", "--out", str(tmp_path / "r.json")]) == 0
    assert (tmp_path / "r.json").is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def _bound_by_modes(scratch: Path) -> list[str]:
    """A command prefix under which file modes bind this test's subprocesses: none for a normal
    user; for root, ``setpriv`` without the capabilities that let root past modes (root still owns
    and reads its own checkout, wherever it lies). Checked, not assumed: under the prefix, a file
    cannot be created in a read-only folder. Skips where root cannot drop them."""
    if os.geteuid() != 0:
        return []
    caps = "-dac_override,-dac_read_search,-fowner"
    prefix = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]
    closed = scratch / "closed"
    closed.mkdir()
    os.chmod(closed, 0o555)
    try:
        done = subprocess.run([*prefix, sys.executable, "-c", f"open({str(closed / 'x')!r}, 'w')"],
                              capture_output=True, text=True, timeout=60)
    except OSError as e:  # no setpriv
        pytest.skip(f"running as root and cannot drop root's pass past file modes: {e}")
    finally:
        os.chmod(closed, 0o755)
    if "PermissionError" not in done.stderr:
        pytest.skip(f"running as root and setpriv did not make file modes bind: {done.stderr.strip()[-200:]}")
    return prefix


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize(("folder_name", "file_mode"), [("archive", 0o444), ("class #2 100%", 0o444),
                                                        ("archive", 0o666)],
                         ids=["read-only-file", "hash-and-percent-in-the-path", "writable-file"])
def test_an_archive_in_a_folder_this_user_cannot_write_is_still_listed_and_reported(folder_name: str,
                                                                                     file_mode: int,
                                                                                     tmp_path: Path) -> None:
    """A database on read-only media or in another user's archive folder: SQLite cannot create its
    WAL index beside it (even where the file itself is writable), yet `sessions` lists it and
    `report` reads it (as root, without root's pass past file modes), in a folder whose name a URI
    would cut at '#'."""
    as_bound = _bound_by_modes(tmp_path)
    folder = tmp_path / folder_name
    folder.mkdir()
    try:
        path = folder / "archive.sqlite3"
        engine = open_engine(f"sqlite:///{path}")
        rec = Recorder(engine, session_info(), commit_interval_s=0.05)
        rec.submit(make_frame(1, [1, 2]))
        rec.close()
        engine.dispose()
        home = tmp_path / "home"  # the subprocesses' matplotlib cache and the report go here
        home.mkdir()
        os.chmod(path, file_mode)
        os.chmod(folder, 0o555)
        env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home / "mpl"),
               "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        said = []
        for args in (["sessions", "--json"], ["report", "--format", "json", "--out", str(home / "r.json")]):
            done = subprocess.run([*as_bound, sys.executable, "-m", "classmood.cli", *args, "--db", f"sqlite:///{path}"],
                                  env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            said.append(done.stdout)
        assert [s["id"] for s in json.loads(said[0])] == [rec.session_id]
        assert json.loads((home / "r.json").read_text())["session"]["id"] == rec.session_id
    finally:
        os.chmod(folder, 0o755)  # so that pytest can remove tmp_path


def _one_frame_stored_then_locked(tmp_path: Path) -> tuple[Engine, Recorder, sqlite3.Connection]:
    """A recorder that stored frame 1, then another program takes SQLite's write lock (a backup
    tool, a second writer gone wrong): the engine, the recorder and the lock's connection."""
    path = tmp_path / "c.sqlite3"
    engine = open_engine(f"sqlite:///{path}")
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)
    rec.submit(make_frame(1, [1]))
    wait_for(lambda: rec.health.frames_committed == 1, what="the first commit")
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    engine.dispose()
    return engine, rec, blocker


def test_locked_sqlite_database_buffers_then_stores_everything(tmp_path: Path) -> None:
    engine, rec, blocker = _one_frame_stored_then_locked(tmp_path)
    for fid in range(2, 5):
        rec.submit(make_frame(fid, [1, 2]))
    wait_for(lambda: rec.health.last_error is not None, what="the write error")
    assert rec.health.last_error is not None and "kept in memory" in rec.health.last_error
    blocker.rollback()
    blocker.close()
    rec.close()
    assert rec.health.last_error is None
    assert count_rows(engine) == (1 + 3 * 2, 4, 2), "nothing recorded before or during the lock was lost"


def test_frames_a_locked_database_still_refuses_at_exit_are_counted_not_hidden(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock outlasts ``close()``'s retries: close says how many frames are lost, and they are."""
    monkeypatch.setattr(Recorder, "CLOSE_RETRY_S", 1.0)  # the default 15 s would only make the test slow
    engine, rec, blocker = _one_frame_stored_then_locked(tmp_path)
    try:
        for fid in range(2, 5):
            rec.submit(make_frame(fid, [1, 2]))
        assert rec.close() == 3
    finally:
        blocker.rollback()
        blocker.close()
    assert count_rows(engine) == (1, 1, 1), "only the frame committed before the lock is stored"


def test_close_says_nothing_is_lost_when_everything_is_stored(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    rec = Recorder(engine, session_info(), commit_interval_s=0.1)
    for fid in range(1, 4):
        rec.submit(make_frame(fid, [1]))
    assert rec.close() == 0
    assert count_rows(engine) == (3, 3, 1)


def test_a_commit_lost_on_the_way_back_is_not_stored_twice(db_url: str) -> None:
    """The server committed, but the answer never arrived: the retry must not store the frames again.

    The lost answer is caused by raising the driver's error right after a successful COMMIT (a
    connection that drops at that instant cannot be arranged reliably on a real server).
    """
    engine = open_engine(db_url)
    rec = Recorder(engine, session_info(), commit_interval_s=0.05)
    lost: list[bool] = []
    commit = engine.dialect.do_commit

    def answer_lost(dbapi_connection: object) -> None:
        commit(dbapi_connection)  # the database has the rows now
        if not lost:
            lost.append(True)
            raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection unexpectedly"))

    engine.dialect.do_commit = answer_lost  # type: ignore[method-assign]
    try:
        for fid in range(1, 4):
            rec.submit(make_frame(fid, [1, 2]))
        wait_for(lambda: rec.health.frames_committed == 3, what="the frames, after the retry")
    finally:
        engine.dialect.do_commit = commit  # type: ignore[method-assign]
    rec.submit(make_frame(4, [1, 2, 3]))
    rec.close()
    assert lost == [True]
    # 4 frames, 2 + 2 + 2 + 3 faces, 3 people: each stored once.
    assert count_rows(engine, rec.session_id) == (9, 4, 3)
    with session_scope(engine) as s:
        assert s.get(SessionRow, rec.session_id).frames == 4  # type: ignore[union-attr]


def test_a_version_1_database_is_upgraded_in_place_and_stays_readable(db_url: str) -> None:
    engine = open_engine(db_url)
    live_rec = Recorder(engine, session_info(source="screen:1 1920x1080"), commit_interval_s=0.05)
    live_rec.submit(make_frame(1, [1, 2]))
    live_rec.close()
    file_rec = Recorder(engine, session_info(source="video:/tmp/class.mp4", live=False), commit_interval_s=0.05)
    file_rec.submit(make_frame(1, [1]))
    file_rec.close()
    # Turn it back into what ClassMood 0.1 wrote: no live column, no unique frame key, version 1,
    # and one frame stored twice by the retry bug that version had.
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_snapshots_session_frame"))
        conn.execute(text("DROP TABLE pauses"))
        for table, column in (("sessions", "live"), ("participants", "name"), ("observations", "attention"),
                              ("observations", "yaw_deg"), ("observations", "pitch_deg"), ("observations", "roll_deg"),
                              ("observations", "eyes"), ("class_snapshots", "faces_readable"),
                              ("class_snapshots", "attention_share"), ("class_snapshots", "hidden_by_overlay"),
                              ("class_snapshots", "cameras_off")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(text("UPDATE schema_info SET version = 1"))
        conn.execute(text("INSERT INTO class_snapshots (session_id, frame_id, t_utc, t_s, faces_seen, tiles_seen, "
                          "participants_known) SELECT session_id, frame_id, t_utc, t_s, faces_seen, tiles_seen, "
                          "participants_known FROM class_snapshots WHERE session_id = :sid"),
                     {"sid": live_rec.session_id})
    engine.dispose()

    upgraded = open_engine(db_url)
    with upgraded.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_info")).scalar() == SCHEMA_VERSION == 3
        assert conn.execute(text("SELECT COUNT(*) FROM pauses")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM observations WHERE attention IS NULL")).scalar() == 3
        live = dict(conn.execute(text("SELECT id, live FROM sessions")).all())
        assert live == {live_rec.session_id: True, file_rec.session_id: False}
        assert conn.execute(text("SELECT COUNT(*) FROM class_snapshots WHERE session_id = :sid"),
                            {"sid": live_rec.session_id}).scalar() == 1
    assert count_rows(upgraded, live_rec.session_id) == (2, 1, 2)


def test_an_upgrade_interrupted_half_way_can_run_again(sqlite_url: str) -> None:
    """SQLite commits each ALTER TABLE on its own: a 2 -> 3 upgrade that died after some of its
    columns leaves them behind with the version still 2, and the next open must finish the job."""
    engine = open_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE pauses"))
        for table, column in (("class_snapshots", "cameras_off"), ("class_snapshots", "hidden_by_overlay")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(text("UPDATE schema_info SET version = 2"))  # participants.name etc. stay: done before the crash
    engine.dispose()
    upgraded = open_engine(sqlite_url)
    with upgraded.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_info")).scalar() == SCHEMA_VERSION
        columns = {r[1] for r in conn.execute(text("PRAGMA table_info(class_snapshots)"))}
        assert {"cameras_off", "hidden_by_overlay", "faces_readable"} <= columns
        assert conn.execute(text("SELECT COUNT(*) FROM pauses")).scalar() == 0
