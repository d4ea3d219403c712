"""The name reader's recogniser seen from its last layer: features, targets and samples to refit it.

``training.text_head`` says what is refitted and why. Here: where the last linear layer is in
the ONNX graph (``find_head``), which classes are refitted (``trainable_classes``), the
recogniser run with that layer's input as an extra output (``FeatureReader``), and the samples
kept for training (``build_shard`` writes them, ``load_samples`` reads them back).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from models.ort_session import ort
from models.text_reader import DEFAULT_DICT_PATH, DEFAULT_REC_PATH, OnnxTextReader, recognition_batch, recognition_width
from training.data import sha256_of_file
from training.name_corpus import NameMaker
from training.name_crops import LabelCrop, label_crops

CJK_START = 0x2E80  # CJK radicals onwards: the columns left as shipped


@dataclass(frozen=True)
class Head:
    """Where the recogniser's last linear layer is: its input tensor and its two initializers."""

    features: str
    weight: str
    bias: str


def find_head(model: onnx.ModelProto) -> Head:
    """The final ``MatMul`` by an initializer ``(D, classes)`` and the ``Add`` of its bias."""
    inits = {t.name: t for t in model.graph.initializer}
    nodes = list(model.graph.node)
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if node.op_type == "MatMul" and node.input[1] in inits and len(inits[node.input[1]].dims) == 2:
            for later in nodes[i + 1:]:
                if later.op_type == "Add" and node.output[0] in later.input:
                    bias = [n for n in later.input if n in inits]
                    if bias:
                        return Head(node.input[0], node.input[1], bias[0])
    raise ValueError("no final MatMul + Add over initializers in the recogniser")


def read_dictionary(path: Path = DEFAULT_DICT_PATH) -> list[str]:
    """The recogniser's classes in output order: blank, the dictionary, space."""
    return ["", *path.read_text(encoding="utf-8").splitlines(), " "]


def trainable_classes(classes: list[str]) -> np.ndarray:
    """Indices of the classes refitted: blank, space and every character before the CJK blocks."""
    return np.array([i for i, c in enumerate(classes) if i == 0 or (len(c) == 1 and ord(c) < CJK_START)],
                    np.int64)


class FeatureReader:
    """The shipped recogniser with its last layer's input as a second output.

    ``features(crop)`` gives ``(T, D)`` float32 per output step, computed on the same input the
    product's reader builds (``models.text_reader.recognition_batch``).
    """

    def __init__(self, rec_path: Path = DEFAULT_REC_PATH, threads: int = 1):
        model = onnx.load(str(rec_path))
        self.head = find_head(model)
        inits = {t.name: t for t in model.graph.initializer}
        self.weight = numpy_helper.to_array(inits[self.head.weight]).astype(np.float32)
        self.bias = numpy_helper.to_array(inits[self.head.bias]).astype(np.float32)
        model.graph.output.append(onnx.helper.make_tensor_value_info(self.head.features, onnx.TensorProto.FLOAT,
                                                                     None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def features(self, crop: np.ndarray) -> np.ndarray:
        """``(T, D)`` float32: the last layer's input at each output step of one BGR line crop."""
        width = recognition_width(crop)
        if width == 0:
            raise ValueError(f"crop too small to read: {crop.shape}")
        batch = recognition_batch([crop], [width])
        feats = self.session.run([self.head.features], {self.input: batch})[0]
        return np.asarray(feats[0], np.float32)


@dataclass
class Samples:
    """Crops as the training sees them: per-step features, the frozen columns' log-sum-exp and
    best score (for decoding), and each crop's target as class indices."""

    feats: list[np.ndarray]  # (T, D) float16
    frozen_lse: list[np.ndarray]  # (T,) float32
    frozen_max: list[np.ndarray]  # (T,) float32
    targets: list[np.ndarray]  # class indices
    texts: list[str]

    def __len__(self) -> int:
        return len(self.feats)


def _encode(text: str, index: dict[str, int]) -> np.ndarray | None:
    """``text`` as class indices; None if a character is not in the recogniser's dictionary."""
    out = [index.get(ch) for ch in text]
    return None if any(i is None for i in out) else np.array(out, np.int64)


def build_shard(path: Path, seed: int, galleries: int, rec_path: Path, threads: int, exclude: set[str]) -> int:
    """Render ``galleries`` galleries from ``seed``, cut their labels, keep what training needs.

    The shard also keeps how each label was drawn (font, style, text size, JPEG quality) and what
    the base model read, to look at errors by condition, and ``meta``: the base model's sha256
    and the seed, which a resumed run checks (``shard_meta``) before reusing the shard.
    """
    classes = read_dictionary()
    index = {c: i for i, c in enumerate(classes) if c}
    frozen = np.setdiff1d(np.arange(len(classes)), trainable_classes(classes))
    reader = OnnxTextReader(rec_path=rec_path, threads=threads)
    feature_reader = FeatureReader(rec_path, threads)
    w_frozen, b_frozen = feature_reader.weight[:, frozen], feature_reader.bias[frozen]
    rows: dict[str, list] = {k: [] for k in ("feats", "lse", "max", "target", "text", "read", "font", "style", "px",
                                             "jpeg")}
    crop: LabelCrop
    for crop in label_crops(reader, NameMaker(seed, exclude), seed, galleries):
        target = _encode(crop.text, index)
        if target is None or recognition_width(crop.image) == 0:
            continue
        feats = feature_reader.features(crop.image).astype(np.float16)  # as stored and trained on
        scores = feats.astype(np.float32) @ w_frozen + b_frozen
        top = scores.max(axis=1)
        rows["feats"].append(feats)
        rows["lse"].append((top + np.log(np.exp(scores - top[:, None]).sum(axis=1))).astype(np.float32))
        rows["max"].append(top.astype(np.float32))
        rows["target"].append(target)
        for key in ("text", "read", "font", "style", "px", "jpeg"):
            rows[key].append(getattr(crop, key))
    reader.close()
    lengths = np.array([len(f) for f in rows["feats"]], np.int32)
    t_lengths = np.array([len(t) for t in rows["target"]], np.int32)
    np.savez(path.with_suffix(".tmp.npz"), lengths=lengths, t_lengths=t_lengths,
             feats=np.concatenate(rows["feats"]) if rows["feats"] else np.zeros((0, 120), np.float16),
             lse=np.concatenate(rows["lse"]) if rows["lse"] else np.zeros(0, np.float32),
             max=np.concatenate(rows["max"]) if rows["max"] else np.zeros(0, np.float32),
             target=np.concatenate(rows["target"]) if rows["target"] else np.zeros(0, np.int64),
             text=np.array(rows["text"], dtype=str), read=np.array(rows["read"], dtype=str),
             font=np.array(rows["font"], dtype=str), style=np.array(rows["style"], dtype=str),
             px=np.array(rows["px"], np.int32), jpeg=np.array(rows["jpeg"], np.int32),
             meta=np.array(shard_meta_of(sha256_of_file(rec_path), seed)))
    path.with_suffix(".tmp.npz").rename(path)
    return len(lengths)


def shard_meta_of(base_sha256: str, seed: int) -> str:
    """What a shard was built from: the base recogniser's sha256 and the seed."""
    return f"base {base_sha256} seed {seed}"


def shard_meta(path: Path) -> str:
    """The ``shard_meta_of`` a shard was written with ("" for one without)."""
    with np.load(path) as z:
        return str(z["meta"]) if "meta" in z.files else ""


def load_samples(paths: list[Path]) -> Samples:
    """Every crop of the shards at ``paths``."""
    out = Samples([], [], [], [], [])
    for path in paths:
        with np.load(path) as z:
            if len(z["lengths"]) == 0:
                continue  # np.split of nothing would give one empty crop
            step_ends = np.cumsum(z["lengths"])
            target_ends = np.cumsum(z["t_lengths"])
            out.feats += np.split(z["feats"], step_ends[:-1])
            out.frozen_lse += np.split(z["lse"], step_ends[:-1])
            out.frozen_max += np.split(z["max"], step_ends[:-1])
            out.targets += np.split(z["target"], target_ends[:-1])
            out.texts += [str(t) for t in z["text"]]
    return out



