"""Side by side with a whole-frame Haar cascade: ``python -m bench.haar [--frames 8]``.

The approach ClassMood replaced: OpenCV's ``haarcascade_frontalface_default.xml`` over the
whole 1920x1080 frame in grey (``scaleFactor`` 1.1, ``minNeighbors`` 5, faces from 24 px,
single-threaded). Against it, on the same frames of a composed 7x7 class with fresh camera
noise (1 s apart): the face finder as it runs live (unchanged tiles keep their boxes) and the
full-cost finder (every tile detected on every frame), tile finding included. Prints CPU
milliseconds per frame (``time.process_time``, all threads), the cost ratios and each one's
recall of the tiles that hold a face (a tile scores when a box's centre lies in it) and its
false boxes (centres in no face tile).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

import cv2
import numpy as np

from bench.agreement import class_frames
from bench.class_window import class_states
from bot.detect import REDETECT_AFTER_S, FaceFinder
from models.face_detector import FULL_RANGE_MODEL_PATH, MediaPipeFaceDetector
from vocab.types import FrameResult


def _score(centres: np.ndarray, tiles: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """(face tiles found, boxes whose centre lies in no face tile)."""
    inside = ((centres[None, :, 0] >= tiles[:, None, 0]) & (centres[None, :, 0] < tiles[:, None, 2])
              & (centres[None, :, 1] >= tiles[:, None, 1]) & (centres[None, :, 1] < tiles[:, None, 3]))
    found = int((inside.any(axis=1) & truth).sum())
    false = int((~(inside & truth[:, None]).any(axis=0)).sum())
    return found, false


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=8)
    a = p.parse_args(argv)
    cv2.setNumThreads(1)
    cascades = cv2.data.haarcascades  # type: ignore[attr-defined]  # opencv-contrib-python ships them
    haar = cv2.CascadeClassifier(os.path.join(cascades, "haarcascade_frontalface_default.xml"))
    tiles = np.array(class_states(7, (7, 7))["start"].tiles_xyxy())
    cpu = {"haar": 0.0, "finder live": 0.0, "finder full-cost": 0.0}
    found = dict.fromkeys(cpu, 0)
    false = dict.fromkeys(cpu, 0)
    truth_total = 0
    with MediaPipeFaceDetector() as short, MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH) as full_range:
        finders = {"finder live": FaceFinder(short, scan_detector=full_range, redetect_after_s=REDETECT_AFTER_S),
                   "finder full-cost": FaceFinder(short, scan_detector=full_range, redetect_after_s=0.0)}
        for i, (image, truth) in enumerate(class_frames(a.frames + 1)):
            results: dict[str, np.ndarray] = {}
            t = time.process_time()
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            boxes = haar.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
            spent = {"haar": time.process_time() - t}
            xywh = np.asarray(boxes, np.float32).reshape(-1, 4)
            results["haar"] = xywh[:, :2] + xywh[:, 2:] / 2
            for name, finder in finders.items():
                t = time.process_time()
                frame = finder(FrameResult(frame_id=i + 1, t_mono=float(i), t_utc=datetime.now(UTC),
                                           region_xywh=(0, 0, 1920, 1080), image=image))
                spent[name] = time.process_time() - t
                results[name] = (frame.faces.xyxy[:, :2] + frame.faces.xyxy[:, 2:]) / 2
            if i == 0:
                continue  # warm-up (and the live finder's first full look)
            truth_total += int(truth.sum())
            for name in cpu:
                cpu[name] += spent[name]
                f, x = _score(results[name], tiles, truth)
                found[name] += f
                false[name] += x
    n = a.frames
    print(f"Face detection side by side, composed 7x7 class 1920x1080, {n} frames 1 s apart, {os.cpu_count()} cores")
    for name in cpu:
        print(f"{name:>17}: {1000 * cpu[name] / n:7.1f} ms CPU a frame, "
              f"recall {100 * found[name] / truth_total:6.2f} % "
              f"of {truth_total} face tiles, {false[name]} false boxes")
    print(f"cost ratio haar / finder full-cost {cpu['haar'] / cpu['finder full-cost']:.2f}, "
          f"haar / finder live {cpu['haar'] / max(cpu['finder live'], 1e-9):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
