"""Eye alignment, measured: does cutting faces by their eyes instead of the detector's box help?

The shared function is ``models.preprocessing.eye_aligned_gray_48``; this module measures the
framing it aligns to (``FER_EYES_48``) and what it does on the proxy.

FER2013 faces were framed by their makers (eyes level, at a fixed place); the product cuts a
square around BlazeFace's box (``bot.classify.face_crops``), which leaves rotation and the box's
jitter in the crop. An
aligned crop puts both eye centres where FER2013 has them (a similarity transform: rotation,
scale, shift). The eyes come from the face landmarks the attention stage already computes
(``models.face_landmarks.FaceLandmarker``; MediaPipe's detector also finds eye keypoints but
``models.face_detector`` does not expose them).

``python -m training.alignment`` measures where FER2013's eyes sit (Training faces) and compares
box crops with aligned crops on the PublicTest proxy (``training.proxy``); PrivateTest only with
``--private`` (once, for the chosen crop).
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np

from models.face_landmarks import EYE_CORNERS
from models.preprocessing import FACE_SIZE_PX, eye_aligned_gray_48


def eye_centres(points_px: np.ndarray) -> np.ndarray:
    """``(n, 2, 2)``: image-left and image-right eye centre (x, y) from ``(n, 468, 2|3)`` landmarks,
    each the mean of the eye's two corners (``models.face_landmarks.EYE_CORNERS``)."""
    xy = np.asarray(points_px)[..., :2]
    left, right = (xy[:, list(corners)].mean(axis=1) for corners in EYE_CORNERS)
    return np.stack([left, right], axis=1)


def fer_eye_framing(landmarker, images48: np.ndarray, upscale: int = 4) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    """Median eye centres ``(2, 2)`` of FER2013 faces in the 48-px frame, and the share read.

    Each face is enlarged ``upscale`` times and placed in a canvas twice its size (so the
    landmarker's region of interest fits), its box taken as the crop's central 80 %.
    """
    side = FACE_SIZE_PX * upscale
    found = []
    for img in images48:
        canvas = np.full((2 * side, 2 * side), int(img.mean()), np.uint8)
        canvas[side // 2:side // 2 + side, side // 2:side // 2 + side] = cv2.resize(img, (side, side),
                                                                                    interpolation=cv2.INTER_CUBIC)
        box = np.array([[side * 0.6, side * 0.6, side * 1.4, side * 1.4]], np.float32)
        lm = landmarker.landmarks(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), box)
        if lm.presence[0] >= 0.5:
            found.append((eye_centres(lm.points_px)[0] - side // 2) / upscale)
    eyes = np.array(found)
    return np.median(eyes, axis=0), len(found) / max(1, len(images48))


def main(argv: list[str] | None = None) -> int:
    from bot.classify import face_crops
    from models.emotion_classifier import DEFAULT_MODEL_PATH, OnnxEmotionClassifier
    from models.face_landmarks import FaceLandmarker
    from models.preprocessing import face_gray_48
    from training.data import DEFAULT_DATA, SPLITS, load_test_split
    from training.measure import predict_probs
    from training.metrics import calibration
    from training.proxy import product_finder, proxy_seed, read_proxy

    p = argparse.ArgumentParser(prog="python -m training.alignment", description=__doc__.split("\n\n")[0])
    p.add_argument("--faces", type=int, default=1500, help="faces sampled from the split for the proxy")
    p.add_argument("--framing-faces", type=int, default=600, help="Training faces to find FER2013's eye framing")
    p.add_argument("--private", action="store_true", help="also read the PrivateTest proxy (report once)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    t0 = time.time()
    d = np.load(DEFAULT_DATA)
    rng = np.random.default_rng(args.seed)
    train_rows = np.flatnonzero(d["usage"] == SPLITS["train"])
    framing_rows = np.sort(rng.choice(train_rows, args.framing_faces, replace=False))
    with FaceLandmarker(threads=1) as landmarker, OnnxEmotionClassifier(DEFAULT_MODEL_PATH, threads=1) as clf, \
            product_finder() as find:
        clf.temperature = 1.0
        eyes48, share = fer_eye_framing(landmarker, d["images"][framing_rows])
        print(f"FER2013 eye centres (48-px frame, median of {args.framing_faces} Training faces, {share:.1%} read): "
              f"left ({eyes48[0, 0]:.2f}, {eyes48[0, 1]:.2f}), right ({eyes48[1, 0]:.2f}, {eyes48[1, 1]:.2f})")
        def centred_crops(image: np.ndarray, xyxy: np.ndarray) -> list[np.ndarray]:
            # The crop before bot.classify raised it: 1.25 box sides around the box centre, which
            # the proxy measured at 1.053x FER2013's framing, its centre 0.070 FER crop sides low.
            return face_crops(image, xyxy, scale=1.25, raise_=0.0)

        def aligned_crops(image: np.ndarray, xyxy: np.ndarray) -> list[np.ndarray]:
            lm = landmarker.landmarks(image, xyxy)
            eyes = eye_centres(lm.points_px)
            boxes = face_crops(image, xyxy)
            return [eye_aligned_gray_48(image, e, eyes48) if pres >= 0.5 else face_gray_48(b)
                    for e, pres, b in zip(eyes, lm.presence, boxes, strict=True)]

        splits = ["public", "private"] if args.private else ["public"]
        for s in splits:
            images, y, _ = load_test_split(DEFAULT_DATA, s)
            sample = np.sort(np.random.default_rng(args.seed + 10).choice(len(y), min(args.faces, len(y)),
                                                                           replace=False))
            right = {}
            for name, crop in (("box crop (shipped)", face_crops), ("box crop, centred (before)", centred_crops),
                               ("eye-aligned", aligned_crops)):
                r = read_proxy(images[sample], find, seed=proxy_seed(args.seed, s), crop=crop)
                probs = predict_probs(clf, r.tensor[r.found])
                cal = calibration(probs, y[sample][r.found])
                right[name] = probs.argmax(1) == y[sample][r.found]
                print(f"{s} proxy, {name}: {r.found.sum()}/{len(sample)} found; {cal.line()}")
            a = right["box crop (shipped)"]
            for name in ("box crop, centred (before)", "eye-aligned"):
                b = right[name]
                only_box, only_new = int((a & ~b).sum()), int((~a & b).sum())
                # McNemar's z for paired right/wrong (same faces, same detections).
                z = (only_new - only_box) / max(1.0, np.sqrt(only_new + only_box))
                print(f"  paired vs the shipped box crop: right only with the box crop {only_box}, only {name} "
                      f"{only_new} (z = {z:+.2f})")
    print(f"[done in {time.time() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
