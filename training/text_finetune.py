"""Fine-tune the name reader's recogniser above a point in its convolutional backbone (the
backbone's output, or the input of its last block or last stage: ``--start``), on name labels
cut from rendered galleries.

``training.text_head`` refitted only the output layer and plateaued (validation 91 % exact,
and an extra adapter on its inputs did not help: the features it gets are the limit). Here the
layers that make those features train too: the SVTR neck (a 1x7 convolution, two attention
blocks, the fusing convolutions) and, from ``last-stage``, the backbone's two last blocks, whose
closing (3, 2) average pooling leaves one row per step (a mark above a 10 px letter is in the
top row only). The layers below the start stay as shipped and run once per crop; their output
is kept, so an epoch costs the layers above only. The output layer's CJK columns stay as
shipped (their scores still enter every softmax, computed without gradient); every trainable
weight is pulled toward its shipped value (L2-SP), so what the recogniser knew is kept where
the names do not teach otherwise.

The epoch kept is the one with the most exact reads on validation galleries of other names
(training fonts); ``bench.names`` is not looked at in training. Trained numbers are written into a
copy of the shipped ONNX file (``training.onnx_torch.write_weights``): the graph the product
runs is unchanged.

Run (resumable: crop shards are written once, and the features below the start kept; B is the
refitted file of ``training.text_head``)::

    python -m training.text_finetune --base B --out runs/text_ft --start last-stage --epochs 4 --lr 3e-4 --keep-weight 4

and the shipped model continued that one on new galleries (its output as the base)::

    python -m training.text_finetune --base runs/text_ft/ppocrv6_small_rec.onnx --out runs/text_ft2 \
        --start last-stage --epochs 2 --lr 1e-4 --keep-weight 4 --seed 1 --galleries 1200
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from bot.names import spelling_key
from models.ort_session import ort
from models.text_reader import MIN_CJK_CHAR_PROB, recognition_batch, recognition_width
from tools.name_labels import name_words
from training.data import sha256_of_file
from training.name_crops import fonts_refusal
from training.onnx_torch import OnnxGraphModule, put_weights
from training.text_crops import (
    CropSet,
    build_crop_shard,
    crop_shard_meta,
    ideographs_drawn,
    load_crops,
    save_crops,
    script_crops,
)
from training.text_features import find_head, read_dictionary, shard_meta, trainable_classes
from training.text_head import VALIDATION_SEED, build_shards
from training.text_head_fit import FROZEN_WIN, set_columns

log = logging.getLogger(__name__)

SCRIPT_SEED = 2_000_003  # apart from the training and validation galleries' seeds
BACKBONE_OUT = "p2o.pd_op.pool2d.1.0"  # the backbone's last pooling: (N, 384, 1, T)
# The input of the backbone's last residual block (N, 384, 3, 2T): a depthwise 3x3 convolution and
# two 1x1 ones, then a (3, 2) average pooling that leaves one row per step. Training from here
# lets the block keep what the pooling averages away (a mark above a 10 px letter is in the top
# row only), at 6x the kept numbers per crop.
LAST_BLOCK_IN = "p2o.pd_op.add.60.0"
# The input of the two blocks before it (N, 192, 3, 2T): a 1x1 convolution to 384 channels, a
# depthwise 3x3 one with squeeze-and-excitation, and two 1x1 ones; half the channels to keep.
LAST_STAGE_IN = "p2o.pd_op.add.52.0"
STARTS = {"neck": BACKBONE_OUT, "last-block": LAST_BLOCK_IN, "last-stage": LAST_STAGE_IN}
BATCH = 32
SCRIPT_BATCH = 8  # other-script crops beside each training batch (their loss spans all 18,710 classes)
# Share of the starting model's confident reads of Chinese and Japanese labels (the ones the
# product shows) that an epoch must leave as they were to be kept.
MIN_SCRIPT_AGREEMENT = 0.98


def script_set(path: Path, base: Path, galleries: int) -> CropSet:
    """``text_crops.script_crops`` of ``galleries`` galleries, kept at ``path`` for a later run."""
    meta = crop_shard_meta(sha256_of_file(base), SCRIPT_SEED)
    if not path.exists() or shard_meta(path) != meta:  # none yet, or cut by another reader
        images = script_crops(base, SCRIPT_SEED, galleries, ideographs_drawn(read_dictionary()))
        save_crops(path, CropSet(images, [""] * len(images), [""] * len(images), [0] * len(images)), meta)
    return load_crops([path])


def cached_columns(path: Path, base: Path, crops: CropSet, threads: int, start: str = BACKBONE_OUT,
                   ) -> list[np.ndarray]:
    """``backbone_columns``, kept at ``path`` (with the base's sha256 and ``start``) for a later run to reuse."""
    meta = f"{sha256_of_file(base)} {len(crops)} {start}"
    if path.exists():
        with np.load(path) as z:
            if str(z["meta"]) == meta:
                return np.split(z["columns"], np.cumsum(z["lengths"])[:-1], axis=-1)
    columns = backbone_columns(base, crops, threads, start)
    np.savez(path, columns=np.concatenate(columns, axis=-1), lengths=np.array([c.shape[-1] for c in columns]),
             meta=np.array(meta))
    return columns


def backbone_columns(base: Path, crops: CropSet, threads: int, start: str = BACKBONE_OUT) -> list[np.ndarray]:
    """The tensor ``start`` for each crop, ``(C, H, W)`` float16 (``(384, 1, T)`` at the backbone's
    output, ``(192, 3, 2T)`` at its last stage's input), on the input the product builds."""
    model = onnx.load(str(base))
    model.graph.output.append(onnx.helper.make_tensor_value_info(start, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = []
    started = time.monotonic()
    for i, image in enumerate(crops.images):
        batch = recognition_batch([image], [recognition_width(image)])
        cols = session.run([start], {name: batch})[0]
        out.append(cols[0].astype(np.float16))
        if (i + 1) % 5000 == 0:
            log.info("backbone: %d of %d crops, %.0f s", i + 1, len(crops), time.monotonic() - started)
    return out


class NameRecogniserTop(torch.nn.Module):
    """The recogniser above ``start`` (one of ``STARTS``): the layers between (an ONNX-graph
    module, ``neck``: the SVTR neck and any backbone blocks above ``start``) and the output layer
    split into trainable columns and frozen (CJK) ones."""

    def __init__(self, base: Path, classes: list[str], start: str = BACKBONE_OUT):
        super().__init__()
        proto = onnx.load(str(base))
        head = find_head(proto)
        self.neck = OnnxGraphModule(base, output=head.features, start=start)
        inits = {t.name: t for t in proto.graph.initializer}
        weight = torch.from_numpy(numpy_helper.to_array(inits[head.weight]).copy())
        bias = torch.from_numpy(numpy_helper.to_array(inits[head.bias]).copy())
        self.keep = torch.from_numpy(trainable_classes(classes))
        frozen = np.setdiff1d(np.arange(len(classes)), self.keep.numpy())
        self.weight = torch.nn.Parameter(weight[:, self.keep].clone())
        self.bias = torch.nn.Parameter(bias[self.keep].clone())
        self.register_buffer("frozen_weight", weight[:, frozen].clone())
        self.register_buffer("frozen_bias", bias[frozen].clone())
        self.head = head

    def forward(self, columns: torch.Tensor) -> torch.Tensor:
        """``(B, T, |keep| + 1)`` log-probabilities: trainable classes, then all frozen ones as one."""
        feats = self.neck(columns)
        with torch.no_grad():
            frozen = torch.logsumexp(feats @ self.frozen_weight + self.frozen_bias, dim=-1)
        scores = torch.cat([feats @ self.weight + self.bias, frozen[..., None]], dim=-1)
        return torch.log_softmax(scores, dim=-1)

    def all_log_probs(self, columns: torch.Tensor) -> torch.Tensor:
        """``(B, T, classes)`` log-probabilities over every class (trainable ones first), the frozen
        columns' scores with gradient to the features: what keeping other scripts' reads needs."""
        feats = self.neck(columns)
        scores = torch.cat([feats @ self.weight + self.bias, feats @ self.frozen_weight + self.frozen_bias], dim=-1)
        return torch.log_softmax(scores, dim=-1)


def _stack(columns: list[np.ndarray], idx: np.ndarray) -> torch.Tensor:
    """Crops ``idx`` (the same width) as one ``(B, C, H, W)`` float32 batch."""
    return torch.from_numpy(np.stack([columns[i] for i in idx]).astype(np.float32))


def _greedy(log_probs: torch.Tensor) -> list[tuple[int, ...]]:
    """Each row's greedy CTC read as class positions (repeats merged, blanks, position 0, dropped)."""
    reads = []
    for row in log_probs.argmax(-1).tolist():
        reads.append(tuple(c for k, c in enumerate(row) if c != 0 and (k == 0 or row[k - 1] != c)))
    return reads


def confidently_read(teacher: NameRecogniserTop, columns: list[np.ndarray]) -> list[np.ndarray]:
    """The crops ``teacher`` reads with every character at ``MIN_CJK_CHAR_PROB`` or more: the reads
    the product shows (a less sure CJK read is suspect and gives no name)."""
    out = []
    with torch.no_grad():
        for c in columns:
            probs = teacher.all_log_probs(_stack([c], np.array([0]))).exp()[0]
            top, best = probs.max(-1)
            if bool((best != 0).any()) and float(top[best != 0].min()) >= MIN_CJK_CHAR_PROB:
                out.append(c)
    return out


def agreement(model: NameRecogniserTop, teacher: NameRecogniserTop, columns: list[np.ndarray]) -> float:
    """Share of crops whose greedy read over every class is the teacher's."""
    same = 0
    with torch.no_grad():
        for idx in _by_length(columns, np.random.default_rng(0)):
            x = _stack(columns, idx)
            same += sum(a == b for a, b in zip(_greedy(model.all_log_probs(x)), _greedy(teacher.all_log_probs(x)),
                                               strict=True))
    return same / max(1, len(columns))


def _by_length(columns: list[np.ndarray], rng: np.random.Generator, batch: int = BATCH) -> list[np.ndarray]:
    """Batches of at most ``batch`` crop indices with the same number of steps, in random order."""
    lengths = np.array([c.shape[-1] for c in columns])
    batches = []
    for t in np.unique(lengths):
        idx = rng.permutation(np.flatnonzero(lengths == t))
        batches += [idx[i:i + batch] for i in range(0, len(idx), batch)]
    return [batches[i] for i in rng.permutation(len(batches))]


def exact_share(model: NameRecogniserTop, columns: list[np.ndarray], texts: list[str], classes: list[str]) -> float:
    """Share of crops whose greedy read (a frozen class winning reads as an ideograph) is exact."""
    keep = model.keep.numpy()
    right = 0
    with torch.no_grad():
        for idx in _by_length(columns, np.random.default_rng(0)):
            for i, read in zip(idx, _greedy(model(_stack(columns, idx))), strict=True):
                text = "".join(classes[keep[b]] if b < len(keep) else FROZEN_WIN for b in read)
                right += spelling_key(text) == spelling_key(texts[i])
    return right / max(1, len(texts))


def _targets(texts: list[str], classes: list[str], keep: np.ndarray) -> list[np.ndarray | None]:
    """Each text as trainable-class indices; None where a character is not trainable."""
    index = {classes[k]: j for j, k in enumerate(keep) if classes[k]}
    out: list[np.ndarray | None] = []
    for text in texts:
        ids = [index.get(ch) for ch in text]
        out.append(None if any(i is None for i in ids) else np.array(ids, np.int64))
    return out


def fit(model: NameRecogniserTop, train: tuple[list[np.ndarray], list[str]], val: tuple[list[np.ndarray], list[str]],
        out: Path, *, epochs: int, lr: float, l2: float, seed: int, keep_scripts: list[np.ndarray] | None = None,
        keep_weight: float = 1.0) -> dict:
    """Train with CTC and the pull to the shipped weights, the learning rate falling from ``lr`` to
    0 on a cosine over the run; keep the best validation epoch's state.

    ``keep_scripts``: backbone columns of labels in other scripts (``text_crops.script_crops``); a
    batch of them goes with every training batch, its loss the divergence of the model's reads
    over every class from the starting model's (``keep_weight`` times), so the Chinese and
    Japanese columns, frozen, keep reading what they read. The epoch kept must agree with the
    starting model on at least ``MIN_SCRIPT_AGREEMENT`` of its confident reads (``confidently_read``)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    classes = read_dictionary()
    targets = _targets(train[1], classes, model.keep.numpy())
    with torch.no_grad():  # output steps per input column (the last block's pooling halves them)
        per_column = model(_stack(train[0], np.array([0]))).shape[1] / train[0][0].shape[-1]
    usable = [i for i, t in enumerate(targets)
              if t is not None and 0 < len(t) <= int(train[0][i].shape[-1] * per_column)]
    columns = [train[0][i] for i in usable]
    targets = [targets[i] for i in usable]
    start = {k: p.detach().clone() for k, p in model.named_parameters()}
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * len(_by_length(columns, np.random.default_rng(0)))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, steps))  # lr falls to 0
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    teacher = copy.deepcopy(model).eval().requires_grad_(False)
    scripts = keep_scripts or []
    script_batches: list[np.ndarray] = []
    shown = confidently_read(teacher, scripts)
    log.info("other scripts: %d crops, %d read confidently by the starting model", len(scripts), len(shown))
    best = exact_share(model, *val, classes)
    history = [{"epoch": 0, "val_exact": best, "train_loss": None}]
    log.info("shipped: validation exact %.4f (%d crops); training on %d crops", best, len(val[1]), len(columns))
    torch.save(model.state_dict(), out / "best.pt")
    best_epoch = 0
    for epoch in range(1, epochs + 1):
        started = time.monotonic()
        model.train()
        losses = []
        for idx in _by_length(columns, rng):
            x = _stack(columns, idx)
            log_probs = model(x).transpose(0, 1)
            tgt = [targets[i] for i in idx]
            loss = ctc(log_probs, torch.from_numpy(np.concatenate(tgt)), torch.full((len(idx),), log_probs.shape[0]),
                       torch.tensor([len(t) for t in tgt]))
            if scripts:
                if not script_batches:
                    script_batches = _by_length(scripts, rng, SCRIPT_BATCH)
                xs = _stack(scripts, script_batches.pop())
                target = teacher.all_log_probs(xs)  # (B, steps, classes): the loss is per step
                keep_loss = torch.nn.functional.kl_div(model.all_log_probs(xs), target, log_target=True,
                                                       reduction="batchmean") / target.shape[1]
                loss_total = loss + keep_weight * keep_loss
            else:
                loss_total = loss
            pull = sum(((p - start[k]) ** 2).sum() for k, p in model.named_parameters())
            optimiser.zero_grad()
            (loss_total + l2 * pull).backward()
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
        model.eval()
        score = exact_share(model, *val, classes)
        kept = agreement(model, teacher, shown) if shown else 1.0
        history.append({"epoch": epoch, "val_exact": score, "train_loss": float(np.mean(losses)),
                        "script_agreement_shown": kept,
                        "script_agreement_all": agreement(model, teacher, scripts) if scripts else 1.0})
        log.info("epoch %d: train CTC %.4f, validation exact %.4f (best %.4f), other scripts' confident reads "
                 "kept %.4f (all reads %.4f), %.0f s", epoch, np.mean(losses), score, best, kept,
                 history[-1]["script_agreement_all"], time.monotonic() - started)
        torch.save(model.state_dict(), out / f"epoch_{epoch}.pt")  # to look at any epoch later
        if score > best and kept >= MIN_SCRIPT_AGREEMENT:
            best, best_epoch = score, epoch
            torch.save(model.state_dict(), out / "best.pt")
    return {"train_crops": len(columns), "val_crops": len(val[1]), "best_epoch": best_epoch, "val_exact": best,
            "lr": lr, "l2": l2, "epochs": epochs, "history": history}


def export(model: NameRecogniserTop, base: Path, out_path: Path) -> None:
    """The shipped file with the trained neck and output columns written in."""
    proto = onnx.load(str(base))
    put_weights(model.neck, proto)
    set_columns(proto, model.keep.numpy(), model.weight.detach().numpy(), model.bias.detach().numpy())
    onnx.save(proto, str(out_path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/text_ft"))
    parser.add_argument("--base", type=Path, default=Path("models/ppocrv6_small_rec.onnx"))
    parser.add_argument("--galleries", type=int, default=1600)
    parser.add_argument("--val-galleries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="torch and ONNX Runtime threads")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0, help="0-99: training shards use seeds seed * 10,000 + k")
    parser.add_argument("--script-galleries", type=int, default=150,
                        help="galleries of Chinese, Japanese and Korean labels whose reads must not change")
    parser.add_argument("--keep-weight", type=float, default=1.0, help="weight of keeping those reads")
    parser.add_argument("--start", choices=sorted(STARTS), default="neck",
                        help="train from the backbone's output (neck), its last block's input or its last "
                             "stage's input (the shipped run)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if (refusal := fonts_refusal()) is not None:
        log.error("%s", refusal)
        return 2
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    exclude = name_words()  # the benchmark's words: never trained on
    val_paths, train_paths = (
        build_shards(args.out, kind, seed, galleries, args.base, args.workers, 1, exclude, build=build_crop_shard,
                     meta_of=crop_shard_meta)
        for kind, seed, galleries in (("val", VALIDATION_SEED, args.val_galleries),
                                      ("train", args.seed * 10_000, args.galleries)))
    val, train = load_crops(val_paths), load_crops(train_paths)
    scripts = script_set(args.out / "scripts.npz", args.base, args.script_galleries)
    start = STARTS[args.start]
    model = NameRecogniserTop(args.base, read_dictionary(), start)
    report = fit(model, (cached_columns(args.out / "columns_train.npz", args.base, train, args.threads, start),
                         train.texts),
                 (cached_columns(args.out / "columns_val.npz", args.base, val, args.threads, start), val.texts),
                 args.out, epochs=args.epochs, lr=args.lr, l2=args.l2, seed=args.seed,
                 keep_scripts=cached_columns(args.out / "columns_scripts.npz", args.base, scripts, args.threads,
                                             start),
                 keep_weight=args.keep_weight)
    model.load_state_dict(torch.load(args.out / "best.pt"))
    export(model, args.base, args.out / "ppocrv6_small_rec.onnx")
    report["base_sha256"] = sha256_of_file(args.base)
    report["start"] = start
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    log.info("wrote %s", args.out / "ppocrv6_small_rec.onnx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
