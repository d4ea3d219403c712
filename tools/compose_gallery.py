"""Compose realistic video-call gallery frames (Zoom/Teams/Meet look) from real face photos.

The detector, the tile finder and the tracker are tested on these frames, so each one comes
with its ground truth: every tile's box, whether a face is in it, whose, from which photo, and
the approximate face box (known from where the photo was placed).

Photos come from ``../shared/data/faces`` (override with ``$CLASSMOOD_SHARED``): the
single-face portraits at its top level and the tight ``utkface/`` crops, which are put on a
painted background with neck and shoulders so the tile looks like a head-and-shoulders webcam.
Without the shared folder, matplotlib's sample photo of Grace Hopper stands in (one person,
varied per tile) so the tools and tests still run.

Everything is deterministic from a seed::

    photos = load_face_photos()
    gallery = compose_gallery(photos, grid=(5, 5), size_wh=(1920, 1080), seed=3)
    gallery.image          # (1080, 1920, 3) BGR uint8
    gallery.tiles_xyxy()   # (25, 4) int32
    gallery.tiles[0]       # TileTruth(xyxy=..., person_id=..., face_xyxy=..., ...)

CLI: ``python -m tools.compose_gallery --grid 5x5 --size 1920x1080 --out x.png`` writes the
image and ``x.json`` with the ground truth; ``--video 40 --out x.avi`` writes a clip with a
participant joining half-way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

SHARED_ENV = "CLASSMOOD_SHARED"
_REPO_ROOT = Path(__file__).resolve().parents[1]

XYXY = tuple[int, int, int, int]

# Single-face photos at the top level of shared/data/faces: file -> (person id, approximate
# face box as fractions of the photo, x0 y0 x1 y1). Boxes were found with BlazeFace at a low
# threshold and checked by eye. Left out on purpose: the two-people photos (*two_people*,
# *obama_and_biden*, *kit_with_rose*), the partial faces (*partial_face*), and test_obama1,
# rose_leslie_img1 and biden_biden2, whose backdrops (a logo, a lamp, a painting) BlazeFace
# scores 0.5-0.8 as faces: the truth "one face per tile" would be wrong for them.
_PORTRAITS: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "alex_lacamoire_img1.jpg": ("alex_lacamoire", (0.305, 0.200, 0.702, 0.489)),
    "examples_alex-lacamoire.jpg": ("alex_lacamoire", (0.422, 0.383, 0.795, 0.784)),
    "examples_biden.jpg": ("joe_biden", (0.436, 0.120, 0.730, 0.250)),
    "examples_lin-manuel-miranda.jpg": ("lin_manuel_miranda", (0.339, 0.302, 0.770, 0.799)),
    "examples_obama-240p.jpg": ("barack_obama", (0.450, 0.138, 0.588, 0.383)),
    "examples_obama-480p.jpg": ("barack_obama", (0.448, 0.136, 0.584, 0.378)),
    "examples_obama-720p.jpg": ("barack_obama", (0.448, 0.139, 0.586, 0.383)),
    "examples_obama-1080p.jpg": ("barack_obama", (0.448, 0.139, 0.586, 0.383)),
    "examples_obama_small.jpg": ("barack_obama", (0.306, 0.279, 0.697, 0.800)),
    "kit_harington_john1.jpg": ("kit_harington", (0.572, 0.191, 0.670, 0.389)),
    "kit_harington_john2.jpg": ("kit_harington", (0.495, 0.251, 0.800, 0.765)),
    "obama_obama.jpg": ("barack_obama", (0.398, 0.128, 0.695, 0.366)),
    "obama_obama2.jpg": ("barack_obama", (0.302, 0.248, 0.796, 0.506)),
    "rose_leslie_img2.jpg": ("rose_leslie", (0.274, 0.197, 0.755, 0.512)),
    "test_alex_lacamoire1.jpg": ("alex_lacamoire", (0.398, 0.201, 0.617, 0.532)),
    "test_images_obama3.jpg": ("barack_obama", (0.445, 0.141, 0.639, 0.259)),
    "test_johnsnow_test1.jpg": ("kit_harington", (0.350, 0.173, 0.559, 0.312)),
}
# A utkface crop is the face: BlazeFace's box covers ~0.03..0.97 of it on every one of the 291.
_CROP_FACE_FRAC = (0.05, 0.06, 0.95, 0.96)
_FALLBACK_FACE_FRAC = (0.334, 0.243, 0.713, 0.567)  # matplotlib's grace_hopper.jpg

_NAMES = (
    "Ana", "Ben", "Chloe", "Dev", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Jun", "Kemi",
    "Liam", "Mara", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Vik",
    "Wen", "Xavi", "Yara", "Zoe", "Aiko", "Bruno", "Carla", "Dmitri", "Elif", "Femi",
)
_SURNAMES = ("Smith", "Okafor", "Nguyen", "Garcia", "Kowalski", "Haddad", "Sato", "Berg",
             "Mensah", "Rossi", "Patel", "Kim", "Silva", "Novak", "Ali", "Costa")

# Gallery backgrounds and camera-off tiles. Camera-off greys differ from the background by at
# least 16 levels, as in Zoom/Teams; a tile the same colour as the gap cannot be told apart.
_THEMES = {
    "dark": {"bg": (26, 26, 26), "off_grey": (44, 72), "text": (235, 235, 235)},
    "light": {"bg": (243, 242, 241), "off_grey": (196, 222), "text": (40, 40, 40)},
}


@dataclass(frozen=True)
class FacePhoto:
    """One photo holding exactly one face.

    ``face_frac`` is the approximate face box as fractions of the photo (x0, y0, x1, y1);
    ``tight_crop`` marks the utkface crops, which need a painted background around them.
    """

    path: Path
    person_id: str
    face_frac: tuple[float, float, float, float]
    tight_crop: bool = False


@dataclass(frozen=True)
class Look:
    """How one participant appears, kept across frames so identity can be followed."""

    face_frac: float  # face height / tile height
    dx_frac: float  # face centre offset from the tile centre, fraction of tile width
    top_frac: float  # face top, fraction of tile height
    flip: bool
    gain: float
    bias: float
    blur_sigma: float
    bg_seed: int


@dataclass(frozen=True)
class Participant:
    name: str
    photo: FacePhoto | None  # None: camera off
    look: Look


@dataclass(frozen=True)
class TileTruth:
    """Ground truth of one tile. ``face_xyxy`` is in frame pixels, None on camera-off tiles."""

    xyxy: XYXY
    name: str
    person_id: str | None = None
    photo: str | None = None
    face_xyxy: tuple[float, float, float, float] | None = None

    @property
    def has_face(self) -> bool:
        return self.person_id is not None


@dataclass(frozen=True, eq=False)
class Gallery:
    """A composed frame, ``image`` ``(h, w, 3)`` BGR uint8, and one ``TileTruth`` per tile."""

    image: np.ndarray
    tiles: tuple[TileTruth, ...]

    def tiles_xyxy(self) -> np.ndarray:
        """``(n, 4)`` int32 tile boxes, exclusive right/bottom edges."""
        return np.array([t.xyxy for t in self.tiles], np.int32).reshape(-1, 4)

    def face_mask(self) -> np.ndarray:
        """``(n,)`` bool, True for tiles that hold a face."""
        return np.array([t.has_face for t in self.tiles], bool)


# --------------------------------------------------------------------------- photos


def shared_dir() -> Path | None:
    """The shared data folder (``$CLASSMOOD_SHARED`` or ``<repo>/../shared``), None if absent."""
    env = os.environ.get(SHARED_ENV)
    path = Path(env) if env else _REPO_ROOT.parent / "shared"
    return path if (path / "data" / "faces").is_dir() else None


def load_face_photos(shared: Path | None = None, *, portraits: bool = True,
                     utkface: bool = True) -> list[FacePhoto]:
    """Every usable single-face photo, sorted; Grace Hopper alone when no shared folder exists.

    Args:
        shared: the shared folder; default ``shared_dir()``.
        portraits: include the named people's photos at the top level of ``data/faces``.
        utkface: include the 291 tight crops of ``data/faces/utkface``.
    """
    shared = shared if shared is not None else shared_dir()
    photos: list[FacePhoto] = []
    if shared is not None:
        faces = shared / "data" / "faces"
        if portraits:
            for name, (person, frac) in sorted(_PORTRAITS.items()):
                if (faces / name).is_file():
                    photos.append(FacePhoto(faces / name, person, frac))
        if utkface:
            for path in sorted((faces / "utkface").glob("*.jpg")):
                photos.append(FacePhoto(path, f"utk_{path.stem}", _CROP_FACE_FRAC, True))
    if not photos:
        photos.append(FacePhoto(fallback_photo_path(), "grace_hopper", _FALLBACK_FACE_FRAC))
    return photos


def fallback_photo_path() -> Path:
    """A one-face photo that ships inside matplotlib (used when ../shared is absent)."""
    from matplotlib import cbook

    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@lru_cache(maxsize=512)
def _read_photo(path: Path) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """The photo with near-black letterbox bars trimmed, the (x, y) trimmed, the full (h, w)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read photo {path}")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cols = np.flatnonzero(gray.max(axis=0) > 24)
    rows = np.flatnonzero(gray.max(axis=1) > 24)
    x0, x1, y0, y1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
    trimmed = np.ascontiguousarray(image[y0:y1, x0:x1])
    trimmed.setflags(write=False)
    return trimmed, (int(x0), int(y0)), (image.shape[0], image.shape[1])


def _photo_and_face_px(photo: FacePhoto, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    image, (ox, oy), shape = _read_photo(photo.path)
    f = np.array(photo.face_frac) * [shape[1], shape[0], shape[1], shape[0]] - [ox, oy, ox, oy]
    h, w = image.shape[:2]
    f = np.clip(f, 0, [w, h, w, h])
    if flip:
        image = image[:, ::-1]
        f = np.array([w - f[2], f[1], w - f[0], f[3]])
    return image, f


# --------------------------------------------------------------------------- layouts


def grid_layout(rows: int, cols: int, size_wh: tuple[int, int], *, n_tiles: int | None = None,
                gap_px: int = 6, margin_px: int = 10, aspect: float = 16 / 9) -> list[XYXY]:
    """Zoom-style gallery: equal 16:9 tiles, centred, the last row centred when not full.

    Returns ``n_tiles`` (default ``rows * cols``) boxes in row-major order.
    """
    w, h = size_wh
    n = rows * cols if n_tiles is None else n_tiles
    tw = min((w - 2 * margin_px - (cols - 1) * gap_px) / cols,
             (h - 2 * margin_px - (rows - 1) * gap_px) / rows * aspect)
    th = tw / aspect
    tw_i, th_i = int(tw), int(th)
    used_rows = math.ceil(n / cols)
    y_start = (h - used_rows * th_i - (used_rows - 1) * gap_px) // 2
    boxes: list[XYXY] = []
    for r in range(used_rows):
        in_row = min(cols, n - r * cols)
        x_start = (w - in_row * tw_i - (in_row - 1) * gap_px) // 2
        y0 = y_start + r * (th_i + gap_px)
        for c in range(in_row):
            x0 = x_start + c * (tw_i + gap_px)
            boxes.append((x0, y0, x0 + tw_i, y0 + th_i))
    return boxes


def auto_grid(n: int) -> tuple[int, int]:
    """The rows x cols Zoom picks for ``n`` participants (columns grow first)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def speaker_strip_layout(n_strip: int, size_wh: tuple[int, int], *, side: str = "top",
                         gap_px: int = 6, margin_px: int = 8) -> list[XYXY]:
    """A large speaker tile (first) plus a strip of small 16:9 tiles on ``side`` top/right."""
    w, h = size_wh
    boxes: list[XYXY] = []
    if side == "top":
        sh = h // 6
        sw = int(sh * 16 / 9)
        n_fit = max(1, (w - 2 * margin_px + gap_px) // (sw + gap_px))
        n_strip = min(n_strip, n_fit)
        x = (w - n_strip * sw - (n_strip - 1) * gap_px) // 2
        strip = [(x + i * (sw + gap_px), margin_px, x + i * (sw + gap_px) + sw, margin_px + sh)
                 for i in range(n_strip)]
        area = (margin_px, margin_px + sh + gap_px, w - margin_px, h - margin_px)
    elif side == "right":
        sw = w // 6
        sh = int(sw * 9 / 16)
        n_fit = max(1, (h - 2 * margin_px + gap_px) // (sh + gap_px))
        n_strip = min(n_strip, n_fit)
        y = (h - n_strip * sh - (n_strip - 1) * gap_px) // 2
        x0 = w - margin_px - sw
        strip = [(x0, y + i * (sh + gap_px), x0 + sw, y + i * (sh + gap_px) + sh)
                 for i in range(n_strip)]
        area = (margin_px, margin_px, x0 - gap_px, h - margin_px)
    else:
        raise ValueError(f"side must be 'top' or 'right', got {side!r}")
    aw, ah = area[2] - area[0], area[3] - area[1]
    bw = int(min(aw, ah * 16 / 9))
    bh = int(bw * 9 / 16)
    bx, by = area[0] + (aw - bw) // 2, area[1] + (ah - bh) // 2
    boxes.append((bx, by, bx + bw, by + bh))
    return boxes + strip


# --------------------------------------------------------------------------- rendering


def random_participants(photos: Sequence[FacePhoto], n: int, rng: np.random.Generator, *,
                        n_camera_off: int = 0, keep_first_on: bool = False,
                        ) -> list[Participant]:
    """``n`` participants, distinct people while the photos allow, ``n_camera_off`` cameras off."""
    by_person: dict[str, list[FacePhoto]] = {}
    for p in photos:
        by_person.setdefault(p.person_id, []).append(p)
    people = sorted(by_person)
    order = [people[i] for i in rng.permutation(len(people))]
    off_candidates = np.arange(1 if keep_first_on else 0, n)
    n_camera_off = min(n_camera_off, len(off_candidates))
    off = set(rng.choice(off_candidates, size=n_camera_off, replace=False).tolist())
    out: list[Participant] = []
    used_names: set[str] = set()
    k_on = 0
    for i in range(n):
        name = _fresh_name(rng, used_names)
        look = _random_look(rng)
        if i in off:
            out.append(Participant(name, None, look))
            continue
        person = order[k_on % len(order)]
        choices = by_person[person]
        photo = choices[int(rng.integers(len(choices)))]
        if k_on >= len(order):  # more faces than people: a varied copy under a new id
            photo = replace(photo, person_id=f"{person}#{k_on // len(order)}")
        k_on += 1
        out.append(Participant(name, photo, look))
    return out


def _fresh_name(rng: np.random.Generator, used: set[str]) -> str:
    for _ in range(100):
        name = f"{_NAMES[rng.integers(len(_NAMES))]} {_SURNAMES[rng.integers(len(_SURNAMES))]}"
        if name not in used:
            used.add(name)
            return name
    name = f"Guest {len(used) + 1}"
    used.add(name)
    return name


def _random_look(rng: np.random.Generator) -> Look:
    return Look(
        face_frac=float(rng.uniform(0.30, 0.52)),
        dx_frac=float(rng.uniform(-0.12, 0.12)),
        top_frac=float(rng.uniform(0.10, 0.24)),
        flip=bool(rng.random() < 0.5),
        gain=float(rng.uniform(0.75, 1.2)),
        bias=float(rng.uniform(-15, 15)),
        blur_sigma=float(rng.uniform(0.5, 1.3)) if rng.random() < 0.3 else 0.0,
        bg_seed=int(rng.integers(1 << 30)),
    )


def render_tile(participant: Participant, tile_wh: tuple[int, int], *, theme: str = "dark",
                label: bool = True) -> tuple[np.ndarray, tuple[float, float, float, float] | None]:
    """One tile image ``(h, w, 3)`` BGR uint8 and its face box in tile pixels (None if off)."""
    tw, th = tile_wh
    if participant.photo is None:
        tile = _camera_off_tile(participant, tile_wh, theme)
        return tile, None
    look = participant.look
    # Keep the face inside the tile and clear of the name label at the bottom.
    face_h = look.face_frac * th
    top = min(look.top_frac * th, th - face_h - max(22.0, 0.12 * th))
    top = max(top, 0.04 * th)
    if participant.photo.tight_crop:
        tile, face = _crop_on_background(participant.photo, look, tile_wh, face_h, top)
    else:
        tile, face = _portrait(participant.photo, look, tile_wh, face_h, top)
    tile = np.clip(tile.astype(np.float32) * look.gain + look.bias, 0, 255).astype(np.uint8)
    if look.blur_sigma > 0:
        tile = cv2.GaussianBlur(tile, (0, 0), look.blur_sigma)
    if label:
        _name_label(tile, participant.name)
    return tile, face


def _portrait(photo: FacePhoto, look: Look, tile_wh: tuple[int, int], face_h: float,
              top: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    tw, th = tile_wh
    image, f = _photo_and_face_px(photo, look.flip)
    # Tiny faces in full-body photos would turn to mush: cap the upscale (the face gets smaller).
    scale = min(face_h / max(f[3] - f[1], 1.0), 3.5)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interp)
    f = f * scale
    fw = f[2] - f[0]
    cx = tw * (0.5 + look.dx_frac)
    cx = min(max(cx, fw / 2 + 2), tw - fw / 2 - 2)
    tx = round(cx - (f[0] + f[2]) / 2)
    ty = round(top - f[1])
    m = np.float32([[1, 0, tx], [0, 1, ty]])
    tile = cv2.warpAffine(resized, m, (tw, th), flags=cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_REPLICATE)
    face = (f[0] + tx, f[1] + ty, f[2] + tx, f[3] + ty)
    return tile, _clip_box(face, tw, th)


def _crop_on_background(photo: FacePhoto, look: Look, tile_wh: tuple[int, int], face_h: float,
                        top: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    tw, th = tile_wh
    rng = np.random.default_rng(look.bg_seed)
    tile = _background(rng, tw, th)
    crop, _ = _photo_and_face_px(photo, look.flip)
    fy0, fy1 = _CROP_FACE_FRAC[1], _CROP_FACE_FRAC[3]
    side = max(8, round(face_h / (fy1 - fy0)))
    head = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA
                      if side < crop.shape[0] else cv2.INTER_LINEAR)
    cx = tw * (0.5 + look.dx_frac)
    cx = min(max(cx, side * 0.45 + 2), tw - side * 0.45 - 2)
    x0 = round(cx - side / 2)
    y0 = round(top - fy0 * side)
    # Shoulders and neck first, so the head is pasted over them.
    skin = head[int(side * 0.6):int(side * 0.8), int(side * 0.35):int(side * 0.65)]
    skin_bgr = tuple(float(v) for v in skin.reshape(-1, 3).mean(axis=0))
    shirt = tuple(float(v) for v in rng.integers(20, 200, 3))
    cxi = round(cx)
    cv2.rectangle(tile, (cxi - int(side * 0.17), y0 + int(side * 0.7)),
                  (cxi + int(side * 0.17), y0 + int(side * 1.15)), skin_bgr, -1)
    cv2.ellipse(tile, (cxi, y0 + int(side * 1.65)), (int(side * 0.95), int(side * 0.6)), 0, 0,
                360, shirt, -1, cv2.LINE_AA)
    alpha = np.zeros((side, side), np.float32)
    cv2.ellipse(alpha, (side // 2, side // 2), (int(side * 0.46), int(side * 0.52)), 0, 0, 360,
                1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.5, side * 0.03))[..., None]
    # Paste with clipping at the tile edges.
    px0, py0 = max(x0, 0), max(y0, 0)
    px1, py1 = min(x0 + side, tw), min(y0 + side, th)
    if px1 > px0 and py1 > py0:
        region = tile[py0:py1, px0:px1].astype(np.float32)
        h_part = head[py0 - y0:py1 - y0, px0 - x0:px1 - x0].astype(np.float32)
        a = alpha[py0 - y0:py1 - y0, px0 - x0:px1 - x0]
        tile[py0:py1, px0:px1] = (a * h_part + (1 - a) * region).astype(np.uint8)
    fx0, fx1 = _CROP_FACE_FRAC[0], _CROP_FACE_FRAC[2]
    face = (x0 + fx0 * side, y0 + fy0 * side, x0 + fx1 * side, y0 + fy1 * side)
    return tile, _clip_box(face, tw, th)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A home-office-ish backdrop: a wall gradient, blurry blobs (shelves, plants) and noise."""
    c0 = rng.integers(60, 235, 3).astype(np.float32)
    c1 = np.clip(c0 + rng.integers(-50, 50, 3), 40, 250).astype(np.float32)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(c0 * (1 - t) + c1 * t, (h, w, 3)).copy()
    style = rng.integers(3)
    if style >= 1:
        blobs = np.zeros((h, w, 3), np.float32)
        for _ in range(int(rng.integers(3, 9))):
            x, y = int(rng.integers(w)), int(rng.integers(h))
            ax, ay = int(rng.integers(w // 20 + 1, w // 4 + 2)), int(rng.integers(h // 20 + 1,
                                                                                   h // 3 + 2))
            colour = tuple(float(v) for v in rng.integers(-70, 70, 3))
            cv2.ellipse(blobs, (x, y), (ax, ay), float(rng.uniform(0, 180)), 0, 360, colour, -1)
        img += cv2.GaussianBlur(blobs, (0, 0), max(1.0, w / 60))
    if style == 2:  # a door or shelf edge: a sharp vertical line
        x = int(rng.integers(w))
        cv2.rectangle(img, (x, 0), (x + max(2, w // 40), h), tuple(float(v) for v in c1 * 0.7),
                      -1)
    img += rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _camera_off_tile(participant: Participant, tile_wh: tuple[int, int], theme: str,
                     ) -> np.ndarray:
    tw, th = tile_wh
    spec = _THEMES[theme]
    rng = np.random.default_rng(participant.look.bg_seed)
    lo, hi = spec["off_grey"]
    grey = int(rng.integers(lo, hi))
    tile = np.full((th, tw, 3), grey, np.uint8)
    text = spec["text"]
    if rng.random() < 0.5:  # Zoom: the name, centred
        _centred_text(tile, participant.name, max(0.4, min(1.2, tw / 500)), text)
    else:  # Teams: initials in a coloured disc
        initials = "".join(p[0] for p in participant.name.split()[:2]).upper()
        r = max(6, int(min(tw, th) * 0.2))
        colour = tuple(int(v) for v in rng.integers(80, 200, 3))
        cv2.circle(tile, (tw // 2, th // 2), r, colour, -1, cv2.LINE_AA)
        _centred_text(tile, initials, max(0.3, r / 30), (255, 255, 255))
        _name_label(tile, participant.name)
    return tile


def _centred_text(tile: np.ndarray, text: str, scale: float, colour: tuple[int, ...]) -> None:
    th, tw = tile.shape[:2]
    thick = max(1, int(scale * 1.5))
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    cv2.putText(tile, text, ((tw - w) // 2, (th + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                colour, thick, cv2.LINE_AA)


def _name_label(tile: np.ndarray, name: str) -> None:
    """Zoom's label: white text on a translucent dark box, inside the tile's bottom-left."""
    th, tw = tile.shape[:2]
    scale = 0.42 if th < 300 else 0.55
    (w, h), base = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x0, y1 = 4, th - 4
    x1, y0 = min(tw - 1, x0 + w + 8), y1 - h - base - 6
    if y0 < 0:
        return
    region = tile[y0:y1, x0:x1]
    region[:] = (region.astype(np.float32) * 0.35).astype(np.uint8)
    cv2.putText(tile, name, (x0 + 4, y1 - base - 3), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), 1, cv2.LINE_AA)


def _clip_box(b: Sequence[float], w: int, h: int) -> tuple[float, float, float, float]:
    return (float(np.clip(b[0], 0, w)), float(np.clip(b[1], 0, h)),
            float(np.clip(b[2], 0, w)), float(np.clip(b[3], 0, h)))


def render_gallery(participants: Sequence[Participant], boxes: Sequence[XYXY],
                   size_wh: tuple[int, int], *, theme: str = "dark",
                   jpeg_quality: int = 0) -> Gallery:
    """Paint participants into ``boxes`` (one each, same order) on a ``theme`` background.

    ``jpeg_quality`` 1..100 passes the frame through JPEG, as screen-sharing codecs do; 0 skips.
    """
    if len(participants) != len(boxes):
        raise ValueError(f"{len(participants)} participants for {len(boxes)} tiles")
    w, h = size_wh
    image = np.full((h, w, 3), _THEMES[theme]["bg"], np.uint8)
    tiles: list[TileTruth] = []
    for p, (x0, y0, x1, y1) in zip(participants, boxes, strict=True):
        tile, face = render_tile(p, (x1 - x0, y1 - y0), theme=theme)
        image[y0:y1, x0:x1] = tile
        face_frame = None if face is None else (face[0] + x0, face[1] + y0, face[2] + x0,
                                                face[3] + y0)
        tiles.append(TileTruth(
            xyxy=(int(x0), int(y0), int(x1), int(y1)), name=p.name,
            person_id=None if p.photo is None else p.photo.person_id,
            photo=None if p.photo is None else p.photo.path.name, face_xyxy=face_frame))
    if jpeg_quality:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return Gallery(image=image, tiles=tuple(tiles))


def compose_gallery(photos: Sequence[FacePhoto], *, grid: tuple[int, int] = (3, 3),
                    size_wh: tuple[int, int] = (1920, 1080), seed: int = 0,
                    layout: str = "grid", n_tiles: int | None = None,
                    camera_off_frac: float = 0.15, theme: str = "dark",
                    jpeg_quality: int | None = None) -> Gallery:
    """A gallery frame and its ground truth, deterministic from ``seed``.

    Args:
        photos: from ``load_face_photos()``.
        grid: rows, cols for ``layout="grid"``; (1, 1) is the speaker view.
        size_wh: frame width, height in pixels.
        layout: ``grid``, ``strip-top`` (Zoom speaker + thumbnails) or ``strip-right`` (Meet);
            for strips ``n_tiles`` (default 6) counts the speaker too.
        n_tiles: fewer tiles than the grid holds (last row centred).
        camera_off_frac: share of tiles with the camera off (the speaker tile stays on).
        theme: ``dark`` (Zoom) or ``light`` (Teams light) background.
        jpeg_quality: 1..100; None draws one in 55..95 from the seed; 0 keeps the frame exact.
    """
    if theme not in _THEMES:
        raise ValueError(f"theme must be one of {sorted(_THEMES)}, got {theme!r}")
    rng = np.random.default_rng(seed)
    gap = int(rng.integers(3, 9))
    if layout == "grid":
        boxes = grid_layout(*grid, size_wh, n_tiles=n_tiles, gap_px=gap,
                            margin_px=int(rng.integers(4, 24)))
    elif layout in ("strip-top", "strip-right"):
        boxes = speaker_strip_layout((n_tiles or 6) - 1, size_wh, side=layout[6:], gap_px=gap)
    else:
        raise ValueError(f"layout must be grid, strip-top or strip-right, got {layout!r}")
    n_off = int(round(len(boxes) * camera_off_frac))
    people = random_participants(photos, len(boxes), rng, n_camera_off=n_off,
                                 keep_first_on=layout != "grid" or len(boxes) == 1)
    if jpeg_quality is None:
        jpeg_quality = int(rng.integers(55, 96))
    return render_gallery(people, boxes, size_wh, theme=theme, jpeg_quality=jpeg_quality)


def write_gallery_video(path: str | Path, photos: Sequence[FacePhoto], *, n_frames: int = 30,
                        fps: float = 10.0, size_wh: tuple[int, int] = (1280, 720),
                        n_start: int = 9, seed: int = 0, theme: str = "dark",
                        jpeg_quality: int = 85) -> list[tuple[TileTruth, ...]]:
    """Write a gallery clip where one participant joins half-way; return the truth per frame.

    The grid reflows at frame ``n_frames // 2`` (tiles move and resize, e.g. 3x3 -> 4+4+2);
    every participant keeps their photo and look, and faces sway a little frame to frame (with
    camera noise on top, as live video has), so a tracker's identities can be checked against
    ``TileTruth.person_id``. The codec follows
    the suffix: ``.avi`` -> MJPG, ``.mp4`` -> mp4v (both work with the pip OpenCV wheels).
    """
    path = Path(path)
    fourcc = {".avi": "MJPG", ".mp4": "mp4v"}.get(path.suffix.lower())
    if fourcc is None:
        raise ValueError(f"video must end in .avi or .mp4, got {path.name}")
    rng = np.random.default_rng(seed)
    people = random_participants(photos, n_start + 1, rng, n_camera_off=1)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size_wh)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {fourcc} video to {path}")
    truths: list[tuple[TileTruth, ...]] = []
    try:
        for i in range(n_frames):
            present = people[:n_start] if i < n_frames // 2 else people
            sway = 0.02 * math.sin(2 * math.pi * i / max(fps * 2, 1))
            moved = [replace(p, look=replace(p.look, dx_frac=p.look.dx_frac + sway))
                     for p in present]
            boxes = grid_layout(*auto_grid(len(moved)), size_wh, n_tiles=len(moved))
            frame = render_gallery(moved, boxes, size_wh, theme=theme, jpeg_quality=jpeg_quality)
            # Camera sensor noise: no two frames of a live video are the same (a still profile
            # photo is; the face finder tells them apart by that).
            noise = rng.normal(0.0, 3.0, frame.image.shape)
            writer.write(np.clip(frame.image + noise, 0, 255).astype(np.uint8))
            truths.append(frame.tiles)
    finally:
        writer.release()
    return truths


# --------------------------------------------------------------------------- CLI


def _pair(text: str) -> tuple[int, int]:
    a, b = text.lower().split("x")
    return int(a), int(b)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.compose_gallery",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=_pair, default=(3, 3), help="rows x cols, e.g. 5x5")
    parser.add_argument("--size", type=_pair, default=(1920, 1080), help="width x height")
    parser.add_argument("--layout", default="grid", choices=["grid", "strip-top", "strip-right"])
    parser.add_argument("--tiles", type=int, default=None, help="number of tiles (default: all)")
    parser.add_argument("--theme", default="dark", choices=sorted(_THEMES))
    parser.add_argument("--camera-off", type=float, default=0.15, help="share of cameras off")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video", type=int, default=0, metavar="N",
                        help="write an N-frame clip (.avi/.mp4) with a reflow half-way")
    parser.add_argument("--out", required=True, help="output .png/.jpg, or .avi/.mp4 with --video")
    args = parser.parse_args(argv)
    photos = load_face_photos()
    out = Path(args.out)
    try:
        if args.video:
            truths = write_gallery_video(out, photos, n_frames=args.video, size_wh=args.size,
                                         seed=args.seed, theme=args.theme)
            truth: object = [[asdict(t) for t in frame] for frame in truths]
        else:
            gallery = compose_gallery(photos, grid=args.grid, size_wh=args.size, seed=args.seed,
                                      layout=args.layout, n_tiles=args.tiles,
                                      camera_off_frac=args.camera_off, theme=args.theme)
            if not cv2.imwrite(str(out), gallery.image):
                print(f"error: cannot write {out}", file=sys.stderr)
                return 1
            truth = [asdict(t) for t in gallery.tiles]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out.with_suffix(".json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {out} and {out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
