"""Face landmarks and eye state through ONNX Runtime: face boxes in, numpy out.

``FaceLandmarker``: MediaPipe FaceMesh, 468 landmarks per face box. ``EyeStateClassifier``:
P(eye closed) for 24x24 eye patches, which ``eye_patches`` cuts from a face with its landmarks.

The model is MediaPipe's ``face_landmark.tflite`` converted once, offline, to ONNX
(``models/face_landmarks.md`` says how and why); only numpy, OpenCV and onnxruntime run here.

How a face is read, as MediaPipe's own face-mesh graph does it:

1. a square region of interest 1.5x the longer side of the detector's box, centred on it, is
   warped to 192x192 RGB in 0..1;
2. the model returns 468 points (x, y in crop pixels, z a relative depth in the same scale) and
   a face-presence logit;
3. with ``passes=2`` (default) the region is recomputed from those points, rotated so that the
   eye line is level, and the model runs again. BlazeFace boxes are axis-aligned and cut tilted
   or turned faces off-centre; the second pass is what makes roll and large yaw reliable
   (measured by ``python -m bench.headpose``) at twice the cost.

All faces of one image run as one batch. Between readings of the same face, pass its previous
landmarks (``previous_px``) and it is read in one pass, as MediaPipe tracks faces.
``FaceLandmarks`` is plain numpy; ONNX Runtime types never leave this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from models.model_file import open_session
from models.ort_session import ort
from vocab.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "face_landmarks.onnx"
# face_landmark.tflite from the mediapipe 0.10.21 wheel, converted to ONNX (see face_landmarks.md).
SHIPPED_MODEL_SHA256 = "cce696384f686c991b42882c451580eaba872ebca890bdab91624843ff56c4c7"
INPUT_SIZE_PX = 192
N_LANDMARKS = 468
ROI_SCALE = 1.5  # MediaPipe's face_landmark ROI: 1.5x the face box / landmark extent, square

# FaceMesh indices of the outer eye corners: 33 on the image's left (the person's right eye
# for an unmirrored camera), 263 on the image's right. Their line sets the crop's rotation.
EYE_OUTER_LEFT_IMG = 33
EYE_OUTER_RIGHT_IMG = 263
# (outer, inner) corners of the eye on the image's left and of the one on the image's right
EYE_CORNERS = ((33, 133), (263, 362))

DEFAULT_EYE_MODEL_PATH = Path(__file__).resolve().parent / "eye_state.onnx"
# fitted by ``python -m bench.eyes --train`` on CEW's fitting half (see face_landmarks.md)
SHIPPED_EYE_MODEL_SHA256 = "a1b76dd738fdfdbab7a0e82b92a373ae15a1c48ea8fe5ed4a7c5ae0d4c16697a"
EYE_PATCH_PX = 24
# A CEW patch is about 1.6 eye widths (corner to corner) on a side, centred on the eye; the
# classifier was fitted on CEW, so run-time patches are cut the same way.
EYE_PATCH_SCALE = 1.6
# Where a mask or a hand covers the face (below the lower lip, chin) and where skin stays
# visible above a mask (upper cheeks under the outer eye corners, nose bridge).
LOWER_FACE_POINTS = (18, 200, 175)
UPPER_FACE_POINTS = (116, 345, 6)


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks of ``n`` faces of one image.

    Attributes:
        points_px: ``(n, 468, 3)`` float32: x, y in image pixels; z a depth relative to the face
            centre in the same pixel scale, smaller is nearer the camera (MediaPipe's convention).
        presence: ``(n,)`` float32 in 0..1: the model's "this is a face" probability for the
            final crop; low for a crop that holds no face or a heavily covered one.
    """

    points_px: np.ndarray
    presence: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.presence)
        if self.points_px.shape != (n, N_LANDMARKS, 3):
            raise ValueError(f"points_px: expected ({n}, {N_LANDMARKS}, 3), got {self.points_px.shape}")

    def __len__(self) -> int:
        return len(self.presence)


class FaceLandmarker:
    """468 face landmarks per face box.

    Args:
        model_path: the ONNX file; default the shipped ``models/face_landmarks.onnx``. Another
            file is used with a warning when its checksum differs.
        passes: 1 = one crop from the detector box (half the cost); 2 = a second crop from the
            first pass's landmarks, rotated level (default; needed for tilted and turned heads).
        threads: ONNX Runtime intra-op threads (the live pipeline passes 1).

    Raises:
        ModelError: the model file is missing or not a valid ONNX file of the expected shape.
    """

    def __init__(self, model_path: str | Path = DEFAULT_MODEL_PATH, passes: int = 2, threads: int = 1) -> None:
        if passes not in (1, 2):
            raise ValueError(f"passes must be 1 or 2, got {passes}")
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        path = Path(model_path)
        session, self.model_sha256 = open_session(path, "face landmark", {SHIPPED_MODEL_SHA256}, threads)
        self._session: ort.InferenceSession | None = session
        inp = self._session.get_inputs()
        outs = [o.name for o in self._session.get_outputs()]
        if len(inp) != 1 or list(inp[0].shape[1:]) != [3, INPUT_SIZE_PX, INPUT_SIZE_PX] or \
                outs != ["landmarks", "face_flag_logit"]:
            raise ModelError(f"face landmark model {path} has inputs {[i.shape for i in inp]} and outputs {outs}; "
                             f"expected (N, 3, {INPUT_SIZE_PX}, {INPUT_SIZE_PX}) -> landmarks, face_flag_logit")
        self._input_name = inp[0].name
        self.passes = passes

    def landmarks(self, image_bgr: np.ndarray, xyxy: np.ndarray,
                  previous_px: np.ndarray | None = None) -> FaceLandmarks:
        """Landmarks for each face box in one image.

        Args:
            image_bgr: ``(h, w, 3)`` uint8, the image the boxes were found in (a tile or a frame).
            xyxy: ``(n, 4)`` face boxes in that image's pixels (a detector's boxes).
            previous_px: optional ``(n, 468, 2 or 3)`` landmarks of the same faces from an earlier
                reading, in the same image's pixels, NaN rows where there is none. A face whose
                earlier landmarks are centred inside its box now is read in one pass from them
                (MediaPipe's tracking: half the cost, the accuracy of two passes); a face that
                moved, a new face, or one whose tracked read has presence < 0.5 gets the full
                ``passes``.

        Returns:
            ``FaceLandmarks`` with ``n`` faces, in the order of ``xyxy``.
        """
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
            raise ValueError(f"expected (h, w, 3) uint8 BGR, got {image_bgr.shape} {image_bgr.dtype}")
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        n = len(boxes)
        points = np.zeros((n, N_LANDMARKS, 3), np.float32)
        presence = np.zeros(n, np.float32)
        if n == 0:
            return FaceLandmarks(points, presence)
        fresh = np.ones(n, bool)
        if previous_px is not None:
            prev = np.asarray(previous_px, np.float32)
            if prev.shape[:2] != (n, N_LANDMARKS):
                raise ValueError(f"previous_px: expected ({n}, {N_LANDMARKS}, 2 or 3), got {prev.shape}")
            known = np.asarray(np.isfinite(prev[..., :2]).all(axis=(1, 2)))
            centre = np.where(known[:, None], np.nan_to_num(prev[..., :2]).mean(axis=1), -1.0)
            inside = np.asarray(((centre >= boxes[:, :2]) & (centre <= boxes[:, 2:])).all(axis=1))
            tracked = np.where(known & inside)[0]
            if len(tracked):
                c, side, angle = roi_from_landmarks(np.nan_to_num(prev[tracked]))
                points[tracked], presence[tracked] = self._run(image_bgr, c, side, angle)
                fresh[tracked] = presence[tracked] < 0.5
        todo = np.where(fresh)[0]
        if len(todo):
            b = boxes[todo]
            centre = (b[:, :2] + b[:, 2:]) / 2
            side = ROI_SCALE * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
            pts, pres = self._run(image_bgr, centre, side, np.zeros(len(todo), np.float32))
            if self.passes == 2:
                pts, pres = self._run(image_bgr, *roi_from_landmarks(pts))
            points[todo], presence[todo] = pts, pres
        return FaceLandmarks(points, presence)

    def _run(self, image_bgr: np.ndarray, centre: np.ndarray, side: np.ndarray,
             angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._session is None:
            raise ModelError("face landmark model is closed")
        n = len(centre)
        batch = np.empty((n, INPUT_SIZE_PX, INPUT_SIZE_PX, 3), np.uint8)
        to_image = np.empty((n, 2, 3), np.float32)
        for i in range(n):
            to_image[i] = _crop_to_image(centre[i], float(side[i]), float(angle[i]))
            batch[i] = cv2.warpAffine(image_bgr, to_image[i], (INPUT_SIZE_PX, INPUT_SIZE_PX),
                                      flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                      borderMode=cv2.BORDER_CONSTANT)
        tensor = batch[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0  # BGR -> RGB, NCHW, 0..1
        raw, logit = self._session.run(None, {self._input_name: tensor})
        crop = raw.reshape(n, N_LANDMARKS, 3)
        points = np.empty_like(crop)
        points[..., :2] = np.einsum("nij,nkj->nki", to_image[:, :, :2], crop[..., :2]) + to_image[:, None, :, 2]
        points[..., 2] = crop[..., 2] * (side / INPUT_SIZE_PX)[:, None]
        presence = 1.0 / (1.0 + np.exp(-logit.reshape(n).astype(np.float64)))
        return points.astype(np.float32), presence.astype(np.float32)

    def close(self) -> None:
        """Release the ONNX Runtime session; safe to call twice."""
        self._session = None

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def roi_from_landmarks(points_px: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The next crop for faces with known landmarks, as MediaPipe's face-mesh tracking does it.

    Args:
        points_px: ``(n, 468, 2 or 3)`` landmarks in image pixels.

    Returns:
        ``centre`` ``(n, 2)``, ``side`` ``(n,)`` (1.5x the landmarks' extent measured along the
        eye line), ``angle`` ``(n,)`` radians of the eye line (image x to the right, y down).
    """
    xy = points_px[..., :2].astype(np.float32)
    d = xy[:, EYE_OUTER_RIGHT_IMG] - xy[:, EYE_OUTER_LEFT_IMG]
    angle = np.arctan2(d[:, 1], d[:, 0]).astype(np.float32)
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    # coordinates in the face's level frame, so the box is the landmarks' extent after de-rotation
    u = xy[..., 0] * cos + xy[..., 1] * sin
    v = -xy[..., 0] * sin + xy[..., 1] * cos
    u0, u1, v0, v1 = u.min(1), u.max(1), v.min(1), v.max(1)
    cu, cv = (u0 + u1) / 2, (v0 + v1) / 2
    centre = np.stack([cu * cos[:, 0] - cv * sin[:, 0], cu * sin[:, 0] + cv * cos[:, 0]], axis=1)
    side = ROI_SCALE * np.maximum(u1 - u0, v1 - v0)
    return centre.astype(np.float32), side.astype(np.float32), angle


def _crop_to_image(centre: np.ndarray, side: float, angle: float, size_px: int = INPUT_SIZE_PX) -> np.ndarray:
    """``(2, 3)`` affine map from crop pixels (0..size_px) to image pixels for a rotated square ROI."""
    scale = side / size_px
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    half = size_px / 2
    return np.array([[c, -s, centre[0] - c * half + s * half],
                     [s, c, centre[1] - s * half - c * half]], np.float32)


class EyeStateClassifier:
    """P(eye closed) for greyscale eye patches (the shipped ``models/eye_state.onnx``, ~6 k weights).

    Args:
        model_path: the ONNX file; default the shipped one.
        threads: ONNX Runtime intra-op threads.

    Raises:
        ModelError: the model file is missing or not a valid ONNX file of the expected shape.
    """

    def __init__(self, model_path: str | Path = DEFAULT_EYE_MODEL_PATH, threads: int = 1) -> None:
        path = Path(model_path)
        session, self.model_sha256 = open_session(path, "eye state", {SHIPPED_EYE_MODEL_SHA256}, threads)
        self._session: ort.InferenceSession | None = session
        inp = self._session.get_inputs()
        if len(inp) != 1 or list(inp[0].shape[1:]) != [1, EYE_PATCH_PX, EYE_PATCH_PX]:
            raise ModelError(f"eye state model {path} takes {[i.shape for i in inp]}; "
                             f"expected (N, 1, {EYE_PATCH_PX}, {EYE_PATCH_PX})")
        self._input_name = inp[0].name

    def p_closed(self, patches: np.ndarray) -> np.ndarray:
        """``patches`` ``(..., 24, 24)`` uint8 greyscale -> P(closed) of the same leading shape, float32."""
        patches = np.asarray(patches)
        if patches.shape[-2:] != (EYE_PATCH_PX, EYE_PATCH_PX):
            raise ValueError(f"expected (..., {EYE_PATCH_PX}, {EYE_PATCH_PX}) patches, got {patches.shape}")
        lead = patches.shape[:-2]
        flat = patches.reshape(-1, 1, EYE_PATCH_PX, EYE_PATCH_PX).astype(np.float32) / 255.0
        if len(flat) == 0:
            return np.zeros(lead, np.float32)
        if self._session is None:
            raise ModelError("eye state model used after close()")
        (p,) = self._session.run(None, {self._input_name: flat})
        return np.asarray(p, np.float32).reshape(lead)

    def close(self) -> None:
        """Release the ONNX Runtime session; safe to call twice."""
        self._session = None


def eye_patches(image_bgr: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """Both eyes of each face as CEW-like 24x24 greyscale patches, rotated level.

    Args:
        image_bgr: ``(h, w, 3)`` uint8, the image the landmarks are in.
        points_px: ``(n, 468, 2 or 3)`` landmarks in that image's pixels.

    Returns:
        ``(n, 2, 24, 24)`` uint8: [eye on the image's left, eye on the image's right]. Both
        patches of a face use the wider eye's width, so a turned face's far eye is not blown up.
    """
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    xy = np.asarray(points_px, np.float32)[..., :2].reshape(-1, N_LANDMARKS, 2)
    out = np.zeros((len(xy), 2, EYE_PATCH_PX, EYE_PATCH_PX), np.uint8)
    for i, face in enumerate(xy):
        d = face[EYE_OUTER_RIGHT_IMG] - face[EYE_OUTER_LEFT_IMG]
        angle = float(np.arctan2(d[1], d[0]))
        width = max(float(np.linalg.norm(face[a] - face[b])) for a, b in EYE_CORNERS)
        side = max(EYE_PATCH_SCALE * width, 2.0)
        # Warp at a multiple of 24 px, then area-average down: a large eye is not aliased.
        k = int(np.clip(round(side / EYE_PATCH_PX), 1, 8))
        for j, (a, b) in enumerate(EYE_CORNERS):
            centre = (face[a] + face[b]) / 2
            m = _crop_to_image(centre, side, angle, size_px=EYE_PATCH_PX * k)
            patch = cv2.warpAffine(grey, m, (EYE_PATCH_PX * k, EYE_PATCH_PX * k),
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            out[i, j] = patch if k == 1 else cv2.resize(patch, (EYE_PATCH_PX, EYE_PATCH_PX),
                                                       interpolation=cv2.INTER_AREA)
    return out


def eye_width_px(points_px: np.ndarray) -> np.ndarray:
    """``(n,)`` float32: the wider eye's corner-to-corner distance in pixels, per face."""
    xy = np.asarray(points_px, np.float32)[..., :2].reshape(-1, N_LANDMARKS, 2)
    widths = [np.linalg.norm(xy[:, a] - xy[:, b], axis=1) for a, b in EYE_CORNERS]
    return np.maximum(*widths).astype(np.float32)


def lower_face_contrast(image_bgr: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """How unlike skin the lower face looks: a cue for a mask.

    The median colour of small windows below the lower lip and on the chin against windows on
    the upper cheeks and the nose bridge (which a mask leaves uncovered), as the chroma (a, b)
    distance in OpenCV's 8-bit Lab. Lightness is left out: shadows under the nose and chin
    differ in lightness, not in hue. A beard, a hand or a mask of skin colour score low;
    ``bot.attention.HIDDEN_CONTRAST_ABOVE`` says where it counts.

    Args:
        image_bgr: ``(h, w, 3)`` uint8, the image the landmarks are in.
        points_px: ``(n, 468, 2 or 3)`` landmarks in that image's pixels.

    Returns:
        ``(n,)`` float32, 0 for the same colour; 0 for a face whose windows fall outside the image.
    """
    h, w = image_bgr.shape[:2]
    xy = np.asarray(points_px, np.float32)[..., :2].reshape(-1, N_LANDMARKS, 2)
    out = np.zeros(len(xy), np.float32)
    for i, face in enumerate(xy):
        r = max(1, int(round(0.06 * float(np.linalg.norm(face[EYE_OUTER_RIGHT_IMG] - face[EYE_OUTER_LEFT_IMG])))))

        def median_ab(ids: tuple[int, ...], face: np.ndarray = face, r: int = r) -> np.ndarray | None:
            windows = []
            for k in ids:
                x, y = int(round(float(face[k, 0]))), int(round(float(face[k, 1])))
                # Only the small windows are converted (per pixel, so the same values): a whole
                # 1080p frame to Lab costs 3-6 ms on every frame that reads attention.
                win = image_bgr[max(y - r, 0):min(y + r + 1, h), max(x - r, 0):min(x + r + 1, w)]
                if win.size:
                    windows.append(cv2.cvtColor(np.ascontiguousarray(win), cv2.COLOR_BGR2LAB)[..., 1:].reshape(-1, 2))
            if not windows:
                return None
            pixels = np.concatenate(windows)
            return np.median(pixels, axis=0) if len(pixels) else None

        lower, upper = median_ab(LOWER_FACE_POINTS), median_ab(UPPER_FACE_POINTS)
        if lower is not None and upper is not None:
            out[i] = float(np.linalg.norm(lower - upper))
    return out
