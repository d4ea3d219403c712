"""Read each gallery tile's display name from the screen, and re-read it only when it changes.

Every meeting app writes a participant's name on their tile: Zoom bottom-left on a dark
translucent box, Teams and Meet bottom-left in white on the video, and a camera-off tile shows
the name large in the middle (Zoom) or bottom-left beside an avatar (Teams, Meet). For each
tile ``NameReader`` looks in two places, the tile's bottom band and (for a tile that looks
camera-off: mostly one flat colour) its middle band:

1. all search bands of all tiles that need reading go into one mosaic and through the text
   detector once (one model call, not one per tile);
2. in each tile, the label is the lowest text line that starts in the left part of the bottom
   band (grown leftwards over text the detector missed), then, on a camera-off tile, the
   largest line near the middle (an avatar's initials do not count);
3. all candidate lines are read by the recogniser in a few small batches; the first that
   reads as a name wins;
4. the text is cleaned (``sanitize_name``) and kept only at or above ``min_confidence``: a
   tile whose label is unreadable, absent, in a script the engine lacks, or not a name gives
   None, never a guess.

Names change rarely, so each tile's result is cached with the label's own pixels: the bright
text strokes (the apps all draw light text) and the dark gaps between them. The next frame
checks only those pixels (well under 0.1 ms a tile) and reads again only when they changed:
a new name, the label gone, or the tile moved. Video moving behind the text does not count as
a change. Tiles where no name was found are looked at again every ``recheck_unread_every``
calls, since a label may appear later and the video behind an empty band changes all the time.

Names are untrusted input (anyone picks their own): ``sanitize_name`` strips control and
format characters and caps the length, but escaping for HTML, CSV or SQL is the job of
whatever writes them out.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from bot.name_spelling import settle_lookalikes

if TYPE_CHECKING:
    from models.text_reader import RankedRead

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 64
# Chosen on rendered labels (bench/names.py): right reads score 0.89-1.0 (95 % above 0.95);
# reads of symbol strings score 0.3-0.65 and of Hangul at most 0.5 (the reader caps them), so
# 0.90 drops every garbage read for about 1 % of right ones. Wrong reads of real names (a
# diacritic, 10 px text) mostly score 0.95+: no threshold separates those, ``name_key`` forgives them.
DEFAULT_MIN_CONFIDENCE = 0.90


class TextLineReader(Protocol):
    """What ``NameReader`` needs from an OCR engine (``models.text_reader.OnnxTextReader`` is one)."""

    def find_lines(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Text lines in a BGR image: ``xyxy`` ``(n, 4)`` float32 and ``score`` ``(n,)``."""
        ...

    def read_lines_ranked(self, images: list[np.ndarray]) -> list[RankedRead]:
        """Text, confidence and each character's runner-up for each BGR crop holding one line."""
        ...


@dataclass(frozen=True, eq=False)
class TileNames:
    """The names of one frame's tiles, row i = tile i of the ``tiles_xyxy`` that was passed.

    - ``names``: the display name as shown (sanitised), or None where none was readable
    - ``confidence`` ``(n,)`` float32: the recogniser's confidence in the text (0 where none)
    - ``label_xyxy`` ``(n, 4)`` int32: where the text line is in the frame (-1 where none)
    - ``reads``: how many labels went through the recogniser for this frame (0 when all
      came from the cache)
    """

    names: tuple[str | None, ...]
    confidence: np.ndarray
    label_xyxy: np.ndarray
    reads: int = 0

    def __len__(self) -> int:
        return len(self.names)


def sanitize_name(text: str, max_chars: int = MAX_NAME_CHARS) -> str | None:
    """A display name fit to show and store, or None when nothing name-like is left.

    NFC-normalises; turns line breaks and tabs into spaces; drops control, format (bidi
    overrides, zero-width characters), private-use and unassigned code points; collapses
    runs of spaces; caps the length at ``max_chars`` (ending in "…" when cut). Keeps
    brackets, underscores, dots, digits, diacritics and the apps' own "…"/"..." truncation.
    A name with no letter or digit is None.
    """
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f\u2028\u2029" or cat == "Zs":
            kept.append(" ")
        elif cat[0] != "C":  # Cc control, Cf format, Co private use, Cs surrogate, Cn unassigned
            kept.append(ch)
    clean = " ".join("".join(kept).split())
    if not any(ch.isalnum() for ch in clean):
        return None
    if len(clean) > max_chars:
        clean = clean[: max_chars - 1].rstrip() + "…"
    return clean


# Letters that Unicode does not decompose into a base letter and a mark.
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "ı": "i", "ß": "ss",
                       "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "ħ": "h"})


# Look-alikes the recogniser confuses on small sans-serif text (bench.names' wrong reads: "rn"
# read as "m", capital I as lower-case l, "vv" as "w", O as 0), folded to one spelling in the key.
_LOOK_ALIKE_PAIRS = (("rn", "m"), ("vv", "w"))
_LOOK_ALIKE_CHARS = str.maketrans({"i": "l", "1": "l", "0": "o"})


def spelling_key(text: str | None) -> str:
    """A name as the reading targets compare it: casefolded letters and digits, marks kept ("Zoë"
    and "Zoe" differ here, unlike under ``name_key``). Benchmarks, tests and training score reads with it."""
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


def name_key(name: str) -> str:
    """A key under which two reads of the same label agree: casefolded letters and digits, accents
    dropped, look-alike letters folded.

    OCR's remaining errors on small text are mostly a diacritic (ë read as ē, ø as o) or two
    look-alike letters ("Bernard" read "Bemard", "Uma Iyer" read "Uma lyer"); the key forgives
    those, so an identity keyed by it survives them (bench.identity: a misread name on one page
    split a person into two ids). Other misreads ("Turner" read "Turmer") are left to the
    tracker, which takes a near key with the same looks for the same person. Two different
    people whose names differ only in accents or look-alikes share a key: the tracker's position
    and appearance cues separate them.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    key = "".join(ch for ch in decomposed.casefold() if ch.isalnum() and not unicodedata.combining(ch))
    for seen, meant in _LOOK_ALIKE_PAIRS:
        key = key.replace(seen, meant)
    return key.translate(_LOOK_ALIKE_CHARS)


MIN_LABEL_CORRELATION = 0.8


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-shape grey patches (1.0 for two flat ones)."""
    x = a.astype(np.float32).ravel() - float(a.mean())
    y = b.astype(np.float32).ravel() - float(b.mean())
    denom = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denom) if denom > 1e-6 else 1.0


@dataclass
class _Entry:
    """What the cache knows about one tile: the result and the label pixels it was read from."""

    name: str | None
    confidence: float
    label_xyxy: tuple[int, int, int, int] | None  # frame pixels, or None when nothing was found
    check_xyxy: tuple[int, int, int, int] | None = None  # the pixels compared on later frames
    bright: np.ndarray | None = None  # bool mask: text strokes
    dark: np.ndarray | None = None  # bool mask: gaps between strokes, and the band's empty part
    threshold: float = 0.0
    pixels: np.ndarray | None = None  # float32 grey of the checked band, for a correlation check
    misses: int = 0  # reads in a row that found no name here (the wait before the next one doubles)


class NameReader:
    """Display names for the tiles of a gallery frame, read once and then cached.

    Args:
        reader: the OCR engine (finds and reads text lines).
        min_confidence: a read below this gives None (0..1). Lower returns more names and
            more wrong ones.
        max_chars: names longer than this are cut (with "…").
        recheck_unread_every: a tile where no name was found is looked at again after this
            many calls (1 = every call); each read that finds nothing again doubles the wait, up
            to ``recheck_unread_max`` calls. A gallery without labels (an app set to hide names)
            would otherwise cost a full text search of every tile every few frames (~65 ms of
            CPU for 25 tiles, ~13 ms a frame on average at every 5); a name that appears later
            is still found within ``recheck_unread_max`` calls (40 s at 1 Hz). The rechecks
            fall on calls that are multiples of each tile's wait, so the tiles without a name
            are read together, in one burst every ``recheck_unread_max`` calls once they have
            all reached it, and the text reader can be released in between (it holds ~30 MB
            loaded, ~150 MB after a read: see ``models.idle_reader``).
        recheck_unread_max: the longest wait between two reads of a tile without a name; a
            power-of-two multiple of ``recheck_unread_every`` keeps the bursts together.

    Not thread-safe: use one per pipeline thread.
    """

    def __init__(self, reader: TextLineReader, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                 max_chars: int = MAX_NAME_CHARS, recheck_unread_every: int = 5,
                 recheck_unread_max: int = 40):
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in 0..1, got {min_confidence}")
        if recheck_unread_every < 1:
            raise ValueError(f"recheck_unread_every must be >= 1, got {recheck_unread_every}")
        if recheck_unread_max < recheck_unread_every:
            raise ValueError(f"recheck_unread_max must be >= recheck_unread_every ({recheck_unread_every}), "
                             f"got {recheck_unread_max}")
        self.reader = reader
        self.min_confidence = float(min_confidence)
        self.max_chars = int(max_chars)
        self.recheck_unread_every = int(recheck_unread_every)
        self.recheck_unread_max = int(recheck_unread_max)
        self._cache: dict[tuple[int, int, int, int], _Entry] = {}
        self._last_reads = 0
        self._calls = 0  # calls of read(), for the rechecks' schedule

    def clear(self) -> None:
        """Forget every cached name (the next call reads every tile)."""
        self._cache.clear()

    def read(self, frame_bgr: np.ndarray, tiles_xyxy: np.ndarray) -> TileNames:
        """The name of each tile of ``frame_bgr`` ``(h, w, 3)`` uint8; ``tiles_xyxy`` ``(n, 4)`` int32.

        Only tiles that are new, whose label changed, or that had no name for
        ``recheck_unread_every`` calls are read; the others come from the cache.
        """
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"expected (h, w, 3) uint8 BGR, got {frame_bgr.shape} {frame_bgr.dtype}")
        self._calls += 1
        tiles = np.asarray(tiles_xyxy, np.int64).reshape(-1, 4)
        h, w = frame_bgr.shape[:2]
        tiles = np.clip(tiles, 0, [w, h, w, h])
        keys = [(int(t[0]), int(t[1]), int(t[2]), int(t[3])) for t in tiles]
        entries: list[_Entry | None] = []
        todo: list[int] = []
        for i, key in enumerate(keys):
            entry = self._cache.get(key)
            if entry is not None and self._still_valid(entry, frame_bgr):
                entries.append(entry)
            else:
                entries.append(None)
                todo.append(i)
        reads = 0
        if todo:
            fresh = self._read_tiles(frame_bgr, [keys[i] for i in todo])
            reads = self._last_reads
            for i, entry in zip(todo, fresh, strict=True):
                before = self._cache.get(keys[i])
                if entry.name is None and before is not None and before.name is None:
                    entry.misses = before.misses + 1  # nothing here again: wait longer next time
                entries[i] = entry
        self._cache = {key: entry for key, entry in zip(keys, entries, strict=True) if entry is not None}
        done = [e if e is not None else _Entry(None, 0.0, None) for e in entries]
        label = np.full((len(done), 4), -1, np.int32)
        for i, e in enumerate(done):
            if e.name is not None and e.label_xyxy is not None:
                label[i] = e.label_xyxy
        return TileNames(names=tuple(e.name for e in done),
                         confidence=np.array([e.confidence if e.name else 0.0 for e in done], np.float32),
                         label_xyxy=label, reads=reads)

    # -- cache check ----------------------------------------------------------------------

    def _still_valid(self, entry: _Entry, frame: np.ndarray) -> bool:
        if entry.check_xyxy is None or entry.bright is None or entry.dark is None:
            if entry.name is not None:
                return False  # a name whose label could not be fingerprinted is read again, never assumed
            wait = min(self.recheck_unread_max, self.recheck_unread_every << min(entry.misses, 16))
            return self._calls % wait != 0  # on the multiples of the wait: every such tile at once
        patch = _gray(frame, entry.check_xyxy)
        if patch.shape != entry.bright.shape:
            return False
        lit = patch >= entry.threshold
        # The strokes must still be there, and the gaps between them still dark: a new name
        # lights up gaps, a gone label darkens strokes; video behind the text changes neither
        # much (it is darker than the text, or the app draws a box under it).
        strokes_kept = float(lit[entry.bright].mean())
        gaps_lit = float(lit[entry.dark].mean()) if entry.dark.any() else 0.0
        if strokes_kept < 0.85 or gaps_lit > 0.08:
            return False
        # Where the band has few dark gaps (bright video behind a translucent box), the masks
        # alone let another name of the same length pass: the text must also still correlate
        # with what was read (a new name drops it below ~0.5; noise behind the text keeps ~0.9).
        return entry.pixels is None or _correlation(patch, entry.pixels) >= MIN_LABEL_CORRELATION

    def _signature(self, entry: _Entry, frame: np.ndarray, tile: tuple[int, int, int, int]) -> None:
        """Record the label's stroke and gap pixels so later frames can be checked cheaply."""
        assert entry.label_xyxy is not None
        lx0, ly0, lx1, ly1 = entry.label_xyxy
        line_h = max(1, ly1 - ly0)
        # The line plus room on its right, so a longer new name is seen too. The line may start
        # left of the tile found (a tile's edge found inside the real one; see _read_tiles):
        # the check covers the whole line, or it never fingerprints and is read every frame.
        x0, y0 = lx0, max(tile[1], ly0)
        x1, y1 = min(tile[2], lx1 + 2 * line_h), min(tile[3], ly1)
        patch = _gray(frame, (x0, y0, x1, y1))
        if patch.size == 0:
            return
        inner = patch[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0]
        if inner.size == 0:
            return
        threshold, _ = cv2.threshold(inner, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        threshold = max(float(threshold), 100.0)
        bright = patch >= threshold + 10
        dark = patch < threshold - 25
        if bright.sum() < 4:
            return
        entry.check_xyxy = (x0, y0, x1, y1)
        entry.bright, entry.dark, entry.threshold = bright, dark, threshold - 10
        entry.pixels = patch.astype(np.float32)

    # -- reading --------------------------------------------------------------------------

    def _read_tiles(self, frame: np.ndarray, tiles: list[tuple[int, int, int, int]]) -> list[_Entry]:
        regions: list[tuple[int, str, tuple[int, int, int, int]]] = []  # tile index, kind, frame xyxy
        for i, (x0, y0, x1, y1) in enumerate(tiles):
            tw, th = x1 - x0, y1 - y0
            if tw < 24 or th < 16 or tw > 5 * th:  # too small, or a strip (a title or tool bar)
                continue
            band_h = min(th, max(36, int(0.22 * th)))
            # Somewhat to the left of the tile too: a found tile's edge can be inside the real
            # one (a dark video edge taken for the gap: 40 px on a real 1080p Zoom screenshot),
            # and a label cut at its first letters reads as another name.
            left = max(0, x0 - min(48, tw // 12))
            regions.append((i, "bottom", (left, y1 - band_h, x1, y1)))
            if _looks_camera_off(frame[y0:y1, x0:x1]):
                regions.append((i, "middle", (x0, y0 + int(0.25 * th), x1, y0 + int(0.75 * th))))
        lines = self._find(frame, regions)
        lefts = {regions[k][0]: regions[k][2][0] for k in range(len(regions)) if regions[k][1] == "bottom"}
        candidates = [[(kind, _extend_left(frame, box, lefts.get(i, box[0])) if kind == "bottom" else box)
                       for kind, box in _pick_labels(tile, lines.get(i, {}))] for i, tile in enumerate(tiles)]
        crops = [frame[b[1]:b[3], b[0]:b[2]] for found in candidates for _, b in found]
        self._last_reads = len(crops)
        texts = iter(self.reader.read_lines_ranked(crops) if crops else [])
        out = []
        for tile, found in zip(tiles, candidates, strict=True):
            entry = _Entry(None, 0.0, None)
            for kind, box in found:  # the first acceptable read wins; all were read in one batch
                read = next(texts)
                raw = settle_lookalikes(read.text, read.runner_up, read.runner_up_prob)
                confidence = read.confidence
                name = sanitize_name(raw, self.max_chars) if confidence >= self.min_confidence else None
                if name is not None and kind == "middle" and _initials(name):
                    name = None  # an avatar's initials in the middle, not the name
                if name is not None and entry.name is None:
                    entry = _Entry(name, float(confidence), box)
                elif raw and name is None:
                    log.debug("tile %s: read %r at %.2f, not taken as a name", tile, raw[:80], confidence)
                if entry.label_xyxy is None:
                    entry.label_xyxy, entry.confidence = box, float(confidence)
            if entry.name is not None:
                self._signature(entry, frame, tile)
            out.append(entry)
        return out

    def _find(self, frame: np.ndarray, regions: list[tuple[int, str, tuple[int, int, int, int]]],
              ) -> dict[int, dict[str, list[tuple[int, int, int, int]]]]:
        """Run the detector once over a mosaic of all regions; lines per tile and region kind, frame pixels."""
        if not regions:
            return {}
        gap = 8  # black rows between regions, so lines of neighbouring regions never merge
        width = max(r[2][2] - r[2][0] for r in regions)
        height = sum(r[2][3] - r[2][1] + gap for r in regions)
        mosaic = np.zeros((height, width, 3), np.uint8)
        offsets = []
        y = 0
        for _, _, (x0, y0, x1, y1) in regions:
            mosaic[y:y + y1 - y0, :x1 - x0] = frame[y0:y1, x0:x1]
            offsets.append(y)
            y += y1 - y0 + gap
        xyxy, _ = self.reader.find_lines(mosaic)
        found: dict[int, dict[str, list[tuple[int, int, int, int]]]] = {}
        starts = np.array(offsets)
        for box in xyxy:
            cy = (box[1] + box[3]) / 2
            k = int(np.searchsorted(starts, cy, side="right") - 1)
            tile_i, kind, (x0, y0, x1, y1) = regions[k]
            top = offsets[k]
            fx0 = int(np.clip(np.floor(box[0]) + x0, x0, x1))
            fx1 = int(np.clip(np.ceil(box[2]) + x0, x0, x1))
            fy0 = int(np.clip(np.floor(box[1]) - top + y0, y0, y1))
            fy1 = int(np.clip(np.ceil(box[3]) - top + y0, y0, y1))
            if fx1 - fx0 >= 4 and fy1 - fy0 >= 4:
                found.setdefault(tile_i, {}).setdefault(kind, []).append((fx0, fy0, fx1, fy1))
        return found


def _gray(frame: np.ndarray, xyxy: tuple[int, int, int, int]) -> np.ndarray:
    """The luma of one region (converting only the region: a whole 1080p frame costs ~1 ms)."""
    x0, y0, x1, y1 = xyxy
    region = frame[y0:y1, x0:x1]
    if region.size == 0:
        return np.zeros((max(0, y1 - y0), max(0, x1 - x0)), np.uint8)
    return cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)


def _looks_camera_off(tile_bgr: np.ndarray) -> bool:
    """Mostly one flat colour (a camera-off tile), judged on a small grey copy of the tile."""
    if tile_bgr.size == 0:
        return False
    small = cv2.resize(tile_bgr, (32, 18), interpolation=cv2.INTER_AREA)
    small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.int16)
    return float((np.abs(small - np.median(small)) <= 10).mean()) >= 0.7


def _extend_left(frame: np.ndarray, box: tuple[int, int, int, int], left_limit: int) -> tuple[int, int, int, int]:
    """Grow a label box leftwards over text-like columns the detector left out.

    The detector can miss glyphs it does not know (Hangul before a student number on plain
    video, for one); read without them, the rest is a wrong name. Text-like columns hold
    both bright strokes and darker ground; a bright wall (all bright) or dark video (no
    strokes) stops the growth, as does a gap wider than the line height.
    """
    x0, y0, x1, y1 = box
    if x0 <= left_limit:
        return box
    row = _gray(frame, (left_limit, y0, x1, y1))
    inner = row[:, x0 - left_limit:]
    threshold, _ = cv2.threshold(inner, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strip = row[:, :x0 - left_limit]
    texty = np.asarray((strip >= max(threshold, 100.0)).any(axis=0) & (strip < threshold - 40).any(axis=0))
    line_h = y1 - y0
    new_x0, gap = x0, 0
    for col in range(strip.shape[1] - 1, -1, -1):
        if texty[col]:
            new_x0, gap = left_limit + col, 0
        else:
            gap += 1
            if gap > line_h:
                break
    return (max(left_limit, new_x0 - 2), y0, x1, y1) if new_x0 < x0 else box


def _initials(text: str) -> bool:
    """One to three capital letters and nothing else: what Teams and Meet draw in an avatar circle."""
    letters = [ch for ch in text if not ch.isspace()]
    return 1 <= len(letters) <= 3 and all(ch.isalpha() and ch.isupper() for ch in letters)


def _merge_on_rows(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Join boxes that sit on one text row with small gaps (the detector may split words or an icon)."""
    merged: list[list[int]] = []
    for b in sorted(boxes):
        for m in merged:
            overlap = min(m[3], b[3]) - max(m[1], b[1])
            line_h = max(m[3] - m[1], b[3] - b[1])
            if overlap >= 0.5 * min(m[3] - m[1], b[3] - b[1]) and b[0] - m[2] <= 1.2 * line_h:
                m[:] = [min(m[0], b[0]), min(m[1], b[1]), max(m[2], b[2]), max(m[3], b[3])]
                break
        else:
            merged.append(list(b))
    return [(m[0], m[1], m[2], m[3]) for m in merged]


def _pick_labels(tile: tuple[int, int, int, int], lines: dict[str, list[tuple[int, int, int, int]]],
                 ) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Where one tile's name may be, best first: the lowest line at the bottom-left, then a line
    across the middle (a camera-off tile's big name; not an avatar's initials, which are short)."""
    x0, _, x1, _ = tile
    tw = x1 - x0
    found: list[tuple[str, tuple[int, int, int, int]]] = []
    # A line must start in the left part and reach into the tile by half a line height (the search
    # band begins left of the tile, where a neighbour's text may show): a share of the tile's width
    # would drop short names ("Jo", "Bo") on large tiles, whose labels are only two glyphs wide.
    bottom = [b for b in _merge_on_rows(lines.get("bottom", []))
              if b[0] - x0 <= 0.35 * tw and b[2] - x0 >= 0.5 * (b[3] - b[1])]
    if bottom:
        found.append(("bottom", max(bottom, key=lambda b: (b[3], -b[0]))))
    middle = [b for b in _merge_on_rows(lines.get("middle", []))
              if abs((b[0] + b[2]) / 2 - (x0 + x1) / 2) <= 0.2 * tw and b[3] - b[1] >= 8]
    if middle:
        found.append(("middle", max(middle, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))))
    return found
