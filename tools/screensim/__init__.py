"""Simulated meeting screens with ground truth: the detector's test bench.

Whole desktop screens, not only galleries: a Zoom-, Teams- or Meet-like window (maximised or
not) with its toolbar, participants and chat panels (small avatar photos that are not
participants), a gallery, a speaker view with a filmstrip or a shared slide with a strip of
small tiles, camera-off tiles (name, initials, still profile photo), and live tiles with real
photos framed as webcams do and degraded as calls do (masks, turned heads, low light,
backlight, motion blur, pillarboxed phones, codec artefacts). Every screen comes with its
ground truth (faces and their conditions, tiles, display names and their boxes, decoys, UI
text) and is deterministic from a seed::

    from tools.screensim import random_spec, simulate_screen
    screen = simulate_screen(random_spec(7, layout="share", app="teams"))
    screen.image          # (h, w, 3) BGR uint8
    screen.faces[0]       # FaceTruth(xyxy=..., conditions=("frontal", "strip"), ...)

CLI: ``python -m tools.screensim --seed 7 --out x.png`` writes x.png and x.json.
"""

from __future__ import annotations

from tools.screensim.moves import other_page, reflow
from tools.screensim.photos import PhotoPool, load_pool
from tools.screensim.scene import ScreenSpec, random_spec, simulate_screen
from tools.screensim.truth import CONDITIONS, Decoy, FaceTruth, Screen, TextItem, TileTruth

__all__ = ["CONDITIONS", "Decoy", "FaceTruth", "PhotoPool", "Screen", "ScreenSpec", "TextItem", "TileTruth",
           "load_pool", "other_page", "random_spec", "reflow", "simulate_screen"]
