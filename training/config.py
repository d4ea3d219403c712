"""One typed training configuration: defaults, then an optional TOML file, then CLI flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from pathlib import Path

from training.data import DEFAULT_DATA
from training.model import ModelConfig
from vocab.errors import ConfigError
from vocab.settings import read_toml
from vocab.typed_config import apply_mapping

__all__ = ["DEFAULT_DATA", "TrainConfig", "load_train_config"]


@dataclass(frozen=True)
class TrainConfig:
    data: Path = DEFAULT_DATA
    out_dir: Path = Path("runs/emotion")
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.1
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.05
    # Share of the target taken from the FER+ crowd votes (the rest is the FER2013 label).
    ferplus_weight: float = 0.2
    ema_decay: float = 0.999
    seed: int = 0
    threads: int = 0  # 0: all cores
    device: str = "auto"  # auto | cpu | cuda
    max_per_split: int | None = None  # tiny runs for tests
    resume: bool = False  # continue from out_dir/last.pt
    # Start from the weights of an earlier run's checkpoint with a fresh optimiser and LR cycle
    # (a warm restart: a second cosine cycle that continues where the first one ended).
    init_from: Path | None = None
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        checks = {"epochs": self.epochs >= 1, "batch_size": self.batch_size >= 2, "lr": self.lr > 0,
                  "ferplus_weight": 0 <= self.ferplus_weight <= 1, "label_smoothing": 0 <= self.label_smoothing < 1,
                  "ema_decay": 0 <= self.ema_decay < 1, "device": self.device in ("auto", "cpu", "cuda")}
        for key, ok in checks.items():
            if not ok:
                raise ConfigError(f"training config: invalid value for {key!r}: {getattr(self, key)!r}")


def load_train_config(argv: list[str] | None = None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m training.train", description="Train the ClassMood emotion CNN.")
    p.add_argument("--config", type=Path, help="TOML file with TrainConfig keys")
    for f in fields(TrainConfig):
        if f.name in ("model", "resume"):
            continue
        p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                       type=int if f.name in ("epochs", "batch_size", "seed", "threads", "max_per_split")
                       else float if f.name in ("lr", "weight_decay", "warmup_epochs", "label_smoothing",
                                                "ferplus_weight", "ema_decay")
                       else str)
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last.pt")
    args = p.parse_args(argv)
    cfg = TrainConfig()
    if args.config:
        cfg = apply_mapping(cfg, read_toml(args.config), what="training config")
    flags = {k: v for k, v in vars(args).items() if v is not None and k not in ("config", "resume")}
    if args.resume:
        flags["resume"] = True
    return apply_mapping(cfg, flags, what="training config")
