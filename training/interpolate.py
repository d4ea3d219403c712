"""Blend a fine-tuned checkpoint with the model it started from: ``(1 - alpha) * start + alpha * tuned``.

Several checkpoints fine-tuned from the same file may be given: the tuned end is then their
parameter mean (a "model soup": fine-tunes of one start stay in its basin, so their average is
one network that is usually better than each of them).

``python -m training.interpolate runs/emotion_v3ft/epoch_022_ema.pt --alpha 0.3 0.5 0.7`` scores each
blend on PublicTest (FER2013 labels and FER+ majority, the shipped test-time views) and, with
``--out``, writes the blend chosen by the rule below as a checkpoint ``training.export`` takes.

Why: a warm-start fine-tune on new targets moves the model towards them (here: FER+ majority
up) and away from the old ones (FER2013 labels down). Both ends sit in one basin (the tuned
weights started from the others), so averaging the weights keeps most of the gain and gives back
most of the loss at no run-time cost (one network, unlike an ensemble). The start is rebuilt as
the run rebuilt it (``training.onnx_weights`` with the BatchNorm statistics of the same first
Training faces), so blending is parameter by parameter in the same representation.

Rule (PublicTest only): among the given alphas, the best FER+ majority accuracy (``--rank-by
ferplus``) or the best accuracy on the PublicTest end-to-end proxy (``--rank-by proxy``: faces in
simulated tiles read through the product's detector and crop, ``training.proxy``) whose FER2013
accuracy is at least ``--fer2013-floor``: by default the start's own, measured here with the same
views (a blend that reads as many PublicTest faces right as the shipped model keeps its level).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from training.data import DEFAULT_DATA, Split, load_splits
from training.model import EmotionNet, ExportedEmotionNet, load_checkpoint
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


def soup(nets: list[EmotionNet]) -> EmotionNet:
    """One network whose float parameters and buffers are the mean of ``nets``' (same architecture)."""
    states = [n.state_dict() for n in nets]
    mean = {k: sum(st[k] for st in states) / len(states) if states[0][k].is_floating_point() else states[0][k]
            for k in states[0]}
    net = EmotionNet(nets[0].cfg)
    net.load_state_dict(mean)
    return net.eval()


def proxy_scorer(public: Split, faces: int, seed: int) -> Callable[[EmotionNet], float]:
    """Accuracy (FER2013 labels) of a network, with the shipped test-time views, on ``faces``
    PublicTest faces in simulated tiles as the product reads them (detector, crop; read once)."""
    from training.proxy import product_finder, proxy_seed, read_proxy

    images = public.images
    sample = np.sort(np.random.default_rng(seed).choice(len(images), size=min(faces, len(images)), replace=False))
    with product_finder() as find:
        reading = read_proxy(images[sample], find, seed=proxy_seed(seed, "public"))
    x = torch.from_numpy(reading.tensor[reading.found])
    y = public.labels[sample][reading.found]
    log.info("PublicTest proxy: %d of %d faces found", len(y), len(sample))

    def score(net: EmotionNet) -> float:
        return float((ExportedEmotionNet(net, True, True).eval().classes(x) == y).mean())

    return score


Scored = tuple[float, float, float, float]
"""One blend's ``(alpha, FER2013, FER+ majority, proxy)`` PublicTest accuracies (proxy NaN if unscored)."""


def choose(results: list[Scored], floor: float, by_proxy: bool) -> Scored | None:
    """The blend the rule takes: of those with FER2013 >= ``floor``, the best proxy (``by_proxy``)
    or FER+ majority accuracy, ties to the better FER2013; ``None`` when none keeps the floor."""
    ok = [r for r in results if r[1] >= floor]
    if not ok:
        return None
    return max(ok, key=lambda r: (r[3], r[1]) if by_proxy else (r[2], r[1]))


def start_of(ck: dict, splits: dict[str, Split]) -> EmotionNet:
    """The network a run started from, rebuilt as ``training.train`` rebuilt it (ONNX starts only);
    ``splits`` as that run loaded them (its ``drop_not_face``)."""
    origin = ck.get("init_from") or {}
    if origin.get("kind") != "onnx":
        raise ValueError("training.interpolate needs a run started with --init-from FILE.onnx")
    faces = torch.from_numpy(splits["train"].tensor()[:BN_STATISTICS_FACES])
    net, now = net_from_onnx(Path(origin["path"]), faces)
    if weights_of(now) != weights_of(origin):
        raise ValueError(f"{origin['path']} is no longer the file the run started from (other weights)")
    return net


def weights_of(origin: dict) -> str:
    """What identifies the weights of a run's ONNX start: the checkpoint the file was exported
    from (a temperature written into the file later changes the file's sha256, not its weights)."""
    return str(origin.get("checkpoint_sha256") or origin.get("sha256"))


def describe_tuned(checkpoints: list[Path]) -> str:
    """How the model card names the tuned end: each checkpoint with its run folder (runs name
    their epochs alike, so ``epoch_016_ema.pt`` alone does not say which run), ``mean(...)`` for a soup."""
    names = " + ".join(f"{c.parent.name}/{c.name}" if c.parent.name else c.name for c in checkpoints)
    return names if len(checkpoints) == 1 else f"mean({names})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.interpolate", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoints", type=Path, nargs="+",
                   help="fine-tuned checkpoints of runs started from the same ONNX file (several: their mean)")
    p.add_argument("--alpha", type=float, nargs="+", default=[0.3, 0.5, 0.7], help="weights of the tuned end")
    p.add_argument("--fer2013-floor", type=float, default=None,
                   help="PublicTest FER2013 accuracy to keep (default: the start's own, measured)")
    p.add_argument("--rank-by", choices=("ferplus", "proxy"), default="ferplus",
                   help="among blends at the floor: best FER+ majority, or best PublicTest proxy accuracy")
    p.add_argument("--proxy-faces", type=int, default=3589, help="PublicTest faces in the proxy (--rank-by proxy)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=None, help="write the chosen blend here (a checkpoint)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    loaded = [load_checkpoint(c) for c in args.checkpoints]
    ck = loaded[0][1]
    if len({weights_of(c.get("init_from") or {}) for _, c in loaded}) != 1:
        print("the checkpoints did not start from the same file")
        return 2
    tuned = soup([net for net, _ in loaded]) if len(loaded) > 1 else loaded[0][0]
    # Loaded once: the BatchNorm statistics come from Training as the run cleaned it; the test
    # splits are never cleaned, so PublicTest is the same whatever drop_not_face says.
    splits, _ = load_splits(args.data, drop_not_face=bool(ck["config"].get("drop_not_face", False)))
    start = start_of(ck, splits)
    public = splits["public"]
    floor = args.fer2013_floor if args.fer2013_floor is not None else score_views(start, public)[0]
    print(f"floor: FER2013 PublicTest {floor:.4f}"
          + (" (given)" if args.fer2013_floor is not None else " (the start's own, same views)"))
    proxy = proxy_scorer(public, args.proxy_faces, args.seed) if args.rank_by == "proxy" else None
    results: list[Scored] = []
    for alpha in args.alpha:
        net = blend(start, tuned, alpha)
        fer, fplus = score_views(net, public)
        prox = proxy(net) if proxy else float("nan")
        results.append((alpha, fer, fplus, prox))
        print(f"alpha {alpha:.2f}: PublicTest with the shipped views FER2013 {fer:.4f}, FER+ majority {fplus:.4f}"
              + (f", proxy {prox:.4f}" if proxy else ""))
    chosen = choose(results, floor, by_proxy=proxy is not None)
    if chosen is None:
        print("no blend keeps FER2013 PublicTest at the floor")
        return 1
    alpha, fer, fplus, prox = chosen
    print(f"chosen: alpha {alpha:.2f} (FER2013 {fer:.4f}, FER+ majority {fplus:.4f}"
          + (f", proxy {prox:.4f})" if proxy else ")"))
    if args.out:
        net = blend(start, tuned, alpha)
        tuned_name = describe_tuned(args.checkpoints)
        torch.save({**{k: v for k, v in ck.items() if k not in ("model", "ema", "optimizer", "scheduler")},
                    "model": net.state_dict(), "public_acc": [fer, fer],
                    "weights": f"{1 - alpha:g} x start + {alpha:g} x {tuned_name}",
                    "interpolation": {"tuned": [str(c) for c in args.checkpoints], "alpha": alpha,
                                      "start": ck["init_from"], "rank_by": args.rank_by,
                                      "public_fer2013": fer, "public_ferplus_majority": fplus,
                                      "public_proxy": None if proxy is None else prox,
                                      "alphas_scored": results}}, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
