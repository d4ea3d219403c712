"""Participant ids: stable across frames, new for newcomers, kept through a gallery reflow."""

from __future__ import annotations

import dataclasses
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


def _named(frame: FrameResult, names: list[str | None], tiles: list[list[int]] | None = None,
           tile_names: list[str | None] | None = None) -> FrameResult:
    """``frame`` with display names on its faces (and, optionally, tiles of its own with names)."""
    faces = dataclasses.replace(frame.faces, name=np.array(names, dtype=object))
    if tiles is None:
        return dataclasses.replace(frame, faces=faces)
    return dataclasses.replace(frame, faces=faces, tiles_xyxy=np.array(tiles, np.int32).reshape(-1, 4),
                               tile_names=tuple(tile_names or ()))


def test_a_name_keeps_its_id_through_leaving_and_rejoining_long_after() -> None:
    rng = np.random.default_rng(5)
    people = _person_canvas(rng, 3)
    tracker = ParticipantTracker(forget_after_s=60.0)
    first = tracker(_named(_frame(people, [(10, 10), (200, 10), (400, 10)], 0.0, 1), ["Ana", "Omar", "Li"]), 0.0)
    ids = dict(zip(["Ana", "Omar", "Li"], first.faces.track_id.tolist(), strict=True))
    # Omar leaves; 20 minutes later he comes back in another tile, next to a newcomer.
    tracker(_named(_frame([people[0], people[2]], [(10, 10), (400, 10)], 10.0, 2), ["Ana", "Li"]), 10.0)
    new = _person_canvas(np.random.default_rng(99), 1)[0]
    back = tracker(_named(_frame([people[1], new], [(10, 200), (200, 200)], 1200.0, 3), ["Omar", "Zed"]), 1200.0)
    assert back.faces.track_id.tolist()[0] == ids["Omar"]
    assert back.faces.track_id.tolist()[1] not in ids.values()


def test_another_name_in_the_same_place_is_another_person() -> None:
    rng = np.random.default_rng(6)
    people = _person_canvas(rng, 1)
    tracker = ParticipantTracker()
    a = tracker(_named(_frame(people, [(10, 10)], 0.0, 1), ["Ana"]), 0.0)
    # Same pixels, same place (a swapped label after a page change): the name decides.
    b = tracker(_named(_frame(people, [(10, 10)], 1.0, 2), ["Bruno"]), 1.0)
    assert a.faces.track_id.tolist() != b.faces.track_id.tolist()


def test_a_named_tile_without_a_face_is_that_person_with_the_camera_off() -> None:
    rng = np.random.default_rng(7)
    people = _person_canvas(rng, 1)
    tracker = ParticipantTracker()
    on = tracker(_named(_frame(people, [(10, 10)], 0.0, 1), ["Ana"]), 0.0)
    # Ana turns her camera off; her tile still shows her name, and a second tile shows her name too.
    blank = _frame([], [], 5.0, 2)
    off = tracker(_named(blank, [], tiles=[[0, 0, 100, 100], [300, 0, 400, 100]], tile_names=["Ana", "Ana"]), 5.0)
    assert off.camera_off_track_ids.tolist() == on.faces.track_id.tolist()
    assert off.camera_off_xyxy.tolist() == [[0, 0, 100, 100]]
    assert tracker.participants_known == 1


def _tiled(frame: FrameResult, tiles: list[list[int]]) -> FrameResult:
    """``frame`` with a tile grid found (``tiles_xyxy``) and each face carrying the tile it lies in."""
    t = np.array(tiles, np.int32).reshape(-1, 4)
    c = (frame.faces.xyxy[:, :2] + frame.faces.xyxy[:, 2:]) / 2
    inside = [int(np.flatnonzero((t[:, 0] <= x) & (x < t[:, 2]) & (t[:, 1] <= y) & (y < t[:, 3]))[0]) for x, y in c]
    faces = dataclasses.replace(frame.faces, tile_xyxy=t[inside].reshape(-1, 4))
    return dataclasses.replace(frame, faces=faces, tiles_xyxy=t)


def _live(frame: FrameResult, rng: np.random.Generator) -> FrameResult:
    """``frame`` as live video shows it: fresh camera noise (+-3 grey levels) on every pixel."""
    assert frame.image is not None
    noisy = np.clip(frame.image.astype(np.int16) + rng.integers(-3, 4, frame.image.shape), 0, 255).astype(np.uint8)
    return dataclasses.replace(frame, image=noisy)


def _without_first_face(frame: FrameResult) -> FrameResult:
    """``frame`` with its first face not detected (its pixels are still there: a blur, a hand)."""
    return dataclasses.replace(frame, faces=Faces(xyxy=frame.faces.xyxy[1:], score=np.ones(len(frame.faces) - 1,
                                                                                        np.float32),
                                                  tile_xyxy=frame.faces.tile_xyxy[1:]))


def test_a_missed_face_is_held_at_its_last_box_then_dropped() -> None:
    rng = np.random.default_rng(8)
    people = _person_canvas(rng, 2)
    slots, tiles = [(10, 10), (200, 10)], [[0, 0, 150, 150], [190, 0, 340, 150]]
    tracker = ParticipantTracker(hold_s=3.0)
    first = tracker(_live(_tiled(_frame(people, slots, 0.0, 1), tiles), rng), 0.0)
    seen_one = _without_first_face(_frame(people, slots, 1.0, 2))
    for t in (1.0, 2.0, 3.0):
        out = tracker(_live(_tiled(seen_one, tiles), rng), t)
        assert sorted(out.faces.track_id.tolist()) == [1, 2], f"t={t}: both present"
        i = out.faces.track_id.tolist().index(first.faces.track_id[0])
        assert out.faces.score[i] == 0.0 and out.faces.xyxy[i].tolist() == [30, 30, 70, 70]
    gone = tracker(_live(_tiled(seen_one, tiles), rng), 3.5)
    assert gone.faces.track_id.tolist() == [2], "3.5 s after the last detection: absent"
    back = tracker(_live(_tiled(_frame(people, slots, 5.0, 3), tiles), rng), 5.0)
    assert back.faces.track_id.tolist() == first.faces.track_id.tolist(), "back: the same id"


def test_a_still_picture_dropped_by_the_face_finder_is_not_held() -> None:
    # A profile photo on a camera-off tile is found as a face until the face finder sees that its
    # pixels never change; from then on it is not a participant, held or not.
    rng = np.random.default_rng(10)
    people = _person_canvas(rng, 2)
    slots, tiles = [(10, 10), (200, 10)], [[0, 0, 150, 150], [190, 0, 340, 150]]
    tracker = ParticipantTracker(hold_s=3.0)
    still = _tiled(_frame(people, slots, 0.0, 1), tiles)
    tracker(still, 0.0)
    after = tracker(_without_first_face(dataclasses.replace(still, frame_id=2, t_mono=1.0)), 1.0)
    assert after.faces.track_id.tolist() == [2]


def test_a_camera_going_off_ends_the_hold() -> None:
    rng = np.random.default_rng(11)
    people = _person_canvas(rng, 2)
    slots, tiles = [(10, 10), (200, 10)], [[0, 0, 150, 150], [190, 0, 340, 150]]
    tracker = ParticipantTracker(hold_s=3.0)
    tracker(_live(_tiled(_frame(people, slots, 0.0, 1), tiles), rng), 0.0)
    off = _without_first_face(_frame(people, slots, 1.0, 2))
    assert off.image is not None
    off.image[0:150, 0:150] = 30  # person 0's camera goes off: a dark tile (with camera noise below)
    out = tracker(_live(_tiled(off, tiles), rng), 1.0)
    assert out.faces.track_id.tolist() == [2]


def test_no_hold_after_a_reflow_or_on_a_black_frame() -> None:
    rng = np.random.default_rng(9)
    people = _person_canvas(rng, 2)
    tracker = ParticipantTracker()
    tracker(_tiled(_frame(people, [(10, 10), (200, 10)], 0.0, 1), [[0, 0, 150, 150], [190, 0, 340, 150]]), 0.0)
    # Person 0 left; the gallery reflowed: person 1's tile is now the only one, elsewhere.
    reflow = tracker(_tiled(_frame(people[1:], [(100, 200)], 1.0, 2), [[90, 190, 240, 340]]), 1.0)
    assert reflow.faces.track_id.tolist() == [2] and reflow.faces.score.tolist() == [1.0]
    tracker2 = ParticipantTracker()
    tracker2(_tiled(_frame(people, [(10, 10), (200, 10)], 0.0, 1), [[0, 0, 150, 150], [190, 0, 340, 150]]), 0.0)
    black = tracker2(_frame([], [], 1.0, 2), 1.0)  # the capture went black: nothing is held
    assert len(black.faces) == 0


def test_a_misread_name_on_the_same_face_is_the_same_person_a_near_name_on_another_face_is_not() -> None:
    """OCR misreads a letter now and then ("Will Turner" read "Will Turmer" after a reflow): with
    the same face that is the same person; a near name on another face is someone else."""
    rng = np.random.default_rng(8)
    people = _person_canvas(rng, 3)
    tracker = ParticipantTracker()
    first = tracker(_named(_frame(people[:2], [(10, 10), (200, 10)], 0.0, 1), ["Will Turner", "Ana Souza"]), 0.0)
    will, ana = first.faces.track_id.tolist()
    moved = tracker(_named(_frame(people[:2], [(200, 200), (10, 200)], 1.0, 2), ["Will Turmer", "Ana Souza"]), 1.0)
    assert moved.faces.track_id.tolist() == [will, ana]
    other = tracker(_named(_frame([people[2]], [(400, 10)], 2.0, 3), ["Ana Sousa"]), 2.0)
    assert other.faces.track_id.tolist()[0] not in (will, ana)


def _reordered(frame: FrameResult, order: list[int]) -> FrameResult:
    """``frame`` with its face rows in another order (the face finder lists them by score)."""
    f = frame.faces
    return dataclasses.replace(frame, faces=dataclasses.replace(
        f, xyxy=f.xyxy[order], score=f.score[order], tile_xyxy=f.tile_xyxy[order],
        name=None if f.name is None else f.name[order]))


def test_two_people_with_one_name_keep_their_own_ids() -> None:
    """Two students both called "Ana" (or two "iPhone"s), cameras on, sitting still: each keeps
    her id whichever the face finder lists first, and nobody new appears."""
    rng = np.random.default_rng(11)
    people = _person_canvas(rng, 2)
    slots = [(10, 10), (300, 10)]
    tracker = ParticipantTracker()
    first = tracker(_named(_frame(people, slots, 0.0, 1), ["Ana", "Ana"]), 0.0).faces.track_id.tolist()
    assert len(set(first)) == 2
    for k in range(1, 6):
        frame = _named(_frame(people, slots, float(k), k + 1), ["Ana", "Ana"])
        order = [1, 0] if k % 2 else [0, 1]
        ids = tracker(_reordered(frame, order), float(k)).faces.track_id.tolist()
        assert [ids[order.index(0)], ids[order.index(1)]] == first, k
    assert tracker.participants_known == 2
    # One of them leaves; the one who stays keeps her own id (not the name's first holder's).
    stays = tracker(_named(_frame(people[1:], slots[1:], 6.0, 8), ["Ana"]), 6.0).faces.track_id.tolist()
    assert stays == [first[1]]


def test_the_same_face_shown_twice_keeps_its_name_as_its_identity() -> None:
    """A speaker view shows the speaker large and again in the strip: one name, one look. The name
    still identifies her: after a page change she is elsewhere, her picture changed (lights on),
    and her name alone gives her id back."""
    rng = np.random.default_rng(12)
    person, later = _person_canvas(rng, 2)
    tracker = ParticipantTracker()
    out = tracker(_named(_frame([person, person], [(10, 10), (300, 10)], 0.0, 1), ["Ana", "Ana"]), 0.0)
    back = tracker(_named(_frame([later], [(150, 250)], 1.0, 2), ["Ana"]), 1.0)
    assert back.faces.track_id[0] == out.faces.track_id[0]
