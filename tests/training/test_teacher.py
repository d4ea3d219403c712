"""Teachers and the online distillation that reads them, and runs fitted to a time budget."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from training.config import recipe_config
from training.data import load_splits
from training.model import EmotionNet, ModelConfig, count_macs, load_checkpoint
from training.train import epochs_for_budget, train
from vocab.errors import ConfigError
from vocab.labels import EMOTIONS

TINY = ModelConfig(widths=(8, 16, 16, 16), blocks=(1, 1, 1, 1))
FEAR = EMOTIONS.index("Fear")


def test_teacher_recipe_reads_every_pixel_at_many_times_the_student_s_cost() -> None:
    teacher = EmotionNet(recipe_config("teacher").model)
    student = EmotionNet(recipe_config("v6kd").model)
    # Stem stride 1: the first stage still sees the whole 48x48 face.
    assert teacher.features[:2](torch.zeros(1, 1, 48, 48)).shape[-1] == 48
    assert student.features[:2](torch.zeros(1, 1, 48, 48)).shape[-1] == 24
    assert count_macs(teacher) > 20 * count_macs(student)
    assert sum(p.numel() for p in teacher.parameters()) > 10_000_000


def _fearful_teacher(path: Path) -> Path:
    """A checkpoint whose network reads every face as Fear (zero head weights, a large Fear bias)."""
    net = EmotionNet(TINY)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()
        net.head.bias[FEAR] = 20.0
    torch.save({"model": net.state_dict(), "model_config": TINY.to_dict(), "epoch": 1, "public_acc": 0.0}, path)
    return path


def _fear_share(checkpoint: Path, faces: torch.Tensor) -> float:
    net, _ = load_checkpoint(checkpoint)
    with torch.no_grad():
        return float((net(faces).argmax(1) == FEAR).float().mean())


def test_student_follows_its_teachers_reading(fer2013_npz: Path, tmp_path: Path) -> None:
    """With the whole target from a teacher that reads everything as Fear, the student learns to
    say Fear; from the labels alone it does not (Fear is 14 % of FER2013)."""
    teacher = _fearful_teacher(tmp_path / "teacher.pt")
    base = replace(recipe_config("v2"), data=fer2013_npz, epochs=3, batch_size=32, lr=0.05, warmup_epochs=0.5,
                   max_per_split=128, threads=1, device="cpu", label_smoothing=0.0, model=TINY, keep_epochs=True)
    faces = torch.from_numpy(load_splits(fer2013_npz, 128)[0]["public"].tensor())
    train(replace(base, out_dir=tmp_path / "taught", teachers=(teacher,), teacher_weight=1.0))
    train(replace(base, out_dir=tmp_path / "plain"))
    taught, plain = tmp_path / "taught" / "epoch_003_raw.pt", tmp_path / "plain" / "epoch_003_raw.pt"
    assert _fear_share(taught, faces) > 0.9
    assert _fear_share(plain, faces) < 0.5
    ck = torch.load(taught, map_location="cpu", weights_only=False)
    assert ck["teachers"][0]["path"] == str(teacher) and len(ck["teachers"][0]["sha256"]) == 64
    assert ck["config"]["teachers"] == [str(teacher)]


def test_a_recipe_that_reads_teachers_says_it_needs_them(fer2013_npz: Path, tmp_path: Path) -> None:
    cfg = replace(recipe_config("v6kd"), data=fer2013_npz, out_dir=tmp_path, device="cpu")
    with pytest.raises(ConfigError, match="--teachers"):
        train(cfg)


def test_epochs_for_budget() -> None:
    # 100 steps of 10 ms plus 1 s of PublicTest: 2 s an epoch; 90 % of 100 s holds 45 of them.
    assert epochs_for_budget(100, 0.01, 100, 1.0) == 45
    assert epochs_for_budget(1, 0.01, 100, 1.0) == 1  # never none


def test_a_budgeted_run_ends_near_its_budget(fer2013_npz: Path, tmp_path: Path) -> None:
    """Given 200 epochs and 6 s, the run plans as many epochs as fit, finishes its whole
    learning-rate cycle, and stops near the budget (generous: a busy CI machine)."""
    cfg = replace(recipe_config("v2"), data=fer2013_npz, out_dir=tmp_path, epochs=200, budget_s=6.0, batch_size=32,
                  max_per_split=128, threads=1, device="cpu", model=TINY)
    train(cfg)
    last = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=False)
    planned = last["config"]["epochs"]
    assert 2 <= planned < 200
    assert len(last["history"]) == planned  # the cycle ran to its end
    assert last["history"][-1]["elapsed_s"] < 3 * 6.0
    assert last["scheduler"]["last_epoch"] == planned * int(np.ceil(128 / 32))  # cosine cycle fully stepped


def test_a_teacher_split_in_two_parts_reads_faces_as_before(tmp_path: Path) -> None:
    """The two float16 parts are each about half the float32 checkpoint's size (a quarter of
    the weights' bytes each) and, joined, read faces as the original did."""
    from training.parts import join_checkpoint, split_checkpoint

    torch.manual_seed(0)
    net = EmotionNet(recipe_config("teacher").model).eval()
    path = tmp_path / "teacher.pt"
    torch.save({"model": net.state_dict(), "model_config": net.cfg.to_dict(), "epoch": 7, "public_acc": 0.7}, path)
    split_checkpoint(path, tmp_path / "a.pt", tmp_path / "b.pt")
    sizes = [(tmp_path / n).stat().st_size for n in ("a.pt", "b.pt")]
    assert all(0.15 * path.stat().st_size < s < 0.35 * path.stat().st_size for s in sizes), sizes
    joined, ck = load_checkpoint(join_checkpoint(tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "joined.pt"))
    faces = torch.rand(16, 1, 48, 48)
    with torch.no_grad():
        before, after = torch.softmax(net(faces), 1), torch.softmax(joined(faces), 1)
    assert float((before - after).abs().max()) < 0.01
    assert ck["epoch"] == 7 and "part" not in ck
    with pytest.raises(ValueError, match="parts 1 and 2"):
        join_checkpoint(tmp_path / "b.pt", tmp_path / "a.pt", tmp_path / "x.pt")
