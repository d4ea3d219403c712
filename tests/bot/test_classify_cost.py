"""Expressions and attention re-read only when a face changed (``EmotionStage``,
``AttentionStage``): counts of model inputs, never times (the targets live in ``bench/``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

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

    def predict(self, faces: np.ndarray) -> np.ndarray:
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


def test_an_unsure_reading_is_not_kept(gallery: Gallery) -> None:
    model = CountingClassifier(p_top=0.45)  # under HOLD_MIN_CONFIDENCE: a face on a class boundary
    stage = EmotionStage(model, reclassify_after_s=3.0)
    for t in range(3):
        stage(frame(gallery, gallery.image, float(t)))
    assert model.faces == 12 and stage.faces_kept == 0


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
    moved = np.roll(gallery.image, 12, axis=1)  # everyone shifts 12 px (their boxes stay): changed crops
    for t in range(9, 13):
        stage(frame(gallery, with_noise(moved, rng), float(t)), float(t))
    assert stage.readings_done >= 8

    every = AttentionStage(*landmarks, every_s=3.0, unchanged_max_s=0.0)  # the full-cost path
    for t in range(9):
        every(frame(gallery, with_noise(gallery.image, rng), float(t)), float(t))
    assert every.readings_put_off == 0 and every.readings_done >= 8
