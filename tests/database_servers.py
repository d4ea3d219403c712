"""Database fixtures: a real PostgreSQL server for the test session, and ``db_url`` over both back ends.

``postgres_server`` runs the Debian/Ubuntu server binaries (``/usr/lib/postgresql/*/bin``, or
``initdb`` on PATH) from a throw-away data folder in the system temp folder: 127.0.0.1 on a free
port, its socket in that folder, as the ``postgres`` user when the tests run as root (the server
refuses to run as root). Tests using it skip with a reason where the binaries or psycopg are absent.
Its time zone is deliberately not UTC, so code that forgets time zones fails here.

``db_url`` gives each test a fresh, empty database: a new SQLite file, or a new PostgreSQL database.
Every engine a test opens (itself, or through the CLI) is disposed when it ends: psycopg warns
about connections that are garbage-collected while open, and warnings are errors.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

PG_TIMEZONE = "Pacific/Chatham"  # +12:45/+13:45: a wrong offset or a dropped tzinfo shows at once
PG_SUPERUSER = "classmood"


def _pg_bindir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``; the newest Debian version wins."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server and how to reach it; ``stop()``/``start()`` let fault tests take it away."""

    bindir: Path
    root: Path
    port: int
    run_as: Any  # pwd.struct_passwd of the user the server runs as; None: as ourselves
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", user: str = PG_SUPERUSER) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        kw: dict = {}
        if self.run_as is not None:
            kw = {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        done = subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=self.root, **kw)
        if done.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:] \
                if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def initdb(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", PG_SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions", timeout=120)

    def start(self) -> None:
        sockets = f"-k {self.root} " if sys.platform != "win32" else ""
        opts = (f"-h 127.0.0.1 -p {self.port} {sockets}-c timezone={PG_TIMEZONE} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", opts,
                  "-w", "-t", "60", "start", timeout=90)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop", timeout=90)

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={PG_SUPERUSER} dbname={database}",
                             autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)  # type: ignore[call-overload]

    def new_database(self) -> str:
        """A fresh empty database; its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (Debian/Ubuntu: apt-get install postgresql; "
                    "`python3 bootstrap.py test` installs them)")
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install .[postgres])")
    run_as = None
    if sys.platform != "win32" and os.geteuid() == 0:
        import pwd  # POSIX only

        try:
            run_as = pwd.getpwnam("postgres")
        except KeyError:
            run_as = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="classmood-pg-"))  # short path: the socket name must fit 107 bytes
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    os.chmod(root, 0o700)
    server = PostgresServer(bindir, root, _free_port(), run_as)
    try:
        server.initdb()
        server.start()
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start a PostgreSQL test server: {e}")
    try:
        yield server
    finally:
        try:
            server.stop()
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped afterwards."""
    name = postgres_server.new_database()
    yield postgres_server.url(name)
    for attempt in range(3):  # a test's engine may still hold a connection for a moment
        try:
            postgres_server.drop_database(name)
            break
        except Exception:
            time.sleep(0.5 * (attempt + 1))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'classmood.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database for one test, on each back end in turn (URL string for ``open_engine``)."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    engines: list[Engine] = []  # strong references: a collected engine's open connections warn

    def remember(conn: Connection) -> None:
        if conn.engine not in engines:
            engines.append(conn.engine)

    event.listen(Engine, "engine_connect", remember)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", remember)
        for engine in engines:
            engine.dispose()
