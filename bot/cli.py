"""``classmood``: run, analyze, sessions, report, purge, eval. ``main(argv) -> exit code``.

Every failure the user can fix is one line on stderr naming what is wrong and what to do, with
a distinct exit code: 2 bad settings, 3 storage, 4 model, 5 capture/source.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any, NoReturn

from bot.config import PRIVACY_MODES, Config, load_config, save_settings, user_settings_path
from bot.errors import CaptureError, ClassMoodError, ConfigError, ModelError, StorageError, one_line

log = logging.getLogger("classmood")

EXIT_CODES: dict[type[ClassMoodError], int] = {ConfigError: 2, StorageError: 3, ModelError: 4, CaptureError: 5}
PRIVACY_NOTICE = ("ClassMood notice: tell your participants that their expressions are being analysed on this "
                  "computer. Nothing leaves it; no images are stored unless you pass --save-frames; "
                  "--privacy aggregate keeps class-level numbers only.")


def _common_run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="a TOML file of settings (flags win over it)")
    p.add_argument("--model", type=Path, help="emotion model ONNX (default: the shipped one)")
    p.add_argument("--privacy", choices=PRIVACY_MODES,
                   help="full (default), aggregate (class-level rows only) or presence (no emotion inference)")
    p.add_argument("--verbose", "-v", action="store_const", const=True, help="debug logging")


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

    a = sub.add_parser("analyze", help="every face in one screenshot, with its emotion")
    a.add_argument("image", type=Path)
    a.add_argument("--json", action="store_true", help="one JSON object on stdout")
    _common_run_flags(a)

    s = sub.add_parser("sessions", help="list recorded sessions")
    s.add_argument("--db", help="SQLAlchemy URL")
    s.add_argument("--json", action="store_true")

    rep = sub.add_parser("report", help="post-class report of a session (latest by default)")
    rep.add_argument("session", nargs="?", type=int)
    rep.add_argument("--db", help="SQLAlchemy URL")
    rep.add_argument("--out", type=Path, help="output file (default: classmood-report-<id>.<ext>)")
    rep.add_argument("--format", choices=("html", "csv", "json"), default="html")

    pu = sub.add_parser("purge", help="delete old sessions")
    pu.add_argument("--older-than", required=True, help="age like 30d, 12h or 90m")
    pu.add_argument("--db", help="SQLAlchemy URL")

    e = sub.add_parser("eval", help="accuracy of an emotion model on FER2013 (needs the data file)")
    e.add_argument("model", type=Path)
    e.add_argument("rest", nargs=argparse.REMAINDER, help="--split private|public --data PATH --out-dir DIR")
    return p


def _config_from(args: argparse.Namespace) -> Config:
    """Defaults, then ``--config`` (or the settings the overlay saved), then the flags given."""
    keys = ("source", "fps", "db", "overlay", "save_frames", "max_frames", "duration_s", "model", "privacy", "verbose")
    overrides: dict[str, Any] = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    toml = getattr(args, "config", None)
    if toml is None and args.command == "run" and user_settings_path().is_file():
        toml = user_settings_path()
    return load_config(toml, overrides)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a bad flag (2, already said in one line)
        return e.code if isinstance(e.code, int) else 2
    verbose = bool(getattr(args, "verbose", False))
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(levelname)s: %(message)s"
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=fmt)
    try:
        if args.command == "run":
            return _run(_config_from(args))
        if args.command == "analyze":
            return _analyze(_config_from(args), args.image, args.json)
        if args.command == "sessions":
            return _sessions(args.db, args.json)
        if args.command == "report":
            from db.report import write_report

            return write_report(args.db, args.session, args.out, args.format)
        if args.command == "purge":
            return _purge(args.db, args.older_than)
        if args.command == "eval":
            from training.evaluate import main as eval_main

            return eval_main([str(args.model), *args.rest])
    except ClassMoodError as e:
        print(f"classmood: {e}", file=sys.stderr)
        return next((code for cls, code in EXIT_CODES.items() if isinstance(e, cls)), 1)
    return 1


def _first_run_notice() -> None:
    from platformdirs import user_config_path

    marker = user_config_path("classmood", appauthor=False) / "notice-shown"
    if not marker.exists():
        print(PRIVACY_NOTICE, file=sys.stderr)
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass


def _run(config: Config) -> int:
    from bot.pipeline import RunControl, build_pipeline
    from bot.sources import open_source
    from db.engine import _safe, default_db_url, open_engine
    from db.recorder import Recorder, SessionInfo

    source = open_source(config.source, fps=config.fps if config.source.split(":")[0] not in
                         ("screen", "region", "window") else 0.0)
    try:
        pipeline = build_pipeline(config)
    except ClassMoodError:
        source.close()
        raise
    url = config.db or default_db_url()
    try:
        engine = open_engine(url)
        _first_run_notice()
        info = SessionInfo(source=source.describe(), privacy=config.privacy,
                           settings=_settings_dict(config),
                           model_sha256=getattr(pipeline.classifier, "sha256", None))
        recorder = Recorder(engine, info)
    except ClassMoodError:
        pipeline.close()
        source.close()
        raise
    control = RunControl()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("stopping (%s): flushing to the database", signal.Signals(signum).name)
        control.stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    status = "complete"
    stats = _RunStats()
    try:
        from bot.sources import display_available

        if config.overlay and display_available():
            from overlay.app import run_with_overlay

            edited = run_with_overlay(pipeline, source, config, recorder, control, stats.add)
            if edited != config:
                save_settings(edited, user_settings_path())
                log.info("settings saved to %s for the next run", user_settings_path())
        else:
            _run_headless(pipeline, source, config, recorder, control, stats)
    except Exception:
        status = "failed"
        raise
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        recorder.close(status)
        pipeline.close()
        source.close()
        print(stats.summary(recorder.session_id, _safe(url)), file=sys.stderr)
    return 0


class _RunStats:
    def __init__(self) -> None:
        self.frames = 0
        self.faces = 0
        self.participants = 0
        self.last_mood: float | None = None
        self.t0 = time.monotonic()

    def add(self, frame: Any) -> None:
        self.frames += 1
        self.faces += len(frame.faces)
        if frame.mood is not None:
            self.participants = frame.mood.participants_known
            if frame.mood.mood_index is not None:
                self.last_mood = frame.mood.mood_index

    def summary(self, session_id: int, url: str) -> str:
        mood = f", last mood {self.last_mood:+.0f}" if self.last_mood is not None else ""
        return (f"classmood: session {session_id}: {self.frames} frames in {time.monotonic() - self.t0:.0f} s, "
                f"{self.participants} participants, {self.faces} face observations{mood}; stored in {url} "
                f"(see: classmood report {session_id})")


def _run_headless(pipeline: Any, source: Any, config: Config, recorder: Any, control: Any, stats: _RunStats) -> None:
    from bot.pipeline import RunStatus, run_frames
    from bot.status_line import status_line

    tty = sys.stderr.isatty()
    last_print = 0.0
    for event in run_frames(pipeline, source, config, control):
        if isinstance(event, RunStatus):
            continue  # already logged by the loop
        recorder.submit(event)
        stats.add(event)
        log.debug("frame %d queued for storage: %d faces", event.frame_id, len(event.faces))
        now = time.monotonic()
        if tty and now - last_print > 0.25:
            fps = stats.frames / max(now - stats.t0, 1e-6)
            sys.stderr.write("\r" + status_line(event, fps, recorder.health.last_error)[:160].ljust(160))
            sys.stderr.flush()
            last_print = now
    if tty:
        sys.stderr.write("\n")


def _settings_dict(config: Config) -> dict[str, Any]:
    from dataclasses import asdict

    d = asdict(config)
    d.pop("db", None)  # may carry a password
    return d


def _analyze(config: Config, image_path: Path, as_json: bool) -> int:
    from datetime import datetime

    from bot.pipeline import build_pipeline
    from bot.protocols import CapturedFrame
    from bot.sources import read_image
    from bot.types import UNCERTAIN
    from models.labels import EMOTIONS

    image = read_image(image_path)
    pipeline = build_pipeline(config)
    try:
        h, w = image.shape[:2]
        frame = pipeline.process(CapturedFrame(image, (0, 0, w, h), 0.0), 1, 0.0, datetime.now(UTC))
    finally:
        pipeline.close()
    f = frame.faces
    faces = []
    for i in range(len(f)):
        x1, y1, x2, y2 = (int(round(v)) for v in f.xyxy[i])
        tx1, ty1, tx2, ty2 = (int(v) for v in f.tile_xyxy[i])
        item: dict[str, Any] = {"box": [x1, y1, x2 - x1, y2 - y1], "tile": [tx1, ty1, tx2 - tx1, ty2 - ty1],
                                "detection_score": round(float(f.score[i]), 4)}
        if f.emotion_probs is not None:
            p = f.emotion_probs[i]
            k = int(p.argmax())
            item.update(emotion=EMOTIONS[k], confidence=round(float(p[k]), 4),
                        uncertain=bool(f.label is not None and f.label[i] == UNCERTAIN),
                        probabilities={e: round(float(v), 4) for e, v in zip(EMOTIONS, p, strict=True)})
        faces.append(item)
    faces.sort(key=lambda d: (d["tile"][1], d["tile"][0], d["box"][1], d["box"][0]))
    if as_json:
        print(json.dumps({"image": str(image_path), "width": w, "height": h, "tiles": len(frame.tiles_xyxy),
                          "faces": faces}))
        return 0
    print(f"{image_path}: {len(faces)} face(s) in {len(frame.tiles_xyxy)} tile(s)")
    for i, d in enumerate(faces, 1):
        x, y, bw, bh = d["box"]
        emo = f"{d['emotion']:<8} {d['confidence']:.0%}" if "emotion" in d else "present"
        print(f"  {i:>2}. box x={x} y={y} w={bw} h={bh}  {emo}")
    return 0


def _sessions(db_url: str | None, as_json: bool) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import open_engine
    from db.queries import list_sessions
    from db.recorder import mark_interrupted_sessions

    engine = open_engine(db_url)
    try:
        # A run that was killed or crashed left its session 'running'; say what it really is.
        mark_interrupted_sessions(engine)
    except SQLAlchemyError as e:  # e.g. a read-only copy of the database: still list it
        log.warning("could not mark interrupted sessions: %s", one_line(e))
    rows = list_sessions(engine)
    if as_json:
        print(json.dumps([r.to_json() for r in rows]))
        return 0
    if not rows:
        print("no sessions recorded yet: start one with `classmood run`")
        return 0
    print(f"{'id':>4}  {'started (UTC)':<19}  {'duration':>9}  {'people':>6}  {'privacy':<9}  status")
    for r in rows:
        print(f"{r.id:>4}  {r.started_utc:%Y-%m-%d %H:%M:%S}  {_hms(r.duration_s):>9}  {r.participants:>6}  "
              f"{r.privacy:<9}  {r.status}")
    return 0


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _purge(db_url: str | None, older_than: str) -> int:
    from db.engine import open_engine
    from db.queries import parse_age, purge_sessions

    age = parse_age(older_than)
    n = purge_sessions(open_engine(db_url), age)
    print(f"deleted {n} session(s) older than {older_than}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
