"""A face the detector misses for a frame or two stays present, with its id; one that leaves goes.

Through the real pipeline (MediaPipe, the emotion model, SQLite): a simulated 3x3 Zoom gallery
shown at 1 fps with fresh camera noise each frame. One participant's face is blurred out of
recognition (a hand passing, a quick move) for two frames and comes back; later they leave
their camera (the tile stays, showing a vague room): their place no longer looks like them, so
they are gone at once, not held (a departure shows within a frame, not after the hold).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import text

from db.engine import open_engine
from db.recorder import Recorder, SessionInfo
from tools.screensim import Screen, random_spec, simulate_screen
from tools.screensim.photos import load_pool
from vocab.protocols import CapturedFrame
from vocab.settings import Config, Privacy
from vocab.types import FrameResult

QUIET = dict(layout="gallery", rows=3, cols=3, n_tiles=9, camera_off_frac=0.0, masked_frac=0.0, turned_frac=0.0,
             down_frac=0.0, small_frac=0.0, lowlight_frac=0.0, backlight_frac=0.0, motion_frac=0.0,
             pillarbox_frac=0.0, panels=(), windowed=False, app="zoom", size_wh=(1280, 720), watermark=False,
             recording=False, screen_jpeg=0)
SEED = 3
# Seconds (1 fps) at which the participant's face is blanked: a two-frame miss, then gone from 7 on.
MISSED = (3.0, 4.0)
LEFT_FROM = 7.0
END = 11.0


def _blur(image: np.ndarray, box: tuple[float, float, float, float] | tuple[int, int, int, int],
          sigma: float) -> np.ndarray:
    """``image`` with ``box`` (clipped) blurred with a Gaussian of ``sigma`` px."""
    out = image.copy()
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    out[y0:y1, x0:x1] = cv2.GaussianBlur(image[y0:y1, x0:x1], (0, 0), sigma)
    return out


def _missed(screen: Screen, k: int) -> np.ndarray:
    """Face ``k`` out of focus (a hand passing, a quick move): its box and a margin blurred away."""
    x0, y0, x1, y1 = screen.faces[k].xyxy
    m = 0.3 * (x1 - x0)
    return _blur(screen.image, (x0 - m, y0 - m, x1 + m, y1 + m), sigma=0.25 * (x1 - x0))


def _left(screen: Screen, k: int) -> np.ndarray:
    """Face ``k``'s participant gone from their camera: their tile shows only a vague room."""
    tile = screen.tiles[screen.faces[k].tile_index].xyxy
    return _blur(screen.image, tile, sigma=0.25 * (tile[3] - tile[1]))


def _id_at(frame: FrameResult, centre: tuple[float, float]) -> tuple[int, float] | None:
    """(track id, detection score) of the face row whose box holds ``centre``, None if none."""
    f = frame.faces
    assert f.track_id is not None
    for box, tid, score in zip(f.xyxy, f.track_id, f.score, strict=True):
        if box[0] <= centre[0] <= box[2] and box[1] <= centre[1] <= box[3]:
            return int(tid), float(score)
    return None


def test_a_face_missed_for_two_frames_keeps_its_id_and_presence_and_a_face_that_leaves_goes(tmp_path: Path) -> None:
    from bot.pipeline import build_pipeline

    pool = load_pool()
    if len(pool.frontal) < 20:
        pytest.skip("the shared face photos are absent (../shared/data/faces)")
    spec = random_spec(SEED, **QUIET)
    engine = open_engine(f"sqlite:///{tmp_path / 'class.sqlite3'}")
    recorder = Recorder(engine, SessionInfo(source="test", live=True, privacy=Privacy.FULL, settings={},
                                            model_sha256=None), commit_interval_s=0.05)
    pipeline = build_pipeline(Config(threads=1, attention=False, names=False))
    out: dict[float, FrameResult] = {}
    try:
        for k, t in enumerate(np.arange(0.0, END + 1)):
            screen = simulate_screen(spec, frame_index=k, pool=pool)
            assert len(screen.faces) == 9
            image = _missed(screen, 0) if t in MISSED else _left(screen, 0) if t >= LEFT_FROM else screen.image
            h, w = image.shape[:2]
            out[t] = pipeline.process(CapturedFrame(image, (0, 0, w, h), None), k + 1, float(t), datetime.now(UTC))
            recorder.submit(out[t])
    finally:
        pipeline.close()
        recorder.close()
    x1, y1, x2, y2 = screen.faces[0].xyxy
    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
    seen = _id_at(out[0.0], centre)
    assert seen is not None and seen[1] > 0.5, "the participant is found while in view"
    pid = seen[0]
    for t, frame in out.items():
        row = _id_at(frame, centre)
        assert frame.mood is not None
        if t < LEFT_FROM:  # in view, or missed but held
            assert row is not None and row[0] == pid, f"t={t}: the participant keeps their id"
            assert frame.mood.faces_seen == 9, f"t={t}: everybody is counted present"
            held = t in MISSED
            assert (row[1] == 0.0) == held, f"t={t}: a held row says it was not detected"
            i = frame.faces.track_id.tolist().index(pid)  # type: ignore[union-attr]
            probs = frame.faces.emotion_probs
            assert probs is not None and np.isfinite(probs[i]).all() != held, f"t={t}: read only when detected"
        else:  # left: gone at once; the other eight stay
            assert row is None and pid not in frame.faces.track_id.tolist()  # type: ignore[union-attr]
            assert frame.mood.faces_seen == 8
    back = _id_at(out[5.0], centre)
    assert back is not None and back[0] == pid and back[1] > 0.5, "found again after the miss, same id"
    assert out[END].mood is not None and out[END].mood.participants_known == 9, "nobody got a second id"
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT o.frame_id, o.detection_score, o.label, o.p_happy FROM observations o "
            "JOIN participants p ON p.id = o.participant_id WHERE p.track_id = :tid ORDER BY o.frame_id"),
            {"tid": pid}).all()
    engine.dispose()
    # Frames 1..12 are t = 0..11: stored on frames 1-7 (t 0..6: seen, missed and held, back).
    assert [r[0] for r in rows] == list(range(1, 8))
    stored_held = [r for r in rows if r[1] == 0.0]
    assert [r[0] for r in stored_held] == [4, 5]
    assert all(r[2] == "Unreadable" and r[3] is None for r in stored_held), "no expression stored for a missed frame"
    assert all(r[3] is not None for r in rows if r[1] > 0)
