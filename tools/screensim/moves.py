"""What a gallery does during a class: people move to other tiles, or another page shows others.

Both work on a rendered screen's pixels, tile by tile, so the labels move with their people:

- ``reflow``: tile ``i`` shows what tile ``order[i]`` showed (a gallery re-sorting itself when
  someone joins, leaves or starts talking); the tiles must be of one size.
- ``other_page``: every tile shows the corresponding tile of another screen (the next gallery
  page: other people in exactly the same places), resized to fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from tools.screensim.truth import Screen

XYXY = tuple[int, int, int, int]


def reflow(image: np.ndarray, tiles: Sequence[XYXY], order: Sequence[int]) -> np.ndarray:
    """``image`` with tile ``order[i]``'s content drawn in tile ``i`` (tiles of one size)."""
    if sorted(order) != list(range(len(tiles))):
        raise ValueError(f"order must be a permutation of the {len(tiles)} tiles, got {list(order)}")
    out = image.copy()
    for i, j in enumerate(order):
        x1, y1, x2, y2 = tiles[i]
        a1, b1, a2, b2 = tiles[j]
        if (x2 - x1, y2 - y1) != (a2 - a1, b2 - b1):
            raise ValueError(f"tiles {i} and {j} differ in size: a reflow needs tiles of one size")
        out[y1:y2, x1:x2] = image[b1:b2, a1:a2]
    return out


def other_page(image: np.ndarray, tiles: Sequence[XYXY], other: Screen) -> np.ndarray:
    """``image`` with each of ``tiles`` showing ``other``'s tile of the same index (its person and label)."""
    if len(other.tiles) < len(tiles):
        raise ValueError(f"the other page has {len(other.tiles)} tiles, fewer than {len(tiles)}")
    out = image.copy()
    for (x1, y1, x2, y2), t in zip(tiles, other.tiles, strict=False):
        a1, b1, a2, b2 = t.xyxy
        out[y1:y2, x1:x2] = cv2.resize(other.image[b1:b2, a1:a2], (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
    return out
