"""Write ``models/emotion.json``: what the shipped emotion model is, how it was made, how good and fast it is.

``python -m training.model_card --checkpoint runs/emotion/best.pt --onnx models/emotion.onnx
--train-command "python -m training.train ..." --wall-time-s 5400 --hardware "..."``

Accuracy is measured on the ONNX file through ONNX Runtime (what users run), on the full
PublicTest and PrivateTest splits against FER2013 labels. Speed is measured on the machine
running this command (median of one ``predict`` on 49 faces, 2 ONNX Runtime threads), so run
it on the hardware named by ``--hardware``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
from pathlib import Path

import onnxruntime as ort

from models.emotion_classifier import OnnxEmotionClassifier
from models.view_cascade import ViewCascade
from training.calibrate import FIT_KEY
from training.data import DEFAULT_DATA, sha256_of_file
from training.evaluate import Evaluation, evaluate, save_confusion_png
from training.export import OPSET, load_members
from training.model import ModelConfig, count_macs, view_count
from training.timing import GALLERY_FACES, cpu_description, split_faces, time_batches
from vocab.errors import ModelError

log = logging.getLogger(__name__)


def architecture_text(cfg: ModelConfig, flip_average: bool, zoom_average: bool = False, members: int = 1) -> str:
    """One paragraph describing ``EmotionNet`` built from ``cfg`` (sizes follow the 48x48 input)."""
    size = math.ceil(48 / cfg.stem_stride)
    w0 = cfg.widths[0]
    parts = [f"Residual CNN for 1x48x48 grayscale faces in 0..1; (x - {cfg.mean}) / {cfg.std} inside the graph.",
             f"Stem: conv3x3 1->{w0} + BN + ReLU at 48x48, conv3x3 stride {cfg.stem_stride} {w0}->{w0} + BN + ReLU "
             f"(-> {size}x{size})."]
    stages = []
    for stage, (width, n_blocks) in enumerate(zip(cfg.widths, cfg.blocks, strict=True)):
        if stage > 0:
            size = math.ceil(size / 2)
        stride = ", first stride 2" if stage > 0 else ""
        stages.append(f"{n_blocks} x residual block {width} ch{stride} ({size}x{size})")
    parts.append("Stages: " + "; ".join(stages) + ". Each block: two conv3x3 + BN (ReLU between and after), "
                 "identity or 1x1-conv + BN shortcut.")
    parts.append(f"Head: global average pool, dropout {cfg.dropout}, linear {cfg.widths[-1]}->{cfg.num_classes}, "
                 "softmax.")
    if flip_average and zoom_average:
        parts.append("Exported with test-time averaging of four views: logits of the face, its horizontal mirror, "
                     "its central 44x44 pixels enlarged to 48x48, and that view's mirror are averaged before the "
                     "softmax (chosen on PublicTest).")
    elif flip_average:
        parts.append("Exported with test-time mirror averaging: logits of the face and its horizontal mirror are "
                     "averaged before the softmax.")
    if members > 1:
        parts.append(f"The file holds {members} snapshots of this network (the end of each learning-rate cycle of "
                     "one training run); their logits are averaged too (chosen on PublicTest).")
    return " ".join(parts)


def training_cycles(ck: dict) -> list[dict]:
    """The learning-rate cycles that produced a checkpoint, oldest first (warm restarts via ``init_from``)."""
    cycles = []
    node: dict | None = ck
    while node:
        if node.get("kind") == "onnx":  # started from an exported file (training.onnx_weights)
            cycles.append({"init_from_onnx": node.get("path"), "onnx_sha256": node.get("sha256"),
                           "exported_from_checkpoint_sha256": node.get("checkpoint_sha256"),
                           "best_epoch": node.get("epoch"), "public_acc": node.get("public_acc")})
            break
        cfg = node.get("config") or {}
        cycles.append({"epochs": cfg.get("epochs"), "lr": cfg.get("lr"), "seed": cfg.get("seed"),
                       "epochs_run": len(node.get("history") or []), "best_epoch": node.get("epoch"),
                       "init_from": cfg.get("init_from"), "public_acc": node.get("public_acc")})
        node = node.get("init_from")
    return cycles[::-1]


def _split_summary(result: Evaluation) -> dict:
    return {"faces": result.n, "accuracy": round(result.accuracy, 4),
            "recall": {k: round(v, 4) for k, v in zip(result.labels, result.recall, strict=True)},
            "precision": {k: round(v, 4) for k, v in zip(result.labels, result.precision, strict=True)},
            "confusion_matrix": [list(r) for r in result.confusion]}


def targets_text(cfg: dict) -> str:
    """How the training targets were built, from a checkpoint's ``config``."""
    w = float(cfg["ferplus_weight"])
    unknown = ("unknown votes spread evenly over the 7 classes" if cfg.get("ferplus_unknown") == "uniform"
               else "unknown votes dropped")
    contempt = ("contempt votes spread as the FER2013 labels of Training faces whose FER+ majority is contempt"
                if cfg.get("ferplus_contempt") == "fer2013" else "contempt votes dropped")
    return (f"{1 - w:g} x FER2013 label (one-hot) + {w:g} x FER+ crowd-vote distribution "
            f"(votes mapped to the 7 FER2013 classes; {contempt}; {unknown}; not-a-face votes dropped; "
            f"rows without usable votes use the label), then label smoothing {cfg['label_smoothing']:g}")


SELECTION = "best PublicTest accuracy (raw or EMA weights, with or without mirror averaging)"


def measurements_section(report: dict, command: str) -> dict:
    """The card's ``measurements_beyond_fer2013`` from a ``training.measure --json`` report."""
    keep = ("n", "fer2013_accuracy", "ferplus_n", "ferplus_accuracy", "ferplus_recall", "calibration_raw",
            "calibration_T_file", "ece_ferplus_raw")
    proxy_keep = ("sampled", "found", "accuracy_proxy", "accuracy_direct_same_faces", "gap", "agreement_with_direct",
                  "framing", "calibration_raw", "calibration_T_file")
    out: dict = {"command": command,
                 "note": "raw = graph output; T_file = the temperature stored in the file (applied by the runtime). "
                         "FER+ majority: faces whose vote majority is one of the 7 classes (ties, contempt, unknown, "
                         "not-a-face left out). Proxy: faces in simulated 1080p gallery tiles read by BlazeFace -> "
                         "face_crops -> model (training/proxy.py).",
                 "temperature": report.get("file_temperature"),
                 "temperature_direct_public_nll_optimal": report.get("temperature_direct_public")}
    for s in ("public", "private"):
        out[s] = {k: report[s][k] for k in keep if k in report[s]}
        out[f"proxy_{s}"] = {k: report[f"proxy_{s}"][k] for k in proxy_keep if k in report[f"proxy_{s}"]}
    return out


def build_card(checkpoint: Path | list[Path], onnx_path: Path, train_command: str, wall_time_s: float,
               hardware: str, data: Path = DEFAULT_DATA,
               confusion_png: Path = Path("models/emotion_confusion_private.png"),
               eval_threads: int | None = None, bench_threads: int = 2, selection: str = SELECTION) -> dict:
    """Everything in the card, measuring accuracy and speed on the way (minutes on a laptop CPU).

    ``checkpoint``: the checkpoint(s) the ONNX file was exported from, in export order.

    Raises:
        ModelError: the ONNX file is unusable or was not exported from ``checkpoint``.
        FileNotFoundError: checkpoint or data missing.
    """
    paths = [checkpoint] if isinstance(checkpoint, Path) else list(checkpoint)
    log.info("[1/5] checkpoints %s", ", ".join(map(str, paths)))
    nets, cks = load_members(paths)
    net, ck = nets[-1], cks[-1]
    ckpt_shas = [sha256_of_file(p) for p in paths]
    with OnnxEmotionClassifier(onnx_path, threads=1) as clf:
        flip, onnx_sha, model_config = clf.flip_average, clf.sha256, clf.model_config
        labels, input_spec, meta = clf.labels, clf.input_spec, clf.metadata
    recorded = json.loads(meta.get("training", "{}"))
    exported_from = [m.get("checkpoint_sha256") for m in recorded.get("members", [recorded])]
    if exported_from != ckpt_shas or ModelConfig.from_dict(model_config) != net.cfg:
        raise ModelError(f"{onnx_path} was not exported from {' + '.join(map(str, paths))}; run "
                         f"`python -m training.export {' '.join(map(str, paths))} --out {onnx_path}` first")
    zoom = meta.get("zoom_average") == "true"
    views = view_count(flip, zoom)
    runs = views * len(nets)
    macs = count_macs(net)
    params = sum(p.numel() for p in net.parameters())
    cfg = ck["config"]
    w = float(cfg["ferplus_weight"])
    cleaning = ck["cleaning"]
    data_sha_file = sha256_of_file(data) if data.is_file() else None

    log.info("[2/5] PublicTest through ONNX Runtime")
    public = evaluate(onnx_path, "public", data, threads=eval_threads)
    log.info("[3/5] PrivateTest through ONNX Runtime")
    private = evaluate(onnx_path, "private", data, threads=eval_threads)
    log.info("[4/5] confusion matrix -> %s", confusion_png)
    save_confusion_png(private, confusion_png)
    log.info("[5/5] speed: %d faces, %d ONNX Runtime threads", GALLERY_FACES, bench_threads)
    timing = {t.batch: t for t in time_batches(onnx_path, threads=bench_threads, faces=split_faces(data))}

    return {
        "name": "ClassMood emotion CNN",
        "task": "7-class facial expression classification of 48x48 grayscale face crops",
        "labels": list(labels),
        "input": input_spec,
        "output": {"name": "probabilities", "shape": ["N", len(labels)], "dtype": "float32",
                   "meaning": "softmax probabilities in FER2013 class order"},
        "architecture": architecture_text(net.cfg, flip, zoom, len(nets)),
        "model_config": net.cfg.to_dict(),
        "parameters": params,
        "ensemble_members": len(nets),
        "parameters_in_file": params * len(nets),
        "macs_per_face": macs,
        "mflops_per_face": round(2 * macs / 1e6, 1),
        "flip_average": flip,
        "zoom_average": zoom,
        "test_time_views": views,
        "mflops_per_face_shipped": round(2 * runs * macs / 1e6, 1),
        "flops_note": "MFLOPs = 2 x multiply-accumulates of convolutions and the linear head for one 48x48 face; "
                      f"the shipped graph runs {len(nets)} network(s) on {views} view(s) of each face "
                      f"(mflops_per_face_shipped = {runs} x mflops_per_face).",
        "training": {
            "command": train_command,
            "data_file": "fer2013.npz (FER2013 + FER+ votes, see ../shared/data/fer2013/README.md)",
            "data_sha256": ck["data_sha256"],
            "data_sha256_matches_local_file": None if data_sha_file is None else data_sha_file == ck["data_sha256"],
            "epochs": int(cfg["epochs"]),
            "epochs_run": len(ck.get("history", [])),
            "best_epoch": int(ck["epoch"]),
            "weights": ck.get("weights"),
            "cycles": training_cycles(ck),
            "members": [{"checkpoint": str(p), "checkpoint_sha256": h, "cycles": len(training_cycles(c)),
                         "best_epoch": c.get("epoch"), "weights": c.get("weights"), "public_acc": c.get("public_acc")}
                        for p, h, c in zip(paths, ckpt_shas, cks, strict=True)],
            "checkpoint_selection": selection,
            "seed": int(cfg["seed"]),
            "targets": targets_text(cfg),
            "targets_weights": {"fer2013_label": 1 - w, "ferplus_votes": w,
                                "label_smoothing": cfg["label_smoothing"]},
            "cleaning": (f"Training split only: {cleaning['blank_dropped']} blank images and "
                         f"{cleaning['test_duplicates_dropped']} exact copies of PublicTest/PrivateTest images "
                         f"and {cleaning.get('not_face_dropped', 0)} faces whose FER+ majority is not-a-face "
                         "dropped; test splits untouched"),
            "cleaning_counts": cleaning,
            "config": cfg,
            "wall_time_s": wall_time_s,
            "hardware": hardware,
            "checkpoint_sha256": ckpt_shas[-1],
        },
        "evaluation": {
            "runtime": f"onnxruntime {ort.__version__} (the shipped ONNX file)",
            "labels": "original FER2013 labels, full splits",
            "public_test": _split_summary(public),
            "private_test": _split_summary(private),
            "public_test_accuracy": round(public.accuracy, 4),
            "private_test_accuracy": round(private.accuracy, 4),
            "confusion_matrix_png": str(confusion_png),
        },
        "onnx": {"path": str(onnx_path), "sha256": onnx_sha, "size_bytes": onnx_path.stat().st_size, "opset": OPSET,
                 "calibration": _calibration_record(meta)},
        "speed": {
            "ms_per_49_faces_median": round(timing[GALLERY_FACES].median_ms, 2),
            "ms_per_49_faces_p90": round(timing[GALLERY_FACES].p90_ms, 2),
            "ms_median_by_batch": {str(b): round(t.median_ms, 2) for b, t in timing.items()},
            "threads": bench_threads,
            "runtime": f"onnxruntime {ort.__version__}, CPUExecutionProvider",
            "hardware": hardware,
            "machine": _machine(),
        },
    }


def views_text(cascade: ViewCascade | None, graph_views: int) -> str:
    """How a model file reads each face: its view cascade, or the views its graph averages
    (``OnnxEmotionClassifier.view_cascade`` and ``graph_views``)."""
    if cascade is not None:
        return f"view cascade (models.view_cascade): {cascade.describe()}"
    return f"{graph_views} view(s) averaged in the graph"


def _calibration_record(meta: dict[str, str]) -> dict | None:
    """How the temperature the runtime applies was chosen (``training.calibrate``), if it was."""
    return json.loads(meta[FIT_KEY]) if FIT_KEY in meta else None


def _machine() -> str:
    return f"{platform.machine()} {platform.system()}, {cpu_description()}"


def fast_variant_section(onnx_path: Path, data: Path, eval_threads: int | None, bench_threads: int,
                         why: str = "") -> dict:
    """Accuracy and speed of the int8 file beside the float one, measured the same way; ``why``
    says why it is the live default."""
    public = evaluate(onnx_path, "public", data, threads=eval_threads)
    private = evaluate(onnx_path, "private", data, threads=eval_threads)
    timing = {t.batch: t for t in time_batches(onnx_path, threads=bench_threads, faces=split_faces(data))}
    with OnnxEmotionClassifier(onnx_path, threads=1) as clf:
        meta, cascade, graph_views = clf.metadata, clf.view_cascade, clf.graph_views
    export = ("python -m training.export CHECKPOINT --view-cascade A B --out F.onnx" if cascade is not None
              else "python -m training.export CHECKPOINT [--zoom-average] --out F.onnx")
    return {
        "path": str(onnx_path), "sha256": sha256_of_file(onnx_path), "size_bytes": onnx_path.stat().st_size,
        "quantization": meta.get("quantization"),
        "views": views_text(cascade, graph_views),
        "how": f"{export}; python -m training.quantize F.onnx --out {onnx_path}; "
               f"python -m training.calibrate {onnx_path} --faces 3589 --write",
        "use": f"the live default (bot.pipeline); classmood run --model {onnx_path} (same input/output contract)",
        "why_default": why,
        "public_test_accuracy": round(public.accuracy, 4),
        "private_test_accuracy": round(private.accuracy, 4),
        "private_test": _split_summary(private),
        "ms_per_49_faces_median": round(timing[GALLERY_FACES].median_ms, 2),
        "ms_median_by_batch": {str(b): round(t.median_ms, 2) for b, t in timing.items()},
        "views_per_face": round(timing[GALLERY_FACES].views_per_face, 2),
        "calibration": _calibration_record(meta),
        "timed_on": "PublicTest faces" if timing[GALLERY_FACES].real_faces else "random pixels",
        "threads": bench_threads,
        "machine": _machine(),
    }


def int8_beside(onnx_path: Path) -> Path:
    """The int8 variant's path next to the float file (``emotion.onnx`` -> ``emotion_int8.onnx``)."""
    return onnx_path.with_name(onnx_path.stem + "_int8.onnx")


def refresh_fast_variant(card_path: Path, onnx_path: Path, data: Path, eval_threads: int | None,
                         why: str) -> dict:
    """The card at ``card_path`` with its ``fast_variant_int8`` section measured afresh for the
    int8 file beside ``onnx_path``; ModelError if the card describes another float file."""
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if card.get("onnx", {}).get("sha256") != sha256_of_file(onnx_path):
        raise ModelError(f"{card_path} describes another file than {onnx_path}; regenerate the whole card")
    card["fast_variant_int8"] = fast_variant_section(int8_beside(onnx_path), data, eval_threads, 2, why)
    return card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.model_card", description=__doc__.split("\n\n")[0])
    p.add_argument("--fast-only", action="store_true",
                   help="only measure the int8 file afresh into the existing card (the float file is unchanged)")
    p.add_argument("--why-fast", default="", help="why the int8 file is the live default (one sentence)")
    p.add_argument("--checkpoint", type=Path, nargs="+",
                   help="best.pt file(s) the ONNX file was exported from, in the same order")
    p.add_argument("--onnx", type=Path, default=Path("models/emotion.onnx"))
    p.add_argument("--train-command", help="the exact command that trained the checkpoint")
    p.add_argument("--wall-time-s", type=float, help="training wall time in seconds")
    p.add_argument("--hardware", help="e.g. 'Intel i5-8250U, 2 cores, 8 GB' (training and speed)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=Path("models/emotion.json"))
    p.add_argument("--confusion-png", type=Path, default=Path("models/emotion_confusion_private.png"))
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads for the accuracy runs")
    p.add_argument("--selection", default=SELECTION, help="how the checkpoint was chosen (one sentence)")
    p.add_argument("--measurements", type=Path, default=None,
                   help="a `training.measure --json` report of the same file: becomes measurements_beyond_fer2013")
    p.add_argument("--measure-command", default="python -m training.measure models/emotion.onnx --json ...",
                   help="the command that wrote --measurements")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.fast_only:
        try:
            card = refresh_fast_variant(args.out, args.onnx, args.data, args.threads, args.why_fast)
        except (ModelError, FileNotFoundError) as e:
            log.error("%s", e)
            return 2
        args.out.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        fast = card["fast_variant_int8"]
        print(f"wrote {args.out}: int8 PrivateTest {fast['private_test_accuracy']:.4f}, "
              f"{fast['ms_per_49_faces_median']:.1f} ms per 49 faces, {fast['views_per_face']:.2f} views a face")
        return 0
    missing = [f"--{k.replace('_', '-')}" for k in ("checkpoint", "train_command", "wall_time_s", "hardware")
               if getattr(args, k) is None]
    if missing:
        p.error(f"the whole card needs {', '.join(missing)} (or --fast-only)")
    try:
        card = build_card(args.checkpoint, args.onnx, args.train_command, args.wall_time_s, args.hardware,
                          args.data, args.confusion_png, eval_threads=args.threads, selection=args.selection)
    except (ModelError, FileNotFoundError) as e:
        log.error("%s", e)
        return 2
    fast = int8_beside(args.onnx)
    if fast.is_file():
        log.info("fast variant %s", fast)
        card["fast_variant_int8"] = fast_variant_section(fast, args.data, args.threads, 2, args.why_fast)
    if args.measurements:
        report = json.loads(args.measurements.read_text(encoding="utf-8"))
        if report.get("model_sha256") != card["onnx"]["sha256"]:
            log.error("%s measured another file (sha256 %s), not %s", args.measurements, report.get("model_sha256"),
                      args.onnx)
            return 2
        card["measurements_beyond_fer2013"] = measurements_section(report, args.measure_command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    ev, speed = card["evaluation"], card["speed"]
    print(f"wrote {args.out}: PublicTest {ev['public_test_accuracy']:.4f}, "
          f"PrivateTest {ev['private_test_accuracy']:.4f}, "
          f"{speed['ms_per_49_faces_median']:.1f} ms per 49 faces ({speed['threads']} threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
