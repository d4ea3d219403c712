"""Soak test of the live pipeline: ``python -m bench.soak [--duration-s 3600] [--fps 2]``.

Runs the real pipeline (MediaPipe, ONNX Runtime, tracking, the background writer into a real
SQLite file) at ``--fps`` on a recorded gallery that loops (a composed clip by default, or
``--source`` a video/folder; ``screen`` or ``window:TITLE`` capture live instead) for
``--duration-s``, and prints the process's resident memory at the start, every
``--report-every-s`` and at the end, every error logged, and the rows stored. ``--json PATH``
also writes those numbers for a test to read. Not a test itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.pipeline import RunControl, RunStatus, build_pipeline, run_frames
from bot.sources import open_source
from db.engine import open_engine
from db.recorder import Recorder, SessionInfo
from vocab.errors import SourceEnded
from vocab.protocols import CapturedFrame, FrameSource
from vocab.settings import Config, SourceSpec

log = logging.getLogger("bench.soak")



def rss_mb() -> float:
    """Resident memory of this process now, in MB (psutil if installed, else /proc, else the peak)."""
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        pass
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: ru_maxrss is the peak, in KB on Linux/BSD and bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


class LoopingSource:
    """A file source that starts over at its end, paced by the clock like a live one."""

    is_live = True

    def __init__(self, spec: SourceSpec) -> None:
        self._spec = spec
        self._source: FrameSource = open_source(spec)
        self.loops = 0

    def grab(self) -> CapturedFrame:
        try:
            frame = self._source.grab()
        except SourceEnded:
            self._source.close()
            self._source = open_source(self._spec)
            self.loops += 1
            frame = self._source.grab()
        return CapturedFrame(frame.image, frame.region_xywh)  # live: time is the clock's

    def describe(self) -> str:
        return f"loop:{self._source.describe()}"

    def close(self) -> None:
        self._source.close()


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.name}: {record.getMessage()}")


@dataclass
class SoakResult:
    duration_s: float
    fps: float
    frames: int
    faces: int
    # Participants present without a face row of their own: named camera-off tiles, people under the overlay.
    present_without_face: int = 0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB)
    errors: list[str] = field(default_factory=list)
    dropped_frames: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def default_gallery(folder: Path) -> str:
    """A small composed gallery clip (3x3 at 960x540, one participant joining) in ``folder``."""
    from tools.compose_gallery import load_face_photos, write_gallery_video

    path = folder / "gallery.avi"
    write_gallery_video(path, load_face_photos(), n_frames=20, fps=2.0, size_wh=(960, 540), n_start=8, seed=7)
    return str(path)


def soak(source_spec: str, db_url: str, duration_s: float, fps: float = 2.0, report_every_s: float = 60.0,
         threads: int = 0) -> SoakResult:
    """Run the pipeline on ``source_spec`` for ``duration_s``; memory is sampled every ``report_every_s``."""
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    config = Config(source=SourceSpec.parse(source_spec), fps=fps, db=db_url, overlay=False, duration_s=duration_s,
                    threads=threads)
    spec = config.source
    source: FrameSource = open_source(spec) if spec.is_live else LoopingSource(spec)
    pipeline = build_pipeline(config)
    engine = open_engine(db_url)
    recorder = Recorder(engine, SessionInfo(source=source.describe(), live=True, privacy=config.privacy,
                                            settings={"soak": True, "fps": fps}, model_sha256=pipeline.model_sha256))
    result = SoakResult(duration_s=duration_s, fps=fps, frames=0, faces=0)
    t0 = time.monotonic()

    def sample(tag: str) -> None:
        t, mb = time.monotonic() - t0, rss_mb()
        result.rss_mb.append((round(t, 1), round(mb, 1)))
        print(f"[{t:7.1f} s] {tag}: rss {mb:.1f} MB, {result.frames} frames, {result.faces} faces, "
              f"{len(errors.messages)} errors", flush=True)

    sample("start")
    next_report = t0 + report_every_s
    status = "complete"
    try:
        for event in run_frames(pipeline, source, config, RunControl()):
            if isinstance(event, RunStatus):
                continue
            recorder.submit(event)
            result.frames += 1
            result.faces += len(event.faces)
            result.present_without_face += len(event.camera_off_track_ids) + len(event.hidden_track_ids)
            if time.monotonic() >= next_report:
                sample("running")
                next_report += report_every_s
        sample("end")  # before anything is closed, so it compares with the samples above
    except BaseException:
        status = "failed"
        raise
    finally:
        recorder.close(status)
        pipeline.close()
        source.close()
        logging.getLogger().removeHandler(errors)
    result.errors = errors.messages
    result.dropped_frames = recorder.health.dropped_frames
    result.rows = _rows(engine, recorder.session_id)
    return result


def _rows(engine: object, session_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from db.schema import ObservationRow, ParticipantRow, SnapshotRow, session_scope

    with session_scope(engine) as s:  # type: ignore[arg-type]
        return {name: int(s.scalar(select(func.count()).select_from(row).where(row.session_id == session_id)) or 0)
                for name, row in (("snapshots", SnapshotRow), ("observations", ObservationRow),
                                  ("participants", ParticipantRow))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration-s", type=float, default=3600.0)
    p.add_argument("--fps", type=float, default=2.0)
    p.add_argument("--source", help="video/folder (looped), screen or window:TITLE; default: a composed gallery")
    p.add_argument("--db", help="SQLAlchemy URL (default: a fresh SQLite file in a temporary folder)")
    p.add_argument("--report-every-s", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    p.add_argument("--json", type=Path, help="also write the numbers here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="classmood-soak-") as tmp:
        source = args.source or default_gallery(Path(tmp))
        db_url = args.db or f"sqlite:///{Path(tmp) / 'soak.sqlite3'}"
        print(f"soak: {source} at {args.fps:g} fps for {args.duration_s:g} s into {db_url}", flush=True)
        result = soak(source, db_url, args.duration_s, args.fps, args.report_every_s, args.threads)
    first, last = result.rss_mb[0][1], result.rss_mb[-1][1]
    print(f"soak: {result.frames} frames ({result.frames / max(args.duration_s, 1e-9):.2f} fps), "
          f"{result.faces} faces; rss {first:.1f} -> {last:.1f} MB ({last - first:+.1f}); "
          f"{len(result.errors)} errors, {result.dropped_frames} frames dropped; rows {result.rows}")
    for message in result.errors:
        print(f"  {message}")
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=1))
    return 1 if result.errors or result.dropped_frames else 0


if __name__ == "__main__":
    raise SystemExit(main())
