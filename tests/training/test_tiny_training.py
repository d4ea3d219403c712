"""A tiny real training run end to end: the loss falls and the export ships a valid, faithful ONNX file.

Uses the first few hundred rows of each split and a narrow network so it finishes in well
under a minute on 2 CPU cores; it checks the plumbing, not the accuracy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.emotion_classifier import OnnxEmotionClassifier
from training import export
from training.config import TrainConfig
from training.model import ModelConfig
from training.train import train
from vocab.errors import ModelError

TINY_MODEL = ModelConfig(widths=(8, 16, 32, 32), blocks=(1, 1, 1, 1))


@pytest.fixture(scope="module")
def tiny_checkpoint(fer2013_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("tiny_run")
    # One thread: small convolutions gain little from two, and it keeps the test steady on a
    # busy 2-core machine.
    cfg = TrainConfig(data=fer2013_npz, out_dir=out_dir, epochs=3, batch_size=32, lr=0.05, warmup_epochs=0.5,
                      max_per_split=256, threads=1, device="cpu", model=TINY_MODEL)
    return train(cfg)


def test_training_loss_falls_and_checkpoint_is_complete(tiny_checkpoint: Path) -> None:
    ck = torch.load(tiny_checkpoint, map_location="cpu", weights_only=False)
    assert {"model", "model_config", "config", "data_sha256", "cleaning", "history", "epoch", "weights",
            "public_acc"} <= set(ck)
    losses = [h["loss"] for h in ck["history"]]
    assert len(losses) == 3
    assert losses[-1] < losses[0], losses
    assert ModelConfig.from_dict(ck["model_config"]) == TINY_MODEL


def test_export_passes_contract_and_parity(tiny_checkpoint: Path, fer2013_npz: Path, tmp_path: Path,
                                           emotion_contract) -> None:
    out = tmp_path / "emotion.onnx"
    res = export.export_checkpoint(tiny_checkpoint, out, flip_average=True, data=fer2013_npz, parity_faces=64)
    assert res.path == out and res.flip_average
    assert res.parity_max_abs_diff <= export.PARITY_TOLERANCE
    emotion_contract(out)
    with OnnxEmotionClassifier(out, threads=1) as clf:
        assert clf.flip_average is True and clf.sha256 == res.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emotion.onnx"]


def test_export_cli_without_flip_average(tiny_checkpoint: Path, fer2013_npz: Path, tmp_path: Path,
                                         emotion_contract) -> None:
    out = tmp_path / "sub" / "emotion.onnx"
    rc = export.main([str(tiny_checkpoint), "--out", str(out), "--no-flip-average", "--data", str(fer2013_npz)])
    assert rc == 0
    emotion_contract(out)
    with OnnxEmotionClassifier(out, threads=1) as clf:
        assert clf.flip_average is False


def test_failed_parity_writes_nothing(tiny_checkpoint: Path, fer2013_npz: Path, tmp_path: Path) -> None:
    out = tmp_path / "emotion.onnx"
    with pytest.raises(ModelError, match="failed parity"):
        export.export_checkpoint(tiny_checkpoint, out, data=fer2013_npz, parity_faces=8, tolerance=-1.0)
    assert list(tmp_path.iterdir()) == []


def test_missing_checkpoint_exits_nonzero(tmp_path: Path) -> None:
    assert export.main([str(tmp_path / "none.pt"), "--out", str(tmp_path / "x.onnx")]) == 1
    assert list(tmp_path.iterdir()) == []


def test_four_view_export_is_faithful_and_mirror_invariant(tiny_checkpoint: Path, fer2013_npz: Path,
                                                          tmp_path: Path, emotion_contract) -> None:
    out = tmp_path / "emotion.onnx"
    res = export.export_checkpoint(tiny_checkpoint, out, flip_average=True, zoom_average=True, data=fer2013_npz,
                                   parity_faces=64)
    assert res.parity_max_abs_diff <= export.PARITY_TOLERANCE
    emotion_contract(out)  # includes: mirrored faces get the same probabilities


def test_quantized_variant_keeps_the_contract(tiny_checkpoint: Path, fer2013_npz: Path, tmp_path: Path,
                                              emotion_contract) -> None:
    from training.quantize import quantize

    float_model = export.export_checkpoint(tiny_checkpoint, tmp_path / "emotion.onnx", data=fer2013_npz,
                                           parity_faces=8).path
    fast = tmp_path / "emotion_int8.onnx"
    quantize(float_model, fast, fer2013_npz)
    emotion_contract(fast)
    assert fast.stat().st_size < 0.5 * float_model.stat().st_size


@pytest.fixture(scope="module")
def warm_restart_checkpoint(tiny_checkpoint: Path, fer2013_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second LR cycle that starts from the tiny run's weights (``--init-from``)."""
    out_dir = tmp_path_factory.mktemp("tiny_restart")
    cfg = TrainConfig(data=fer2013_npz, out_dir=out_dir, epochs=2, batch_size=32, lr=0.02, warmup_epochs=0.5,
                      max_per_split=256, threads=1, device="cpu", model=TINY_MODEL, seed=1,
                      init_from=tiny_checkpoint)
    return train(cfg)


def test_warm_restart_continues_from_the_earlier_weights(tiny_checkpoint: Path,
                                                         warm_restart_checkpoint: Path) -> None:
    first = torch.load(tiny_checkpoint, map_location="cpu", weights_only=False)
    second = torch.load(warm_restart_checkpoint, map_location="cpu", weights_only=False)
    assert second["init_from"]["path"] == str(tiny_checkpoint)
    assert second["init_from"]["history"] == first["history"]
    # It picks up where the first cycle ended instead of starting again from random weights.
    assert second["history"][0]["loss"] < first["history"][0]["loss"]


def test_warm_restart_rejects_a_checkpoint_of_another_shape(tiny_checkpoint: Path, fer2013_npz: Path,
                                                           tmp_path: Path) -> None:
    cfg = TrainConfig(data=fer2013_npz, out_dir=tmp_path, epochs=1, max_per_split=64, threads=1, device="cpu",
                      init_from=tiny_checkpoint)  # default (full-size) model config
    with pytest.raises(ValueError, match="model config"):
        train(cfg)
    assert list(tmp_path.iterdir()) == []


def test_snapshot_ensemble_export_averages_both_networks(tiny_checkpoint: Path, warm_restart_checkpoint: Path,
                                                         fer2013_npz: Path, tmp_path: Path, emotion_contract) -> None:
    import json

    import onnx

    out = tmp_path / "emotion.onnx"
    members = [tiny_checkpoint, warm_restart_checkpoint]
    res = export.export_checkpoint(members, out, flip_average=True, data=fer2013_npz, parity_faces=64)
    assert res.parity_max_abs_diff <= export.PARITY_TOLERANCE
    emotion_contract(out)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["ensemble_members"] == "2"
    assert len(json.loads(meta["training"])["members"]) == 2
    # The ensemble is neither member alone.
    faces = export.public_split(fer2013_npz).tensor()[:32]
    single = tmp_path / "single.onnx"
    export.export_checkpoint(tiny_checkpoint, single, flip_average=True, data=fer2013_npz, parity_faces=8)
    with OnnxEmotionClassifier(out, threads=1) as both, OnnxEmotionClassifier(single, threads=1) as one:
        assert float(abs(both.predict(faces) - one.predict(faces)).max()) > 1e-3
