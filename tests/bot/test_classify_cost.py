"""Expressions and attention re-read only when a face changed (``EmotionStage``,
``AttentionStage``): counts of model inputs, never times (the targets live in ``bench/``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from bench.class_window import with_noise
from bot.attend import AttentionStage
from bot.classify import EmotionStage
from models.face_landmarks import EyeStateClassifier, FaceLandmarker
from tools.compose_gallery import Gallery, compose_gallery, load_face_photos
from vocab.types import Faces, FrameResult


class CountingClassifier:
    """Answers Happy (``p_top`` sure) for every face and counts the faces it is asked about."""

    def __init__(self, p_top: float = 0.7) -> None:
        self.faces = 0
        self.p_top = p_top

    def predict(self, faces: np.ndarray, face_px: np.ndarray | None = None) -> np.ndarray:
        self.faces += len(faces)
        out = np.full((len(faces), 7), (1 - self.p_top) / 6, np.float32)
        out[:, 3] = self.p_top
        return out

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def gallery() -> Gallery:
    return compose_gallery(load_face_photos(), grid=(2, 2), size_wh=(960, 540), seed=4, camera_off_frac=0.0,
                           jpeg_quality=85)


def frame(gallery: Gallery, image: np.ndarray, t: float, shift_px: float = 0.0) -> FrameResult:
    """The gallery's four faces (truth boxes, track ids 1..4) on ``image`` at ``t`` seconds."""
    xyxy = np.array([tile.face_xyxy for tile in gallery.tiles], np.float32) + shift_px
    faces = Faces(xyxy=xyxy, score=np.full(len(xyxy), 0.9, np.float32), tile_xyxy=gallery.tiles_xyxy(),
                  track_id=np.arange(1, len(xyxy) + 1))
    return FrameResult(frame_id=int(t) + 1, t_mono=t, t_utc=datetime.now(UTC), region_xywh=(0, 0, 960, 540),
                       image=image, faces=faces)


def test_unchanged_faces_keep_their_expression_until_due_and_changed_ones_are_read(gallery: Gallery) -> None:
    model = CountingClassifier()
    stage = EmotionStage(model, reclassify_after_s=3.0)
    rng = np.random.default_rng(0)
    first = stage(frame(gallery, with_noise(gallery.image, rng), 0.0))
    assert model.faces == 4 and np.isfinite(first.faces.emotion_probs).all()
    kept = stage(frame(gallery, with_noise(gallery.image, rng), 1.0))  # camera noise only
    assert model.faces == 4 and stage.faces_kept == 4
    np.testing.assert_array_equal(kept.faces.emotion_probs, first.faces.emotion_probs)

    changed = with_noise(gallery.image, rng)
    x0, y0, x1, y1 = (int(v) for v in gallery.tiles[2].face_xyxy)  # type: ignore[misc]
    changed[(y0 + y1) // 2:y1, x0:x1] //= 2  # the lower half of one face darkens (a new expression)
    stage(frame(gallery, changed, 2.0))
    assert model.faces == 5

    for t in (3.0, 4.0):  # the other three are due at most 3 x 1.25 s after their reading at 0 s
        stage(frame(gallery, changed, t))
    assert model.faces == 5 + 3
    stage(frame(gallery, changed, 6.0))  # and the changed one 3.75 s at most after its reading at 2 s
    assert model.faces >= 9


def test_a_face_that_sways_in_its_camera_keeps_its_expression(gallery: Gallery) -> None:
    """A person moving by a pixel or two, their box following them (as bot.detect tracks it):
    the crop shows the same face, so it is not read again; a new expression still is."""
    model = CountingClassifier()
    stage = EmotionStage(model, reclassify_after_s=3.0)
    rng = np.random.default_rng(5)
    stage(frame(gallery, with_noise(gallery.image, rng), 0.0))
    for t, dx in ((1.0, 2), (2.0, -2)):
        moved = np.roll(with_noise(gallery.image, rng), dx, axis=1)  # every face 2 px aside
        stage(frame(gallery, moved, t, shift_px=float(dx)))
    # Measured: 1 of the 8 swaying faces read again (a crop placed a fraction of a pixel off
    # moves a cell of a sharp-edged face by up to 7 levels); 8 of 8 with the crops compared as they are.
    assert model.faces <= 4 + 2 and stage.faces_kept >= 6
    before = model.faces
    changed = np.roll(with_noise(gallery.image, rng), 2, axis=1)
    x0, y0, x1, y1 = (int(v) + 2 for v in gallery.tiles[3].face_xyxy)  # type: ignore[misc]
    changed[(y0 + y1) // 2:y1, x0:x1] //= 2
    stage(frame(gallery, changed, 2.5, shift_px=2.0))
    assert model.faces >= before + 1


class FlippingClassifier(CountingClassifier):
    """Answers Happy and Sad in turn, ``p_top`` sure: a face on a class boundary that camera
    noise pushes across it."""

    def predict(self, faces: np.ndarray, face_px: np.ndarray | None = None) -> np.ndarray:
        out = super().predict(faces, face_px)
        if self.faces // len(faces) % 2 == 0:
            out[:, [3, 4]] = out[:, [4, 3]]
        return out


def test_an_unsure_reading_is_kept_for_a_frame_only(gallery: Gallery) -> None:
    model = FlippingClassifier(p_top=0.45)  # under HOLD_MIN_CONFIDENCE: a face on a class boundary
    stage = EmotionStage(model, reclassify_after_s=3.0)
    for t in range(4):  # 1 fps: read at 0 s, kept at 1 s (under 1.5 s), read at 2 s, kept at 3 s
        stage(frame(gallery, gallery.image, float(t)))
    assert model.faces == 8 and stage.faces_kept == 8
    stage.unsure_keep_s = 0.0  # never kept: read on every frame
    for t in range(4, 7):
        stage(frame(gallery, gallery.image, float(t)))
    assert model.faces == 8 + 12


def test_an_unsure_reading_that_repeats_itself_is_kept_like_the_others(gallery: Gallery) -> None:
    model = CountingClassifier(p_top=0.45)  # unsure, but the same answer every time
    stage = EmotionStage(model, reclassify_after_s=3.0)
    for t in range(3):  # read at 0 s, kept at 1 s (under 1.5 s), read again at 2 s: the same
        stage(frame(gallery, gallery.image, float(t)))
    assert model.faces == 8
    for t in range(3, 5):  # so kept 3 x 0.75..1.25 s from 2 s: not read at 3 or 4 s
        stage(frame(gallery, gallery.image, float(t)))
    assert model.faces == 8 and stage.faces_kept == 12


def test_a_sure_reading_of_an_unchanged_face_is_kept_longer_and_a_change_still_reads_it_at_once(
        gallery: Gallery) -> None:
    model = CountingClassifier(p_top=0.9)  # at least SURE_MIN_CONFIDENCE (0.8)
    stage = EmotionStage(model, reclassify_after_s=3.0)
    rng = np.random.default_rng(2)
    for t in range(8):  # 1 fps, camera noise only: read at 0 s, then kept (due after 7.5-12.5 s)
        stage(frame(gallery, with_noise(gallery.image, rng), float(t)))
    assert model.faces == 4 and stage.faces_kept == 28

    changed = with_noise(gallery.image, rng)
    x0, y0, x1, y1 = (int(v) for v in gallery.tiles[1].face_xyxy)  # type: ignore[misc]
    changed[(y0 + y1) // 2:y1, x0:x1] //= 2  # a new expression on one face: read on this frame
    stage(frame(gallery, changed, 8.0))
    assert model.faces == 5

    for t in range(9, 14):  # the three unchanged ones are due 12.5 s after their reading at most
        stage(frame(gallery, changed, float(t)))
    assert model.faces >= 8


def test_full_cost_stage_classifies_every_face_every_frame(gallery: Gallery) -> None:
    model = CountingClassifier()
    stage = EmotionStage(model, reclassify_after_s=0.0)
    for t in range(3):
        stage(frame(gallery, gallery.image, float(t)))
    assert model.faces == 12 and stage.faces_kept == 0


@pytest.fixture(scope="module")
def landmarks() -> Iterator[tuple[FaceLandmarker, EyeStateClassifier]]:
    marker = FaceLandmarker(threads=1)
    yield marker, EyeStateClassifier(threads=1)
    marker.close()


def test_still_faces_put_their_attention_reading_off_and_a_moved_face_is_read(gallery: Gallery, landmarks) -> None:
    stage = AttentionStage(*landmarks, every_s=3.0, unchanged_max_s=12.0)
    rng = np.random.default_rng(1)
    for t in range(9):  # first readings at 0 s, due again after 3-5.4 s: the faces have not changed
        stage(frame(gallery, with_noise(gallery.image, rng), float(t)), float(t))
    assert stage.readings_done == 4 and stage.readings_put_off >= 4
    assert stage.eyes_only_readings == stage.readings_put_off  # their eyes are still looked at, on time
    moved = np.roll(gallery.image, 12, axis=1)  # everyone shifts 12 px (their boxes stay): changed crops
    for t in range(9, 13):
        stage(frame(gallery, with_noise(moved, rng), float(t)), float(t))
    assert stage.readings_done >= 8

    every = AttentionStage(*landmarks, every_s=3.0, unchanged_max_s=0.0)  # the full-cost path
    for t in range(9):
        every(frame(gallery, with_noise(gallery.image, rng), float(t)), float(t))
    assert every.readings_put_off == 0 and every.readings_done >= 8 and every.eyes_only_readings == 0


def test_landmarks_read_in_small_batches_are_those_of_one_call(gallery: Gallery, landmarks) -> None:
    from bot.attend import LANDMARK_BATCH, _landmarks_in_batches

    marker, _ = landmarks
    xyxy = np.tile(np.array([tile.face_xyxy for tile in gallery.tiles], np.float32), (3, 1))  # 12 faces
    assert len(xyxy) > 2 * LANDMARK_BATCH
    previous = np.full((len(xyxy), 468, 3), np.nan, np.float32)
    one = marker.landmarks(gallery.image, xyxy, previous_px=previous)
    batched = _landmarks_in_batches(marker, gallery.image, xyxy, previous)
    np.testing.assert_allclose(batched.points_px, one.points_px, atol=1e-3)
    np.testing.assert_allclose(batched.presence, one.presence, atol=1e-5)


def _eyes_shut(image: np.ndarray, points_px: np.ndarray) -> np.ndarray:
    """``image`` with the eyes at ``points_px`` (468 landmarks) painted over in the skin below them."""
    from models.face_landmarks import EYE_CORNERS

    out = image.copy()
    for a, b in EYE_CORNERS:
        p, q = points_px[a, :2], points_px[b, :2]
        cx, cy = (p + q) / 2
        w = float(np.linalg.norm(q - p))
        skin = out[int(cy + 0.6 * w), int(cx)].tolist()
        cv2.ellipse(out, (int(cx), int(cy)), (int(w * 0.6), int(w * 0.35)), 0, 0, 360, skin, -1)
        cv2.line(out, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), (40, 40, 60), 1)  # the lid line
    return out


def test_eyes_that_close_in_a_still_face_are_seen_without_a_landmark_reading(gallery: Gallery, landmarks) -> None:
    from vocab.labels import ATTENTION_STATES

    marker, _ = landmarks
    # A change the crop test does not count (change_max_diff 80 grey levels): the face is "still",
    # so its landmark reading is put off; its eyes must be looked at on time all the same.
    stage = AttentionStage(*landmarks, every_s=3.0, unchanged_max_s=30.0, change_max_diff=80.0)
    rng = np.random.default_rng(2)
    first = stage(frame(gallery, with_noise(gallery.image, rng), 0.0), 0.0)
    assert first.faces.eyes_closed is not None and first.faces.eyes_closed[0] == 0
    box = np.array([gallery.tiles[0].face_xyxy], np.float32)
    shut = _eyes_shut(gallery.image, marker.landmarks(gallery.image, box).points_px[0])
    seen: list[int] = []
    closed_at: tuple[int, int] | None = None  # (second, landmark readings so far) when first seen closed
    for t in range(1, 15):
        out = stage(frame(gallery, with_noise(shut, rng), float(t)), float(t))
        assert out.faces.attention is not None and out.faces.eyes_closed is not None
        seen.append(int(out.faces.attention[0]))
        if closed_at is None and out.faces.eyes_closed[0] == 1:
            closed_at = (t, stage.readings_done)
    # Due at 3.6 s (3 s x (1 + id % 5 / 5)): seen then from the eye patches alone (the 4 readings
    # are the first ones); the next readings confirm the new state with landmarks, then it is held.
    assert closed_at == (4, 4)
    assert stage.eyes_only_readings >= 4
    assert seen[-1] == ATTENTION_STATES.index("eyes_closed")


def test_a_face_that_sways_is_not_read_again_and_its_eyes_are_looked_for_where_they_moved(
        gallery: Gallery, landmarks) -> None:
    """Faces moving by a couple of pixels, their boxes following them: the landmark reading is
    put off (eyes looked at where the kept landmarks, moved with the face, put them) and the
    open eyes stay open; eyes shut on a face that moved are still seen."""
    marker, _ = landmarks
    stage = AttentionStage(*landmarks, every_s=3.0, unchanged_max_s=30.0)
    rng = np.random.default_rng(3)
    stage(frame(gallery, with_noise(gallery.image, rng), 0.0), 0.0)
    read_first = stage.readings_done
    for t in range(1, 8):
        dx = 2 if t % 2 else -1
        out = stage(frame(gallery, np.roll(with_noise(gallery.image, rng), dx, axis=1), float(t), shift_px=dx),
                    float(t))
        assert out.faces.eyes_closed is not None and (out.faces.eyes_closed == 0).all(), out.faces.eyes_closed
    assert stage.eyes_only_readings >= 4 and stage.readings_done <= read_first + 1
    box = np.array([gallery.tiles[0].face_xyxy], np.float32) + 2
    moved = np.roll(gallery.image, 2, axis=1)
    shut = _eyes_shut(moved, marker.landmarks(moved, box).points_px[0])
    closed = [int(stage(frame(gallery, with_noise(shut, rng), float(t), shift_px=2.0), float(t)).faces.eyes_closed[0])
              for t in range(8, 14)]
    assert 1 in closed, closed


class WidthRecordingClassifier(CountingClassifier):
    """Remembers the face widths it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.widths: list[float] = []

    def predict(self, faces: np.ndarray, face_px: np.ndarray | None = None) -> np.ndarray:
        assert face_px is not None and len(face_px) == len(faces)
        self.widths += [float(w) for w in face_px]
        return super().predict(faces, face_px)


def test_the_model_is_told_how_wide_each_face_is_on_screen(gallery: Gallery) -> None:
    """The small-face rule needs each face's width in screen pixels: the detector's box width."""
    model = WidthRecordingClassifier()
    EmotionStage(model, reclassify_after_s=0.0)(frame(gallery, gallery.image, 0.0))
    want = sorted(float(t.face_xyxy[2] - t.face_xyxy[0]) for t in gallery.tiles)  # type: ignore[index]
    assert len(want) == 4 and sorted(model.widths) == pytest.approx(want)
