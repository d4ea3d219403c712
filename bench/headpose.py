"""Head pose through the whole path on AFLW2000-3D: ``python -m bench.headpose [--data DIR] [--passes 2]``.

Each image goes through what the product runs: BlazeFace (``models.face_detector``, the face
nearest the image centre) -> FaceMesh landmarks (``models.face_landmarks``) -> pose
(``bot.attention.head_pose_deg``). Images at even positions of ``labels.csv`` are the fitting
half (the pose reference and every threshold were chosen there), odd ones the report half.
Faces within +-60 deg on every axis count, as the issue's target says.

Prints, per half: the share of those faces found, mean absolute error per axis, overall and
per |yaw| range, milliseconds per face (landmarks + pose, one thread), and on the fitting half
the distributions the thresholds in ``bot.attention`` were read from (landmark presence and
lower-face contrast on clearly visible faces, P(closed) of their eyes).

``--fit-reference`` prints the 36-point reference face fitted on the fitting half (the table
in ``bot.attention``); ``--screens DIR`` prints pose and raw attention state of every face on
real meeting screenshots (people following a call: what "looking at the screen" looks like).
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bot.attention import POSE_POINTS, attention_state, head_pose_deg, pose_rotation
from models.face_detector import MediaPipeFaceDetector
from models.face_landmarks import EyeStateClassifier, FaceLandmarker, eye_patches, eye_width_px, lower_face_contrast

log = logging.getLogger(__name__)

DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_DATA = DATA_ROOT / "headpose"
MAX_ANGLE_DEG = 60.0
YAW_RANGES_DEG = ((0, 15), (15, 30), (30, 45), (45, 60))
# The recommended refresh period of a face's landmarks (tracked from its previous reading).
LANDMARK_PERIOD_S = 3.0


@dataclass(frozen=True)
class PoseRun:
    """Per image (``n`` = rows of labels.csv): ``truth_deg`` ``(n, 3)`` yaw/pitch/roll, ``found``
    ``(n,)`` bool, ``pose_deg`` ``(n, 3)`` (NaN where not found), ``points_px`` ``(n, 468, 3)``,
    ``presence``, ``contrast``, ``p_closed`` ``(n, 2)``; ``landmark_ms`` per face (landmarks + pose) for a
    first reading, ``tracked_ms`` for a reading from the previous landmarks (``tracked_pose_deg``)."""

    files: list[str]
    truth_deg: np.ndarray
    found: np.ndarray
    pose_deg: np.ndarray
    points_px: np.ndarray
    presence: np.ndarray
    contrast: np.ndarray
    p_closed: np.ndarray
    landmark_ms: float
    detect_ms: float
    tracked_pose_deg: np.ndarray
    tracked_ms: float

    @property
    def fit(self) -> np.ndarray:
        return np.arange(len(self.files)) % 2 == 0

    @property
    def in_range(self) -> np.ndarray:
        return (np.abs(self.truth_deg) <= MAX_ANGLE_DEG).all(axis=1)


def load_labels(data_dir: Path = DEFAULT_DATA) -> tuple[list[str], np.ndarray]:
    """``labels.csv`` -> file names and ``(n, 3)`` float64 yaw, pitch, roll in degrees."""
    with (data_dir / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return ([r["file"] for r in rows],
            np.array([[float(r["yaw_deg"]), float(r["pitch_deg"]), float(r["roll_deg"])] for r in rows]))


def run_images(data_dir: Path = DEFAULT_DATA, passes: int = 2, indices: list[int] | None = None) -> PoseRun:
    """Detector -> landmarks -> pose on the images at ``indices`` (default all) of ``data_dir``."""
    files, truth = load_labels(data_dir)
    if indices is not None:
        files, truth = [files[i] for i in indices], truth[indices]
    n = len(files)
    found = np.zeros(n, bool)
    pose = np.full((n, 3), np.nan, np.float32)
    points = np.zeros((n, 468, 3), np.float32)
    presence = np.zeros(n, np.float32)
    contrast = np.zeros(n, np.float32)
    p_closed = np.zeros((n, 2), np.float32)
    tracked = np.full((n, 3), np.nan, np.float32)
    t_land = t_det = t_track = 0.0
    eyes = EyeStateClassifier()
    with MediaPipeFaceDetector() as detector, FaceLandmarker(passes=passes) as landmarker:
        for i, name in enumerate(files):
            image = cv2.imread(str(data_dir / "images" / name))
            if image is None:
                raise FileNotFoundError(data_dir / "images" / name)
            t0 = time.perf_counter()
            xyxy, _ = detector.detect(image)
            t1 = time.perf_counter()
            t_det += t1 - t0
            if not len(xyxy):
                continue
            centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
            k = int(np.argmin(((centre - [image.shape[1] / 2, image.shape[0] / 2]) ** 2).sum(axis=1)))
            t0 = time.perf_counter()
            lm = landmarker.landmarks(image, xyxy[k:k + 1])
            pose[i] = head_pose_deg(lm.points_px)[0]
            t_land += time.perf_counter() - t0
            t0 = time.perf_counter()  # the next reading of this face, tracked from this one
            tracked[i] = head_pose_deg(landmarker.landmarks(image, xyxy[k:k + 1], lm.points_px).points_px)[0]
            t_track += time.perf_counter() - t0
            found[i] = True
            points[i], presence[i] = lm.points_px[0], lm.presence[0]
            contrast[i] = lower_face_contrast(image, lm.points_px)[0]
            p_closed[i] = eyes.p_closed(eye_patches(image, lm.points_px))[0]
    n_found = max(int(found.sum()), 1)
    return PoseRun(files, truth, found, pose, points, presence, contrast, p_closed,
                   landmark_ms=1000 * t_land / n_found, detect_ms=1000 * t_det / max(n, 1),
                   tracked_pose_deg=tracked, tracked_ms=1000 * t_track / n_found)


def pose_errors(run: PoseRun, half: np.ndarray, tracked: bool = False) -> dict[str, float]:
    """Found share and mean absolute errors (degrees) for in-range faces of ``half``."""
    sel = half & run.in_range
    ok = sel & run.found
    err = np.abs((run.tracked_pose_deg if tracked else run.pose_deg)[ok] - run.truth_deg[ok])
    out = {"n": float(sel.sum()), "found": float(ok.sum()) / max(int(sel.sum()), 1)}
    for j, axis in enumerate(("yaw", "pitch", "roll")):
        out[axis] = float(err[:, j].mean()) if len(err) else float("nan")
    out["mean"] = float(err.mean()) if len(err) else float("nan")
    yaw = np.abs(run.truth_deg[ok, 0])
    for lo, hi in YAW_RANGES_DEG:
        m = (yaw >= lo) & (yaw < hi if hi < MAX_ANGLE_DEG else yaw <= hi)
        out[f"yaw{lo}-{hi}_n"] = float(m.sum())
        out[f"yaw{lo}-{hi}"] = float(err[m].mean()) if m.any() else float("nan")
    return out


def fit_reference(run: PoseRun) -> np.ndarray:
    """The reference face (``(36, 3)``, x right, y up, z towards the camera, unit RMS) from the
    fitting half: each face's pose points rotated back by its fitted pose, then averaged."""
    sel = run.fit & run.in_range & run.found
    acc = []
    for pts, (yaw, pitch, roll) in zip(run.points_px[sel], run.truth_deg[sel], strict=True):
        p = pts[POSE_POINTS].astype(np.float64)
        p[:, 1:] *= -1.0
        acc.append(_unit(p @ pose_rotation(yaw, pitch, roll)))
    return _unit(np.mean(acc, axis=0))


def _unit(p: np.ndarray) -> np.ndarray:
    p = p - p.mean(axis=0)
    return p / np.sqrt((p ** 2).sum(axis=1).mean())


def screens(folder: Path) -> None:
    """Pose and raw state of each face on the screenshots in ``folder`` (printed)."""
    from bot.detect import FaceFinder

    eyes = EyeStateClassifier()
    with MediaPipeFaceDetector() as detector, FaceLandmarker() as landmarker:
        finder = FaceFinder(detector, still_after_s=0)
        for path in sorted(folder.glob("*.[pj][np]g")):
            image = cv2.imread(str(path))
            if image is None:
                continue
            faces = finder.find_faces(image, np.zeros((0, 4), np.int32))
            lm = landmarker.landmarks(image, faces.xyxy)
            pose = head_pose_deg(lm.points_px)
            states = attention_state(pose, eyes.p_closed(eye_patches(image, lm.points_px)),
                                     lower_face_contrast(image, lm.points_px), lm.presence, eye_width_px(lm.points_px))
            for box, p, pr, s in zip(faces.xyxy, pose, lm.presence, states, strict=True):
                print(f"{path.name:32s} face h={box[3] - box[1]:5.0f}px  yaw {p[0]:+6.1f}  pitch {p[1]:+6.1f}  "
                      f"roll {p[2]:+6.1f}  presence {pr:.2f}  {s}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.headpose", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="AFLW2000-3D folder with labels.csv and images/")
    p.add_argument("--passes", type=int, default=2, choices=(1, 2), help="landmark passes per face")
    p.add_argument("--fit-reference", action="store_true", help="print the reference face fitted on the fitting half")
    p.add_argument("--screens", type=Path, nargs="?", const=DATA_ROOT / "screens", default=None,
                   help="also print pose and state of every face on these screenshots")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not (args.data / "labels.csv").is_file():
        log.error("no head-pose data at %s (labels.csv missing)", args.data)
        return 2
    run = run_images(args.data, passes=args.passes)
    print(f"AFLW2000-3D, {len(run.files)} images, faces within +-{MAX_ANGLE_DEG:.0f} deg on every axis; "
          f"{args.passes} landmark pass(es)")
    for name, half in (("fitting half (even)", run.fit), ("report half (odd)", ~run.fit)):
        e = pose_errors(run, half)
        ranges = "  ".join(f"|yaw| {lo}-{hi}: {e[f'yaw{lo}-{hi}']:.2f} (n={int(e[f'yaw{lo}-{hi}_n'])})"
                           for lo, hi in YAW_RANGES_DEG)
        print(f"{name}: {int(e['n'])} faces, found {100 * e['found']:.1f} %; MAE yaw {e['yaw']:.2f}  pitch "
              f"{e['pitch']:.2f}  roll {e['roll']:.2f}  mean {e['mean']:.2f} deg")
        print(f"    MAE (all axes) by |yaw|: {ranges}")
    t = pose_errors(run, ~run.fit, tracked=True)
    print(f"report half, tracked re-read (one pass from the previous landmarks): MAE yaw {t['yaw']:.2f}  pitch "
          f"{t['pitch']:.2f}  roll {t['roll']:.2f}  mean {t['mean']:.2f} deg")
    print(f"ms per face (one thread): first reading {run.landmark_ms:.2f}, tracked reading {run.tracked_ms:.2f} "
          f"(landmarks + pose; the detector, {run.detect_ms:.2f} ms per image, runs anyway); one tracked reading per "
          f"face every {LANDMARK_PERIOD_S:.0f} s = {run.tracked_ms / LANDMARK_PERIOD_S:.2f} ms per face per second")
    clear = run.fit & run.found & (np.abs(run.truth_deg) < 30).all(axis=1)
    q = (1, 2, 5, 50)
    print(f"fitting half, faces within +-30 deg (n={int(clear.sum())}): presence percentiles {q}: "
          f"{np.percentile(run.presence[clear], q).round(3).tolist()}")
    q2 = (50, 90, 95, 98, 99)
    print(f"    lower-face contrast percentiles {q2}: {np.percentile(run.contrast[clear], q2).round(1).tolist()}")
    print(f"    both eyes P(closed) > 0.5: {100 * float((run.p_closed[clear] > 0.5).all(axis=1).mean()):.1f} % "
          "(AFLW has many lowered and closed eyes)")
    if args.fit_reference:
        ref = fit_reference(run)
        print("reference face (index: x, y, z):")
        for k, r in zip(POSE_POINTS, ref, strict=True):
            print(f"    {k}: ({r[0]:+.4f}, {r[1]:+.4f}, {r[2]:+.4f}),")
    if args.screens is not None:
        screens(args.screens)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
