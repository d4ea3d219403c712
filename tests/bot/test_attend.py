"""The attention stage in the real pipeline: where faces look decides whether their expression is read.

Real photos with fitted head poses (AFLW2000-3D in ``../shared/data/headpose``) go through the
whole pipeline (detector, tracker, landmarks, attention, emotion model): people looking down or
turned away get no expression ("Unreadable"), never "Sad"; people facing the camera keep theirs.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_data import shared_dir

from bot.pipeline import Pipeline, build_pipeline
from vocab.labels import ATTENTION_STATES, UNREADABLE
from vocab.protocols import CapturedFrame
from vocab.settings import Config

HEADPOSE = shared_dir() / "data" / "headpose"


def _poses() -> list[tuple[Path, float, float]]:
    if not (HEADPOSE / "labels.csv").is_file():
        pytest.skip(f"head-pose photos not found at {HEADPOSE} (set CLASSMOOD_SHARED to the shared folder)")
    with open(HEADPOSE / "labels.csv", newline="") as fh:
        return [(HEADPOSE / "images" / r["file"], float(r["yaw_deg"]), float(r["pitch_deg"]))
                for r in csv.DictReader(fh)]


def _run(pipeline: Pipeline, path: Path) -> tuple[int, int, int]:
    """(attention code, label, faces) of the one face in one frame (a first reading is held at once)."""
    image = cv2.imread(str(path))
    h, w = image.shape[:2]
    out = pipeline.process(CapturedFrame(image, (0, 0, w, h), 0.0), 1, 0.0, datetime.now(UTC))
    f = out.faces
    if len(f) != 1 or f.attention is None or f.label is None:
        return -1, -1, len(f)
    return int(f.attention[0]), int(f.label[0]), 1


def _each(paths: list[tuple[Path, float, float]]) -> list[tuple[int, int, int]]:
    out = []
    for path, _yaw, _pitch in paths:
        pipeline = build_pipeline(Config(threads=1, names=False))  # each photo is a different person
        try:
            out.append(_run(pipeline, path))
        finally:
            pipeline.close()
    return out


def test_faces_turned_away_are_unreadable_never_sad() -> None:
    away = [p for p in _poses() if 45 < abs(p[1]) < 60 and abs(p[2]) < 15][:10]
    found = [(a, label) for a, label, n in _each(away) if n == 1]
    assert len(found) >= 4
    states = [ATTENTION_STATES[a] for a, _ in found]
    assert "screen" not in states and states.count("away") >= 0.75 * len(states), states
    assert all(label == UNREADABLE for _, label in found)


def test_a_face_read_as_down_or_away_never_gets_an_expression() -> None:
    tipped = [p for p in _poses() if p[2] < -28 and abs(p[1]) < 25][:6]
    found = [(a, label) for a, label, n in _each(tipped) if n == 1]
    assert any(ATTENTION_STATES[a] == "down" for a, _ in found)
    assert all(label == UNREADABLE for a, label in found if ATTENTION_STATES[a] in ("down", "away"))


def test_faces_looking_at_the_camera_keep_their_expression() -> None:
    frontal = [p for p in _poses() if abs(p[1]) < 10 and abs(p[2]) < 10][:6]
    found = [(a, label) for a, label, n in _each(frontal) if n == 1]
    assert len(found) >= 5
    readable = [label for a, label in found if ATTENTION_STATES[a] == "screen"]
    assert len(readable) >= 4 and all(label != UNREADABLE for label in readable)


def test_presence_mode_reads_attention_without_any_emotion() -> None:
    path = next(p for p, yaw, pitch in _poses() if abs(yaw) < 10 and abs(pitch) < 10)
    presence = build_pipeline(Config(threads=1, privacy="presence"))
    try:
        image = cv2.imread(str(path))
        h, w = image.shape[:2]
        out = presence.process(CapturedFrame(image, (0, 0, w, h), 0.0), 1, 0.0, datetime.now(UTC))
    finally:
        presence.close()
    assert presence.classifier is None and len(out.faces) == 1
    assert out.faces.emotion_probs is None and out.faces.attention is not None and out.faces.attention[0] >= 0
    assert np.isfinite(out.faces.head_pose_deg).all()
    assert out.mood is not None and out.mood.attention_share is not None and out.mood.distribution is None
