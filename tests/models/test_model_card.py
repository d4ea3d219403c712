"""The shipped model card (``models/emotion.json``) says what the issue requires and describes the file that ships.

A card written for an earlier model is worse than none: users would read numbers that are not
the model they run. So the card's ONNX sha256 must be the shipped file's, and its accuracy
fields must be the ones the evaluation wrote (recall/precision for all seven classes).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from vocab.labels import EMOTIONS

MODELS = Path(__file__).resolve().parents[2] / "models"


def _card() -> dict:
    return json.loads((MODELS / "emotion.json").read_text(encoding="utf-8"))


def test_card_describes_the_shipped_onnx_file() -> None:
    card = _card()
    sha = hashlib.sha256((MODELS / "emotion.onnx").read_bytes()).hexdigest()
    assert card["onnx"]["sha256"] == sha, "models/emotion.json is stale: rebuild it with python -m training.model_card"
    fast = card.get("fast_variant_int8")
    if fast:
        assert hashlib.sha256((MODELS / "emotion_int8.onnx").read_bytes()).hexdigest() == fast["sha256"]


def test_card_holds_every_required_field() -> None:
    card = _card()
    assert card["architecture"] and card["parameters"] > 0 and card["mflops_per_face"] > 0
    training = card["training"]
    assert training["command"].startswith("python -m training.train")
    assert len(training["data_sha256"]) == 64 and training["epochs"] >= 1 and isinstance(training["seed"], int)
    ev = card["evaluation"]
    for split in ("public_test", "private_test"):
        assert 0 < ev[f"{split}_accuracy"] <= 1
        assert set(ev[split]["recall"]) == set(EMOTIONS) == set(ev[split]["precision"])
        assert ev[split]["accuracy"] == ev[f"{split}_accuracy"]
    assert (MODELS.parent / ev["confusion_matrix_png"]).is_file()
    assert card["speed"]["ms_per_49_faces_median"] > 0
