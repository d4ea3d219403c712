"""The classification stage: crop every face, preprocess once, one batched model call.

A participant's expression is re-read when their face changed, not on every frame: each face's
48x48 grey crop is kept with its probabilities, and while no 8x8-pixel cell of the crop has
moved by ``change_max_diff`` grey levels the kept probabilities are reused, for at most
``reclassify_after_s`` (the smoothing's time constant: the smoother cannot use fresher
readings of an unchanged face). A smile, a frown, a turn of the head or a new person in the
tile changes cells by tens of levels and is classified on that frame; camera noise moves them
by one or two. A reading less than ``hold_min_confidence`` sure is kept for ``unsure_keep_s``
only (every other frame at 1 fps): such a face is near a class boundary, where the smoothing
needs fresh readings, unless it repeats the last reading of the same unchanged crop (noise does
not move it across the boundary). A reading at least ``SURE_MIN_CONFIDENCE`` sure is kept for
``SURE_KEEP_S``: only a change of the face can change it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from bot.tracking import is_held
from bot.window_memory import cells_changed
from models.preprocessing import face_gray_48, face_tensor
from vocab.labels import EMOTIONS, is_readable
from vocab.protocols import EmotionClassifier
from vocab.types import FrameResult

# BlazeFace boxes run from brows to chin; FER2013 faces include forehead and jaw line and sit
# higher in their frame. A square 1.25 box sides around the box centre put the eyes of real
# people 4-5 px (of 48) higher than FER2013 has them (landmarks on composed galleries of the
# shared photos) and, on the end-to-end proxy (training.alignment: FER2013 faces in simulated
# tiles), was 1.05x FER2013's framing with its centre 0.07 crop sides low. This square, 1.187 box
# sides around a point 0.11 box sides above the box centre: PublicTest proxy, shipped model,
# 62.1 -> 63.8 % right and ECE 4.9 -> 3.0 % (a raise of 0.083, where the proxy puts FER2013's
# framing, 64.0 %; 0.135, 63.6 %); real people's eyes 0.4-1.2 px from FER2013's height where
# 0.083 left them 1.4-2.2 px high. See docs/emotion-model.md.
CROP_SCALE = 1.187
CROP_RAISE = 0.11
FACE_CELL_PX = 8  # of the 48x48 crop: 6x6 cells (of 7 px in the 42x42 middle face_changed aligns)
FACE_CHANGE_MAX_DIFF = 6.0
# A face box that follows a moving face (bot.detect tracks it by its picture, or the detector
# finds it again) lands within a few pixels of the same part of the face: the change test looks
# for the crop's middle within this many pixels of where it was before comparing its cells.
FACE_SHIFT_PX = 3
RECLASSIFY_AFTER_S = 3.0
# A reading less sure than this is kept for UNSURE_KEEP_S only, not RECLASSIFY_AFTER_S: a face on
# a class boundary flips between labels with a pixel of box jitter, and the smoothing needs
# fresh readings to settle it (on a composed 7x7 class, label agreement with the full-cost path:
# unsure readings kept like the others 91.6 %, for 14 faces read a frame; never kept 94.0 %, 22.5
# faces; kept 1.5 s 93.0 %, 16.5 faces, 6 ms less CPU a frame; 100 % of the faces read >= 60 %
# sure in the last two; the full-cost path agrees with itself on another noise draw 95.6 %).
HOLD_MIN_CONFIDENCE = 0.6
UNSURE_KEEP_S = 1.5
# A reading at least SURE_MIN_CONFIDENCE sure is kept SURE_KEEP_S (x0.75..1.25) while the face
# does not change: re-reading an unchanged crop gives the same answer up to camera noise, and a
# change of expression re-reads it on that frame whatever the age of the reading. 47 faces of a
# still composed 7x7 class (22 of them read under 60 % sure): 17.9 model inputs a frame with every
# reading kept 3 s, 14.9 with sure ones kept 10 s, 10.5 with steady unsure ones kept 3 s too
# (issue 13; label agreement with the full-cost path unchanged, see docs/performance.md).
SURE_MIN_CONFIDENCE = 0.8
SURE_KEEP_S = 10.0
# An unsure reading is not read again soon when it repeats the last reading of the same unchanged
# crop (same label, no probability more than STEADY_MAX_DIFF apart): camera noise does not move
# that face across the boundary, so fresh readings would only repeat it.
STEADY_MAX_DIFF = 0.1
# Faces per model call. The model's activations grow with the batch and the heap keeps the
# largest it has seen: 32 faces in one call needed 17.6 MB, in calls of 8 8.7 MB, for the same
# CPU a face (0.92 vs 0.86 ms, int8 on one thread; measured here).
MODEL_BATCH = 8


def crop_square(xyxy: np.ndarray, scale: float = CROP_SCALE, raise_: float = CROP_RAISE) -> tuple[float, float, float]:
    """``(cx, cy, half)``: the square the face crop of the box ``xyxy`` takes, ``scale`` times the
    box's longer side, centred ``raise_`` of that side above the box centre."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    side = max(x2 - x1, y2 - y1)
    return (x1 + x2) / 2, (y1 + y2) / 2 - raise_ * side, side * scale / 2


def face_crops(image: np.ndarray, xyxy: np.ndarray, scale: float = CROP_SCALE,
               raise_: float = CROP_RAISE) -> list[np.ndarray]:
    """The expression model's square crop of each box (``crop_square``).

    Crops are clipped to the image; a box entirely outside gives a 1x1 black crop (the model
    then answers something uncertain instead of the pipeline failing).
    """
    h, w = image.shape[:2]
    crops = []
    for box in xyxy:
        cx, cy, half = crop_square(box, scale, raise_)
        a, b = int(max(0, round(cx - half))), int(max(0, round(cy - half)))
        c, d = int(min(w, round(cx + half))), int(min(h, round(cy + half)))
        crops.append(image[b:d, a:c] if c > a and d > b else np.zeros((1, 1, 3), np.uint8))
    return crops


def face_changed(before: np.ndarray, now: np.ndarray, max_diff: float = FACE_CHANGE_MAX_DIFF,
                 shift_px: int = FACE_SHIFT_PX) -> bool:
    """Whether the face in the ``(48, 48)`` uint8 crop ``now`` changed since ``before`` (see ``face_offset``)."""
    return face_offset(before, now, max_diff, shift_px) is None


def face_offset(before: np.ndarray, now: np.ndarray, max_diff: float = FACE_CHANGE_MAX_DIFF,
                shift_px: int = FACE_SHIFT_PX) -> tuple[int, int] | None:
    """How far (crop pixels, x and y) the face in the ``(48, 48)`` uint8 crop ``now`` moved in its
    crop since ``before``, or None where it changed. Unchanged: no 8x8 cell's mean grey moved by
    ``max_diff`` or more, the crops compared as they are (offset 0, 0), or else with the middle of
    ``now`` (``shift_px`` in from each side, both crops softened by a 1 px blur) placed where it
    fits ``before`` best (least squared difference). A person swaying moves their face in its
    crop by a pixel or two, which moved the cells of the unaligned test by 10-30 levels on every
    frame (each face read again); an expression, a turn or another person changes cells wherever
    the crops are placed. ``shift_px=0`` is the unaligned test alone."""
    if before.shape != now.shape:
        return None
    n = now.shape[0] // FACE_CELL_PX

    def cells(gray: np.ndarray) -> np.ndarray:
        return cv2.resize(gray, (n, n), interpolation=cv2.INTER_AREA).astype(np.float32)

    if not cells_changed(cells(before), cells(now), max_diff):
        return 0, 0
    m = shift_px
    if m <= 0 or min(now.shape) <= 2 * m:
        return None
    # Softened: a shift of a fraction of a crop pixel moves sharp edges' cells by 5-9 levels.
    before, now = cv2.GaussianBlur(before, (0, 0), 1.0), cv2.GaussianBlur(now, (0, 0), 1.0)
    middle = now[m:now.shape[0] - m, m:now.shape[1] - m]
    _, _, (bx, by), _ = cv2.minMaxLoc(cv2.matchTemplate(before, middle, cv2.TM_SQDIFF))
    placed = before[by:by + middle.shape[0], bx:bx + middle.shape[1]]
    return None if cells_changed(cells(placed), cells(middle), max_diff) else (m - int(bx), m - int(by))


def crop_to_screen(xyxy: np.ndarray) -> tuple[float, float, float]:
    """``(x0, y0, px)``: where the 48x48 crop of the box ``xyxy`` starts on the screen and how
    many screen pixels one of its pixels spans (``face_crops``' square, before clipping)."""
    cx, cy, half = crop_square(xyxy)
    return cx - half, cy - half, 2 * half / 48


@dataclass
class _Kept:
    gray: np.ndarray  # (48, 48) uint8, the crop read
    t_s: float
    due_s: float
    probs: np.ndarray  # (7,) float32


class EmotionStage:
    """Writes ``faces.emotion_probs``: one batched model call over the faces that can be read
    and changed (see the module notes).

    A face the attention stage found unreadable (looking down or away, eyes closed, lower face
    covered) is not classified: its row is NaN, so no expression is guessed from it. Nor is a
    face the tracker holds after a missed detection (``bot.tracking.is_held``).

    Args:
        classifier: the model; not closed here.
        reclassify_after_s: an unchanged face is re-read after this long (x0.75..1.25 per
            participant, so refreshes spread over frames); 0 classifies every face on every
            frame (the full-cost path). Needs ``faces.track_id`` to keep anything.
        change_max_diff: grey levels a cell of the 48x48 crop must move to count as changed (see
            ``face_changed``).
        hold_min_confidence: a reading whose top probability is under this is kept for
            ``unsure_keep_s`` (``UNSURE_KEEP_S``; an attribute, 0 = never kept) at most.

    A reading at least ``SURE_MIN_CONFIDENCE`` sure is kept up to ``sure_keep_s`` (an
    attribute, ``SURE_KEEP_S``; never less than ``reclassify_after_s``) while the face is unchanged.

    ``faces_classified`` and ``faces_kept`` count model inputs run and saved.
    """

    def __init__(self, classifier: EmotionClassifier, reclassify_after_s: float = RECLASSIFY_AFTER_S,
                 change_max_diff: float = FACE_CHANGE_MAX_DIFF,
                 hold_min_confidence: float = HOLD_MIN_CONFIDENCE) -> None:
        if reclassify_after_s < 0 or change_max_diff <= 0 or not 0 <= hold_min_confidence <= 1:
            raise ValueError("reclassify_after_s must be >= 0, change_max_diff > 0 and hold_min_confidence in 0..1")
        self._classifier = classifier
        self.reclassify_after_s = reclassify_after_s
        self.change_max_diff = change_max_diff
        self.hold_min_confidence = hold_min_confidence
        self.unsure_keep_s = UNSURE_KEEP_S
        self.sure_keep_s = max(SURE_KEEP_S, reclassify_after_s)
        self._kept: dict[int, _Kept] = {}
        self.faces_classified = 0
        self.faces_kept = 0

    def fresh(self) -> EmotionStage:
        """The same model and settings with no kept readings (for an unrelated image or stream)."""
        return EmotionStage(self._classifier, self.reclassify_after_s, self.change_max_diff, self.hold_min_confidence)

    def __call__(self, frame: FrameResult) -> FrameResult:
        faces = frame.faces
        probs = np.full((len(faces), len(EMOTIONS)), np.nan, np.float32)
        readable = np.ones(len(faces), bool) if faces.attention is None else \
            np.array([is_readable(int(a)) for a in faces.attention], bool)
        readable &= ~is_held(faces)  # a face the tracker holds after a missed detection: its crop is stale
        keep = self.reclassify_after_s > 0 and faces.track_id is not None
        kept: dict[int, _Kept] = {}
        if frame.image is not None and readable.any():
            rows = np.flatnonzero(readable)
            grays = [face_gray_48(c) for c in face_crops(frame.image, faces.xyxy[rows])]
            run: list[int] = []  # positions in rows
            before: dict[int, np.ndarray] = {}  # due faces' last readings, crop unchanged since
            t = frame.t_mono
            for j, i in enumerate(rows):
                if not keep:
                    run.append(j)
                    continue
                tid = int(faces.track_id[i])  # type: ignore[index]
                old = self._kept.get(tid)
                if old is not None and old.t_s <= t and not face_changed(old.gray, grays[j], self.change_max_diff):
                    if t < old.due_s:
                        probs[i], kept[tid] = old.probs, old
                        self.faces_kept += 1
                        continue
                    before[tid] = old.probs  # due, unchanged: is the new reading the same?
                run.append(j)
                spread = 0.75 + 0.5 * ((tid * 0.6180339887) % 1.0)
                kept[tid] = _Kept(grays[j], t, t + self.reclassify_after_s * spread,
                                  np.full(len(EMOTIONS), np.nan, np.float32))  # filled in below
            if run:
                # Each face's width on screen: a small face is read less surely (the model file's
                # small-face rule; see models.emotion_classifier).
                widths = faces.xyxy[rows[run], 2] - faces.xyxy[rows[run], 0]
                out = np.concatenate([  # in batches: see MODEL_BATCH
                    self._classifier.predict(face_tensor([grays[j] for j in run[s:s + MODEL_BATCH]]),
                                             widths[s:s + MODEL_BATCH])
                    for s in range(0, len(run), MODEL_BATCH)]).astype(np.float32)
                probs[rows[run]] = out
                self.faces_classified += len(run)
                if keep:
                    for j, p in zip(run, out, strict=True):
                        tid = int(faces.track_id[rows[j]])  # type: ignore[index]
                        new = kept[tid]
                        new.probs = p
                        sure = float(p.max())
                        last = before.get(tid)
                        steady = last is not None and int(np.argmax(last)) == int(np.argmax(p)) \
                            and float(np.abs(last - p).max()) < STEADY_MAX_DIFF
                        if sure < self.hold_min_confidence and not steady:  # unsure: read again soon
                            new.due_s = min(new.due_s, t + self.unsure_keep_s)
                        elif sure >= SURE_MIN_CONFIDENCE:  # sure: read again when it changes
                            new.due_s = t + (new.due_s - t) * self.sure_keep_s / self.reclassify_after_s
        if keep:
            # Only the faces of this frame are kept: memory stays flat, and a face that was not
            # seen (or not readable) for a frame is read afresh when it is back.
            self._kept = kept
        return dataclasses.replace(frame, faces=dataclasses.replace(faces, emotion_probs=probs))
