"""Measure an emotion ONNX file beyond FER2013 top-1: ``python -m training.measure [MODEL.onnx]``.

Prints, for the direct 48x48 path (full splits, no cleaning of test rows):

- FER2013 accuracy on PublicTest and PrivateTest (original labels);
- FER+ majority accuracy and per-class recall (``training.metrics.ferplus_majority``: faces
  whose crowd majority is one of the 7 classes);
- calibration (ECE, 15 bins; NLL; accuracy above/below the 0.4 "Uncertain" gate) of the raw
  output and after the temperature fitted by NLL on PublicTest; where the app's temperature is
  applied, also the ECE a perfectly calibrated model would show on as many faces of the same
  confidences (``training.metrics.ece_spread``), so a figure near a target can be read;

and the end-to-end proxy (``training.proxy``): a seeded sample of PublicTest and PrivateTest
faces in simulated gallery tiles through the detector -> crop -> model path, against the same
faces through the direct path; then the same faces in small tiles (7x7 galleries, filmstrips, a
laptop screen), with the file's temperature alone and with its small-face rule, by face width.
Temperatures are chosen on PublicTest only; PrivateTest numbers are reported, never used to
choose. The file's own ``temperature`` metadata is ignored above (raw output), so a calibrated
file is measured from its raw probabilities; the small-tile report applies it.

One thread for everything (ONNX Runtime, OpenCV, MediaPipe's own pool aside): about 1.5 min.
``--json PATH`` also writes every number.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import cv2
import numpy as np

from models.emotion_classifier import DEFAULT_MODEL_PATH, OnnxEmotionClassifier, apply_temperatures
from training.data import DEFAULT_DATA, load_test_split
from training.metrics import (
    apply_temperature,
    calibration,
    ece_spread,
    expected_calibration_error,
    ferplus_majority,
    fit_temperature,
    recall_by_class,
)
from training.proxy import SMALL_TILE_SIZES_WH, box_framing, product_finder, proxy_seed, read_proxy
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

UNCERTAIN_BELOW = 0.4
# The face widths the small-tile report is split by: (label, from px, under px).
WIDTH_BANDS_PX = (("all widths", 0, 10_000), ("0-40 px", 0, 40), ("40-60 px", 40, 60), (">= 60 px", 60, 10_000))


def predict_probs(clf: OnnxEmotionClassifier, faces: np.ndarray, batch: int = 256) -> np.ndarray:
    """``(n, 7)`` raw probabilities for ``(n, 1, 48, 48)`` faces, in batches."""
    out = np.empty((len(faces), len(EMOTIONS)), np.float32)
    for i in range(0, len(faces), batch):
        out[i:i + batch] = clf.predict(faces[i:i + batch])
    return out


def _recall_line(recall: np.ndarray) -> str:
    return ", ".join(f"{name} {r:.3f}" for name, r in zip(EMOTIONS, recall, strict=True))


def measure(model: Path, data: Path, proxy_faces: int, seed: int) -> dict:
    """All the numbers of the module notes, printed as they come; returned as a dict."""
    report: dict = {"model": str(model), "proxy_faces_per_split": proxy_faces, "seed": seed}
    t0 = time.time()
    with OnnxEmotionClassifier(model, threads=1) as clf:
        report["model_sha256"], report["file_temperature"] = clf.sha256, clf.temperature
        clf.temperature = 1.0  # measure the raw output; the fitted T is applied below
        split_data = {s: load_test_split(data, s) for s in ("public", "private")}
        from models.preprocessing import face_tensor

        probs = {s: predict_probs(clf, face_tensor(v[0])) for s, v in split_data.items()}
        print(f"model {model} (sha256 {clf.sha256[:12]}..., temperature in file {report['file_temperature']:g})")
        for s in ("public", "private"):
            _, y, votes = split_data[s]
            pred = probs[s].argmax(1)
            maj = ferplus_majority(votes)
            ok = maj >= 0
            rec = recall_by_class(maj, pred)
            report[s] = {"n": len(y), "fer2013_accuracy": float((pred == y).mean()),
                         "fer2013_recall": dict(zip(EMOTIONS, recall_by_class(y, pred).tolist(), strict=True)),
                         "ferplus_n": int(ok.sum()), "ferplus_accuracy": float((pred[ok] == maj[ok]).mean()),
                         "ferplus_recall": dict(zip(EMOTIONS, rec.tolist(), strict=True)),
                         "ferplus_support": dict(zip(EMOTIONS, np.bincount(maj[ok], minlength=7).tolist(),
                                                     strict=True))}
            print(f"{s}: FER2013 accuracy {report[s]['fer2013_accuracy']:.4f} ({len(y)} faces); FER+ majority "
                  f"accuracy {report[s]['ferplus_accuracy']:.4f} ({int(ok.sum())} faces with a 7-class majority)")
            print(f"  FER+ majority recall: {_recall_line(rec)}")
        t_direct = fit_temperature(probs["public"], split_data["public"][1])
        report["temperature_direct_public"] = t_direct
        print(f"temperature fitted by NLL on PublicTest (direct, FER2013 labels): T = {t_direct:.4f}")
        for s in ("public", "private"):
            y = split_data[s][1]
            maj = ferplus_majority(split_data[s][2])
            ok = maj >= 0
            for name, t in (("raw", 1.0), ("T", t_direct)):
                p = apply_temperature(probs[s], t)
                cal = calibration(p, y, UNCERTAIN_BELOW)
                report[s][f"calibration_{name}"] = cal.__dict__
                report[s][f"ece_ferplus_{name}"] = expected_calibration_error(p[ok], maj[ok])
                print(f"  {s} direct {name:>3}: {cal.line()}; ECE vs FER+ majority "
                      f"{report[s][f'ece_ferplus_{name}']:.4f}")
        print(f"[direct path done in {time.time() - t0:.0f} s]")

        # ---- end-to-end proxy
        rng = np.random.default_rng(seed)
        with product_finder() as find:
            proxy_probs: dict[str, np.ndarray] = {}
            for s in ("public", "private"):
                images, y, _ = split_data[s]
                sample = np.sort(rng.choice(len(y), size=min(proxy_faces, len(y)), replace=False))
                reading = read_proxy(images[sample], find, seed=proxy_seed(seed, s))
                f = reading.found
                pp = predict_probs(clf, reading.tensor[f])
                proxy_probs[s] = pp
                yd = y[sample][f]
                direct = probs[s][sample][f]
                acc_proxy, acc_direct = float((pp.argmax(1) == yd).mean()), float((direct.argmax(1) == yd).mean())
                agree = float((pp.argmax(1) == direct.argmax(1)).mean())
                framing = box_framing(reading)
                report[f"proxy_{s}"] = {"sampled": len(sample), "found": int(f.sum()),
                                        "detection_rate": float(f.mean()), "accuracy_proxy": acc_proxy,
                                        "accuracy_direct_same_faces": acc_direct, "gap": acc_direct - acc_proxy,
                                        "agreement_with_direct": agree, "framing": framing,
                                        "_labels": yd, "_sample": sample}
                print(f"proxy {s}: {len(sample)} faces sampled, {int(f.sum())} found ({f.mean():.1%}); "
                      f"accuracy proxy {acc_proxy:.4f} vs direct {acc_direct:.4f} on the same faces "
                      f"(gap {acc_direct - acc_proxy:+.4f}); same top class as direct {agree:.1%}")
                print("  pipeline crop vs FER2013 framing: scale {crop_scale_mean:.3f}±{crop_scale_std:.3f}, "
                      "centre dx {dx_mean:+.3f}±{dx_std:.3f}, dy {dy_mean:+.3f}±{dy_std:.3f} (crop sides)"
                      .format(**framing))
        t_proxy = fit_temperature(proxy_probs["public"], report["proxy_public"]["_labels"])
        report["temperature_proxy_public"] = t_proxy
        print(f"temperature fitted by NLL on the PublicTest proxy: T = {t_proxy:.4f}")
        for s in ("public", "private"):
            yd = report[f"proxy_{s}"]["_labels"]
            temps = [("raw", 1.0), ("T_direct", t_direct), ("T_proxy", t_proxy)]
            if report["file_temperature"] != 1.0:  # what the app applies
                temps.append(("T_file", report["file_temperature"]))
            for name, t in temps:
                p = apply_temperature(proxy_probs[s], t)
                cal = calibration(p, yd, UNCERTAIN_BELOW)
                report[f"proxy_{s}"][f"calibration_{name}"] = cal.__dict__
                print(f"  {s} proxy {name:>8}: {cal.line()}")
                if name == "T_file":
                    report[f"proxy_{s}"]["ece_spread_T_file"] = _print_spread(p, yd)
            for name, t in temps[2:]:
                p = apply_temperature(probs[s], t)
                cal = calibration(p, split_data[s][1], UNCERTAIN_BELOW)
                report[s][f"calibration_{name}"] = cal.__dict__
                print(f"  {s} direct {name:>8}: {cal.line()}")
                if name == "T_file":
                    report[s]["ece_spread_T_file"] = _print_spread(p, split_data[s][1])
            report[f"small_tiles_{s}"] = small_tiles_report(clf, report["file_temperature"], split_data[s],
                                                            report[f"proxy_{s}"]["_sample"],
                                                            proxy_seed(seed, s, small_tiles=True), s)
    for s in ("public", "private"):
        del report[f"proxy_{s}"]["_labels"], report[f"proxy_{s}"]["_sample"]
    report["wall_s"] = time.time() - t0
    print(f"[done in {report['wall_s']:.0f} s]")
    return report


def small_tiles_report(clf: OnnxEmotionClassifier, file_t: float, split: tuple[np.ndarray, np.ndarray, np.ndarray],
                       sample: np.ndarray, seed: int, name: str) -> dict:
    """The faces ``sample`` of ``split`` in small tiles: calibration with the file's temperature
    ``file_t`` alone and with its small-face rule too (what the app applies), over all and by
    face width. ``clf`` reads raw probabilities (its temperature set to 1)."""
    images, y, _ = split
    with product_finder() as find:
        reading = read_proxy(images[sample], find, seed=seed, tile_sizes_wh=SMALL_TILE_SIZES_WH)
    f = reading.found
    raw, yd = predict_probs(clf, reading.tensor[f]), y[sample][f]  # clf.temperature is 1 here
    width = reading.box_width_px[f]
    rule = clf.small_faces
    out: dict = {"sampled": len(sample), "found": int(f.sum()), "rule": rule.to_json() if rule else None,
                 "width_px_percentiles_10_50_90": np.percentile(width, [10, 50, 90]).tolist()}
    print(f"small tiles {name}: {int(f.sum())} of {len(sample)} faces found, widths "
          f"{out['width_px_percentiles_10_50_90']} px (10/50/90 %); rule {rule or 'none'}")
    ways = {"T_file": np.full(len(yd), file_t),
            "T_file_and_rule": file_t * (rule.factors(width) if rule else np.ones(len(yd)))}
    for way, temps in ways.items():
        p = apply_temperatures(raw, temps)
        for band, lo, hi in WIDTH_BANDS_PX:
            sel = (width >= lo) & (width < hi)
            if not sel.any():
                continue
            cal = calibration(p[sel], yd[sel], UNCERTAIN_BELOW)
            out[f"{way}_{lo}_{hi}px"] = cal.__dict__
            print(f"  {name} small tiles {way:>15} {band:>10}: {cal.line()}")
            if way == "T_file_and_rule":  # what the app shows
                out[f"ece_spread_{way}_{lo}_{hi}px"] = _print_spread(p[sel], yd[sel])
    return out


def _print_spread(probs: np.ndarray, y: np.ndarray) -> dict:
    """Print and return ``ece_spread``: whether an ECE is more than a sample this size gives by chance."""
    spread = ece_spread(probs, y)
    print(f"    {spread.line()}")
    return {**spread.__dict__, "within_chance": spread.within_chance}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.measure", description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path, nargs="?", default=DEFAULT_MODEL_PATH, metavar="MODEL.onnx")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz")
    p.add_argument("--proxy-faces", type=int, default=2000, help="faces sampled per test split for the proxy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="also write every number here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    report = measure(args.model, args.data, args.proxy_faces, args.seed)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
