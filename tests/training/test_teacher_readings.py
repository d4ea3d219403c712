"""Offline distillation on a CPU: teachers read the clean Training faces once, a fine-tune learns from that."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from one_class_nets import one_class_checkpoint

from training.config import recipe_config
from training.data import load_splits
from training.model import ModelConfig, load_checkpoint
from training.teacher_readings import read
from training.train import train
from vocab.errors import ConfigError
from vocab.labels import EMOTIONS

TINY = ModelConfig(widths=(8, 16, 16, 16), blocks=(1, 1, 1, 1))


def _one_class_net(path: Path, emotion: str, bias: float = 20.0) -> Path:
    """A checkpoint whose network reads every face as ``emotion`` (zero head weights, its bias ``bias``)."""
    return one_class_checkpoint(path, TINY, emotion, bias)


def _share(checkpoint: Path, faces: torch.Tensor, emotion: str) -> float:
    net, _ = load_checkpoint(checkpoint)
    with torch.no_grad():
        return float((net(faces).argmax(1) == EMOTIONS.index(emotion)).float().mean())


def test_a_student_learns_its_teachers_stored_reading(fer2013_npz: Path, tmp_path: Path) -> None:
    """A student that starts out reading every face as Happy, fine-tuned on the stored reading
    of two teachers that read every face as Fear (mixed with its own, each network equal),
    comes to say Fear; on its own reading alone it stays Happy."""
    teachers = [_one_class_net(tmp_path / f"fear{i}.pt", "Fear") for i in (1, 2)]
    readings = read(teachers, tmp_path / "readings.npz", data=fer2013_npz, max_per_split=128)
    with np.load(readings) as d:
        assert d["logits"].shape == (128, 7) and float(d["public_accuracy"]) < 0.3
    start = _one_class_net(tmp_path / "happy.pt", "Happy", bias=5.0)
    base = replace(recipe_config("v7kd"), data=fer2013_npz, epochs=3, batch_size=32, lr=0.05, max_per_split=128,
                   threads=1, device="cpu", label_smoothing=0.0, model=TINY, init_from=start, distill_weight=1.0,
                   webcam_p=0.0)
    train(replace(base, out_dir=tmp_path / "taught", distill_readings=readings))
    train(replace(base, out_dir=tmp_path / "own"))
    faces = torch.from_numpy(load_splits(fer2013_npz, 128)[0]["public"].tensor())
    assert _share(tmp_path / "taught" / "epoch_003_raw.pt", faces, "Fear") > 0.9
    assert _share(tmp_path / "own" / "epoch_003_raw.pt", faces, "Happy") > 0.9
    ck = torch.load(tmp_path / "taught" / "epoch_003_raw.pt", map_location="cpu", weights_only=False)
    assert ck["distillation"]["readings"] == str(readings) and len(ck["distillation"]["teacher_sha256"]) == 2


def test_readings_of_other_rows_stop_the_run_with_one_line(fer2013_npz: Path, tmp_path: Path) -> None:
    teacher = _one_class_net(tmp_path / "fear.pt", "Fear")
    readings = read([teacher], tmp_path / "readings.npz", data=fer2013_npz, max_per_split=64)
    cfg = replace(recipe_config("v7kd"), data=fer2013_npz, out_dir=tmp_path / "run", max_per_split=128, threads=1,
                  device="cpu", model=TINY, init_from=_one_class_net(tmp_path / "start.pt", "Happy"),
                  distill_readings=readings)
    with pytest.raises(ConfigError, match="other Training rows"):
        train(cfg)
    with pytest.raises(ConfigError, match="no teacher readings"):
        train(replace(cfg, distill_readings=tmp_path / "missing.npz"))
