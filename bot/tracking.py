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

from bot.names import name_key
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
    name_key: str | None = None


@dataclass
class ParticipantTracker:
    """Writes ``faces.track_id``, ``camera_off_track_ids``/``camera_off_xyxy`` and ``hidden_track_ids``/``hidden_xyxy``.

    Ids start at 1 and are never reused within a session. A readable display name is the
    strongest cue: a face (or a camera-off tile) showing a name seen before gets that name's id
    wherever it is (reflow, page change, leaving and rejoining, however long after); two tiles
    with the same name are one person; a face whose name differs from the one last seen at its
    place is someone else. Faces without a readable name are matched by place, then by looks.
    """

    forget_after_s: float = 600.0
    _tracks: dict[int, _Track] = field(default_factory=dict)
    _next_id: int = 1
    _by_name: dict[str, int] = field(default_factory=dict)

    def __call__(self, frame: FrameResult, t_s: float) -> FrameResult:
        faces = frame.faces
        n = len(faces)
        for tid in [k for k, tr in self._tracks.items() if t_s - tr.last_seen > self.forget_after_s]:
            del self._tracks[tid]  # its name (if any) still maps to its id
        signatures = [appearance_signature(frame.image, b) if frame.image is not None else np.zeros(144, np.float32)
                      for b in faces.xyxy]
        keys = [_key(faces.name[i]) if faces.name is not None else None for i in range(n)]
        ids = np.zeros(n, np.int64)
        free_faces = set(range(n))
        # 1. By name: the id that name has had all session.
        for i in range(n):
            key = keys[i]
            known = self._by_name.get(key) if key is not None else None
            if known is not None and known not in ids[:i]:
                ids[i] = known
                self._revive(known, faces.xyxy[i], signatures[i], t_s, key)
                free_faces.discard(i)
        # 2. By place, then by looks, among the participants not named this frame.
        taken = {int(t) for t in ids if t}
        tracks = [tr for tr in self._tracks.values() if tr.track_id not in taken]
        free_tracks = set(range(len(tracks)))
        if tracks and free_faces:
            sims = (np.stack(signatures) @ np.stack([tr.signature for tr in tracks]).T).astype(np.float32)
            ious = box_overlap(faces.xyxy, np.array([tr.xyxy for tr in tracks], np.float32))
            # A named face never takes the place of someone with another name; a face whose name
            # is not read (yet) takes a named participant's place only if it also looks like them
            # (a page change puts other people, with labels not read yet, where the named ones were).
            named = np.array([tr.name_key is not None for tr in tracks], bool)
            other_name = np.array([[keys[i] is not None and tr.name_key is not None and keys[i] != tr.name_key
                                    for tr in tracks] for i in range(n)], bool).reshape(n, len(tracks))
            unnamed_face = np.array([k is None for k in keys], bool)
            unsure = unnamed_face[:, None] & named[None, :] & (sims < APPEARANCE_MATCH)
            # Position first (with a sanity check on looks), then looks alone for faces that moved.
            for score, ok in ((ious + 0.01 * sims, (ious >= IOU_MATCH) & (sims >= APPEARANCE_MATCH - 0.25)),
                              (sims, sims >= APPEARANCE_MATCH)):
                ok = ok & ~other_name & ~unsure
                for flat in np.argsort(-score, axis=None):
                    i, j = divmod(int(flat), len(tracks))
                    if ok[i, j] and i in free_faces and j in free_tracks:
                        ids[i] = tracks[j].track_id
                        free_faces.discard(i)
                        free_tracks.discard(j)
        for i in sorted(free_faces):
            ids[i] = self._new(faces.xyxy[i], signatures[i], t_s)
        hidden = self._hidden_by_occluders([tracks[j] for j in sorted(free_tracks)], frame.occluded_xyxy, t_s)
        for i in range(n):
            tr = self._tracks[int(ids[i])]
            tr.xyxy = faces.xyxy[i].copy()
            tr.signature = 0.8 * tr.signature + 0.2 * signatures[i]
            tr.signature /= max(float(np.linalg.norm(tr.signature)), 1e-6)
            tr.last_seen = t_s
            key = keys[i]
            if key is not None and key not in self._by_name:
                tr.name_key = key
                self._by_name[key] = tr.track_id
        off_ids, off_xyxy = self._cameras_off(frame, {int(t) for t in ids}, t_s)
        hidden = [tr for tr in hidden if tr.track_id not in off_ids]
        return dataclasses.replace(
            frame, faces=dataclasses.replace(faces, track_id=ids),
            camera_off_track_ids=np.array(off_ids, np.int64), camera_off_xyxy=off_xyxy,
            hidden_track_ids=np.array([tr.track_id for tr in hidden], np.int64),
            hidden_xyxy=np.array([tr.xyxy for tr in hidden], np.float32).reshape(-1, 4))

    def _new(self, xyxy: np.ndarray, signature: np.ndarray, t_s: float) -> int:
        tid = self._next_id
        self._next_id += 1
        self._tracks[tid] = _Track(tid, xyxy.copy(), signature, t_s)
        return tid

    def _revive(self, tid: int, xyxy: np.ndarray, signature: np.ndarray, t_s: float, key: str | None) -> None:
        """A named participant seen again: their track comes back if it was forgotten."""
        if tid not in self._tracks:
            self._tracks[tid] = _Track(tid, xyxy.copy(), signature, t_s, key)

    def _cameras_off(self, frame: FrameResult, seen: set[int], t_s: float) -> tuple[list[int], np.ndarray]:
        """Named tiles without a face: those participants are present with their camera off."""
        if not frame.tile_names:
            return [], np.zeros((0, 4), np.float32)
        with_face = {tuple(t) for t in frame.faces.tile_xyxy.tolist()}
        out_ids: list[int] = []
        boxes: list[list[float]] = []
        for tile, name in zip(frame.tiles_xyxy.tolist(), frame.tile_names, strict=True):
            key = _key(name)
            if key is None or tuple(tile) in with_face:
                continue
            tid = self._by_name.get(key)
            if tid is None:
                tid = self._new(np.array(tile, np.float32), np.zeros(144, np.float32), t_s)
                self._tracks[tid].name_key = key
                self._by_name[key] = tid
            if tid in seen or tid in out_ids:
                continue  # two tiles with one name are one person, already counted
            self._revive(tid, np.array(tile, np.float32), np.zeros(144, np.float32), t_s, key)
            self._tracks[tid].last_seen = t_s
            out_ids.append(tid)
            boxes.append([float(v) for v in tile])
        return out_ids, np.array(boxes, np.float32).reshape(-1, 4)

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


def _key(name: object) -> str | None:
    """The identity key of a display name (see ``bot.names.name_key``), None for no name."""
    if not isinstance(name, str) or not name:
        return None
    return name_key(name) or None
