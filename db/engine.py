"""Opening the database: the default private SQLite file, or any SQLAlchemy URL."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
import urllib.parse
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from db.migrations import migrate
from db.tables import SCHEMA_VERSION, metadata, schema_info
from vocab.errors import StorageError, one_line

log = logging.getLogger(__name__)


def default_db_path() -> Path:
    """``classmood.sqlite3`` in the user's data directory (platformdirs)."""
    from platformdirs import user_data_path

    return user_data_path("classmood", appauthor=False) / "classmood.sqlite3"


def default_db_url() -> str:
    return f"sqlite:///{default_db_path()}"


def _make_private_sqlite_file(path: Path) -> None:
    """Create a missing SQLite file (and its folder) readable by the owner only.

    SQLite gives its -wal/-shm files the main file's permissions, so they stay private too. An
    existing file keeps the mode its owner gave it, and its folder too: a read-only archive is
    still read (``sessions``, ``report``), and a mode the user chose is not ours to change.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        try:
            os.chmod(path.parent, 0o700) if path.parent.name == "classmood" else None
        except OSError:
            pass
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _read_only_if_unwritable(url: URL, path: Path) -> URL:
    """``url`` opening ``path`` read-only and immutable when this user cannot write its folder and
    no ``-shm`` file is beside it (an archive on a read-only folder or medium).

    SQLite reads a WAL database only where it finds or can create the ``-shm`` file, in the
    file's folder: a plain open there fails with "attempt to write a readonly database" before the
    first SELECT, whether the file itself is writable or not. Nothing can be written through such
    a connection anyway; reading commands work, writing ones fail in one line. The path is
    percent-encoded: in a URI a ``#`` or ``?`` would end it. (A ``-wal`` copied without its
    ``-shm`` is not read: immutable means SQLite looks at the main file only.)
    """
    if os.access(path.parent, os.W_OK) or Path(f"{path}-shm").exists():
        return url
    uri = "file:" + urllib.parse.quote(path.resolve().as_posix(), safe="/:")
    return url.set(database=uri, query={**url.query, "mode": "ro", "immutable": "1", "uri": "true"})


def open_engine(url: str | None = None) -> Engine:
    """An engine with the schema in place; ``StorageError`` in one line if that is impossible.

    SQLite: a private file in WAL mode. PostgreSQL (``postgresql+psycopg://user@host/db``; a bare
    ``postgresql://`` uses psycopg 3 when psycopg2 is absent): sessions in UTC, a connect timeout,
    and the schema created under an advisory lock so that several ``classmood run`` starting at
    once against one new database do not race.
    """
    url = url or default_db_url()
    try:
        parsed = _with_driver(make_url(url))
        if parsed.get_backend_name() == "sqlite":
            db_path = parsed.database or ""
            if db_path and db_path != ":memory:" and "uri" not in parsed.query:
                _make_private_sqlite_file(Path(db_path))
                parsed = _read_only_if_unwritable(parsed, Path(db_path))
            engine = create_engine(parsed, connect_args={"timeout": 5.0})
            event.listen(engine, "connect", _sqlite_pragmas)
        elif parsed.get_backend_name() == "postgresql":
            # A dead server far away must not hang the writer thread for the OS's TCP timeout.
            args = {"connect_timeout": 10} if "connect_timeout" not in parsed.query else {}
            engine = create_engine(parsed, pool_pre_ping=True, connect_args=args)
            event.listen(engine, "connect", _postgres_utc)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
        for attempt in range(3):
            try:
                with engine.begin() as conn:
                    _ensure_schema(conn, url)
                break
            except SQLAlchemyError as e:
                # Two SQLite processes creating one new file's tables at once: the loser's
                # CREATE TABLE or version row fails; the winner's schema is then in place.
                racing = isinstance(e, IntegrityError) or "already exists" in str(e)
                if not racing or attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))
    except StorageError:
        raise
    except ModuleNotFoundError as e:
        raise StorageError(f"cannot open database {redact_url(url)}: {e} (for PostgreSQL: pip install "
                           f"classmood[postgres] and use a postgresql+psycopg:// URL)") from None
    except (SQLAlchemyError, OSError, ValueError) as e:
        raise StorageError(f"cannot open database {redact_url(url)}: {one_line(e)}") from None
    return engine


def _with_driver(url: URL) -> URL:
    """``postgresql://`` means psycopg2 to SQLAlchemy; use psycopg 3 (our extra) when that is what is installed."""
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None \
            and importlib.util.find_spec("psycopg") is not None:
        return url.set(drivername="postgresql+psycopg")
    return url


_SCHEMA_LOCK_KEY = 0x636C6D6F  # "clmo": any constant shared by every ClassMood process


def _ensure_schema(conn: Connection, url: str) -> None:
    if conn.dialect.name == "postgresql":
        # Held until this transaction ends; PostgreSQL's DDL is transactional, so the next
        # process waits here and then finds the tables and the version row in place.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
    existing = inspect(conn).has_table(schema_info.name)
    version = conn.scalar(select(schema_info.c.version)) if existing else None
    if version is not None and version > SCHEMA_VERSION:
        raise StorageError(f"database {redact_url(url)} has schema version {version}, newer than this ClassMood "
                           f"({SCHEMA_VERSION}): update ClassMood or use another --db")
    if version is not None and version < SCHEMA_VERSION:
        migrate(conn, version, SCHEMA_VERSION)
        conn.execute(update(schema_info).values(version=SCHEMA_VERSION))
    metadata.create_all(conn)
    if version is None:
        conn.execute(insert(schema_info).values(version=SCHEMA_VERSION))


def _postgres_utc(dbapi_conn: object, _record: object) -> None:
    """Every timestamp here is UTC; without this, PostgreSQL hands back the server's local zone."""
    autocommit = dbapi_conn.autocommit  # type: ignore[attr-defined]
    dbapi_conn.autocommit = True  # type: ignore[attr-defined]  # a SET inside a rolled-back transaction is undone
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    try:
        cur.execute("SET TIME ZONE 'UTC'")
    finally:
        cur.close()
        dbapi_conn.autocommit = autocommit  # type: ignore[attr-defined]


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except Exception:  # read-only media: WAL cannot be set, plain journal still works for reading
        log.debug("could not switch SQLite to WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Zero deleted rows' bytes: names and expressions removed by `purge` must not stay readable
    # in the file's free pages (many SQLite builds leave them there by default).
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite file that does not exist (opening it would create an empty one), else None."""
    try:
        u = make_url(url)
    except Exception:
        return None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not u.database.startswith("file:") and not Path(u.database).exists():
        return u.database
    return None


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"
