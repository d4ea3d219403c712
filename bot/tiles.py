"""Find the participant tiles of a video-call gallery in the frame itself.

Zoom, Teams and Meet draw tiles on a flat background separated by gaps a few pixels wide. A
recursive XY-cut finds them: in the current band, rows (then columns) whose pixels nearly all
have the background colour are gap lines; the band is cut at each run of gap lines and each
piece is cut again until no gap line crosses it. A line through a face is never uniform, so
a cut never goes through one.

Trade-offs: the background colour is estimated from the frame's uniform lines, so a tile
painted in that same colour (camera off, same grey as the gaps) melts into the background; a
tile whose own backdrop matches the gap colour across nearly its whole width may be trimmed.
Gap runs wider than ``max_gap_frac`` of the band are not cut (only trimmed at band edges), so a
dark wall inside a tile is not mistaken for a gap.

A large piece the frame-wide cut cannot split (a meeting window on a wallpaper, a stage beside
panels in other colours) is cut again inside, with its own painted background colour
(``_tiles_in_window``).

Last, the pieces are put on the gallery's lattice (``_fill_lattice``): a tile whose picture is
close to the background (a camera in a dim room on a dark theme) is dropped, trimmed or run into
its neighbour by the cut; the rows and columns of the equal tiles give its place back.
"""

from __future__ import annotations

import statistics

import cv2
import numpy as np

from vocab.geometry import intersection_area

_EMPTY = np.zeros((0, 4), np.int32)


def _median(values: np.ndarray) -> float:
    """``np.median`` of a small 1-D array, ~10x faster: the per-tile loops below call it
    hundreds of times per frame, where numpy's per-call overhead dominated the tile finder."""
    return float(statistics.median(np.asarray(values).ravel().tolist()))


def find_tiles(image_bgr: np.ndarray, *, tol: int = 14, gap_fill: float = 0.98,
               min_tile_px: int = 32, max_gap_frac: float = 0.05,
               max_depth: int = 8) -> np.ndarray:
    """The tiles of a gallery frame.

    Args:
        image_bgr: ``(h, w, 3)`` uint8 frame.
        tol: how far a pixel's luma (0..255) may be from the background's and still count as
            background; covers screen-codec noise (luma only: 4:2:0 chroma smears the colours
            of neighbouring tiles into a thin gap). Larger merges near-background tiles into
            the gaps.
        gap_fill: share of a line's pixels that must be background for it to be a gap line;
            below 1 so a few noisy pixels (JPEG ringing at tile edges) do not hide a gap.
        min_tile_px: pieces with a shorter side are slivers and are dropped.
        max_gap_frac: an internal run of gap lines wider than this share of the band (and
            wider than 12 px) is content, not a gap.
        max_depth: recursion limit (7x7 needs 2 levels; strips and nested layouts a few more).

    Returns:
        ``(n, 4)`` int32 ``xyxy`` (right/bottom exclusive), row-major order; empty when the
        frame is blank or too small. A frame without gaps (a camera, a full-screen speaker)
        is one tile.
    """
    if image_bgr.ndim != 3 or image_bgr.shape[0] < min_tile_px or image_bgr.shape[1] < min_tile_px:
        return _EMPTY.copy()
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    bg = _background_luma(gray, tol)
    if bg is None:
        h, w = gray.shape
        return np.array([[0, 0, w, h]], np.int32)
    params = _Params(gap_fill, min_tile_px, max_gap_frac)
    out = _tiles_at(gray, bg, tol, params, max_depth)
    score = _lattice_score(out)
    if score < STRICT_TRY_BELOW:
        strict = _tiles_at(gray, bg, STRICT_TOL, params, max_depth)
        if _lattice_score(strict) > score:
            out = strict
    if len(out) == 0:
        return _EMPTY.copy()
    order = np.lexsort((out[:, 0], out[:, 1]))
    return out[order]


# A background-coloured slide (white on Zoom's light grey, 15 levels apart) melts into the gaps at
# ``tol`` and its glyphs and bars are cut with the strip's tiles; where the cut finds fewer than
# STRICT_TRY_BELOW equal tiles it is run again at STRICT_TOL (a lossless screen grab has no codec
# noise to cover) and the cut with more equal tiles wins.
STRICT_TOL = 5
STRICT_TRY_BELOW = 4


def _lattice_score(tiles: np.ndarray) -> int:
    """How much of a gallery or strip a cut found: its largest set of equal, tile-shaped pieces."""
    return _equal_class([tuple(t) for t in tiles[_shaped(tiles)].tolist()])


def _shaped(tiles: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: ``_tile_shaped`` of each of ``tiles``."""
    return np.array([_tile_shaped(tuple(t)) for t in tiles.tolist()], bool).reshape(-1)


def _tiles_at(gray: np.ndarray, bg: int, tol: int, params: _Params, max_depth: int) -> np.ndarray:
    """The cut at ``tol`` and everything after it (see ``find_tiles``), unordered."""
    is_bg = (cv2.absdiff(gray, np.full_like(gray, bg)) <= tol).astype(np.uint8)
    integral = cv2.integral(is_bg)  # (h+1, w+1) int32
    tiles: list[tuple[int, int, int, int]] = []
    _cut(integral, 0, 0, gray.shape[1], gray.shape[0], tiles, params, max_depth)
    frame_area = gray.shape[0] * gray.shape[1]
    for piece in [t for t in tiles if (t[2] - t[0]) * (t[3] - t[1]) >= LARGE_PIECE_SHARE * frame_area]:
        inner = _tiles_in_window(gray, piece, tol, params, max_depth)
        if inner:
            tiles.remove(piece)
            tiles += inner
    if not tiles:
        return _EMPTY.copy()
    out = np.array(tiles, np.int32)
    if len(out) >= 3:  # slivers: a label or a logo cut loose from a tile
        area = (out[:, 2] - out[:, 0]) * (out[:, 3] - out[:, 1])
        out = out[area >= 0.2 * _median(area)]
    out = _even_out(out, axis=0)
    out = _even_out(out, axis=1)
    out = _snap_to_lattice(out, axis=0)
    out = _snap_to_lattice(out, axis=1)
    out = _align(out, axis=0)
    out = _align(out, axis=1)
    out = _unique(out)
    return _fill_lattice(out, gray, bg)


# A lattice place with no tile is taken for a tile when under this share of its pixels is within
# 1 grey level of the background: a place the app left empty is painted (0.9-1.0 of it), a dark
# camera picture whose pixels sit within ``tol`` of the background, so the cut read it as gap,
# has noise and texture (see _fill_lattice).
LATTICE_MAX_PAINTED = 0.9
LATTICE_MIN_TILES = 3
# A piece the lattice explains: each place it covers at least this share of, and together they
# hold this share of the piece.
LATTICE_PLACE_COVER = 0.5
LATTICE_PIECE_EXPLAINED = 0.6
# A piece lying this much inside one place is a fragment of that place's tile (cut through a
# dark band of its picture, or trimmed at a dark edge).
LATTICE_FRAGMENT_INSIDE = 0.8
# A place beyond the lattice explains a piece only where under this share of it is one grey.
LATTICE_MAX_PAINTED_BEYOND = 0.4


def _fill_lattice(tiles: np.ndarray, gray: np.ndarray, bg: int) -> np.ndarray:
    """``tiles`` put on their gallery's lattice: merged pieces split into its places, places
    that hold a picture but were cut as gap added.

    A gallery's tiles share one size and sit on a lattice of rows and columns. A camera in a
    dim room, or a backdrop close to the app's background colour, gives a tile whose pixels
    are within ``tol`` of the background: every line across it looks like gap, so the cut drops
    it, trims it, or runs it into its neighbour through the gap between them (one piece with
    two faces). The lattice is read off the largest set of equal tiles (``LATTICE_MIN_TILES``
    or more): its rows, and its columns (those of two rows or more, or of the only row, plus
    those of each row's own tiles: a short last row is centred on other columns), with places
    between two columns (rows) one pitch apart filled in. Then:

    - a piece that is not one of those tiles and is explained by lattice places (it covers
      ``LATTICE_PLACE_COVER`` of each, and they hold ``LATTICE_PIECE_EXPLAINED`` of it) is
      replaced by them; anything else (a speaker tile, a shared slide) stays as it is;
    - a place no piece covers is added when it is not painted (``LATTICE_MAX_PAINTED``): the
      empty places of a short last row and a camera-off tile in the background's own colour
      stay out.
    """
    if len(tiles) < LATTICE_MIN_TILES:
        return tiles
    same = same_size(tiles) & _shaped(tiles)[None, :]
    member = same[int(np.argmax(same.sum(axis=1)))]
    if member.sum() < LATTICE_MIN_TILES:  # no gallery or strip (a toolbar's buttons are no lattice)
        return tiles
    members = tiles[member]
    tw = int(_median(members[:, 2] - members[:, 0]))
    th = int(_median(members[:, 3] - members[:, 1]))
    ys, xs = _starts_of(members[:, 1], th), _starts_of(members[:, 0], tw)
    # The gap between tiles is the same both ways: a pitch seen along one axis gives the other's.
    gap = [step - side for side, starts in ((th, ys), (tw, xs)) if (step := _pitch(starts, side)) is not None]
    rows = _with_pitch(ys, th, th + gap[0] if gap else None)
    places = _places(members, rows, tw, th, gray.shape, tw + gap[0] if gap else None)
    if len(places) == 0:
        return tiles
    # A piece may also be explained by a place one pitch beyond the lattice's outer rows and
    # columns (a column of dim tiles has no clean tile to start it); those are never added empty.
    beyond = _ring(places, tw, th, gray.shape)
    # ... and only where a camera's picture is: a panel beside the gallery is painted in its own
    # colour (most of it one grey), a picture, even a dim one, is not.
    beyond = beyond[[_painted_share(gray, b, _commonest(gray, b)) < LATTICE_MAX_PAINTED_BEYOND for b in beyond]] \
        if len(beyond) else beyond
    reach = np.concatenate((places, beyond)) if len(beyond) else places
    out: list[np.ndarray] = [t for t in members]
    changed = False
    for piece in tiles[~member]:
        inter = intersection_area(piece[None], reach)[0]
        cover = inter / ((reach[:, 2] - reach[:, 0]) * (reach[:, 3] - reach[:, 1]))
        area = (piece[2] - piece[0]) * (piece[3] - piece[1])
        mine = (cover >= LATTICE_PLACE_COVER) | (inter >= LATTICE_FRAGMENT_INSIDE * area)
        if mine.any() and inter[mine].sum() >= LATTICE_PIECE_EXPLAINED * area:
            out += [pl for pl in reach[mine]]
            changed = True
        else:
            out.append(piece)
    found = np.array(out, np.int32).reshape(-1, 4)
    empty = ~(intersection_area(places, found) > 0.01 * tw * th).any(axis=1)
    added = [place for place in places[empty] if _painted_share(gray, place, bg) < LATTICE_MAX_PAINTED]
    if added:
        found = np.concatenate((found, np.array(added, np.int32)))
    return _unique(found) if changed or added else tiles


def _commonest(gray: np.ndarray, box: np.ndarray) -> int:
    """The commonest grey of ``box`` (every other row and column)."""
    return int(np.argmax(np.bincount(gray[box[1]:box[3]:2, box[0]:box[2]:2].ravel(), minlength=256)))


def _painted_share(gray: np.ndarray, box: np.ndarray, luma: int) -> float:
    """Share of ``box``'s pixels (every other row and column) within 1 grey level of ``luma``."""
    pixels = gray[box[1]:box[3]:2, box[0]:box[2]:2]
    return float(np.count_nonzero(np.abs(pixels.astype(np.int16) - luma) <= 1)) / max(1, pixels.size)


def _ring(places: np.ndarray, tw: int, th: int, hw: tuple[int, ...]) -> np.ndarray:
    """The places one pitch beyond ``places``' outer rows and columns, inside the frame."""
    h, w = hw[:2]
    xs, ys = sorted(set(places[:, 0].tolist())), sorted(set(places[:, 1].tolist()))
    px = _median(np.diff(xs)) if len(xs) > 1 else None
    py = _median(np.diff(ys)) if len(ys) > 1 else None
    out_x = [round(v) for v in ((xs[0] - px, xs[-1] + px) if px else ())]
    out_y = [round(v) for v in ((ys[0] - py, ys[-1] + py) if py else ())]
    ring = {(x, y) for x in xs + out_x for y in ys + out_y if x in out_x or y in out_y}
    return np.array([(x, y, x + tw, y + th) for x, y in sorted(ring)
                     if x >= 0 and y >= 0 and x + tw <= w and y + th <= h], np.int32).reshape(-1, 4)


def _places(members: np.ndarray, rows: list[int], tw: int, th: int, hw: tuple[int, ...],
            pitch: float | None) -> np.ndarray:
    """``(n, 4)`` int32: the lattice's places, row by row (see ``_fill_lattice``)."""
    h, w = hw[:2]
    starts = _starts_of(members[:, 0], tw)
    row_of = [int(np.argmin([abs(int(y) - r) for r in rows])) for y in members[:, 1]]
    shared = [x for x in starts if len(rows) == 1 or
              len({r for r, m in zip(row_of, members, strict=True) if abs(int(m[0]) - x) <= 0.04 * tw + 2}) >= 2]
    step = _pitch(shared, tw) or pitch
    if shared and step:  # a column seen in one row only, on the others' pitch (not a centred last row's)
        shared = sorted(set(shared) | {x for x in starts
                                       if abs((x - shared[0]) / step - round((x - shared[0]) / step)) * step
                                       <= 0.04 * tw + 2})
    out = []
    for k, y in enumerate(rows):
        own = [int(m[0]) for r, m in zip(row_of, members, strict=True) if r == k]
        if any(min((abs(x - c) for c in shared), default=0) > 0.04 * tw + 2 for x in own):
            shared_here = []  # a short last row, centred between the columns: its own tiles only
        else:
            shared_here = shared
        columns = _with_pitch(_starts_of(np.array(shared_here + own, np.int32), tw), tw, pitch) \
            if shared_here or own else []
        for x in columns:
            if x >= 0 and y >= 0 and x + tw <= w and y + th <= h:
                out.append((x, y, x + tw, y + th))
    return np.array(out, np.int32).reshape(-1, 4)


def _pitch(starts: list[int], side: int) -> float | None:
    """The step between neighbouring ``starts`` that is one tile plus a gap (under 1.5 tiles),
    the median of those seen; None if no two neighbours are that close."""
    steps = [b - a for a, b in zip(starts, starts[1:], strict=False) if side <= b - a < 1.5 * side]
    return _median(np.array(steps)) if steps else None


def _with_pitch(starts: list[int], side: int, fallback: float | None = None) -> list[int]:
    """``starts`` with the places between two of them a whole number of pitches apart filled
    in; the pitch is ``_pitch``'s, else ``fallback`` (the other axis's gap plus ``side``)."""
    pitch = _pitch(starts, side) or fallback
    if not pitch or not starts:
        return starts
    out = [starts[0]]
    for b in starts[1:]:
        k = round((b - out[-1]) / pitch)
        if k >= 2 and abs((b - out[-1]) - k * pitch) <= 0.03 * k * pitch + 2:
            out += [round(out[-1] + j * (b - out[-1]) / k) for j in range(1, k)]
        out.append(b)
    return out


def _starts_of(values: np.ndarray, side: int) -> list[int]:
    """The distinct starts among ``values`` (tiles' left or top edges), those within 4 % of
    ``side`` of one another taken as one (their median)."""
    out: list[list[int]] = []
    for v in sorted(int(v) for v in values):
        if out and v - out[-1][-1] <= 0.04 * side + 2:
            out[-1].append(v)
        else:
            out.append([v])
    return [int(_median(np.array(group))) for group in out]


# A piece this large a share of the frame that the cut left whole is looked into again with
# its own background colour (see _tiles_in_window).
LARGE_PIECE_SHARE = 0.2
WINDOW_LUMA_CANDIDATES = 3
TILE_MIN_SIDE_PX = 40
# Title and tool bars the cut sets loose: 2560x34, 787x49 and 850x41 px (16:1 and more) on a real
# 2560 px Zoom window; the most elongated participant tile seen, a trimmed camera-off one, 3.7:1.
BAR_ASPECT = 5.0


def _tiles_in_window(gray: np.ndarray, piece: tuple[int, int, int, int], tol: int, p: _Params,
                     depth: int) -> list[tuple[int, int, int, int]]:
    """The tiles of a meeting window inside a large piece the frame-wide cut could not split.

    A window that is not maximised sits on a wallpaper (often a gradient), and a maximised one
    may have panels in other colours beside its stage: no line crosses the whole piece in one
    colour, so the cut sees one region. Inside the piece, the stage is the largest connected
    area of one exact painted colour (the gaps between tiles and the margins around them).
    For each of the piece's commonest lumas, the cut is run again inside the bounding box of
    that colour's largest connected area, with that colour as the background; the colour whose
    cut gives the most tile-shaped pieces of one size (a gallery, a strip) wins, if at least
    two; else ``[]``. A shared slide's background cut into glyphs and chart bars loses.
    """
    x0, y0, x1, y1 = piece
    sub = gray[y0:y1, x0:x1]
    hist = np.bincount(sub[::2, ::2].ravel(), minlength=256).astype(np.float64)
    hist = np.convolve(hist, np.ones(3), mode="same")  # painted colours: one luma, +-1 for codecs
    best: list[tuple[int, int, int, int]] = []
    for _ in range(WINDOW_LUMA_CANDIDATES):
        luma = int(np.argmax(hist))
        if hist[luma] <= 0:
            break
        hist[max(0, luma - tol):luma + tol + 1] = 0
        mask = (cv2.absdiff(sub, np.full_like(sub, luma)) <= tol).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask[::4, ::4], connectivity=8)
        if n < 2:
            continue
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        bx, by, bw, bh = (int(v) * 4 for v in stats[k, :4])
        found: list[tuple[int, int, int, int]] = []
        _cut(cv2.integral(mask), bx, by, min(bx + bw, sub.shape[1]), min(by + bh, sub.shape[0]), found, p, depth)
        found = [t for t in found if _tile_shaped(t)]
        if _equal_class(found) > _equal_class(best):
            best = found
    return [(x0 + a, y0 + b, x0 + c, y0 + d) for a, b, c, d in best] if _equal_class(best) >= 2 else []


def _tile_shaped(tile: tuple[int, int, int, int]) -> bool:
    """A piece that can be a participant tile: 40 px or more each way, between 1:2 and 3:1
    (not a glyph, a bar of a chart or a line of a slide)."""
    w, h = tile[2] - tile[0], tile[3] - tile[1]
    return min(w, h) >= TILE_MIN_SIDE_PX and 0.5 <= w / h <= 3.0


def participant_piece(tile: tuple[int, int, int, int] | list[int]) -> bool:
    """A piece of ``find_tiles`` that can be a participant's tile as cut: ``TILE_MIN_SIDE_PX`` or
    more each way and no more than ``BAR_ASPECT`` times as wide as tall (or tall as wide), so not
    a title bar or a tool bar. Looser than the 1:2-3:1 of ``_tile_shaped``: a camera-off tile
    painted in the gaps' colour comes out trimmed (582x156 px on a real Zoom screenshot)."""
    w, h = tile[2] - tile[0], tile[3] - tile[1]
    return min(w, h) >= TILE_MIN_SIDE_PX and w <= BAR_ASPECT * h and h <= BAR_ASPECT * w


def same_size(tiles_xyxy: np.ndarray) -> np.ndarray:
    """``(n, n)`` bool: tiles ``i`` and ``j`` have one size, within 4 % (+2 px) of tile ``i``'s
    width and height (a gallery's tiles, cut from a compressed frame, differ by a pixel or two)."""
    wh = (np.asarray(tiles_xyxy)[:, 2:] - np.asarray(tiles_xyxy)[:, :2]).astype(np.float32).reshape(-1, 2)
    return (np.abs(wh[:, None, :] - wh[None, :, :]) <= 0.04 * wh[:, None, :] + 2).all(axis=2)


def _equal_class(tiles: list[tuple[int, int, int, int]]) -> int:
    """The size of the largest set of ``tiles`` sharing one size (``same_size``); 0 for none."""
    if not tiles:
        return 0
    return int(same_size(np.array(tiles, np.float32)).sum(axis=1).max())


class _Params:
    __slots__ = ("gap_fill", "min_tile_px", "max_gap_frac")

    def __init__(self, gap_fill: float, min_tile_px: int, max_gap_frac: float):
        self.gap_fill = gap_fill
        self.min_tile_px = min_tile_px
        self.max_gap_frac = max_gap_frac


def _background_luma(gray: np.ndarray, tol: int) -> int | None:
    """The commonest luma among the frame's uniform rows and columns (None if none are).

    Rows and columns are sampled every 2 px, so gaps of 2 px or more always contribute; along
    a line every 4th pixel is enough to tell a uniform one (and halves the medians' cost).
    """
    candidates = []
    for lines in (gray[::2, ::4].astype(np.int16), gray[::4, ::2].T.astype(np.int16)):
        med = np.median(lines, axis=1)
        near = (np.abs(lines - med[:, None]) <= tol).mean(axis=1)
        candidates.append(med[near >= 0.98])
    meds = np.concatenate(candidates).astype(np.int32)
    if len(meds) == 0:
        return None
    counts = np.bincount(meds // 8, minlength=32)
    best = int(np.argmax(counts))
    return int(_median(meds[meds // 8 == best]))


def _cut(ii: np.ndarray, x0: int, y0: int, x1: int, y1: int,
         out: list[tuple[int, int, int, int]], p: _Params, depth: int) -> None:
    # Trim background margins on all four sides.
    rows = _row_fill(ii, x0, y0, x1, y1) >= p.gap_fill
    content = np.flatnonzero(~rows)
    if len(content) == 0:
        return
    y0, y1 = y0 + int(content[0]), y0 + int(content[-1]) + 1
    cols = _col_fill(ii, x0, y0, x1, y1) >= p.gap_fill
    content = np.flatnonzero(~cols)
    if len(content) == 0:
        return
    x0, x1 = x0 + int(content[0]), x0 + int(content[-1]) + 1
    if min(x1 - x0, y1 - y0) < p.min_tile_px:
        return
    if depth > 0:
        for axis in (0, 1):  # rows first: galleries are read row by row
            if axis == 0:
                fill = _row_fill(ii, x0, y0, x1, y1)
                start = y0
            else:
                fill = _col_fill(ii, x0, y0, x1, y1)
                start = x0
            pieces = _split(fill >= p.gap_fill, p)
            if pieces != [(0, len(fill))]:
                for a, b in pieces:
                    if axis == 0:
                        _cut(ii, x0, start + a, x1, start + b, out, p, depth - 1)
                    else:
                        _cut(ii, start + a, y0, start + b, y1, out, p, depth - 1)
                return
    if min(x1 - x0, y1 - y0) >= p.min_tile_px:
        out.append((x0, y0, x1, y1))


def _even_out(tiles: np.ndarray, axis: int) -> np.ndarray:
    """Split pieces k times as wide (``axis`` 0) or tall (1) as the tiles of their size class.

    Two tiles whose facing edges both have the gap colour come out of the cut as one piece;
    galleries use equal tiles, so a piece as tall as the others but k tiles (plus gaps) wide
    is split evenly. ``tiles`` ``(n, 4)`` int32 xyxy.
    """
    a0, a1 = (0, 2) if axis == 0 else (1, 3)  # the coordinate being fixed
    b0, b1 = (1, 3) if axis == 0 else (0, 2)  # the other one
    other = tiles[:, b1] - tiles[:, b0]
    # Gap to the nearest tile after each tile in its row (column); n x n, n <= ~50.
    overlap = np.minimum(tiles[:, None, b1], tiles[None, :, b1]) - np.maximum(tiles[:, None, b0], tiles[None, :, b0])
    dist = (tiles[None, :, a0] - tiles[:, None, a1]).astype(np.float64)
    dist[(overlap <= 0.8 * other[:, None]) | (dist <= 0)] = np.inf
    next_gap = dist.min(axis=1)
    out: list[np.ndarray] = []
    for i in range(len(tiles)):
        tile = tiles[i]
        same = np.flatnonzero(np.abs(other - other[i]) <= 0.03 * other[i])
        if len(same) < 3:
            out.append(tile)
            continue
        want = int(_median(tiles[same, a1] - tiles[same, a0]))
        gaps = next_gap[same][np.isfinite(next_gap[same])]
        if len(gaps) == 0:
            out.append(tile)
            continue
        gap = int(_median(gaps))
        size = int(tile[a1] - tile[a0])
        k = round((size + gap) / (want + gap))
        if k >= 2 and abs(size - (k * want + (k - 1) * gap)) <= 0.03 * size:
            for part_i in range(k):
                part = tile.copy()
                part[a0] = tile[a0] + part_i * (want + gap)
                part[a1] = part[a0] + want
                out.append(part)
        else:
            out.append(tile)
    return np.array(out, np.int32).reshape(-1, 4)


def _mates(tiles: np.ndarray, i: int, c0: int, c1: int) -> np.ndarray:
    """Indices of the tiles (``i`` included) that share more than 80 % of tile ``i``'s extent
    between box columns ``c0`` and ``c1``: its row for (1, 3) (y0, y1), its column for (0, 2)."""
    lo, hi = tiles[i, c0], tiles[i, c1]
    overlap = np.minimum(hi, tiles[:, c1]) - np.maximum(lo, tiles[:, c0])
    return np.flatnonzero(overlap > 0.8 * (hi - lo))


def _snap_to_lattice(tiles: np.ndarray, axis: int) -> np.ndarray:
    """Put the tiles of a regular row (``axis`` 0) or column (1) back on its lattice.

    Galleries space equal tiles at a fixed pitch. A tile whose backdrop near an edge has the
    gap colour is trimmed there (and its neighbour may swallow part of the gap); when most
    edges of the row sit on one lattice (within 3 px), every tile is moved onto it.
    """
    a0, a1 = (0, 2) if axis == 0 else (1, 3)
    b0, b1 = (1, 3) if axis == 0 else (0, 2)
    out = tiles.copy()
    for i in range(len(tiles)):
        mates = _mates(tiles, i, b0, b1)
        if len(mates) < 3:
            continue
        order = mates[np.argsort(tiles[mates, a0])]
        starts, ends = tiles[order, a0], tiles[order, a1]
        size = int(_median(ends - starts))
        pitch = float(_median(np.diff(starts)))
        if pitch < size:
            continue
        j = np.arange(len(order))
        origin = float(_median(np.concatenate((starts - j * pitch, ends - size - j * pitch))))
        on0 = np.abs(starts - (origin + j * pitch)) <= 3
        on1 = np.abs(ends - (origin + j * pitch + size)) <= 3
        if (on0 | on1).mean() < 0.99 or (on0 & on1).mean() < 0.5:
            continue
        pos = int(np.flatnonzero(order == i)[0])
        out[i, a0] = round(origin + pos * pitch)
        out[i, a1] = out[i, a0] + size
    return out


def _align(tiles: np.ndarray, axis: int) -> np.ndarray:
    """Give a tile the x (``axis`` 0) or y (1) extent shared by most of its column (row).

    A gallery's columns are aligned (strips too), so one trimmed tile is put back in line. Only
    tile-shaped pieces count as a column (a title bar and a task bar as wide as the frame are
    no column: with them, a shared slide between them was stretched to the frame's width and
    then swallowed the strip beside it).
    """
    a0, a1 = (0, 2) if axis == 0 else (1, 3)
    out = tiles.copy()
    shaped = _shaped(tiles)
    for i in range(len(tiles)):
        mates = _mates(tiles, i, a0, a1)
        mates = mates[shaped[mates]]
        if len(mates) < 3:
            continue
        m0, m1 = _median(tiles[mates, a0]), _median(tiles[mates, a1])
        agree = (np.abs(tiles[mates, a0] - m0) <= 3) & (np.abs(tiles[mates, a1] - m1) <= 3)
        if agree.mean() > 0.5:
            out[i, a0], out[i, a1] = round(m0), round(m1)
    return out


def _unique(tiles: np.ndarray) -> np.ndarray:
    """Drop tiles mostly covered by an earlier one: two pieces of one tile that was cut
    (through a dark band of its backdrop) end up on the same lattice place."""
    keep: list[int] = []
    area = (tiles[:, 2] - tiles[:, 0]) * (tiles[:, 3] - tiles[:, 1])
    for i in range(len(tiles)):
        if keep:
            k = np.array(keep)
            ix = np.minimum(tiles[i, 2], tiles[k, 2]) - np.maximum(tiles[i, 0], tiles[k, 0])
            iy = np.minimum(tiles[i, 3], tiles[k, 3]) - np.maximum(tiles[i, 1], tiles[k, 1])
            if (np.clip(ix, 0, None) * np.clip(iy, 0, None) > 0.5 * area[i]).any():
                continue
        keep.append(i)
    return tiles[keep]


def _split(gap: np.ndarray, p: _Params) -> list[tuple[int, int]]:
    """Pieces ``[a, b)`` between the gap runs of a trimmed band; ``[(0, n)]`` means no cut.

    Runs wider than ``max_gap`` are content (a dark wall), not gaps. Pieces thinner than
    ``min_tile_px`` (a toolbar's text, a stray line) are dropped.
    """
    n = len(gap)
    max_gap = max(12, int(p.max_gap_frac * n))
    edges = np.diff(np.concatenate(([0], gap.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    cuts = [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s <= max_gap]
    if not cuts:
        return [(0, n)]
    bounds = [0] + [v for cut in cuts for v in cut] + [n]
    pieces = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
    kept = [(a, b) for a, b in pieces if b - a >= p.min_tile_px]
    return kept if kept else [(0, n)]


def _row_fill(ii: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Share of background pixels in each row ``y0..y1`` between columns ``x0..x1``."""
    s = ii[y0 + 1:y1 + 1, x1] - ii[y0:y1, x1] - ii[y0 + 1:y1 + 1, x0] + ii[y0:y1, x0]
    return s / float(x1 - x0)


def _col_fill(ii: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    s = ii[y1, x0 + 1:x1 + 1] - ii[y1, x0:x1] - ii[y0, x0 + 1:x1 + 1] + ii[y0, x0:x1]
    return s / float(y1 - y0)
