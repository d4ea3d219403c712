"""Fine-tuning the name recogniser above its backbone: crops kept as pictures, a short fit, and an
export that changes only the layers trained.

Real parts: labels rendered by Qt (offscreen) and cut by the product's ``NameReader``, the
shipped recogniser on ONNX Runtime, torch on CPU, the exported file read back by the product's
``OnnxTextReader``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from models.text_reader import DEFAULT_REC_PATH, OnnxTextReader
from tools.name_labels import name_words, render_tile
from training.text_crops import CropSet, build_crop_shard, crop_shard_meta, ideographs_drawn, load_crops, script_crops
from training.text_features import find_head, read_dictionary, shard_meta, trainable_classes
from training.text_finetune import BACKBONE_OUT, LAST_STAGE_IN, NameRecogniserTop, backbone_columns, export, fit
from training.text_head import build_shards


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text_ft") / "train_0000.npz"
    build_crop_shard(path, seed=23, galleries=2, rec_path=DEFAULT_REC_PATH, threads=1, exclude=name_words())
    return path


def _weights(path: Path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def test_crops_are_kept_as_pictures_with_the_text_they_show(crops: Path) -> None:
    kept = load_crops([crops])
    assert len(kept) >= 10
    assert all(im.ndim == 3 and im.shape[2] == 3 and im.dtype == np.uint8 for im in kept.images)
    assert all(text.strip() for text in kept.texts)


def test_a_resumed_run_refuses_crops_made_from_another_name_corpus(crops: Path, tmp_path: Path) -> None:
    with np.load(crops) as z:
        arrays = {f: z[f] for f in z.files}
    arrays["meta"] = np.array(shard_meta(crops).split(" corpus ")[0])  # as a shard made before the corpus changed
    np.savez(tmp_path / "train_0000.npz", **arrays)
    with pytest.raises(SystemExit, match="seed or corpus"):
        build_shards(tmp_path, "train", 23, 40, DEFAULT_REC_PATH, workers=1, threads=1, exclude=set(),
                     build=build_crop_shard, meta_of=crop_shard_meta)


@pytest.mark.parametrize("start", [BACKBONE_OUT, LAST_STAGE_IN])
def test_a_fit_moves_the_layers_above_its_start_and_latin_columns_only_and_exports_a_readable_model(
        crops: Path, tmp_path: Path, start: str) -> None:
    kept = load_crops([crops])
    columns = backbone_columns(DEFAULT_REC_PATH, kept, threads=1, start=start)
    classes = read_dictionary()
    model = NameRecogniserTop(DEFAULT_REC_PATH, classes, start)
    others = script_crops(DEFAULT_REC_PATH, seed=4, galleries=1, ideographs=ideographs_drawn(classes)[:500])
    assert len(others) >= 8  # Chinese, Japanese and Korean labels cut by the product's reader
    scripts = backbone_columns(DEFAULT_REC_PATH, CropSet(others, [""] * len(others), [""] * len(others),
                                                         [0] * len(others)), threads=1, start=start)
    # The shipped runs' learning rate: at 1e-3, two epochs on these few crops unlearned a letter
    # ("Ana Sou2a") from the model shipped on 2026-11-30.
    report = fit(model, (columns, kept.texts), (columns, kept.texts), tmp_path, epochs=2, lr=3e-4, l2=1e-3, seed=0,
                 keep_scripts=scripts)
    assert len(report["history"]) == 3 and report["history"][1]["train_loss"] > 0
    assert 0.0 <= report["history"][1]["script_agreement_all"] <= 1.0
    out = tmp_path / "rec.onnx"
    export(model, DEFAULT_REC_PATH, out)

    before, after = _weights(DEFAULT_REC_PATH), _weights(out)
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    neck = set(model.neck.names)
    head = find_head(onnx.load(str(DEFAULT_REC_PATH)))
    assert changed and changed <= neck | {head.weight, head.bias}  # the backbone as shipped
    # From the last stage's input, its blocks train too: their 1x1 convolutions are 384 x 768 or 768 x 384.
    assert (start == LAST_STAGE_IN) == any(before[name].shape[:2] == (384, 768) for name in changed)
    keep = trainable_classes(classes)
    frozen = np.setdiff1d(np.arange(len(classes)), keep)
    assert np.array_equal(before[head.weight][:, frozen], after[head.weight][:, frozen])  # CJK columns as shipped
    graph_before, graph_after = onnx.load(str(DEFAULT_REC_PATH)).graph, onnx.load(str(out)).graph
    assert [n.SerializeToString() for n in graph_before.node] == [n.SerializeToString() for n in graph_after.node]

    tile = render_tile("Ana Souza", style="zoom", font_px=16, seed=5)
    x0, y0, x1, y1 = tile.label_xyxy
    with OnnxTextReader(rec_path=out, threads=1) as reader:
        (text, confidence), = reader.read_lines([np.ascontiguousarray(tile.image[y0 - 3:y1 + 3, x0 - 3:x1 + 3])])
    assert text == "Ana Souza" and confidence > 0.9


@pytest.mark.parametrize("module", ["training.text_finetune", "training.text_head"])
def test_a_run_without_a_training_font_refuses_to_start(module: str, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Qt draws a missing family in a fallback font without a word: a run would train on fewer
    typefaces than it says. It stops with one line naming the font and the packages, before any work."""
    import importlib

    import training.name_crops

    monkeypatch.setattr(training.name_crops, "TRAIN_FONTS", (*training.name_crops.TRAIN_FONTS, "No Such Sans 7"))
    main = importlib.import_module(module).main
    assert main(["--out", str(tmp_path / "run"), "--base", str(DEFAULT_REC_PATH)]) == 2
    assert "No Such Sans 7" in caplog.text and "fonts-lato" in caplog.text
    assert not (tmp_path / "run").exists()
