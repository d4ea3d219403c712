"""Eyes open or closed on CEW eye patches: ``python -m bench.eyes [--data DIR] [--train]``.

CEW ("Closed Eyes In The Wild") holds 24x24 greyscale patches around the left and right eye of
2,423 faces. The patches are split by face (never the two eyes of one face on both sides):
faces in even positions of the sorted face list are for fitting, odd ones for reporting.

- default: the shipped ``models/eye_state.onnx`` on the report half: patch accuracy at 0.5, per
  class and per side; then per face (both eyes must say closed, as ``bot.attention`` decides) at
  the run-time threshold ``EYES_CLOSED_ABOVE``: closed faces found and open faces called closed.
- ``--train``: fit the tiny CNN on the fitting half (PyTorch, the ``train`` extra) and write
  ``models/eye_state.onnx``; the network is small enough (about 6 k weights) that a fit takes
  well under a minute on one core. The run is seeded but PyTorch on another machine may give a
  different file; the card records the shipped one's sha256.

Why a patch classifier and not an eye-aspect ratio from the landmarks: CEW has no faces, only
patches, so only a patch method can be measured on it; and FaceMesh's eyelid points follow a
closed eye poorly on small faces. At run time ``models.face_landmarks.eye_patches`` cuts the
same kind of patch from a face with the landmarks' eye corners (checked against the CEW look in
``tests/models/test_face_landmarks.py``).
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bot.attention import EYES_CLOSED_ABOVE
from models.face_landmarks import DEFAULT_EYE_MODEL_PATH, EYE_PATCH_PX, EyeStateClassifier
from vocab.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "eyes"
PATCH_THRESHOLD = 0.5  # for patch accuracy; the product's face-level threshold is EYES_CLOSED_ABOVE
_FACE_KEY = re.compile(r"(.*)_[LR]\.jpg$")


@dataclass(frozen=True)
class EyePatches:
    """CEW patches: ``patches`` ``(n, 24, 24)`` uint8, ``closed`` ``(n,)`` bool, ``side`` ``(n,)`` 'L'/'R',
    ``fit`` ``(n,)`` bool (True: fitting half, False: report half, split by face), ``face`` ``(n,)``
    the face each patch comes from."""

    patches: np.ndarray
    closed: np.ndarray
    side: np.ndarray
    fit: np.ndarray
    face: np.ndarray


def load_patches(data_dir: Path = DEFAULT_DATA) -> EyePatches:
    """Read every patch listed in ``labels.csv`` and split the faces into halves."""
    with (data_dir / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    faces = sorted({_face_key(r["file"]) for r in rows})
    parity = {key: i % 2 == 0 for i, key in enumerate(faces)}
    patches = np.empty((len(rows), EYE_PATCH_PX, EYE_PATCH_PX), np.uint8)
    for i, r in enumerate(rows):
        img = cv2.imread(str(data_dir / "dataset_B_Eye_Images" / r["file"]), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise FileNotFoundError(data_dir / "dataset_B_Eye_Images" / r["file"])
        patches[i] = cv2.resize(img, (EYE_PATCH_PX, EYE_PATCH_PX), interpolation=cv2.INTER_AREA)
    return EyePatches(patches, np.array([r["eye_state"] == "closed" for r in rows]),
                      np.array([r["side"] for r in rows]), np.array([parity[_face_key(r["file"])] for r in rows]),
                      np.array([_face_key(r["file"]) for r in rows]))


def _face_key(file: str) -> str:
    """'closedLeftEyes/closed_eye_0001.jpg_face_1_L.jpg' -> 'closed_eye_0001.jpg_face_1' (both eyes of a face)."""
    m = _FACE_KEY.match(Path(file).name)
    return m.group(1) if m else Path(file).name


def evaluate(data: EyePatches, model_path: Path = DEFAULT_EYE_MODEL_PATH, threads: int = 1) -> dict[str, float]:
    """Accuracy of the model on the report half, overall, per class and per side (fractions)."""
    clf = EyeStateClassifier(model_path, threads=threads)
    sel = ~data.fit
    t0 = time.perf_counter()
    p_closed = clf.p_closed(data.patches[sel])
    ms = 1000 * (time.perf_counter() - t0) / max(int(sel.sum()), 1)
    right = (p_closed > PATCH_THRESHOLD) == data.closed[sel]
    out = {"n": float(sel.sum()), "accuracy": float(right.mean()), "ms_per_patch": ms}
    for name, m in (("open", ~data.closed[sel]), ("closed", data.closed[sel]),
                    ("left", data.side[sel] == "L"), ("right", data.side[sel] == "R")):
        out[f"accuracy_{name}"] = float(right[m].mean())
    # per face: both eyes above the product's threshold
    faces: dict[str, list[int]] = {}
    for i, key in zip(np.where(sel)[0], data.face[sel], strict=True):
        faces.setdefault(str(key), []).append(i)
    pairs = np.array([v for v in faces.values() if len(v) == 2])
    closed_face = data.closed[pairs[:, 0]]
    called = np.asarray((p_closed[np.searchsorted(np.where(sel)[0], pairs)] > EYES_CLOSED_ABOVE).all(axis=1))
    out["faces"] = float(len(pairs))
    out["face_accuracy"] = float((called == closed_face).mean())
    out["face_closed_found"] = float(called[closed_face].mean())
    out["face_open_called_closed"] = float(called[~closed_face].mean())
    return out


def train(data: EyePatches, out: Path, epochs: int = 60, seed: int = 0) -> None:
    """Fit the eye-state CNN on the fitting half and export it to ONNX at ``out``."""
    import onnx
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)

    class EyeNet(nn.Module):
        """(N,1,24,24) in 0..1 -> (N,1) P(closed); each patch is standardised inside the graph."""

        def __init__(self) -> None:
            super().__init__()

            def block(cin: int, cout: int) -> nn.Sequential:
                return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

            self.body = nn.Sequential(block(1, 8), nn.MaxPool2d(2), block(8, 16), nn.MaxPool2d(2),
                                      block(16, 32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                      nn.Linear(32, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mean = x.mean(dim=(2, 3), keepdim=True)
            std = x.std(dim=(2, 3), keepdim=True) + 0.02
            return torch.sigmoid(self.body((x - mean) / std))

    x = torch.from_numpy(data.patches[data.fit].astype(np.float32) / 255.0)[:, None]
    y = torch.from_numpy(data.closed[data.fit].astype(np.float32))[:, None]
    net = EyeNet()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(x) + 63) // 64))
    loss_fn = nn.BCELoss()
    for epoch in range(epochs):
        net.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        total = 0.0
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            xb = _augment(x[idx], rng)
            loss = loss_fn(net(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch % 10 == 9:
            log.info("epoch %d loss %.4f", epoch + 1, total / len(x))
    net.eval()
    torch.onnx.export(net, (torch.zeros(2, 1, EYE_PATCH_PX, EYE_PATCH_PX),), str(out), dynamo=False, opset_version=13,
                      input_names=["eye_patch"], output_names=["p_closed"],
                      dynamic_axes={"eye_patch": {0: "N"}, "p_closed": {0: "N"}}, do_constant_folding=True)
    model = onnx.load(str(out))
    model.producer_name = "classmood"
    model.doc_string = "ClassMood eye state: (N,1,24,24) greyscale eye patches in 0..1 -> (N,1) P(closed)"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(out))


def _augment(x: object, rng: np.random.Generator) -> object:
    """Random mirror, scale 0.85-1.2, shift +-2 px, rotation +-12 deg, gamma, blur on a batch."""
    import torch
    import torch.nn.functional as F

    assert isinstance(x, torch.Tensor)
    n = len(x)
    scale = torch.from_numpy(rng.uniform(1 / 1.2, 1 / 0.85, n).astype(np.float32))
    rot = torch.from_numpy(np.radians(rng.uniform(-12, 12, n)).astype(np.float32))
    flip = torch.from_numpy(np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(np.float32))
    shift = torch.from_numpy(rng.uniform(-2 / 12, 2 / 12, (n, 2)).astype(np.float32))
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale * torch.cos(rot) * flip
    theta[:, 0, 1] = -scale * torch.sin(rot)
    theta[:, 1, 0] = scale * torch.sin(rot) * flip
    theta[:, 1, 1] = scale * torch.cos(rot)
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    gamma = torch.from_numpy(rng.uniform(0.6, 1.6, (n, 1, 1, 1)).astype(np.float32))
    out = out.clamp(1e-4, 1) ** gamma
    blur = rng.random(n) < 0.3
    if blur.any():
        k = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])[None, None] / 16
        idx = torch.from_numpy(np.where(blur)[0])
        out[idx] = F.conv2d(F.pad(out[idx], (1, 1, 1, 1), mode="replicate"), k)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.eyes", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the CEW folder with labels.csv")
    p.add_argument("--model", type=Path, default=DEFAULT_EYE_MODEL_PATH, help="the eye-state ONNX file")
    p.add_argument("--train", action="store_true", help="fit on the fitting half and write --model first")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not (args.data / "labels.csv").is_file():
        log.error("no CEW data at %s (labels.csv missing)", args.data)
        return 2
    data = load_patches(args.data)
    if args.train:
        train(data, args.model)
    try:
        r = evaluate(data, args.model)
    except ModelError as e:
        log.error("%s", e)
        return 2
    print(f"CEW report half: {int(r['n'])} patches of {int((~data.fit).sum() // 2)} faces (fitted on the other "
          f"{int(data.fit.sum())} patches)")
    print(f"accuracy {100 * r['accuracy']:.2f} %  (open {100 * r['accuracy_open']:.2f} %, closed "
          f"{100 * r['accuracy_closed']:.2f} %; left eye {100 * r['accuracy_left']:.2f} %, right eye "
          f"{100 * r['accuracy_right']:.2f} %) at P(closed) > {PATCH_THRESHOLD}; "
          f"{r['ms_per_patch'] * 1000:.1f} us per patch")
    print(f"per face, both eyes P(closed) > {EYES_CLOSED_ABOVE} (bot.attention): {int(r['faces'])} faces, accuracy "
          f"{100 * r['face_accuracy']:.2f} %, closed faces found {100 * r['face_closed_found']:.1f} %, open faces "
          f"called closed {100 * r['face_open_called_closed']:.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
