"""The emotion bench times real faces where it can and says how many views a face it read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.emotion import main
from models.emotion_classifier import INT8_MODEL_PATH
from training.timing import split_faces, time_batches


def test_the_live_file_is_timed_on_real_faces_with_its_views_counted(shipped_model: Path, fer2013_npz: Path) -> None:
    faces = split_faces(fer2013_npz)
    assert faces is not None and faces.shape == (3589, 1, 48, 48)
    (live,) = time_batches(INT8_MODEL_PATH, (49,), threads=1, runs=4, faces=faces)
    (full,) = time_batches(shipped_model, (49,), threads=1, runs=4, faces=faces)
    assert live.real_faces and full.real_faces
    assert full.views_per_face == 4.0  # the float file averages four views in its graph
    assert 1.0 < live.views_per_face < 3.0  # the cascade reads more views of unsure faces only
    assert live.median_ms > 0 and live.p90_ms >= live.median_ms


def test_without_the_data_the_bench_says_it_times_random_pixels(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    assert split_faces(tmp_path / "none.npz") is None
    assert main([str(INT8_MODEL_PATH), "--runs", "2", "--batches", "9", "--data", str(tmp_path / "none.npz")]) == 0
    out = capsys.readouterr().out
    assert "random pixels" in out and "views/face" in out
    assert "random pixels" in caplog.text
