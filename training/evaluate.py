"""Accuracy of an exported ONNX model on a FER2013 test split, through ONNX Runtime.

``python -m training.evaluate models/emotion.onnx --split private --out-dir runs/eval``
(wired as ``classmood eval``). It runs the exact file that ships, through the runtime wrapper
and the shared preprocessing, so the number it reports is the number users get. It scores the
full split against the original FER2013 labels (no cleaning of test rows, no FER+ relabelling),
the convention published FER2013 results use. No torch import: this runs in the app's venv.

Writes ``confusion_<split>.png`` (rows normalised, counts annotated), ``metrics_<split>.md``
and ``metrics_<split>.json`` into the output folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from tqdm import tqdm

from models.emotion_classifier import OnnxEmotionClassifier
from training.data import DEFAULT_DATA, load_splits
from vocab.errors import ClassMoodError, ConfigError, exit_code

log = logging.getLogger(__name__)

TEST_SPLITS = ("public", "private")
_SPLIT_TITLE = {"public": "PublicTest", "private": "PrivateTest"}


@dataclass(frozen=True)
class Evaluation:
    """Scores of one model on one split.

    ``confusion[i, j]`` counts faces whose FER2013 label is class ``i`` and whose top
    prediction is class ``j``. ``recall[i]`` and ``precision[i]`` are per class, in label
    order; precision is 0 for a class the model never predicts.
    """

    model_path: str
    model_sha256: str
    split: str
    labels: tuple[str, ...]
    n: int
    accuracy: float
    recall: tuple[float, ...]
    precision: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]

    @classmethod
    def from_predictions(cls, y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...], split: str,
                         model_path: str, model_sha256: str) -> Evaluation:
        """Build from ``(n,)`` true and predicted class indices."""
        k = len(labels)
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (y_true, y_pred), 1)
        support, predicted = cm.sum(axis=1), cm.sum(axis=0)
        diag = np.diag(cm).astype(np.float64)
        recall = np.divide(diag, support, out=np.zeros(k), where=support > 0)
        precision = np.divide(diag, predicted, out=np.zeros(k), where=predicted > 0)
        return cls(model_path=model_path, model_sha256=model_sha256, split=split, labels=tuple(labels),
                   n=int(cm.sum()), accuracy=float(diag.sum() / max(1, cm.sum())),
                   recall=tuple(map(float, recall)), precision=tuple(map(float, precision)),
                   confusion=tuple(tuple(map(int, row)) for row in cm))

    def to_dict(self) -> dict:
        """JSON-ready, per-class values keyed by class name."""
        return {"model_path": self.model_path, "model_sha256": self.model_sha256, "split": self.split,
                "n": self.n, "accuracy": self.accuracy, "labels": list(self.labels),
                "recall": dict(zip(self.labels, self.recall, strict=True)),
                "precision": dict(zip(self.labels, self.precision, strict=True)),
                "confusion": [list(r) for r in self.confusion]}

    def table_markdown(self) -> str:
        """Per-class table (support, recall, precision) with the overall accuracy."""
        support = [sum(row) for row in self.confusion]
        lines = [f"# {_SPLIT_TITLE.get(self.split, self.split)}: accuracy {self.accuracy:.4f} "
                 f"({self.n} faces, FER2013 labels)", "",
                 f"Model `{self.model_path}` (sha256 `{self.model_sha256}`)", "",
                 "| class | faces | recall | precision |", "|---|---:|---:|---:|"]
        for name, s, r, p in zip(self.labels, support, self.recall, self.precision, strict=True):
            lines.append(f"| {name} | {s} | {r:.3f} | {p:.3f} |")
        lines.append(f"| **mean** | {self.n} | {np.mean(self.recall):.3f} | {np.mean(self.precision):.3f} |")
        return "\n".join(lines) + "\n"


def predict_classes(clf: OnnxEmotionClassifier, faces: np.ndarray, batch_size: int = 256,
                    progress: bool = True, desc: str = "evaluate") -> np.ndarray:
    """Top class index ``(n,)`` for faces ``(n, 1, 48, 48)``, in batches, with a progress bar."""
    out = np.empty(len(faces), dtype=np.int64)
    starts = range(0, len(faces), batch_size)
    for i in tqdm(starts, desc=desc, unit="batch", file=sys.stderr, disable=not progress, mininterval=1.0):
        out[i:i + batch_size] = clf.predict(faces[i:i + batch_size]).argmax(axis=1)
    return out


def evaluate(model_path: Path, split: str, data: Path = DEFAULT_DATA, threads: int | None = None,
             progress: bool = True) -> Evaluation:
    """Score the ONNX file on the full ``public`` or ``private`` split against FER2013 labels."""
    if split not in TEST_SPLITS:
        raise ValueError(f"split must be one of {TEST_SPLITS}, got {split!r}")
    with OnnxEmotionClassifier(model_path, threads=threads) as clf:  # a bad model fails before the data loads
        test = load_splits(data)[0][split]
        pred = predict_classes(clf, test.tensor(), progress=progress, desc=_SPLIT_TITLE[split])
        result = Evaluation.from_predictions(test.labels, pred, clf.labels, split, str(model_path), clf.sha256)
    log.info("%s: accuracy %.4f on %d faces", _SPLIT_TITLE[split], result.accuracy, result.n)
    return result


def save_confusion_png(result: Evaluation, path: Path) -> Path:
    """Confusion matrix as a PNG: rows (true class) normalised to 1, each cell shows % and count."""
    cm = np.array(result.confusion, dtype=np.float64)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    k = len(result.labels)
    # Figure + Agg canvas directly: no pyplot global state, no backend switch at import.
    fig = Figure(figsize=(7.5, 6.5), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(rows, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{rows[i, j]:.0%}\n{int(cm[i, j])}", ha="center", va="center", fontsize=8,
                    color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), result.labels, rotation=35, ha="right")
    ax.set_yticks(range(k), [f"{name} ({int(cm[i].sum())})" for i, name in enumerate(result.labels)])
    ax.set_xlabel("predicted")
    ax.set_ylabel("FER2013 label (faces)")
    ax.set_title(f"{_SPLIT_TITLE.get(result.split, result.split)}: accuracy {result.accuracy:.1%} "
                 f"({result.n} faces)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def write_report(result: Evaluation, out_dir: Path) -> dict[str, Path]:
    """PNG, markdown table and JSON for one evaluation; returns their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"png": out_dir / f"confusion_{result.split}.png", "markdown": out_dir / f"metrics_{result.split}.md",
             "json": out_dir / f"metrics_{result.split}.json"}
    save_confusion_png(result, paths["png"])
    paths["markdown"].write_text(result.table_markdown(), encoding="utf-8")
    paths["json"].write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return paths


def evaluate_and_report(model: Path, split: str = "private", data: Path | None = None,
                        out_dir: Path = Path("runs/eval"), threads: int | None = None) -> int:
    """Evaluate, write the report, print the per-class table; returns 0 (errors raise ``ClassMoodError``)."""
    data = data or DEFAULT_DATA
    if not data.is_file():
        raise ConfigError(f"eval: FER2013 data not found at {data} (pass --data PATH to fer2013.npz)")
    result = evaluate(model, split, data, threads=threads)
    paths = write_report(result, out_dir)
    print(result.table_markdown())
    print("wrote " + ", ".join(str(v) for v in paths.values()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """CLI: evaluate, write the report, print the per-class table. Returns the exit code."""
    p = argparse.ArgumentParser(prog="classmood eval", description="Score an emotion ONNX model on FER2013.")
    p.add_argument("model", type=Path, metavar="MODEL.onnx")
    p.add_argument("--split", choices=TEST_SPLITS, default="private",
                   help="private: the number to report (once); public: for choosing")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz")
    p.add_argument("--out-dir", type=Path, default=Path("runs/eval"), help="where the PNG/markdown/JSON go")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return evaluate_and_report(args.model, args.split, args.data, args.out_dir, args.threads)
    except ClassMoodError as e:
        log.error("%s", e)
        return exit_code(e)


if __name__ == "__main__":
    raise SystemExit(main())
