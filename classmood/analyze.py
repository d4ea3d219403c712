"""``classmood analyze``: every face in one screenshot (or each image of a folder), as plain data.

``analyze_images`` returns one dict per image; ``face_line`` renders one face for the terminal
from the very dict that ``--json`` prints, so the two outputs cannot disagree (an uncertain
face is "Uncertain (best guess Happy 37%)" in the text, never a plain "Happy 37%").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.pipeline import Pipeline, build_pipeline
from bot.sources import folder_images, read_image
from vocab.errors import CaptureError
from vocab.labels import EMOTIONS, UNCERTAIN, attention_text, eyes_text
from vocab.protocols import CapturedFrame
from vocab.settings import Config, SourceKind, SourceSpec
from vocab.types import FrameResult


def analyze_image(config: Config, image_path: Path) -> dict[str, Any]:
    """The faces of one image: box, tile, detection score and (unless presence-only) the emotion.

    ``emotion``/``confidence`` are the model's reading of this one image (no smoothing over
    time); ``uncertain`` is true when that confidence is under ``config.uncertain_below``, the
    same rule the live run applies.
    """
    image = read_image(image_path)
    pipeline = build_pipeline(_reading_files(config, image_path))
    try:
        return _analyze(pipeline, image_path, image)
    finally:
        pipeline.close()


def analyze_images(config: Config, path: Path) -> Iterator[dict[str, Any]]:
    """``analyze_image`` for an image, or for each image of a folder in name order (models load once).

    Each image is read on its own (no tracking or smoothing carried from one to the next). An
    unreadable image in a folder gives ``{"image": ..., "error": ...}`` and the next one is read.
    """
    if not path.is_dir():
        yield analyze_image(config, path)
        return
    images = folder_images(path)
    pipeline = build_pipeline(_reading_files(config, path))
    try:
        for image_path in images:
            try:
                image = read_image(image_path)
            except CaptureError as e:
                yield {"image": str(image_path), "error": str(e)}
                continue
            yield _analyze(pipeline.fresh(), image_path, image)
    finally:
        pipeline.close()


def _reading_files(config: Config, path: Path) -> Config:
    """``config`` with ``path`` as its source: a screenshot is not the live screen (the float
    model, every name label read at once; see ``build_pipeline``), whatever the saved source."""
    kind = SourceKind.FOLDER if path.is_dir() else SourceKind.IMAGE
    return dataclasses.replace(config, source=SourceSpec(kind, path=path))


def _analyze(pipeline: Pipeline, image_path: Path, image: Any) -> dict[str, Any]:
    h, w = image.shape[:2]
    frame = pipeline.process(CapturedFrame(image, (0, 0, w, h), 0.0), 1, 0.0, datetime.now(UTC))
    return {"image": str(image_path), "width": w, "height": h, "tiles": tiles_json(frame),
            "faces": faces_json(frame)}


def tiles_json(frame: FrameResult) -> list[dict[str, Any]]:
    """Every tile: its box (x, y, w, h), the display name read on it (None where unreadable or
    names are off) and whether a face is on it (``camera_on``)."""
    with_face = {tuple(t) for t in frame.faces.tile_xyxy.tolist()}
    names = frame.tile_names or (None,) * len(frame.tiles_xyxy)
    out = []
    for (x1, y1, x2, y2), name in zip(frame.tiles_xyxy.tolist(), names, strict=True):
        out.append({"box": [x1, y1, x2 - x1, y2 - y1], "name": name, "camera_on": (x1, y1, x2, y2) in with_face})
    return out


def faces_json(frame: FrameResult) -> list[dict[str, Any]]:
    """One dict per face, in reading order (tile row, tile column, then position in the tile).

    With emotions on, ``emotion``/``confidence``/``probabilities`` are None for a face whose
    expression cannot be read (``unreadable``: looking away, eyes closed, covered).
    """
    f = frame.faces
    faces = []
    for i in range(len(f)):
        x1, y1, x2, y2 = (int(round(v)) for v in f.xyxy[i])
        tx1, ty1, tx2, ty2 = (int(v) for v in f.tile_xyxy[i])
        item: dict[str, Any] = {"box": [x1, y1, x2 - x1, y2 - y1], "tile": [tx1, ty1, tx2 - tx1, ty2 - ty1],
                                "detection_score": round(float(f.score[i]), 4),
                                "name": f.name[i] if f.name is not None else None}
        if f.attention is not None and f.head_pose_deg is not None and f.eyes_closed is not None:
            pose = f.head_pose_deg[i]
            # Degrees; yaw > 0: the face turns towards the image's left; pitch > 0: looking up;
            # roll > 0: the head tilts clockwise as seen on the screen.
            item["head_pose"] = ({"yaw": round(float(pose[0]), 1), "pitch": round(float(pose[1]), 1),
                                  "roll": round(float(pose[2]), 1)} if np.isfinite(pose).all() else None)
            item["eyes"] = eyes_text(int(f.eyes_closed[i]))
            item["attention"] = attention_text(int(f.attention[i]))
        probs = f.smoothed_probs if f.smoothed_probs is not None else f.emotion_probs
        if probs is not None and not np.isfinite(probs[i]).all():
            # Looking away, eyes closed, covered: no expression to report (and no NaN in the JSON).
            item.update(emotion=None, confidence=None, uncertain=False, unreadable=True, probabilities=None)
        elif probs is not None:
            p = probs[i]
            k = int(p.argmax())
            item.update(emotion=EMOTIONS[k], confidence=round(float(p[k]), 4),
                        uncertain=bool(f.label is not None and f.label[i] == UNCERTAIN), unreadable=False,
                        probabilities={e: round(float(v), 4) for e, v in zip(EMOTIONS, p, strict=True)})
        faces.append(item)
    faces.sort(key=lambda d: (d["tile"][1], d["tile"][0], d["box"][1], d["box"][0]))
    return faces


def face_line(number: int, face: dict[str, Any]) -> str:
    """One face of ``faces_json`` for the terminal: its box and what the JSON says of its expression."""
    x, y, bw, bh = face["box"]
    if "emotion" not in face:
        what = "present"
    elif face["unreadable"]:
        what = "Unreadable (looking away, eyes closed or covered)"
    elif face["uncertain"]:
        what = f"Uncertain (best guess {face['emotion']} {face['confidence']:.0%})"
    else:
        what = f"{face['emotion']:<8} {face['confidence']:.0%}"
    return f"  {number:>2}. box x={x} y={y} w={bw} h={bh}  {what}"
