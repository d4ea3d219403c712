"""Split a large checkpoint into two half-precision parts, and join them back.

A teacher (recipe ``teacher``, 11 M parameters) is 45 MB as a checkpoint; a machine lent for a
training round may hand back only files under 16 MB. Two float16 parts of about 11 MB each
carry it; joined, the weights are float32 again (float16 keeps about 3 significant digits,
plenty for a network that is read, not trained further; the test checks its readings).

``python -m training.parts split CKPT A B`` / ``python -m training.parts join A B CKPT``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def split_checkpoint(path: Path, first: Path, second: Path) -> None:
    """Write ``path``'s weights as float16 in two parts of about equal size; the first also keeps
    everything else the checkpoint says (config, history, accuracy)."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    weights = {k: v.half() if v.is_floating_point() else v for k, v in ck["model"].items()}
    total, running, head = sum(v.numel() for v in weights.values()), 0, {}
    for key, value in weights.items():
        if running >= total // 2:
            break
        head[key] = value
        running += value.numel()
    torch.save({**{k: v for k, v in ck.items() if k != "model"}, "model": head, "part": 1}, first)
    torch.save({"model": {k: v for k, v in weights.items() if k not in head}, "part": 2}, second)


def join_checkpoint(first: Path, second: Path, out: Path) -> Path:
    """The checkpoint ``split_checkpoint`` cut, with float32 weights, written to ``out``."""
    a = torch.load(first, map_location="cpu", weights_only=False)
    b = torch.load(second, map_location="cpu", weights_only=False)
    if (a.get("part"), b.get("part")) != (1, 2):
        raise ValueError(f"{first} and {second} are not parts 1 and 2 of one checkpoint (training.parts split)")
    weights = {**a["model"], **b["model"]}
    ck = {k: v for k, v in a.items() if k not in ("model", "part")}
    ck["model"] = {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
    torch.save(ck, out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.parts", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("split", help="CKPT -> two float16 parts")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("first", type=Path)
    s.add_argument("second", type=Path)
    j = sub.add_parser("join", help="two parts -> CKPT")
    j.add_argument("first", type=Path)
    j.add_argument("second", type=Path)
    j.add_argument("checkpoint", type=Path)
    args = p.parse_args(argv)
    if args.verb == "split":
        split_checkpoint(args.checkpoint, args.first, args.second)
    else:
        join_checkpoint(args.first, args.second, args.checkpoint)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
