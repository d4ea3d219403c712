"""Participant ids: stable across frames, new for newcomers, kept through a gallery reflow."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from bot.tracking import ParticipantTracker
from vocab.types import Faces, FrameResult


def _person_canvas(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """n visually distinct 'people': a coloured shirt, a skin tone, a background."""
    people = []
    for _ in range(n):
        p = np.zeros((90, 80, 3), np.uint8)
        p[:] = rng.integers(0, 255, 3)
        p[20:60, 20:60] = rng.integers(60, 230, 3)  # face
        p[60:] = rng.integers(0, 255, 3)  # clothes
        people.append(p)
    return people


def _frame(people: list[np.ndarray], slots: list[tuple[int, int]], t: float, fid: int) -> FrameResult:
    image = np.zeros((400, 600, 3), np.uint8)
    boxes = []
    for person, (x, y) in zip(people, slots, strict=True):
        image[y:y + 90, x:x + 80] = person
        boxes.append([x + 20, y + 20, x + 60, y + 60])
    xyxy = np.array(boxes, np.float32).reshape(-1, 4)
    faces = Faces(xyxy=xyxy, score=np.ones(len(xyxy), np.float32), tile_xyxy=xyxy.astype(np.int32))
    return FrameResult(fid, t, datetime.now(UTC), (0, 0, 600, 400), image=image, faces=faces)


def test_ids_are_stable_and_survive_reflow_and_join() -> None:
    rng = np.random.default_rng(1)
    people = _person_canvas(rng, 5)
    grid = [(10 + 120 * i, 10) for i in range(4)]
    tracker = ParticipantTracker()
    ids0 = tracker(_frame(people[:4], grid, 0.0, 1), 0.0).faces.track_id
    assert sorted(ids0.tolist()) == [1, 2, 3, 4]
    ids1 = tracker(_frame(people[:4], grid, 1.0, 2), 1.0).faces.track_id
    assert ids1.tolist() == ids0.tolist()
    # A fifth person joins: the gallery reflows into two rows and everybody moves.
    reflow = [(300, 200), (10, 200), (150, 10), (10, 10), (450, 200)]
    ids2 = tracker(_frame(people, reflow, 2.0, 3), 2.0).faces.track_id
    assert ids2[:4].tolist() == ids0.tolist(), "existing participants keep their ids after a reflow"
    assert ids2[4] == 5
    # Someone leaves and comes back within the memory window: same id.
    tracker(_frame(people[1:], reflow[1:], 3.0, 4), 3.0)
    ids4 = tracker(_frame(people, reflow, 10.0, 5), 10.0).faces.track_id
    assert ids4.tolist() == ids2.tolist()


def test_forgotten_participant_gets_a_new_id() -> None:
    rng = np.random.default_rng(2)
    people = _person_canvas(rng, 1)
    tracker = ParticipantTracker(forget_after_s=5)
    first = tracker(_frame(people, [(10, 10)], 0.0, 1), 0.0).faces.track_id[0]
    tracker(_frame([], [], 6.0, 2), 6.0)
    again = tracker(_frame(people, [(10, 10)], 20.0, 3), 20.0).faces.track_id[0]
    assert first == 1 and again == 2


def test_no_faces_is_fine() -> None:
    out = ParticipantTracker()(_frame([], [], 0.0, 1), 0.0)
    assert out.faces.track_id is not None and len(out.faces.track_id) == 0
