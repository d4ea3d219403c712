"""Participant ids: stable across frames, new for newcomers, kept through a gallery reflow."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.painted import camera_off_like
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


@pytest.mark.parametrize("cut", ["Jo S…", "Jo S...", "Jo Sm…"])
def test_a_label_the_app_cut_is_the_one_known_name_it_starts(cut: str) -> None:
    """Apps cut long names to fit small tiles ("Jo Smith" shown "Jo S…"): after a reflow into
    smaller tiles, on a face or a camera-off tile, that is still Jo Smith, not a newcomer."""
    rng = np.random.default_rng(13)
    people = _person_canvas(rng, 2)
    tracker = ParticipantTracker()
    first = tracker(_named(_frame(people, [(10, 10), (200, 10)], 0.0, 1), ["Jo Smith", "Ana Souza"]), 0.0)
    jo, ana = first.faces.track_id.tolist()
    moved = tracker(_named(_frame(people, [(200, 200), (10, 200)], 1.0, 2), [cut, "Ana Souza"]), 1.0)
    assert moved.faces.track_id.tolist() == [jo, ana]
    off = tracker(_named(_frame([people[1]], [(10, 200)], 2.0, 3), ["Ana Souza"], tiles=[[0, 0, 100, 100]],
                         tile_names=[cut]), 2.0)
    assert off.camera_off_track_ids.tolist() == [jo]
    assert tracker.participants_known == 2


def test_a_cut_label_several_known_names_start_with_names_nobody() -> None:
    """"Jo S…" may be Jo Smith or Jo Santos: the label says nothing, place and looks decide (each
    keeps their id after a reflow; a newcomer with that label is someone new)."""
    rng = np.random.default_rng(14)
    people = _person_canvas(rng, 3)
    tracker = ParticipantTracker()
    first = tracker(_named(_frame(people[:2], [(10, 10), (200, 10)], 0.0, 1), ["Jo Smith", "Jo Santos"]), 0.0)
    smith, santos = first.faces.track_id.tolist()
    moved = tracker(_named(_frame(people, [(200, 200), (10, 200), (400, 10)], 1.0, 2), ["Jo S…"] * 3), 1.0)
    ids = moved.faces.track_id.tolist()
    assert ids[:2] == [smith, santos]
    assert ids[2] not in (smith, santos)


def test_a_misread_name_on_a_camera_off_tile_is_the_same_person_a_near_name_elsewhere_is_not() -> None:
    """OCR misreads a camera-off tile's label once ("Will Turner" read "Will Turmer"): at the same
    place as Will that is Will, not a new participant; a near name on another tile is someone else."""
    tiles = [[0, 0, 100, 100], [200, 0, 300, 100], [400, 0, 500, 100]]

    def off(names: list[str], t: float) -> FrameResult:
        return _named(_frame([], [], t, int(t) + 1), [], tiles=tiles[:len(names)], tile_names=names)

    tracker = ParticipantTracker()
    will, ana = tracker(off(["Will Turner", "Ana Souza"], 0.0), 0.0).camera_off_track_ids.tolist()
    misread = tracker(off(["Will Turmer", "Ana Souza"], 1.0), 1.0)
    assert misread.camera_off_track_ids.tolist() == [will, ana]
    assert misread.camera_off_xyxy.tolist()[0] == tiles[0]
    assert tracker(off(["Will Turner", "Ana Souza"], 2.0), 2.0).camera_off_track_ids.tolist() == [will, ana]
    assert tracker.participants_known == 2
    other = tracker(off(["Will Turner", "Ana Souza", "Ana Sousa"], 3.0), 3.0).camera_off_track_ids.tolist()
    assert other[:2] == [will, ana] and other[2] not in (will, ana)


def _ana_and_bo_seen() -> tuple[np.random.Generator, np.ndarray, list[tuple[int, int]], list[list[int]],
                             ParticipantTracker, FrameResult, int]:
    """Ana and Bo, named, on two live tiles, seen at t=0 by a tracker holding for 3 s: the random
    source, their canvas, slots and tiles, the tracker, that frame and Ana's id."""
    rng = np.random.default_rng(15)
    people = _person_canvas(rng, 2)
    slots, tiles = [(10, 10), (200, 10)], [[0, 0, 150, 150], [190, 0, 340, 150]]
    tracker = ParticipantTracker(hold_s=3.0)
    seen = _tiled(_frame(people, slots, 0.0, 1), tiles)
    ana = tracker(_live(_named(seen, ["Ana", "Bo"], tiles, ["Ana", "Bo"]), rng), 0.0).faces.track_id.tolist()[0]
    return rng, people, slots, tiles, tracker, seen, ana


def test_a_named_live_tile_without_a_face_is_not_a_camera_off() -> None:
    """Ana's face is not found for longer than the hold (she looks down), but her tile is live
    video: she stays present with her face missing (a held row on her tile), not camera off.
    Only once her tile is painted by the app is her camera off."""
    rng, people, slots, tiles, tracker, seen, ana = _ana_and_bo_seen()
    missed = _tiled(_without_first_face(_frame(people, slots, 1.0, 2)), tiles)
    for t in (1.0, 2.0, 3.0, 4.0, 6.0):
        frame = _live(_named(missed, ["Bo"], tiles, ["Ana", "Bo"]), rng)
        assert frame.image is not None and not camera_off_like(frame.image, np.array(tiles[0]))
        out = tracker(frame, t)
        assert out.camera_off_track_ids.tolist() == [], f"t={t}: a live tile is no camera off"
        assert ana in out.faces.track_id.tolist(), f"t={t}: Ana is present"
        i = out.faces.track_id.tolist().index(ana)
        assert out.faces.score[i] == 0.0 and out.faces.tile_xyxy[i].tolist() == tiles[0]
    painted = _live(_named(missed, ["Bo"], tiles, ["Ana", "Bo"]), rng)
    assert painted.image is not None
    painted.image[0:150, 0:150] = 40  # her camera goes off: the app paints her tile in one exact grey
    for t, frame in ((7.0, painted), (8.0, _live(painted, rng))):  # as shown, then through a recording's noise
        out = tracker(frame, t)
        assert out.camera_off_track_ids.tolist() == [ana] and ana not in out.faces.track_id.tolist(), t


@pytest.mark.parametrize(("known", "cut"), [("Josh Miller", "Jo S…"), ("Jo Smith", "Jo S…")],
                         ids=["not-word-by-word", "another-face"])
def test_a_cut_label_is_not_a_known_name_it_does_not_fit_word_by_word_nor_a_face_that_looks_different(
        known: str, cut: str) -> None:
    """"Jo S…" is not Josh Miller ("Jo" is a whole word; the keys, without spaces, would agree on
    "jos"), and on a face that does not look like Jo Smith it is not Jo Smith either (another
    "Jo S…", whose full name was never read): a newcomer, and the known name stays nobody else's."""
    rng = np.random.default_rng(16)
    josh, other, later = _person_canvas(rng, 3)
    tracker = ParticipantTracker()
    first = tracker(_named(_frame([josh], [(10, 10)], 0.0, 1), [known]), 0.0).faces.track_id.tolist()
    alone = tracker(_named(_frame([other], [(300, 200)], 1.0, 2), [cut]), 1.0)  # a page without Josh (or Jo)
    assert alone.faces.track_id.tolist() != first
    both = tracker(_named(_frame([josh, other], [(10, 10), (300, 200)], 2.0, 3), [known, cut]), 2.0)
    assert both.faces.track_id.tolist() == first + alone.faces.track_id.tolist()
    back = tracker(_named(_frame([later], [(150, 250)], 3.0, 4), [known]), 3.0)  # page change, lights on
    assert back.faces.track_id.tolist() == first, "the name still gives its one holder's id back"
    off = ParticipantTracker()
    off(_named(_frame([josh], [(10, 10)], 0.0, 1), ["Anastasia Petrova"]), 0.0)
    ana = off(_named(_frame([], [], 1.0, 2), [], tiles=[[300, 200, 400, 300]], tile_names=["Ana S…"]), 1.0)
    assert ana.camera_off_track_ids.tolist() == [2], "Ana S… is not Anastasia Petrova"


def test_a_cut_label_read_first_names_nobody_and_the_full_name_read_later_is_theirs() -> None:
    """Jo Smith's label is cut ("Jo S…") on small tiles before it is ever read whole: she is one
    participant when a reflow shows it whole, on her face or on her camera-off tile. "Ana…" is
    not the complete name "Ana" (an app cuts only what does not fit): Ana Souza is someone else."""
    rng = np.random.default_rng(17)
    jo, ana, souza = _person_canvas(rng, 3)
    tracker = ParticipantTracker()
    ids = [tracker(_named(_frame([jo, ana], [(10, 10), (200, 10)], t, int(t) + 1), [jo_label, "Ana Souza"]),
                   t).faces.track_id.tolist() for t, jo_label in ((0.0, "Jo S…"), (1.0, "Jo Smith"), (2.0, "Jo S…"))]
    assert ids[0] == ids[1] == ids[2] and tracker.participants_known == 2
    off = ParticipantTracker()
    tile = [[0, 0, 100, 100]]
    cut, whole = (off(_named(_frame([], [], t, int(t) + 1), [], tiles=tile, tile_names=[label]), t)
                  .camera_off_track_ids.tolist() for t, label in ((0.0, "Jo S…"), (1.0, "Jo Smith")))
    assert cut == whole and off.participants_known == 1
    short = ParticipantTracker()
    a = short(_named(_frame([ana], [(10, 10)], 0.0, 1), ["Ana"]), 0.0).faces.track_id.tolist()
    b = short(_named(_frame([souza], [(300, 200)], 1.0, 2), ["Ana…"]), 1.0).faces.track_id.tolist()
    assert a != b
    tile_off = short(_named(_frame([], [], 2.0, 3), [], tiles=[[200, 0, 300, 100]], tile_names=["Ana…"]), 2.0)
    assert a[0] not in tile_off.camera_off_track_ids.tolist(), "Ana… on a tile is not Ana either"


def test_a_cut_inside_a_look_alike_pair_still_fits() -> None:
    """"Karl Ar…" is cut inside the "rn" that name keys fold to "m" ("karlamold"): still Karl Arnold."""
    karl, = _person_canvas(np.random.default_rng(18), 1)
    tracker = ParticipantTracker()
    a = tracker(_named(_frame([karl], [(10, 10)], 0.0, 1), ["Karl Arnold"]), 0.0).faces.track_id.tolist()
    b = tracker(_named(_frame([karl], [(200, 200)], 1.0, 2), ["Karl Ar…"]), 1.0).faces.track_id.tolist()
    assert a == b and tracker.participants_known == 1


def _off(names: list[str], tiles: list[list[int]], t: float) -> FrameResult:
    """A frame of camera-off tiles showing ``names``, no faces."""
    return _named(_frame([], [], t, int(t) + 1), [], tiles=tiles, tile_names=names)


def test_a_camera_off_participant_s_place_follows_their_tile() -> None:
    """Will's camera is off; a reflow puts him on the third tile for a minute. His label misread
    there once is still Will; a newcomer with a near name on his first tile, a page later, is not."""
    tiles = [[0, 0, 100, 100], [200, 0, 300, 100], [400, 0, 500, 100]]
    tracker = ParticipantTracker()
    will, = tracker(_off(["Will Turner"], tiles[:1], 0.0), 0.0).camera_off_track_ids.tolist()
    for t in range(1, 60):
        tracker(_off(["Zed Brown", "Ana Souza", "Will Turner"], tiles, float(t)), float(t))
    misread = tracker(_off(["Zed Brown", "Ana Souza", "Will Turmer"], tiles, 60.0), 60.0)
    assert misread.camera_off_track_ids.tolist()[2] == will and tracker.participants_known == 3
    page = tracker(_off(["Wil Turney", "Ana Souza"], tiles[:2], 61.0), 61.0).camera_off_track_ids.tolist()
    assert will not in page


def test_a_near_name_that_keeps_being_read_where_someone_sat_is_a_person_of_their_own() -> None:
    """Page 1 shows "Wang Li" on the first tile, page 2 "Wang Lu" (another student) there. Read
    once that could be a misread of Wang Li; read frame after frame it is Wang Lu, her own person."""
    tiles = [[0, 0, 100, 100], [200, 0, 300, 100]]
    tracker = ParticipantTracker()
    for t in range(10):
        li, omar = tracker(_off(["Wang Li", "Omar Said"], tiles, float(t)), float(t)).camera_off_track_ids.tolist()
    for t in range(10, 20):
        lu, sara = tracker(_off(["Wang Lu", "Sara Kim"], tiles, float(t)), float(t)).camera_off_track_ids.tolist()
    assert lu not in (li, omar, sara) and tracker.participants_known == 4
    back = tracker(_off(["Wang Li", "Omar Said"], tiles, 20.0), 20.0).camera_off_track_ids.tolist()
    assert back == [li, omar]


def test_a_cut_label_beside_a_new_near_name_is_still_its_owner() -> None:
    """Ana Lina joins; the reflow puts her on Ana Lima's tile and cuts Ana Lima's label to "Ana L…"
    on the next one. Ana Lima is on screen (her cut label is hers), so "Ana Lina" is no misread of
    her: two people, each on her tile."""
    tiles = [[0, 0, 100, 100], [200, 0, 300, 100]]
    tracker = ParticipantTracker()
    lima, = tracker(_off(["Ana Lima"], tiles[:1], 0.0), 0.0).camera_off_track_ids.tolist()
    out = tracker(_off(["Ana Lina", "Ana L…"], tiles, 1.0), 1.0)
    lina, cut = out.camera_off_track_ids.tolist()
    assert cut == lima and lina != lima and tracker.participants_known == 2
    assert out.camera_off_xyxy.tolist() == tiles


def test_a_frozen_tile_without_a_face_is_held_no_longer_than_the_hold() -> None:
    """Ana's connection drops: her tile keeps her last picture, frozen (the same pixels every frame),
    and the face finder drops the still face. She is held for the hold, then her camera counts as
    off (present, named on her tile), not held present for ever."""
    rng, people, slots, tiles, tracker, seen, ana = _ana_and_bo_seen()
    frozen = _live(seen, rng).image
    assert frozen is not None
    for t in (1.0, 2.0, 3.0, 4.0, 5.0, 60.0):
        frame = _live(_named(_tiled(_without_first_face(_frame(people, slots, t, int(t) + 1)), tiles), ["Bo"],
                             tiles, ["Ana", "Bo"]), rng)
        assert frame.image is not None
        frame.image[0:150, 0:150] = frozen[0:150, 0:150]
        out = tracker(frame, t)
        held = ana in out.faces.track_id.tolist()
        assert held == (t <= 3.0), f"t={t}: held only for the hold"
        assert out.camera_off_track_ids.tolist() == ([] if held else [ana]), t


def test_a_participant_held_on_a_live_tile_keeps_the_name_on_it() -> None:
    """Carla's camera is on, her face is never found (a dim room): she is held on her named, live
    tile, and that row carries the name on it, as a camera-off participant's tile does (the
    database stores the name read most)."""
    rng = np.random.default_rng(3)
    bo, carla = _person_canvas(rng, 2)
    tiles = [[0, 0, 150, 150], [190, 0, 340, 150]]
    tracker = ParticipantTracker()
    for t in range(5):
        both = _live(_frame([bo, carla], [(10, 10), (200, 10)], float(t), t + 1), rng)  # both on screen...
        found = _named(_tiled(_frame([bo], [(10, 10)], float(t), t + 1), tiles), ["Bo"], tiles, ["Bo", "Carla Diaz"])
        out = tracker(dataclasses.replace(found, image=both.image), float(t))  # ...only Bo's face found
    assert out.faces.name is not None and out.camera_off_track_ids.tolist() == []
    assert out.faces.score.tolist() == [1.0, 0.0] and out.faces.name.tolist() == ["Bo", "Carla Diaz"]
