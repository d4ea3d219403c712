"""Carry the training data to a machine that cannot read ``../shared``: pack, then unpack there.

``python -m training.pack --out DIR`` writes the cleaned Training rows and PublicTest (PrivateTest
stays behind: it is read once, here) as lossless WebP mosaics of 64 x 64 faces plus one small npz
of labels and FER+ votes: 51 MB where the source file is 79 MB, small enough to travel with the
working tree to a lent GPU. ``python -m training.pack --unpack DIR --to FILE.npz`` rebuilds a
file ``training.data.load_splits`` reads (its PrivateTest is empty); every pixel is the source's.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np

from training.data import DEFAULT_DATA, SPLITS, load_splits, sha256_of_file

log = logging.getLogger(__name__)

MOSAIC_SIDE = 64  # faces per mosaic row and column: 3072 x 3072 px, well inside WebP's 16383
FACE_PX = 48
PACKED_SPLITS = ("train", "public")


def _mosaics(images: np.ndarray) -> list[np.ndarray]:
    """``(n, 48, 48)`` uint8 faces laid out row by row in square mosaics (the last one padded black)."""
    per = MOSAIC_SIDE * MOSAIC_SIDE
    out = []
    for start in range(0, len(images), per):
        chunk = np.zeros((per, FACE_PX, FACE_PX), np.uint8)
        part = images[start:start + per]
        chunk[:len(part)] = part
        out.append(chunk.reshape(MOSAIC_SIDE, MOSAIC_SIDE, FACE_PX, FACE_PX).transpose(0, 2, 1, 3)
                   .reshape(MOSAIC_SIDE * FACE_PX, MOSAIC_SIDE * FACE_PX))
    return out


def _faces(mosaic: np.ndarray) -> np.ndarray:
    """The inverse of ``_mosaics`` for one mosaic: ``(64 * 64, 48, 48)``."""
    return (mosaic.reshape(MOSAIC_SIDE, FACE_PX, MOSAIC_SIDE, FACE_PX).transpose(0, 2, 1, 3)
            .reshape(-1, FACE_PX, FACE_PX))


def pack(data: Path, out_dir: Path, drop_not_face: bool = True, max_per_split: int | None = None) -> int:
    """Write the cleaned Training and PublicTest rows of ``data`` to ``out_dir``; returns the bytes written."""
    splits, _ = load_splits(data, max_per_split, drop_not_face=drop_not_face)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = np.concatenate([splits[s].images for s in PACKED_SPLITS])
    for i, mosaic in enumerate(_mosaics(images)):
        ok, buf = cv2.imencode(".webp", mosaic, [cv2.IMWRITE_WEBP_QUALITY, 101])  # > 100: lossless
        if not ok:
            raise RuntimeError("WebP encoding failed (this OpenCV build has no WebP)")
        (out_dir / f"faces_{i:03d}.webp").write_bytes(buf.tobytes())
    np.savez_compressed(out_dir / "rows.npz",
                        labels=np.concatenate([splits[s].labels for s in PACKED_SPLITS]).astype(np.uint8),
                        usage=np.concatenate([np.full(len(splits[s]), SPLITS[s], np.uint8) for s in PACKED_SPLITS]),
                        ferplus_votes=np.concatenate([splits[s].votes for s in PACKED_SPLITS]).astype(np.uint8),
                        source_sha256=np.array(sha256_of_file(data)))
    total = sum(p.stat().st_size for p in out_dir.iterdir())
    log.info("packed %d faces (%s) into %s: %.1f MB", len(images),
             ", ".join(f"{s} {len(splits[s])}" for s in PACKED_SPLITS), out_dir, total / 1e6)
    return total


def _read_grey(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"{path} is not a readable image (a damaged copy?); pack the data again")
    return image


def unpack(in_dir: Path, out_npz: Path) -> Path:
    """Rebuild an npz with the keys ``load_splits`` reads from a folder ``pack`` wrote."""
    rows = np.load(in_dir / "rows.npz")
    mosaics = sorted(in_dir.glob("faces_*.webp"))
    if not mosaics:
        raise FileNotFoundError(f"no faces_*.webp in {in_dir}: not a folder written by training.pack")
    faces = np.concatenate([_faces(_read_grey(p)) for p in mosaics])
    n = len(rows["labels"])
    out_npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out_npz, images=faces[:n], labels=rows["labels"], usage=rows["usage"],
             ferplus_votes=rows["ferplus_votes"])
    log.info("unpacked %d faces from %s (source sha256 %s) into %s", n, in_dir, rows["source_sha256"], out_npz)
    return out_npz


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the FER2013 + FER+ npz to pack")
    p.add_argument("--out", type=Path, help="folder to pack into")
    p.add_argument("--unpack", type=Path, help="a packed folder to rebuild an npz from (with --to)")
    p.add_argument("--to", type=Path, help="the npz to write when unpacking")
    args = p.parse_args(argv)
    if args.unpack and args.to:
        unpack(args.unpack, args.to)
    elif args.out:
        pack(args.data, args.out)
    else:
        p.error("give --out DIR, or --unpack DIR --to FILE.npz")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
