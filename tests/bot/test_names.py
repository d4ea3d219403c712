"""Display names from gallery tiles: rendered labels of every app style, garbage, hostile names, the cache.

Floors are a little under what ``python -m bench.names`` measured on the same rendered set
(bundled DejaVu Sans fonts, so the numbers do not depend on the machine's fonts).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import pytest
from shared_data import shared_dir

from bench.class_window import with_noise
from bot.names import (
    DEFAULT_MIN_CONFIDENCE,
    MAX_NAME_CHARS,
    NameReader,
    TileNames,
    name_key,
    sanitize_name,
    spelling_key,
)
from bot.naming import NamesStage
from models.text_reader import OnnxTextReader, RankedRead
from tools.name_labels import STYLES, font_installed, render_gallery, render_tile, sample_names
from training.name_crops import HELD_OUT_FONTS
from vocab.types import Faces, FrameResult


@pytest.fixture(scope="module")
def ocr():
    with OnnxTextReader(threads=2) as r:
        yield r



# -- sanitising (pure) ------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("Ana Souza", "Ana Souza"),
    ("  Ana   Souza ", "Ana Souza"),
    ("20231047_Ana M. Souza Ferr…", "20231047_Ana M. Souza Ferr…"),
    ("Omar Haddad...", "Omar Haddad..."),
    ("[TA] Omar", "[TA] Omar"),
    ("Zoë Nørgaard-Łukasz", "Zoë Nørgaard-Łukasz"),
    ("Zoe\u0308", "Zoë"),  # combining diaeresis composed (NFC)
    ("Ana\x00\x07 Souza", "Ana Souza"),
    ("Ana\nSouza\tX", "Ana Souza X"),
    ("\u202eazuoS anA", "azuoS anA"),  # a right-to-left override cannot flip what follows
    ("A\u200bn\u200da", "Ana"),  # zero-width characters
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # kept as text: escaping is the writer's job
    ("=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")"),
    ("…", None),
    ("   ", None),
    ("", None),
    ("\x1b[31m", "[31m"),
])
def test_sanitize_name(raw: str, expected: str | None) -> None:
    assert sanitize_name(raw) == expected


def test_sanitize_caps_the_length() -> None:
    out = sanitize_name("Maximiliana " * 20)
    assert out is not None and len(out) == MAX_NAME_CHARS and out.endswith("…")
    assert sanitize_name("x" * 10, max_chars=5) == "xxxx…"


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Zoë Nørgaard", "ZOE NØRGAARD", True),
    ("Łukasz (he/him)", "lukasz he him", True),
    ("Ana Souza", "Ana Sousa", False),
    ("20231047_Ana", "20231047 Ana", True),
    ("Sven Bernard", "Sven Bemard", True),  # the recogniser's look-alikes
    ("Uma Iyer", "Uma lyer", True),
    ("Ana Souza", "Ana Soura", False),
])
def test_name_key(a: str, b: str, same: bool) -> None:
    assert (name_key(a) == name_key(b)) is same


# -- reading rendered galleries (real models) --------------------------------------------------

# What these exact galleries gave (10 tiles per style and size), less a margin: (exact share
# floor, wrong-name share ceiling) per style. Measured 2026-11-30 with the refitted output layer
# (models/text_reader.md): zoom 97.5 % exact / 2.5 % wrong, teams 100/0, meet 87.5/12.5,
# camera_off 100/0, camera_off_avatar 97.5/2.5; 96.5 % exact overall, 99.5 % right under
# name_key. The upstream layer: 97.5, 97.5, 82.5, 100, 95; 94.5 % overall, 98 % under name_key.
FLOORS = {"zoom": (0.925, 0.05), "teams": (0.95, 0.05), "meet": (0.80, 0.175), "camera_off": (0.95, 0.05),
          "camera_off_avatar": (0.90, 0.075)}


def _shown_and_read(ocr: OnnxTextReader, names: list[str], **render: Any) -> list[tuple[str | None, str | None]]:
    """(text shown, name read) per tile of one gallery of ``names`` (``render_gallery(**render)``),
    read by a fresh ``NameReader``."""
    gallery = render_gallery(names, **render)
    result = NameReader(ocr).read(gallery.image, gallery.tiles_xyxy)
    return list(zip(gallery.texts, result.names, strict=True))


@pytest.fixture(scope="module")
def rendered_reads(ocr: OnnxTextReader) -> dict[str, list[tuple[str | None, str | None]]]:
    out: dict[str, list[tuple[str | None, str | None]]] = {}
    reader = NameReader(ocr)
    for s_i, style in enumerate(STYLES):
        for px in (10, 12, 14, 16):
            names = sample_names(10, seed=100 * s_i + px)
            gallery = render_gallery(list(names), grid=(5, 2), size_wh=(1920, 432), style=style, font_px=px,
                                     seed=s_i * 17 + px)
            reader.clear()
            result = reader.read(gallery.image, gallery.tiles_xyxy)
            out.setdefault(style, []).extend(zip(gallery.texts, result.names, strict=True))
    return out


@pytest.mark.parametrize("style", STYLES)
def test_names_of_each_app_style(rendered_reads: dict, style: str) -> None:
    pairs = rendered_reads[style]
    exact = sum(spelling_key(t) == spelling_key(r) for t, r in pairs) / len(pairs)
    wrong = sum(r is not None and spelling_key(t) != spelling_key(r) for t, r in pairs) / len(pairs)
    floor, ceiling = FLOORS[style]
    assert exact >= floor, f"{style}: {exact:.0%} exact, floor {floor:.0%}: {pairs}"
    assert wrong <= ceiling, f"{style}: {wrong:.0%} wrong names"


def test_names_overall(rendered_reads: dict) -> None:
    pairs = [p for style in rendered_reads.values() for p in style]
    exact = sum(spelling_key(t) == spelling_key(r) for t, r in pairs) / len(pairs)
    assert exact >= 0.95
    # Wrong names are near misses (a diacritic), which the identity key forgives.
    near = sum(r is not None and name_key(t or "") == name_key(r) for t, r in pairs) / len(pairs)
    assert near >= 0.97


# Names with the marks of European alphabets, every word one the refit of the recogniser's output
# layer never saw (training.name_corpus leaves out the simulator's name words), drawn in two
# fonts it was never trained on. Measured 2026-11-30: 189 of 192 exact (181 with the upstream
# layer, which read "Małgorzata" as "Malgorzata", "Białek" as "Bialek", "Anaïs" as "Anaīs").
MARKED_NAMES = ["Małgorzata Nørgaard", "Zoë Białek", "Anaïs Dvořák", "Søren Çelik", "Björn Şahin", "Mikołaj Müller",
                "Inês Lindqvist", "Łukasz Novák", "Chloé Nørgaard", "Jürgen Białek", "Ólafur Petrović", "Ayşe Søren"]


def test_marked_letters_in_fonts_never_trained_on(ocr: OnnxTextReader) -> None:
    fonts = HELD_OUT_FONTS[:2]
    if missing := [f for f in fonts if not font_installed(f)]:
        pytest.skip(f"fonts {sorted(missing)} not installed (Debian: fonts-liberation2, fonts-open-sans; "
                    "python bootstrap.py test installs them)")
    exact, wrong = 0, []
    for font in fonts:
        for style in ("zoom", "teams", "meet", "camera_off_avatar"):
            for px in (12, 14):
                for t, r in _shown_and_read(ocr, MARKED_NAMES, grid=(4, 3), size_wh=(1920, 810), style=style,
                                            font_px=px, font_family=font, seed=px + len(style)):
                    exact += spelling_key(t) == spelling_key(r)
                    if spelling_key(t) != spelling_key(r):
                        wrong.append((font, style, px, t, r))
    assert exact >= 186, wrong


# Names of two or three letters on a 3x3 gallery at 2560x1440 (tiles 840 px wide): the label
# is a few glyphs, a few percent of the tile's width. Measured (2026-11-29): 9/9 in every style
# but zoom (8/9: "Jo" is not found); before, when a label had to reach 5 % of the tile's width
# into it, only camera_off (name in the middle: 9/9) and 2 Zoom tiles were read, others 0/9.
# The recogniser shipped 2026-11-30 (the continued run): 41 of 45 over the five styles, one wrong.
SHORT_NAMES = ["Ana", "Wei", "Kim", "Max", "Bo", "Tom", "Jo", "Yu", "Lea"]


@pytest.mark.parametrize("style", STYLES)
def test_short_names_on_large_tiles(ocr: OnnxTextReader, style: str) -> None:
    pairs = _shown_and_read(ocr, SHORT_NAMES, grid=(3, 3), size_wh=(2560, 1440), style=style, font_px=12, seed=11)
    exact = sum(spelling_key(t) == spelling_key(r) for t, r in pairs)
    wrong = sum(r is not None and spelling_key(t) != spelling_key(r) for t, r in pairs)
    assert exact >= 7, f"{style}: {pairs}"
    assert wrong <= 1, f"{style}: {pairs}"


# Capital I and small l are one stroke in most sans-serif fonts: the recogniser read "Ian Li" as
# "lan Li" on every label. Settled by spelling (bot.name_spelling) where it hesitated: 26 of
# these 30 labels exactly (18 before); 28 with the recogniser's neck fine-tuned, and with its
# backbone's last stage fine-tuned too (2026-11-30); 27 with that run continued on new galleries.
NAMES_WITH_CAPITAL_I = ["Ian Li", "Ivy", "Igor Petrov", "Isabel Souza", "Ines Kaya", "Ida Novak"]


def test_names_that_start_with_a_capital_i(ocr: OnnxTextReader) -> None:
    exact = 0
    for style in STYLES:
        pairs = _shown_and_read(ocr, NAMES_WITH_CAPITAL_I, grid=(3, 2), size_wh=(1440, 540), style=style,
                                font_px=12, seed=4)
        exact += sum(t == r for t, r in pairs)
    assert exact >= 24, exact


# Chinese and Japanese names (the Hanja and kana of NanumGothic), lossless, 14 and 16 px, three
# styles. The refit of the recogniser's output layer left the CJK columns as upstream; measured
# 2026-11-30: 109 of 120 exact, 11 none, 0 wrong, the same with the upstream layer; 113 / 0 wrong
# with fonts-wqy-microhei installed (Qt draws NanumGothic's missing glyphs from it), and 111 / 0
# wrong with the neck fine-tuned (training.text_finetune, which keeps these reads on purpose), 113 / 0
# wrong with the backbone's last stage fine-tuned too, 114 / 0 wrong with that run continued.
CJK_NAMES = ["王小明", "李大同", "張文華", "陳美玲", "劉建國", "黃志強", "林家豪", "吳淑芬", "周光明", "金正民",
             "朴成勇", "崔英姬", "山田太郎", "田中花子", "中村一郎", "高橋明", "王明 Wang", "李華 (TA)", "陳東海",
             "孫中山"]


def test_chinese_and_japanese_names_are_still_read(ocr: OnnxTextReader) -> None:
    if not font_installed("NanumGothic"):
        pytest.skip("font NanumGothic not installed (Debian: fonts-nanum; python bootstrap.py test installs it)")
    exact, wrong = 0, []
    for style in ("zoom", "camera_off", "teams"):
        for px in (14, 16):
            for t, r in _shown_and_read(ocr, CJK_NAMES, grid=(5, 4), size_wh=(1920, 864), style=style, font_px=px,
                                        font_family="NanumGothic", jpeg_quality=None, seed=px):
                exact += spelling_key(t) == spelling_key(r)
                if r is not None and spelling_key(t) != spelling_key(r):
                    wrong.append((t, r))
    assert exact >= 100 and not wrong, (exact, wrong)


def test_no_label_garbage_and_unknown_scripts_give_no_name(ocr: OnnxTextReader) -> None:
    shown: list[str | None] = [None, None, None, "▮▯▲△●○◆◇", "☺☻♥♦♣♠•◘", "김민준", "이서연 20231047", "박지훈"]
    reader = NameReader(ocr)
    for style in ("zoom", "teams", "meet", "camera_off"):
        gallery = render_gallery(shown, grid=(4, 2), size_wh=(1600, 480), style=style, font_px=14, seed=5)
        reader.clear()
        result = reader.read(gallery.image, gallery.tiles_xyxy)
        assert result.names == (None,) * len(shown), f"{style}: {result.names}"
        assert (result.label_xyxy == -1).all() and (result.confidence == 0).all()


def test_the_result_has_one_row_per_tile(ocr: OnnxTextReader) -> None:
    gallery = render_gallery(["Ana Souza", None, "Omar Haddad"], grid=(3, 1), size_wh=(1200, 240), font_px=14)
    result = NameReader(ocr).read(gallery.image, gallery.tiles_xyxy)
    assert isinstance(result, TileNames) and len(result) == 3
    assert result.names == ("Ana Souza", None, "Omar Haddad")
    assert result.confidence.dtype == np.float32 and result.confidence.shape == (3,)
    assert result.confidence[0] >= DEFAULT_MIN_CONFIDENCE and result.confidence[1] == 0
    assert result.label_xyxy.dtype == np.int32 and result.label_xyxy.shape == (3, 4)
    for (x0, y0, x1, y1), (lx0, ly0, lx1, ly1) in zip(gallery.tiles_xyxy[[0, 2]], result.label_xyxy[[0, 2]],
                                                        strict=True):
        assert x0 - 48 <= lx0 < lx1 <= x1 and y0 <= ly0 < ly1 <= y1
    empty = NameReader(ocr).read(gallery.image, np.zeros((0, 4), np.int32))
    assert len(empty) == 0 and empty.label_xyxy.shape == (0, 4)


def test_a_long_name_is_read_as_the_app_truncates_it(ocr: OnnxTextReader) -> None:
    long_name = "20231047_Ana Maria Souza Ferreira de Albuquerque e Silva (she/her)"
    tile = render_tile(long_name, style="zoom", size_wh=(320, 180), font_px=13, seed=3)
    assert tile.text.endswith("…") and len(tile.text) < len(long_name)
    result = NameReader(ocr).read(tile.image, np.array([[0, 0, 320, 180]], np.int32))
    assert spelling_key(result.names[0]) == spelling_key(tile.text)


# -- hostile names, injected without OCR --------------------------------------------------------

class _FakeOcr:
    """Finds white blocks as text lines and reads each as ``text``; counts reads."""

    def __init__(self, text: str, confidence: float = 0.99):
        self.text, self.confidence, self.reads = text, confidence, 0

    def find_lines(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = (image_bgr.min(axis=2) > 200).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes = [(x, y, x + w, y + h) for x, y, w, h, _ in stats[1:count]]
        return np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32)

    def read_lines_ranked(self, images: list[np.ndarray]) -> list[RankedRead]:
        self.reads += len(images)
        return [RankedRead(self.text, self.confidence, " " * len(self.text), (0.0,) * len(self.text))] * len(images)


def _labelled(tiles: np.ndarray) -> np.ndarray:
    """A grey frame with a white block at the bottom-left of each tile (what ``_FakeOcr`` reads)."""
    frame = np.full((int(tiles[:, 3].max()), int(tiles[:, 2].max()), 3), 60, np.uint8)
    for x0, _, _, y1 in tiles:
        frame[y1 - 24:y1 - 8, x0 + 8:x0 + 120] = 255
    return frame


ONE_TILE = np.array([[0, 0, 300, 200]], np.int32)


@pytest.mark.parametrize(("read", "expected"), [
    ("Ana\x00\x1b[2J Souza\u202e", "Ana[2J Souza"),
    ("B" * 500, "B" * (MAX_NAME_CHARS - 1) + "…"),
    ("\x07\x08", None),
])
def test_hostile_text_is_sanitised_on_the_way_out(read: str, expected: str | None) -> None:
    result = NameReader(_FakeOcr(read)).read(_labelled(ONE_TILE), ONE_TILE)
    assert result.names == (expected,)


def test_low_confidence_reads_are_not_names() -> None:
    result = NameReader(_FakeOcr("Ana Souza", confidence=0.6)).read(_labelled(ONE_TILE), ONE_TILE)
    assert result.names == (None,)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        NameReader(_FakeOcr("x"), min_confidence=1.5)
    with pytest.raises(ValueError):
        NameReader(_FakeOcr("x"), recheck_unread_every=0)
    with pytest.raises(ValueError, match="uint8"):
        NameReader(_FakeOcr("x")).read(np.zeros((10, 10), np.uint8), np.zeros((0, 4), np.int32))


# -- the cache ----------------------------------------------------------------------------------

def _video_noise(image: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.add(image, rng.integers(0, 4, image.shape, dtype=np.uint8))


def test_an_unchanged_label_is_not_read_again(ocr: OnnxTextReader) -> None:
    names = ["Ana Souza", "Omar Haddad", "[TA] Zoë", "Kwame Okafor"]
    for style in ("zoom", "meet"):
        gallery = render_gallery(list(names), grid=(2, 2), size_wh=(1280, 720), style=style, font_px=14, seed=9)
        reader = NameReader(ocr)
        first = reader.read(gallery.image, gallery.tiles_xyxy)
        assert first.reads >= 4 and first.names == tuple(names)
        for k in range(3):
            again = reader.read(_video_noise(gallery.image, k), gallery.tiles_xyxy)
            assert again.reads == 0, style
            assert again.names == first.names
            np.testing.assert_array_equal(again.label_xyxy, first.label_xyxy)


def test_a_changed_label_is_read_again_and_only_that_one(ocr: OnnxTextReader) -> None:
    gallery = render_gallery(["Ana Souza", "Omar Haddad", "Priya Kim", "Kwame Okafor"], grid=(2, 2),
                             size_wh=(1280, 720), font_px=14, seed=9)
    changed = render_gallery(["Ana Souza", "Omar Haddad", "Priya Kim", "Inês Ferreira"], grid=(2, 2),
                             size_wh=(1280, 720), font_px=14, seed=9)
    reader = NameReader(ocr)
    reader.read(gallery.image, gallery.tiles_xyxy)
    after = reader.read(changed.image, changed.tiles_xyxy)
    assert after.names == ("Ana Souza", "Omar Haddad", "Priya Kim", "Inês Ferreira")
    assert 1 <= after.reads <= 2  # the changed tile: its bottom label (and a middle line if any)
    gone = changed.image.copy()
    x0, y0, x1, y1 = (int(v) for v in after.label_xyxy[0])
    gone[y0:y1, x0:x1] = 25  # the label disappears
    assert reader.read(gone, changed.tiles_xyxy).names[0] is None


def test_moved_tiles_are_read_again(ocr: OnnxTextReader) -> None:
    gallery = render_gallery(["Ana Souza", "Omar Haddad"], grid=(2, 1), size_wh=(1280, 400), font_px=14, seed=2)
    reader = NameReader(ocr)
    reader.read(gallery.image, gallery.tiles_xyxy)
    shifted = gallery.tiles_xyxy.copy()
    shifted[:, [0, 2]] -= 2
    again = reader.read(gallery.image, shifted)
    assert again.reads >= 2 and again.names == ("Ana Souza", "Omar Haddad")


def test_a_tile_without_name_is_rechecked_less_and_less_often() -> None:
    ocr = _FakeOcr("Ana Souza", confidence=0.5)  # never good enough
    reader = NameReader(ocr, recheck_unread_every=3, recheck_unread_max=10)
    read_at = []
    for call in range(1, 41):
        before = ocr.reads
        reader.read(_labelled(ONE_TILE), ONE_TILE)
        if ocr.reads > before:
            read_at.append(call)
    # waits of 3, 6, then 12 capped at 10 calls, each read on a multiple of its wait
    assert read_at == [1, 3, 6, 10, 20, 30, 40]
    with pytest.raises(ValueError):
        NameReader(ocr, recheck_unread_every=5, recheck_unread_max=4)


def test_tiles_without_names_are_rechecked_together() -> None:
    """Tiles that lost their names at different times are read on the same calls once their
    waits have grown, so the text reader can be released between those calls."""
    ocr = _FakeOcr("Ana Souza", confidence=0.5)
    reader = NameReader(ocr, recheck_unread_every=2, recheck_unread_max=8)
    two = np.array([[0, 0, 300, 200], [300, 0, 600, 200]], np.int32)
    frame = _labelled(two)
    reader.read(frame, two[:1])  # the second tile appears 7 calls after the first
    for _ in range(6):
        reader.read(frame, two[:1])
    read_at = []
    for call in range(8, 60):
        before = ocr.reads
        reader.read(frame, two)
        if ocr.reads > before:
            read_at.append(call)
    late = [c for c in read_at if c > 30]
    assert late and all(c % 8 == 0 for c in late), read_at


def test_a_name_that_appears_on_a_tile_is_found_within_the_longest_wait() -> None:
    ocr = _FakeOcr("Ana Souza", confidence=0.5)
    reader = NameReader(ocr, recheck_unread_every=2, recheck_unread_max=8)
    for _ in range(30):
        reader.read(_labelled(ONE_TILE), ONE_TILE)
    ocr.confidence = 0.99  # the name becomes readable (e.g. the app shows names again)
    names = [reader.read(_labelled(ONE_TILE), ONE_TILE).names[0] for _ in range(8)]
    assert "Ana Souza" in names


# -- real screenshots (../shared, never copied into the repository) ---------------------------------

# sha256 of the casefolded letters+digits of the names on zoom_panel_3x2_1911x851.png, so the
# test checks exact reads without the names of real people being written into the repository.
PANEL_NAMES = {
    "4905e514b34512f92bc518e38094fe3ad96478c37e5fb86d570e794fd6e2d48a",
    "4d41cd8aa54701cceb279ba89d5acd6a20506a2ebbcbc756e9ceb2ad029bc014",
    "95504b0d6588cffec5637d647d2124ece36da38dda4f337069305903eef21af3",
    "9825216f462a1f0a7576c2992f2457c8d062f962f181094556f5f13e02666c38",
    "e0c6f54042caa44cdb6fd167f06a9434907b18c2419a3f2db06d863ed862aac2",
    "ffba2a6a093a00f225ca733eedeba8558c1108422c27ad07fea0025d26cd26f4",
}


def test_real_screenshots(ocr: OnnxTextReader) -> None:
    from bot.tiles import find_tiles

    folder = shared_dir() / "data" / "screens"
    if not folder.is_dir():
        pytest.skip(f"real screenshots not found at {folder} (set CLASSMOOD_SHARED to the shared folder)")
    reader = NameReader(ocr)
    panel = cv2.imread(str(folder / "zoom_panel_3x2_1911x851.png"))
    names = reader.read(panel, find_tiles(panel)).names
    digests = {hashlib.sha256(spelling_key(n).encode()).hexdigest() for n in names if n}
    assert len(digests & PANEL_NAMES) >= 5, names
    # The Korean screens: the model has no Hangul, so a label gives no name or (where the
    # label is typed in Latin letters) the Latin text; never look-alike Chinese characters.
    for path in sorted(folder.glob("zoom_*")):
        if path.name == "zoom_panel_3x2_1911x851.png":
            continue
        image = cv2.imread(str(path))
        for name in reader.read(image, find_tiles(image)).names:
            assert name is None or not any("\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in name)


def test_a_tile_holding_two_faces_gives_its_name_to_neither() -> None:
    """Two tiles the tile finder took for one (or a room camera): the name is not put on both faces,
    which would make them one participant; a tile with one face names it."""
    tiles = np.array([[0, 0, 600, 200], [600, 0, 900, 200]], np.int32)
    faces_xyxy = np.array([[50, 40, 120, 110], [350, 40, 420, 110], [650, 40, 720, 110]], np.float32)
    faces = Faces(xyxy=faces_xyxy, score=np.ones(3, np.float32), tile_xyxy=tiles[[0, 0, 1]])
    frame = FrameResult(1, 0.0, datetime.now(UTC), (0, 0, 900, 200), image=_labelled(tiles), tiles_xyxy=tiles,
                        faces=faces)
    out = NamesStage(NameReader(_FakeOcr("Ana Souza")))(frame)
    assert out.tile_names == ("Ana Souza", "Ana Souza")
    assert out.faces.name is not None and out.faces.name.tolist() == [None, None, "Ana Souza"]


def test_a_label_that_starts_left_of_the_found_tile_is_read_once(ocr: OnnxTextReader) -> None:
    """A tile found with its left edge inside the real one (a dark video edge taken for gap)
    still has its label read in full; then only its pixels are checked, frame after frame."""
    gallery = render_gallery(["Ana Souza", "Omar Haddad"], grid=(2, 1), size_wh=(1280, 400), font_px=14, seed=2)
    inside = gallery.tiles_xyxy.copy()
    inside[:, 0] += 24  # past the start of each label
    reader = NameReader(ocr)
    rng = np.random.default_rng(0)
    first = reader.read(with_noise(gallery.image, rng), inside)
    assert first.names == ("Ana Souza", "Omar Haddad")
    later = [reader.read(with_noise(gallery.image, rng), inside) for _ in range(3)]
    assert [r.reads for r in later] == [0, 0, 0] and all(r.names == first.names for r in later)
