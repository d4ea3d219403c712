"""Participants: stable ids across frames that survive joins, leaves and gallery reflows.

A face is matched to a known participant first by where it is (box overlap with the last
position), then, for faces that moved (the gallery reflowed, someone pinned a speaker), by how
it looks: a small colour signature of the face and its surroundings (hair, clothes, room).
Matching is one-to-one and greedy, best pair first; ≤49 faces make anything fancier moot.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import cv2
import numpy as np

from vocab.geometry import Overlap, box_overlap
from vocab.types import FrameResult

IOU_MATCH = 0.3
APPEARANCE_MATCH = 0.75  # cosine similarity of signatures
HIDDEN_COVER = 0.5  # share of a face box under the overlay that makes a missing face "hidden"


def appearance_signature(image: np.ndarray, box_xyxy: np.ndarray) -> np.ndarray:
    """A unit-length hue/saturation histogram of the face and what surrounds it.

    The area is twice the face box (hair, collar, background), normalised to a fixed size so
    a reflow that shrinks the tile keeps the signature.
    """
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box_xyxy
    cx, cy, s = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1)
    a, b = int(max(0, cx - s)), int(max(0, cy - s))
    c, d = int(min(w, cx + s)), int(min(h, cy + 1.4 * s))
    patch = image[b:d, a:c]
    if patch.size == 0:
        return np.zeros(16 * 8 + 16, np.float32)
    patch = cv2.resize(patch, (48, 48), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    hs = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).ravel()
    v = cv2.calcHist([hsv], [2], None, [16], [0, 256]).ravel()
    sig = np.sqrt(np.concatenate([hs, v]).astype(np.float32))  # Hellinger-style, tames peaks
    return sig / max(float(np.linalg.norm(sig)), 1e-6)


@dataclass
class _Track:
    track_id: int
    xyxy: np.ndarray
    signature: np.ndarray
    last_seen: float


@dataclass
class ParticipantTracker:
    """Writes ``faces.track_id``, ``hidden_track_ids`` and ``hidden_xyxy``.

    Ids start at 1 and are never reused within a session.
    """

    forget_after_s: float = 600.0
    _tracks: dict[int, _Track] = field(default_factory=dict)
    _next_id: int = 1

    def __call__(self, frame: FrameResult, t_s: float) -> FrameResult:
        faces = frame.faces
        n = len(faces)
        for tid in [k for k, tr in self._tracks.items() if t_s - tr.last_seen > self.forget_after_s]:
            del self._tracks[tid]
        signatures = [appearance_signature(frame.image, b) if frame.image is not None else np.zeros(144, np.float32)
                      for b in faces.xyxy]
        ids = np.zeros(n, np.int64)
        tracks = list(self._tracks.values())
        free_faces, free_tracks = set(range(n)), set(range(len(tracks)))
        if tracks and n:
            sims = (np.stack(signatures) @ np.stack([tr.signature for tr in tracks]).T).astype(np.float32)
            ious = box_overlap(faces.xyxy, np.array([tr.xyxy for tr in tracks], np.float32))
            # Position first (with a sanity check on looks), then looks alone for faces that moved.
            for score, ok in ((ious + 0.01 * sims, (ious >= IOU_MATCH) & (sims >= APPEARANCE_MATCH - 0.25)),
                              (sims, sims >= APPEARANCE_MATCH)):
                for flat in np.argsort(-score, axis=None):
                    i, j = divmod(int(flat), len(tracks))
                    if ok[i, j] and i in free_faces and j in free_tracks:
                        ids[i] = tracks[j].track_id
                        free_faces.discard(i)
                        free_tracks.discard(j)
        for i in sorted(free_faces):
            ids[i] = self._next_id
            self._tracks[self._next_id] = _Track(self._next_id, faces.xyxy[i].copy(), signatures[i], t_s)
            self._next_id += 1
        hidden = self._hidden_by_occluders([tracks[j] for j in sorted(free_tracks)], frame.occluded_xyxy, t_s)
        for i in range(n):
            tr = self._tracks[int(ids[i])]
            tr.xyxy = faces.xyxy[i].copy()
            tr.signature = 0.8 * tr.signature + 0.2 * signatures[i]
            tr.signature /= max(float(np.linalg.norm(tr.signature)), 1e-6)
            tr.last_seen = t_s
        return dataclasses.replace(
            frame, faces=dataclasses.replace(faces, track_id=ids),
            hidden_track_ids=np.array([tr.track_id for tr in hidden], np.int64),
            hidden_xyxy=np.array([tr.xyxy for tr in hidden], np.float32).reshape(-1, 4))

    @staticmethod
    def _hidden_by_occluders(unmatched: list[_Track], occluded_xyxy: np.ndarray, t_s: float) -> list[_Track]:
        """Participants not seen this frame whose last place lies (mostly) under the host's own windows.

        They are present but covered, not absent: they keep their id (their last-seen time is
        refreshed, so they are never forgotten while covered) and are reported as hidden.
        """
        if not unmatched or len(occluded_xyxy) == 0:
            return []
        covered = box_overlap(np.array([tr.xyxy for tr in unmatched], np.float32), occluded_xyxy, Overlap.IOS)
        hidden = [tr for tr, c in zip(unmatched, covered.max(axis=1), strict=True) if c >= HIDDEN_COVER]
        for tr in hidden:
            tr.last_seen = t_s
        return hidden

    @property
    def participants_known(self) -> int:
        return self._next_id - 1
