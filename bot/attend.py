"""The attention stage: where each participant is looking, read every few seconds per face.

Landmarks (``models.face_landmarks``) are the costly part (~2.5 ms a pass per face), and where
a person looks changes over seconds, not frames: each participant is read when first seen and
then every ``every_s`` seconds (new faces at once, later readings spread over time by id), and
between readings the frame carries that participant's held state and last head pose. A reading
starts from the participant's previous landmarks when the face is still where they were (one
pass instead of two).

A reading that falls due while the face has not changed since the last one (no 8x8 cell of its
48x48 grey crop moved by ``change_max_diff`` grey levels: the same test as the expression's) is
put off by another ``every_s``, up to ``unchanged_max_s``: a head that turns, drops or looks away
changes the crop by tens of levels and is read on time; a still face need not be re-measured.
Its eyes and lower face are still looked at on time, where its kept landmarks put them (the
face has not moved): two 24x24 eye patches through the eye model instead of a landmark pass,
so eyes that close in a still face are seen within ``every_s``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from bot.attention import AttentionHold, attention_state, eyes_closed, eyes_judged, head_pose_deg
from bot.classify import FACE_CHANGE_MAX_DIFF, crop_to_screen, face_crops, face_offset
from bot.tracking import is_held
from models import face_landmarks as fl
from models.preprocessing import face_gray_48
from vocab.labels import ATTENTION_STATES, NOT_READ
from vocab.types import FrameResult

EVERY_S = 3.0
# An unchanged face still gets a full reading (landmarks) this often; its eyes are looked at every
# EVERY_S in between. (12 s before the eyes were: on a still 7x7 class the landmark re-readings
# were ~10 ms of CPU a frame, ~4 ms at 30 s.)
UNCHANGED_MAX_S = 30.0
FORGET_AFTER_S = 60.0  # readings of a participant unseen this long are dropped (memory stays flat)
# Faces per landmark model call. The model's activations grow with the batch and ONNX Runtime
# keeps them until the next call: a first frame of 48 faces in one call took 200 MB more at its
# peak and 120 MB more after; in calls of 4, 26 and 18 MB, for the same CPU (measured here).
LANDMARK_BATCH = 4


@dataclass
class _Reading:
    t_s: float
    next_s: float
    pose_deg: np.ndarray  # (3,)
    eyes_closed: int  # 1, 0, -1
    points_px: np.ndarray  # (468, 3)
    gray: np.ndarray  # (48, 48) uint8 face crop when read (see bot.classify.face_offset)
    xyxy: np.ndarray  # (4,) float32, the face box when read
    raw: str  # the state this reading said
    presence: float  # the landmarks' presence


class AttentionStage:
    """Writes ``faces.attention``, ``faces.head_pose_deg`` and ``faces.eyes_closed`` (needs ``track_id``)."""

    def __init__(self, landmarker: fl.FaceLandmarker, eyes: fl.EyeStateClassifier, every_s: float = EVERY_S,
                 unchanged_max_s: float = UNCHANGED_MAX_S, change_max_diff: float = FACE_CHANGE_MAX_DIFF) -> None:
        """``unchanged_max_s`` <= ``every_s`` reads every face every ``every_s`` whatever it shows."""
        self._landmarker = landmarker
        self._eyes = eyes
        self.every_s = every_s
        self.unchanged_max_s = unchanged_max_s
        self.change_max_diff = change_max_diff
        self.readings_done = 0
        self.readings_put_off = 0
        self.eyes_only_readings = 0
        self._hold = AttentionHold()
        self._readings: dict[int, _Reading] = {}

    def fresh(self) -> AttentionStage:
        """The same models with no readings yet (for an unrelated image or stream)."""
        return AttentionStage(self._landmarker, self._eyes, self.every_s, self.unchanged_max_s, self.change_max_diff)

    def __call__(self, frame: FrameResult, t_s: float) -> FrameResult:
        faces = frame.faces
        n = len(faces)
        if faces.track_id is None:
            raise ValueError("the attention stage runs after the tracker (faces.track_id is None)")
        ids = [int(t) for t in faces.track_id]
        for tid in [k for k, r in self._readings.items() if t_s - r.t_s > FORGET_AFTER_S]:
            del self._readings[tid]
            self._hold.forget(tid)
        stale = is_held(faces)  # no detection this frame (bot.tracking): nothing to read from its crop
        due = [i for i, tid in enumerate(ids) if not stale[i] and (
               tid not in self._readings or t_s >= self._readings[tid].next_s or t_s < self._readings[tid].t_s)]
        if due and frame.image is not None:
            grays = [face_gray_48(c) for c in face_crops(frame.image, faces.xyxy[due])]
            read: list[int] = []
            eyes_only: dict[int, np.ndarray] = {}  # id -> its kept landmarks, moved with the face
            for k, i in enumerate(due):
                r = self._readings.get(ids[i])
                # Only a settled face is put off: a new state waiting to be confirmed by the
                # hold's next readings is read on time. A face that only moved in its crop (a
                # person swaying; see face_offset) is the same face: its kept landmarks are moved
                # with it, from the crop it was read in to this one.
                offset = face_offset(r.gray, grays[k], self.change_max_diff) if r is not None \
                    and r.t_s <= t_s < r.t_s + self.unchanged_max_s and r.raw == self._hold.held(ids[i]) else None
                if r is not None and offset is not None:
                    r.next_s = t_s + self.every_s  # the same face: put the reading off
                    self.readings_put_off += 1
                    eyes_only[ids[i]] = _moved(r.points_px, r.xyxy, faces.xyxy[i], offset)
                else:
                    read.append(k)
            if eyes_only:
                self._read_eyes(frame.image, eyes_only, t_s)
            if read:
                self._read(frame.image, faces.xyxy[[due[k] for k in read]], [ids[due[k]] for k in read], t_s,
                           [grays[k] for k in read])
                self.readings_done += len(read)
        attention = np.full(n, NOT_READ, np.int8)
        pose = np.full((n, 3), np.nan, np.float32)
        eyes = np.full(n, -1, np.int8)
        for i, tid in enumerate(ids):
            held = self._hold.held(tid)
            reading = self._readings.get(tid)
            if held is not None:
                attention[i] = ATTENTION_STATES.index(held)
            if reading is not None:
                pose[i], eyes[i] = reading.pose_deg, reading.eyes_closed
        return dataclasses.replace(frame, faces=dataclasses.replace(
            faces, attention=attention, head_pose_deg=pose, eyes_closed=eyes))

    def _read(self, image: np.ndarray, xyxy: np.ndarray, ids: list[int], t_s: float,
              grays: list[np.ndarray]) -> None:
        previous = np.full((len(ids), fl.N_LANDMARKS, 3), np.nan, np.float32)
        for k, tid in enumerate(ids):
            if tid in self._readings:
                previous[k] = self._readings[tid].points_px
        marks = _landmarks_in_batches(self._landmarker, image, xyxy, previous)
        pose = head_pose_deg(marks.points_px)
        p_closed = self._eyes.p_closed(fl.eye_patches(image, marks.points_px))
        width = fl.eye_width_px(marks.points_px)
        raw = attention_state(pose, p_closed, fl.lower_face_contrast(image, marks.points_px), marks.presence, width)
        for k, tid in enumerate(ids):
            first = tid not in self._readings
            self._hold.update(tid, t_s, raw[k])
            judged = eyes_judged(float(pose[k, 0]), float(pose[k, 1]), float(marks.presence[k]), float(width[k]))
            closed = int(eyes_closed(p_closed[k])) if judged else -1
            # Spread the next readings of faces first seen together over one period.
            wait = self.every_s * (1.0 + (tid % 5) / 5.0) if first else self.every_s
            self._readings[tid] = _Reading(t_s, t_s + wait, pose[k].astype(np.float32), closed, marks.points_px[k],
                                           grays[k], xyxy[k].astype(np.float32), str(raw[k]),
                                           float(marks.presence[k]))

    def _read_eyes(self, image: np.ndarray, points_of: dict[int, np.ndarray], t_s: float) -> None:
        """The eyes and lower face of still faces, where their kept landmarks (moved with the
        face, ``points_of``) put them (see the module notes); pose and presence are the kept
        ones. The full reading's time stays."""
        ids = list(points_of)
        kept = [self._readings[tid] for tid in ids]
        points = np.stack([points_of[tid] for tid in ids])
        pose = np.stack([r.pose_deg for r in kept])
        presence = np.array([r.presence for r in kept], np.float32)
        p_closed = self._eyes.p_closed(fl.eye_patches(image, points))
        width = fl.eye_width_px(points)
        raw = attention_state(pose, p_closed, fl.lower_face_contrast(image, points), presence, width)
        for k, (tid, r) in enumerate(zip(ids, kept, strict=True)):
            self._hold.update(tid, t_s, raw[k])
            judged = eyes_judged(float(pose[k, 0]), float(pose[k, 1]), float(presence[k]), float(width[k]))
            r.eyes_closed = int(eyes_closed(p_closed[k])) if judged else -1
            r.raw = str(raw[k])
        self.eyes_only_readings += len(ids)


def _moved(points_px: np.ndarray, then_xyxy: np.ndarray, now_xyxy: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
    """``points_px`` (screen pixels, read on the face box ``then_xyxy``) where they are now: into
    the crop they were read in, by ``offset`` crop pixels (how far the face moved in its crop),
    and out of the crop of the face box ``now_xyxy``."""
    x0, y0, px0 = crop_to_screen(then_xyxy)
    x1, y1, px1 = crop_to_screen(now_xyxy)
    out = points_px.copy()
    out[:, 0] = x1 + ((points_px[:, 0] - x0) / px0 + offset[0]) * px1
    out[:, 1] = y1 + ((points_px[:, 1] - y0) / px0 + offset[1]) * px1
    return out


def _landmarks_in_batches(landmarker: fl.FaceLandmarker, image: np.ndarray, xyxy: np.ndarray,
                          previous: np.ndarray) -> fl.FaceLandmarks:
    """``landmarker.landmarks`` over ``LANDMARK_BATCH`` faces a call (see its note), in order."""
    if len(xyxy) <= LANDMARK_BATCH:
        return landmarker.landmarks(image, xyxy, previous_px=previous)
    parts = [landmarker.landmarks(image, xyxy[s:s + LANDMARK_BATCH], previous_px=previous[s:s + LANDMARK_BATCH])
             for s in range(0, len(xyxy), LANDMARK_BATCH)]
    return fl.FaceLandmarks(np.concatenate([p.points_px for p in parts]), np.concatenate([p.presence for p in parts]))
