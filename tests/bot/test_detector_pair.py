"""Two instances of the tile detector answer a frame's windows together, with the answers one
detector alone gives, in order (real MediaPipe)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.detector_pair import PAIR_MIN_WINDOWS, DetectorPair
from bot.pipeline import build_pipeline
from models.face_detector import MediaPipeFaceDetector
from tools.compose_gallery import compose_gallery, load_face_photos
from vocab.settings import Config, SourceSpec


@pytest.fixture(scope="module")
def tiles() -> list[np.ndarray]:
    g = compose_gallery(load_face_photos(), grid=(4, 4), size_wh=(1280, 720), seed=5, camera_off_frac=0.25)
    return [g.image[y0:y1, x0:x1] for x0, y0, x1, y1 in g.tiles_xyxy().tolist()]


@pytest.mark.parametrize("n", [PAIR_MIN_WINDOWS - 1, 16])
def test_a_pair_answers_as_one_detector_does(tiles, n):
    with MediaPipeFaceDetector() as first, MediaPipeFaceDetector() as second:
        alone = [first.detect(t) for t in tiles[:n]]
        pair = DetectorPair(first, second)
        try:
            together = pair.detect_all(tiles[:n])
            again = pair.detect_all(tiles[:n])  # the worker is reused
        finally:
            pair.close()
    assert len(together) == n and sum(len(s) for _, s in alone) >= n // 2  # faces were there to find
    for (xa, sa), (xb, sb), (xc, sc) in zip(alone, together, again, strict=True):
        np.testing.assert_allclose(xa, xb, atol=1e-3)
        np.testing.assert_allclose(sa, sb, atol=1e-4)
        np.testing.assert_allclose(xa, xc, atol=1e-3)
        np.testing.assert_allclose(sa, sc, atol=1e-4)


def test_a_pushed_run_gets_the_twin_a_1_fps_live_run_does_not():
    """A 1 fps live run re-detects a tile or two a frame: no second detector, no thread, no memory."""
    cases = [(Config(source=SourceSpec.parse("region:0,0,640,360"), attention=False, names=False), False),
             (Config(source=SourceSpec.parse("region:0,0,640,360"), fps=0, attention=False, names=False), True)]
    for config, paired in cases:
        pipeline = build_pipeline(config)
        try:
            assert (pipeline.finder.pair is not None) == paired, config.fps
        finally:
            pipeline.close()
