"""``classmood``: run, analyze, sessions, report, purge, eval. ``main(argv) -> exit code``.

Every failure the user can fix is one line on stderr naming what is wrong and what to do, with
the exit code of its kind (``vocab.errors.EXIT_CODES``): 2 bad settings or unknown session,
3 storage, 4 model, 5 capture/source.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from classmood.words import count
from report import FORMATS
from vocab.errors import (
    EXIT_CODES,
    CaptureError,
    ClassMoodError,
    ConfigError,
    StorageError,
    UnknownSession,
    exit_code,
    one_line,
)
from vocab.settings import PRIVACY_MODES, Config, load_config, user_settings_path
from vocab.timefmt import hms, local_time

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("classmood")

MAX_SESSION_ID = 2**31 - 1  # the largest id the sessions table holds (INTEGER on PostgreSQL)


def _common_run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="a TOML file of settings (flags win over it)")
    p.add_argument("--model", type=Path, help="emotion model ONNX (default: the shipped one)")
    p.add_argument("--privacy", choices=PRIVACY_MODES,
                   help="full (default), aggregate (class-level rows only) or presence (no emotion inference)")
    p.add_argument("--no-names", dest="names", action="store_const", const=False,
                   help="do not read participants' display names from the tiles (names are only read and kept "
                        "with --privacy full)")
    p.add_argument("--verbose", "-v", action="store_const", const=True,
                   help="debug logging, and the native libraries' INFO/WARNING lines")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line (what is wrong, what is allowed), not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="classmood", description="See, live, how your online class feels.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="monitor the screen (or a recording) until Ctrl-C")
    r.add_argument("--source", help='screen | screen:N | region:X,Y,W,H | window:"Zoom Meeting" | PATH '
                                    "(video, image or folder); default: screen")
    r.add_argument("--fps", type=float, help="frames per second (default 1; 0 = as fast as possible)")
    r.add_argument("--db", help="SQLAlchemy URL (default: SQLite in your user data folder)")
    r.add_argument("--no-overlay", dest="overlay", action="store_const", const=False, help="terminal only")
    r.add_argument("--save-frames", type=Path, help="also keep every captured frame in this folder")
    r.add_argument("--max-frames", type=int, help="stop after N frames")
    r.add_argument("--duration", dest="duration_s", type=float, help="stop after N seconds")
    _common_run_flags(r)

    a = sub.add_parser("analyze", help="every face in a screenshot (or each image of a folder), with its emotion")
    a.add_argument("image", type=Path, metavar="IMAGE_OR_FOLDER",
                   help="a screenshot, or a folder of them (each image on its own, in name order)")
    a.add_argument("--json", action="store_true",
                   help="JSON on stdout: one object for an image; for a folder one list, one object per image")
    _common_run_flags(a)

    s = sub.add_parser("sessions", help="list recorded sessions")
    s.add_argument("--db", help="SQLAlchemy URL")
    s.add_argument("--json", action="store_true")

    rep = sub.add_parser("report", help="post-class report of a session (latest by default)")
    rep.add_argument("session", nargs="?", type=int)
    rep.add_argument("--db", help="SQLAlchemy URL")
    rep.add_argument("--out", type=Path, help="output file (default: classmood-report-<id>.<ext>)")
    rep.add_argument("--format", choices=FORMATS, default="html")

    pu = sub.add_parser("purge", help="delete old sessions (shows them and asks first)")
    pu.add_argument("--older-than", required=True, help="age like 30d, 12h or 90m")
    pu.add_argument("--db", help="SQLAlchemy URL")
    pu.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    pu.add_argument("--dry-run", action="store_true", help="only show what would be deleted")

    e = sub.add_parser("eval", help="accuracy of an emotion model on FER2013 (needs the data file)")
    e.add_argument("model", type=Path, metavar="MODEL.onnx")
    e.add_argument("--split", choices=("private", "public"), default="private",
                   help="private: the number to report (once); public: for choosing")
    e.add_argument("--data", type=Path, help="fer2013.npz (default: ../shared/data/fer2013/fer2013.npz)")
    e.add_argument("--out-dir", type=Path, default=Path("runs/eval"), help="where the PNG/markdown/JSON go")
    e.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    return p


def _config_from(args: argparse.Namespace) -> Config:
    """Defaults, then ``--config`` (or the settings the overlay saved), then the flags given."""
    keys = ("source", "fps", "db", "overlay", "save_frames", "max_frames", "duration_s", "model", "privacy", "verbose",
            "names")
    overrides: dict[str, Any] = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    toml = getattr(args, "config", None)
    if toml is None and args.command == "run" and user_settings_path().is_file():
        toml = user_settings_path()
    return load_config(toml, overrides)


def _database_fault(error: Exception, url: str | None) -> str:
    """One line for a database that fails mid-command (locked, malformed, gone): which database,
    and the driver's own words without SQLAlchemy's statement, parameters and links."""
    from db.engine import default_db_url, redact_url

    detail = one_line(getattr(error, "orig", None) or error)
    return f"classmood: database error in {redact_url(url or default_db_url())}: {detail}"


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a bad flag (2, already said in one line)
        return e.code if isinstance(e.code, int) else 2
    verbose = bool(getattr(args, "verbose", False))
    if not verbose:
        from classmood.native_log import quiet_native_stderr

        quiet_native_stderr()  # MediaPipe/LiteRT INFO lines; before logging takes sys.stderr
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(levelname)s: %(message)s"
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=fmt)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": lambda a: _run(_config_from(a)),
        "analyze": lambda a: _analyze(_config_from(a), a.image, a.json),
        "sessions": _sessions, "report": _report, "purge": _purge, "eval": _eval}
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return commands[args.command](args)
    except ClassMoodError as e:
        print(f"classmood: {e}", file=sys.stderr)
        return exit_code(e)
    except SQLAlchemyError as e:
        print(_database_fault(e, getattr(args, "db", None)), file=sys.stderr)
        return EXIT_CODES[StorageError]
    except BrokenPipeError:
        # `classmood sessions | head`: the reader has all it wanted. Point stdout at devnull so
        # the interpreter's final flush does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(config: Config) -> int:
    from classmood.live import run_live

    return run_live(config)


def _analyze(config: Config, path: Path, as_json: bool) -> int:
    """One image: its faces. A folder: each image's faces, in name order (``--json``: one list)."""
    from classmood.analyze import analyze_images, face_line

    results = analyze_images(config, path)
    if as_json:
        listed = list(results)  # one result for an image, one per image of a folder
        print(json.dumps(listed if path.is_dir() else listed[0]))
        _unreadable_images(path, sum("error" in r for r in listed), len(listed))
        return 0
    failed = total = 0
    for result in results:
        total += 1
        if "error" in result:
            failed += 1
            print(f"{result['image']}: skipped: {result['error']}")
            continue
        faces = result["faces"]
        print(f"{result['image']}: {count(len(faces), 'face')} in "
              f"{count(len(result['tiles']), 'tile')}")
        for i, face in enumerate(faces, 1):
            print(face_line(i, face))
        sys.stdout.flush()  # a long folder shows each image as it is done
    _unreadable_images(path, failed, total)
    return 0


def _unreadable_images(path: Path, failed: int, total: int) -> None:
    """Say how many images of a folder could not be read; ``CaptureError`` when none could (the
    run's exit code then says there was nothing to analyze, as for one unreadable image)."""
    if failed and failed == total:
        raise CaptureError(f"none of the {count(total, 'image')} in {path} could be read "
                           f"(each is missing, empty or not a supported image)")
    if failed:
        print(f"classmood: {failed:,} of {count(total, 'image')} in {path} could not be read and "
              f"{'was' if failed == 1 else 'were'} skipped", file=sys.stderr)


def _mark_interrupted(engine: Engine) -> None:
    """Mark the sessions of runs that were killed or crashed ``interrupted``, not ``running``.

    ``sessions`` then says what they really are, and ``purge`` can delete them when old. A
    database that refuses the write (a read-only copy) is still listed: a warning, not a fault.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from db.recorder import mark_interrupted_sessions

    try:
        mark_interrupted_sessions(engine)
    except SQLAlchemyError as e:
        log.warning("could not mark interrupted sessions: %s", one_line(e))


def _sessions(args: argparse.Namespace) -> int:
    from db.engine import open_engine
    from db.queries import list_sessions

    engine = open_engine(args.db)
    try:
        _mark_interrupted(engine)
        rows = list_sessions(engine)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([r.to_json() for r in rows]))
        return 0
    if not rows:
        print("no sessions recorded yet: start one with `classmood run`")
        return 0
    print(f"{'id':>4}  {'started (local time)':<20}  {'duration':>9}  {'people':>6}  {'privacy':<9}  status")
    for r in rows:
        people = f"{r.participants:>6}" if r.privacy.per_person else f"{'-':>6}"
        print(f"{r.id:>4}  {local_time(r.started_utc):%Y-%m-%d %H:%M:%S}   {hms(r.duration_s):>9}  {people}  "
              f"{r.privacy.value:<9}  {r.status}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from db.engine import default_db_url, missing_sqlite_file, open_engine, redact_url
    from db.queries import latest_session_id
    from report.build import build_report

    url = args.db or default_db_url()
    missing = missing_sqlite_file(url)
    if missing is not None:
        if args.session is None:
            print(f"no sessions recorded yet ({missing} does not exist): start one with `classmood run`")
            return 0
        raise ConfigError(f"no session {args.session}: there is no database at {missing}")
    engine = open_engine(url)
    try:
        sid = args.session if args.session is not None else latest_session_id(engine)
        if sid is None:
            print(f"no sessions recorded yet in {redact_url(url)}: start one with `classmood run`")
            return 0
        try:
            if not 0 < sid <= MAX_SESSION_ID:  # no such row can exist; the driver would overflow
                raise UnknownSession(sid)
            outcome = build_report(engine, sid, args.format, args.out)
        except UnknownSession:
            latest = latest_session_id(engine)
            hint = f"the latest is {latest}; " if latest is not None else ""
            raise UnknownSession(sid, f"no session {sid} in {redact_url(url)} ({hint}see `classmood sessions`)") \
                from None
    finally:
        engine.dispose()
    renamed = f"; a zip of CSV files, so not named {outcome.asked_path}" if outcome.asked_path is not None else ""
    if outcome.empty:
        print(f"session {sid} recorded no frames; wrote a report that says so to {outcome.path}{renamed}")
    else:
        people = "" if outcome.participants is None else f", {count(outcome.participants, 'participant')}"
        print(f"wrote {outcome.path} (session {sid}, {count(outcome.frames, 'frame')}{people}){renamed}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from db.engine import open_engine
    from db.queries import parse_age, purge_sessions, sessions_older_than

    age = parse_age(args.older_than)
    engine = open_engine(args.db)
    try:
        _mark_interrupted(engine)  # a crashed run's session stays 'running' (never purged) until marked
        doomed = sessions_older_than(engine, age)
        if not doomed:
            print(f"no finished session is older than {args.older_than}; nothing to delete")
            return 0
        print(f"{count(len(doomed), 'session')} older than {args.older_than} "
              f"{'would be' if args.dry_run else 'will be'} deleted with all their rows:")
        for r in doomed:
            print(f"  {r.id:>4}  {local_time(r.started_utc):%Y-%m-%d %H:%M}  {hms(r.duration_s):>8}  "
                  f"{count(r.participants, 'participant')}")
        if args.dry_run:
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise ConfigError("purge: refusing to delete without confirmation; pass --yes "
                                  "(or --dry-run to only list)")
            if input("Delete them? Type 'yes' to confirm: ").strip().lower() != "yes":
                print("nothing deleted")
                return 0
        n = purge_sessions(engine, [r.id for r in doomed])
    finally:
        engine.dispose()
    print(f"deleted {count(n, 'session')} older than {args.older_than}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate_and_report

    return evaluate_and_report(args.model, args.split, args.data, args.out_dir, args.threads)


if __name__ == "__main__":
    raise SystemExit(main())
