"""Name-label crops kept as pictures, for training the recogniser's layers below its output.

``training.text_features`` keeps what the last layer sees (features per step); fine-tuning the
layers below needs the crops themselves. A shard here holds the BGR crops of ``galleries``
rendered galleries (``training.name_crops``, cut by the product's reader) with their texts,
written once and checked on reuse by the reader's sha256 and the seed, as feature shards are.

``script_crops`` gives labels in the scripts the fine-tuning must leave as they were: Chinese
and Japanese (the recogniser's own, whose output columns stay frozen while the layers feeding
them move) and Korean (which it cannot read and must keep giving no name for). Their texts are
random characters: they are only shown to the shipped model, whose reads are the targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.names import NameReader
from models.text_reader import OnnxTextReader, recognition_width
from tools.name_labels import font_installed, render_gallery
from training.data import sha256_of_file
from training.name_corpus import NameMaker, corpus_digest
from training.name_crops import JPEG_QUALITY, SCREENS_WH, TEXT_PX, label_crops
from training.text_features import CJK_START, shard_meta_of


@dataclass
class CropSet:
    """Label crops (BGR uint8, each its own size), the text each shows, and how it was drawn."""

    images: list[np.ndarray]
    texts: list[str]
    fonts: list[str]
    jpeg: list[int]

    def __len__(self) -> int:
        return len(self.images)


def build_crop_shard(path: Path, seed: int, galleries: int, rec_path: Path, threads: int, exclude: set[str]) -> int:
    """Render ``galleries`` galleries from ``seed`` and keep their readable label crops at ``path``."""
    reader = OnnxTextReader(rec_path=rec_path, threads=threads)
    images, texts, fonts, jpeg = [], [], [], []
    for crop in label_crops(reader, NameMaker(seed, exclude), seed, galleries):
        if recognition_width(crop.image) == 0:
            continue
        images.append(crop.image)
        texts.append(crop.text)
        fonts.append(crop.font)
        jpeg.append(crop.jpeg)
    reader.close()
    save_crops(path, CropSet(images, texts, fonts, jpeg), crop_shard_meta(sha256_of_file(rec_path), seed))
    return len(images)


def save_crops(path: Path, crops: CropSet, meta: str) -> None:
    """Write ``crops`` to ``path`` (through a temporary file: a stopped run leaves no half shard)."""
    shapes = np.array([im.shape[:2] for im in crops.images], np.int32).reshape(-1, 2)
    flat = np.concatenate([im.reshape(-1) for im in crops.images]) if crops.images else np.zeros(0, np.uint8)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, shapes=shapes, pixels=flat, text=np.array(crops.texts, dtype=str),
                        font=np.array(crops.fonts, dtype=str), jpeg=np.array(crops.jpeg, np.int32),
                        meta=np.array(meta))
    tmp.rename(path)


def crop_shard_meta(base_sha256: str, seed: int) -> str:
    """What a crop shard was made from: the reader that cut it, the seed and the name corpus."""
    return f"{shard_meta_of(base_sha256, seed)} corpus {corpus_digest()}"


def load_crops(paths: list[Path]) -> CropSet:
    """Every crop of the shards at ``paths``."""
    out = CropSet([], [], [], [])
    for path in paths:
        with np.load(path) as z:
            pixels = z["pixels"]
            start = 0
            for h, w in z["shapes"]:
                size = int(h) * int(w) * 3
                out.images.append(pixels[start:start + size].reshape(int(h), int(w), 3))
                start += size
            out.texts += [str(t) for t in z["text"]]
            out.fonts += [str(f) for f in z["font"]]
            out.jpeg += [int(q) for q in z["jpeg"]]
    return out


SCRIPT_FONTS = ("NanumGothic", "WenQuanYi Micro Hei")  # Hanja, kana, Hangul; simplified and traditional Chinese
HANGUL = (0xAC00, 0xD7A3)


def _script_names(rng: np.random.Generator, ideographs: list[str], count: int) -> list[str]:
    """``count`` labels of 2-4 random characters: ideographs and kana (4 in 5) or Hangul syllables,
    sometimes with a Latin name or a role beside them, as people write them."""
    out = []
    for _ in range(count):
        n = int(rng.integers(2, 5))
        if rng.random() < 0.8:
            text = "".join(ideographs[int(i)] for i in rng.integers(len(ideographs), size=n))
        else:
            text = "".join(chr(int(c)) for c in rng.integers(HANGUL[0], HANGUL[1] + 1, size=n))
        if rng.random() < 0.2:
            text = f"{text} {('Wang', 'Kim', 'Lee', 'Sato', '(TA)')[int(rng.integers(5))]}"
        out.append(text)
    return out


def ideographs_drawn(classes: list[str]) -> list[str]:
    """The recogniser's CJK letters (ideographs, kana) that ``SCRIPT_FONTS`` draw."""
    from PyQt5.QtGui import QFont, QFontMetrics

    font_installed(SCRIPT_FONTS[0])  # starts Qt
    metrics = [QFontMetrics(QFont(family)) for family in SCRIPT_FONTS if font_installed(family)]
    cjk = [c for c in classes if len(c) == 1 and ord(c) >= CJK_START and c.isalpha()]
    return [c for c in cjk if any(m.inFontUcs4(ord(c)) for m in metrics)]


def script_crops(rec_path: Path, seed: int, galleries: int, ideographs: list[str]) -> list[np.ndarray]:
    """Label crops of ``galleries`` galleries of CJK and Hangul labels, cut by the product's reader
    (its label boxes; the read itself is not used)."""
    rng = np.random.default_rng(seed)
    images = []
    with OnnxTextReader(rec_path=rec_path, threads=1) as reader:
        names = NameReader(reader, min_confidence=0.0)
        for _ in range(galleries):
            cols, rows = (5, 4) if rng.random() < 0.5 else (4, 3)
            jpeg = None if rng.random() < 0.3 else int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
            gallery = render_gallery(_script_names(rng, ideographs, cols * rows), grid=(cols, rows),
                                     size_wh=SCREENS_WH[int(rng.integers(len(SCREENS_WH)))],
                                     style=("zoom", "teams", "meet", "camera_off")[int(rng.integers(4))],
                                     font_px=int(rng.integers(max(12, TEXT_PX[0]), TEXT_PX[1] + 1)),
                                     font_family=list(SCRIPT_FONTS), jpeg_quality=jpeg,
                                     seed=int(rng.integers(1 << 30)))
            found = names.read(gallery.image, gallery.tiles_xyxy)
            names.clear()
            for x0, y0, x1, y1 in found.label_xyxy.tolist():
                if x0 >= 0 and x1 - x0 >= 4 and y1 - y0 >= 4:
                    crop = gallery.image[y0:y1, x0:x1].copy()
                    if recognition_width(crop):
                        images.append(crop)
    return images
