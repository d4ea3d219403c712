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
from collections.abc import Callable
from copy import deepcopy
from dataclasses import asdict, replace
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
from training.model import EmotionNet, ExportedEmotionNet, ModelConfig, load_checkpoint
from training.onnx_weights import load_onnx_weights, net_from_file
from training.teacher_readings import load_readings
from vocab.errors import ClassMoodError, ConfigError, exit_code

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
    d["teachers"] = [str(t) for t in cfg.teachers]
    d["distill_readings"] = str(cfg.distill_readings) if cfg.distill_readings else None
    d["distill_from"] = str(cfg.distill_from) if cfg.distill_from else None
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
    if ModelConfig.from_dict(ck.get("model_config") or {}) != cfg.model:
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


def clean_face_reading(net: EmotionNet, train_x: torch.Tensor, images: np.ndarray,
                       readings: Path | None, by: str) -> tuple[torch.Tensor, dict]:
    """``(n, 7)`` the distillation share of the targets: ``net``'s reading of each clean
    Training face (``teacher_probabilities``), averaged in logits with the teachers' stored
    readings (``training.teacher_readings``) when ``readings`` is given, each network weighted
    equally; and what the card says of it (``by`` names ``net``). The readings file is checked
    before ``net``'s minutes of reading."""
    if readings is None:
        return teacher_probabilities(net, train_x), {"by": by}
    try:
        stored = load_readings(readings, images)
    except (FileNotFoundError, ValueError) as e:
        raise ConfigError(f"--distill-readings: {e}") from None
    taught = teacher_probabilities(net, train_x)
    k = len(stored.teacher_sha256)
    info = {"by": f"{by} and {k} teacher(s)", "readings": str(readings),
            "readings_sha256": sha256_of_file(readings), "teacher_sha256": list(stored.teacher_sha256),
            "views": stored.views, "teachers_public_accuracy": stored.public_accuracy}
    teacher_logits = torch.from_numpy(stored.logits).to(taught.device)
    mixed = (torch.log(taught.clamp_min(1e-8)) + k * teacher_logits) / (k + 1)
    return torch.softmax(mixed, dim=1), info


def _distill_reader(net: EmotionNet, path: Path | None, train_x: torch.Tensor) -> tuple[EmotionNet, str, dict]:
    """The network whose clean-face reading is distilled, its name for the card and what the
    card records of it: ``net`` (the starting model) when ``path`` is None, else the network in
    ``path`` (``net_from_file``; an .onnx file's BatchNorm statistics from the first Training
    faces ``train_x``, as a warm start), on ``net``'s device."""
    if path is None:
        return net, "the starting model", {}
    if not path.is_file():
        raise ConfigError(f"--distill-from: no model at {path}")
    reader = net_from_file(path, train_x[:BN_STATISTICS_FACES].cpu())
    dev = next(net.parameters()).device
    info = {"distill_from": str(path), "distill_from_sha256": sha256_of_file(path)}
    return _placed(reader, dev).eval(), str(path), info


def load_teachers(paths: tuple[Path, ...], dev: torch.device) -> tuple[list[EmotionNet], list[dict]]:
    """The teacher networks, in eval mode on ``dev``, and what the card says of each (path,
    sha256, its own PublicTest accuracy)."""
    nets, info = [], []
    for path in paths:
        net, ck = load_checkpoint(path)
        nets.append(_placed(net, dev))
        info.append({"path": str(path), "sha256": sha256_of_file(path), "public_acc": ck.get("public_acc"),
                     "model_config": ck.get("model_config"), "epoch": ck.get("epoch")})
    return nets, info


@torch.no_grad()
def teacher_reading(teachers: list[EmotionNet], x: torch.Tensor) -> torch.Tensor:
    """``(n, 7)``: the probabilities of the teachers' mean logits on the faces ``x`` as they are
    (the augmented batch the student is about to see)."""
    with _autocast(x.device):
        logits = torch.stack([t(x).float() for t in teachers]).mean(dim=0)
    return torch.softmax(logits, dim=1)


def _placed(net: EmotionNet, dev: torch.device) -> EmotionNet:
    """``net`` on ``dev``; on a GPU in channels-last layout, which bf16 tensor-core convolutions want."""
    net = net.to(dev)
    if dev.type == "cuda":
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return net


def _autocast(dev: torch.device) -> torch.autocast:
    """bf16 mixed precision on a GPU (tensor cores; FP32 master weights and loss), none on CPU."""
    return torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")


BUDGET_SHARE = 0.9  # of a time budget planned for epochs; the rest is kept for checkpoint writes


def epochs_for_budget(budget_s: float, step_s: float, steps_per_epoch: int, eval_s: float) -> int:
    """How many whole epochs of ``steps_per_epoch`` steps (``step_s`` each) plus one PublicTest
    pass per epoch (``eval_s``) fit into ``budget_s`` (its ``BUDGET_SHARE``); at least 1."""
    epoch_s = steps_per_epoch * step_s + eval_s
    return max(1, int(BUDGET_SHARE * budget_s // max(epoch_s, 1e-9)))


def _time_steps(step: Callable[[], object], dev: torch.device, warm: int = 3, timed: int = 12) -> float:
    """Seconds per call of ``step`` after ``warm`` untimed calls (GPU work waited for)."""
    for _ in range(warm):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(timed):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / timed


def train(cfg: TrainConfig) -> Path:
    """Run the whole training; returns the path of the best checkpoint."""
    if cfg.teacher_weight > 0 and not cfg.teachers:
        raise ConfigError(f"recipe {cfg.recipe} reads teachers: give their checkpoints with --teachers "
                          "(train them with --recipe teacher)")
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    dev = _device(cfg)
    torch.backends.cudnn.benchmark = dev.type == "cuda"  # fixed batch shapes: let cuDNN pick its fastest kernels
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

    net = EmotionNet(cfg.model)  # on the CPU until its starting weights are in (they are measured there)
    init_info = None
    if cfg.init_from is not None:
        init_info = _load_initial_weights(net, cfg, train_x)
    net = _placed(net, dev)
    distill_info = None
    if cfg.distill_weight > 0:  # needs init_from or distill_from (TrainConfig checks)
        t1 = time.time()
        reader, by, reader_info = _distill_reader(net, cfg.distill_from, train_x)
        taught, distill_info = clean_face_reading(reader, train_x, splits["train"].images, cfg.distill_readings, by)
        distill_info = {**distill_info, **reader_info}
        target = (1 - cfg.distill_weight) * target + cfg.distill_weight * taught
        log.info("distillation: %.0f %% of each target is the reading of the clean face by %s "
                 "(%d faces read in %.0f s; it agrees with the FER2013 label on %.1f %%)",
                 100 * cfg.distill_weight, distill_info["by"], len(taught), time.time() - t1,
                 100 * float((taught.argmax(1) == train_y).float().mean()))
    teachers, teacher_info = load_teachers(cfg.teachers, dev)
    if teachers:
        taught = torch.cat([teacher_reading(teachers, val_x[i:i + 512]) for i in range(0, len(val_x), 512)])
        log.info("teachers: %d networks, %.0f %% of each target; their mean reads PublicTest at %.4f (one view)",
                 len(teachers), 100 * cfg.teacher_weight, float((taught.argmax(1) == val_y).float().mean()))

    def batch(idx: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The augmented faces of rows ``idx`` and their targets (the teachers' share read on them)."""
        xb = augment(train_x[idx], g)
        if cfg.augment == "webcam":
            xb = webcam(xb, g, cfg.webcam_p)
        tb = target[idx]
        if teachers:
            tb = (1 - cfg.teacher_weight) * tb + cfg.teacher_weight * teacher_reading(teachers, xb)
        return xb, tb

    def learn(model: torch.nn.Module, optimizer: torch.optim.Optimizer, xb: torch.Tensor,
              tb: torch.Tensor) -> torch.Tensor:
        """One optimiser step on soft targets ``tb``; returns the loss."""
        with _autocast(dev):
            logits = model(xb)
        loss = torch.sum(-tb * F.log_softmax(logits.float(), dim=1), dim=1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    steps_per_epoch = math.ceil(len(train_y) / cfg.batch_size)
    last_path, best_path = cfg.out_dir / "last.pt", cfg.out_dir / "best.pt"
    resume_ck = (torch.load(last_path, map_location=dev, weights_only=False)
                 if cfg.resume and last_path.is_file() else None)
    if cfg.budget_s is not None and resume_ck is not None:
        cfg = replace(cfg, epochs=int(resume_ck["config"]["epochs"]))  # the cycle the run started with
    elif cfg.budget_s is not None:
        probe_net = deepcopy(net).train()
        probe_opt = torch.optim.SGD(probe_net.parameters(), lr=1e-6, momentum=0.9)
        probe_gen = torch.Generator(device=dev).manual_seed(cfg.seed + 1)

        def probe_step() -> None:
            idx = torch.randint(len(train_y), (min(cfg.batch_size, len(train_y)),), generator=probe_gen, device=dev)
            learn(probe_net, probe_opt, *batch(idx, probe_gen))

        step_s = _time_steps(probe_step, dev)
        eval_s = 2 * _time_steps(lambda: predictions(probe_net, val_x), dev, warm=1, timed=1)
        del probe_net, probe_opt
        cfg = replace(cfg, epochs=epochs_for_budget(cfg.budget_s, step_s, steps_per_epoch, eval_s))
        log.info("budget %.0f s: %.1f ms a step, %d steps and %.1f s of PublicTest an epoch -> %d epochs",
                 cfg.budget_s, 1000 * step_s, steps_per_epoch, eval_s, cfg.epochs)
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        total_steps = cfg.epochs * steps_per_epoch  # read each step: a budget may re-plan it after epoch 1
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    # On the training device: random numbers drawn where the batch is (a CPU generator on a GPU
    # run copies ~20 small tensors a batch, each a wait. On an H200, teachers went from 0.26 to
    # 0.14 ms a face with this and batch 256 together; each change's share was not measured).
    gen = torch.Generator(device=dev).manual_seed(cfg.seed)
    start_epoch, best_acc, history = 0, -1.0, []
    if resume_ck is not None:
        ck = resume_ck
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
    epoch_ends: list[float] = []  # seconds since t0 at the end of each epoch of this process
    epoch = start_epoch - 1
    while (epoch := epoch + 1) < cfg.epochs:
        net.train()
        order = torch.randperm(len(train_y), generator=gen, device=dev)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                   file=sys.stderr, dynamic_ncols=True, mininterval=2.0)
        loss_sum = augment_cpu = 0.0
        cpu0 = time.process_time()
        for step in bar:
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            a0 = time.process_time()
            xb, tb = batch(idx, gen)
            augment_cpu += time.process_time() - a0
            loss = learn(net, opt, xb, tb)
            sched.step()
            ema.update_parameters(net)
            loss_sum += loss.item()
            bar.set_postfix(loss=f"{loss_sum / (step + 1):.3f}", lr=f"{sched.get_last_lr()[0]:.4f}")
        train_cpu = time.process_time() - cpu0
        # One pass per network scores both label sets (FER+ majority on its own rows).
        pred_raw, pred_ema = predictions(net, val_x), predictions(ema.module, val_x)
        acc_raw, acc_ema = accuracies(pred_raw, val_y), accuracies(pred_ema, val_y)
        epoch_ends.append(time.time() - t0)
        candidates = {"raw": (max(acc_raw), net), "ema": (max(acc_ema), ema.module)}
        kind, (acc, chosen) = max(candidates.items(), key=lambda kv: kv[1][0])
        record = {"epoch": epoch + 1, "loss": loss_sum / steps_per_epoch, "public_raw": acc_raw,
                  "public_ema": acc_ema, "elapsed_s": epoch_ends[-1], "train_cpu_s": train_cpu,
                  "augment_cpu_s": augment_cpu}
        maj_raw = maj_ema = (0.0, 0.0)
        if len(maj_y):
            maj_raw = record["public_ferplus_raw"] = accuracies(pred_raw, maj_y, maj_rows)
            maj_ema = record["public_ferplus_ema"] = accuracies(pred_ema, maj_y, maj_rows)
        history.append(record)
        if cfg.budget_s is not None and epoch == 1 and start_epoch == 0:
            # Re-plan from the second epoch as it really ran: the first one pays for cuDNN's
            # kernel search, and a probe misses a neighbour that started later on the same GPU
            # and the checkpoint writes.
            epoch_s = epoch_ends[1] - epoch_ends[0]
            epochs = 2 + max(0, int((BUDGET_SHARE * cfg.budget_s - epoch_ends[1]) // max(epoch_s, 1e-9)))
            if epochs != cfg.epochs:
                log.info("budget %.0f s: the second epoch took %.1f s -> %d epochs instead of %d",
                         cfg.budget_s, epoch_s, epochs, cfg.epochs)
                cfg = replace(cfg, epochs=epochs)
        log.info("epoch %d: loss %.4f PublicTest FER2013 raw %.4f/%.4f (flip) ema %.4f/%.4f; FER+ majority "
                 "raw %.4f/%.4f ema %.4f/%.4f; training CPU %.0f s (augmentation %.0f s)",
                 epoch + 1, record["loss"], *acc_raw, *acc_ema, *maj_raw, *maj_ema, train_cpu, augment_cpu)
        common = {"config": _config_json(cfg), "model_config": cfg.model.to_dict(), "data_sha256": data_sha,
                  "cleaning": asdict(cleaning), "history": history, "init_from": init_info,
                  "distillation": distill_info, "teachers": teacher_info}
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
