"""Where each face is looking, from its landmarks: head pose, one attention state, and hysteresis.

Pure logic on numbers (no models, no images): ``models.face_landmarks`` supplies landmarks,
P(eye closed) per eye and the lower-face contrast; this module turns them into

- ``head_pose_deg``: yaw, pitch, roll in degrees, in AFLW2000-3D's convention, from a rigid fit
  (Kabsch) of 36 stable FaceMesh points to a reference face;
- ``attention_state``: ``"screen" | "down" | "away" | "eyes_closed" | "hidden"`` per face;
- ``AttentionHold``: per participant, a state only counts once it has lasted a few seconds,
  so a glance at the door or a blink is not "away" or "eyes closed";
- ``readable``: whether an emotion label may be shown for a face in that state.

Sign convention (that of AFLW2000-3D, so the benchmark compares like with like), for the face
as it appears in the image: **yaw > 0** the face turns towards the image's left (the person's
right on an unmirrored camera); **pitch > 0** the person looks up, < 0 down; **roll > 0** the
head tilts clockwise as seen in the image (its top towards the image's right).

How well: on the AFLW2000-3D report half (odd indices, faces within +-60 deg on every axis,
read detector -> landmarks -> pose), mean absolute error 2.7 deg yaw, 3.9 deg pitch, 2.0 deg
roll, 99.8 % of faces found (``python -m bench.headpose`` prints the current numbers per axis
and per yaw range).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

AttentionState = Literal["screen", "down", "away", "eyes_closed", "hidden"]
STATES: tuple[AttentionState, ...] = get_args(AttentionState)

# --- head pose ----------------------------------------------------------------------------
# 36 FaceMesh points that move little with expression (eye corners, brows, nose, forehead,
# face outline at eye and jaw level, chin, mouth corners), and where they sit on an average
# face: x right, y up, z towards the camera, centred, unit RMS radius. Fitted on AFLW2000-3D's
# even-index half (faces within +-60 deg): each face's landmarks rotated back by its fitted pose
# and averaged (``python -m bench.headpose --fit-reference`` re-fits it). Using all 468
# points instead gives the same error (2.9 vs 2.9 deg mean) at 13x the arithmetic.
_REFERENCE: dict[int, tuple[float, float, float]] = {
    33: (-0.7122, +0.3439, -0.0059), 133: (-0.2781, +0.3142, +0.0887), 362: (+0.2820, +0.3092, +0.0867),
    263: (+0.7191, +0.3337, -0.0167), 70: (-0.8860, +0.5805, -0.0398), 105: (-0.6303, +0.7266, +0.1934),
    107: (-0.2193, +0.6914, +0.3367), 336: (+0.2336, +0.6897, +0.3330), 334: (+0.6464, +0.7210, +0.1836),
    300: (+0.8993, +0.5705, -0.0541), 1: (-0.0015, -0.2522, +0.6943), 4: (-0.0004, -0.1501, +0.7200),
    6: (+0.0032, +0.2885, +0.4093), 168: (+0.0042, +0.4143, +0.3346), 197: (+0.0024, +0.1802, +0.4930),
    195: (+0.0019, +0.0821, +0.5799), 5: (+0.0011, -0.0216, +0.6713), 98: (-0.2589, -0.3376, +0.3298),
    327: (+0.2525, -0.3435, +0.3267), 10: (+0.0087, +1.1741, +0.2344), 151: (+0.0073, +0.9265, +0.3027),
    9: (+0.0064, +0.6722, +0.3499), 234: (-1.0851, +0.0231, -0.8303), 454: (+1.0801, +0.0046, -0.8485),
    93: (-1.0686, -0.2038, -0.8300), 323: (+1.0601, -0.2230, -0.8476), 132: (-1.0340, -0.4434, -0.7862),
    361: (+1.0225, -0.4631, -0.8033), 152: (-0.0111, -1.3927, +0.1206), 61: (-0.4146, -0.7108, +0.1463),
    291: (+0.4048, -0.7190, +0.1442), 0: (-0.0045, -0.5783, +0.4638), 58: (-0.9635, -0.6933, -0.6921),
    288: (+0.9488, -0.7130, -0.7083), 172: (-0.8629, -0.8910, -0.5331), 397: (+0.8470, -0.9101, -0.5471),
}
POSE_POINTS = np.array(list(_REFERENCE), np.int64)
POSE_REFERENCE = np.array(list(_REFERENCE.values()), np.float64)  # (36, 3)


def pose_rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """``(3, 3)``: the rotation that takes the reference face (``POSE_REFERENCE``, x right, y up)
    to a head at these AFLW angles (the face frame turns opposite to AFLW's signs)."""
    y, p, r = np.radians([yaw_deg, pitch_deg, roll_deg])

    def rx(a: float) -> np.ndarray:
        return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])

    def ry(a: float) -> np.ndarray:
        return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])

    def rz(a: float) -> np.ndarray:
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])

    return rx(-p) @ ry(-y) @ rz(-r)


def head_pose_deg(points_px: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll in degrees for each face (convention in the module docstring).

    Args:
        points_px: ``(n, 468, 3)`` FaceMesh landmarks: x, y image pixels (y down), z depth in
            the same scale, smaller = nearer the camera (``models.face_landmarks`` output).

    Returns:
        ``(n, 3)`` float32 ``[yaw, pitch, roll]``.

    The landmarks' own depth makes this a 3-D to 3-D fit (no camera model needed): the rotation
    that best maps the reference points onto the face's points (Kabsch, scale and translation
    free), read as ``R = Rx(pitch) Ry(yaw) Rz(roll)``, AFLW's order.
    """
    pts = np.asarray(points_px, np.float64)[:, POSE_POINTS, :3].copy()
    pts[..., 1:] *= -1.0  # image (x right, y down, z away) -> face frame (x right, y up, z towards camera)
    pts -= pts.mean(axis=1, keepdims=True)
    ref = POSE_REFERENCE - POSE_REFERENCE.mean(axis=0)
    h = np.einsum("pi,npj->nij", ref, pts)  # cross-covariance, (n, 3, 3)
    u, _, vt = np.linalg.svd(h)
    det = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    d = np.ones((len(pts), 3))
    d[:, 2] = np.where(det == 0, 1.0, det)
    rot = np.einsum("nji,nj,nkj->nik", vt, d, u)  # V diag(d) U^T: reference -> face
    yaw = np.arcsin(np.clip(rot[:, 0, 2], -1.0, 1.0))
    pitch = np.arctan2(-rot[:, 1, 2], rot[:, 2, 2])
    roll = np.arctan2(-rot[:, 0, 1], rot[:, 0, 0])
    # The face frame's rotation signs are the opposite of AFLW's on all three axes.
    return (-np.degrees(np.stack([yaw, pitch, roll], axis=1))).astype(np.float32)


# --- one state per face -------------------------------------------------------------------
# Why these numbers: a laptop or monitor at 50-70 cm spans roughly +-15-25 deg horizontally
# from a webcam on its top edge; people move their eyes for the first ~15-20 deg of a gaze
# shift before the head follows; the pose error is ~3-4 deg (6-7 deg beyond |yaw| 45). On the
# five real class screenshots (``python -m bench.headpose --screens``) the faces following the
# call lie within |yaw| < 22 and pitch -15..+22; the ones at |yaw| 31-40 are visibly turned
# away from their screen.
AWAY_YAW_DEG = 30.0  # |yaw| beyond this: looking past the side of the screen
DOWN_PITCH_DEG = -25.0  # pitch below this: notes on the desk, a phone in the lap (typically -30..-50)
UP_PITCH_DEG = 30.0  # pitch above this: looking over the screen (+22 was seen on people following a call)
# Both eyes' P(closed) above this. The CEW patch classifier is 96 % right per patch at 0.5,
# but on real screenshots narrow or smiling eyes and glasses on small faces score 0.5-0.9
# "closed". Calling an open-eyed student "eyes closed" is the worse error, so the face-level
# threshold is 0.8 on both eyes: on CEW's report half 88 % of closed-eyed faces are found and
# 0.3 % of open-eyed ones called closed (``python -m bench.eyes``).
EYES_CLOSED_ABOVE = 0.8
# Eyes narrower than this (corner to corner, px) are too small to judge open/closed.
MIN_EYE_WIDTH_PX = 8.0
# Eyes are only judged with the head above this pitch: a head tipped down lowers the lids, and
# on the screen simulator 4 of 70 faces looking 20-25 deg down read as "closed".
EYES_JUDGED_ABOVE_PITCH_DEG = -15.0
# Lower face (below the lower lip, chin) against the upper cheeks and nose bridge, chroma
# distance in OpenCV 8-bit Lab units: the 98th percentile (33.1) on clearly visible AFLW faces
# (fitting half, ``bench.headpose``), so about 2 % of uncovered faces are called hidden. It only
# catches masks whose colour differs from skin (about half of the screen simulator's masks);
# a hand or a skin-coloured mask is not seen. A weak cue: see the card.
HIDDEN_CONTRAST_ABOVE = 33.0
# FaceMesh's own "is this a face" probability. Clearly visible AFLW faces score 1.0 (1st
# percentile of the fitting half); it drops for faces under ~40 px high, blurred, turned
# beyond ~45 deg or covered. Below it the eyes and mouth are not read and the face is
# "hidden" unless its pose clearly says away or down: the pose of such faces is noisier but
# still right often enough to be worth it (on the screen simulator, 20 of 28 turned faces
# with presence under 0.5 still read |yaw| > 30).
MIN_PRESENCE = 0.5


def attention_state(pose_deg: np.ndarray, p_eyes_closed: np.ndarray | None = None,
                    lower_face_contrast: np.ndarray | None = None, presence: np.ndarray | None = None,
                    eye_width_px: np.ndarray | None = None) -> list[AttentionState]:
    """One raw (unheld) state per face; first match wins.

    Args:
        pose_deg: ``(n, 3)`` yaw, pitch, roll (``head_pose_deg``).
        p_eyes_closed: ``(n, 2)`` P(closed) for both eyes, or None (not measured).
        lower_face_contrast: ``(n,)`` (``models.face_landmarks.lower_face_contrast``) or None.
        presence: ``(n,)`` landmark presence in 0..1, or None.
        eye_width_px: ``(n,)`` eye width in pixels; eyes are only judged at ``MIN_EYE_WIDTH_PX`` or more.

    Order: the head turned past the screen -> ``away`` (up counts as away); head down ->
    ``down``; landmarks not trusted (presence) -> ``hidden``; both eyes closed (judged only
    with the head not tipped down and eyes wide enough) -> ``eyes_closed``; lower face covered
    -> ``hidden``; otherwise ``screen``. Pose comes first because it is measured well even
    with a mask on, and "down" explains closed-looking eyes.
    """
    pose = np.asarray(pose_deg, np.float64).reshape(-1, 3)
    n = len(pose)
    states: list[AttentionState] = []
    for i in range(n):
        yaw, pitch = pose[i, 0], pose[i, 1]
        if abs(yaw) > AWAY_YAW_DEG or pitch > UP_PITCH_DEG:
            states.append("away")
        elif pitch < DOWN_PITCH_DEG:
            states.append("down")
        elif presence is not None and presence[i] < MIN_PRESENCE:
            states.append("hidden")
        elif (p_eyes_closed is not None and eyes_closed(p_eyes_closed[i])
              and eyes_judged(yaw, pitch, None, None if eye_width_px is None else eye_width_px[i])):
            states.append("eyes_closed")
        elif lower_face_contrast is not None and lower_face_contrast[i] > HIDDEN_CONTRAST_ABOVE:
            states.append("hidden")
        else:
            states.append("screen")
    return states


def eyes_judged(yaw_deg: float, pitch_deg: float, presence: float | None, eye_width_px: float | None) -> bool:
    """Whether a face's eyes can be called open or closed at all: facing the screen, head not
    tipped down (a face looking at notes shows its lids), landmarks trusted, eyes wide enough.

    The one rule for the attention state and for the stored open/closed reading.
    """
    return (abs(yaw_deg) <= AWAY_YAW_DEG and EYES_JUDGED_ABOVE_PITCH_DEG < pitch_deg <= UP_PITCH_DEG
            and (presence is None or presence >= MIN_PRESENCE)
            and (eye_width_px is None or eye_width_px >= MIN_EYE_WIDTH_PX))


def eyes_closed(p_closed_pair: np.ndarray) -> bool:
    """Both eyes' P(closed) over ``EYES_CLOSED_ABOVE``."""
    return bool(np.all(np.asarray(p_closed_pair) > EYES_CLOSED_ABOVE))


# --- hysteresis ---------------------------------------------------------------------------
# How long a new raw state must last before it is held, per state (seconds). Glances at
# something off screen last about 0.5-2 s, blinks 0.1-0.4 s, a laugh that narrows the eyes a
# few seconds: leaving the screen must last 3 s to count, closed eyes 5 s (dozing, not
# blinking), coming back 1 s. At the recommended sampling (each face every 4 s) this means two
# consecutive readings agree (three for closed eyes).
ENTER_AFTER_S: dict[AttentionState, float] = {"screen": 1.0, "down": 3.0, "away": 3.0, "eyes_closed": 5.0,
                                              "hidden": 2.0}
FORGET_AFTER_S = 30.0  # a participant unseen this long starts afresh


@dataclass
class _Track:
    held: AttentionState
    candidate: AttentionState
    candidate_since_s: float
    last_t_s: float


@dataclass
class AttentionHold:
    """Per-participant hysteresis: ``update(track_id, t_s, raw)`` returns the held state.

    The first reading of a participant is held at once. After that a different raw state is
    held only once every reading for ``enter_after_s[state]`` seconds has said it (any other
    reading in between restarts the clock). ``t_s`` is a monotonic time in seconds; readings
    need not be regular (landmarks run every few seconds per face).
    """

    enter_after_s: dict[AttentionState, float] = field(default_factory=lambda: dict(ENTER_AFTER_S))
    forget_after_s: float = FORGET_AFTER_S
    _tracks: dict[int, _Track] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        missing = set(STATES) - set(self.enter_after_s)
        if missing:
            raise ValueError(f"enter_after_s lacks {sorted(missing)}")

    def update(self, track_id: int, t_s: float, raw: AttentionState) -> AttentionState:
        """Record one reading and return the participant's held state."""
        if raw not in STATES:
            raise ValueError(f"unknown attention state {raw!r}; expected one of {STATES}")
        tr = self._tracks.get(track_id)
        if tr is None or t_s - tr.last_t_s > self.forget_after_s or t_s < tr.last_t_s:
            self._tracks[track_id] = _Track(raw, raw, t_s, t_s)
            return raw
        tr.last_t_s = t_s
        if raw == tr.held:
            tr.candidate, tr.candidate_since_s = raw, t_s
        elif raw != tr.candidate:
            tr.candidate, tr.candidate_since_s = raw, t_s
        if tr.candidate != tr.held and t_s - tr.candidate_since_s >= self.enter_after_s[tr.candidate]:
            tr.held = tr.candidate
        return tr.held

    def held(self, track_id: int) -> AttentionState | None:
        """The participant's held state, or None if never seen (or forgotten)."""
        tr = self._tracks.get(track_id)
        return tr.held if tr is not None else None

    def forget(self, track_id: int) -> None:
        """Drop a participant (left the call)."""
        self._tracks.pop(track_id, None)
