"""The v3 recipe's parts: FER+ targets, webcam augmentation, recipe presets, and one tiny run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training.augment import augment, jpeg_like, webcam
from training.config import RECIPES, load_train_config, recipe_config
from training.data import contempt_label_distribution, ferplus_targets, not_face_rows
from vocab.errors import ConfigError

# FER+ columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF.
VOTES = np.array([
    [0, 8, 0, 0, 0, 0, 0, 0, 2, 0],   # happy, 2 unknown
    [0, 0, 0, 0, 2, 0, 0, 8, 0, 0],   # contempt majority
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 10],  # not a face
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],   # no votes
])
LABELS = np.array([3, 1, 6, 4])


def test_ferplus_targets_drop_matches_the_shipped_recipe() -> None:
    t = ferplus_targets(VOTES, LABELS)
    assert np.allclose(t[0], np.eye(7)[3])                    # unknown votes dropped
    assert np.allclose(t[1], np.eye(7)[0])                    # contempt dropped: anger's 2 votes
    assert np.allclose(t[2], np.eye(7)[6]) and np.allclose(t[3], np.eye(7)[4])  # no usable vote: label


def test_ferplus_targets_unknown_uniform_and_contempt_as_fer2013() -> None:
    dist = np.array([0.5, 0.5, 0, 0, 0, 0, 0], np.float32)
    t = ferplus_targets(VOTES, LABELS, unknown="uniform", contempt="fer2013", contempt_dist=dist)
    assert np.allclose(t.sum(axis=1), 1)
    assert t[0, 3] == pytest.approx((8 + 2 / 7) / 10) and t[0, 0] == pytest.approx(2 / 7 / 10)
    assert t[1, 0] == pytest.approx((2 + 4) / 10) and t[1, 1] == pytest.approx(4 / 10)
    with pytest.raises(ValueError, match="contempt_dist"):
        ferplus_targets(VOTES, LABELS, contempt="fer2013")


def test_not_face_rows_and_contempt_distribution() -> None:
    assert not_face_rows(VOTES).tolist() == [False, False, True, False]
    assert np.allclose(contempt_label_distribution(VOTES, LABELS), np.eye(7)[1])  # row 1 is labelled Disgust


def test_recipe_v3_presets_and_flag_overrides() -> None:
    cfg = load_train_config(["--recipe", "v3"])
    assert cfg.recipe == "v3" and cfg.augment == "webcam" and cfg.ferplus_weight == RECIPES["v3"]["ferplus_weight"]
    assert cfg.drop_not_face is True and cfg.ferplus_contempt == "fer2013"
    cfg = load_train_config(["--recipe", "v3", "--ferplus-weight", "0.5", "--drop-not-face", "false"])
    assert cfg.ferplus_weight == 0.5 and cfg.drop_not_face is False and cfg.augment == "webcam"
    assert load_train_config([]) == recipe_config("v2")
    with pytest.raises(ConfigError, match="unknown recipe"):
        load_train_config(["--recipe", "v9"])


def _faces(n: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    base = torch.rand(n, 1, 6, 6, generator=g)
    return torch.nn.functional.interpolate(base, size=(48, 48), mode="bilinear", align_corners=False)


def test_webcam_augmentation_shapes_ranges_and_share() -> None:
    x = _faces(64)
    y = webcam(augment(x, torch.Generator().manual_seed(0)), torch.Generator().manual_seed(1), p=1.0)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert torch.isfinite(y).all() and y.min() >= 0 and y.max() <= 1
    assert webcam(x, torch.Generator().manual_seed(1), p=0.0) is x
    half = webcam(x, torch.Generator().manual_seed(2), p=0.5)
    unchanged = (half == x).flatten(1).all(dim=1).float().mean().item()
    assert 0.25 < unchanged < 0.75  # about half the faces untouched, the rest degraded
    assert (half != x).any()


def test_jpeg_like_loses_more_at_low_quality() -> None:
    x = torch.rand(4, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    err = {q: float((jpeg_like(x, torch.full((4,), float(q))) - x).abs().mean()) for q in (95, 50, 10)}
    assert err[95] < err[50] < err[10]
    smooth = _faces(4)
    assert float((jpeg_like(smooth, torch.full((4,), 95.0)) - smooth).abs().max()) < 0.03
    with pytest.raises(ValueError, match="multiples of 8"):
        jpeg_like(torch.zeros(1, 1, 50, 50), torch.tensor([50.0]))


def test_tiny_v3_run_records_recipe_and_ferplus_accuracy(fer2013_npz: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from training.model import ModelConfig
    from training.train import train

    cfg = replace(recipe_config("v3"), data=fer2013_npz, out_dir=tmp_path, epochs=1, batch_size=32,
                  warmup_epochs=0.5, max_per_split=128, threads=1, device="cpu",
                  model=ModelConfig(widths=(8, 16, 16, 16), blocks=(1, 1, 1, 1)))
    best = train(cfg)
    ck = torch.load(best, map_location="cpu", weights_only=False)
    assert ck["config"]["recipe"] == "v3" and ck["config"]["augment"] == "webcam"
    (record,) = ck["history"]
    assert np.isfinite(record["loss"]) and 0 <= record["public_ferplus_raw"][0] <= 1
    assert ck["cleaning"]["not_face_dropped"] > 0  # v3 drops Training rows whose FER+ majority is "not a face"


def test_distillation_keeps_the_start_s_reading_of_faces(fer2013_npz: Path, tmp_path: Path) -> None:
    """Fine-tuned on the start's own reading (distill_weight 1), a network still reads the
    Training faces as the start did (its probabilities stay close); fine-tuned on the labels (0),
    it moves away from it."""
    from dataclasses import replace

    from training.data import load_splits
    from training.export import load_checkpoint
    from training.model import ModelConfig
    from training.train import train

    base = replace(recipe_config("v2"), data=fer2013_npz, epochs=1, batch_size=32, warmup_epochs=0.5,
                   max_per_split=128, threads=1, device="cpu", label_smoothing=0.0,
                   model=ModelConfig(widths=(8, 16, 16, 16), blocks=(1, 1, 1, 1)))
    start = train(replace(base, out_dir=tmp_path / "start"))
    x = torch.from_numpy(load_splits(fer2013_npz, 128)[0]["train"].tensor())

    def reading(path: Path) -> np.ndarray:
        net, _ = load_checkpoint(path)
        with torch.no_grad():
            return torch.softmax(net.eval()(x), dim=1).numpy()

    before = reading(start)
    moved = {}  # mean total-variation distance from the start's probabilities
    for w in (0.0, 1.0):
        out = tmp_path / f"distill_{w}"
        train(replace(base, out_dir=out, init_from=start, distill_weight=w, epochs=4, lr=0.05, keep_epochs=True))
        moved[w] = float(0.5 * np.abs(reading(out / "epoch_004_raw.pt") - before).sum(1).mean())
    assert moved[1.0] < 0.5 * moved[0.0], moved
    with pytest.raises(ConfigError, match="distill_weight"):
        replace(base, distill_weight=0.5)  # nothing to distil from without --init-from
