"""Blend a fine-tuned checkpoint with the model it started from: ``(1 - alpha) * start + alpha * tuned``.

``python -m training.interpolate runs/emotion_v3ft/epoch_022_ema.pt --alpha 0.3 0.5 0.7`` scores each
blend on PublicTest (FER2013 labels and FER+ majority, the shipped test-time views) and, with
``--out``, writes the blend chosen by the rule below as a checkpoint ``training.export`` takes.

Why: a warm-start fine-tune on new targets moves the model towards them (here: FER+ majority
up) and away from the old ones (FER2013 labels down). Both ends sit in one basin (the tuned
weights started from the others), so averaging the weights keeps most of the gain and gives back
most of the loss at no run-time cost (one network, unlike an ensemble). The start is rebuilt as
the run rebuilt it (``training.onnx_weights`` with the BatchNorm statistics of the same first
Training faces), so blending is parameter by parameter in the same representation.

Rule (PublicTest only): among the given alphas, the best FER+ majority accuracy whose FER2013
accuracy is at least ``--fer2013-floor`` (the shipped model's).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from training.data import DEFAULT_DATA, Split, load_splits
from training.export import load_checkpoint
from training.model import EmotionNet
from training.onnx_weights import net_from_onnx
from training.select_epoch import score_views
from training.train import BN_STATISTICS_FACES

log = logging.getLogger(__name__)


def blend(start: EmotionNet, tuned: EmotionNet, alpha: float) -> EmotionNet:
    """A new network with ``(1 - alpha) * start + alpha * tuned`` for every float parameter and buffer."""
    s0, s1 = start.state_dict(), tuned.state_dict()
    mixed = {k: (1 - alpha) * s0[k] + alpha * s1[k] if s0[k].is_floating_point() else s1[k] for k in s0}
    net = EmotionNet(tuned.cfg)
    net.load_state_dict(mixed)
    return net.eval()


def start_of(ck: dict, splits: dict[str, Split]) -> EmotionNet:
    """The network a run started from, rebuilt as ``training.train`` rebuilt it (ONNX starts only);
    ``splits`` as that run loaded them (its ``drop_not_face``)."""
    origin = ck.get("init_from") or {}
    if origin.get("kind") != "onnx":
        raise ValueError("training.interpolate needs a run started with --init-from FILE.onnx")
    faces = torch.from_numpy(splits["train"].tensor()[:BN_STATISTICS_FACES])
    net, _ = net_from_onnx(Path(origin["path"]), faces)
    return net


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.interpolate", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", type=Path, help="the fine-tuned checkpoint (a run started from an ONNX file)")
    p.add_argument("--alpha", type=float, nargs="+", default=[0.3, 0.5, 0.7], help="weights of the tuned end")
    p.add_argument("--fer2013-floor", type=float, default=0.6969, help="PublicTest FER2013 accuracy to keep")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=None, help="write the chosen blend here (a checkpoint)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    tuned, ck = load_checkpoint(args.checkpoint)
    # Loaded once: the BatchNorm statistics come from Training as the run cleaned it; the test
    # splits are never cleaned, so PublicTest is the same whatever drop_not_face says.
    splits, _ = load_splits(args.data, drop_not_face=bool(ck["config"].get("drop_not_face", False)))
    start = start_of(ck, splits)
    public = splits["public"]
    results = []
    for alpha in args.alpha:
        fer, fplus = score_views(blend(start, tuned, alpha), public)
        results.append((alpha, fer, fplus))
        print(f"alpha {alpha:.2f}: PublicTest with the shipped views FER2013 {fer:.4f}, FER+ majority {fplus:.4f}")
    ok = [r for r in results if r[1] >= args.fer2013_floor]
    if not ok:
        print("no blend keeps FER2013 PublicTest at the floor")
        return 1
    alpha, fer, fplus = max(ok, key=lambda r: (r[2], r[1]))
    print(f"chosen: alpha {alpha:.2f} (FER2013 {fer:.4f}, FER+ majority {fplus:.4f})")
    if args.out:
        net = blend(start, tuned, alpha)
        torch.save({**{k: v for k, v in ck.items() if k not in ("model", "ema", "optimizer", "scheduler")},
                    "model": net.state_dict(), "public_acc": [fer, fer],
                    "weights": f"{1 - alpha:g} x start + {alpha:g} x {args.checkpoint.name}",
                    "interpolation": {"tuned": str(args.checkpoint), "alpha": alpha, "start": ck["init_from"],
                                      "public_fer2013": fer, "public_ferplus_majority": fplus,
                                      "alphas_scored": results}}, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
