"""BlazeFace through MediaPipe Tasks, behind the ``FaceDetector`` protocol.

MediaPipe types stay inside this module: callers pass a BGR numpy image and get numpy boxes.
Two models ship. BlazeFace short range (the default) sees a 128x128 letterboxed copy of its
input and finds faces from ~12 % of its side on clean crops, ~17 % on degraded webcam tiles, at
~1.2 ms a call on one core: right for gallery tiles. BlazeFace full range (sparse) sees 192x192
and finds faces from ~6 % of the side on clean crops, ~10 % on degraded tiles, at ~2.7 ms a
call: right for scanning a screen whose layout is unknown. ``bot.detect.FaceFinder`` feeds each
model windows sized so faces land in its range.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from models.model_file import read_model
from vocab.errors import ModelError, one_line

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
FULL_RANGE_MODEL_PATH = _HERE / "face_detection_full_range_sparse.tflite"
SHORT_RANGE_MODEL_PATH = _HERE / "face_detection_short_range.tflite"
DEFAULT_MODEL_PATH = SHORT_RANGE_MODEL_PATH
# Both as shipped in the mediapipe 0.10.21 wheel (Apache-2.0); see the model cards.
FULL_RANGE_MODEL_SHA256 = "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"
SHORT_RANGE_MODEL_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
SHIPPED_MODEL_SHA256 = SHORT_RANGE_MODEL_SHA256  # the default model's
_SHIPPED = {FULL_RANGE_MODEL_SHA256, SHORT_RANGE_MODEL_SHA256}


class MediaPipeFaceDetector:
    """Find faces in one BGR image with MediaPipe's BlazeFace.

    Args:
        model_path: a BlazeFace ``.tflite``; default the shipped short-range model
            (``FULL_RANGE_MODEL_PATH`` is the other shipped one). Another file is used if
            MediaPipe accepts it, with a warning that its checksum is not a shipped one's.
        min_score: detections below this confidence are dropped (0..1). Lower finds more
            small or turned faces and more false faces.

    Raises:
        ModelError: the model file is missing or MediaPipe cannot load it.

    Use as a context manager or call ``close()``: MediaPipe's graph must be closed explicitly.
    """

    def __init__(self, model_path: str | Path = DEFAULT_MODEL_PATH, min_score: float = 0.5):
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in 0..1, got {min_score}")
        path = Path(model_path)
        data, self.model_sha256 = read_model(path, "face detector", _SHIPPED)
        self.min_score = float(min_score)
        self._mp, self._detector = _create(data, self.min_score, path)

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Faces in ``image_bgr`` ``(h, w, 3)`` uint8.

        Returns:
            ``xyxy`` ``(n, 4)`` float32 in image pixels, clipped to the image, and
            ``score`` ``(n,)`` float32; both empty when there is no face.
        """
        if self._detector is None:
            raise ModelError("face detector is closed")
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
            raise ValueError(f"expected (h, w, 3) uint8 BGR, got {image_bgr.shape} "
                             f"{image_bgr.dtype}")
        h, w = image_bgr.shape[:2]
        if h < 2 or w < 2:
            return _empty()
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)  # a new, contiguous array
        result = self._detector.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB,
                                                      data=rgb))
        if not result.detections:
            return _empty()
        xyxy = np.empty((len(result.detections), 4), np.float32)
        score = np.empty(len(result.detections), np.float32)
        for i, det in enumerate(result.detections):
            box = det.bounding_box
            xyxy[i] = (box.origin_x, box.origin_y, box.origin_x + box.width,
                       box.origin_y + box.height)
            score[i] = det.categories[0].score if det.categories else 0.0
        np.clip(xyxy, 0, [w, h, w, h], out=xyxy)
        keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        return xyxy[keep], score[keep]

    def close(self) -> None:
        """Release MediaPipe's graph; safe to call twice."""
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self) -> MediaPipeFaceDetector:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        # Closing from __del__ at interpreter exit makes MediaPipe fail noisily; only warn.
        if getattr(self, "_detector", None) is not None:
            log.warning("MediaPipeFaceDetector was not closed")


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


def _create(model: bytes, min_score: float, path: Path):  # type: ignore[no-untyped-def]
    with _face_detection_only():
        # By module name: the real package deletes some of its attributes (``tasks.python.core``).
        base_options = importlib.import_module("mediapipe.tasks.python.core.base_options")
        image = importlib.import_module("mediapipe.tasks.python.vision.core.image")
        vision = importlib.import_module("mediapipe.tasks.python.vision.face_detector")

        options = vision.FaceDetectorOptions(base_options=base_options.BaseOptions(model_asset_buffer=model),
                                             min_detection_confidence=min_score)
        try:
            detector = vision.FaceDetector.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"face detector model cannot be loaded: {path} ({one_line(exc)})") from None
    return image, detector


_MP_PACKAGES = ("mediapipe", "mediapipe.tasks", "mediapipe.tasks.python", "mediapipe.tasks.python.vision")


@contextmanager
def _face_detection_only() -> Iterator[None]:
    """Import MediaPipe's face detector, inside this block, without the rest of MediaPipe.

    ``import mediapipe`` (which any ``mediapipe.*`` import runs first, and MediaPipe itself runs
    when it loads its library) imports every task it has: audio through sounddevice, text, the
    drawing helpers through matplotlib; +40 MB resident and about a second of start-up for
    nothing ClassMood uses. The four package ``__init__`` files above the face detector only
    re-export, so inside the block empty packages stand in for them. Afterwards every MediaPipe
    module the block imported is taken out of ``sys.modules`` again (a detector keeps what it
    uses), so a later ``import mediapipe`` anywhere is the ordinary, complete one.
    """
    if "mediapipe" in sys.modules:  # imported the ordinary way already: nothing to save
        yield
        return
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("MediaPipe is not installed; reinstall ClassMood")
    root = Path(next(iter(spec.submodule_search_locations)))
    before = set(sys.modules)
    try:
        for name in _MP_PACKAGES:
            package = types.ModuleType(name)
            package.__path__ = [str(root.joinpath(*name.split(".")[1:]))]
            sys.modules[name] = package
        yield
    finally:
        for name in set(sys.modules) - before:
            if name.split(".")[0] == "mediapipe":
                del sys.modules[name]
