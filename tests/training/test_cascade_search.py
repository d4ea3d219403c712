"""``training.cascade_search``: the read stages of a two-network file, scored from readings made
once, exactly as the joined file will read, and chosen within a budget of reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from toy_emotion_model import GOOD_METADATA, toy_model

from models.emotion_classifier import OnnxEmotionClassifier
from models.view_cascade import VIEWS, Read, ViewCascade
from training.cascade_search import Measure, main, read_views, score, search
from training.partner import write_joined

ONE_VIEW = {**GOOD_METADATA, "temperature": "1.0"}


def test_a_scored_cascade_reads_faces_as_the_joined_file_does(tmp_path: Path) -> None:
    faces = np.random.default_rng(3).random((60, 1, 48, 48), dtype=np.float32) * 30
    a = toy_model(tmp_path / "a.onnx", metadata=ONE_VIEW, seed=0)
    b = toy_model(tmp_path / "b.onnx", metadata=ONE_VIEW, seed=1)
    cascade = ViewCascade(((Read(0, "face"),), (Read(1, "mirror"),), (Read(0, "zoom_mirror"), Read(1, "zoom"))),
                          (0.9, 0.6))
    labels = np.arange(60) % 7
    scored = score({"toy": Measure(read_views((a, b), faces), labels)}, cascade)
    with OnnxEmotionClassifier(write_joined(a, b, cascade, tmp_path / "j.onnx", faces[:4]), threads=1) as clf:
        top = clf.predict(faces).argmax(axis=1)
        assert scored.reads["toy"] == clf.views_read / 60
    assert scored.accuracy["toy"] == (top == labels).mean()
    assert 1.0 < scored.reads["toy"] < 4.0  # some faces went on to later stages, not all


def _measure(n: int = 70) -> Measure:
    """A unsure of every face (each of its views a little noise); B reads every view right,
    5 logits ahead of the other classes."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 7
    readings = {Read(0, v): rng.normal(scale=0.1, size=(n, 7)) for v in VIEWS}
    readings |= {Read(1, v): np.eye(7)[labels] * 5.0 for v in VIEWS}
    return Measure(readings, labels)


def test_the_search_reads_the_partner_that_knows_and_keeps_to_the_budget() -> None:
    found = search({"toy": _measure()}, {"toy": 2.0})
    best = found[0]
    # Every face is unsure after A's face, so the second stage is read for all; with B in it the
    # mean of two reads is softmax(5 / 2 on the label) = e^2.5 / (e^2.5 + 6) ~ 0.67 sure.
    assert best.accuracy["toy"] == 1.0 and best.reads["toy"] == 2.0
    assert {r.network for r in best.cascade.stages[1]} == {1}
    assert best.cascade.below[1] < 0.67  # a third stage would have broken the budget
    assert all(s.reads["toy"] <= 2.0 for s in found)
    # A reading its own mirror second leaves every face unsure: that shape needs four reads.
    assert not any(s.cascade.stages[1] == (Read(0, "mirror"),) for s in found)
    assert search({"toy": _measure()}, {"toy": 1.5}) == []


def test_the_live_file_scores_its_card_accuracy_and_a_cascade_comes_out(
        shipped_model: Path, fer2013_npz: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The live file as both networks: its own cascade, scored from readings, gives the PublicTest
    accuracy its card measured with the runtime, and the chosen cascade is one the runtime takes."""
    live = shipped_model.with_name("emotion_int8.onnx")
    card = json.loads(shipped_model.with_suffix(".json").read_text(encoding="utf-8"))
    assert main([str(live), str(live), "--data", str(fer2013_npz), "--proxy-faces", "40", "--top", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("A alone") and f"FER2013 {card['fast_variant_int8']['public_test_accuracy']:.2%}" in out[0]
    chosen = ViewCascade.from_json(out[-1].removeprefix("--cascade '").removesuffix("'"))
    assert chosen.networks == {0, 1} and chosen.stages[0] == (Read(0, "face"),)


def test_a_budget_no_candidate_meets_is_one_line(shipped_model: Path, fer2013_npz: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    live = str(shipped_model.with_name("emotion_int8.onnx"))
    assert main([live, live, "--data", str(fer2013_npz), "--proxy-faces", "20", "--max-reads", "1.0"]) == 1
    assert "no candidate reads at most 1.00 views a face" in caplog.text
