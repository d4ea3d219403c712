"""Statuses of a run carry the frames' own clock: media time for files, so pauses land where the frames do."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from bot.pipeline import RunStatus, run_frames
from bot.sources import open_source
from vocab.protocols import CapturedFrame
from vocab.settings import Config
from vocab.types import FrameResult


class _Passthrough:
    """Stands in for the models: the loop's clock is what is under test, not detection."""

    def process(self, captured: CapturedFrame, frame_id: int, t_mono: float, t_utc: datetime,
                occluded_xyxy: np.ndarray | None = None) -> FrameResult:
        return FrameResult(frame_id, t_mono, t_utc, captured.region_xywh)


def test_a_folder_runs_on_media_time_and_its_statuses_too(tmp_path: Path) -> None:
    for i in range(4):  # a folder source shows its images one second apart in media time
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((32, 32, 3), 40 * i, np.uint8))
    config = Config(source=str(tmp_path), fps=0)
    events = list(run_frames(_Passthrough(), open_source(config.source), config))  # type: ignore[arg-type]
    frames = [e for e in events if isinstance(e, FrameResult)]
    statuses = {e.state: e.t_mono for e in events if isinstance(e, RunStatus)}
    assert [f.t_mono for f in frames] == [0.0, 1.0, 2.0, 3.0]
    # Processed in a blink of wall time, yet the run ended 3 s into the media.
    assert statuses == {"running": 0.0, "ended": 3.0}
