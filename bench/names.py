"""Name reading: ``python -m bench.names [--threads 2] [--system-fonts] [--screens DIR] [--per-cell 25]``.

Prints, over a fixed set of rendered galleries (``tools.name_labels``: every app style at
10, 12, 14 and 16 px, mixed fonts, JPEG), the share of names read exactly (compared
casefolded, letters and digits only, diacritics included), the share of tiles given a wrong
name, and how the recogniser's confidence splits right from wrong reads (what
``DEFAULT_MIN_CONFIDENCE`` is chosen on); then tiles that must give no name (no label,
Korean text, symbols); then the milliseconds of a first read of a 25-tile 1080p gallery and of
a steady-state frame (same labels, new video noise). ``--screens`` also reads the tiles of
real screenshots (file names and names are printed; nothing is saved). Not a test: numbers
depend on the machine and on what else it is running.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from bot.names import DEFAULT_MIN_CONFIDENCE, NameReader
from models.text_reader import DEFAULT_DET_PATH, DEFAULT_REC_PATH, OnnxTextReader
from tools.name_labels import STYLES, font_families, render_gallery, sample_names

log = logging.getLogger(__name__)
SIZES_PX = (10, 12, 14, 16)


def comparable(text: str | None) -> str:
    """The text as the targets compare it: casefolded, letters and digits only."""
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


def accuracy_table(reader: OnnxTextReader, families: list[str], per_cell: int, seed: int = 0,
                   ) -> list[tuple[str, int, str | None, str | None, float]]:
    """(style, px, truth, read, confidence) for every rendered tile, read with no confidence floor."""
    names_reader = NameReader(reader, min_confidence=0.0)
    rows = []
    for s_i, style in enumerate(STYLES):
        for px in SIZES_PX:
            names = sample_names(per_cell, seed=seed + 100 * s_i + px)
            grid = (5, -(-per_cell // 5))
            gallery = render_gallery(list(names), grid=grid, size_wh=(1920, 1080 * grid[1] // 5), style=style,
                                     font_px=px, font_family=families, seed=seed + s_i * 17 + px)
            names_reader.clear()
            result = names_reader.read(gallery.image, gallery.tiles_xyxy)
            for truth, read, conf in zip(gallery.texts, result.names, result.confidence, strict=True):
                rows.append((style, px, truth, read, float(conf)))
    return rows


def no_name_tiles(reader: OnnxTextReader, families: list[str], min_confidence: float) -> tuple[int, int]:
    """(tiles, tiles given a name) over tiles that must give None: no label, Korean, symbols only."""
    names_reader = NameReader(reader, min_confidence=min_confidence)
    hostile: list[str | None] = [None] * 10 + ["김민준", "이서연 20231047", "박지훈", "최유진"]
    hostile += ["▮▯▲△●○◆◇", "☺☻♥♦♣♠•◘"]
    total = wrong = 0
    for style in ("zoom", "teams", "meet", "camera_off"):
        gallery = render_gallery(hostile, grid=(4, 4), style=style, font_px=14, font_family=families, seed=5)
        result = names_reader.read(gallery.image, gallery.tiles_xyxy)
        names_reader.clear()
        for shown, read in zip(hostile, result.names, strict=True):
            total += 1
            if read is not None:
                wrong += 1
                print(f"  no-name tile ({style}) shown {shown!r} read as {read!r}")
    return total, wrong


def timings(reader: OnnxTextReader, families: list[str], runs: int) -> tuple[float, float]:
    """Median ms of a first read of a 25-tile 1080p Zoom gallery, and of a steady-state frame."""
    gallery = render_gallery(sample_names(25, seed=42), grid=(5, 5), style="zoom", font_px=13, font_family=families)
    rng = np.random.default_rng(0)
    first, steady = [], []
    for _ in range(runs):
        names_reader = NameReader(reader)
        t0 = time.perf_counter()
        names_reader.read(gallery.image, gallery.tiles_xyxy)
        first.append((time.perf_counter() - t0) * 1000)
        for _ in range(10):
            noisy = cv2.add(gallery.image, rng.integers(0, 3, gallery.image.shape, dtype=np.uint8))
            t0 = time.perf_counter()
            result = names_reader.read(noisy, gallery.tiles_xyxy)
            steady.append((time.perf_counter() - t0) * 1000)
            if result.reads:
                log.warning("steady-state frame re-read %d labels", result.reads)
    return statistics.median(first), statistics.median(steady)


def read_screens(reader: OnnxTextReader, folder: Path) -> None:
    from bot.tiles import find_tiles

    names_reader = NameReader(reader)
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        tiles = find_tiles(image)
        names_reader.clear()
        t0 = time.perf_counter()
        result = names_reader.read(image, tiles)
        ms = (time.perf_counter() - t0) * 1000
        shown = ", ".join(f"{n!r}" if n else "-" for n in result.names)
        print(f"{path.name}: {len(tiles)} tiles, {ms:.0f} ms: {shown}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.names", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (app default: 2)")
    p.add_argument("--system-fonts", action="store_true", help="also render with installed sans-serif fonts")
    p.add_argument("--per-cell", type=int, default=25, help="tiles per style and size")
    p.add_argument("--runs", type=int, default=5, help="timed first reads (each followed by 10 steady frames)")
    p.add_argument("--screens", type=Path, help="a folder of real screenshots to read (e.g. ../shared/data/screens)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    families = font_families(system_fonts=args.system_fonts)
    size_mb = (DEFAULT_REC_PATH.stat().st_size + DEFAULT_DET_PATH.stat().st_size) / 1e6
    print(f"models: {DEFAULT_REC_PATH.name} + {DEFAULT_DET_PATH.name} ({size_mb:.1f} MB), "
          f"{args.threads} threads; fonts: {', '.join(families)}")
    with OnnxTextReader(threads=args.threads) as reader:
        rows = accuracy_table(reader, families, args.per_cell)
        floor = DEFAULT_MIN_CONFIDENCE
        print(f"\nexact names at min_confidence {floor} (wrong = a name that is not the one shown)")
        print(f"{'style':<18} " + " ".join(f"{px:>2} px exact/wrong" for px in SIZES_PX))
        for style in STYLES:
            cells = []
            for px in SIZES_PX:
                cell = [r for r in rows if r[0] == style and r[1] == px]
                ok = sum(r[4] >= floor and comparable(r[2]) == comparable(r[3]) for r in cell) / len(cell)
                bad = sum(r[4] >= floor and comparable(r[2]) != comparable(r[3]) for r in cell) / len(cell)
                cells.append(f"{ok:>9.1%}/{bad:<6.1%}")
            print(f"{style:<18} " + " ".join(cells))
        right = [r[4] for r in rows if comparable(r[2]) == comparable(r[3])]
        wrong = [r for r in rows if comparable(r[2]) != comparable(r[3])]
        for t in (0.8, 0.85, 0.9, 0.93, 0.95):
            ok = sum(c >= t for c in right) / len(rows)
            bad = sum(r[4] >= t for r in wrong) / len(rows)
            print(f"  at min_confidence {t:.2f}: exact {ok:.1%}, wrong {bad:.1%}, none {1 - ok - bad:.1%}")
        print(f"  all tiles: {len(rows)}; wrong reads (truth -> read @ confidence), first 25:")
        for r in sorted(wrong, key=lambda r: -r[4])[:25]:
            print(f"    {r[0]:<17} {r[1]:>2} px  {r[2]!r} -> {r[3]!r} @ {r[4]:.3f}")
        total, named = no_name_tiles(reader, families, floor)
        print(f"\ntiles that must give no name: {total}, given a name: {named}")
        first_ms, steady_ms = timings(reader, families, args.runs)
        print(f"\n25-tile 1080p gallery: first read {first_ms:.0f} ms (median of {args.runs}), "
              f"steady state {steady_ms:.2f} ms per frame")
        if args.screens:
            print(f"\nreal screenshots in {args.screens}:")
            read_screens(reader, args.screens)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
