"""A whole meeting screen from a seed: desktop, app window, panels, layout, tiles, truth.

``random_spec(seed)`` draws every choice (app, theme, size, layout, panels, which tiles are
masked, turned, dark...) and ``simulate_screen(spec)`` paints it; overrides pin any choice,
so a benchmark can ask for "share + strip, Teams, 1366x768" and still vary everything else
with the seed. ``frame_index`` re-renders the same screen a moment later: live cameras sway
and their noise changes, camera-off tiles and the UI stay exactly the same.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import cv2
import numpy as np

from tools.compose_gallery import Look
from tools.screensim import chrome, layouts
from tools.screensim.photos import PhotoPool, load_pool, read_square
from tools.screensim.tiles import LiveLook, draw_name_label, render_live, render_off, round_corners
from tools.screensim.truth import XYXY, Decoy, FaceTruth, Screen, TextItem, TileTruth

SIZES = ((1280, 720), (1366, 768), (1440, 900), (1600, 900), (1920, 1080), (1920, 1200), (2560, 1440))
APPS = ("zoom", "teams", "meet")

# Display names as people really set them: ids, tags, diacritics, long ones the apps cut.
NAMES = (
    "20231047_Ana M. Souza Ferreira", "[TA] Omar", "Zoë Ångström", "Łukasz Wróbel", "José Núñez",
    "Nguyễn Thị Hạnh", "Søren Kjærgård", "Dr. Priya Raghunathan", "iPhone de María", "Kemi (she/her)",
    "Ben", "Chloe Dubois", "Dev Patel", "Fatima Al-Haddad", "Gus", "Hana Sato", "Ivan Petrov",
    "Jun Kim", "Liam O'Connor", "Mara Rossi", "Noor Ali", "Quinn", "Rosa García-López", "Sven Berg",
    "Tara Mensah", "Uma Iyer", "Vik", "Wen Li", "Xavi Puig", "Yara Costa", "Aiko Tanaka",
    "Bruno Silva", "Carla Novak", "Dmitri Volkov", "Elif Yılmaz", "Femi Okafor", "Grégoire Lefèvre",
    "Helga Müller", "Ingrid Østby", "João Gonçalves", "Kasia Wiśniewska", "Leila Ahmadi",
    "Mateo Fernández", "Nadia Benali", "Olu Adeyemi", "Pablo Ruiz", "Rania Khoury", "Sami Virtanen",
    "Tomás Ó Briain", "Ugo Ferrari", "Vera Nováková", "Will Turner", "Xu Ming", "Yusuf Demir",
    "Zainab Bello", "2024-117 Marco Bianchi", "Galaxy S21", "Guest 3", "Ms. Laura Schmidt (Teacher)",
)


@dataclass(frozen=True)
class ScreenSpec:
    """Every choice behind one screen. Shares (``*_frac``) are per live tile."""

    seed: int
    size_wh: tuple[int, int] = (1920, 1080)
    app: str = "zoom"
    theme: str = "dark"
    os_name: str = "windows"
    layout: str = "gallery"  # gallery | speaker | share
    rows: int = 3
    cols: int = 3
    n_tiles: int = 9
    strip_side: str = "top"  # top | right
    windowed: bool = False
    panels: tuple[str, ...] = ()  # "people", "chat"
    camera_off_frac: float = 0.15
    off_photo_frac: float = 0.4  # camera-off tiles showing a still profile photo
    masked_frac: float = 0.1
    turned_frac: float = 0.08
    down_frac: float = 0.06
    small_frac: float = 0.15  # webcam far away: face 14-24 % of the tile's height, off-centre
    lowlight_frac: float = 0.06
    backlight_frac: float = 0.05
    motion_frac: float = 0.05
    pillarbox_frac: float = 0.06
    recording: bool = False
    watermark: bool = False
    cursor: bool = True
    screen_jpeg: int = 0  # the screenshot itself saved as JPEG (0: PNG-exact)


def random_spec(seed: int, **overrides: Any) -> ScreenSpec:
    """A spec drawn from ``seed``; any field can be pinned with a keyword."""
    names = {f.name for f in fields(ScreenSpec)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"unknown screen spec fields: {sorted(unknown)}")
    rng = np.random.default_rng((seed, 7))
    layout = overrides.get("layout") or str(rng.choice(["gallery", "gallery", "speaker", "share"]))
    rows = int(rng.integers(1, 8))
    cols = int(min(7, max(rows, rows + rng.integers(0, 2))))
    if layout == "gallery":
        n = int(rng.integers(max(1, (rows - 1) * cols + 1), rows * cols + 1))
    else:
        n = int(rng.integers(5, 10))
    app = str(rng.choice(APPS))
    spec = ScreenSpec(
        seed=seed, size_wh=SIZES[int(rng.integers(len(SIZES)))], app=app,
        theme=str(rng.choice(["dark", "dark", "light"])), os_name=str(rng.choice(["windows", "windows", "mac"])),
        layout=layout, rows=rows, cols=cols, n_tiles=n,
        strip_side=str(rng.choice(["top", "right"])), windowed=bool(rng.random() < 0.3),
        panels=(("people",), ("chat",), ("people", "chat"), (), (), ())[int(rng.integers(6))],
        camera_off_frac=float(rng.choice([0.0, 0.1, 0.2, 0.4])),
        recording=bool(rng.random() < 0.3), watermark=bool(rng.random() < 0.2),
        screen_jpeg=int(rng.integers(75, 95)) if rng.random() < 0.25 else 0,
    )
    spec = replace(spec, **overrides)
    if spec.layout == "gallery" and spec.n_tiles > spec.rows * spec.cols:
        raise ValueError(f"{spec.n_tiles} tiles do not fit a {spec.rows}x{spec.cols} gallery")
    return spec


@dataclass(frozen=True)
class _Person:
    name: str
    camera: str  # on | off-name | off-initials | off-photo
    live: LiveLook | None
    avatar: np.ndarray | None  # profile photo (camera-off) / panel avatar, or None (initials)
    base_conditions: tuple[str, ...]


def _people(spec: ScreenSpec, n: int, pool: PhotoPool, first_on: bool) -> list[_Person]:
    """``n`` participants with their cameras, photos and looks, from the spec's seed."""
    rng = np.random.default_rng((spec.seed, 11))
    names = [NAMES[i] for i in rng.permutation(len(NAMES))]
    names = (names * (n // len(names) + 1))[:n]
    frontal = [pool.frontal[i] for i in rng.permutation(len(pool.frontal))]
    n_off = int(round(n * spec.camera_off_frac))
    off = set(rng.choice(np.arange(1 if first_on else 0, n), size=min(n_off, n - int(first_on)),
                         replace=False).tolist()) if n_off else set()
    people: list[_Person] = []
    for i in range(n):
        avatar_photo = pool.avatars[int(rng.integers(len(pool.avatars)))]
        avatar = read_square(avatar_photo.path) if rng.random() < 0.5 else None
        if i in off:
            if rng.random() < spec.off_photo_frac:
                people.append(_Person(names[i], "off-photo", None, read_square(avatar_photo.path), ()))
            else:
                kind = "off-name" if spec.app == "zoom" else "off-initials"
                people.append(_Person(names[i], kind, None, avatar, ()))
            continue
        cond: list[str] = []
        yaw = pitch = None
        r = rng.random()
        if r < spec.turned_frac and pool.turned:
            pose = pool.turned[int(rng.integers(len(pool.turned)))]
            photo, yaw, pitch = pose.photo, pose.yaw_deg, pose.pitch_deg
            cond.append("yaw")
        elif r < spec.turned_frac + spec.down_frac and pool.down:
            pose = pool.down[int(rng.integers(len(pool.down)))]
            photo, yaw, pitch = pose.photo, pose.yaw_deg, pose.pitch_deg
            cond.append("down")
        else:
            photo = frontal[i % len(frontal)]
        small = rng.random() < spec.small_frac
        dx = float(rng.uniform(-0.25, 0.25)) if small else float(rng.uniform(-0.1, 0.1))
        if abs(dx) > 0.15:
            cond.append("offcentre")
        look = Look(face_frac=float(rng.uniform(0.14, 0.24) if small else rng.uniform(0.28, 0.5)),
                    dx_frac=dx, top_frac=float(rng.uniform(0.12, 0.3)), flip=bool(rng.random() < 0.5),
                    gain=float(rng.uniform(0.8, 1.15)), bias=float(rng.uniform(-12, 12)),
                    blur_sigma=float(rng.uniform(0.5, 1.0)) if rng.random() < 0.2 else 0.0,
                    bg_seed=int(rng.integers(1 << 30)))
        masked = not cond and rng.random() < spec.masked_frac / max(1e-6, 1 - spec.turned_frac - spec.down_frac)
        light = rng.random()
        motion = rng.random() < spec.motion_frac
        live = LiveLook(
            photo=photo, look=look, yaw_deg=yaw, pitch_deg=pitch, masked=bool(masked),
            mask_colour=[(235, 215, 170), (245, 245, 245), (40, 40, 40), (150, 110, 200)][int(rng.integers(4))],
            lowlight=light < spec.lowlight_frac,
            backlight=spec.lowlight_frac <= light < spec.lowlight_frac + spec.backlight_frac,
            motion_px=int(rng.integers(5, 12)) if motion else 0, motion_angle=float(rng.uniform(0, 180)),
            pillarbox=rng.random() < spec.pillarbox_frac, jpeg_quality=int(rng.integers(30, 71)),
            codec_scale=float(rng.choice([1.0, 0.75, 0.5])), noise_seed=int(rng.integers(1 << 30)))
        people.append(_Person(names[i], "on", live, avatar, tuple(cond)))
    return people


def simulate_screen(spec: ScreenSpec | int, frame_index: int = 0, pool: PhotoPool | None = None) -> Screen:
    """Paint the screen of ``spec`` (or ``random_spec(seed)``) at ``frame_index``."""
    if isinstance(spec, int):
        spec = random_spec(spec)
    if (spec.app, spec.theme) not in chrome.PALETTES:
        raise ValueError(f"unknown app/theme {spec.app}/{spec.theme}")
    pool = pool if pool is not None else load_pool()
    pal = chrome.PALETTES[(spec.app, spec.theme)]
    rng = np.random.default_rng((spec.seed, 3))  # the UI: the same on every frame
    w, h = spec.size_wh
    texts: list[TextItem] = []
    decoys: list[Decoy] = []
    regions: dict[str, XYXY] = {}
    image = chrome.wallpaper(rng, w, h)
    bar = chrome.taskbar(image, spec.os_name, rng, texts)
    regions["taskbar"] = bar
    desk = (0, bar[3], w, h) if spec.os_name == "mac" else (0, 0, w, bar[1])
    if spec.windowed:
        ww = int((desk[2] - desk[0]) * rng.uniform(0.62, 0.9))
        wh = int((desk[3] - desk[1]) * rng.uniform(0.7, 0.95))
        wx = desk[0] + int(rng.integers(0, desk[2] - desk[0] - ww + 1))
        wy = desk[1] + int(rng.integers(0, desk[3] - desk[1] - wh + 1))
        window = (wx, wy, wx + ww, wy + wh)
        cv2.rectangle(image, (wx - 1, wy - 1), (wx + ww, wy + wh), (90, 90, 90), 1)
    else:
        window = desk
    x0, y0, x1, y1 = window
    title_h = 30
    chrome.title_bar(image, (x0, y0, x1, y0 + title_h), chrome.TITLES[spec.app], spec.theme == "dark", texts)
    y0 += title_h
    if spec.app == "teams":
        regions["toolbar"] = (x0, y0, x1, y0 + 48)
        y0 += 48
    else:
        tb_h = 60 if spec.app == "zoom" else 72
        regions["toolbar"] = (x0, y1 - tb_h, x1, y1)
        y1 -= tb_h
    n = spec.n_tiles
    self_view = spec.app == "meet" and spec.layout == "share"
    people = _people(spec, n + int(self_view), pool, first_on=spec.layout == "speaker")
    chrome.toolbar(image, regions["toolbar"], spec.app, pal, n, texts)
    if spec.panels:
        pw = int(np.clip((x1 - x0) * 0.22, 240, 340))
        px0 = x1 - pw
        names = [p.name for p in people]
        avatars = [p.avatar for p in people]
        if len(spec.panels) == 2:
            mid = y0 + int((y1 - y0) * 0.55)
            boxes = {"people": (px0, y0, x1, mid), "chat": (px0, mid, x1, y1)}
        else:
            boxes = {spec.panels[0]: (px0, y0, x1, y1)}
        for kind, box in boxes.items():
            regions[f"panel-{kind}"] = box
            if kind == "people":
                chrome.people_panel(image, box, pal, names, avatars, rng, texts, decoys)
            else:
                chrome.chat_panel(image, box, pal, names, avatars, rng, texts, decoys)
        x1 = px0
    stage = (x0, y0, x1, y1)
    image[y0:y1, x0:x1] = pal.stage
    gap_lo, gap_hi = {"zoom": (2, 7), "teams": (4, 9), "meet": (6, 11)}[spec.app]
    gap = int(rng.integers(gap_lo, gap_hi))
    margin = int(rng.integers(6, 30))
    if spec.layout == "gallery":
        place = layouts.gallery(stage, spec.rows, spec.cols, n, gap, margin)
    elif spec.layout == "speaker":
        place = layouts.speaker(stage, n - 1, spec.strip_side, gap, margin)
    elif spec.layout == "share":
        place = layouts.share(stage, n, spec.strip_side, gap, margin)
    else:
        raise ValueError(f"layout must be gallery, speaker or share, got {spec.layout!r}")
    if place.share_xyxy is not None:
        regions["share"] = place.share_xyxy
        chrome.slide(image, place.share_xyxy, np.random.default_rng((spec.seed, 5)), texts)
    tile_boxes = list(place.tiles)
    if spec.app == "meet" and spec.layout == "share" and place.share_xyxy is not None:
        # Meet's floating self view sits over the shared content's bottom-left corner.
        sx0, sy0, sx1, sy1 = place.share_xyxy
        sw = max(120, (sx1 - sx0) // 6)
        tile_boxes.append(((sx0 + 12, sy1 - 12 - sw * 9 // 16, sx0 + 12 + sw, sy1 - 12), "self"))
        people[-1] = replace(people[-1], name="You")
    people = people[:len(tile_boxes)]
    tiles: list[TileTruth] = []
    faces: list[FaceTruth] = []
    speaking = next((k for k, p in enumerate(people) if p.camera == "on"), None)
    radius = {"zoom": 0, "teams": 6, "meet": 10}[spec.app]
    for k, ((tx0, ty0, tx1, ty1), role) in enumerate(tile_boxes):
        p = people[k]
        tw, th = tx1 - tx0, ty1 - ty0
        face_index = None
        if p.live is not None:
            tile, face, cond = render_live(p.name, p.live, (tw, th), frame_index)
            image[ty0:ty1, tx0:tx1] = tile
            fxyxy = (face[0] + tx0, face[1] + ty0, face[2] + tx0, face[3] + ty0)
            fh = fxyxy[3] - fxyxy[1]
            size_cond = ("tiny",) if fh < 24 else ("small",) if fh < 32 else ()
            all_cond = p.base_conditions + cond + size_cond
            if role in ("speaker", "strip", "self"):
                all_cond += (role,)
            if not any(c in all_cond for c in ("yaw", "down")):
                all_cond = ("frontal",) + all_cond
            face_index = len(faces)
            faces.append(FaceTruth(tuple(float(v) for v in fxyxy), k, p.live.photo.person_id,  # type: ignore[arg-type]
                                   p.live.photo.path.name, all_cond, p.live.yaw_deg, p.live.pitch_deg))
        else:
            disc = pal.disc[k % len(pal.disc)]
            text_col = pal.text if spec.theme == "dark" or spec.app != "zoom" else (40, 40, 40)
            tile, photo_box = render_off(p.name, p.camera, spec.app, (tw, th), pal.tile_off, text_col, disc,
                                         p.avatar if p.camera == "off-photo" else None)
            image[ty0:ty1, tx0:tx1] = tile
            if photo_box is not None:
                decoys.append(Decoy((photo_box[0] + tx0, photo_box[1] + ty0, photo_box[2] + tx0,
                                     photo_box[3] + ty0), "profile-photo"))
        name_text, name_box = "", None
        if not (p.camera == "off-name"):
            name_text, name_box = draw_name_label(image, (tx0, ty0, tx1, ty1), p.name, spec.app)
            texts.append(TextItem(name_box, name_text, "tile-name"))
        if radius:
            round_corners(image, (tx0, ty0, tx1, ty1), radius, pal.stage)
        is_speaking = k == speaking and spec.layout != "speaker"
        if is_speaking:
            cv2.rectangle(image, (tx0, ty0), (tx1 - 1, ty1 - 1), pal.accent, 2 if spec.app != "teams" else 3)
        tiles.append(TileTruth((tx0, ty0, tx1, ty1), role, p.name, name_text, name_box, p.camera,
                               face_index, is_speaking))
    if spec.recording:
        chrome.recording_badge(image, (stage[0] + 10, stage[1] + 8), texts)
    if spec.app == "zoom" and spec.layout == "gallery" and n >= 16:
        chrome.pagination(image, stage, pal, texts)
    occluders: list[XYXY] = []
    if spec.watermark:
        chrome.watermark(image, (w, h), desk[3], texts)
        occluders.append((w - 340, desk[3] - 64, w, desk[3] - 10))
    if spec.cursor:
        cxy = (int(rng.integers(stage[0], max(stage[0] + 1, stage[2] - 20))),
               int(rng.integers(stage[1], max(stage[1] + 1, stage[3] - 24))))
        chrome.cursor(image, cxy)
        occluders.append((cxy[0], cxy[1], cxy[0] + 13, cxy[1] + 21))
    faces = [_occluded(f, occluders) for f in faces]
    if spec.screen_jpeg:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, spec.screen_jpeg])
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return Screen(image=image, seed=spec.seed, frame_index=frame_index, app=spec.app, theme=spec.theme,
                  layout=spec.layout, windowed=spec.windowed, panels=spec.panels, window_xyxy=window,
                  stage_xyxy=stage, tiles=tuple(tiles), faces=tuple(faces), decoys=tuple(decoys),
                  texts=tuple(texts), regions=regions)


def _occluded(face: FaceTruth, boxes: list[XYXY]) -> FaceTruth:
    """Add "occluded" when a watermark or the cursor overlaps the face's box."""
    x0, y0, x1, y1 = face.xyxy
    for bx0, by0, bx1, by1 in boxes:
        if min(x1, bx1) > max(x0, bx0) and min(y1, by1) > max(y0, by0):
            return replace(face, conditions=face.conditions + ("occluded",))
    return face
