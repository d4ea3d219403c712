"""Read the cleaned Training faces with teacher networks once, for distillation on a CPU.

``python -m training.teacher_readings T1.pt [T2.pt ...] --out runs/kd/readings.npz``

A teacher (recipe ``teacher``) costs 21x the student a face: reading every augmented batch
online (recipe ``v6kd``) is a GPU job. On a CPU the teachers read each clean Training face once
(the face as FER2013 framed it, and with ``--views 2`` its mirror too), and a fine-tune takes
their reading as a share of every target (``TrainConfig.distill_readings``; offline
distillation, the way ``v5ft`` already used the starting model's own reading).

The file holds the teachers' mean logits ``(n, 7)`` for the rows ``training.data.load_splits``
keeps (with ``--drop-not-face`` as the recipe sets it), a digest of those rows' pixels (a run on
other rows stops with one line instead of pairing faces with the wrong readings), each
teacher's sha256, and the same reading of PublicTest with its accuracy (logged: what the
teachers know before a student reads them).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.data import DEFAULT_DATA, load_splits, sha256_of_file
from training.model import EmotionNet, load_checkpoint

log = logging.getLogger(__name__)

READ_BATCH = 256


def rows_digest(images: np.ndarray) -> str:
    """A short digest of the faces' pixels, in order: readings belong to exactly these rows."""
    return hashlib.blake2b(np.ascontiguousarray(images).tobytes(), digest_size=16).hexdigest()


@torch.no_grad()
def mean_logits(nets: list[EmotionNet], x: torch.Tensor, views: int, what: str) -> np.ndarray:
    """``(n, 7)`` float32: the nets' logits on the faces ``x`` (and with ``views`` 2 their mirror
    images), averaged; progress logged about every 30 s, as this is minutes of CPU per teacher."""
    out = np.zeros((len(x), nets[0].cfg.num_classes), np.float32)
    t0 = last = time.time()
    for k, net in enumerate(nets):
        net.eval()
        for i in range(0, len(x), READ_BATCH):
            xb = x[i:i + READ_BATCH]
            logits = net(xb)
            if views == 2:
                logits = (logits + net(torch.flip(xb, dims=[3]))) / 2
            out[i:i + READ_BATCH] += logits.numpy() / len(nets)
            if time.time() - last > 30:
                last = time.time()
                done = k * len(x) + i + len(xb)
                log.info("%s: teacher %d of %d, %d of %d faces (%.0f s, about %.0f s left)", what, k + 1,
                         len(nets), i + len(xb), len(x), last - t0, (last - t0) * (len(nets) * len(x) / done - 1))
    return out


def read(teachers: list[Path], out: Path, data: Path = DEFAULT_DATA, views: int = 1,
         drop_not_face: bool = True, max_per_split: int | None = None) -> Path:
    """Write the readings file (module notes) to ``out``; returns it."""
    splits, _ = load_splits(data, max_per_split, drop_not_face=drop_not_face)
    nets = [load_checkpoint(p)[0] for p in teachers]
    public = mean_logits(nets, torch.from_numpy(splits["public"].tensor()), views, "PublicTest")
    public_acc = float((public.argmax(1) == splits["public"].labels).mean())
    log.info("the teachers' mean reads PublicTest at %.4f (%d view%s)", public_acc, views, "s" * (views > 1))
    train = mean_logits(nets, torch.from_numpy(splits["train"].tensor()), views, "Training")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.npz")
    np.savez(tmp, logits=train, public_logits=public, public_accuracy=public_acc, views=views,
             rows_digest=rows_digest(splits["train"].images), drop_not_face=drop_not_face,
             teachers=np.array([str(p) for p in teachers]),
             teacher_sha256=np.array([sha256_of_file(p) for p in teachers]))
    tmp.replace(out)
    log.info("wrote %s: %d Training faces, agreement with the FER2013 label %.4f", out, len(train),
             float((train.argmax(1) == splits["train"].labels).mean()))
    return out


@dataclass(frozen=True)
class TeacherReadings:
    """A readings file as a run uses it: the teachers' mean logits ``(n, 7)`` of its Training
    faces and what the card says of them."""

    logits: np.ndarray
    teacher_sha256: tuple[str, ...]
    views: int
    public_accuracy: float


def load_readings(path: Path, images: np.ndarray) -> TeacherReadings:
    """The readings in ``path`` of the Training faces ``images``.

    Raises:
        FileNotFoundError: no readings file at ``path``.
        ValueError: the file was read on other rows (other data, or another ``drop_not_face``).
    """
    if not path.is_file():
        raise FileNotFoundError(f"no teacher readings at {path} (make them with `python -m training.teacher_readings`)")
    with np.load(path) as d:
        if str(d["rows_digest"]) != rows_digest(images):
            raise ValueError(f"{path} was read on other Training rows than this run's "
                             f"(drop_not_face {bool(d['drop_not_face'])} there); read them again")
        return TeacherReadings(logits=d["logits"].astype(np.float32),
                               teacher_sha256=tuple(str(h) for h in d["teacher_sha256"]),
                               views=int(d["views"]), public_accuracy=float(d["public_accuracy"]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.teacher_readings", description=__doc__.split("\n\n")[0])
    p.add_argument("teachers", type=Path, nargs="+", metavar="TEACHER.pt")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--views", type=int, choices=(1, 2), default=1, help="1: the face; 2: also its mirror (2x time)")
    p.add_argument("--keep-not-face", action="store_true", help="read the rows a recipe without drop_not_face keeps")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--max-per-split", type=int, default=None, help="tiny runs for tests")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    read(args.teachers, args.out, args.data, args.views, not args.keep_not_face, args.max_per_split)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
