"""Qt-free parts of the overlay: trend buffer, badge placement, placement file, cv2 Qt env."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from overlay.avoid_tiles import best_place, candidate_places, covered_tiles, covering_text, tiles_on_screen
from overlay.badge_layout import badge_specs, overlaps, place_badge
from overlay.placement import Placement, load_placement, save_placement
from overlay.trend import TrendBuffer
from vocab.types import UNCERTAIN, Faces, FrameResult


def test_trend_keeps_the_window_and_breaks_at_gaps() -> None:
    buf = TrendBuffer(window_s=60.0, gap_s=5.0)
    for t in range(0, 100):
        buf.add(float(t), float(t))
    pts = buf.points()
    assert pts[0][0] >= 39.0 and pts[-1] == (99.0, 99.0)
    buf.add(120.0, 1.0)  # 21 s without frames (paused): the line breaks
    assert buf.points()[-2] == (99.0, None)
    buf.add(5.0, 2.0)  # clock went back: a new run
    assert buf.points() == [(5.0, 2.0)]
    with pytest.raises(ValueError):
        TrendBuffer(window_s=0)


TILE = (100.0, 100.0, 300.0, 250.0)
BADGE = (60.0, 16.0)


@pytest.mark.parametrize(("face", "frame_wh", "side"), [
    ((160.0, 120.0, 240.0, 200.0), (1000.0, 1000.0), "below"),
    ((150.0, 150.0, 220.0, 245.0), (1000.0, 1000.0), "right"),  # no room under the face
    ((220.0, 150.0, 290.0, 245.0), (1000.0, 1000.0), "left"),  # nor right of it
    ((105.0, 150.0, 295.0, 245.0), (1000.0, 1000.0), "above"),  # the face fills the width
    ((100.0, 100.0, 300.0, 250.0), (1000.0, 1000.0), "below"),  # the face is the tile: outside it
])
def test_badges_go_beside_the_face_never_on_it(face: tuple[float, ...], frame_wh: tuple[float, float],
                                                side: str) -> None:
    x, y = place_badge(face, TILE, BADGE, frame_wh)  # type: ignore[arg-type]
    badge = (x, y, x + BADGE[0], y + BADGE[1])
    assert not overlaps(badge, face)  # type: ignore[arg-type]
    fx1, fy1, fx2, fy2 = face
    where = {"below": y >= fy2, "above": y + BADGE[1] <= fy1, "right": x >= fx2, "left": x + BADGE[0] <= fx1}
    assert where[side], (side, badge)


def frame_with(labels: list[int], probs: bool = True) -> FrameResult:
    n = len(labels)
    p = np.full((n, 7), 1 / 7, np.float32)
    faces = Faces(xyxy=np.tile(np.array([[10, 10, 50, 50]], np.float32), (n, 1)), score=np.ones(n, np.float32),
                  tile_xyxy=np.tile(np.array([[0, 0, 100, 100]], np.int32), (n, 1)),
                  smoothed_probs=p if probs else None, label=np.array(labels, np.int64) if probs else None)
    from datetime import datetime
    return FrameResult(frame_id=1, t_mono=0.0, t_utc=datetime.now(UTC), region_xywh=(0, 0, 100, 100),
                       faces=faces)


def test_badge_words_follow_privacy() -> None:
    f = frame_with([3, UNCERTAIN])
    assert [s.text for s in badge_specs(f)] == ["Happy", "?"]
    assert [s.text for s in badge_specs(f, emotions=False)] == ["here", "here"]
    assert [s.text for s in badge_specs(frame_with([0], probs=False))] == ["here"]


def test_placement_round_trip_and_damaged_files(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "overlay.json"
    assert load_placement(path) == Placement()
    saved = Placement(x=40, y=50, width=400, height=300, click_through=True, badges=False)
    save_placement(saved, path)
    assert load_placement(path) == saved
    path.write_text("{not json")
    assert load_placement(path) == Placement()
    path.write_text(json.dumps({"x": "far", "width": 3, "badges": 1, "colour": "red"}))
    assert load_placement(path) == Placement()


def test_cv2_qt_variables_are_dropped_only_when_they_point_into_cv2(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    from overlay.qt_env import prepare_qt_environment

    cv2_qt = Path(cv2.__file__).resolve().parent / "qt"
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", str(cv2_qt / "plugins"))
    monkeypatch.setenv("QT_QPA_FONTDIR", "/usr/share/fonts")  # set by the user: kept
    dropped = prepare_qt_environment()
    assert dropped == {"QT_QPA_PLATFORM_PLUGIN_PATH": str(cv2_qt / "plugins")}
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ
    assert os.environ["QT_QPA_FONTDIR"] == "/usr/share/fonts"


def test_badges_of_unreadable_faces_say_where_they_look() -> None:
    from vocab.labels import ATTENTION_STATES, UNREADABLE

    f = frame_with([3, UNREADABLE, UNREADABLE, UNREADABLE, UNREADABLE])
    codes = [ATTENTION_STATES.index(s) for s in ("screen", "down", "away", "eyes_closed", "hidden")]
    f = dataclasses.replace(f, faces=dataclasses.replace(f.faces, attention=np.array(codes, np.int8)))
    assert [s.text for s in badge_specs(f)] == ["Happy", "looking down", "looking away", "eyes closed",
                                                "face covered"]
    # No emotion in presence mode either way; where a face looks is allowed there.
    assert [s.text for s in badge_specs(f, emotions=False)] == ["here", "looking down", "looking away",
                                                               "eyes closed", "face covered"]
    # An unreadable face is never shown as an emotion (label -2 once indexed EMOTIONS as "Surprise").
    nan = dataclasses.replace(f.faces, label=None, attention=None,
                              smoothed_probs=np.full((5, 7), np.nan, np.float32))
    assert {s.text for s in badge_specs(dataclasses.replace(f, faces=nan))} == {"unreadable"}


SCREEN_XYWH = (0, 0, 1600, 900)
PANEL_WH = (360, 380)


def grid(x0: int, y0: int, cols: int, rows: int, w: int, h: int) -> np.ndarray:
    return np.array([[x0 + c * w, y0 + r * h, x0 + (c + 1) * w, y0 + (r + 1) * h]
                     for r in range(rows) for c in range(cols)], np.float64)


@pytest.mark.parametrize(("tiles", "expect_xy", "expect_covered"), [
    (grid(0, 0, 4, 3, 300, 225), (1224, 16), 0),  # gallery on the left: the top-right corner is free
    (grid(400, 0, 4, 3, 300, 225), (16, 16), 0),  # gallery on the right: top-left
    (grid(0, 0, 4, 2, 400, 300), (1224, 504), 1),  # only a 300 px strip below: one tile covered, not 2
    (np.zeros((0, 4)), (1224, 16), 0),  # no tiles known: the usual top-right corner
])
def test_the_panel_goes_where_it_covers_the_fewest_tiles(tiles: np.ndarray, expect_xy: tuple[int, int],
                                                         expect_covered: int) -> None:
    (x, y), covered = best_place(SCREEN_XYWH, PANEL_WH, tiles)
    assert ((x, y), covered) == (expect_xy, expect_covered)
    assert len(covered_tiles((x, y, *PANEL_WH), tiles)) == covered
    every = [len(covered_tiles((px, py, *PANEL_WH), tiles)) for px, py in candidate_places(SCREEN_XYWH, PANEL_WH)]
    assert covered == min(every)


def test_tiles_are_placed_on_screen_and_slivers_do_not_count() -> None:
    on_screen = tiles_on_screen(np.array([[0, 0, 100, 100]], np.int32), (200, 50, 800, 600), scale=2.0)
    assert on_screen.tolist() == [[100.0, 25.0, 150.0, 75.0]]
    tile = np.array([[0.0, 0.0, 100.0, 100.0]])
    assert covered_tiles((99, 0, 50, 50), tile) == []  # 1 % of the tile
    assert covered_tiles((90, 0, 50, 50), tile) == [0]
    assert covering_text(0) is None and covering_text(1) == "Covering 1 tile \u2014 drag me aside"
    assert covering_text(3, 2) == "Covering 3 tiles, 2 people hidden \u2014 drag me aside"


@pytest.mark.parametrize(("name", "expected"), [
    ("Ana M. Souza", "Ana"),
    ("[TA] Omar", "Omar"),
    ("(host) Li Wei", "Li"),
    ("20231047_Ana M. Souza Ferr…", "20231047_Ana"),
    ("<script>alert(1)</script>", "<script>alert(1\u2026"),  # shown as these characters, cut at 16
    ("[TA]", None),
    (None, None),
])
def test_first_names_for_badges(name: str | None, expected: str | None) -> None:
    from overlay.badge_layout import first_name

    assert first_name(name) == expected


def test_badges_show_first_names_only_when_asked() -> None:
    frame = frame_with([3, 3])
    named = dataclasses.replace(frame, faces=dataclasses.replace(
        frame.faces, name=np.array(["Ana Souza", None], dtype=object)))
    assert [s.text for s in badge_specs(named)] == ["Happy", "Happy"]  # the setting is off by default
    assert [s.text for s in badge_specs(named, first_names=True)] == ["Ana \u00b7 Happy", "Happy"]
