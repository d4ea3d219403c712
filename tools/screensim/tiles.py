"""One participant tile: a live webcam with its degradations, or a camera-off tile.

A live tile starts from ``tools.compose_gallery.render_tile`` (a real photo placed as a webcam
frames it) and then goes through what real calls do to it: a mask over the lower face, low
light or backlight, motion blur, a portrait phone video pillarboxed in a landscape tile, the
video codec (down- and up-scaling, JPEG 4:2:0 at quality 30-70) and a little sensor noise
that changes every frame (so a still profile photo can be told from a live camera).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from tools.compose_gallery import FacePhoto, Look, Participant, render_tile
from tools.screensim.text import draw_text, fit, text_size
from tools.screensim.truth import FXYXY, XYXY


@dataclass(frozen=True)
class LiveLook:
    """Everything random about one live participant, drawn once so frames agree."""

    photo: FacePhoto
    look: Look
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    masked: bool = False
    mask_colour: tuple[int, int, int] = (235, 215, 170)
    lowlight: bool = False
    backlight: bool = False
    motion_px: int = 0  # motion blur length, 0 for none
    motion_angle: float = 0.0
    pillarbox: bool = False
    jpeg_quality: int = 60
    codec_scale: float = 1.0  # the stream's resolution as a share of the tile's
    noise_seed: int = 0


def render_live(name: str, live: LiveLook, tile_wh: tuple[int, int], frame_index: int = 0,
                ) -> tuple[np.ndarray, FXYXY, tuple[str, ...]]:
    """The tile ``(h, w, 3)`` BGR, its face box in tile pixels and the conditions applied."""
    tw, th = tile_wh
    conditions: list[str] = []
    # A webcam is never perfectly still: a small sway per frame.
    sway = 0.006 * math.sin(1.7 * frame_index + live.noise_seed % 7)
    look = replace(live.look, dx_frac=live.look.dx_frac + sway)
    if live.pillarbox:
        inner_w = max(16, min(tw, int(th * 9 / 16)))
        inner, face = render_tile(Participant(name, live.photo, look), (inner_w, th), label=False)
        bar = int(18 + live.noise_seed % 20)
        tile = np.full((th, tw, 3), bar, np.uint8)
        x0 = (tw - inner_w) // 2
        tile[:, x0:x0 + inner_w] = inner
        assert face is not None
        face = (face[0] + x0, face[1], face[2] + x0, face[3])
        conditions.append("pillarbox")
    else:
        tile, face_or_none = render_tile(Participant(name, live.photo, look), (tw, th), label=False)
        assert face_or_none is not None
        face = face_or_none
        tile = np.ascontiguousarray(tile)
    if live.masked:
        _draw_mask(tile, face, live.mask_colour)
        conditions.append("masked")
    if live.lowlight:
        tile = cv2.convertScaleAbs(tile, alpha=0.28, beta=4)
        conditions.append("lowlight")
    elif live.backlight:
        tile = _backlight(tile, face)
        conditions.append("backlight")
    if live.motion_px >= 3:
        tile = _motion_blur(tile, live.motion_px, live.motion_angle)
        conditions.append("motionblur")
    rng = np.random.default_rng((live.noise_seed, frame_index))
    noise = rng.normal(0, 2.0, (th, tw, 1)).astype(np.float32)
    tile = np.clip(tile.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    tile = _codec(tile, live.codec_scale, live.jpeg_quality)
    return tile, face, tuple(conditions)


def _draw_mask(tile: np.ndarray, face: FXYXY, colour: tuple[int, int, int]) -> None:
    """A cloth or surgical mask from just under the nose to under the chin, with ear loops."""
    x0, y0, x1, y1 = face
    fw, fh = x1 - x0, y1 - y0
    top = y0 + 0.55 * fh
    pts = np.array([
        (x0 + 0.10 * fw, top + 0.04 * fh), (x0 + 0.30 * fw, top - 0.02 * fh),
        (x0 + 0.50 * fw, top - 0.05 * fh), (x0 + 0.70 * fw, top - 0.02 * fh),
        (x0 + 0.90 * fw, top + 0.04 * fh), (x0 + 0.86 * fw, y1 - 0.06 * fh),
        (x0 + 0.50 * fw, y1 + 0.04 * fh), (x0 + 0.14 * fw, y1 - 0.06 * fh),
    ], np.float32)
    shade = tuple(max(0, int(c * 0.8)) for c in colour)
    cv2.fillPoly(tile, [np.round(pts).astype(np.int32)], colour, cv2.LINE_AA)
    for k in (0.35, 0.55, 0.75):  # pleats
        y = int(top + k * (y1 - top))
        cv2.line(tile, (int(x0 + 0.16 * fw), y), (int(x0 + 0.84 * fw), y), shade, max(1, int(fh / 60)),
                 cv2.LINE_AA)
    loop = max(1, int(fh / 70))
    for side in (0.10, 0.90):
        cv2.line(tile, (int(x0 + side * fw), int(top + 0.04 * fh)),
                 (int(x0 + (side - 0.06 if side < 0.5 else side + 0.06) * fw), int(y0 + 0.42 * fh)),
                 (230, 230, 230), loop, cv2.LINE_AA)


def _backlight(tile: np.ndarray, face: FXYXY) -> np.ndarray:
    """A bright window behind the person: the background blown out, the face in shadow."""
    th, tw = tile.shape[:2]
    out = tile.astype(np.float32)
    person = np.zeros((th, tw), np.float32)
    x0, y0, x1, y1 = face
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    cv2.ellipse(person, (int(cx), int(cy)), (int((x1 - x0) * 0.7), int((y1 - y0) * 0.8)), 0, 0, 360,
                1.0, -1)
    cv2.ellipse(person, (int(cx), int(y1 + (y1 - y0) * 1.2)), (int((x1 - x0) * 1.5), int((y1 - y0) * 1.3)),
                0, 0, 360, 1.0, -1)
    person = cv2.GaussianBlur(person, (0, 0), max(1.0, (x1 - x0) * 0.1))[..., None]
    out = person * (out * 0.45) + (1 - person) * np.clip(out * 0.6 + 150, 0, 255)
    return np.clip(out, 0, 255).astype(np.uint8)


def _motion_blur(tile: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle_deg, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    return cv2.filter2D(tile, -1, k / max(k.sum(), 1e-6))


def _codec(tile: np.ndarray, scale: float, quality: int) -> np.ndarray:
    """The video stream: sent at a lower resolution, JPEG-like blocks and 4:2:0 chroma."""
    th, tw = tile.shape[:2]
    if scale < 0.98:
        small = cv2.resize(tile, (max(8, int(tw * scale)), max(8, int(th * scale))),
                           interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        small = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else small
        return cv2.resize(small, (tw, th), interpolation=cv2.INTER_LINEAR)
    ok, buf = cv2.imencode(".jpg", tile, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else tile


# --------------------------------------------------------------------------- camera off


def initials(name: str) -> str:
    """The initials the apps draw: first letters of the first two words that start with one."""
    words = [w for w in name.replace("_", " ").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def render_off(name: str, kind: str, app: str, tile_wh: tuple[int, int], tile_bgr: tuple[int, int, int],
               text_bgr: tuple[int, int, int], disc_bgr: tuple[int, int, int],
               avatar: np.ndarray | None) -> tuple[np.ndarray, XYXY | None]:
    """A camera-off tile: ``off-name`` (the name, centred), ``off-initials`` (a coloured disc)
    or ``off-photo`` (a still profile photo, round in Teams/Meet, square in Zoom). Returns the
    tile and, for ``off-photo``, the photo's box in tile pixels."""
    tw, th = tile_wh
    tile = np.full((th, tw, 3), tile_bgr, np.uint8)
    if kind == "off-name":
        size = int(np.clip(th * 0.11, 12, 40))
        text = fit(name, size, int(tw * 0.9))
        w, h = text_size(text, size)
        draw_text(tile, ((tw - w) // 2, (th - h) // 2), text, size, text_bgr)
        return tile, None
    side = int(min(th * 0.46, tw * 0.4))
    cx, cy = tw // 2, th // 2 - (0 if app == "zoom" else int(th * 0.03))
    x0, y0 = cx - side // 2, cy - side // 2
    if kind == "off-initials" or avatar is None or side < 12:
        cv2.circle(tile, (cx, cy), side // 2, disc_bgr, -1, cv2.LINE_AA)
        text = initials(name)
        size = max(8, int(side * 0.36))
        w, h = text_size(text, size)
        draw_text(tile, (cx - w // 2, cy - h // 2 - size // 8), text, size, (255, 255, 255))
        return tile, None
    photo = cv2.resize(avatar, (side, side), interpolation=cv2.INTER_AREA)
    if app == "zoom":
        tile[y0:y0 + side, x0:x0 + side] = photo
    else:
        paste_round(tile, photo, x0, y0)
    return tile, (x0, y0, x0 + side, y0 + side)


def paste_round(image: np.ndarray, photo: np.ndarray, x0: int, y0: int) -> None:
    """Paste ``photo`` (square) as a disc with its top-left at ``(x0, y0)``, clipped."""
    side = photo.shape[0]
    alpha = np.zeros((side, side), np.float32)
    cv2.circle(alpha, (side // 2, side // 2), side // 2, 1.0, -1, cv2.LINE_AA)
    H, W = image.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(W, x0 + side), min(H, y0 + side)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    a = alpha[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0, None]
    p = photo[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0].astype(np.float32)
    region = image[ay0:ay1, ax0:ax1].astype(np.float32)
    image[ay0:ay1, ax0:ax1] = (a * p + (1 - a) * region).astype(np.uint8)


# --------------------------------------------------------------------------- labels


def draw_name_label(image: np.ndarray, tile_xyxy: XYXY, name: str, app: str) -> tuple[str, XYXY]:
    """The display name as the app draws it on a tile (in place); the text drawn and its box.

    Zoom: white on a dark translucent box, bottom-left. Teams: white on a darker rounded pill,
    bottom-left. Meet: white text with a soft shadow, no box, bottom-left.
    """
    x0, y0, x1, y1 = tile_xyxy
    th = y1 - y0
    size = int(np.clip(th * 0.065, 10, 16))
    pad = 3 if app == "zoom" else 6
    text = fit(name, size, int((x1 - x0) * 0.8))
    w, h = text_size(text, size)
    bx0, by1 = x0 + pad, y1 - pad
    bx1, by0 = bx0 + w + 2 * pad + 2, by1 - h - 2 * pad
    if by0 < y0:
        return text, (bx0, by0, bx0, by0)
    if app in ("zoom", "teams"):
        region = image[by0:by1, bx0:min(bx1, x1)]
        factor = 0.4 if app == "zoom" else 0.3
        region[:] = (region.astype(np.float32) * factor + (8 if app == "teams" else 0)).astype(np.uint8)
    else:
        draw_text(image, (bx0 + pad + 1, by0 + pad + 1), text, size, (30, 30, 30))
    box = draw_text(image, (bx0 + pad, by0 + pad - 1), text, size, (255, 255, 255))
    return text, box


def round_corners(image: np.ndarray, tile_xyxy: XYXY, radius: int, bg_bgr: tuple[int, int, int]) -> None:
    """Paint the four corners of a tile in the background colour (Teams and Meet tiles)."""
    x0, y0, x1, y1 = tile_xyxy
    r = int(min(radius, (x1 - x0) // 4, (y1 - y0) // 4))
    if r < 2:
        return
    corner = np.zeros((r, r), np.uint8)
    cv2.circle(corner, (r, r), r, 1, -1, cv2.LINE_AA)
    outside = corner == 0
    for sx, sy, flip_x, flip_y in ((x0, y0, False, False), (x1 - r, y0, True, False),
                                   (x0, y1 - r, False, True), (x1 - r, y1 - r, True, True)):
        m = outside[::-1 if flip_y else 1, ::-1 if flip_x else 1]
        image[sy:sy + r, sx:sx + r][m] = bg_bgr
