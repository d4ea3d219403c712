"""Warm start from the shipped ONNX file: the rebuilt torch network is the shipped model.

The export folds BatchNorm into the convolutions; ``training.onnx_weights`` unfolds it. These
tests hold the rebuilt network (the same test-time views as the file) against ONNX Runtime on
the raw graph output (the runtime wrapper would add the temperature), check that train mode
continues the model rather than renormalising it, and that a run started with ``--init-from
FILE.onnx`` records where it started.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training.config import TrainConfig
from training.data import load_splits, sha256_of_file
from training.model import EmotionNet, ExportedEmotionNet, ModelConfig
from training.model_card import training_cycles
from training.onnx_weights import load_onnx_weights, net_from_onnx
from training.train import train

TOLERANCE = 1e-4


def _onnx_probabilities(path: Path, faces: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"face": faces})[0]


def _views(path: Path) -> tuple[bool, bool]:
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return meta["flip_average"] == "true", meta["zoom_average"] == "true"


def _torch_probabilities(net: EmotionNet, path: Path, faces: np.ndarray) -> np.ndarray:
    flip, zoom = _views(path)
    with torch.no_grad():
        return ExportedEmotionNet(net, flip, zoom).eval()(torch.from_numpy(faces)).numpy()


def _synthetic_faces(n: int = 48) -> np.ndarray:
    """Smooth random images in 0..1 (blobs and gradients, not white noise), plus black and white."""
    rng = np.random.default_rng(0)
    coarse = rng.random((n, 1, 6, 6)).astype(np.float32)
    faces = torch.nn.functional.interpolate(torch.from_numpy(coarse), size=(48, 48), mode="bicubic",
                                            align_corners=False).clamp(0, 1).numpy()
    faces[0], faces[1] = 0.0, 1.0
    return np.ascontiguousarray(faces, dtype=np.float32)


def test_rebuilt_network_matches_onnx_runtime_on_synthetic_faces(shipped_model: Path) -> None:
    faces = _synthetic_faces()
    expected = _onnx_probabilities(shipped_model, faces)
    net, info = net_from_onnx(shipped_model)
    assert np.abs(_torch_probabilities(net, shipped_model, faces) - expected).max() <= TOLERANCE
    # With BatchNorm statistics measured on faces, eval mode is still the same function.
    net, _ = net_from_onnx(shipped_model, torch.from_numpy(_synthetic_faces(96)))
    assert np.abs(_torch_probabilities(net, shipped_model, faces) - expected).max() <= TOLERANCE
    assert info["kind"] == "onnx" and info["sha256"] == sha256_of_file(shipped_model)
    assert info["path"] == str(shipped_model)


def test_other_model_config_is_refused(shipped_model: Path) -> None:
    with pytest.raises(ValueError, match="model config"):
        load_onnx_weights(EmotionNet(ModelConfig(widths=(8, 16, 32, 32))), shipped_model)


@pytest.fixture(scope="module")
def public_faces(fer2013_npz: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(PublicTest faces, their labels, 2,048 Training faces) as model input."""
    splits, _ = load_splits(fer2013_npz)
    return splits["public"].tensor(), splits["public"].labels, splits["train"].tensor()[:2048]


def test_rebuilt_network_matches_onnx_runtime_on_public_test_faces(
        shipped_model: Path, public_faces: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    faces, _, train_faces = public_faces
    net, _ = net_from_onnx(shipped_model, torch.from_numpy(train_faces))
    got = _torch_probabilities(net, shipped_model, faces[:512])
    assert np.abs(got - _onnx_probabilities(shipped_model, faces[:512])).max() <= TOLERANCE


def test_train_mode_continues_the_shipped_model(
        shipped_model: Path, public_faces: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Batch statistics must not undo the warm start: accuracy with BatchNorm in train mode
    (batches of 128, as in training) stays near eval mode (measured: 68.5 % vs 69.2 % on all of
    PublicTest; with unit BatchNorms it falls to 62 %)."""
    faces, labels, train_faces = public_faces
    net, _ = net_from_onnx(shipped_model, torch.from_numpy(train_faces))
    x, y = torch.from_numpy(faces[:1024]), torch.from_numpy(labels[:1024])
    with torch.no_grad():
        eval_acc = float((net(x).argmax(1) == y).float().mean())
        net.train()
        net.dropout.eval()
        for m in net.modules():  # batch statistics, but leave the stored ones alone
            if isinstance(m, torch.nn.BatchNorm2d):
                m.track_running_stats = False
                m.running_mean = m.running_var = None
        train_acc = float(torch.cat([net(x[i:i + 128]) for i in range(0, len(y), 128)]).argmax(1).eq(y).float().mean())
    assert eval_acc > 0.65
    assert train_acc >= eval_acc - 0.03, (train_acc, eval_acc)


def test_training_from_onnx_records_its_origin(shipped_model: Path, fer2013_npz: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(data=fer2013_npz, out_dir=tmp_path, epochs=1, batch_size=64, lr=0.001, warmup_epochs=0.5,
                      max_per_split=128, threads=1, device="cpu", init_from=shipped_model, keep_epochs=True)
    best = train(cfg)
    ck = torch.load(best, map_location="cpu", weights_only=False)
    assert ck["init_from"]["kind"] == "onnx"
    assert ck["init_from"]["sha256"] == sha256_of_file(shipped_model)
    assert ck["config"]["init_from"] == str(shipped_model)
    # A warm start at a tiny LR is still the shipped model: far above chance on PublicTest.
    assert max(ck["public_acc"]) > 0.5
    assert {p.name for p in tmp_path.glob("epoch_*.pt")} == {"epoch_001_raw.pt", "epoch_001_ema.pt"}
    assert json.loads((tmp_path / "history.jsonl").read_text().splitlines()[0])["public_ferplus_raw"][1] > 0.5


def test_model_card_names_the_onnx_file_a_run_started_from() -> None:
    ck = {"config": {"epochs": 17, "lr": 0.015, "seed": 0, "init_from": "models/emotion.onnx"}, "epoch": 12,
          "history": [{}] * 17, "public_acc": [0.69, 0.70],
          "init_from": {"kind": "onnx", "path": "models/emotion.onnx", "sha256": "ab" * 32, "epoch": 35,
                        "checkpoint_sha256": "cd" * 32, "public_acc": [0.692, 0.6935]}}
    cycles = training_cycles(ck)
    assert cycles[0] == {"init_from_onnx": "models/emotion.onnx", "onnx_sha256": "ab" * 32,
                         "exported_from_checkpoint_sha256": "cd" * 32, "best_epoch": 35,
                         "public_acc": [0.692, 0.6935]}
    assert cycles[1]["init_from"] == "models/emotion.onnx" and cycles[1]["epochs_run"] == 17
