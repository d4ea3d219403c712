"""Test-time reads of a face only where they can change the answer: views, and a partner network.

The shipped model averages the logits of four views of each face (the face, its mirror image,
its central 44x44 pixels enlarged to 48x48, and that view's mirror; ``training.model``'s
``ExportedEmotionNet``). Most faces are read surely by the first view already, and the other
three never change their top class: on PublicTest, a face whose one view is at least 0.8 sure,
or whose two views are at least 0.6 sure, keeps its four-view top class 99.9 % of the time,
while such faces are half of a gallery. A cascade reads each face in stages: the first stage
for every face, each later one only where the mean of the logits read so far is less sure than
that stage's threshold; the answer is the mean of the logits of every read. The shipped shape
(``ViewCascade.of_views``): the face; its mirror under ``mirror_below``; the zoom pair under
``zoom_below``. Compute falls to 0.57-0.66 of the four views.

A read is a view of the face by one network: 0, the file's own, or 1, a *partner* network
trained apart from it, which the same file carries (``training.partner``). Two networks trained
apart err on different faces, so an unsure face read by both is right more often than when one
network reads it twice.

A model file asks for a cascade with ``view_cascade`` metadata on a graph of one view (JSON
``{"mirror_below": a, "zoom_below": b}``, written by ``python -m training.export --view-cascade
A B``, or ``{"stages": [[[network, view], ...], ...], "below": [t, ...]}``); the graph's softmax
output gives the view's logits back up to a per-face constant that the mean's softmax cancels.
numpy only, like the rest of the run-time model code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.preprocessing import FACE_SIZE_PX
from vocab.labels import EMOTIONS

ZOOM_CROP_PX = 44  # the zoomed view: the central 44x44 pixels scaled back to 48x48 (x1.09)
VIEW_CASCADE_KEY = "view_cascade"
VIEWS = ("face", "mirror", "zoom", "zoom_mirror")
NETWORKS = (0, 1)  # the file's own network and its partner
# The graph input, an int64 scalar with a default of 0, that picks the network of a file carrying
# a partner (an initializer ONNX Runtime lets a caller override; its ``get_inputs`` does not list it).
NETWORK_SWITCH = "network"
_VIEW_WORDS = {"face": "face", "mirror": "mirror", "zoom": "zoomed face", "zoom_mirror": "zoomed mirror"}
_FLOOR = 1e-30  # a class a view rules out keeps a finite log


@dataclass(frozen=True)
class Read:
    """One pass of one network over one view of the faces."""

    network: int
    view: str

    def __post_init__(self) -> None:
        if self.network not in NETWORKS or self.view not in VIEWS:
            raise ValueError(f"a read is [network {NETWORKS}, view {VIEWS}], got [{self.network!r}, {self.view!r}]")


@dataclass(frozen=True)
class ViewCascade:
    """``stages`` of reads; stage ``k + 1`` is read where the mean of the reads so far has a top
    probability under ``below[k]``."""

    stages: tuple[tuple[Read, ...], ...]
    below: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.stages or any(not stage for stage in self.stages):
            raise ValueError("a cascade needs at least one stage, and every stage a read")
        if len(self.below) != len(self.stages) - 1:
            raise ValueError(f"{len(self.stages)} stages need {len(self.stages) - 1} thresholds, got {len(self.below)}")
        for value in self.below:
            if not 0.0 <= value <= 1.0:  # also refuses NaN
                raise ValueError(f"thresholds must be probabilities from 0 to 1, got {value!r}")

    @classmethod
    def of_views(cls, mirror_below: float, zoom_below: float) -> ViewCascade:
        """The one-network cascade: the face; its mirror; the zoomed pair."""
        return cls(((Read(0, "face"),), (Read(0, "mirror"),), (Read(0, "zoom"), Read(0, "zoom_mirror"))),
                   (mirror_below, zoom_below))

    @property
    def networks(self) -> frozenset[int]:
        return frozenset(r.network for stage in self.stages for r in stage)

    def to_json(self) -> str:
        return json.dumps({"stages": [[[r.network, r.view] for r in stage] for stage in self.stages],
                           "below": list(self.below)})

    def describe(self) -> str:
        """In words, for the model card: which reads, from which doubt on."""
        def stage_text(stage: tuple[Read, ...]) -> str:
            return ", and the ".join(f"{'partner' if net else 'model'} reads the "
                             + " and ".join(_VIEW_WORDS[r.view] for r in stage if r.network == net)
                             for net in sorted({r.network for r in stage}))
        parts = ["the " + stage_text(self.stages[0])]
        parts += [f"where the top probability so far is under {t:g}, the {stage_text(stage)}"
                  for stage, t in zip(self.stages[1:], self.below, strict=True)]
        return "; ".join(parts) + "; the logits of the reads made are averaged"

    @classmethod
    def from_json(cls, text: str) -> ViewCascade:
        """Parse the metadata (either form of the module notes); ValueError in one line for anything else."""
        try:
            d = json.loads(text)
            if "stages" not in d:
                return cls.of_views(float(d["mirror_below"]), float(d["zoom_below"]))
            stages = tuple(tuple(Read(int(net), str(view)) for net, view in stage) for stage in d["stages"])
            return cls(stages, tuple(float(t) for t in d["below"]))
        except (json.JSONDecodeError, TypeError, KeyError, ValueError) as e:
            raise ValueError(f'expected {{"mirror_below": 0..1, "zoom_below": 0..1}} or {{"stages": [[[network, view], '
                             f'...], ...], "below": [0..1, ...]}}, got {text!r} ({e})') from None


@dataclass(frozen=True)
class CascadeReading:
    """``probabilities`` ``(n, 7)`` float32 (softmax of the mean logits of the reads made) and
    ``views`` ``(n,)`` how many reads of each face were made."""

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


def views_of(faces: np.ndarray, views: list[str]) -> np.ndarray:
    """The ``views`` (names from ``VIEWS``) of ``faces`` ``(n, 1, 48, 48)``, one after another
    along the batch axis; the zoomed face is computed once for both zoomed views."""
    zoom = zoomed(faces) if any(v.startswith("zoom") for v in views) else faces  # unused without a zoomed view
    parts = []
    for v in views:
        source = zoom if v.startswith("zoom") else faces
        parts.append(mirrored(source) if v.endswith("mirror") else source)
    return np.concatenate(parts)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def view_logits(probabilities: np.ndarray) -> np.ndarray:
    """A one-view graph's softmax output as the logits the cascade averages (up to a per-face
    constant), float64; a class the view rules out keeps a finite log."""
    return np.log(np.maximum(probabilities.astype(np.float64), _FLOOR))


StageReader = Callable[[np.ndarray, tuple[Read, ...]], np.ndarray]


def run_cascade(read_stage: StageReader, n: int, cascade: ViewCascade) -> CascadeReading:
    """The cascade's reading of ``n`` faces, where ``read_stage(rows, stage)`` gives the summed
    logits ``(len(rows), 7)`` of ``stage``'s reads of the faces at indices ``rows``. The runtime
    reads them as it goes (``read_with_cascade``); ``training.cascade_search`` looks them up in
    readings made once, so a shape it scores reads faces exactly as the runtime would."""
    total = np.zeros((n, len(EMOTIONS)))
    views = np.zeros(n, np.int64)
    need = np.ones(n, bool)
    for k, stage in enumerate(cascade.stages):
        if k:
            need &= _softmax(total / views[:, None]).max(axis=1) < cascade.below[k - 1]
            if not need.any():
                break
        rows = np.flatnonzero(need)
        total[rows] += read_stage(rows, stage)
        views[rows] += len(stage)
    return CascadeReading(_softmax(total / views[:, None]).astype(np.float32), views)


def read_with_cascade(read: Callable[[np.ndarray, int], np.ndarray], faces: np.ndarray,
                      cascade: ViewCascade) -> CascadeReading:
    """Read ``faces`` ``(n, 1, 48, 48)`` with ``read(x, network)`` (a one-view graph: faces ->
    softmax probabilities), stage by stage as ``cascade`` says; one call of ``read`` per
    network and stage."""
    def read_stage(rows: np.ndarray, stage: tuple[Read, ...]) -> np.ndarray:
        x = faces[rows]
        total = np.zeros((len(rows), len(EMOTIONS)))
        for network in sorted({r.network for r in stage}):
            reads = [r for r in stage if r.network == network]
            logits = view_logits(read(views_of(x, [r.view for r in reads]), network))
            total += logits.reshape(len(reads), len(x), -1).sum(axis=0)
        return total

    return run_cascade(read_stage, len(faces), cascade)
