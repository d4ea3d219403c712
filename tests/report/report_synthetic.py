"""Synthetic classes recorded through the real ``Recorder``: FrameResults in, database rows out.

``record_session`` is a realistic class with random noise; ``record_planted`` a class whose events
(mood drop and rise, no-face gap, pause, capture gaps, looking away, covered by the overlay) are
placed by hand, so tests can write the report's expected moments and numbers out in advance.

The class is mostly neutral with some happiness; a third of the way in a hard question makes it
sad and afraid for a while, later a joke makes it happy. Some participants join late, one leaves
half-way, cameras go off now and then, so presence, moments and the heat map have something to show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from bot.mood import with_mood
from db.recorder import Recorder, SessionInfo
from vocab.labels import EMOTIONS, UNREADABLE
from vocab.settings import Privacy
from vocab.types import UNCERTAIN, Faces, FrameResult

_BASE = np.array([0.03, 0.01, 0.03, 0.22, 0.06, 0.05, 0.60])
_HARD = np.array([0.10, 0.04, 0.18, 0.05, 0.30, 0.08, 0.25])
_JOKE = np.array([0.01, 0.01, 0.01, 0.70, 0.02, 0.10, 0.15])
START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def class_mix(t_s: float, duration_s: float) -> np.ndarray:
    """``(7,)`` the class's expected emotion mix at ``t_s``."""
    f = t_s / max(duration_s, 1.0)
    hard = np.exp(-((f - 0.35) / 0.05) ** 2)
    joke = np.exp(-((f - 0.72) / 0.03) ** 2)
    mix = (1 - hard - joke).clip(0) * _BASE + hard * _HARD + joke * _JOKE
    return mix / mix.sum()


def record_session(engine: Engine, duration_s: float, participants: int, privacy: str = "full", fps: float = 1.0,
                   seed: int = 0, source: str = "video:synthetic-class.mp4") -> int:
    """Record a synthetic class of ``duration_s`` at ``fps``; returns the session id."""
    rng = np.random.default_rng(seed)
    live = not source.startswith(("video:", "image:", "folder:"))
    recorder = Recorder(engine, SessionInfo(source=source, live=live, privacy=Privacy(privacy),
                                            settings={"fps": fps, "privacy": privacy, "uncertain_below": 0.4,
                                                      "smoothing_s": 3.0, "source": source},
                                            model_sha256="0" * 63 + "1" if privacy != "presence" else None),
                        commit_interval_s=0.3, max_pending_frames=10**6)
    n_frames = int(round(duration_s * fps))
    join = np.where(rng.random(participants) < 0.2, rng.uniform(0, 0.3, participants), 0.0) * duration_s
    leave = np.full(participants, duration_s + 1)
    if participants > 3:
        leave[participants // 2] = 0.5 * duration_s
    bias = rng.dirichlet(_BASE * 25, participants)  # each person's own expressiveness
    off_start = rng.uniform(0, duration_s, participants)
    off_len = rng.uniform(0, 0.08, participants) * duration_s
    tiles = np.array([[100 * (i % 6), 80 * (i // 6), 100 * (i % 6) + 96, 80 * (i // 6) + 76]
                      for i in range(participants)], np.int32).reshape(-1, 4)
    try:
        for k in range(n_frames):
            t = k / fps
            here = (join <= t) & (t < leave) & ~((off_start <= t) & (t < off_start + off_len))
            idx = np.flatnonzero(here)
            n = len(idx)
            faces = Faces(xyxy=(tiles[idx] + np.array([20, 10, -20, -10])).astype(np.float32),
                          score=np.full(n, 0.9, np.float32), tile_xyxy=tiles[idx],
                          track_id=(idx + 1).astype(np.int64))
            if privacy != "presence" and n:
                mean = 0.65 * class_mix(t, duration_s) + 0.35 * bias[idx]
                probs = np.array([rng.dirichlet(m * 40 + 0.05) for m in mean], np.float32) if n else np.zeros((0, 7))
                label = probs.argmax(axis=1).astype(np.int64)
                label[probs.max(axis=1) < 0.4] = UNCERTAIN
                faces = Faces(xyxy=faces.xyxy, score=faces.score, tile_xyxy=faces.tile_xyxy, emotion_probs=probs,
                              track_id=faces.track_id, smoothed_probs=probs, label=label)
            frame = FrameResult(frame_id=k + 1, t_mono=1000.0 + t, t_utc=START + timedelta(seconds=t),
                                region_xywh=(0, 0, 640, 480), tiles_xyxy=tiles, faces=faces)
            recorder.submit(with_mood(frame, int((join <= t).sum())))
            while recorder._queue.qsize() > 128:  # a generator outruns any writer; real capture does not
                time.sleep(0.01)
    finally:
        recorder.close("complete")
    return recorder.session_id


def record_empty_session(engine: Engine) -> int:
    """A session that started and stopped before its first frame."""
    info = SessionInfo(source="screen", live=True, privacy=Privacy.FULL, settings={}, model_sha256=None)
    recorder = Recorder(engine, info)
    recorder.close("complete")
    return recorder.session_id


assert len(EMOTIONS) == 7


# -- planted events: a class whose every moment is known in advance --------------------------------

# Expression mixes in EMOTIONS order (Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral) and their
# mood index (100 x sum(share x valence)), worked out by hand:
HIGH = np.array([0.06, 0.0, 0.0, 0.50, 0.04, 0.0, 0.40])  # -4.8 + 50 - 2.8 = +42.4
LOW = np.array([0.0, 0.0, 0.0, 0.25, 0.40, 0.0, 0.35])  # 25 - 28 = -3.0
RISE = np.array([0.0, 0.0, 0.0, 0.70, 0.10, 0.0, 0.20])  # 70 - 7 = +63.0
STEADY = np.array([0.03, 0.01, 0.03, 0.22, 0.06, 0.05, 0.60])  # +13.9
STEADY_DIP = np.array([0.03, 0.01, 0.03, 0.19, 0.06, 0.05, 0.63])  # +10.9: a 3-point dip, within noise
ATTENTION = {"screen": 0, "down": 1, "away": 2, "eyes_closed": 3, "hidden": 4}


@dataclass
class Plan:
    """What happens in a planted class; times in seconds of media time, participants by track id (1..n)."""

    duration_s: int
    participants: int
    mix: list[tuple[float, np.ndarray]]  # (from t, mix) in time order
    no_faces: list[tuple[float, float]] = field(default_factory=list)
    pauses: list[tuple[float, float]] = field(default_factory=list)
    skipped_s: set[int] = field(default_factory=set)  # seconds with no frame (a busy machine)
    away: list[tuple[float, float, set[int], str]] = field(default_factory=list)  # (from, to, who, state)
    hidden: list[tuple[float, float, int]] = field(default_factory=list)  # under the host's overlay
    leave: dict[int, float] = field(default_factory=dict)  # track id -> leaves at t
    attention: bool = True  # the attention engine ran (schema 3); False: as an older database


def record_planted(engine: Engine, plan: Plan, privacy: str = "full", seed: int = 0,
                   source: str = "video:planted-class.mp4") -> int:
    """Record ``plan`` at 1 fps through the real ``Recorder`` and ``with_mood``; returns the session id."""
    rng = np.random.default_rng(seed)
    live = not source.startswith(("video:", "image:", "folder:"))
    recorder = Recorder(engine, SessionInfo(source=source, live=live, privacy=Privacy(privacy),
                                            settings={"fps": 1.0, "privacy": privacy, "uncertain_below": 0.4},
                                            model_sha256=None if privacy == "presence" else "0" * 64),
                        commit_interval_s=0.3, max_pending_frames=10**6)
    n = plan.participants
    tiles = np.array([[100 * (i % 6), 80 * (i // 6), 100 * (i % 6) + 96, 80 * (i // 6) + 76]
                      for i in range(n)], np.int32).reshape(-1, 4)
    paused = False
    try:
        for k in range(plan.duration_s):
            t = float(k)
            in_pause = any(a <= t < b for a, b in plan.pauses)
            if in_pause != paused:
                paused = in_pause
                recorder.mark_paused(paused, 1000.0 + t)
            if in_pause or k in plan.skipped_s:
                continue
            ids = [i for i in range(1, n + 1) if plan.leave.get(i, 1e9) > t]
            hidden = [i for i in ids if any(a <= t < b and who == i for a, b, who in plan.hidden)]
            if any(a <= t < b for a, b in plan.no_faces):
                ids = []
            ids = [i for i in ids if i not in hidden]
            idx = np.array(ids, np.int64) - 1
            m = len(ids)
            state = np.zeros(m, np.int8)
            for a, b, who, what in plan.away:
                if a <= t < b:
                    state[[j for j, i in enumerate(ids) if i in who]] = ATTENTION[what]
            mix = [mx for t0, mx in plan.mix if t0 <= t][-1]
            faces = Faces(xyxy=(tiles[idx] + np.array([20, 10, -20, -10])).astype(np.float32).reshape(-1, 4),
                          score=np.full(m, 0.9, np.float32), tile_xyxy=tiles[idx].reshape(-1, 4),
                          track_id=np.array(ids, np.int64))
            extra: dict = {}
            if plan.attention:
                pose = rng.normal(0, 3, (m, 3)).astype(np.float32)
                pose[state == ATTENTION["away"], 0] = 45.0
                pose[state == ATTENTION["down"], 1] = -30.0
                extra = {"attention": state, "head_pose_deg": pose,
                         "eyes_closed": (state == ATTENTION["eyes_closed"]).astype(np.int8)}
            if privacy != "presence":
                probs = np.array([rng.dirichlet(mix * 60 + 0.05) for _ in range(m)], np.float32).reshape(m, 7)
                label = probs.argmax(axis=1).astype(np.int64)
                label[probs.max(axis=1) < 0.4] = UNCERTAIN
                readable = state == 0
                probs[~readable] = np.nan
                label[~readable] = UNREADABLE
                faces = Faces(xyxy=faces.xyxy, score=faces.score, tile_xyxy=faces.tile_xyxy, emotion_probs=probs,
                              track_id=faces.track_id, smoothed_probs=probs, label=label, **extra)
            else:
                faces = Faces(xyxy=faces.xyxy, score=faces.score, tile_xyxy=faces.tile_xyxy,
                              track_id=faces.track_id, **extra)
            hidden_ids = np.array(hidden, np.int64)
            frame = FrameResult(frame_id=k + 1, t_mono=1000.0 + t, t_utc=START + timedelta(seconds=t),
                                region_xywh=(0, 0, 640, 480), tiles_xyxy=tiles, faces=faces,
                                hidden_track_ids=hidden_ids,
                                hidden_xyxy=tiles[hidden_ids - 1].astype(np.float32).reshape(-1, 4))
            recorder.submit(with_mood(frame, n))
            while recorder._queue.qsize() > 128:
                time.sleep(0.01)
    finally:
        recorder.close("complete")
    return recorder.session_id
