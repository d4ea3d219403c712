"""Box overlap, the one function every stage that compares boxes uses.

Boxes are ``xyxy`` (x1, y1, x2, y2) in pixels, right/bottom exclusive or not: only differences
are used, so either convention gives the same overlap for boxes of the same convention.
"""

from __future__ import annotations

from enum import Enum

import numpy as np


class Overlap(Enum):
    """How ``box_overlap`` normalises the intersection area."""

    IOU = "iou"  # intersection over union: the same object seen twice
    IOS = "ios"  # intersection over the smaller box: one box lies (mostly) inside the other


def box_overlap(a: np.ndarray, b: np.ndarray, metric: Overlap = Overlap.IOU) -> np.ndarray:
    """``(n, m)`` float64 overlap of every box of ``a`` ``(n, 4)`` with every box of ``b`` ``(m, 4)``.

    Empty or degenerate boxes overlap nothing (0.0), never NaN.
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    inter = _intersection(a, b)
    area_a = np.maximum(a[:, 2] - a[:, 0], 0) * np.maximum(a[:, 3] - a[:, 1], 0)
    area_b = np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)
    if metric is Overlap.IOU:
        denom = area_a[:, None] + area_b[None, :] - inter
    else:
        denom = np.minimum(area_a[:, None], area_b[None, :])
    # Divided only where there is an area: no 0/0 to warn about.
    return np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)


def intersection_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m)`` float64 area shared by every box of ``a`` ``(n, 4)`` and every box of ``b`` ``(m, 4)``."""
    return _intersection(np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4))


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``intersection_area`` of boxes already ``(n, 4)`` and ``(m, 4)`` float64."""
    iw = np.maximum(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0)
    ih = np.maximum(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0)
    return iw * ih


def containing_box(xyxy: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(n,)`` int64: for each box of ``xyxy`` ``(n, 4)``, the index of the first of ``boxes``
    ``(m, 4)`` holding its centre (left/top edges inside, right/bottom outside), -1 where none does."""
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(xyxy) == 0 or len(boxes) == 0:
        return np.full(len(xyxy), -1, np.int64)
    inside = points_inside((xyxy[:, :2] + xyxy[:, 2:]) / 2, boxes)
    return np.where(inside.any(axis=1), inside.argmax(axis=1), -1).astype(np.int64)


def points_inside(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(n, m)`` bool: whether each point ``(n, 2)`` (x, y) lies in each box ``(m, 4)`` (left/top
    edges inside, right/bottom outside)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return ((p[:, None, 0] >= b[None, :, 0]) & (p[:, None, 0] < b[None, :, 2])
            & (p[:, None, 1] >= b[None, :, 1]) & (p[:, None, 1] < b[None, :, 3]))
