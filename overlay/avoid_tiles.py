"""Where the panel may sit without hiding anyone: pure geometry over the gallery's tiles, no Qt.

On X11 and macOS the panel is part of every screen capture, so a participant under it is not
seen (the tracker then records them as hidden, not absent). The panel therefore goes, by
default, to a place on the screen that covers no tile of the captured gallery; where there is
none, to the place that covers the least. All rectangles are in one pixel space (the caller's
logical screen pixels): ``xywh`` for the screen and panel, ``xyxy`` for tiles.
"""

from __future__ import annotations

import numpy as np

XYWH = tuple[int, int, int, int]

MIN_COVERED_SHARE = 0.02  # a sliver (a shadow, a rounding pixel) does not hide a tile
EDGE_STEPS = 12  # places tried along each screen edge between its corners


def tiles_on_screen(tiles_xyxy: np.ndarray, region_xywh: tuple[int, int, int, int], scale: float = 1.0) -> np.ndarray:
    """``(n, 4)`` frame-pixel tiles as ``(n, 4)`` float screen rectangles (``scale``: physical per logical px)."""
    rx, ry = region_xywh[0], region_xywh[1]
    tiles = np.asarray(tiles_xyxy, np.float64).reshape(-1, 4)
    return (tiles + np.array([rx, ry, rx, ry], np.float64)) / scale


def covered_tiles(panel_xywh: XYWH, tiles_xyxy: np.ndarray) -> list[int]:
    """Indices of the tiles the panel covers (more than ``MIN_COVERED_SHARE`` of a tile's area)."""
    return [int(i) for i in np.flatnonzero(_covered_share(panel_xywh, tiles_xyxy) > MIN_COVERED_SHARE)]


def _covered_share(panel_xywh: XYWH, tiles_xyxy: np.ndarray) -> np.ndarray:
    x, y, w, h = panel_xywh
    t = np.asarray(tiles_xyxy, np.float64).reshape(-1, 4)
    iw = np.clip(np.minimum(t[:, 2], x + w) - np.maximum(t[:, 0], x), 0, None)
    ih = np.clip(np.minimum(t[:, 3], y + h) - np.maximum(t[:, 1], y), 0, None)
    area = np.maximum((t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1]), 1.0)
    return np.asarray(iw * ih / area)


def candidate_places(area_xywh: XYWH, panel_wh: tuple[int, int], margin_px: int = 16) -> list[tuple[int, int]]:
    """Top-left corners along the edges of ``area_xywh``: the four corners first (top-right first,
    where hosts expect it), then places along each edge."""
    ax, ay, aw, ah = area_xywh
    pw, ph = panel_wh
    left, top = ax + margin_px, ay + margin_px
    right, bottom = max(ax + aw - pw - margin_px, left), max(ay + ah - ph - margin_px, top)
    places = [(right, top), (right, bottom), (left, top), (left, bottom)]
    for k in range(1, EDGE_STEPS):
        fx = left + (right - left) * k // EDGE_STEPS
        fy = top + (bottom - top) * k // EDGE_STEPS
        places += [(right, fy), (fx, top), (left, fy), (fx, bottom)]
    seen: set[tuple[int, int]] = set()
    return [p for p in places if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def best_place(area_xywh: XYWH, panel_wh: tuple[int, int], tiles_xyxy: np.ndarray,
               margin_px: int = 16) -> tuple[tuple[int, int], int]:
    """The first place (``candidate_places`` order) covering no tile, else the one covering the fewest
    (then the least tile area); returns ``((x, y), tiles covered there)``."""
    best: tuple[tuple[int, float], tuple[int, int]] | None = None
    for x, y in candidate_places(area_xywh, panel_wh, margin_px):
        share = _covered_share((x, y, *panel_wh), tiles_xyxy)
        cost = (int((share > MIN_COVERED_SHARE).sum()), float(share.sum()))
        if cost[0] == 0:
            return (x, y), 0
        if best is None or cost < best[0]:
            best = (cost, (x, y))
    assert best is not None  # candidate_places always yields the four corners
    return best[1], best[0][0]


def covering_text(n_tiles: int, n_hidden: int = 0) -> str | None:
    """The panel's warning when it hides part of the gallery (and ``n_hidden`` people the run
    knows are under it), None when it hides nothing."""
    if n_tiles <= 0:
        return None
    hidden = f", {n_hidden} {'person' if n_hidden == 1 else 'people'} hidden" if n_hidden > 0 else ""
    return f"Covering {n_tiles} tile{'' if n_tiles == 1 else 's'}{hidden} \u2014 drag me aside"

