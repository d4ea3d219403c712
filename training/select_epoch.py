"""Choose a checkpoint of a ``--keep-epochs`` run on PublicTest, by a rule fixed before the run ends.

``python -m training.select_epoch runs/emotion_v3ft [--fer2013-screen 0.69] [--fer2013-floor 0.6969]``

The rule (issue 14: FER+ majority accuracy up, FER2013 accuracy not down):

1. candidates: every epoch's raw and EMA weights (``epoch_NNN_raw.pt`` / ``epoch_NNN_ema.pt``);
2. screen on the numbers the run logged (mirror-averaged PublicTest): FER2013 accuracy
   >= ``fer2013_screen``;
3. the ``top`` screened candidates with the best logged FER+ majority accuracy are scored with
   the shipped test-time views (face, mirror, zoomed centre, its mirror) in PyTorch;
4. the winner has the best FER+ majority accuracy among those whose FER2013 accuracy with those
   views is >= ``fer2013_floor`` (ties: the better FER2013 accuracy). None qualifying: nothing.

PublicTest only; PrivateTest is never read here.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.data import DEFAULT_DATA, Split, load_splits
from training.metrics import ferplus_majority
from training.model import EmotionNet, ExportedEmotionNet, load_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    path: Path
    epoch: int
    weights: str  # raw | ema
    logged_fer2013: float  # mirror-averaged PublicTest accuracy, as the run logged it
    logged_ferplus: float


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    fer2013: float  # PublicTest accuracy with the shipped views
    ferplus: float


def candidates(run_dir: Path) -> list[Candidate]:
    """Every kept checkpoint of the run with its logged PublicTest scores (mirror-averaged)."""
    out = []
    for line in (run_dir / "history.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for kind in ("raw", "ema"):
            path = run_dir / f"epoch_{rec['epoch']:03d}_{kind}.pt"
            if path.is_file():
                out.append(Candidate(path, rec["epoch"], kind, rec[f"public_{kind}"][1],
                                     rec[f"public_ferplus_{kind}"][1]))
    return out


def score_views(net: EmotionNet, public: Split, flip: bool = True, zoom: bool = True) -> tuple[float, float]:
    """(FER2013, FER+ majority) PublicTest accuracy of ``net`` with the given test-time views."""
    pred = ExportedEmotionNet(net, flip, zoom).eval().classes(torch.from_numpy(public.tensor()))
    maj = ferplus_majority(public.votes)
    ok = maj >= 0
    return float((pred == public.labels).mean()), float((pred[ok] == maj[ok]).mean())


def select(run_dir: Path, data: Path = DEFAULT_DATA, fer2013_screen: float = 0.69, fer2013_floor: float = 0.6969,
           top: int = 3) -> tuple[Scored | None, list[Scored]]:
    """Apply the rule of the module docstring; returns (winner or None, every candidate scored in step 3)."""
    pool = [c for c in candidates(run_dir) if c.logged_fer2013 >= fer2013_screen]
    pool.sort(key=lambda c: (c.logged_ferplus, c.logged_fer2013), reverse=True)
    public = load_splits(data)[0]["public"]
    scored = []
    for c in pool[:top]:
        net, _ = load_checkpoint(c.path)
        fer, fplus = score_views(net, public)
        scored.append(Scored(c, fer, fplus))
        log.info("%s: PublicTest with the shipped views FER2013 %.4f, FER+ majority %.4f", c.path.name, fer, fplus)
    ok = [s for s in scored if s.fer2013 >= fer2013_floor]
    winner = max(ok, key=lambda s: (s.ferplus, s.fer2013)) if ok else None
    return winner, scored


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.select_epoch", description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--fer2013-screen", type=float, default=0.69,
                   help="step 2: logged mirror-averaged PublicTest FER2013 accuracy at least this")
    p.add_argument("--fer2013-floor", type=float, default=0.6969,
                   help="step 4: FER2013 PublicTest accuracy with the shipped views at least this (shipped: 0.6969)")
    p.add_argument("--top", type=int, default=3, help="step 3: how many screened candidates get the full views")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    np.set_printoptions(precision=4)
    for c in sorted(candidates(args.run_dir), key=lambda c: (c.epoch, c.weights)):
        print(f"epoch {c.epoch:3d} {c.weights}: logged PublicTest FER2013 {c.logged_fer2013:.4f}, "
              f"FER+ majority {c.logged_ferplus:.4f}")
    winner, scored = select(args.run_dir, args.data, args.fer2013_screen, args.fer2013_floor, args.top)
    for s in scored:
        print(f"{s.candidate.path}: shipped views FER2013 {s.fer2013:.4f}, FER+ majority {s.ferplus:.4f}")
    if winner is None:
        print("no candidate keeps FER2013 PublicTest at the floor: nothing to export")
        return 1
    print(f"chosen: {winner.candidate.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
