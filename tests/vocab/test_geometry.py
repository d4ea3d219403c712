"""Box overlap: one table of boxes and the overlaps worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from vocab.geometry import Overlap, box_overlap, containing_box

A = [0, 0, 10, 10]  # area 100


@pytest.mark.parametrize(("b", "iou", "ios"), [
    ([0, 0, 10, 10], 1.0, 1.0),            # the same box
    ([5, 0, 15, 10], 50 / 150, 0.5),       # half shifted: 50 shared of 150 in all
    ([2, 2, 6, 6], 16 / 100, 1.0),         # inside: IoU small, intersection-over-smaller 1
    ([10, 0, 20, 10], 0.0, 0.0),           # touching edges share no area
    ([30, 30, 40, 40], 0.0, 0.0),          # far apart
    ([3, 3, 3, 8], 0.0, 0.0),              # a degenerate (zero-width) box overlaps nothing
])
def test_overlap_table(b: list[int], iou: float, ios: float) -> None:
    assert box_overlap(np.array([A]), np.array([b]))[0, 0] == pytest.approx(iou)
    assert box_overlap(np.array([A]), np.array([b]), Overlap.IOS)[0, 0] == pytest.approx(ios)


def test_shapes_and_empty_inputs() -> None:
    a = np.array([A, [5, 5, 15, 15]], np.float32)
    b = np.array([A, [100, 100, 110, 110], [5, 0, 15, 10]], np.float32)
    assert box_overlap(a, b).shape == (2, 3)
    assert box_overlap(np.zeros((0, 4)), b).shape == (0, 3)
    assert box_overlap(a, np.zeros((0, 4))).shape == (2, 0)


def test_containing_box_takes_the_centre_and_half_open_edges() -> None:
    tiles = np.array([[0, 0, 10, 10], [10, 0, 20, 10]])
    faces = np.array([[2, 2, 6, 6],      # centre (4, 4): the first tile
                      [8, 2, 12, 6],     # centre (10, 4): on the shared edge, the right tile's
                      [25, 2, 29, 6]])   # centre outside both
    assert containing_box(faces, tiles).tolist() == [0, 1, -1]
    assert containing_box(np.zeros((0, 4)), tiles).tolist() == []
    assert containing_box(faces, np.zeros((0, 4))).tolist() == [-1, -1, -1]
