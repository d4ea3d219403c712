"""Read short lines of screen text (display names) with PP-OCRv6 through ONNX Runtime.

Two shipped models (see ``models/text_reader.md``): a tiny DB text detector that finds text
lines in an image, and a small SVTR/CTC recogniser that reads one cropped line. Only numpy,
OpenCV and onnxruntime are used; no OCR package is installed (they pull ``opencv-python``,
which would overwrite the ``opencv-contrib-python`` that MediaPipe needs), and nothing is
downloaded at run time. ONNX Runtime types stay inside this module: callers pass BGR numpy
images and get boxes, strings and confidences.

Recognition contract (PP-OCR): input float32 ``(N, 3, 48, W)`` BGR, ``pixel / 127.5 - 1``;
output ``(N, T, C)`` softmax over ``C = 1 + len(dictionary) + 1`` classes (blank, the
dictionary's characters in order, space); CTC greedy decoding merges repeats and drops blanks.
Detection contract (PP-OCR DB): input float32 ``(1, 3, H, W)`` BGR, ImageNet mean/std,
H and W multiples of 32; output ``(1, 1, H, W)`` text probability.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from models.model_file import open_session
from models.ort_session import ort
from vocab.errors import ModelError

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
DEFAULT_REC_PATH = _HERE / "ppocrv6_small_rec.onnx"
DEFAULT_DICT_PATH = _HERE / "ppocrv6_small_rec_dict.txt"
DEFAULT_DET_PATH = _HERE / "ppocrv6_tiny_det.onnx"
# The shipped files (models/text_reader.md says where they come from); another file is used
# with a warning, so a user can try a newer model without editing code.
SHIPPED_SHA256 = {
    "ppocrv6_small_rec.onnx": "4ee34ad9cdb50f7ea4992c9d778bbdcb60887949d66d46ea7fc24a49d8dee709",
    "ppocrv6_small_rec_dict.txt": "769e7fa79bb297b5f18d8dbd149e364a45bc61f2b3f574e5ea836f0b261c23a6",
    "ppocrv6_tiny_det.onnx": "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8",
}
REC_HEIGHT_PX = 48
_MAX_REC_WIDTH_PX = 1600  # ~33 characters per 48 px of height; longer lines are squeezed
# A crop narrower than this is padded on the right to it (PaddleOCR pads every crop to 320): a
# name of two or three letters read alone with no padding loses about 2 points of exact reads
# (bench/names.py, layouts with short names), and longer labels are wider than this anyway.
MIN_REC_WIDTH_PX = 160
SUSPECT_CONFIDENCE = 0.5
UNREAD_INK_LINE_HEIGHTS = 0.38  # right reads of rendered names leave at most 0.32 (bench/names.py)
MIN_CJK_CHAR_PROB = 0.85
# A character's runner-up is kept when the model gave it at least this probability: on rendered
# labels a capital I read as l still gave I 0.01-0.04 (the two are the same stroke in most sans
# fonts), while a clear read gives its runner-up under 0.001.
RUNNER_UP_MIN_PROB = 0.002
EDGE_ICON_LINE_HEIGHTS = 0.6  # Zoom's muted microphone measured 0.43 on a real screenshot
_DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255.0
_DET_STD = np.array([0.229, 0.224, 0.225], np.float32) * 255.0
_DET_SCALE = (1.0 / _DET_STD).astype(np.float32)  # (pixel - mean) / std as pixel * scale + offset
_DET_OFFSET = (-_DET_MEAN / _DET_STD).astype(np.float32)


@dataclass(frozen=True)
class RankedRead:
    """One line as read: ``text``, its ``confidence`` and, per character, the ``runner_up`` with its
    probability (``runner_up_prob``; 0.0 where the runner-up is a space for "none")."""

    text: str
    confidence: float
    runner_up: str
    runner_up_prob: tuple[float, ...]


def _session(path: Path, threads: int | None, what: str) -> tuple[ort.InferenceSession, str]:
    # Quiet options (``session_options``): ONNX Runtime's shape-merge warnings on these graphs are noise.
    expected = SHIPPED_SHA256.get(path.name)
    return open_session(path, what, {expected} if expected is not None else set(), threads)


def _is_cjk(ch: str) -> bool:
    """Han ideographs, kana and Hangul (the blocks where look-alike misreads come from)."""
    o = ord(ch[0]) if ch else 0
    return 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF


def _lone_cjk(cjk: np.ndarray) -> bool:
    """A single ideograph between non-CJK characters: Chinese and Japanese names have two or
    more, while the look-alikes emitted for Hangul syllables often come alone."""
    padded = np.concatenate([[False], cjk, [False]]).astype(np.int8)
    starts, ends = np.flatnonzero(np.diff(padded) == 1), np.flatnonzero(np.diff(padded) == -1)
    return bool(((ends - starts) == 1).any())


def _unread_ink(image: np.ndarray, steps: np.ndarray, step_px: float) -> float:
    """Most ink columns between two emitted characters' stretches that none accounts for, in line heights.

    ``steps`` are the output steps that emitted a character and ``step_px`` the crop pixels
    per step; each character is taken to cover its step and one step either side (CTC peaks
    sit somewhere inside a glyph). Ink is the minority side of an Otsu split of the crop.
    """
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    _, binary = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = binary.astype(bool)
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    if border.mean() > 0.5:  # dark text on a light ground
        ink = ~ink
    columns = ink.any(axis=0)
    covered = np.zeros(w, bool)
    for step in steps:
        covered[max(0, int((step - 1) * step_px)):min(w, int(np.ceil((step + 2) * step_px)))] = True
    if not (columns & ~covered).any():
        return 0.0
    # Ink columns between two covered stretches, summed per stretch: a glyph has gaps between
    # its strokes, so counting only contiguous ink would miss unread glyphs.
    segment = np.cumsum(np.concatenate([[0], np.diff(covered.astype(np.int8)) != 0]))
    unread_per_segment = np.bincount(segment, weights=(columns & ~covered)) / max(h, 1)
    # Before the first character an app draws icons (Zoom's muted microphone, about half a
    # line height of ink): there only what exceeds EDGE_ICON_LINE_HEIGHTS counts.
    if not covered[0]:
        unread_per_segment[0] = max(0.0, unread_per_segment[0] - EDGE_ICON_LINE_HEIGHTS)
    return float(unread_per_segment.max())


def _batches(order: list[int], widths: list[int], max_batch: int, max_padding: float = 0.04) -> list[list[int]]:
    """Split crop indices sorted by model width into recognition batches.

    Every crop of a batch is padded to its widest, and padding costs the model as much as text:
    a batch ends at ``max_batch`` crops or where the next crop would make the padding more than
    ``max_padding`` of the batch's columns (fixed batches of four padded 25 name labels by 8 %).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i in order:
        padded = widths[i] * (len(current) + 1)  # crops arrive narrowest first: this one sets the width
        if current and (len(current) >= max_batch or padded > (1 + max_padding) * (used + widths[i])):
            batches.append(current)
            current, used = [], 0
        current.append(i)
        used += widths[i]
    if current:
        batches.append(current)
    return batches


def recognition_width(image: np.ndarray) -> int:
    """The width an ``(h, w, 3)`` uint8 BGR line crop is resized to at the recogniser's height (0: too small)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected (h, w, 3) uint8 BGR crops, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    return 0 if h < 2 or w < 2 else min(_MAX_REC_WIDTH_PX, math.ceil(REC_HEIGHT_PX * w / h))


def recognition_batch(images: list[np.ndarray], widths: list[int]) -> np.ndarray:
    """The recogniser's input for line crops: each resized (cubic) to ``REC_HEIGHT_PX`` high and its
    ``recognition_width``, scaled to -1..1 and padded with mid-grey (0) on the right to the widest
    of them rounded up to 8 (and to ``MIN_REC_WIDTH_PX`` at least). One function for the reader and
    for training on the reader's features, so both see the same pixels."""
    width = max(MIN_REC_WIDTH_PX, -(-max(widths) // 8) * 8)
    batch = np.zeros((len(images), 3, REC_HEIGHT_PX, width), np.float32)  # 0 = mid-grey after scaling
    for row, (image, w) in enumerate(zip(images, widths, strict=True)):
        resized = cv2.resize(image, (w, REC_HEIGHT_PX), interpolation=cv2.INTER_CUBIC)
        batch[row, :, :, :w] = resized.transpose(2, 0, 1)
        batch[row, :, :, :w] *= 1 / 127.5
        batch[row, :, :, :w] -= 1.0
    return batch


class OnnxTextReader:
    """Find and read single lines of text in BGR images.

    Args:
        rec_path: the recognition ``.onnx``; default the shipped PP-OCRv6 small recogniser.
        dict_path: its character list, one per line, in the model's output order.
        det_path: the detection ``.onnx``; default the shipped PP-OCRv6 tiny detector.
        threads: ONNX Runtime intra-op threads per model; ``None`` lets ONNX Runtime choose.
        max_batch: crops per recognition call at most. Crops are sorted by width, padded to
            the widest of their batch (and to ``MIN_REC_WIDTH_PX``), and a batch also ends where
            the next crop would pad it by more than 4 %. Small batches are fastest on a CPU: 25
            name labels took 250 ms of CPU time in batches of 2-4, 300-340 ms in batches of 8
            and 590 ms in one batch of 25, padded to its widest (one thread, 2026-11-29).

    Attributes:
        sha256: hex digests of the files loaded (``rec``, ``dict``, ``det``).

    Raises:
        ModelError: a file is missing, unreadable, not ONNX, or the dictionary does not fit
            the recogniser's output.
    """

    def __init__(self, rec_path: str | Path = DEFAULT_REC_PATH, dict_path: str | Path = DEFAULT_DICT_PATH,
                 det_path: str | Path = DEFAULT_DET_PATH, threads: int | None = None, max_batch: int = 4):
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {threads}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.max_batch = int(max_batch)
        dict_path = Path(dict_path)
        try:
            raw = dict_path.read_bytes()
        except OSError as exc:
            raise ModelError(f"text dictionary not readable: {dict_path} ({exc.strerror}); "
                             "reinstall ClassMood") from None
        self.sha256 = {"dict": hashlib.sha256(raw).hexdigest()}
        # Index 0 is the CTC blank, then the dictionary in order, then the space PP-OCR appends.
        self._chars = np.array(["", *raw.decode("utf-8").splitlines(), " "], dtype=object)
        self._rec: ort.InferenceSession | None
        self._rec, self.sha256["rec"] = _session(Path(rec_path), threads, "text recognition")
        self._det: ort.InferenceSession | None
        self._det, self.sha256["det"] = _session(Path(det_path), threads, "text detection")
        self._rec_input = self._rec.get_inputs()[0].name
        self._det_input = self._det.get_inputs()[0].name
        classes = self._rec.get_outputs()[0].shape[-1]
        if isinstance(classes, int) and classes != len(self._chars):
            raise ModelError(f"text recogniser {rec_path} has {classes} output classes but its dictionary "
                             f"{dict_path} gives {len(self._chars)} (blank + characters + space)")

    # -- recognition ----------------------------------------------------------------------

    def read_lines(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """``(text, confidence)`` of each image: ``read_lines_ranked`` without the runners-up."""
        return [(r.text, r.confidence) for r in self.read_lines_ranked(images)]

    def read_lines_ranked(self, images: list[np.ndarray]) -> list[RankedRead]:
        """The text of each image, each a crop holding one line, ``(h, w, 3)`` BGR uint8.

        Returns:
            one ``RankedRead`` per image, in order. ``confidence`` is the mean of the
            per-character probabilities (0..1; 0.0 with ``""`` when nothing was read), capped
            at ``SUSPECT_CONFIDENCE`` when the read looks like an unsupported script: ink
            ``UNREAD_INK_LINE_HEIGHTS`` line heights wide or more gave no character (the
            model has no Hangul, for example, and often emits nothing for it; before the
            first character an icon's width is allowed), or an ideograph or kana came out
            below ``MIN_CJK_CHAR_PROB`` or alone between other characters (what it emits for
            glyphs it does not know are look-alike Chinese characters). A crop with no text
            tends to give a few characters at low confidence, so callers threshold it.
            ``runner_up`` holds, per character of ``text``, the model's second choice where it
            gave it ``RUNNER_UP_MIN_PROB`` or more, else a space.
        """
        if self._rec is None:
            raise ModelError("text reader is closed")
        out = [RankedRead("", 0.0, "", ())] * len(images)
        widths = [recognition_width(img) for img in images]
        order = [int(i) for i in np.argsort(widths, kind="stable") if widths[i] > 0]
        for chunk in _batches(order, [max(w, MIN_REC_WIDTH_PX) for w in widths], self.max_batch):
            batch = recognition_batch([images[i] for i in chunk], [widths[i] for i in chunk])
            width = batch.shape[3]
            (probs,) = self._rec.run(None, {self._rec_input: batch})
            step_px = width / probs.shape[1]  # model pixels per output step
            for row, i in enumerate(chunk):
                out[i] = self._decode(probs[row], images[i], widths[i], step_px)
        return out

    def _decode(self, probs: np.ndarray, image: np.ndarray, width_px: int, step_px: float) -> RankedRead:
        """CTC greedy decoding of ``(T, C)`` probabilities, with the checks ``read_lines`` describes."""
        best = probs.argmax(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        if not keep.any():
            return RankedRead("", 0.0, "", ())
        steps = np.flatnonzero(keep)
        chars = self._chars[best[keep]]
        char_probs = probs[steps, best[keep]]
        others = probs[steps].copy()
        others[np.arange(len(steps)), best[keep]] = -1.0
        others[:, 0] = -1.0  # the blank is no character
        second = others.argmax(axis=1)
        second_prob = others[np.arange(len(steps)), second]
        sure = second_prob >= RUNNER_UP_MIN_PROB
        runner_up = "".join(c if ok else " " for c, ok in zip(self._chars[second], sure, strict=True))
        runner_up_prob = tuple(float(p) if ok else 0.0 for p, ok in zip(second_prob, sure, strict=True))
        text = "".join(chars)
        confidence = float(char_probs.mean())
        cjk = np.array([_is_cjk(c) for c in chars])
        if cjk.any() and (float(char_probs[cjk].min()) < MIN_CJK_CHAR_PROB or _lone_cjk(cjk)):
            confidence = min(confidence, SUSPECT_CONFIDENCE)
        if _unread_ink(image, steps, step_px * image.shape[1] / width_px) >= UNREAD_INK_LINE_HEIGHTS:
            confidence = min(confidence, SUSPECT_CONFIDENCE)
        return RankedRead(text, confidence, runner_up, runner_up_prob)

    # -- detection ------------------------------------------------------------------------

    def find_lines(self, image_bgr: np.ndarray, *, threshold: float = 0.25, min_score: float = 0.5,
                   unclip: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
        """Text lines in ``image_bgr`` ``(h, w, 3)`` uint8, as axis-aligned boxes.

        Args:
            threshold: text probability above which a pixel is text (DB's binarisation).
            min_score: a line whose mean probability is lower is dropped.
            unclip: how far each found region is grown (DB predicts a shrunken text core; 1.5
                gives back the full line with a little margin).

        Returns:
            ``xyxy`` ``(n, 4)`` float32 in image pixels and ``score`` ``(n,)`` float32, top to bottom.
        """
        if self._det is None:
            raise ModelError("text reader is closed")
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
            raise ValueError(f"expected (h, w, 3) uint8 BGR, got {image_bgr.shape} {image_bgr.dtype}")
        h, w = image_bgr.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        # Written channel by channel straight into the model's NCHW layout, the padding left at 0
        # (a quarter of the time of normalising an HWC copy and transposing it).
        x = np.zeros((1, 3, ph, pw), np.float32)
        for c in range(3):
            np.multiply(image_bgr[:, :, c], _DET_SCALE[c], out=x[0, c, :h, :w], casting="unsafe")
            x[0, c, :h, :w] += _DET_OFFSET[c]
        (prob,) = self._det.run(None, {self._det_input: x})
        prob_map = prob[0, 0, :h, :w]
        mask = (prob_map > threshold).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        boxes, scores = [], []
        for k in range(1, count):
            x0, y0, bw, bh, area = (int(v) for v in stats[k])
            if bh < 2 or bw < 2:
                continue
            score = float(prob_map[y0:y0 + bh, x0:x0 + bw][mask[y0:y0 + bh, x0:x0 + bw] > 0].mean())
            if score < min_score:
                continue
            grow = area * unclip / (2 * (bw + bh))  # DB's unclip distance for a rectangle
            boxes.append((max(0.0, x0 - grow), max(0.0, y0 - grow), min(float(w), x0 + bw + grow),
                          min(float(h), y0 + bh + grow)))
            scores.append(score)
        if not boxes:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        xyxy = np.array(boxes, np.float32)
        order = np.lexsort((xyxy[:, 0], xyxy[:, 1]))
        return xyxy[order], np.array(scores, np.float32)[order]

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Release both ONNX Runtime sessions; safe to call twice."""
        self._rec = None
        self._det = None

    def __enter__(self) -> OnnxTextReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
