"""A picture of the expression model's crop: ``python -m training.framing_picture --out docs/crop.png``.

Left, a face as the product finds it (matplotlib's public-domain sample photo of Grace Hopper,
found by the shipped short-range BlazeFace): the detector's box, the square cut around the box
centre before (1.25 box sides) and the square cut now (``bot.classify.crop_square``). Then the
48x48 grey inputs the model gets from each, and the mean of FER2013 Training faces (contrast
stretched), the framing the model learnt; a line at FER2013's eye height (``FER_EYES_48``) runs through the three.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np

from bot.classify import crop_square, face_crops
from models.face_detector import MediaPipeFaceDetector
from models.preprocessing import FER_EYES_48, face_gray_48
from tools.compose_gallery import fallback_photo_path
from training.data import DEFAULT_DATA, SPLITS

log = logging.getLogger(__name__)

ZOOM = 4  # each 48x48 input drawn at 192x192
OLD = (1.25, 0.0)  # (scale, raise) of the square before it was raised
BOX, BEFORE, NOW = (90, 200, 90), (60, 60, 230), (230, 150, 40)  # BGR


def _square(image: np.ndarray, square: tuple[float, float, float], colour: tuple[int, int, int]) -> None:
    cx, cy, half = square  # as crop_square gives it
    cv2.rectangle(image, (round(cx - half), round(cy - half)), (round(cx + half), round(cy + half)), colour, 2)


def _panel(gray48: np.ndarray, title: str, colour: tuple[int, int, int]) -> np.ndarray:
    big = cv2.cvtColor(cv2.resize(gray48, (48 * ZOOM, 48 * ZOOM), interpolation=cv2.INTER_NEAREST),
                       cv2.COLOR_GRAY2BGR)
    eye_y = round(float(np.mean([y for _, y in FER_EYES_48])) * ZOOM)
    for x in range(0, big.shape[1], 12):  # dashed: FER2013's eye height
        cv2.line(big, (x, eye_y), (x + 6, eye_y), (0, 220, 255), 2)
    out = np.full((big.shape[0] + 36, big.shape[1] + 16, 3), 255, np.uint8)
    out[28:28 + big.shape[0], 8:8 + big.shape[1]] = big
    cv2.rectangle(out, (7, 27), (8 + big.shape[1], 28 + big.shape[0]), colour, 2)
    cv2.putText(out, title, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (20, 20, 20), 1, cv2.LINE_AA)
    return out


def framing_picture(photo: np.ndarray, fer_faces: np.ndarray) -> np.ndarray:
    """The picture of the module notes (BGR) for ``photo`` and FER2013 faces ``(n, 48, 48)`` uint8."""
    with MediaPipeFaceDetector() as detector:
        xyxy, score = detector.detect(photo)
    if not len(xyxy):
        raise ValueError("no face found in the photo")
    box = xyxy[int(np.argmax(score))]
    shown = photo.copy()
    cv2.rectangle(shown, (round(box[0]), round(box[1])), (round(box[2]), round(box[3])), BOX, 2)
    _square(shown, crop_square(box, *OLD), BEFORE)
    _square(shown, crop_square(box), NOW)
    height = 48 * ZOOM + 36
    shown = cv2.resize(shown, (round(shown.shape[1] * height / shown.shape[0]), height), interpolation=cv2.INTER_AREA)
    before = face_gray_48(face_crops(photo, box[None], scale=OLD[0], raise_=OLD[1])[0])
    now = face_gray_48(face_crops(photo, box[None])[0])
    mean = cv2.normalize(fer_faces.astype(np.float32).mean(axis=0), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    panels = [shown, _panel(before, "before: 1.25 box, centred", BEFORE),
              _panel(now, "now: 1.187 box, raised 0.11", NOW), _panel(mean, "FER2013: mean face", (120, 120, 120))]
    row = np.concatenate([np.pad(p, ((0, height - p.shape[0]), (0, 6), (0, 0)), constant_values=255) for p in panels],
                         axis=1)
    legend = np.full((30, row.shape[1], 3), 255, np.uint8)
    cv2.putText(legend, "green: detector box   red: crop before   blue: crop now   dashed: FER2013 eye height",
                (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (20, 20, 20), 1, cv2.LINE_AA)
    return np.concatenate([row, legend], axis=0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.framing_picture", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("docs/crop.png"))
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--fer-faces", type=int, default=2000, help="Training faces averaged")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    d = np.load(args.data)
    train = np.flatnonzero(d["usage"] == SPLITS["train"])[:args.fer_faces]
    photo = cv2.imread(str(fallback_photo_path()))
    picture = framing_picture(photo, d["images"][train])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), picture)
    log.info("wrote %s (%dx%d)", args.out, picture.shape[1], picture.shape[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
