"""Participants: stable ids across frames that survive joins, leaves and gallery reflows.

A face is matched to a known participant first by where it is (box overlap with the last
position), then, for faces that moved (the gallery reflowed, someone pinned a speaker), by how
it looks: a small colour signature of the face and its surroundings (hair, clothes, room).
Matching is one-to-one and greedy, best pair first; ≤49 faces make anything fancier moot.

A participant whose face the detector misses on a frame (motion blur, a hand, a turn of the
head) is still there: for ``hold_s`` seconds of the frames' own clock after their face was last
found, while their tile is still where it was, nobody else's face is at their place, it
still looks like them and its pixels still move (live video, not a still picture the face
finder has just recognised as one), they are kept as a *held* row of ``faces`` at their last box (``score``
0: no detection this frame).
Held rows count as present (the class mood, the database, the overlay) but are not classified
or read for attention (``is_held``): a stale crop is not a new expression. After ``hold_s`` the
participant is absent; their id still comes back if they do within ``forget_after_s``.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field

import cv2
import numpy as np

from bot.names import name_key
from vocab.geometry import Overlap, box_overlap
from vocab.labels import EMOTIONS, NOT_READ, UNREADABLE
from vocab.types import Faces, FrameResult

IOU_MATCH = 0.3
APPEARANCE_MATCH = 0.75  # cosine similarity of signatures
SIGNATURE_LEN = 16 * 8 + 16  # see appearance_signature: a hue x saturation and a value histogram
HIDDEN_COVER = 0.5  # share of a face box under the overlay that makes a missing face "hidden"
# A face where a participant was is them only if it also looks somewhat like them. Measured on
# bench.identity's simulated classes (82 tiles, fresh camera noise): the same person at the same
# place 0.992 or more; another person put there by a reflow 0.45 median, 0.64 at the 95th
# percentile, 0.75 at most; a hand over the face 0.93-0.96 (see HOLD_MIN_SIMILARITY). At 0.5,
# 35 % of the other people took the id of whoever sat there before (whose name was not read).
PLACE_MIN_SIMILARITY = 0.65
# Two reads of one label that differ by a letter or two ("Will Turner", then "Will Turmer" after a
# reflow) are one person when the face also looks the same (the same person 0.99 or more, another
# person at most 0.75 on the bench above); names further apart never are.
MISREAD_MIN_SIMILARITY = 0.95
MISREAD_MIN_RATIO = 0.8
# How long a face the detector missed stays present at its last box (seconds of media/capture
# time, not frames: 3 frames at the default 1 fps, 30 at 10 fps). Blur, a hand across the face or
# a head turn hides a face for well under that; it equals the smoothing's time constant (the
# expression shown is at most that old anyway), and it is short next to the "no faces" alert
# (10 s) and a real departure, which shows within 3 s.
HOLD_S = 3.0
HELD_SCORE = 0.0  # ``faces.score`` of a held row: no detection this frame
SAME_TILE_IOU = 0.9  # a held face's tile must still be there (a reflow moves it; the hold ends)
# Its place must still look like them (see _held). Measured on the 7x7 bench class: the same place
# with the face blurred (sigma 6) scores 0.97-0.99 against the sharp face, a skin-coloured hand
# over the lower two thirds 0.93-0.96; the camera-off tile that replaces a face 0.20-0.43.
HOLD_MIN_SIMILARITY = APPEARANCE_MATCH
# ...and it must be live video: the face box has changed (mean absolute difference, grey levels)
# since the face was last found. Camera noise alone changes it by 2 or more, a blur or a hand far
# more; a still picture the face finder has just recognised as one not at all (it uses the same
# bound, ``still_max_diff``).
HOLD_MIN_CHANGE = 0.6
# A kept face box whose 4x4 colour thumbnail moved less than this (mean absolute difference, grey
# levels) is the same face as on the last frame: camera noise moves it by well under 1, another
# face in the same place by tens.
SAME_THUMB_DIFF = 4.0


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
        return np.zeros(SIGNATURE_LEN, np.float32)
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
    face_seen: float | None = None  # when a detected face was last matched to it (None: never)
    tile_xyxy: np.ndarray | None = None  # the frame tile its face was last in (None: outside the grid)
    pixels: np.ndarray | None = None  # its face box on the last frame it was found (see _box_pixels)


def is_held(faces: Faces) -> np.ndarray:
    """``(n,)`` bool: rows the tracker kept for a participant whose face was not detected this
    frame (see the module notes). Their crops are stale: nothing is read from them."""
    return np.asarray(faces.score) <= HELD_SCORE


@dataclass
class ParticipantTracker:
    """Writes ``faces.track_id``, ``camera_off_track_ids``/``camera_off_xyxy`` and ``hidden_track_ids``/``hidden_xyxy``.

    Ids start at 1 and are never reused within a session. A readable display name is the
    strongest cue: a face (or a camera-off tile) showing a name seen before gets that name's id
    wherever it is (reflow, page change, leaving and rejoining, however long after); a face whose
    name differs from the one last seen at its place is someone else. Two tiles with one name
    are one person (a speaker view shows the speaker twice, large and in the strip; two
    camera-off tiles cannot be told apart), unless they show two faces that look different (two
    "Ana"s, two "iPhone"s): that name is shared from then on, says only who someone is not, and
    its holders are told apart by place and looks (one with the camera off by their tile).
    Faces without a readable name are matched by place, then by looks.
    A participant whose face is missed is held at their last box for ``hold_s`` (module notes).
    """

    forget_after_s: float = 600.0
    hold_s: float = HOLD_S
    _tracks: dict[int, _Track] = field(default_factory=dict)
    _next_id: int = 1
    _by_name: dict[str, int] = field(default_factory=dict)
    # Names seen on two different-looking faces of one frame: several people use them (class notes).
    _shared_names: set[str] = field(default_factory=set)
    # Last frame's signatures by exact face box, with a 4x4 colour thumbnail of the box: the live
    # face finder keeps a tile's boxes as they were while its pixels do not change, so a box seen
    # again that still looks the same is the same face, and its signature (a resize, a colour
    # conversion and two histograms: ~0.2 ms a face) is not redone.
    _last_signatures: dict[bytes, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def _signatures(self, frame: FrameResult) -> list[np.ndarray]:
        """The appearance signature of each face of ``frame``, reusing last frame's for kept boxes."""
        if frame.image is None:
            return [np.zeros(SIGNATURE_LEN, np.float32) for _ in range(len(frame.faces))]
        seen: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        out = []
        for box in frame.faces.xyxy:
            key = np.ascontiguousarray(box, np.float32).tobytes()
            thumb = _thumbnail(frame.image, box)
            last = self._last_signatures.get(key)
            same = last is not None and float(np.abs(last[1] - thumb).mean()) < SAME_THUMB_DIFF
            sig = last[0] if same and last is not None else appearance_signature(frame.image, box)
            seen[key] = (sig, thumb)
            out.append(sig)
        self._last_signatures = seen
        return out

    def __call__(self, frame: FrameResult, t_s: float) -> FrameResult:
        faces = frame.faces
        n = len(faces)
        for tid in [k for k, tr in self._tracks.items() if t_s - tr.last_seen > self.forget_after_s]:
            del self._tracks[tid]  # its name (if any) still maps to its id
        signatures = self._signatures(frame)
        keys = [_key(faces.name[i]) if faces.name is not None else None for i in range(n)]
        if frame.image is not None:  # (without one the signatures are blank: nothing to tell apart)
            self._shared_names |= _shared_names(keys, signatures)
        ids = np.zeros(n, np.int64)
        free_faces = set(range(n))
        # 1. By name: the id that name has had all session (a shared name is no identity).
        for i in range(n):
            key = keys[i]
            known = self._by_name.get(key) if key is not None and key not in self._shared_names else None
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
            other_name = _other_names(keys, [tr.name_key for tr in tracks], sims)
            unnamed_face = np.array([k is None for k in keys], bool)
            unsure = unnamed_face[:, None] & named[None, :] & (sims < APPEARANCE_MATCH)
            # Position first (with a sanity check on looks), then looks alone for faces that moved.
            for score, ok in ((ious + 0.01 * sims, (ious >= IOU_MATCH) & (sims >= PLACE_MIN_SIMILARITY)),
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
            if key is not None and (key not in self._by_name or key in self._shared_names):
                tr.name_key = key
                self._by_name.setdefault(key, tr.track_id)
        tile_rows = {tuple(t) for t in frame.tiles_xyxy.tolist()}
        for i in range(n):
            tr = self._tracks[int(ids[i])]
            tr.face_seen = t_s
            tr.tile_xyxy = faces.tile_xyxy[i].copy() if tuple(faces.tile_xyxy[i].tolist()) in tile_rows else None
            tr.pixels = _box_pixels(frame.image, tr.xyxy)
        hidden_ids = {tr.track_id for tr in hidden}
        held = self._held([tracks[j] for j in sorted(free_tracks) if tracks[j].track_id not in hidden_ids],
                          frame, t_s)
        faces = _with_held_rows(dataclasses.replace(faces, track_id=ids), held)
        off_ids, off_xyxy = self._cameras_off(dataclasses.replace(frame, faces=faces),
                                              {int(t) for t in faces.track_id}, t_s)  # type: ignore[union-attr]
        hidden = [tr for tr in hidden if tr.track_id not in off_ids]
        return dataclasses.replace(
            frame, faces=faces,
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
            if key in self._shared_names:
                tid = self._holder_at(key, np.array(tile, np.float32), seen | set(out_ids))
            else:
                tid = self._by_name.get(key)
            if tid is None:
                tid = self._new(np.array(tile, np.float32), np.zeros(SIGNATURE_LEN, np.float32), t_s)
                self._tracks[tid].name_key = key
                self._by_name.setdefault(key, tid)
            if tid in seen or tid in out_ids:
                continue  # the one holder of this name, already counted (a face or a tile)
            self._revive(tid, np.array(tile, np.float32), np.zeros(SIGNATURE_LEN, np.float32), t_s, key)
            self._tracks[tid].last_seen = t_s
            out_ids.append(tid)
            boxes.append([float(v) for v in tile])
        return out_ids, np.array(boxes, np.float32).reshape(-1, 4)

    def _holder_at(self, key: str, tile: np.ndarray, taken: set[int]) -> int | None:
        """The participant with the shared name ``key``, not ``taken`` this frame, whose last place
        was this camera-off ``tile`` (its tile or its box overlapping it most, IoU ``IOU_MATCH`` or
        more); None: a new one."""
        best, best_iou = None, IOU_MATCH
        for tr in self._tracks.values():
            if tr.name_key != key or tr.track_id in taken:
                continue
            place = tr.tile_xyxy if tr.tile_xyxy is not None else tr.xyxy
            iou = float(box_overlap(tile[None], np.asarray(place, np.float32)[None])[0, 0])
            if iou >= best_iou:
                best, best_iou = tr.track_id, iou
        return best

    def _held(self, unmatched: list[_Track], frame: FrameResult, t_s: float) -> list[_Track]:
        """Participants whose face was found within ``hold_s`` but not this frame, still in place.

        In place: no face found this frame overlaps their last box (else someone else is there
        now); the tile their face was in is still a tile of this frame (a reflow after a
        departure moves the tiles; a black or blank frame has none); and the place still looks
        much as it did (the colour signature of the face and its surroundings, see
        ``appearance_signature``, at least ``HOLD_MIN_SIMILARITY``): a hand, a blur or a turn
        changes the face, not the hair, clothes and room around it.
        """
        out = []
        found = frame.faces.xyxy
        tiles = frame.tiles_xyxy
        for tr in unmatched:
            if tr.face_seen is None or not 0 < t_s - tr.face_seen <= self.hold_s:
                continue
            if len(found) and float(box_overlap(tr.xyxy[None], found, Overlap.IOS).max()) > 0.3:
                continue
            if tr.tile_xyxy is not None and (not len(tiles) or float(box_overlap(
                    tr.tile_xyxy[None].astype(np.float32), tiles.astype(np.float32)).max()) < SAME_TILE_IOU):
                continue
            if frame.image is not None and float(appearance_signature(frame.image, tr.xyxy) @ tr.signature) \
                    < HOLD_MIN_SIMILARITY:
                continue
            now = _box_pixels(frame.image, tr.xyxy)
            if now is None or tr.pixels is None or now.shape != tr.pixels.shape or \
                    float(cv2.absdiff(now, tr.pixels).mean()) < HOLD_MIN_CHANGE:
                continue  # a still picture (or no image to tell): nobody live is there
            out.append(tr)
        return out

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


def _thumbnail(image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """The face box shrunk to 4x4 colour pixels (float32), ~10 microseconds."""
    h, w = image.shape[:2]
    x0, y0 = min(max(0, int(xyxy[0])), w - 1), min(max(0, int(xyxy[1])), h - 1)
    x1, y1 = max(min(w, int(xyxy[2])), x0 + 1), max(min(h, int(xyxy[3])), y0 + 1)
    return cv2.resize(image[y0:y1, x0:x1], (4, 4), interpolation=cv2.INTER_AREA).astype(np.float32)


def _box_pixels(image: np.ndarray | None, xyxy: np.ndarray) -> np.ndarray | None:
    """Every second pixel of the green channel in ``xyxy``: enough to tell live video (camera
    noise, movement) from a still picture, for a few microseconds a face."""
    if image is None:
        return None
    h, w = image.shape[:2]
    x0, y0 = max(0, int(xyxy[0])), max(0, int(xyxy[1]))
    x1, y1 = min(w, int(xyxy[2])), min(h, int(xyxy[3]))
    return image[y0:y1:2, x0:x1:2, 1].copy() if x1 > x0 and y1 > y0 else None


def _with_held_rows(faces: Faces, held: list[_Track]) -> Faces:
    """``faces`` with one row per held participant appended: last box, score ``HELD_SCORE``,
    the tile it was in (or a box twice its size), and nothing read (no name, no expression)."""
    if not held:
        return faces
    k = len(held)
    xyxy = np.array([tr.xyxy for tr in held], np.float32).reshape(k, 4)
    centre, half = (xyxy[:, :2] + xyxy[:, 2:]) / 2, xyxy[:, 2:] - xyxy[:, :2]
    tile = np.array([tr.tile_xyxy if tr.tile_xyxy is not None else np.concatenate([c - h, c + h])
                     for tr, c, h in zip(held, centre, half, strict=True)]).round().astype(np.int32).reshape(k, 4)
    fills: dict[str, np.ndarray] = {
        "xyxy": xyxy, "score": np.full(k, HELD_SCORE, np.float32), "tile_xyxy": tile,
        "track_id": np.array([tr.track_id for tr in held], np.int64),
        "emotion_probs": np.full((k, len(EMOTIONS)), np.nan, np.float32),
        "smoothed_probs": np.full((k, len(EMOTIONS)), np.nan, np.float32),
        "label": np.full(k, UNREADABLE, np.int64), "attention": np.full(k, NOT_READ, np.int8),
        "head_pose_deg": np.full((k, 3), np.nan, np.float32), "eyes_closed": np.full(k, -1, np.int8),
        "name": np.array([None] * k, dtype=object)}
    changes = {}
    for f in dataclasses.fields(Faces):
        now = getattr(faces, f.name)
        if now is not None:
            changes[f.name] = np.concatenate([now, fills[f.name].astype(now.dtype)])
    return dataclasses.replace(faces, **changes)


def _other_names(face_keys: list[str | None], track_keys: list[str | None], sims: np.ndarray) -> np.ndarray:
    """``(faces, tracks)`` bool: the face was read with another name than the participant's.

    A name that differs by no more than a misread letter or two, on a face that looks the same
    (``MISREAD_MIN_SIMILARITY``), is not another name.
    """
    out = np.zeros((len(face_keys), len(track_keys)), bool)
    for i, a in enumerate(face_keys):
        for j, b in enumerate(track_keys):
            if a is None or b is None or a == b:
                continue
            misread = sims[i, j] >= MISREAD_MIN_SIMILARITY and \
                difflib.SequenceMatcher(None, a, b).ratio() >= MISREAD_MIN_RATIO
            out[i, j] = not misread
    return out


def _shared_names(face_keys: list[str | None], signatures: list[np.ndarray]) -> set[str]:
    """Names on two or more faces of one frame that do not look alike (``APPEARANCE_MATCH``): two
    people who chose the same name. The same face twice (a speaker and their strip tile) is one."""
    faces_of: dict[str, list[int]] = {}
    for i, key in enumerate(face_keys):
        if key is not None:
            faces_of.setdefault(key, []).append(i)
    out = set()
    for key, rows in faces_of.items():
        if len(rows) > 1:
            sig = np.stack([signatures[i] for i in rows])
            if float((sig @ sig.T).min()) < APPEARANCE_MATCH:
                out.add(key)
    return out


def _key(name: object) -> str | None:
    """The identity key of a display name (see ``bot.names.name_key``), None for no name."""
    if not isinstance(name, str) or not name:
        return None
    return name_key(name) or None
