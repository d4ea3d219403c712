"""The cheap live pipeline against the full-cost one on a short composed class (``bench/agreement.py``):
it must see the same faces and show nearly the same labels while calling the models far less.

Floors are generous (the bench prints the real figures for a 7x7 class); the labels' floor
sits under what the full-cost path agrees with itself on another noise draw of the class.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from bench.agreement import class_frames, compare
from bench.class_window import class_states
from bot.pipeline import Pipeline, build_pipeline
from vocab.settings import Config

pytestmark = pytest.mark.usefixtures("shipped_model")

GRID, SIZE, FRAMES = (3, 3), (960, 540), 14


@pytest.fixture(scope="module")
def pipelines() -> Iterator[tuple[Pipeline, Pipeline]]:
    config = Config(names=False)
    cheap, full = build_pipeline(config), build_pipeline(config, full_cost=True)
    yield cheap, full
    cheap.close()
    full.close()


def test_cheap_pipeline_agrees_with_the_full_cost_one_on_a_class_with_joins_and_leaves(pipelines) -> None:
    cheap, full = pipelines
    tiles = np.array(class_states(7, GRID, SIZE)["start"].tiles_xyxy())
    r = compare(class_frames(FRAMES, GRID, SIZE), cheap, full, tiles)
    assert r.full_faces >= 8 * FRAMES
    assert r.recall_agreement >= 0.98 and r.extra_faces <= 1, (r.recall_agreement, r.extra_faces)
    assert r.cheap_found >= r.full_found - 1 and r.full_found >= 0.95 * r.truth_faces
    assert r.label_agreement >= 0.8, r.label_agreement
    # ... while doing much less: detector calls and expression readings.
    assert cheap.finder.detector_calls < full.finder.detector_calls / 3
    assert cheap.emotion is not None and full.emotion is not None
    assert cheap.emotion.faces_classified < 0.7 * full.emotion.faces_classified  # unsure faces: every frame
