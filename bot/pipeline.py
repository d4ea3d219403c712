"""The live pipeline: one place that picks the back ends and runs the stages in order.

``build_pipeline(config)`` chooses source, detector and classifier; ``Pipeline.process`` takes
one captured frame through detect -> classify -> track -> smooth -> aggregate and returns the
``FrameResult``; ``run_frames`` is the loop (pacing, pause, faults, stop) as a generator, so
the terminal UI and the Qt overlay's worker thread consume the same events.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from bot.attend import AttentionStage
from bot.classify import EmotionStage
from bot.detect import REDETECT_AFTER_S, FaceFinder, tile_min_score
from bot.mood import with_mood
from bot.naming import NamesStage
from bot.smoothing import EmotionSmoother
from bot.tracking import ParticipantTracker
from models.native_heap import HeapTrimmer
from vocab.errors import CaptureError, ClassMoodError, SourceEnded
from vocab.protocols import CapturedFrame, EmotionClassifier, FaceDetector, FrameSource
from vocab.settings import Config, Privacy
from vocab.types import Faces, FrameResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunStatus:
    """A change in the run's state the host should see (paused, source lost, ended ...).

    ``t_mono`` is when it happened, in the run's own seconds (those of ``FrameResult.t_mono``).
    """

    state: str  # running | paused | waiting | ended | error
    message: str
    t_mono: float = 0.0


@dataclass
class RunControl:
    """How the UI steers a run from another thread: stop, pause, and what the host's windows cover."""

    stop: threading.Event = field(default_factory=threading.Event)
    pause: threading.Event = field(default_factory=threading.Event)
    _occluders_xywh: tuple[tuple[int, int, int, int], ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_occluders(self, rects_xywh: list[tuple[int, int, int, int]]) -> None:
        """The screen rectangles (x, y, w, h, screen pixels) the host's own windows cover now."""
        with self._lock:
            self._occluders_xywh = tuple(tuple(int(v) for v in r) for r in rects_xywh)  # type: ignore[misc]

    def occluders_in(self, region_xywh: tuple[int, int, int, int]) -> np.ndarray:
        """``(k, 4)`` float32 xyxy, in the pixels of a frame captured from ``region_xywh``."""
        with self._lock:
            rects = self._occluders_xywh
        rx, ry, rw, rh = region_xywh
        out = [(max(x - rx, 0), max(y - ry, 0), min(x + w - rx, rw), min(y + h - ry, rh)) for x, y, w, h in rects]
        return np.array([r for r in out if r[2] > r[0] and r[3] > r[1]], np.float32).reshape(-1, 4)


@dataclass
class Pipeline:
    """The stages of one run, in order. ``emotion`` is None in presence-only privacy mode.

    With ``per_person`` False (aggregate privacy) the frames that leave ``process`` carry the
    class mood only: boxes, track ids and per-face probabilities never leave the pipeline.
    """

    detector: FaceDetector
    classifier: EmotionClassifier | None
    finder: FaceFinder
    emotion: EmotionStage | None
    tracker: ParticipantTracker
    smoother: EmotionSmoother
    per_person: bool = True
    attention: AttentionStage | None = None
    names: NamesStage | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Run after every frame: memory upkeep (an idle model released, the heap trimmed now and then).
    after_frame: list[Callable[[], object]] = field(default_factory=list)

    @property
    def model_sha256(self) -> str | None:
        """The emotion model file's sha256, stored with each session (None without emotions)."""
        return getattr(self.classifier, "sha256", None)

    def process(self, captured: CapturedFrame, frame_id: int, t_mono: float, t_utc: datetime,
                occluded_xyxy: np.ndarray | None = None) -> FrameResult:
        """Everything the pipeline learns from one frame (the frame's image is kept on it).

        ``occluded_xyxy`` ``(k, 4)``: parts of the frame the host's own windows cover.
        """
        frame = FrameResult(frame_id=frame_id, t_mono=t_mono, t_utc=t_utc,
                            region_xywh=captured.region_xywh, image=captured.image,
                            occluded_xyxy=occluded_xyxy if occluded_xyxy is not None else np.zeros((0, 4), np.float32))
        timings: dict[str, float] = {}

        def timed(name: str, stage: Callable[[FrameResult], FrameResult]) -> None:
            nonlocal frame
            t = time.perf_counter()
            frame = stage(frame)
            timings[name] = (time.perf_counter() - t) * 1000

        timed("detect", self.finder)
        if self.names is not None:
            timed("names", self.names)
        timed("track", lambda f: self.tracker(f, t_mono))
        if self.attention is not None:
            attention = self.attention
            timed("attention", lambda f: attention(f, t_mono))
        if self.emotion is not None:
            timed("classify", self.emotion)
        timed("smooth", lambda f: self.smoother(f, t_mono))
        timed("aggregate", lambda f: with_mood(f, self.tracker.participants_known))
        if not self.per_person:
            frame = dataclasses.replace(frame, faces=Faces.empty(), tile_names=(),
                                        hidden_track_ids=np.zeros(0, np.int64),
                                        hidden_xyxy=np.zeros((0, 4), np.float32),
                                        camera_off_track_ids=np.zeros(0, np.int64),
                                        camera_off_xyxy=np.zeros((0, 4), np.float32))
        for upkeep in self.after_frame:
            upkeep()
        return dataclasses.replace(frame, timings_ms=timings)

    def fresh(self) -> Pipeline:
        """The same loaded models with none of the per-stream memory (boxes kept, tracks, smoothing,
        attention readings, cached names): for images that have nothing to do with each other."""
        return dataclasses.replace(
            self, finder=self.finder.fresh(), emotion=self.emotion.fresh() if self.emotion else None,
            tracker=ParticipantTracker(forget_after_s=self.tracker.forget_after_s),
            smoother=self.smoother.fresh(),
            attention=self.attention.fresh() if self.attention else None,
            names=self.names.fresh() if self.names else None)

    def close(self) -> None:
        self.detector.close()
        if self.classifier is not None:
            self.classifier.close()
        for close in self.closers:
            close()


def build_pipeline(config: Config, *, full_cost: bool = False) -> Pipeline:
    """Load the models and wire the stages; ``ModelError`` in one line when a model is unusable.

    By default work whose input has not changed is not redone: detections of unchanged tiles,
    expressions of unchanged faces (re-read at least every ``smoothing_s``) and the attention
    of still faces are kept (see ``bot.detect``, ``bot.classify``, ``bot.attend``).
    ``full_cost=True`` redoes everything on every frame: the reference the benchmarks and the
    agreement test compare against.

    The emotion model is ``config.model``, else for a live source the int8 variant
    (``models/emotion_int8.onnx``) on one thread, else the float ``models/emotion.onnx``
    (``full_cost`` always means the float model).
    """
    from models.emotion_classifier import INT8_MODEL_PATH, OnnxEmotionClassifier
    from models.face_detector import FULL_RANGE_MODEL_PATH, MediaPipeFaceDetector

    detector = MediaPipeFaceDetector(min_score=tile_min_score(config.min_face_score))  # see bot.detect
    twin: MediaPipeFaceDetector | None = None
    live = config.source.is_live and not full_cost
    classifier: EmotionClassifier | None = None
    attention: AttentionStage | None = None
    names: NamesStage | None = None
    closers: list[Callable[[], None]] = []
    after_frame: list[Callable[[], object]] = [HeapTrimmer()]
    try:
        # Tiles go to the short-range model; what the tile grid does not explain is scanned with
        # the full-range one (better on faces that are a small part of a large window).
        scanner = MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH, min_score=config.min_face_score)
        closers.append(scanner.close)
        if not full_cost and (not live or config.fps <= 0):
            # Files and pushed runs look at whole frames often: a twin of the tile detector
            # answers half the tiles on a second thread (bot.detector_pair: 49 tiles 74 -> 58 ms).
            # A 1 fps live run re-detects a tile or two a frame and keeps its memory instead.
            twin = MediaPipeFaceDetector(min_score=tile_min_score(config.min_face_score))
            closers.append(twin.close)
        if config.privacy.emotions:
            # The live path (a screen, region or window, beside the meeting app) runs the int8
            # variant on one thread: 3.5x cheaper a view, and its view cascade reads 2.3 views a
            # face instead of the float file's 4, at the float model's PrivateTest accuracy
            # (models/emotion.json, fast_variant_int8). Files and screenshots
            # keep the float model.
            model = config.model or (INT8_MODEL_PATH if live else None)
            classifier = OnnxEmotionClassifier(model, threads=config.threads or (1 if live else None))
        if config.names and config.privacy is Privacy.FULL:
            from bot.names import NameReader
            from models.idle_reader import IdleTextReader
            from models.text_reader import OnnxTextReader

            # Loaded while names are being read, released after 10 s without (85-170 MB).
            text_reader = IdleTextReader(lambda: OnnxTextReader(threads=1))
            closers.append(text_reader.close)
            after_frame.append(text_reader.release_if_idle)
            # Every changed label is read on the frame it changed, so that a page change or a
            # reflow has its names before the tracker decides who is who (bench.identity: read
            # 8 labels a frame, a 25-tile page change gave 92.6 % of faces the right person, all at
            # once 100 %); the first frame of a 49-tile gallery reads its names in ~0.5 s, once.
            names = NamesStage(NameReader(text_reader))
        if config.attention:
            from models.face_landmarks import EyeStateClassifier, FaceLandmarker

            landmarker = FaceLandmarker(threads=1)
            closers.append(landmarker.close)
            eyes = EyeStateClassifier(threads=1)
            closers.append(eyes.close)
            attention = AttentionStage(landmarker, eyes, unchanged_max_s=0.0) if full_cost \
                else AttentionStage(landmarker, eyes)
    except ClassMoodError:
        detector.close()
        if classifier is not None:
            classifier.close()
        for close in closers:
            close()
        raise
    finder = FaceFinder(detector, scan_detector=scanner, min_score=tile_min_score(config.min_face_score),
                        redetect_after_s=0.0 if full_cost else REDETECT_AFTER_S, twin=twin)
    closers.insert(0, finder.close)  # its worker thread stops before the twin is closed
    return Pipeline(detector=detector, classifier=classifier,
                    finder=finder,
                    emotion=EmotionStage(classifier, reclassify_after_s=0.0 if full_cost else config.smoothing_s)
                    if classifier is not None else None,
                    tracker=ParticipantTracker(forget_after_s=config.forget_after_s),
                    smoother=EmotionSmoother(tau_s=config.smoothing_s, uncertain_below=config.uncertain_below),
                    per_person=config.privacy.per_person, attention=attention, names=names, closers=closers,
                    after_frame=after_frame)


def run_frames(pipeline: Pipeline, source: FrameSource, config: Config,
               control: RunControl | None = None) -> Iterator[FrameResult | RunStatus]:
    """Capture and process until the source ends, a limit is reached or ``control.stop`` is set.

    Yields every processed ``FrameResult`` (image already dropped unless ``save_frames``
    wrote it) and a ``RunStatus`` whenever the state changes. A live source that fails (window
    closed, monitor gone) pauses the run until it is back; one bad frame is logged and skipped.
    """
    control = control or RunControl()
    period_s = 1.0 / config.fps if config.fps > 0 else 0.0
    started_mono, started_utc = time.monotonic(), datetime.now(UTC)
    frame_id, state = 0, ""
    media_t: float | None = None  # a file's position: its frames' clock, which statuses must share

    def now() -> float:
        """The frames' clock: seconds since the start when live, the media position for files."""
        return media_t if media_t is not None else time.monotonic() - started_mono

    def status(new_state: str, message: str) -> RunStatus | None:
        nonlocal state
        if new_state == state:
            return None
        state = new_state
        (log.warning if new_state in ("waiting", "error") else log.info)("%s", message)
        return RunStatus(new_state, message, now())

    next_due = time.monotonic()
    while not control.stop.is_set():
        if config.max_frames is not None and frame_id >= config.max_frames:
            break
        if config.duration_s is not None and time.monotonic() - started_mono >= config.duration_s:
            break
        if control.pause.is_set():
            if (ev := status("paused", "paused: nothing is captured or stored")) is not None:
                yield ev
            control.stop.wait(0.2)
            continue
        if source.is_live:
            delay = next_due - time.monotonic()
            if delay > 0 and control.stop.wait(delay):
                break
            next_due = max(next_due + period_s, time.monotonic())
        try:
            captured = source.grab()
        except SourceEnded:
            break
        except CaptureError as e:
            if (ev := status("waiting", f"{e}; retrying")) is not None:
                yield ev
            if source.is_live:
                control.stop.wait(1.0)
            continue
        if captured.media_time_s is not None:
            media_t = captured.media_time_s
        if (ev := status("running", f"capturing {source.describe()}")) is not None:
            yield ev
        t_mono = now()
        t_utc = started_utc + timedelta(seconds=t_mono)
        frame_id += 1
        try:
            result = pipeline.process(captured, frame_id, t_mono, t_utc, control.occluders_in(captured.region_xywh))
        except ClassMoodError as e:
            log.error("frame %d skipped: %s", frame_id, e)
            continue
        except Exception:  # one bad frame must not end a lecture-long run
            log.exception("frame %d skipped after an unexpected error", frame_id)
            continue
        if config.save_frames is not None:
            _save_frame(config.save_frames, result)
        out = dataclasses.replace(result, image=None)
        # The frame's pixels go now, not when the next grab replaces them: held through the
        # wait they would sit beside the next frame and the grab's buffer at its capture (one
        # more 1080p frame, ~6 MB, at the heap's high-water mark every second).
        del captured, result
        yield out
    yield RunStatus("ended", f"stopped after {frame_id} frame{'' if frame_id == 1 else 's'}", now())


def _save_frame(folder: Path, frame: FrameResult) -> None:
    """Only with ``--save-frames``: the host asked for the captured frames to be kept.

    The frames show participants' faces, so they get the database's privacy: on POSIX a folder
    ClassMood creates is 0700 and every frame file 0600 (readable by the host's user only).
    """
    if frame.image is None:
        return
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"frame_{frame.frame_id:06d}.jpg"
    ok, jpeg = cv2.imencode(".jpg", frame.image)
    if not ok:
        log.error("could not encode frame %d for %s", frame.frame_id, folder)
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):  # a file left by an earlier run keeps its old mode otherwise
                os.fchmod(f.fileno(), 0o600)
            f.write(jpeg.tobytes())
    except OSError as e:
        log.error("could not write frame %d to %s: %s", frame.frame_id, folder, e.strerror or e)
