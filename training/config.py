"""One typed training configuration: defaults, then a named recipe, then a TOML file, then CLI flags.

A recipe (``--recipe v3``) is a named set of keys, so the next run is one command and the card
can say which recipe made the model. ``v2`` is the recipe of the shipped model (the defaults);
``v3`` is the one for the next model (see ``RECIPES``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from training.data import DEFAULT_DATA
from training.model import ModelConfig
from vocab.errors import ConfigError
from vocab.settings import read_toml
from vocab.typed_config import apply_mapping

__all__ = ["DEFAULT_DATA", "RECIPES", "TrainConfig", "load_train_config"]

# What each recipe changes from the defaults. Keys are TrainConfig fields; a TOML file and flags
# given with --recipe still override them.
# The targets and augmentation of every recipe since v4ft (FER+ share 0.2, unknown votes spread,
# contempt as FER2013 filed it, not-faces dropped, webcam degradations on half the faces).
_V4_DATA: dict[str, Any] = {"ferplus_weight": 0.2, "ferplus_unknown": "uniform", "ferplus_contempt": "fer2013",
                            "drop_not_face": True, "augment": "webcam", "webcam_p": 0.5}

RECIPES: dict[str, dict[str, Any]] = {
    # The shipped model's recipe (cycle 1; cycle 2 was a warm restart with --init-from).
    "v2": {},
    # The next model: FER+ crowd votes as the main target (FER+ majority is what issue 14 scores
    # and it is the cleaner label), "unknown" votes kept as uncertainty, contempt votes given to
    # the FER2013 classes that contempt faces carry, not-a-face rows dropped, and the webcam
    # degradations of training.augment on most faces. One long cosine cycle instead of two
    # (same 76-epoch budget as the shipped two cycles).
    "v3": {"ferplus_weight": 0.8, "ferplus_unknown": "uniform", "ferplus_contempt": "fer2013",
           "drop_not_face": True, "augment": "webcam", "webcam_p": 0.6, "epochs": 76, "lr": 0.1,
           "out_dir": "runs/emotion_v3"},
    # A short warm-start fine-tune of the shipped model with v3's targets and augmentation, for
    # when v3's 76 epochs do not fit (2.7 h on two idle cores): starts from the shipped ONNX file
    # (training.onnx_weights), a low peak LR and a short warmup so it refines instead of
    # restarting. FER+ weight 0.3, not v3's 0.8: FER2013 labels and the FER+ majority agree on
    # only 65.5 % of the faces (Training, PublicTest and PrivateTest alike), so every face moved
    # to its FER+ majority is a FER2013 point lost unless the model also gets better; the shipped
    # file must not lose FER2013 accuracy (PrivateTest >= 70.72 %). Measured: at 0.5 the first
    # epoch moved PublicTest (raw weights, mirror-averaged) from 69.4 / 71.5 % to 64.4 / 78.6 %
    # (FER2013 / FER+ majority), a trade, not a gain. 0.3 (shipped: 0.2) tilts towards the
    # crowd a third as far; the rest of the FER+ gain has to come from a better model. Webcam
    # degradations on 40 % of the faces (v3: 60 %): a short run has less capacity to spare.
    # Every epoch is kept so selection can use both PublicTest scores (training.select_epoch).
    "v3ft": {"ferplus_weight": 0.3, "ferplus_unknown": "uniform", "ferplus_contempt": "fer2013",
             "drop_not_face": True, "augment": "webcam", "webcam_p": 0.4, "epochs": 17, "lr": 0.015,
             "warmup_epochs": 0.5, "init_from": "models/emotion.onnx", "keep_epochs": True,
             "out_dir": "runs/emotion_v3ft"},
    # v3ft again with the shipped model's FER+ share (0.2) and webcam degradations on half the
    # faces, their box jitter centred on FER2013's framing as bot.classify.face_crops now cuts
    # faces. Measured before it (PublicTest proxy, 3,432 faces found of 3,589): v3ft's blend
    # reads 64.5 % of pipeline faces right where the shipped model reads 62.1 % (64.0 % with the
    # recentred crop), at the same FER2013 accuracy (69.74 vs 69.69 %) but 0.1 point under the
    # shipped PrivateTest; the webcam degradations are the lever for faces from elsewhere.
    "v4ft": {"ferplus_weight": 0.2, "ferplus_unknown": "uniform", "ferplus_contempt": "fer2013",
             "drop_not_face": True, "augment": "webcam", "webcam_p": 0.5, "epochs": 24, "lr": 0.015,
             "warmup_epochs": 0.5, "init_from": "models/emotion.onnx", "keep_epochs": True,
             "out_dir": "runs/emotion_v4ft"},
    # v4ft with half of every target taken from the starting model's own four-view reading of the
    # clean face (distillation: the teacher reads the face as FER2013 framed it, the student sees
    # it through the webcam degradations). The fine-tunes so far traded FER2013 points for
    # pipeline points because hard labels pull the whole network; the teacher's reading holds
    # the clean-face behaviour in place (and carries its doubts between classes) while the
    # degraded copies teach the student to read them the same way.
    "v5ft": {"ferplus_weight": 0.2, "ferplus_unknown": "uniform", "ferplus_contempt": "fer2013",
             "drop_not_face": True, "augment": "webcam", "webcam_p": 0.5, "epochs": 18, "lr": 0.015,
             "warmup_epochs": 0.5, "init_from": "models/emotion.onnx", "keep_epochs": True,
             "distill_weight": 0.5, "out_dir": "runs/emotion_v5ft"},
    # A teacher for the student, for a GPU: the student's data, targets and augmentation, but a
    # ResNet-18-sized network that keeps all 48x48 pixels (stem stride 1, two blocks a stage,
    # 64..512 channels: 11.2 M parameters, 1.33 G multiply-accumulates a face, 21x the student's).
    # Too slow to serve 49 faces a frame on a laptop, fast to train on a GPU; it exists to be
    # read by the student (``teachers``). Epochs from ``budget_s`` when given.
    "teacher": {**_V4_DATA, "epochs": 60, "lr": 0.1, "batch_size": 256,
                "model": {"widths": [64, 128, 256, 512], "blocks": [2, 2, 2, 2], "stem_stride": 1, "dropout": 0.3},
                "out_dir": "runs/teacher"},
    # The student distilled from teachers, reading them online: on every batch the teachers read
    # the same augmented (webcam-degraded) faces the student sees, and their mean reading is 70 %
    # of the target (the labels the rest). A teacher that sees the student's own view gives a
    # target that matches what is in the picture (a face blurred past reading gets the doubt the
    # teacher has, not a confident label), and each epoch's new views are new lessons (Beyer et
    # al., "Knowledge distillation: a good teacher is patient and consistent", CVPR 2022).
    # Warm start from the shipped file, as the v4ft fine-tunes.
    "v6kd": {**_V4_DATA, "epochs": 30, "lr": 0.015, "warmup_epochs": 0.5, "init_from": "models/emotion.onnx",
             "keep_epochs": True, "teacher_weight": 0.7, "out_dir": "runs/emotion_v6kd"},
    # v6kd from random weights, with the full learning-rate cycle: with a teacher to follow, a
    # longer student schedule can go further than a fine-tune of the shipped file.
    "v6kd_scratch": {**_V4_DATA, "epochs": 60, "lr": 0.1, "keep_epochs": True, "teacher_weight": 0.7,
                     "out_dir": "runs/emotion_v6kd_scratch"},
    # Distillation on a CPU (no GPU to read every batch with the teachers): v5ft, with the
    # clean-face reading taken from an ensemble, the starting model and the teachers' readings
    # of ``training.teacher_readings`` (``distill_readings``), each network's logits weighted
    # equally. Measured before it, PublicTest: the shipped file 69.80 / 72.72 % (FER2013 / FER+
    # majority), the lease-2 teachers 70.05 / 71.32 and 69.43 / 72.12 %, the three together
    # 70.74 / 73.07 % (four views each). 70 % of each target is that reading.
    "v7kd": {**_V4_DATA, "epochs": 12, "lr": 0.015, "warmup_epochs": 0.5, "init_from": "models/emotion.onnx",
             "keep_epochs": True, "distill_weight": 0.7, "out_dir": "runs/emotion_v7kd"},
    # A cheaper student: the shipped network cut to 75 % of its channels (``training.prune``,
    # 56 % of the multiply-accumulates; give it with ``--init-from``), fine-tuned as v7kd with the
    # *shipped* network's four-view reading of the clean faces (``distill_from``; averaged with
    # the teachers' stored readings when ``--distill-readings`` is given) as 70 % of each target:
    # the cut network learns to read faces as the full one did.
    "v8slim": {**_V4_DATA, "epochs": 12, "lr": 0.015, "warmup_epochs": 0.5, "keep_epochs": True,
               "distill_weight": 0.7, "distill_from": "models/emotion.onnx",
               "model": {"widths": [24, 48, 96, 192]}, "out_dir": "runs/emotion_v8slim"},
    # A second student from random weights, for an ensemble with the shipped one. Fine-tunes of
    # the shipped file are too alike to add anything as its partner (PublicTest FER2013: shipped
    # 69.80 %, with v7kd seed 1 69.74 %, with v4ft seed 2 69.80 %); the independently trained
    # teachers added 0.6-0.8 points. Same size as the shipped student, v4 data, 70 % of each
    # target the clean-face reading of the shipped file and the stored teacher readings (give
    # them with ``--distill-readings``), one cosine cycle.
    "v9scratch": {**_V4_DATA, "epochs": 36, "lr": 0.1, "distill_weight": 0.7,
                  "distill_from": "models/emotion.onnx", "seed": 9, "out_dir": "runs/emotion_v9scratch"},
}


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
    recipe: str = "v2"  # the name in RECIPES these settings started from (recorded in checkpoints)
    # Share of the target taken from the FER+ crowd votes (the rest is the FER2013 label).
    ferplus_weight: float = 0.2
    # FER+ "unknown" votes: dropped, or spread evenly over the 7 classes (the annotator could not
    # tell: the target says so, which also keeps confidence honest).
    ferplus_unknown: Literal["drop", "uniform"] = "drop"
    # FER+ contempt votes (no FER2013 class): dropped, or spread as the FER2013 labels of the
    # Training faces whose FER+ majority is contempt (how FER2013 itself filed such faces).
    ferplus_contempt: Literal["drop", "fer2013"] = "drop"
    # Drop Training rows whose FER+ majority is "not a face" (test splits are never touched).
    drop_not_face: bool = False
    # "fer": mirror, rotation/scale/shift, brightness/contrast, erasing. "webcam": that, then on
    # a share ``webcam_p`` of the faces what a gallery tile does to a face (training.augment).
    augment: Literal["fer", "webcam"] = "fer"
    webcam_p: float = 0.6
    # Share of the target taken from the starting model's reading of the clean face (its four
    # test-time views, ``training.model.ExportedEmotionNet``); needs ``init_from`` or
    # ``distill_from``. 0: none.
    distill_weight: float = 0.0
    # With ``distill_weight``: teachers' readings of the clean Training faces
    # (``training.teacher_readings``), averaged with the starting model's (logits, each network
    # equal) into that share of the target. None: the starting model alone.
    distill_readings: Path | None = None
    # With ``distill_weight``: the network (an exported .onnx file or a checkpoint) whose
    # four-view reading of the clean faces is that share, in place of the starting model's:
    # for a student that does not start as a good reader (one cut narrower, ``training.prune``).
    distill_from: Path | None = None
    # Checkpoints of larger networks (recipe ``teacher``) that read every augmented batch; their
    # mean probabilities are a share ``teacher_weight`` of each target (online distillation).
    teachers: tuple[Path, ...] = ()
    teacher_weight: float = 0.0
    # Fit the run into this many seconds of training: a few timed steps (and one PublicTest
    # pass) before the first epoch set ``epochs``, so the learning-rate cycle ends in time on
    # hardware of unknown speed (a lent GPU with a fixed lease). None: ``epochs`` as given.
    budget_s: float | None = None
    ema_decay: float = 0.999
    seed: int = 0
    threads: int = 0  # 0: all cores
    device: str = "auto"  # auto | cpu | cuda
    max_per_split: int | None = None  # tiny runs for tests
    resume: bool = False  # continue from out_dir/last.pt
    # Start from the weights of an earlier run's checkpoint (.pt) or of an exported model (.onnx,
    # see training.onnx_weights) with a fresh optimiser and LR cycle (a warm restart: a second
    # cosine cycle that continues where the first one ended).
    init_from: Path | None = None
    # Also write every epoch's raw and EMA weights (epoch_NNN_raw.pt / epoch_NNN_ema.pt), so a
    # checkpoint can be chosen afterwards on more than the FER2013 PublicTest accuracy.
    keep_epochs: bool = False
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        checks = {"epochs": self.epochs >= 1, "batch_size": self.batch_size >= 2, "lr": self.lr > 0,
                  "ferplus_weight": 0 <= self.ferplus_weight <= 1, "label_smoothing": 0 <= self.label_smoothing < 1,
                  "ema_decay": 0 <= self.ema_decay < 1, "device": self.device in ("auto", "cpu", "cuda"),
                  "webcam_p": 0 <= self.webcam_p <= 1, "recipe": self.recipe in RECIPES,
                  "distill_weight": 0 <= self.distill_weight <= 1
                  and (self.distill_weight == 0 or self.init_from is not None or self.distill_from is not None),
                  "distill_readings": self.distill_readings is None or self.distill_weight > 0,
                  "distill_from": self.distill_from is None or self.distill_weight > 0,
                  "teacher_weight": 0 <= self.teacher_weight <= 1,
                  "budget_s": self.budget_s is None or self.budget_s > 0}
        for key, ok in checks.items():
            if not ok:
                raise ConfigError(f"training config: invalid value for {key!r}: {getattr(self, key)!r}")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def recipe_config(name: str) -> TrainConfig:
    """The defaults with recipe ``name`` applied."""
    if name not in RECIPES:
        raise ConfigError(f"training config: unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    return apply_mapping(TrainConfig(), {**RECIPES[name], "recipe": name}, what=f"recipe {name}")


def load_train_config(argv: list[str] | None = None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m training.train", description="Train the ClassMood emotion CNN.")
    p.add_argument("--config", type=Path, help="TOML file with TrainConfig keys")
    for f in fields(TrainConfig):
        if f.name in ("model", "resume"):
            continue
        if f.name == "teachers":
            p.add_argument("--teachers", nargs="+", default=None, help="teacher checkpoints (.pt), read online")
            continue
        p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                       type=int if f.name in ("epochs", "batch_size", "seed", "threads", "max_per_split")
                       else float if f.name in ("lr", "weight_decay", "warmup_epochs", "label_smoothing",
                                                "ferplus_weight", "ema_decay", "webcam_p",
                                                "distill_weight", "teacher_weight", "budget_s")
                       else _bool if f.name in ("drop_not_face", "keep_epochs")
                       else str,
                       help=f"recipe presets: {', '.join(RECIPES)}" if f.name == "recipe" else None)
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/last.pt")
    args = p.parse_args(argv)
    cfg = recipe_config(args.recipe or "v2")
    if args.config:
        cfg = apply_mapping(cfg, read_toml(args.config), what="training config")
    flags = {k: v for k, v in vars(args).items() if v is not None and k not in ("config", "resume", "recipe")}
    if args.resume:
        flags["resume"] = True
    return apply_mapping(cfg, flags, what="training config")
