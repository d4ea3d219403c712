"""Name reading: ``python -m bench.names [--threads 2] [--system-fonts] [--screens DIR] [--errors DIR]``.

Prints, over a fixed set of rendered galleries (``tools.name_labels``: every app style at
10, 12, 14 and 16 px on a 5x5 1080p gallery, mixed fonts, JPEG 85 unless ``--jpeg``), the share
of names read exactly (compared casefolded, letters and digits only, diacritics included), the
share of tiles given a wrong name, and how the recogniser's confidence splits right from wrong
reads (what ``DEFAULT_MIN_CONFIDENCE`` is chosen on); every wrong read, grouped by what went
wrong (``--errors DIR`` also writes each one's label region as a PNG); then the same on other
layouts (3x3 at 1440p and 1080p, 7x7 at 1080p) with short names mixed in; then tiles that must
give no name (no label, Korean text, symbols); then the milliseconds of a first read of a
25-tile 1080p gallery (wall clock and CPU time of this process, all threads) and of a
steady-state frame (same labels, new video noise). ``--screens`` also reads the tiles of real
screenshots (file names and names are printed; nothing is saved). Not a test: numbers depend
on the machine and on what else it is running.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bot.names import DEFAULT_MIN_CONFIDENCE, NameReader, name_key, spelling_key
from models.text_reader import DEFAULT_DET_PATH, DEFAULT_REC_PATH, OnnxTextReader
from tools.name_labels import STYLES, RenderedGallery, font_families, render_gallery, sample_names, short_names

log = logging.getLogger(__name__)
SIZES_PX = (10, 12, 14, 16)
# (grid cols x rows, frame size): layouts beside the 5x5 1080p gallery of the main table.
LAYOUTS = (((3, 3), (2560, 1440)), ((3, 3), (1920, 1080)), ((7, 7), (1920, 1080)))
BRIGHT_GROUND = 150  # grey level under which 30 % of a label's pixels stay: above it, white text on a light wall


@dataclass(frozen=True)
class Read:
    """One rendered tile's name as shown and as read (with no confidence floor), and where."""

    style: str
    px: int
    font: str
    truth: str | None
    read: str | None
    confidence: float
    label: np.ndarray | None  # the label's surroundings in the frame, BGR, for --errors; None if nothing read

    @property
    def exact(self) -> bool:
        return spelling_key(self.truth) == spelling_key(self.read)


def _reads(names_reader: NameReader, gallery: RenderedGallery, style: str, px: int, families: list[str]) -> list[Read]:
    names_reader.clear()
    result = names_reader.read(gallery.image, gallery.tiles_xyxy)
    h, w = gallery.image.shape[:2]
    rows = []
    for i, (truth, read, conf) in enumerate(zip(gallery.texts, result.names, result.confidence, strict=True)):
        x0, y0, x1, y1 = (int(v) for v in result.label_xyxy[i])
        label = None
        if x0 >= 0:
            pad = max(4, (y1 - y0) // 2)
            label = gallery.image[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)].copy()
        rows.append(Read(style, px, families[i % len(families)], truth, read, float(conf), label))
    return rows


def accuracy_table(reader: OnnxTextReader, families: list[str], per_cell: int, seed: int = 0,
                   jpeg_quality: int | None = 85) -> list[Read]:
    """Every rendered tile of the main table (5x5 1080p galleries), read with no confidence floor."""
    names_reader = NameReader(reader, min_confidence=0.0)
    rows = []
    for s_i, style in enumerate(STYLES):
        for px in SIZES_PX:
            names = sample_names(per_cell, seed=seed + 100 * s_i + px)
            grid = (5, -(-per_cell // 5))
            gallery = render_gallery(list(names), grid=grid, size_wh=(1920, 1080 * grid[1] // 5), style=style,
                                     font_px=px, font_family=families, seed=seed + s_i * 17 + px,
                                     jpeg_quality=jpeg_quality)
            rows += _reads(names_reader, gallery, style, px, families)
    return rows


def layout_table(reader: OnnxTextReader, families: list[str], jpeg_quality: int | None = 85,
                 ) -> dict[str, list[Read]]:
    """Reads on other ``LAYOUTS`` at 12 px, a third of the names one to three letters long."""
    names_reader = NameReader(reader, min_confidence=0.0)
    out: dict[str, list[Read]] = {}
    for l_i, (grid, size_wh) in enumerate(LAYOUTS):
        n = grid[0] * grid[1]
        key = f"{grid[0]}x{grid[1]} {size_wh[0]}x{size_wh[1]}"
        for s_i, style in enumerate(STYLES):
            names = sample_names(n, seed=500 + 10 * l_i + s_i)
            names[::3] = short_names(len(names[::3]), seed=600 + 10 * l_i + s_i)
            gallery = render_gallery(list(names), grid=grid, size_wh=size_wh, style=style, font_px=12,
                                     font_family=families, seed=700 + 10 * l_i + s_i, jpeg_quality=jpeg_quality)
            out.setdefault(key, []).extend(_reads(names_reader, gallery, style, 12, families))
    return out


def error_groups(rows: list[Read]) -> dict[str, list[Read]]:
    """The wrong reads, by what went wrong: nothing read, only accents or look-alike letters (the
    identity key agrees: still the same person), other letters."""
    groups: dict[str, list[Read]] = {"nothing read": [], "accents or look-alikes": [], "other letters": []}
    for r in rows:
        if r.exact:
            continue
        if r.label is None:
            groups["nothing read"].append(r)
        elif name_key(r.truth or "") == name_key(r.read or ""):
            groups["accents or look-alikes"].append(r)
        else:
            groups["other letters"].append(r)
    return groups


def bright_ground(label: np.ndarray) -> bool:
    """Light text on a light background (a window or wall behind a Teams/Meet label)."""
    return float(np.percentile(cv2.cvtColor(label, cv2.COLOR_BGR2GRAY), 30)) >= BRIGHT_GROUND


def print_errors(rows: list[Read], folder: Path | None) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    k = 0
    for group, wrong in error_groups(rows).items():
        bright = sum(r.label is not None and bright_ground(r.label) for r in wrong)
        small = sum(r.px <= 12 for r in wrong)
        print(f"  {group}: {len(wrong)} ({small} at 10-12 px, {bright} on a light background)")
        for r in sorted(wrong, key=lambda r: (r.style, r.px)):
            print(f"    {r.style:<17} {r.px:>2} px {r.font:<22} {r.truth!r} -> {r.read!r} @ {r.confidence:.3f}")
            if folder is not None and r.label is not None:
                cv2.imwrite(str(folder / f"wrong_{k:03d}_{r.style}_{r.px}px.png"),
                            cv2.resize(r.label, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST))
                k += 1


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


def timings(reader: OnnxTextReader, families: list[str], runs: int) -> tuple[float, float, float]:
    """Median ms of a first read of a 25-tile 1080p Zoom gallery (wall clock, and CPU time of this
    process over all its threads), and of a steady-state frame (wall clock)."""
    gallery = render_gallery(sample_names(25, seed=42), grid=(5, 5), style="zoom", font_px=13, font_family=families)
    rng = np.random.default_rng(0)
    NameReader(reader).read(gallery.image, gallery.tiles_xyxy)  # ONNX Runtime's first run of a session is slower
    first, first_cpu, steady = [], [], []
    for _ in range(runs):
        names_reader = NameReader(reader)
        t0, c0 = time.perf_counter(), time.process_time()
        names_reader.read(gallery.image, gallery.tiles_xyxy)
        first.append((time.perf_counter() - t0) * 1000)
        first_cpu.append((time.process_time() - c0) * 1000)
        for _ in range(10):
            noisy = cv2.add(gallery.image, rng.integers(0, 3, gallery.image.shape, dtype=np.uint8))
            t0 = time.perf_counter()
            result = names_reader.read(noisy, gallery.tiles_xyxy)
            steady.append((time.perf_counter() - t0) * 1000)
            if result.reads:
                log.warning("steady-state frame re-read %d labels", result.reads)
    return statistics.median(first), statistics.median(first_cpu), statistics.median(steady)


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


def _exact_line(rows: list[Read], floor: float) -> str:
    ok = sum(r.confidence >= floor and r.exact for r in rows) / len(rows)
    bad = sum(r.confidence >= floor and not r.exact for r in rows) / len(rows)
    return f"exact {ok:.1%}, wrong {bad:.1%}, none {max(0.0, 1 - ok - bad):.1%}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.names", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (app default: 2)")
    p.add_argument("--system-fonts", action="store_true", help="also render with installed sans-serif fonts")
    p.add_argument("--per-cell", type=int, default=25, help="tiles per style and size")
    p.add_argument("--jpeg", type=int, default=85, help="JPEG quality of the rendered frames (0: lossless, "
                   "as a live screen capture is; JPEG as a saved screenshot or a screen-shared stream)")
    p.add_argument("--seed", type=int, default=0, help="which names, fonts and backdrops the accuracy table draws "
                   "(one seed's 500 labels vary by about 1.5 points from another's)")
    p.add_argument("--runs", type=int, default=5, help="timed first reads (each followed by 10 steady frames)")
    p.add_argument("--errors", type=Path, help="write each wrong read's label region here as a PNG")
    p.add_argument("--screens", type=Path, help="a folder of real screenshots to read (e.g. ../shared/data/screens)")
    p.add_argument("--rec", type=Path, default=DEFAULT_REC_PATH,
                   help="the recogniser to measure (default: the shipped one), e.g. a training run's output")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    families = font_families(system_fonts=args.system_fonts)
    jpeg = args.jpeg or None
    size_mb = (args.rec.stat().st_size + DEFAULT_DET_PATH.stat().st_size) / 1e6
    print(f"models: {args.rec} + {DEFAULT_DET_PATH.name} ({size_mb:.1f} MB), "
          f"{args.threads} threads; fonts: {', '.join(families)}; JPEG {jpeg or 'off'}")
    with OnnxTextReader(rec_path=args.rec, threads=args.threads) as reader:
        rows = accuracy_table(reader, families, args.per_cell, seed=args.seed, jpeg_quality=jpeg)
        floor = DEFAULT_MIN_CONFIDENCE
        print(f"\nexact names at min_confidence {floor} (wrong = a name that is not the one shown)")
        print(f"{'style':<18} " + " ".join(f"{px:>2} px exact/wrong" for px in SIZES_PX))
        for style in STYLES:
            cells = []
            for px in SIZES_PX:
                cell = [r for r in rows if r.style == style and r.px == px]
                ok = sum(r.confidence >= floor and r.exact for r in cell) / len(cell)
                bad = sum(r.confidence >= floor and not r.exact for r in cell) / len(cell)
                cells.append(f"{ok:>9.1%}/{bad:<6.1%}")
            print(f"{style:<18} " + " ".join(cells))
        print("  by font: " + ", ".join(f"{font} {sum(r.confidence >= floor and r.exact for r in cell)}/{len(cell)}"
                                        for font in families if (cell := [r for r in rows if r.font == font])))
        for t in (0.8, 0.85, 0.9, 0.93, 0.95):
            print(f"  at min_confidence {t:.2f}: {_exact_line(rows, t)}")
        print(f"  all tiles: {len(rows)}; wrong reads at any confidence (truth -> read @ confidence):")
        print_errors(rows, args.errors)
        print(f"\nother layouts, 12 px, a third of the names 1-3 letters, at min_confidence {floor}:")
        for key, layout_rows in layout_table(reader, families, jpeg_quality=jpeg).items():
            print(f"  {key:<15} {len(layout_rows):>3} tiles: {_exact_line(layout_rows, floor)}")
            for r in layout_rows:
                if (r.confidence >= floor and not r.exact) or r.read is None:
                    print(f"    {r.style:<17} {r.truth!r} -> {r.read!r} @ {r.confidence:.3f}")
        total, named = no_name_tiles(reader, families, floor)
        print(f"\ntiles that must give no name: {total}, given a name: {named}")
        first_ms, first_cpu_ms, steady_ms = timings(reader, families, args.runs)
        print(f"\n25-tile 1080p gallery: first read {first_ms:.0f} ms wall, {first_cpu_ms:.0f} ms CPU "
              f"(medians of {args.runs}), steady state {steady_ms:.2f} ms per frame")
        if args.screens:
            print(f"\nreal screenshots in {args.screens}:")
            read_screens(reader, args.screens)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
