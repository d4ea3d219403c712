"""``classmood run``: wire a source, the pipeline, storage and the overlay (or the terminal) for one class.

The one place the top floor puts the floors below together; every hand-off is typed
(``FrameSource``, ``Pipeline``, ``FrameSink``, ``RunControl``).
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import time

from bot.pipeline import Pipeline, RunControl, RunStatus, build_pipeline, run_frames
from bot.sources import display_available, open_source
from bot.status_line import status_line
from classmood.words import count
from db.engine import default_db_url, open_engine, redact_url
from db.recorder import Recorder, SessionInfo
from models.native_heap import limit_arenas
from vocab.errors import EXIT_CODES, ClassMoodError, StorageError
from vocab.protocols import FrameSource
from vocab.settings import Config, save_settings, user_settings_path
from vocab.types import FrameResult

log = logging.getLogger("classmood")

MALLOC_ARENAS = 2

PRIVACY_NOTICE = ("ClassMood notice: tell your participants that their expressions, where they look and their "
                  "display names are being read on this computer. Nothing leaves it; no images are stored unless "
                  "you pass --save-frames; --no-names turns name reading off; --privacy aggregate keeps "
                  "class-level numbers only (no names).")


def run_live(config: Config) -> int:
    """Monitor until the source ends, Ctrl-C/SIGTERM or the overlay closes; print a summary line.

    Returns the exit code: 0, or the storage code (3) when some frames never reached the
    database, so that a script never takes a recording with holes for a complete one.
    """
    # Before the models' and the GUI's threads exist: one malloc arena per thread would keep
    # their freed blocks apart and resident (see models.native_heap).
    limit_arenas(MALLOC_ARENAS)
    source = open_source(config.source, fps=0.0 if config.source.is_live else config.fps)
    try:
        pipeline = build_pipeline(config)
    except ClassMoodError:
        source.close()
        raise
    url = config.db or default_db_url()
    try:
        engine = open_engine(url)
        _first_run_notice()
        info = SessionInfo(source=source.describe(), live=config.source.is_live, privacy=config.privacy,
                           settings=_settings_dict(config), model_sha256=pipeline.model_sha256)
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
    stats = RunStats(per_person=config.privacy.per_person)
    try:
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
        not_stored = recorder.close(status)
        pipeline.close()
        source.close()
        engine.dispose()
        print(stats.summary(recorder.session_id, redact_url(url), not_stored), file=sys.stderr)
    return EXIT_CODES[StorageError] if not_stored else 0


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


class RunStats:
    """Counts for the one-line summary printed when a run ends."""

    def __init__(self, per_person: bool = True) -> None:
        self.frames = 0
        self.faces = 0
        self.participants = 0
        self.per_person = per_person
        self.last_mood: float | None = None
        self.t0 = time.monotonic()

    def add(self, frame: FrameResult) -> None:
        self.frames += 1
        if frame.mood is not None:
            self.faces += frame.mood.faces_seen
            self.participants = frame.mood.participants_known
            if frame.mood.mood_index is not None:
                self.last_mood = frame.mood.mood_index

    def summary(self, session_id: int, url: str, not_stored: int = 0) -> str:
        """One line: what the run saw and where it is stored, or how many of its frames never got there."""
        mood = f", last mood {self.last_mood:+.0f}" if self.last_mood is not None else ""
        people = (count(self.participants, "participant") if self.per_person
                  else "class-level numbers only (aggregate privacy)")
        # The recorder has logged the database's error just above this line.
        stored = (f"{not_stored} of {count(self.frames, 'frame')} could not be stored in {url}" if not_stored
                  else f"stored in {url}")
        return (f"classmood: session {session_id}: {count(self.frames, 'frame')} in "
                f"{time.monotonic() - self.t0:.0f} s, {people}, {count(self.faces, 'face observation')}{mood}; "
                f"{stored} (see: classmood report {session_id})")


def _run_headless(pipeline: Pipeline, source: FrameSource, config: Config, recorder: Recorder,
                  control: RunControl, stats: RunStats) -> None:
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


def _settings_dict(config: Config) -> dict[str, object]:
    d = dataclasses.asdict(config)
    d.pop("db", None)  # may carry a password
    d["source"] = str(config.source)
    d["privacy"] = config.privacy.value
    return d
