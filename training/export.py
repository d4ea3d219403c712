"""Checkpoint -> the shipped ONNX file: ``python -m training.export CHECKPOINT --out models/emotion.onnx``.

The file follows the contract that ``models.emotion_classifier`` checks at load: one input
``face`` float32 ``(N, 1, 48, 48)`` (pixels/255, mean/std inside the graph), one output
``probabilities`` float32 ``(N, 7)`` in FER2013 order, and metadata (labels, input spec, model
config, flip flag) so the runtime reads them instead of repeating them.

Before the file is moved into place, ONNX Runtime must reproduce PyTorch on real PublicTest
faces (max abs difference <= 1e-4); otherwise nothing is written and the command exits 1.
``--compare-flip`` reports plain vs mirror-averaged PublicTest accuracy, so the flip flag is
chosen on PublicTest only (PrivateTest is reported once, by ``training.evaluate``).
``--view-cascade A B`` writes a graph of one view whose metadata asks the runtime to add the
mirror and zoomed views only to unsure faces (``models.view_cascade``); parity is then checked
on the graph, and ``tests/training/test_export_view_cascade.py`` holds the runtime's four views to
the four-view graph's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from models.emotion_classifier import OnnxEmotionClassifier
from models.preprocessing import FACE_SIZE_PX
from models.view_cascade import VIEW_CASCADE_KEY, ViewCascade
from training.config import DEFAULT_DATA
from training.data import Split, load_splits, sha256_of_file
from training.model import EmotionNet, ExportedEmotionNet, load_checkpoint
from training.onnx_weights import net_from_onnx
from training.train import public_accuracy
from vocab.errors import ModelError
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

OPSET = 17
INPUT_NAME = "face"
OUTPUT_NAME = "probabilities"
PARITY_TOLERANCE = 1e-4
PARITY_FACES = 256

INPUT_SPEC = {
    "name": INPUT_NAME,
    "shape": ["N", 1, FACE_SIZE_PX, FACE_SIZE_PX],
    "dtype": "float32",
    "range": [0.0, 1.0],
    "scale": "pixel / 255",
    "colour": "grayscale (OpenCV BGR2GRAY / BGRA2GRAY weights)",
    "size_px": [FACE_SIZE_PX, FACE_SIZE_PX],
    "resize": "cv2.INTER_AREA when shrinking, cv2.INTER_CUBIC when growing",
    "normalisation": "mean/std applied inside the graph; feed pixels/255 only",
    "preprocessing": "models.preprocessing.face_tensor",
}
OUTPUT_SPEC = {
    "name": OUTPUT_NAME,
    "shape": ["N", len(EMOTIONS)],
    "dtype": "float32",
    "meaning": "softmax probabilities, rows sum to 1, FER2013 class order (see labels)",
}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    flip_average: bool
    parity_max_abs_diff: float
    parity_faces: int
    sha256: str


@dataclass(frozen=True)
class FlipComparison:
    """PublicTest top-1 accuracy of the same weights without and with mirror averaging."""

    plain_acc: float
    flip_acc: float
    n: int

    @property
    def flip_helps(self) -> bool:
        return self.flip_acc > self.plain_acc


def load_members(paths: Sequence[Path]) -> tuple[list[EmotionNet], list[dict]]:
    """Networks and checkpoint dicts of every member; they must share one model config.

    A member may be a file this module exported (``.onnx``, one network): its weights are read
    back (``training.onnx_weights``) and its ``training`` metadata stands in for the checkpoint
    dict, so a shipped file can be written again in another shape (a view cascade, say) without
    the checkpoint it came from.
    """
    if not paths:
        raise FileNotFoundError("no checkpoint given")
    loaded = [_load_member(p) for p in paths]
    nets, cks = [n for n, _ in loaded], [c for _, c in loaded]
    configs = {json.dumps(n.cfg.to_dict(), sort_keys=True) for n in nets}
    if len(configs) > 1:
        raise ModelError(f"checkpoints {[str(p) for p in paths]} have different model configs; "
                         "an exported ensemble needs one config")
    return nets, cks


def _load_member(path: Path) -> tuple[EmotionNet, dict]:
    if path.suffix != ".onnx":
        return load_checkpoint(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    net, _ = net_from_onnx(path)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return net, json.loads(meta.get("training", "{}"))


def member_record(ck: dict, checkpoint_sha256: str) -> dict:
    """What the ONNX metadata says about one checkpoint inside the file."""
    return {"epoch": ck.get("epoch"), "weights": ck.get("weights"), "data_sha256": ck.get("data_sha256"),
            "public_acc": ck.get("public_acc"), "checkpoint_sha256": checkpoint_sha256}


def onnx_metadata(net: EmotionNet, cks: Sequence[dict], flip_average: bool, checkpoint_sha256s: Sequence[str],
                  zoom_average: bool = False) -> dict[str, str]:
    """``metadata_props`` of the shipped file (all values are strings; JSON where structured).

    ``training`` describes the first checkpoint (flat, as single-network files always had) and
    lists every member under ``members``.
    """
    members = [member_record(c, h) for c, h in zip(cks, checkpoint_sha256s, strict=True)]
    training = {**members[0], "members": members}
    return {
        "labels": json.dumps(list(EMOTIONS)),
        "input_spec": json.dumps(INPUT_SPEC),
        "output_spec": json.dumps(OUTPUT_SPEC),
        "model_config": json.dumps(net.cfg.to_dict()),
        "flip_average": "true" if flip_average else "false",
        "zoom_average": "true" if zoom_average else "false",
        "ensemble_members": str(len(members)),
        "training": json.dumps(training),
    }


def export_onnx(nets: EmotionNet | Sequence[EmotionNet], out: Path, flip_average: bool, metadata: dict[str, str],
                zoom_average: bool = False) -> None:
    """Write ``ExportedEmotionNet(nets)`` to ``out`` with a dynamic batch axis and the metadata."""
    module = ExportedEmotionNet(nets, flip_average, zoom_average).eval()
    dummy = torch.zeros(2, 1, FACE_SIZE_PX, FACE_SIZE_PX)
    with warnings.catch_warnings():
        # The TorchScript exporter (dynamo=False) announces its own deprecation on every call;
        # it is the one that works without onnxscript. Scoped to this call only.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(module, (dummy,), str(out), dynamo=False, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "N"}, OUTPUT_NAME: {0: "N"}},
                          do_constant_folding=True)
    model = onnx.load(str(out))
    model.producer_name = "classmood"
    model.doc_string = "ClassMood emotion CNN: (N,1,48,48) grayscale faces in 0..1 -> (N,7) FER2013 probabilities"
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(out))


def parity_max_abs_diff(onnx_path: Path, nets: EmotionNet | Sequence[EmotionNet], flip_average: bool,
                        faces: np.ndarray, zoom_average: bool = False) -> float:
    """Max abs difference between ONNX Runtime and PyTorch probabilities on ``faces`` ``(n, 1, 48, 48)``."""
    module = ExportedEmotionNet(nets, flip_average, zoom_average).eval()
    with torch.no_grad():
        expected = module(torch.from_numpy(faces)).numpy()
    with OnnxEmotionClassifier(onnx_path) as clf:
        clf.view_cascade = None  # the graph alone; a cascade's views are the runtime's (tested there)
        got = clf.predict(faces)
    return float(np.abs(got - expected).max())


def public_split(data: Path) -> Split:
    """All PublicTest rows (test splits are never cleaned)."""
    splits, _ = load_splits(data)
    return splits["public"]


def export_checkpoint(checkpoint: Path | Sequence[Path], out: Path, flip_average: bool = True,
                      data: Path = DEFAULT_DATA, parity_faces: int = PARITY_FACES,
                      tolerance: float = PARITY_TOLERANCE, zoom_average: bool = False,
                      view_cascade: ViewCascade | None = None) -> ExportResult:
    """Export, check parity on the first ``parity_faces`` PublicTest faces, then move into ``out``.

    ``checkpoint`` may be several checkpoints of one model config: their logits are averaged
    in the graph (a snapshot ensemble). ``view_cascade`` (with neither average): a one-view
    graph that the runtime reads with that cascade.

    Raises:
        ModelError: ONNX Runtime disagrees with PyTorch by more than ``tolerance``, or the
            written file breaks the runtime contract. ``out`` is left untouched then.
        FileNotFoundError: the checkpoint or the data file is missing.
    """
    if view_cascade is not None and (flip_average or zoom_average):
        raise ValueError("a view cascade is read by the runtime on a graph of one view: no flip or zoom average")
    paths = [checkpoint] if isinstance(checkpoint, Path) else list(checkpoint)
    nets, cks = load_members(paths)
    faces = public_split(data).tensor()[:parity_faces]
    metadata = onnx_metadata(nets[0], cks, flip_average, [sha256_of_file(p) for p in paths], zoom_average)
    if view_cascade is not None:
        metadata[VIEW_CASCADE_KEY] = view_cascade.to_json()
    names = " + ".join(str(p) for p in paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")  # same folder, so os.replace is atomic
    try:
        log.info("exporting %s (flip_average=%s, zoom_average=%s, opset %d)", names, flip_average, zoom_average, OPSET)
        export_onnx(nets, tmp, flip_average, metadata, zoom_average)
        diff = parity_max_abs_diff(tmp, nets, flip_average, faces, zoom_average)
        log.info("parity on %d PublicTest faces: max abs diff %.2e (tolerance %.0e)", len(faces), diff, tolerance)
        if not diff <= tolerance:  # also catches NaN
            raise ModelError(f"ONNX export of {names} failed parity: ONNX Runtime vs PyTorch max abs diff "
                             f"{diff:.2e} > {tolerance:.0e} on {len(faces)} PublicTest faces; {out} not written")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportResult(out, flip_average, diff, len(faces), sha256_of_file(out))


VIEW_SETS = (("plain", False, False), ("flip", True, False), ("flip+zoom", True, True))


def compare_views(nets: EmotionNet | Sequence[EmotionNet], public: Split) -> dict[str, float]:
    """PublicTest accuracy of each test-time view set, to choose the export flags on PublicTest."""
    x = torch.from_numpy(public.tensor())
    return {name: float((ExportedEmotionNet(nets, flip, zoom).eval().classes(x) == public.labels).mean())
            for name, flip, zoom in VIEW_SETS}


def compare_members(paths: Sequence[Path], public: Split) -> dict[str, dict[str, float]]:
    """PublicTest accuracy by view set for each checkpoint alone and, with several, for all of them averaged."""
    nets, _ = load_members(paths)
    table = {str(p): compare_views(n, public) for p, n in zip(paths, nets, strict=True)}
    if len(nets) > 1:
        table["ensemble of all"] = compare_views(nets, public)
    return table


def compare_flip_average(net: EmotionNet, public: Split) -> FlipComparison:
    """Plain vs mirror-averaged accuracy on PublicTest (FER2013 labels), to choose ``--no-flip-average``."""
    x = torch.from_numpy(public.tensor())
    y = torch.from_numpy(public.labels)
    plain, flip = public_accuracy(net, x, y)
    return FlipComparison(plain_acc=plain, flip_acc=flip, n=len(y))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", type=Path, nargs="+",
                   help="best.pt written by training.train; several: export their average (snapshot ensemble)")
    p.add_argument("--out", type=Path, default=Path("models/emotion.onnx"), help="ONNX file to write")
    p.add_argument("--no-flip-average", dest="flip_average", action="store_false",
                   help="do not average each face with its mirror image (half the compute)")
    p.add_argument("--zoom-average", action="store_true",
                   help="also average the slightly enlarged centre of each face (doubles the compute again)")
    p.add_argument("--view-cascade", type=float, nargs=2, metavar=("MIRROR_BELOW", "ZOOM_BELOW"), default=None,
                   help="a graph of one view; the runtime adds the mirror where one view's top probability is "
                        "under MIRROR_BELOW and the zoom pair where two views' is under ZOOM_BELOW")
    p.add_argument("--compare-views", action="store_true",
                   help="only report PublicTest accuracy of plain, flip and flip+zoom views (of each checkpoint "
                        "and of their ensemble); write nothing")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz (PublicTest faces for the checks)")
    p.add_argument("--compare-flip", action="store_true",
                   help="only report PublicTest accuracy with and without mirror averaging; write nothing")
    p.add_argument("--threads", type=int, default=None, help="PyTorch CPU threads (default: all cores)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.compare_views:
            for name, accs in compare_members(args.checkpoint, public_split(args.data)).items():
                print(f"PublicTest accuracy by test-time views, {name}: "
                      + ", ".join(f"{k} {v:.4f}" for k, v in accs.items()))
            return 0
        if args.compare_flip:
            net, _ = load_checkpoint(args.checkpoint[0])
            cmp = compare_flip_average(net, public_split(args.data))
            print(f"PublicTest ({cmp.n} faces): plain {cmp.plain_acc:.4f}, mirror-averaged {cmp.flip_acc:.4f} "
                  f"(mirror averaging doubles the compute) -> "
                  f"{'keep flip averaging' if cmp.flip_helps else 'export with --no-flip-average'}")
            return 0
        cascade = ViewCascade.of_views(*args.view_cascade) if args.view_cascade else None
        flip = args.flip_average and cascade is None
        res = export_checkpoint(args.checkpoint, args.out, flip, args.data, zoom_average=args.zoom_average,
                                view_cascade=cascade)
    except (FileNotFoundError, ModelError, ValueError) as e:
        log.error("%s", e)
        return 1
    print(f"wrote {res.path} (flip_average={res.flip_average}, parity max abs diff {res.parity_max_abs_diff:.2e} "
          f"on {res.parity_faces} PublicTest faces, sha256 {res.sha256})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
