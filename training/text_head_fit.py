"""Fit the recogniser's refitted output columns with CTC loss, and write them into the ONNX file.

See ``training.text_head`` for what is refitted and why. The model here is only
``features @ W_S + b_S`` for the trainable classes S, next to one fixed term per step, the
log-sum-exp of the frozen columns' scores (computed once when the samples were made), so a
softmax over all 18,710 classes costs what one over ~1,750 does. Greedy decoding for the
validation score takes a frozen column's best score as one class that is never the right one.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from bot.names import spelling_key
from training.text_features import FeatureReader, Samples, find_head, read_dictionary, trainable_classes

log = logging.getLogger(__name__)

BATCH = 64
# What a step won by a frozen (CJK) column reads as when scoring: some ideograph, a letter that
# no name here has, so the read counts as wrong (the product would show the ideograph).
FROZEN_WIN = "中"


def _batch(samples: Samples, idx: np.ndarray, remap: np.ndarray) -> tuple[torch.Tensor, ...]:
    """Padded features, frozen log-sum-exp, step counts, targets (in trainable-class order), target lengths."""
    steps = max(len(samples.feats[i]) for i in idx)
    dim = samples.feats[int(idx[0])].shape[1]
    feats = np.zeros((len(idx), steps, dim), np.float32)
    lse = np.full((len(idx), steps), -1e4, np.float32)
    for row, i in enumerate(idx):
        n = len(samples.feats[i])
        feats[row, :n] = samples.feats[i]
        lse[row, :n] = samples.frozen_lse[i]
    targets = np.concatenate([remap[samples.targets[i]] for i in idx])
    return (torch.from_numpy(feats), torch.from_numpy(lse),
            torch.tensor([len(samples.feats[i]) for i in idx]), torch.from_numpy(targets),
            torch.tensor([len(samples.targets[i]) for i in idx]))


def _log_probs(feats: torch.Tensor, lse: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``(B, T, |S| + 1)`` log-probabilities: the trainable classes, then all frozen ones as one."""
    scores = torch.cat([feats @ weight + bias, lse[..., None]], dim=-1)
    return torch.log_softmax(scores, dim=-1)


def exact_share(samples: Samples, weight: np.ndarray, bias: np.ndarray, keep: np.ndarray,
                classes: list[str]) -> float:
    """Share of crops whose greedy CTC read matches their text (casefolded letters and digits)."""
    right = 0
    for feats, frozen_max, text in zip(samples.feats, samples.frozen_max, samples.texts, strict=True):
        scores = feats.astype(np.float32) @ weight + bias
        best = scores.argmax(axis=1)
        best = np.where(scores.max(axis=1) >= frozen_max, keep[best], -1)  # -1: a frozen class won
        chars = []
        prev = 0
        for b in best:
            if b != prev and b != 0:
                chars.append(classes[b] if b >= 0 else FROZEN_WIN)
            prev = b
        right += spelling_key("".join(chars)) == spelling_key(text)
    return right / max(1, len(samples))


def fit(train: Samples, val: Samples, out: Path, *, epochs: int, l2: float, lr: float, seed: int,
        base: Path) -> dict:
    """Fit the trainable columns, starting from and pulled toward those of ``base``; keep the epoch
    with the best validation exact share in ``out/head.npz``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    classes = read_dictionary()
    keep = trainable_classes(classes)
    remap = np.full(len(classes), -1, np.int64)
    remap[keep] = np.arange(len(keep))
    shipped = FeatureReader(base)
    w0 = torch.from_numpy(shipped.weight[:, keep].copy())
    b0 = torch.from_numpy(shipped.bias[keep].copy())
    weight = torch.nn.Parameter(w0.clone())
    bias = torch.nn.Parameter(b0.clone())
    optimiser = torch.optim.Adam([weight, bias], lr=lr)
    ctc = torch.nn.CTCLoss(blank=0, reduction="mean", zero_infinity=True)
    best = exact_share(val, w0.numpy(), b0.numpy(), keep, classes)
    history = [{"epoch": 0, "val_exact": best, "train_loss": None}]
    log.info("shipped layer: validation exact %.4f (%d crops); training on %d crops", best, len(val), len(train))
    np.savez(out / "head.npz", keep=keep, weight=w0.numpy(), bias=b0.numpy())
    best_epoch = 0
    for epoch in range(1, epochs + 1):
        started = time.monotonic()
        order = rng.permutation(len(train))
        losses = []
        for start in range(0, len(order), BATCH):
            feats, lse, steps, targets, t_lengths = _batch(train, order[start:start + BATCH], remap)
            log_probs = _log_probs(feats, lse, weight, bias).transpose(0, 1)  # (T, B, C) for CTC
            loss = ctc(log_probs, targets, steps, t_lengths)
            pull = l2 * (((weight - w0) ** 2).sum() + ((bias - b0) ** 2).sum())
            optimiser.zero_grad()
            (loss + pull).backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        score = exact_share(val, weight.detach().numpy(), bias.detach().numpy(), keep, classes)
        history.append({"epoch": epoch, "val_exact": score, "train_loss": float(np.mean(losses))})
        log.info("epoch %d: train CTC %.4f, validation exact %.4f (best %.4f), %.0f s", epoch, np.mean(losses), score,
                 best, time.monotonic() - started)
        if score > best:
            best, best_epoch = score, epoch
            np.savez(out / "head.npz", keep=keep, weight=weight.detach().numpy(), bias=bias.detach().numpy())
    return {"train_crops": len(train), "val_crops": len(val), "best_epoch": best_epoch, "val_exact": best,
            "l2": l2, "lr": lr, "epochs": epochs, "history": history}


def export(rec_path: Path, head_path: Path, out_path: Path) -> None:
    """A copy of the recogniser at ``rec_path`` with the refitted columns of ``head_path``."""
    model = onnx.load(str(rec_path))
    with np.load(head_path) as z:
        set_columns(model, z["keep"], z["weight"], z["bias"])
    onnx.save(model, str(out_path))


def set_columns(model: onnx.ModelProto, keep: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> None:
    """Put ``weight`` ``(D, |keep|)`` and ``bias`` into the columns ``keep`` of ``model``'s last layer."""
    head = find_head(model)
    inits = {t.name: t for t in model.graph.initializer}
    full_weight = numpy_helper.to_array(inits[head.weight]).copy()
    full_bias = numpy_helper.to_array(inits[head.bias]).copy()
    full_weight[:, keep] = weight.astype(full_weight.dtype)
    full_bias[keep] = bias.astype(full_bias.dtype)
    inits[head.weight].CopyFrom(numpy_helper.from_array(full_weight, head.weight))
    inits[head.bias].CopyFrom(numpy_helper.from_array(full_bias, head.bias))
