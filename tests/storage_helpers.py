"""Small builders shared by the storage tests: frames with known faces, row counts, waiting on the writer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, func, select

from db.recorder import SessionInfo
from db.schema import ObservationRow, ParticipantRow, SnapshotRow, session_scope
from vocab.settings import Privacy
from vocab.types import ClassMood, Faces, FrameResult

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_frame(fid: int, ids: list[int], with_probs: bool = True) -> FrameResult:
    """Frame ``fid`` (``t_mono = fid`` s, ``t_utc = T0 + fid`` s) with one face per track id in ``ids``."""
    n = len(ids)
    xyxy = np.array([[10 * i, 0, 10 * i + 8, 8] for i in range(n)], np.float32).reshape(n, 4)
    probs = np.full((n, 7), 1 / 7, np.float32) if with_probs else None
    faces = Faces(xyxy=xyxy, score=np.ones(n, np.float32), tile_xyxy=xyxy.astype(np.int32),
                  emotion_probs=probs, track_id=np.array(ids, np.int64), smoothed_probs=probs,
                  label=np.zeros(n, np.int64) if with_probs else None)
    mood = ClassMood(n, n, max(ids, default=0), tuple([1 / 7] * 7) if with_probs else None,
                     0.0 if with_probs else None, 4 / 7 if with_probs else None)
    return FrameResult(fid, float(fid), T0 + timedelta(seconds=fid), (0, 0, 100, 100), faces=faces, mood=mood)


def session_info(privacy: str = "full", source: str = "test", live: bool = True) -> SessionInfo:
    return SessionInfo(source=source, live=live, privacy=Privacy(privacy), settings={"fps": 1},
                       model_sha256="ab" * 32)


def count_rows(engine: Engine, session_id: int | None = None) -> tuple[int, int, int]:
    """(observations, snapshots, participants), of one session or of all."""
    out = []
    with session_scope(engine) as s:
        for table in (ObservationRow, SnapshotRow, ParticipantRow):
            q = select(func.count()).select_from(table)
            if session_id is not None:
                q = q.where(table.session_id == session_id)
            out.append(int(s.scalar(q) or 0))
    return out[0], out[1], out[2]


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.05)
