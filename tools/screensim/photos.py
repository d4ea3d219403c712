"""The photos the simulator paints: frontal faces, faces with a known head pose, avatars.

Frontal faces are ``tools.compose_gallery``'s (the named portraits and the utkface crops, or
Grace Hopper without ``../shared``). Turned and downward-looking faces are real photos from
``../shared/data/headpose`` (AFLW2000-3D, fitted yaw/pitch per photo), so a face's "yaw 60°"
in the ground truth is the photo's measured pose, not a warp pretending to be one. Their face
box is a fixed share of the photo (the set's faces are centred); it is approximate.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tools.compose_gallery import FacePhoto, load_face_photos, shared_dir

# AFLW2000-3D images are 450x450 with the face near the centre; this box covers the face of
# the frontal ones and the visible face of turned ones within the bench's loose match.
HEADPOSE_FACE_FRAC = (0.30, 0.30, 0.70, 0.76)
YAW_MIN_DEG = 45.0  # |yaw| at or above this is the "yaw" condition
YAW_MAX_DEG = 75.0  # beyond this a face is a profile; the target stops at ~60 degrees
DOWN_PITCH_DEG = -20.0  # pitch at or below this is "looking down"


@dataclass(frozen=True)
class PosePhoto:
    """A head-pose photo and its fitted angles (degrees; yaw > 0 turns to the image's left,
    pitch > 0 looks up)."""

    photo: FacePhoto
    yaw_deg: float
    pitch_deg: float


@dataclass(frozen=True)
class PhotoPool:
    """Everything the simulator can paint, sorted so a seed always picks the same photo."""

    frontal: tuple[FacePhoto, ...]
    turned: tuple[PosePhoto, ...]  # YAW_MIN_DEG <= |yaw| <= YAW_MAX_DEG, pitch above "down"
    down: tuple[PosePhoto, ...]  # looking down, |yaw| < YAW_MIN_DEG
    avatars: tuple[FacePhoto, ...]  # tight crops for profile photos and panel avatars


@lru_cache(maxsize=4)
def load_pool(shared: Path | None = None) -> PhotoPool:
    """The photo pool from ``shared`` (default ``compose_gallery.shared_dir()``); without it,
    Grace Hopper alone and no pose photos (the pose conditions are then left out)."""
    shared = shared if shared is not None else shared_dir()
    frontal = tuple(load_face_photos(shared))
    crops = tuple(p for p in frontal if p.tight_crop) or frontal
    turned: list[PosePhoto] = []
    down: list[PosePhoto] = []
    if shared is not None:
        root = shared / "data" / "headpose"
        labels = root / "labels.csv"
        if labels.is_file():
            with labels.open(newline="") as f:
                for row in csv.DictReader(f):
                    path = root / "images" / row["file"]
                    if not path.is_file():
                        continue
                    yaw, pitch = float(row["yaw_deg"]), float(row["pitch_deg"])
                    photo = FacePhoto(path, f"hp_{path.stem}", HEADPOSE_FACE_FRAC)
                    if YAW_MIN_DEG <= abs(yaw) <= YAW_MAX_DEG and DOWN_PITCH_DEG < pitch < 25:
                        turned.append(PosePhoto(photo, yaw, pitch))
                    elif abs(yaw) < YAW_MIN_DEG and -50 < pitch <= DOWN_PITCH_DEG:
                        down.append(PosePhoto(photo, yaw, pitch))
    turned.sort(key=lambda p: p.photo.path.name)
    down.sort(key=lambda p: p.photo.path.name)
    return PhotoPool(frontal, tuple(turned), tuple(down), crops)


@lru_cache(maxsize=256)
def read_square(path: Path) -> np.ndarray:
    """A photo's centre square (BGR), for profile photos and avatars; read-only, cached."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read photo {path}")
    h, w = image.shape[:2]
    s = min(h, w)
    out = np.ascontiguousarray(image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s])
    out.setflags(write=False)
    return out
