"""Train the emotion CNN on FER2013: ``python -m training.train [--epochs N] [--resume]``.

Reads top to bottom: data, model, optimiser, loop, checkpoint. Checkpoints are chosen on
PublicTest only; PrivateTest is never looked at here (``classmood eval`` reports it once).
Every epoch writes ``last.pt`` (resume point) and, when PublicTest improves, ``best.pt``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sys
import time
from copy import deepcopy
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from training.augment import augment, webcam
from training.config import TrainConfig, load_train_config
from training.data import Split, contempt_label_distribution, ferplus_targets, load_splits, sha256_of_file
from training.metrics import ferplus_majority
from training.model import EmotionNet, ExportedEmotionNet
from training.onnx_weights import load_onnx_weights
from vocab.errors import ClassMoodError, exit_code

log = logging.getLogger("training")


def _device(cfg: TrainConfig) -> torch.device:
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


@torch.no_grad()
def predictions(net: torch.nn.Module, x: torch.Tensor, batch: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """(plain, mirror-averaged) top class of each face ``(n,)``, in eval mode."""
    net.eval()
    plain, flip = [], []
    for i in range(0, len(x), batch):
        a = net(x[i:i + batch])
        plain.append(a.argmax(1))
        flip.append((a + net(torch.flip(x[i:i + batch], dims=[3]))).argmax(1))
    return torch.cat(plain), torch.cat(flip)


def accuracies(pred: tuple[torch.Tensor, torch.Tensor], y: torch.Tensor,
               rows: torch.Tensor | None = None) -> tuple[float, float]:
    """(plain, mirror-averaged) top-1 accuracy of ``predictions`` against ``y`` (on ``rows`` only if given)."""
    out = []
    for p in pred:
        p = p if rows is None else p[rows]
        out.append(float((p == y).float().mean()) if len(y) else 0.0)
    return out[0], out[1]


def public_accuracy(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> tuple[float, float]:
    """(plain, mirror-averaged) top-1 accuracy."""
    return accuracies(predictions(net, x, batch), y)


def _config_json(cfg: TrainConfig) -> dict:
    d = asdict(cfg)
    d["data"], d["out_dir"] = str(cfg.data), str(cfg.out_dir)
    d["init_from"] = str(cfg.init_from) if cfg.init_from else None
    return d


BN_STATISTICS_FACES = 4096  # Training faces that set the BatchNorm statistics of an ONNX warm start


def _load_initial_weights(net: EmotionNet, cfg: TrainConfig, train_x: torch.Tensor) -> dict:
    """Load a warm-restart starting point (a checkpoint, or an exported ``.onnx`` file whose
    BatchNorm statistics are re-measured on the first Training faces ``train_x``); returns what
    the card needs to say about it (for a file: its path and sha256)."""
    assert cfg.init_from is not None
    if not cfg.init_from.is_file():
        raise FileNotFoundError(f"--init-from: no checkpoint at {cfg.init_from}")
    if cfg.init_from.suffix == ".onnx":
        return load_onnx_weights(net, cfg.init_from, train_x[:BN_STATISTICS_FACES].cpu())
    ck = torch.load(cfg.init_from, map_location="cpu", weights_only=False)
    if ck.get("model_config") != cfg.model.to_dict():
        raise ValueError(f"--init-from: {cfg.init_from} has model config {ck.get('model_config')}, "
                         f"this run wants {cfg.model.to_dict()}")
    net.load_state_dict(ck["model"])
    log.info("starting from the weights of %s (epoch %s, PublicTest %s)", cfg.init_from, ck.get("epoch"),
             ck.get("public_acc"))
    return {"path": str(cfg.init_from), "kind": "checkpoint", "sha256": sha256_of_file(cfg.init_from),
            "epoch": ck.get("epoch"), "public_acc": ck.get("public_acc"),
            "config": ck.get("config"), "history": ck.get("history")}


def training_targets(train: Split, cfg: TrainConfig) -> np.ndarray:
    """``(n, 7)`` float32 soft targets: FER2013 one-hot and FER+ votes mixed by ``ferplus_weight``,
    the FER+ part built as ``ferplus_unknown``/``ferplus_contempt`` say, then label smoothing."""
    contempt_dist = contempt_label_distribution(train.votes, train.labels)
    soft = ferplus_targets(train.votes, train.labels, cfg.ferplus_unknown, cfg.ferplus_contempt, contempt_dist)
    onehot = np.eye(7, dtype=np.float32)[train.labels]
    target = (1 - cfg.ferplus_weight) * onehot + cfg.ferplus_weight * soft
    return ((1 - cfg.label_smoothing) * target + cfg.label_smoothing / 7).astype(np.float32)


def teacher_probabilities(net: EmotionNet, x: torch.Tensor) -> torch.Tensor:
    """``(n, 7)`` what ``net`` reads on each clean face of ``x``: the shipped four views
    (face, mirror, zoomed centre, its mirror), as the exported model reads it (on a copy, so
    ``net``'s train/eval mode is left alone)."""
    return ExportedEmotionNet(deepcopy(net), flip_average=True, zoom_average=True).eval().probabilities(x)


def train(cfg: TrainConfig) -> Path:
    """Run the whole training; returns the path of the best checkpoint."""
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    dev = _device(cfg)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)

    splits, cleaning = load_splits(cfg.data, cfg.max_per_split, drop_not_face=cfg.drop_not_face)
    train_x = torch.from_numpy(splits["train"].tensor()).to(dev)
    train_y = torch.from_numpy(splits["train"].labels).to(dev)
    target = torch.from_numpy(training_targets(splits["train"], cfg)).to(dev)
    val_x = torch.from_numpy(splits["public"].tensor()).to(dev)
    val_y = torch.from_numpy(splits["public"].labels).to(dev)
    # FER+ majority of PublicTest, recorded each epoch (selection stays on the FER2013 labels).
    val_maj = ferplus_majority(splits["public"].votes)
    maj_rows = torch.from_numpy(np.flatnonzero(val_maj >= 0)).to(dev)
    maj_y = torch.from_numpy(val_maj[val_maj >= 0]).to(dev)

    net = EmotionNet(cfg.model).to(dev)
    init_info = None
    if cfg.init_from is not None:
        init_info = _load_initial_weights(net, cfg, train_x)
        net.to(dev)
        if cfg.distill_weight > 0:
            t1 = time.time()
            taught = teacher_probabilities(net, train_x)
            target = (1 - cfg.distill_weight) * target + cfg.distill_weight * taught
            log.info("distillation: %.0f %% of each target is the starting model's reading of the clean face "
                     "(%d faces read in %.0f s; it agrees with the FER2013 label on %.1f %%)",
                     100 * cfg.distill_weight, len(taught), time.time() - t1,
                     100 * float((taught.argmax(1) == train_y).float().mean()))
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / cfg.batch_size)
    total_steps = cfg.epochs * steps_per_epoch
    warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    gen = torch.Generator().manual_seed(cfg.seed)
    start_epoch, best_acc, history = 0, -1.0, []
    last_path, best_path = cfg.out_dir / "last.pt", cfg.out_dir / "best.pt"
    if cfg.resume and last_path.is_file():
        ck = torch.load(last_path, map_location=dev, weights_only=False)
        net.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        gen.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        start_epoch, best_acc, history = ck["epoch"] + 1, ck["best_acc"], ck["history"]
        log.info("resumed from %s at epoch %d (best PublicTest %.4f)", last_path, start_epoch, best_acc)

    data_sha = sha256_of_file(cfg.data)
    t0 = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        net.train()
        order = torch.randperm(len(train_y), generator=gen).to(dev)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                   file=sys.stderr, dynamic_ncols=True, mininterval=2.0)
        loss_sum = augment_cpu = 0.0
        cpu0 = time.process_time()
        for step in bar:
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            a0 = time.process_time()
            xb = augment(train_x[idx], gen)
            if cfg.augment == "webcam":
                xb = webcam(xb, gen, cfg.webcam_p)
            augment_cpu += time.process_time() - a0
            loss = torch.sum(-target[idx] * F.log_softmax(net(xb), dim=1), dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            ema.update_parameters(net)
            loss_sum += loss.item()
            bar.set_postfix(loss=f"{loss_sum / (step + 1):.3f}", lr=f"{sched.get_last_lr()[0]:.4f}")
        train_cpu = time.process_time() - cpu0
        # One pass per network scores both label sets (FER+ majority on its own rows).
        pred_raw, pred_ema = predictions(net, val_x), predictions(ema.module, val_x)
        acc_raw, acc_ema = accuracies(pred_raw, val_y), accuracies(pred_ema, val_y)
        candidates = {"raw": (max(acc_raw), net), "ema": (max(acc_ema), ema.module)}
        kind, (acc, chosen) = max(candidates.items(), key=lambda kv: kv[1][0])
        record = {"epoch": epoch + 1, "loss": loss_sum / steps_per_epoch, "public_raw": acc_raw,
                  "public_ema": acc_ema, "elapsed_s": time.time() - t0, "train_cpu_s": train_cpu,
                  "augment_cpu_s": augment_cpu}
        maj_raw = maj_ema = (0.0, 0.0)
        if len(maj_y):
            maj_raw = record["public_ferplus_raw"] = accuracies(pred_raw, maj_y, maj_rows)
            maj_ema = record["public_ferplus_ema"] = accuracies(pred_ema, maj_y, maj_rows)
        history.append(record)
        log.info("epoch %d: loss %.4f PublicTest FER2013 raw %.4f/%.4f (flip) ema %.4f/%.4f; FER+ majority "
                 "raw %.4f/%.4f ema %.4f/%.4f; training CPU %.0f s (augmentation %.0f s)",
                 epoch + 1, record["loss"], *acc_raw, *acc_ema, *maj_raw, *maj_ema, train_cpu, augment_cpu)
        common = {"config": _config_json(cfg), "model_config": cfg.model.to_dict(), "data_sha256": data_sha,
                  "cleaning": asdict(cleaning), "history": history, "init_from": init_info}
        if cfg.keep_epochs:
            for name, weights in (("raw", net), ("ema", ema.module)):
                torch.save({**common, "model": deepcopy(weights.state_dict()), "epoch": epoch + 1, "weights": name,
                            "public_acc": acc_raw if name == "raw" else acc_ema},
                           cfg.out_dir / f"epoch_{epoch + 1:03d}_{name}.pt")
        if acc > best_acc:
            best_acc = acc
            torch.save({**common, "model": deepcopy(chosen.state_dict()), "epoch": epoch + 1,
                        "weights": kind, "public_acc": acc_raw if kind == "raw" else acc_ema}, best_path)
        torch.save({**common, "model": net.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                    "epoch": epoch, "best_acc": best_acc}, last_path)
        with open(cfg.out_dir / "history.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")
    log.info("done in %.0f s; best PublicTest %.4f -> %s", time.time() - t0, best_acc, best_path)
    return best_path


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_train_config(argv)
        train(cfg)
    except ClassMoodError as e:
        log.error("%s", e)
        return exit_code(e)
    except (ValueError, FileNotFoundError) as e:
        log.error("%s", e)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
