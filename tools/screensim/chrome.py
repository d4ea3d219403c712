"""Everything on a meeting screen that is not a participant's video: the desktop, the OS
taskbar, the app window's title bar and toolbar, the participants and chat panels (with their
16-24 px avatar photos, which are not participants), badges, a watermark and the cursor.

Colours are the apps' own (approximately); shapes are simple, since a detector has to ignore
them, not read them. Every piece of text drawn is returned as a ``TextItem`` for OCR tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tools.screensim.text import draw_text, fit, text_size
from tools.screensim.tiles import initials, paste_round
from tools.screensim.truth import XYXY, Decoy, TextItem

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """An app's colours in one theme."""

    stage: BGR  # behind the tiles
    tile_off: BGR  # camera-off tile
    bar: BGR  # toolbar / header
    panel: BGR
    text: BGR
    muted: BGR  # secondary text
    accent: BGR  # active speaker, buttons
    disc: tuple[BGR, ...]  # initials discs


PALETTES: dict[tuple[str, str], Palette] = {
    ("zoom", "dark"): Palette((18, 18, 18), (38, 38, 38), (26, 26, 26), (36, 36, 36), (238, 238, 238),
                              (150, 150, 150), (60, 200, 80), ((88, 88, 88),)),
    ("zoom", "light"): Palette((242, 242, 242), (214, 214, 214), (250, 250, 250), (255, 255, 255),
                               (35, 35, 35), (110, 110, 110), (60, 200, 80), ((150, 150, 150),)),
    ("teams", "dark"): Palette((31, 31, 31), (61, 56, 55), (41, 41, 41), (45, 43, 43), (240, 240, 240),
                               (165, 165, 165), (167, 100, 98),
                               ((167, 100, 98), (91, 137, 196), (120, 160, 90), (150, 90, 160))),
    ("teams", "light"): Palette((235, 235, 235), (208, 203, 201), (250, 250, 250), (255, 255, 255),
                                (36, 36, 36), (105, 105, 105), (167, 100, 98),
                                ((167, 100, 98), (91, 137, 196), (120, 160, 90), (150, 90, 160))),
    ("meet", "dark"): Palette((36, 33, 32), (67, 64, 60), (36, 33, 32), (255, 255, 255), (232, 234, 237),
                              (154, 160, 166), (248, 180, 138),
                              ((79, 124, 233), (178, 106, 66), (60, 160, 52), (62, 146, 249), (170, 90, 160))),
    ("meet", "light"): Palette((245, 244, 241), (220, 218, 216), (245, 244, 241), (255, 255, 255),
                               (32, 33, 36), (112, 117, 122), (232, 115, 26),
                               ((79, 124, 233), (178, 106, 66), (60, 160, 52), (62, 146, 249))),
}

TITLES = {"zoom": "Zoom Meeting", "teams": "Maths 10B | Microsoft Teams", "meet": "Meet - abc-defg-hij"}


def wallpaper(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A desktop background: a two-colour gradient with soft shapes."""
    c0 = rng.integers(40, 200, 3).astype(np.float32)
    c1 = rng.integers(40, 200, 3).astype(np.float32)
    t = (np.linspace(0, 1, w, dtype=np.float32)[None, :, None] * 0.6
         + np.linspace(0, 1, h, dtype=np.float32)[:, None, None] * 0.4)
    img = c0 * (1 - t) + c1 * t
    blobs = np.zeros((h // 4 + 1, w // 4 + 1, 3), np.float32)
    for _ in range(6):
        cv2.circle(blobs, (int(rng.integers(w // 4)), int(rng.integers(h // 4))), int(rng.integers(20, 120)),
                   tuple(float(v) for v in rng.integers(-60, 60, 3)), -1)
    blobs = cv2.GaussianBlur(blobs, (0, 0), 12)
    img = img + cv2.resize(blobs, (w, h))
    return np.clip(img, 0, 255).astype(np.uint8)


def taskbar(image: np.ndarray, os_name: str, rng: np.random.Generator, texts: list[TextItem]) -> XYXY:
    """Windows taskbar at the bottom (48 px) or macOS menu bar at the top (25 px); its box."""
    h, w = image.shape[:2]
    if os_name == "mac":
        box = (0, 0, w, 25)
        image[:25] = (236, 236, 236)
        x = 14
        for word in ("\u25cf", "Finder", "File", "Edit", "View", "Window", "Help"):
            b = draw_text(image, (x, 5), word, 13, (30, 30, 30), bold=word == "Finder")
            texts.append(TextItem(b, word, "toolbar"))
            x = b[2] + 16
        b = draw_text(image, (w - 150, 5), "Sun 29 Nov 10:42", 13, (30, 30, 30))
        texts.append(TextItem(b, "Sun 29 Nov 10:42", "toolbar"))
        return box
    y0 = h - 48
    image[y0:] = (32, 32, 32)
    cx = w // 2 - 5 * 24
    for i in range(9):  # start button and pinned apps
        colour = (215, 120, 0) if i == 0 else tuple(int(v) for v in rng.integers(60, 230, 3))
        cv2.rectangle(image, (cx + i * 44, y0 + 12), (cx + i * 44 + 24, y0 + 36), colour, -1)
    cv2.line(image, (cx + 4 * 44, y0 + 44), (cx + 4 * 44 + 24, y0 + 44), (220, 160, 90), 2)
    for j, line in enumerate(("10:42", "29/11/2026")):
        b = draw_text(image, (w - 90, y0 + 6 + 18 * j), line, 12, (235, 235, 235))
        texts.append(TextItem(b, line, "toolbar"))
    return (0, y0, w, h)


def title_bar(image: np.ndarray, box: XYXY, title: str, dark: bool, texts: list[TextItem]) -> None:
    """A Windows-style title bar with the app's title and the three window buttons."""
    x0, y0, x1, y1 = box
    bg = (32, 32, 32) if dark else (243, 243, 243)
    fg = (230, 230, 230) if dark else (30, 30, 30)
    image[y0:y1, x0:x1] = bg
    b = draw_text(image, (x0 + 12, y0 + (y1 - y0 - 14) // 2), title, 13, fg)
    texts.append(TextItem(b, title, "title"))
    for i, glyph in enumerate(("\u2715", "\u25a1", "\u2014")):
        draw_text(image, (x1 - 30 - i * 46, y0 + (y1 - y0 - 14) // 2), glyph, 13, fg)


def toolbar(image: np.ndarray, box: XYXY, app: str, pal: Palette, n_people: int,
            texts: list[TextItem]) -> None:
    """The meeting controls: Zoom's labelled icons, Teams' top bar, Meet's round buttons."""
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = pal.bar
    bh = y1 - y0
    if app == "meet":
        label = "10:42 | abc-defg-hij"
        b = draw_text(image, (x0 + 20, y0 + bh // 2 - 8), label, 15, pal.text)
        texts.append(TextItem(b, label, "toolbar"))
        cx = (x0 + x1) // 2 - 3 * 56
        for i in range(7):
            colour = (48, 52, 234) if i == 6 else (72, 67, 63) if pal.stage[0] < 128 else (225, 222, 220)
            cv2.circle(image, (cx + i * 56, y0 + bh // 2), 20, colour, -1, cv2.LINE_AA)
            cv2.circle(image, (cx + i * 56, y0 + bh // 2), 6, pal.text, 2, cv2.LINE_AA)
        return
    items = (["Mute", "Stop Video", "Security", f"Participants {n_people}", "Chat", "Share Screen",
              "Record", "Reactions"] if app == "zoom" else
             ["Chat", "People", "Raise", "React", "View", "Rooms", "More", "Camera", "Mic", "Share"])
    x = x0 + 16 if app == "teams" else x0 + max(16, (x1 - x0) // 2 - 360)
    if app == "teams":
        b = draw_text(image, (x, y0 + bh // 2 - 8), "41:07", 14, pal.text, bold=True)
        texts.append(TextItem(b, "41:07", "toolbar"))
        x = max(b[2] + 40, x1 - 90 - len(items) * 62)
    for item in items:
        if x + 60 > x1 - 100:
            break
        cv2.rectangle(image, (x + 20, y0 + 8), (x + 38, y0 + 24), pal.muted, 2, cv2.LINE_AA)
        size = 11
        tw, _ = text_size(item, size)
        b = draw_text(image, (x + 29 - tw // 2, y0 + 29), item, size, pal.text)
        texts.append(TextItem(b, item, "toolbar"))
        x += max(62, tw + 18)
    lx0 = x1 - 84
    cv2.rectangle(image, (lx0, y0 + 10), (lx0 + 66, y1 - 10), (43, 38, 220), -1)
    word = "End" if app == "zoom" else "Leave"
    b = draw_text(image, (lx0 + 12, y0 + bh // 2 - 8), word, 13, (255, 255, 255), bold=True)
    texts.append(TextItem(b, word, "toolbar"))


def people_panel(image: np.ndarray, box: XYXY, pal: Palette, names: list[str],
                 avatars: list[np.ndarray | None], rng: np.random.Generator,
                 texts: list[TextItem], decoys: list[Decoy], title: str = "Participants") -> None:
    """The participants list: a header, then one row per person with a small avatar (a photo
    or an initials disc, 16-24 px) and the name."""
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = pal.panel
    cv2.line(image, (x0, y0), (x0, y1), pal.muted, 1)
    light = pal.panel[0] > 128
    fg = (36, 36, 36) if light else pal.text
    head = f"{title} ({len(names)})"
    b = draw_text(image, (x0 + 14, y0 + 10), head, 15, fg, bold=True)
    texts.append(TextItem(b, head, "panel-name"))
    av = int(rng.integers(16, 25))
    row_h = max(30, av + 12)
    y = y0 + 48
    for name, avatar in zip(names, avatars, strict=True):
        if y + row_h > y1 - 4:
            break
        ax, ay = x0 + 14, y + (row_h - av) // 2
        if avatar is not None:
            paste_round(image, cv2.resize(avatar, (av, av), interpolation=cv2.INTER_AREA), ax, ay)
            decoys.append(Decoy((ax, ay, ax + av, ay + av), "panel-avatar"))
        else:
            colour = pal.disc[int(rng.integers(len(pal.disc)))]
            cv2.circle(image, (ax + av // 2, ay + av // 2), av // 2, colour, -1, cv2.LINE_AA)
            draw_text(image, (ax + av // 2 - av // 4, ay + av // 5), initials(name)[:1], max(8, av // 2),
                      (255, 255, 255))
        shown = fit(name, 13, x1 - ax - av - 60)
        b = draw_text(image, (ax + av + 10, y + row_h // 2 - 8), shown, 13, fg)
        texts.append(TextItem(b, shown, "panel-name"))
        for k in range(2):  # mic and camera icons
            cx = x1 - 40 + k * 20
            cv2.rectangle(image, (cx, y + row_h // 2 - 5), (cx + 10, y + row_h // 2 + 5), pal.muted, 1)
        y += row_h


_MESSAGES = ("Can you share the slides again?", "yes", "I can't hear you, you're muted",
             "Thank you!", "Question: is this on the exam?", "brb 2 min", "the link doesn't work for me",
             "Page 42, exercise 3", "ok", "Could you repeat the last part please")


def chat_panel(image: np.ndarray, box: XYXY, pal: Palette, names: list[str],
               avatars: list[np.ndarray | None], rng: np.random.Generator,
               texts: list[TextItem], decoys: list[Decoy]) -> None:
    """The chat: messages with the sender's small avatar, name, time and text; an input box."""
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = pal.panel
    cv2.line(image, (x0, y0), (x1, y0), pal.muted, 1)
    cv2.line(image, (x0, y0), (x0, y1), pal.muted, 1)
    light = pal.panel[0] > 128
    fg = (36, 36, 36) if light else pal.text
    b = draw_text(image, (x0 + 14, y0 + 10), "Chat", 15, fg, bold=True)
    texts.append(TextItem(b, "Chat", "chat"))
    y = y0 + 44
    av = int(rng.integers(18, 25))
    while y + 48 < y1 - 50 and names:
        k = int(rng.integers(len(names)))
        ax = x0 + 12
        if avatars[k] is not None:
            avatar = avatars[k]
            assert avatar is not None
            paste_round(image, cv2.resize(avatar, (av, av), interpolation=cv2.INTER_AREA), ax, y)
            decoys.append(Decoy((ax, y, ax + av, y + av), "chat-avatar"))
        else:
            cv2.circle(image, (ax + av // 2, y + av // 2), av // 2, pal.disc[0], -1, cv2.LINE_AA)
        who = fit(f"{names[k]}  10:{int(rng.integers(10, 59))}", 12, x1 - ax - av - 20)
        b = draw_text(image, (ax + av + 8, y), who, 12, pal.muted)
        texts.append(TextItem(b, who, "chat"))
        msg = fit(_MESSAGES[int(rng.integers(len(_MESSAGES)))], 13, x1 - ax - av - 20)
        b = draw_text(image, (ax + av + 8, y + 18), msg, 13, fg)
        texts.append(TextItem(b, msg, "chat"))
        y += 52
    cv2.rectangle(image, (x0 + 10, y1 - 44), (x1 - 10, y1 - 10), pal.muted, 1)
    b = draw_text(image, (x0 + 20, y1 - 36), "Type message here...", 13, pal.muted)
    texts.append(TextItem(b, "Type message here...", "chat"))


def slide(image: np.ndarray, box: XYXY, rng: np.random.Generator, texts: list[TextItem]) -> None:
    """A shared slide: title, bullets and a bar chart (no faces: a slide with a photo of a
    person would make the truth ambiguous)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    bg = (255, 255, 255) if rng.random() < 0.6 else (92, 52, 30)
    fg = (30, 30, 30) if bg[0] > 128 else (250, 250, 250)
    image[y0:y1, x0:x1] = bg
    accent = tuple(int(v) for v in rng.integers(40, 220, 3))
    cv2.rectangle(image, (x0, y0), (x1, y0 + max(4, h // 40)), accent, -1)
    title = ["Photosynthesis: light reactions", "Week 7 — Linear regression", "Équations du 2nd degré",
             "The French Revolution (1789–1799)"][int(rng.integers(4))]
    size = max(12, h // 14)
    b = draw_text(image, (x0 + w // 14, y0 + h // 10), fit(title, size, int(w * 0.85)), size, fg, bold=True)
    texts.append(TextItem(b, title, "slide"))
    for i in range(int(rng.integers(3, 6))):
        line = f"\u2022 Point {i + 1}: " + ["definitions", "worked example", "common mistakes",
                                             "homework for Friday", "see chapter 4"][i % 5]
        b = draw_text(image, (x0 + w // 12, y0 + h // 4 + i * int(size * 1.5)), line, max(10, size * 2 // 3), fg)
        texts.append(TextItem(b, line, "slide"))
    bx = x0 + int(w * 0.62)
    for i in range(5):
        bar_h = int(rng.uniform(0.1, 0.4) * h)
        cv2.rectangle(image, (bx + i * w // 22, y1 - h // 10 - bar_h), (bx + i * w // 22 + w // 30, y1 - h // 10),
                      accent, -1)


def recording_badge(image: np.ndarray, xy: tuple[int, int], texts: list[TextItem]) -> None:
    x, y = xy
    cv2.rectangle(image, (x, y), (x + 104, y + 24), (30, 30, 30), -1)
    cv2.circle(image, (x + 12, y + 12), 5, (40, 40, 230), -1, cv2.LINE_AA)
    b = draw_text(image, (x + 22, y + 5), "Recording…", 12, (240, 240, 240))
    texts.append(TextItem(b, "Recording…", "badge"))


def pagination(image: np.ndarray, stage: XYXY, pal: Palette, texts: list[TextItem]) -> None:
    """Zoom's page arrows at the stage's sides and the page count "1/2"."""
    x0, y0, x1, y1 = stage
    cy = (y0 + y1) // 2
    for x, pts in ((x0 + 4, [(14, -18), (0, 0), (14, 18)]), (x1 - 18, [(0, -18), (14, 0), (0, 18)])):
        poly = np.array([(x + a, cy + b) for a, b in pts], np.int32)
        cv2.polylines(image, [poly], False, pal.text, 3, cv2.LINE_AA)
    b = draw_text(image, (x1 - 60, y0 + 6), "1/2", 13, pal.text)
    texts.append(TextItem(b, "1/2", "toolbar"))


def watermark(image: np.ndarray, screen_wh: tuple[int, int], bottom: int, texts: list[TextItem]) -> None:
    """Windows' "Activate Windows" note: translucent grey text near the bottom right."""
    w, _ = screen_wh
    for i, (line, size) in enumerate((("Activate Windows", 20), ("Go to Settings to activate Windows.", 13))):
        x, y = w - 340, bottom - 64 + i * 28
        tw, th = text_size(line, size)
        region = image[y:y + th + 4, x:x + tw + 4].copy()
        overlay = region.copy()
        draw_text(overlay, (0, 0), line, size, (200, 200, 200))
        image[y:y + th + 4, x:x + tw + 4] = cv2.addWeighted(overlay, 0.45, region, 0.55, 0)
        texts.append(TextItem((x, y, x + tw, y + th), line, "watermark"))


def cursor(image: np.ndarray, xy: tuple[int, int]) -> None:
    """The mouse arrow: white with a black outline, ~20 px tall."""
    x, y = xy
    pts = np.array([(0, 0), (0, 17), (4, 13), (7, 20), (10, 19), (7, 12), (12, 12)], np.int32) + [x, y]
    cv2.fillPoly(image, [pts], (255, 255, 255), cv2.LINE_AA)
    cv2.polylines(image, [pts], True, (0, 0, 0), 1, cv2.LINE_AA)
