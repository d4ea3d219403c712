"""Fit the calibration temperature on PublicTest and store it in an ONNX file's metadata.

``python -m training.calibrate models/emotion.onnx [--source proxy|direct] [--write]``

The temperature ``T`` is the one scalar that minimises the negative log-likelihood of
``softmax(log p / T)`` (``training.metrics.fit_temperature``), fitted on PublicTest only:

- ``proxy`` (default): PublicTest faces read through the product's path (``training.proxy``:
  gallery tiles, BlazeFace, box crop). That is where the app's probabilities come from, and
  where the shipped model is overconfident;
- ``direct``: the clean 48x48 PublicTest crops (what FER2013 numbers measure).

With ``proxy``, the small-face rule (``models.emotion_classifier.SmallFaceTemperature``) is then
fitted with ``T`` fixed, on the same faces in those tiles and again in small tiles
(``training.proxy.SMALL_TILE_SIZES_WH``: 7x7 galleries, filmstrips, a laptop screen), where most
faces' boxes are 35-90 px wide: how much softer a face under some width must be read. With
``direct`` there are no widths, so no rule is fitted and ``--write`` leaves none in the file.

``--write`` stores ``temperature`` and ``small_face_temperature`` (the runtime applies them, see
``models.emotion_classifier``) and ``temperature_fit`` (JSON: how they were chosen) in the
file's ``metadata_props``, in place.
The graph and its weights are not touched: the script checks that every initializer is
byte-identical before it replaces the file. The file's sha256 changes, so the model card's
``onnx.sha256`` must follow (``--card models/emotion.json`` updates it and records the fit).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnx

from models.emotion_classifier import (
    SMALL_FACE_KEY,
    TEMPERATURE_KEY,
    OnnxEmotionClassifier,
    SmallFaceTemperature,
    apply_temperatures,
)
from training.data import DEFAULT_DATA, sha256_of_file
from training.metrics import apply_temperature, fit_small_faces, fit_temperature, nll
from training.proxy import SMALL_TILES_SEED, proxy_seed

log = logging.getLogger(__name__)

FIT_KEY = "temperature_fit"


def public_probs(model: Path, data: Path, source: str, faces: int, seed: int,
                 small_tiles: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw probabilities ``(n, 7)``, FER2013 labels and face widths in pixels (48 for clean
    crops) of PublicTest through ``source``'s path; ``small_tiles``: the proxy's small tiles."""
    from models.preprocessing import face_tensor
    from training.data import load_test_split
    from training.measure import predict_probs

    images, y, _ = load_test_split(data, "public")
    with OnnxEmotionClassifier(model, threads=1) as clf:
        clf.temperature = 1.0
        if source == "direct":
            return predict_probs(clf, face_tensor(images)), y, np.full(len(y), 48.0)
        from training.proxy import SMALL_TILE_SIZES_WH, TILE_SIZES_WH, product_finder, read_proxy

        sample = np.sort(np.random.default_rng(seed).choice(len(y), size=min(faces, len(y)), replace=False))
        tiles = SMALL_TILE_SIZES_WH if small_tiles else TILE_SIZES_WH
        with product_finder() as find:
            reading = read_proxy(images[sample], find, tile_sizes_wh=tiles,
                                 seed=proxy_seed(seed, "public", small_tiles))
        f = reading.found
        return predict_probs(clf, reading.tensor[f]), y[sample][f], reading.box_width_px[f]


def write_temperature(path: Path, temperature: float, fit: dict,
                      small_faces: SmallFaceTemperature | None = None) -> str:
    """Store ``temperature``, ``small_faces`` (None: no rule) and ``fit`` in ``path``'s metadata
    in place; returns the new sha256.

    Raises:
        RuntimeError: the rewritten graph's initializers differ from the original's (nothing
            is replaced then).
    """
    model = onnx.load(str(path))
    before = {t.name: t.SerializeToString() for t in model.graph.initializer}
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in (TEMPERATURE_KEY, FIT_KEY, SMALL_FACE_KEY)]
    rule = [(SMALL_FACE_KEY, small_faces.to_json())] if small_faces is not None else []
    del model.metadata_props[:]
    for key, value in [*kept, (TEMPERATURE_KEY, f"{temperature:.4f}"), *rule, (FIT_KEY, json.dumps(fit))]:
        model.metadata_props.add(key=key, value=value)
    tmp = path.with_name(path.name + ".partial")
    try:
        onnx.save(model, str(tmp))
        after = {t.name: t.SerializeToString() for t in onnx.load(str(tmp)).graph.initializer}
        if after != before:
            raise RuntimeError(f"rewriting {path} changed its weights; not replaced")
        with OnnxEmotionClassifier(tmp, threads=1) as clf:  # the runtime accepts it and reads T back
            if abs(clf.temperature - round(temperature, 4)) > 1e-9 or clf.small_faces != small_faces:
                raise RuntimeError(f"{tmp} reads back temperature {clf.temperature} and {clf.small_faces}, "
                                   f"wrote {temperature:.4f} and {small_faces}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return sha256_of_file(path)


def update_card(card: Path, onnx_path: Path, fit: dict, key: str = "onnx") -> None:
    """Point the card's ``key`` section (``onnx`` or ``fast_variant_int8``) at the rewritten file and record the fit."""
    data = json.loads(card.read_text(encoding="utf-8"))
    section = data[key]
    section["sha256"] = sha256_of_file(onnx_path)
    section["size_bytes"] = onnx_path.stat().st_size
    section["calibration"] = fit
    card.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.calibrate", description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path, metavar="MODEL.onnx")
    p.add_argument("--source", choices=("proxy", "direct"), default="proxy",
                   help="PublicTest through the gallery-tile proxy (default) or as clean 48x48 crops")
    p.add_argument("--faces", type=int, default=2000, help="PublicTest faces sampled for the proxy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--write", action="store_true", help="store the temperature in MODEL.onnx (weights untouched)")
    p.add_argument("--card", type=Path, default=None, help="model card to update after --write")
    p.add_argument("--card-key", default="onnx", help="card section of this file (onnx | fast_variant_int8)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cv2.setNumThreads(1)
    t0 = time.time()
    probs, y, px = public_probs(args.model, args.data, args.source, args.faces, args.seed)
    t = fit_temperature(probs, y)
    fit = {"temperature": round(t, 4), "split": "PublicTest", "source": args.source, "faces": len(y),
           "seed": args.seed, "labels": "FER2013", "objective": "NLL",
           "nll_before": round(nll(probs, y), 4), "nll_after": round(nll(apply_temperature(probs, t), y), 4),
           "command": "python -m training.calibrate " + " ".join(sys.argv[1:] if argv is None else argv)}
    print(f"T = {t:.4f} fitted on {len(y)} PublicTest faces ({args.source}); NLL {fit['nll_before']:.4f} -> "
          f"{fit['nll_after']:.4f} [{time.time() - t0:.0f} s]")
    rule = None
    if args.source == "proxy":
        small_p, small_y, small_px = public_probs(args.model, args.data, args.source, args.faces, args.seed,
                                                  small_tiles=True)
        all_p, all_y = np.concatenate([probs, small_p]), np.concatenate([y, small_y])
        all_px = np.concatenate([px, small_px])
        rule = fit_small_faces(all_p, all_y, all_px, t)
        rule = rule if rule.power > 0 else None
        after = apply_temperatures(all_p, t * (rule.factors(all_px) if rule else np.ones(len(all_y))))
        fit["small_faces"] = {"rule": json.loads(rule.to_json()) if rule else None, "faces": len(all_y),
                              "small_tile_faces": len(small_y), "small_tiles_seed_offset": SMALL_TILES_SEED,
                              "nll_with_t": round(nll(apply_temperature(all_p, t), all_y), 4),
                              "nll_after": round(nll(after, all_y), 4)}
        print(f"small faces: {rule or 'no rule'} fitted on {len(all_y)} faces ({len(small_y)} in small tiles); "
              f"NLL {fit['small_faces']['nll_with_t']:.4f} -> {fit['small_faces']['nll_after']:.4f} "
              f"[{time.time() - t0:.0f} s]")
    if args.write:
        sha = write_temperature(args.model, t, fit, rule)
        print(f"wrote temperature {t:.4f} and {rule or 'no small-face rule'} into {args.model} "
              f"(weights unchanged), sha256 {sha}")
        if args.card:
            update_card(args.card, args.model, fit, args.card_key)
            print(f"updated {args.card} [{args.card_key}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
