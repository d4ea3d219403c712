"""End-to-end proxy: FER2013 faces in simulated gallery tiles, read through the product's path.

The model is trained and scored on clean 48x48 crops, but in the product a face is a few dozen
screen pixels of a compressed webcam stream, found by BlazeFace, cut out around the detector's
box and resized back to 48x48. This module puts FER2013 faces through that path:

1. each 48x48 grey face is enlarged (cubic) to a realistic on-screen size (its crop 35-75 % of
   the tile's height, i.e. 63-200 px on 1080p galleries of 3x3 to 6x6 tiles), feathered into
   a home-office backdrop from ``tools.compose_gallery``, given sensor noise and sent through
   the video codec of ``tools.screensim.tiles`` (stream at 50-100 % of the tile's resolution,
   JPEG quality 30-70);
2. the tiles are laid out as a 1920x1080 gallery and read by ``bot.detect.FaceFinder`` with
   both shipped BlazeFace models, as ``bot.pipeline`` builds it (no frame-to-frame reuse);
3. each tile's best detection is cropped with ``bot.classify.face_crops``, preprocessed with
   ``models.preprocessing.face_tensor`` and classified.

The same faces through the direct 48x48 path give the reference: the gap is what the pipeline
loses. Deterministic from the seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from bot.classify import crop_square, face_crops
from models.preprocessing import face_tensor
from tools.compose_gallery import _background
from tools.screensim.tiles import _codec
from training.data import SPLITS

FRAME_WH = (1920, 1080)
# (tile width, height) of 6x6, 5x5, 4x4 and 3x3 galleries on a 1080p screen.
TILE_SIZES_WH = ((320, 180), (384, 216), (480, 270), (640, 360))
# Small tiles, where faces are a few dozen pixels: 7x7 on 1080p, a filmstrip's tiles, 7x7 on a
# 1366x768 laptop screen (laid out 9x9 on the proxy's 1080p canvas).
SMALL_TILE_SIZES_WH = ((274, 154), (240, 135), (195, 110))
SMALL_TILES_SEED = 100  # added to a proxy's seed for its small tiles: other backdrops and codecs
CROP_SHARE_OF_TILE_H = (0.35, 0.75)
JPEG_QUALITY = (30, 70)
CODEC_SCALE = (0.5, 1.0)
SENSOR_NOISE_GREY = 2.0


@dataclass(frozen=True)
class ProxyFrame:
    """One simulated gallery: ``image`` ``(1080, 1920, 3)`` BGR, ``tiles_xyxy`` ``(n, 4)`` int32,
    ``face_xyxy`` ``(n, 4)`` float32 where each 48x48 face was pasted (frame pixels, square) and
    ``rows`` ``(n,)`` the index of each tile's face in the caller's image array."""

    image: np.ndarray
    tiles_xyxy: np.ndarray
    face_xyxy: np.ndarray
    rows: np.ndarray


def proxy_seed(seed: int, split: str, small_tiles: bool = False) -> int:
    """The seed of ``split``'s proxy galleries (``small_tiles``: its small-tile set). Each split
    and tile set draws its own backdrops and codecs, and every tool reading the same split's proxy
    with the same ``seed`` (calibrate, measure, interpolate, alignment) gets the same frames."""
    return seed + SPLITS[split] + (SMALL_TILES_SEED if small_tiles else 0)


def webcam_tile(face48: np.ndarray, tile_wh: tuple[int, int], rng: np.random.Generator,
                ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """One tile ``(h, w, 3)`` BGR holding ``face48`` ``(48, 48)`` uint8 and the face's square in tile pixels."""
    tw, th = tile_wh
    tile = _background(rng, tw, th).astype(np.float32)
    side = int(round(rng.uniform(*CROP_SHARE_OF_TILE_H) * th))
    face = cv2.resize(face48, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    cx = tw / 2 + rng.uniform(-0.12, 0.12) * tw
    cy = th * rng.uniform(0.42, 0.55)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x0, y0 = min(max(0, x0), tw - side), min(max(0, y0), th - side)
    # Feathered edge: FER2013 crops end in a hard square, a webcam face does not.
    alpha = np.zeros((side, side), np.float32)
    m = max(2, side // 14)
    alpha[m:-m, m:-m] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), m / 2)[..., None]
    region = tile[y0:y0 + side, x0:x0 + side]
    tile[y0:y0 + side, x0:x0 + side] = alpha * face[..., None] + (1 - alpha) * region
    tile += rng.normal(0, SENSOR_NOISE_GREY, (th, tw, 1)).astype(np.float32)
    out = _codec(np.clip(tile, 0, 255).astype(np.uint8), float(rng.uniform(*CODEC_SCALE)),
                 int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)))
    return out, (float(x0), float(y0), float(x0 + side), float(y0 + side))


def proxy_frames(images48: np.ndarray, seed: int = 0, gap_px: int = 6,
                 tile_sizes_wh: tuple[tuple[int, int], ...] = TILE_SIZES_WH) -> Iterator[ProxyFrame]:
    """Galleries holding every face of ``images48`` ``(n, 48, 48)`` once, in order, each of
    tiles of one size drawn from ``tile_sizes_wh``."""
    rng = np.random.default_rng(seed)
    fw, fh = FRAME_WH
    i = 0
    while i < len(images48):
        tw, th = tile_sizes_wh[int(rng.integers(len(tile_sizes_wh)))]
        cols, rows = (fw + gap_px) // (tw + gap_px), (fh + gap_px) // (th + gap_px)
        ox, oy = (fw - cols * (tw + gap_px) + gap_px) // 2, (fh - rows * (th + gap_px) + gap_px) // 2
        image = np.full((fh, fw, 3), 32, np.uint8)
        tiles, faces, idx = [], [], []
        for r in range(rows):
            for c in range(cols):
                if i >= len(images48):
                    break
                x0, y0 = ox + c * (tw + gap_px), oy + r * (th + gap_px)
                tile, (a, b, cc, d) = webcam_tile(images48[i], (tw, th), rng)
                image[y0:y0 + th, x0:x0 + tw] = tile
                tiles.append((x0, y0, x0 + tw, y0 + th))
                faces.append((a + x0, b + y0, cc + x0, d + y0))
                idx.append(i)
                i += 1
        yield ProxyFrame(image, np.array(tiles, np.int32), np.array(faces, np.float32), np.array(idx, np.int64))


@dataclass(frozen=True)
class ProxyReading:
    """What the pipeline made of ``n`` faces: ``found`` ``(n,)`` bool, ``box_xyxy`` ``(n, 4)``
    (NaN where not found), ``face_xyxy`` ``(n, 4)`` where each face was pasted, ``tensor``
    ``(n, 1, 48, 48)`` the model input (zeros where not found)."""

    found: np.ndarray
    box_xyxy: np.ndarray
    face_xyxy: np.ndarray
    tensor: np.ndarray

    @property
    def box_width_px(self) -> np.ndarray:
        """``(n,)`` float64: each face's detected box width in screen pixels (NaN where not found)."""
        return (self.box_xyxy[:, 2] - self.box_xyxy[:, 0]).astype(np.float64)


FindFaces = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
CropFaces = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]


@contextmanager
def product_finder() -> Iterator[FindFaces]:
    """The product's face finder as ``bot.pipeline`` builds it (both shipped BlazeFace models),
    asked afresh for every frame (no frame-to-frame reuse), as a ``FindFaces``."""
    from bot.detect import FaceFinder
    from models.face_detector import FULL_RANGE_MODEL_PATH, MediaPipeFaceDetector

    with MediaPipeFaceDetector() as short, MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH) as full:
        finder = FaceFinder(short, scan_detector=full, redetect_after_s=0.0, still_after_s=0.0)

        def find(image: np.ndarray, tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            faces = finder.find_faces(image, tiles)
            return faces.xyxy, faces.score

        yield find


def read_proxy(images48: np.ndarray, find_faces: FindFaces, seed: int = 0,
               crop: CropFaces = face_crops,
               tile_sizes_wh: tuple[tuple[int, int], ...] = TILE_SIZES_WH) -> ProxyReading:
    """Run every face of ``images48`` through galleries of ``tile_sizes_wh`` tiles,
    ``find_faces(image, tiles) -> (xyxy, score)`` and ``crop(image, boxes) -> crops``.

    A tile counts as found when a detection's centre lies inside the pasted face; of several,
    the highest score is kept. A detection elsewhere in the tile is not that face.
    """
    n = len(images48)
    found = np.zeros(n, bool)
    box = np.full((n, 4), np.nan, np.float32)
    pasted = np.zeros((n, 4), np.float32)
    tensor = np.zeros((n, 1, 48, 48), np.float32)
    for frame in proxy_frames(images48, seed, tile_sizes_wh=tile_sizes_wh):
        xyxy, score = find_faces(frame.image, frame.tiles_xyxy)
        pasted[frame.rows] = frame.face_xyxy
        centres = (xyxy[:, :2] + xyxy[:, 2:]) / 2 if len(xyxy) else np.zeros((0, 2), np.float32)
        chosen, rows = [], []
        for k, (fx0, fy0, fx1, fy1) in enumerate(frame.face_xyxy):
            inside = np.flatnonzero((centres[:, 0] >= fx0) & (centres[:, 0] <= fx1)
                                    & (centres[:, 1] >= fy0) & (centres[:, 1] <= fy1))
            if len(inside):
                chosen.append(int(inside[np.argmax(score[inside])]))
                rows.append(int(frame.rows[k]))
        if rows:
            found[rows] = True
            box[rows] = xyxy[chosen]
            tensor[rows] = face_tensor(crop(frame.image, xyxy[chosen]))
    return ProxyReading(found, box, pasted, tensor)


def box_framing(reading: ProxyReading, crop: Callable[[np.ndarray], tuple[float, float, float]] = crop_square,
                ) -> dict[str, float]:
    """Where the pipeline's crop lands relative to the FER2013 crop, in FER2013 crop sides.

    ``crop_scale``: the side of the pipeline's square (``crop(box) -> (cx, cy, half)``, by
    default ``bot.classify.crop_square``) over the pasted face's side (1.0 = FER2013's framing);
    ``dx``/``dy``: its centre's offset. Means and standard deviations over the faces found: what
    the training's box jitter must cover.
    """
    f = reading.found
    squares = np.array([crop(b) for b in reading.box_xyxy[f]], np.float64).reshape(-1, 3)
    p = reading.face_xyxy[f].astype(np.float64)
    side_p = p[:, 2] - p[:, 0]
    ratio = 2 * squares[:, 2] / side_p
    dx = (squares[:, 0] - (p[:, 0] + p[:, 2]) / 2) / side_p
    dy = (squares[:, 1] - (p[:, 1] + p[:, 3]) / 2) / side_p
    return {"crop_scale_mean": float(ratio.mean()), "crop_scale_std": float(ratio.std()),
            "dx_mean": float(dx.mean()), "dx_std": float(dx.std()),
            "dy_mean": float(dy.mean()), "dy_std": float(dy.std())}
