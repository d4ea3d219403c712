"""The emotion bench times real faces where it can and says how many views a face it read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.emotion import main
from models.emotion_classifier import INT8_MODEL_PATH
from training.timing import cpu_description, split_faces, time_batches


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


def test_the_cpu_is_named_with_whether_int8_dot_products_are_fast(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B12\nflags\t\t: fpu sse2 avx avx2 fma\n\n")
    assert cpu_description(cpuinfo) == "AMD EPYC 7B12, AVX2 without VNNI"
    cpuinfo.write_text("model name\t: Intel(R) Xeon(R) Platinum\nflags\t\t: avx2 avx512f avx512_vnni amx_int8\n")
    assert cpu_description(cpuinfo) == "Intel(R) Xeon(R) Platinum, VNNI"
    cpuinfo.write_text("processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd\n")  # an ARM board
    assert "VNNI" not in cpu_description(cpuinfo) and "AVX2" not in cpu_description(cpuinfo)
    assert cpu_description(tmp_path / "absent")  # no /proc: the system's own words
