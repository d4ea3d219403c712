"""Test-time views read only where they can change the answer: the face, its mirror, the zoom pair.

The shipped model averages the logits of four views of each face (the face, its mirror image,
its central 44x44 pixels enlarged to 48x48, and that view's mirror; ``training.model``'s
``ExportedEmotionNet``). Most faces are read surely by the first view already, and the other
three never change their top class: on PublicTest, a face whose one view is at least 0.8 sure,
or whose two views are at least 0.6 sure, keeps its four-view top class 99.9 % of the time,
while such faces are half of a gallery. A cascade reads the face; adds its mirror where the one
view is less sure than ``mirror_below``; adds the zoom pair where the two views are less sure
than ``zoom_below``; and averages the logits of the views it read, as the four-view graph does.
Compute falls to 0.57-0.66 of the four views (faces in small tiles are the less sure ones).

A model file asks for it with ``view_cascade`` metadata (JSON ``{"mirror_below": a,
"zoom_below": b}``, written by ``python -m training.export --view-cascade A B``) on a graph of
one view, whose softmax output gives the view's logits back up to a per-face constant that the
average's softmax cancels. numpy only, like the rest of the run-time model code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.preprocessing import FACE_SIZE_PX

ZOOM_CROP_PX = 44  # the zoomed view: the central 44x44 pixels scaled back to 48x48 (x1.09)
VIEW_CASCADE_KEY = "view_cascade"
_FLOOR = 1e-30  # a class a view rules out keeps a finite log


@dataclass(frozen=True)
class ViewCascade:
    """Thresholds on the top probability: under ``mirror_below`` (one view) the mirror is read
    too; under ``zoom_below`` (two views averaged) the zoom pair as well."""

    mirror_below: float
    zoom_below: float

    def __post_init__(self) -> None:
        for name in ("mirror_below", "zoom_below"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:  # also refuses NaN
                raise ValueError(f"{name} must be a probability from 0 to 1, got {value!r}")

    def to_json(self) -> str:
        return json.dumps({"mirror_below": self.mirror_below, "zoom_below": self.zoom_below})

    @classmethod
    def from_json(cls, text: str) -> ViewCascade:
        """Parse the metadata; ValueError in one line for anything else."""
        try:
            d = json.loads(text)
            return cls(float(d["mirror_below"]), float(d["zoom_below"]))
        except (json.JSONDecodeError, TypeError, KeyError, ValueError) as e:
            raise ValueError(f'expected {{"mirror_below": 0..1, "zoom_below": 0..1}}, got {text!r} ({e})') from None


@dataclass(frozen=True)
class CascadeReading:
    """``probabilities`` ``(n, 7)`` float32 (softmax of the mean logits of the views read) and
    ``views`` ``(n,)`` how many views of each face were read (1, 2 or 4)."""

    probabilities: np.ndarray
    views: np.ndarray


def mirrored(faces: np.ndarray) -> np.ndarray:
    """``(n, 1, 48, 48)`` faces flipped left to right."""
    return np.ascontiguousarray(faces[..., ::-1])


def _bilinear_matrix(out_px: int, in_px: int) -> np.ndarray:
    """``(out_px, in_px)`` weights of a bilinear resize with half-pixel centres (PyTorch's
    ``interpolate(..., align_corners=False)``, OpenCV's ``INTER_LINEAR``) along one axis."""
    src = np.maximum((np.arange(out_px) + 0.5) * in_px / out_px - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(int), in_px - 1)
    hi = np.minimum(lo + 1, in_px - 1)
    w = src - lo
    m = np.zeros((out_px, in_px))
    m[np.arange(out_px), lo] += 1 - w
    m[np.arange(out_px), hi] += w
    return m.astype(np.float32)


_ZOOM = _bilinear_matrix(FACE_SIZE_PX, ZOOM_CROP_PX)


def zoomed(faces: np.ndarray) -> np.ndarray:
    """``(n, 1, 48, 48)``: the central 44x44 pixels of each face enlarged back to 48x48, the
    graph's zoomed view (``training.model.zoomed``)."""
    m = (FACE_SIZE_PX - ZOOM_CROP_PX) // 2
    crop = faces[..., m:m + ZOOM_CROP_PX, m:m + ZOOM_CROP_PX]
    return np.ascontiguousarray(_ZOOM @ crop @ _ZOOM.T, dtype=np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def read_with_cascade(read_view: Callable[[np.ndarray], np.ndarray], faces: np.ndarray,
                      cascade: ViewCascade) -> CascadeReading:
    """Read ``faces`` ``(n, 1, 48, 48)`` with ``read_view`` (a one-view graph: faces -> softmax
    probabilities), adding views as ``cascade`` says; at most three calls of ``read_view``."""

    def logits(x: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(read_view(x).astype(np.float64), _FLOOR))

    total = logits(faces)
    views = np.ones(len(faces), np.int64)
    need = _softmax(total).max(axis=1) < cascade.mirror_below
    if need.any():
        total[need] += logits(mirrored(faces[need]))
        views[need] = 2
        need &= _softmax(total / views[:, None]).max(axis=1) < cascade.zoom_below
        if need.any():
            z = zoomed(faces[need])
            pair = logits(np.concatenate([z, mirrored(z)]))
            k = int(need.sum())
            total[need] += pair[:k] + pair[k:]
            views[need] = 4
    return CascadeReading(_softmax(total / views[:, None]).astype(np.float32), views)
