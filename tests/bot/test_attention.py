"""Attention from landmarks, as pure logic: pose from known rotations, pose -> state, hysteresis, readability."""

from __future__ import annotations

import numpy as np
import pytest

from bot.attention import (
    AWAY_YAW_DEG,
    DOWN_PITCH_DEG,
    ENTER_AFTER_S,
    EYES_CLOSED_ABOVE,
    EYES_JUDGED_ABOVE_PITCH_DEG,
    HIDDEN_CONTRAST_ABOVE,
    MIN_PRESENCE,
    POSE_POINTS,
    POSE_REFERENCE,
    STATES,
    UP_PITCH_DEG,
    AttentionHold,
    attention_state,
    eyes_judged,
    head_pose_deg,
    pose_rotation,
)
from vocab.labels import ATTENTION_STATES, NOT_READ, is_attending, is_readable


def _face(yaw: float, pitch: float, roll: float, scale: float = 40.0,
          at: tuple[float, float] = (200, 150)) -> np.ndarray:
    """Landmarks (1, 468, 3) in image pixels of the reference face turned by AFLW angles (degrees)."""
    rot = pose_rotation(yaw, pitch, roll)
    face = POSE_REFERENCE @ rot.T * scale
    points = np.zeros((1, 468, 3))
    points[0, POSE_POINTS, 0] = at[0] + face[:, 0]
    points[0, POSE_POINTS, 1] = at[1] - face[:, 1]  # image y points down
    points[0, POSE_POINTS, 2] = -face[:, 2]  # MediaPipe z: smaller is nearer
    return points.astype(np.float32)


@pytest.mark.parametrize("angles", [(0, 0, 0), (25, 0, 0), (-40, 0, 0), (0, 20, 0), (0, -35, 0), (0, 0, 15),
                                    (30, -20, 10), (-50, 15, -25)])
def test_head_pose_recovers_known_rotations(angles: tuple[float, float, float]) -> None:
    pose = head_pose_deg(_face(*angles))
    assert pose.shape == (1, 3) and pose.dtype == np.float32
    np.testing.assert_allclose(pose[0], angles, atol=0.05)


def test_head_pose_ignores_position_and_size() -> None:
    a = head_pose_deg(_face(20, -10, 5))
    b = head_pose_deg(_face(20, -10, 5, scale=7.0, at=(31, 900)))
    np.testing.assert_allclose(a, b, atol=0.05)


def test_head_pose_of_several_faces_at_once() -> None:
    faces = np.concatenate([_face(10, 0, 0), _face(0, -30, 0), _face(0, 0, -20)])
    np.testing.assert_allclose(head_pose_deg(faces), [[10, 0, 0], [0, -30, 0], [0, 0, -20]], atol=0.05)


def test_sign_convention_on_the_image() -> None:
    """yaw > 0: the nose moves towards the image's left; pitch > 0: up; roll > 0: clockwise on screen."""
    nose = 1
    centre = _face(0, 0, 0)[0, nose]
    assert _face(30, 0, 0)[0, nose, 0] < centre[0]
    assert _face(0, 20, 0)[0, nose, 1] < centre[1]
    right_eye_img, left_eye_img = 263, 33
    tilted = _face(0, 0, 20)[0]
    assert tilted[right_eye_img, 1] > tilted[left_eye_img, 1]  # clockwise: the image-right eye drops


OPEN = (0.05, 0.1)
CLOSED = (0.95, 0.9)


@pytest.mark.parametrize(("yaw", "pitch", "eyes", "contrast", "presence", "expected"), [
    (0, 0, OPEN, 5.0, 1.0, "screen"),
    (AWAY_YAW_DEG - 1, -10, OPEN, 5.0, 1.0, "screen"),  # a slightly turned head still faces the screen
    (AWAY_YAW_DEG + 1, 0, OPEN, 5.0, 1.0, "away"),
    (-(AWAY_YAW_DEG + 1), 0, OPEN, 5.0, 1.0, "away"),
    (0, UP_PITCH_DEG + 1, OPEN, 5.0, 1.0, "away"),
    (0, DOWN_PITCH_DEG + 1, OPEN, 5.0, 1.0, "screen"),  # a webcam above the screen: looking slightly down
    (0, DOWN_PITCH_DEG - 1, OPEN, 5.0, 1.0, "down"),
    (0, -45, CLOSED, 5.0, 1.0, "down"),  # lowered lids while writing are "down", not asleep
    (45, -45, OPEN, 5.0, 1.0, "away"),  # turned and down: away wins
    (0, 0, CLOSED, 5.0, 1.0, "eyes_closed"),
    (0, 0, (0.95, EYES_CLOSED_ABOVE - 0.1), 5.0, 1.0, "screen"),  # one eye open (a wink, a squint) is not closed
    (0, 0, OPEN, HIDDEN_CONTRAST_ABOVE + 5, 1.0, "hidden"),  # a mask
    (0, -40, OPEN, HIDDEN_CONTRAST_ABOVE + 5, 1.0, "down"),  # pose still reads through a mask
    (0, 0, OPEN, 5.0, MIN_PRESENCE - 0.1, "hidden"),  # eyes and mouth not trusted ...
    (0, 0, CLOSED, 5.0, MIN_PRESENCE - 0.1, "hidden"),
    (60, 0, OPEN, 5.0, MIN_PRESENCE - 0.1, "away"),  # ... but a clearly turned head still counts
    (0, EYES_JUDGED_ABOVE_PITCH_DEG - 1, CLOSED, 5.0, 1.0, "screen"),  # tipped down: lowered lids, not closed
])
def test_state_table(yaw: float, pitch: float, eyes: tuple[float, float], contrast: float, presence: float,
                     expected: str) -> None:
    state = attention_state(np.array([[yaw, pitch, 0.0]]), np.array([eyes]), np.array([contrast]),
                            np.array([presence]), np.array([20.0]))
    assert state == [expected]


def test_small_eyes_are_not_judged() -> None:
    pose = np.zeros((2, 3))
    eyes = np.array([CLOSED, CLOSED])
    assert attention_state(pose, eyes, eye_width_px=np.array([4.0, 20.0])) == ["screen", "eyes_closed"]


def test_pose_alone_is_enough() -> None:
    assert attention_state(np.array([[0, 0, 0], [0, -40, 0]])) == ["screen", "down"]
    assert attention_state(np.zeros((0, 3))) == []


@pytest.mark.parametrize(("state", "expected"), [("screen", True), ("down", False), ("away", False),
                                                 ("eyes_closed", False), ("hidden", False), (None, True)])
def test_readable(state: str | None, expected: bool) -> None:
    code = NOT_READ if state is None else ATTENTION_STATES.index(state)
    assert is_readable(code) is expected


@pytest.mark.parametrize(("state", "expected"), [("screen", True), ("hidden", True), ("down", False),
                                                 ("away", False), ("eyes_closed", False)])
def test_looking_at_screen(state: str, expected: bool) -> None:
    assert is_attending(ATTENTION_STATES.index(state)) is expected


@pytest.mark.parametrize(("yaw", "pitch", "presence", "width", "judged"), [
    (0, 0, 0.9, 20, True),
    (40, 0, 0.9, 20, False),   # turned away: "away" wins, the eyes are not read
    (0, -20, 0.9, 20, False),  # head tipped down: the lids show, not the eyes
    (0, 35, 0.9, 20, False),   # looking over the screen
    (0, 0, 0.3, 20, False),    # landmarks not trusted
    (0, 0, 0.9, 4, False),     # eyes too small to tell
])
def test_the_stored_eye_reading_follows_the_attention_rule(yaw: float, pitch: float, presence: float,
                                                           width: float, judged: bool) -> None:
    assert eyes_judged(yaw, pitch, presence, width) is judged
    state = attention_state(np.array([[yaw, pitch, 0.0]]), np.array([[0.95, 0.95]]), presence=np.array([presence]),
                            eye_width_px=np.array([width]))[0]
    assert (state == "eyes_closed") is judged


def _feed(hold: AttentionHold, readings: list[tuple[float, str]], track: int = 1) -> list[str]:
    return [hold.update(track, t, s) for t, s in readings]  # type: ignore[arg-type]


def test_a_glance_is_not_away() -> None:
    hold = AttentionHold()
    held = _feed(hold, [(0, "screen"), (1, "screen"), (2, "away"), (3, "screen"), (4, "away"), (5, "screen")])
    assert held == ["screen"] * 6


def test_turning_away_for_long_counts_after_the_hold() -> None:
    hold = AttentionHold()
    held = _feed(hold, [(0, "screen"), (1, "away"), (2, "away"), (3, "away"), (4, "away"), (5, "screen"),
                        (6, "screen")])
    assert held == ["screen", "screen", "screen", "screen", "away", "away", "screen"]
    assert ENTER_AFTER_S["away"] == 3.0 and ENTER_AFTER_S["screen"] == 1.0


def test_sparse_readings_need_two_that_agree() -> None:
    """Landmarks every 3 s per face: two readings 3 s apart are enough to leave the screen."""
    hold = AttentionHold()
    assert _feed(hold, [(0, "screen"), (3, "down"), (6, "down")]) == ["screen", "screen", "down"]


def test_closed_eyes_need_longer_than_a_blink_or_a_laugh() -> None:
    hold = AttentionHold()
    held = _feed(hold, [(0, "screen"), (1, "eyes_closed"), (4, "eyes_closed"), (7, "eyes_closed")])
    assert held == ["screen", "screen", "screen", "eyes_closed"]


def test_a_different_reading_restarts_the_clock() -> None:
    hold = AttentionHold()
    held = _feed(hold, [(0, "screen"), (1, "away"), (3, "down"), (5, "away"), (7, "away"), (8, "away")])
    assert held == ["screen"] * 5 + ["away"]


def test_participants_are_held_apart_and_forgotten() -> None:
    hold = AttentionHold()
    assert hold.update(1, 0.0, "screen") == "screen"
    assert hold.update(2, 0.0, "down") == "down"  # a first reading is held at once
    assert hold.update(1, 1.0, "down") == "screen"
    assert hold.held(2) == "down" and hold.held(3) is None
    assert hold.update(1, 100.0, "away") == "away"  # unseen for longer than forget_after_s: afresh
    hold.forget(1)
    assert hold.held(1) is None


def test_unknown_state_and_incomplete_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown attention state"):
        AttentionHold().update(1, 0.0, "asleep")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lacks"):
        AttentionHold(enter_after_s={"screen": 1.0})  # type: ignore[dict-item]
    assert set(STATES) == {"screen", "down", "away", "eyes_closed", "hidden"}


def test_the_attention_states_are_the_vocabulary_the_rest_of_the_product_stores() -> None:
    assert STATES == ATTENTION_STATES
