"""bench.identity on a few simulated classes: who is who through reflows and page changes."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.identity import run_class
from tools.screensim.photos import load_pool


def test_faces_keep_the_right_person_through_reflows_and_page_changes() -> None:
    if len(load_pool().frontal) < 20:
        pytest.skip("the shared face photos are absent (../shared/data/faces): one stand-in face cannot "
                    "show who is who")
    total: Counter[str] = Counter()
    for k in range(6):  # 3x3, 4x4 and 5x5 galleries in Zoom's, Teams' and Meet's styles
        counts, _ = run_class(k, frames=3)
        total.update(counts)
    right, wrong = total["all right"], total["all wrong"]
    # Measured 99.6 % on these classes at 4 frames a state (96.1 % before names were read all at
    # once, misreads forgiven and places needed looks).
    assert right + wrong > 700
    assert right / (right + wrong) >= 0.98
