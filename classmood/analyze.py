"""``classmood analyze``: every face in one screenshot (or each image of a folder), as plain data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.pipeline import build_pipeline
from bot.sources import read_image
from vocab.labels import EMOTIONS, UNCERTAIN
from vocab.protocols import CapturedFrame
from vocab.settings import Config
from vocab.types import FrameResult


def analyze_image(config: Config, image_path: Path) -> dict[str, Any]:
    """The faces of one image: box, tile, detection score and (unless presence-only) the emotion.

    ``emotion``/``confidence`` are the model's reading of this one image (no smoothing over
    time); ``uncertain`` is true when that confidence is under ``config.uncertain_below``, the
    same rule the live run applies.
    """
    image = read_image(image_path)
    pipeline = build_pipeline(config)
    try:
        h, w = image.shape[:2]
        frame = pipeline.process(CapturedFrame(image, (0, 0, w, h), 0.0), 1, 0.0, datetime.now(UTC))
    finally:
        pipeline.close()
    return {"image": str(image_path), "width": w, "height": h, "tiles": len(frame.tiles_xyxy),
            "faces": faces_json(frame)}


def faces_json(frame: FrameResult) -> list[dict[str, Any]]:
    """One dict per face, in reading order (tile row, tile column, then position in the tile)."""
    f = frame.faces
    faces = []
    for i in range(len(f)):
        x1, y1, x2, y2 = (int(round(v)) for v in f.xyxy[i])
        tx1, ty1, tx2, ty2 = (int(v) for v in f.tile_xyxy[i])
        item: dict[str, Any] = {"box": [x1, y1, x2 - x1, y2 - y1], "tile": [tx1, ty1, tx2 - tx1, ty2 - ty1],
                                "detection_score": round(float(f.score[i]), 4)}
        probs = f.smoothed_probs if f.smoothed_probs is not None else f.emotion_probs
        if probs is not None:
            p = probs[i]
            k = int(p.argmax())
            item.update(emotion=EMOTIONS[k], confidence=round(float(p[k]), 4),
                        uncertain=bool(f.label is not None and f.label[i] == UNCERTAIN),
                        probabilities={e: round(float(v), 4) for e, v in zip(EMOTIONS, p, strict=True)})
        faces.append(item)
    faces.sort(key=lambda d: (d["tile"][1], d["tile"][0], d["box"][1], d["box"][0]))
    return faces
