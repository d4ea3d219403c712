"""The shipped OCR models behind ``OnnxTextReader``: the card's checksums, the contract, real reads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from models.text_reader import (
    DEFAULT_DET_PATH,
    DEFAULT_DICT_PATH,
    DEFAULT_REC_PATH,
    SHIPPED_SHA256,
    SUSPECT_CONFIDENCE,
    OnnxTextReader,
    _batches,
)
from tools.name_labels import render_tile
from vocab.errors import ModelError

CARD = Path(__file__).resolve().parents[2] / "models" / "text_reader.md"


@pytest.fixture(scope="module")
def reader():
    with OnnxTextReader(threads=1) as r:
        yield r


def _label(text: str, *, style: str = "zoom", font_px: int = 16, seed: int = 0) -> tuple[np.ndarray, tuple]:
    tile = render_tile(text, style=style, size_wh=(400, 225), font_px=font_px, jpeg_quality=None, seed=seed)
    return tile.image, tile.label_xyxy


def _crop(image: np.ndarray, xyxy: tuple, margin: int = 3) -> np.ndarray:
    x0, y0, x1, y1 = xyxy
    return image[max(0, y0 - margin):y1 + margin, max(0, x0 - margin):x1 + margin]


@pytest.mark.parametrize("path", [DEFAULT_REC_PATH, DEFAULT_DICT_PATH, DEFAULT_DET_PATH], ids=lambda p: p.name)
def test_card_and_code_name_the_shipped_files_checksums(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert SHIPPED_SHA256[path.name] == digest
    card = CARD.read_text(encoding="utf-8")
    row = next((line for line in card.splitlines() if f"`{path.name}`" in line and re.search(r"[0-9a-f]{64}", line)),
               None)
    assert row is not None, f"{CARD.name} has no row with {path.name} and its sha256"
    assert digest in row
    assert f"{path.stat().st_size:,}" in row, f"{CARD.name} states a stale size for {path.name}"


def test_the_loaded_files_are_the_shipped_ones(reader: OnnxTextReader) -> None:
    assert reader.sha256 == {"rec": SHIPPED_SHA256[DEFAULT_REC_PATH.name],
                             "dict": SHIPPED_SHA256[DEFAULT_DICT_PATH.name],
                             "det": SHIPPED_SHA256[DEFAULT_DET_PATH.name]}


def test_reads_a_rendered_word(reader: OnnxTextReader) -> None:
    image, box = _label("Classroom 42")
    [(text, confidence)] = reader.read_lines([_crop(image, box)])
    assert text == "Classroom 42"
    assert confidence > 0.95


def test_reads_diacritics_brackets_and_underscores(reader: OnnxTextReader) -> None:
    image, box = _label("[TA] João_Müller 2023")
    [(text, _)] = reader.read_lines([_crop(image, box)])
    assert text == "[TA] João_Müller 2023"


@pytest.mark.parametrize(("widths", "expected"), [
    ([100, 100, 100, 100, 100, 200], [[0, 1, 2, 3], [4], [5]]),  # at most four; 200 would pad 100 to twice
    ([100, 103, 104, 300, 310], [[0, 1, 2], [3, 4]]),  # a few % of padding is fine, 300 after ~100s is not
    ([64], [[0]]),
    ([], []),
])
def test_recognition_batches_group_crops_of_like_width(widths: list[int], expected: list[list[int]]) -> None:
    assert _batches(list(range(len(widths))), widths, max_batch=4) == expected


def test_a_batch_reads_like_single_calls_and_keeps_order(reader: OnnxTextReader) -> None:
    words = ["Ana", "Omar Haddad", "20231047_Ana M. Souza", "Zoë"]
    crops = [_crop(*_label(w, seed=i)) for i, w in enumerate(words)]
    batched = reader.read_lines(crops)
    single = [reader.read_lines([c])[0] for c in crops]
    assert [t for t, _ in batched] == words
    assert [t for t, _ in single] == words
    np.testing.assert_allclose([c for _, c in batched], [c for _, c in single], atol=0.02)


def test_nothing_to_read(reader: OnnxTextReader) -> None:
    assert reader.read_lines([]) == []
    flat = np.full((20, 120, 3), 40, np.uint8)
    tiny = np.zeros((1, 5, 3), np.uint8)
    (text, confidence), (tiny_text, tiny_conf) = reader.read_lines([flat, tiny])
    assert confidence < 0.5 and (tiny_text, tiny_conf) == ("", 0.0)


def test_a_script_the_model_lacks_is_flagged(reader: OnnxTextReader) -> None:
    """Hangul (no such characters in the dictionary) is read as nothing or look-alikes: confidence capped."""
    image, box = _label("이서연 김민준 20231047", font_px=18)
    [(_, confidence)] = reader.read_lines([_crop(image, box)])
    assert confidence <= SUSPECT_CONFIDENCE


def test_finds_the_label_line(reader: OnnxTextReader) -> None:
    image, (x0, y0, x1, y1) = _label("Omar Haddad", style="meet", font_px=14)
    xyxy, score = reader.find_lines(image)
    assert xyxy.dtype == np.float32 and xyxy.shape[1] == 4 and score.shape == (len(xyxy),)
    ix = np.clip(np.minimum(xyxy[:, 2], x1) - np.maximum(xyxy[:, 0], x0), 0, None)
    iy = np.clip(np.minimum(xyxy[:, 3], y1) - np.maximum(xyxy[:, 1], y0), 0, None)
    assert (ix * iy / ((x1 - x0) * (y1 - y0))).max() > 0.8
    blank = reader.find_lines(np.full((64, 200, 3), 30, np.uint8))
    assert blank[0].shape == (0, 4)


def test_bad_inputs_are_refused(reader: OnnxTextReader) -> None:
    with pytest.raises(ValueError, match="uint8"):
        reader.read_lines([np.zeros((20, 50), np.uint8)])
    with pytest.raises(ValueError, match="uint8"):
        reader.find_lines(np.zeros((20, 50, 3), np.float32))
    with pytest.raises(ValueError):
        OnnxTextReader(threads=0)


def test_missing_or_mismatched_files_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        OnnxTextReader(rec_path=tmp_path / "nope.onnx")
    short = tmp_path / "dict.txt"
    short.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(ModelError, match="output classes"):
        OnnxTextReader(dict_path=short)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a valid ONNX"):
        OnnxTextReader(det_path=junk)


def test_closed_reader_says_so() -> None:
    r = OnnxTextReader(threads=1)
    r.close()
    r.close()
    with pytest.raises(ModelError, match="closed"):
        r.read_lines([np.zeros((10, 10, 3), np.uint8)])
