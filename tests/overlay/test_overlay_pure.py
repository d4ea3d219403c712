"""Qt-free parts of the overlay: trend buffer, badge placement, placement file, cv2 Qt env."""

from __future__ import annotations

import json
import os
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

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
