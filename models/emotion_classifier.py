"""The shipped emotion model at run time: ONNX Runtime behind the ``EmotionClassifier`` protocol.

Only numpy and onnxruntime are imported here (never torch), so the desktop app stays small.
The file's contract is checked once at load, so a wrong or damaged file fails at start-up with
one line that says how to fix it instead of failing on the first face:

- one input, float32 ``(N, 1, 48, 48)``, pixels/255 (see ``models.preprocessing.face_tensor``);
- one output, float32 ``(N, 7)``, softmax probabilities in FER2013 order (``vocab.labels``);
- ``metadata_props`` ``labels`` (JSON list, must equal ``EMOTIONS``), ``input_spec`` (JSON),
  ``model_config`` (JSON) and ``flip_average`` (``true``/``false``), written by
  ``python -m training.export``;
- optional ``temperature`` (a number > 0, default 1.0): the calibration temperature chosen on
  PublicTest (``python -m training.calibrate``). ``predict`` returns ``softmax(log p / T)``:
  the same top class, probabilities that match how often the model is right. It is stored as
  metadata, not folded into the weights, so the graph stays the trained one and a file without
  it behaves as before;
- optional ``small_face_temperature`` (JSON ``{"below_px": S, "power": k}``): a face whose box is
  under ``S`` screen pixels wide carries less of its expression than FER2013's 48x48 crops, and
  the model reads it as surely as a large one while it is right less often. When the caller
  says how wide each face was (``predict(faces, face_px)``), such a face's temperature is
  ``T x (S / width) ** k``: the same top class, a confidence that matches the small face.
  Fitted with ``T`` by ``python -m training.calibrate`` on PublicTest faces in small and large
  gallery tiles;
- optional ``view_cascade`` (JSON, ``models.view_cascade``) on a graph of one view: ``predict``
  reads each face's mirror and zoomed views, or a partner network's views, only where the reads
  so far are unsure, the four-view answer for 0.57-0.66 of its compute. A cascade that reads the
  partner needs the graph's ``network`` switch (``training.partner``). Temperatures apply to the
  cascade's output.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.model_file import open_session
from models.ort_session import ort
from models.preprocessing import FACE_SIZE_PX
from models.view_cascade import NETWORK_SWITCH, VIEW_CASCADE_KEY, ViewCascade, read_with_cascade
from vocab.errors import ModelError, one_line
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "emotion.onnx"
# The live default: int8 (``python -m training.quantize``, 3.5x cheaper a view) with a view
# cascade (``models.view_cascade``, 2.3 views a face instead of 4); same contract.
INT8_MODEL_PATH = DEFAULT_MODEL_PATH.with_name("emotion_int8.onnx")
INPUT_SHAPE = (1, FACE_SIZE_PX, FACE_SIZE_PX)  # per face, after the dynamic batch axis
REQUIRED_METADATA = ("labels", "input_spec", "model_config", "flip_average")
TEMPERATURE_KEY = "temperature"
SMALL_FACE_KEY = "small_face_temperature"
_TEMPERATURE_RANGE = (0.05, 20.0)  # anything outside is a broken file, not a calibration
_FIX_REINSTALL = "reinstall ClassMood or rebuild it with `python -m training.export CHECKPOINT --out {path}`"


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / temperature)`` row by row, float32 ``(n, k)``.

    For probabilities that are a softmax of logits ``z`` this equals ``softmax(z / T)`` exactly
    (``log p`` is ``z`` minus a per-row constant), so calibrating the shipped file's output is
    the same as dividing its logits. ``T > 1`` softens, ``T < 1`` sharpens; the argmax never
    changes. Zeros are floored at 1e-30 so a class the model rules out stays ruled out.
    """
    return apply_temperatures(probs, np.full(len(probs), temperature))


@dataclass(frozen=True)
class SmallFaceTemperature:
    """How much softer a small face is read: ``(below_px / width) ** power`` under ``below_px``."""

    below_px: float
    power: float

    def factors(self, face_px: np.ndarray) -> np.ndarray:
        """``(n,)`` float64 temperature multipliers for faces ``face_px`` pixels wide (1 from ``below_px`` up)."""
        width = np.maximum(np.asarray(face_px, dtype=np.float64), 1.0)
        return np.maximum(1.0, self.below_px / width) ** self.power

    def to_json(self) -> str:
        return json.dumps({"below_px": self.below_px, "power": self.power})


def apply_temperatures(probs: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """``apply_temperature`` with one temperature per row ``(n,)``."""
    z = np.log(np.maximum(np.asarray(probs, dtype=np.float64), 1e-30)) / np.asarray(temperatures)[:, None]
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class OnnxEmotionClassifier:
    """Emotion probabilities for preprocessed faces, from the shipped ONNX file.

    Args:
        path: the ``.onnx`` file; ``None`` means the packaged ``models/emotion.onnx``.
        threads: ONNX Runtime intra-op threads; ``None`` lets ONNX Runtime choose (all cores).
            The live pipeline passes a small number so capture and the UI keep a core.

    Attributes:
        path: resolved model path.
        sha256: hex digest of the file bytes that were loaded (stored with each session so
            results can be traced to the exact model).
        labels: class names read from the file's metadata, FER2013 order.
        flip_average: whether the graph averages each face with its mirror image (twice the cost).
        temperature: the calibration temperature ``predict`` applies (1.0: none), from the
            file's ``temperature`` metadata.
        small_faces: the file's ``small_face_temperature`` rule, or None (every face gets
            ``temperature``).
        view_cascade: the file's ``view_cascade``, or None (the graph reads its own views).
        graph_views: how many views of a face one pass of the graph averages (1, 2 or 4).
        faces_read, views_read: how many faces ``predict`` has read and how many views of them
            the networks ran on (``views_read / faces_read`` is the cascade's cost in views a face).
        input_spec, model_config: the parsed JSON metadata.

    Raises:
        ModelError: the file is missing, unreadable, or breaks the contract above.
    """

    def __init__(self, path: Path | str | None = None, threads: int | None = None) -> None:
        self.path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        fix = _FIX_REINSTALL.format(path=self.path)
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {threads}")
        # Any emotion model is used without a warning (retrained ones are expected): no shipped digest.
        session, self.sha256 = open_session(self.path, "emotion", (), threads, fix)
        self._session: ort.InferenceSession | None = session

        self._input_name, self._output_name = self._check_io(self._session, fix)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.metadata: dict[str, str] = dict(meta)  # everything training.export wrote, for tools like the card
        self.labels, self.input_spec, self.model_config, self.flip_average = self._parse_metadata(meta, fix)
        self.temperature = self._parse_temperature(meta, fix)
        self.small_faces = self._parse_small_faces(meta, fix)
        self.view_cascade = self._parse_view_cascade(meta, session, fix)
        self.faces_read = self.views_read = 0
        self.graph_views = (2 if self.flip_average else 1) * (2 if meta.get("zoom_average") == "true" else 1)
        log.info("emotion model %s (sha256 %s…, flip_average=%s, temperature=%.3f%s%s, threads=%s)",
                 self.path, self.sha256[:12], self.flip_average, self.temperature,
                 f", softer under {self.small_faces.below_px:g} px" if self.small_faces else "",
                 f", views cascade {self.view_cascade.to_json()}" if self.view_cascade else "", threads or "auto")

    def _check_io(self, session: ort.InferenceSession, fix: str) -> tuple[str, str]:
        """Names of the single input and output, after checking their shapes and types."""
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"emotion model {self.path} breaks the contract: needs 1 input and 1 output, "
                             f"has {len(inputs)} and {len(outputs)}; {fix}")
        for arg, want in ((inputs[0], INPUT_SHAPE), (outputs[0], (len(EMOTIONS),))):
            shape = tuple(arg.shape)
            # The batch axis must be symbolic (a name) or unknown, never a fixed number.
            ok_shape = len(shape) == 1 + len(want) and not isinstance(shape[0], int) and shape[1:] == want
            if arg.type != "tensor(float)" or not ok_shape:
                raise ModelError(f"emotion model {self.path} breaks the contract: {arg.name!r} is {arg.type} "
                                 f"{list(shape)}, expected tensor(float) [N, {', '.join(map(str, want))}]; {fix}")
        return inputs[0].name, outputs[0].name

    def _parse_metadata(self, meta: dict[str, str], fix: str) -> tuple[tuple[str, ...], dict, dict, bool]:
        missing = [k for k in REQUIRED_METADATA if k not in meta]
        if missing:
            raise ModelError(f"emotion model {self.path} lacks metadata {missing}; {fix}")
        try:
            labels = tuple(json.loads(meta["labels"]))
            input_spec = json.loads(meta["input_spec"])
            model_config = json.loads(meta["model_config"])
        except (json.JSONDecodeError, TypeError) as e:
            raise ModelError(f"emotion model {self.path} has unreadable metadata ({one_line(e)}); {fix}") from None
        if labels != EMOTIONS:
            raise ModelError(f"emotion model {self.path} has labels {list(labels)}, expected {list(EMOTIONS)}; {fix}")
        if meta["flip_average"] not in ("true", "false"):
            raise ModelError(f"emotion model {self.path} has flip_average={meta['flip_average']!r}, "
                             f"expected 'true' or 'false'; {fix}")
        return labels, input_spec, model_config, meta["flip_average"] == "true"

    def _parse_temperature(self, meta: dict[str, str], fix: str) -> float:
        """The ``temperature`` metadata as a float; 1.0 for files written before it existed."""
        text = meta.get(TEMPERATURE_KEY)
        if text is None:
            return 1.0
        try:
            t = float(text)
        except ValueError:
            t = float("nan")
        lo, hi = _TEMPERATURE_RANGE
        if not lo <= t <= hi:  # also refuses NaN
            raise ModelError(f"emotion model {self.path} has temperature={text!r}, expected a number from "
                             f"{lo:g} to {hi:g}; {fix}")
        return t

    def _parse_small_faces(self, meta: dict[str, str], fix: str) -> SmallFaceTemperature | None:
        """The ``small_face_temperature`` metadata; None for files without it."""
        text = meta.get(SMALL_FACE_KEY)
        if text is None:
            return None
        try:
            d = json.loads(text)
            rule = SmallFaceTemperature(float(d["below_px"]), float(d["power"]))
        except (json.JSONDecodeError, TypeError, KeyError, ValueError):
            rule = None
        if rule is None or not (1 <= rule.below_px <= 1000 and 0 <= rule.power <= 5):  # also refuses NaN
            raise ModelError(f"emotion model {self.path} has {SMALL_FACE_KEY}={text!r}, expected "
                             f'{{"below_px": 1..1000, "power": 0..5}}; {fix}')
        return rule

    def _parse_view_cascade(self, meta: dict[str, str], session: ort.InferenceSession,
                            fix: str) -> ViewCascade | None:
        """The ``view_cascade`` metadata; None for files without it. Only a graph of one view may
        carry it (a graph that averages views itself would read them twice)."""
        text = meta.get(VIEW_CASCADE_KEY)
        if text is None:
            return None
        try:
            cascade = ViewCascade.from_json(text)
        except ValueError as e:
            raise ModelError(f"emotion model {self.path} has {VIEW_CASCADE_KEY}: {e}; {fix}") from None
        if self.flip_average or meta.get("zoom_average", "false") != "false":
            raise ModelError(f"emotion model {self.path} has {VIEW_CASCADE_KEY} on a graph that averages its own "
                             f"views (flip_average={meta['flip_average']}); {fix}")
        switches = {i.name for i in session.get_overridable_initializers()}
        if 1 in cascade.networks and NETWORK_SWITCH not in switches:
            raise ModelError(f"emotion model {self.path} has a {VIEW_CASCADE_KEY} that reads a partner network, but "
                             f"its graph has no {NETWORK_SWITCH!r} switch; {fix}")
        return cascade

    def predict(self, faces: np.ndarray, face_px: np.ndarray | None = None) -> np.ndarray:
        """``(n, 1, 48, 48)`` float32 in 0..1 -> ``(n, 7)`` float32 probabilities (rows sum to 1).

        The file's ``temperature`` is applied (see the module notes); with ``face_px`` ``(n,)``,
        the width in screen pixels each face was cut from, so is its small-face rule. ``n == 0``
        returns an empty ``(0, 7)`` array without running the model.
        """
        if self._session is None:
            raise ModelError(f"emotion model {self.path} was closed; create a new OnnxEmotionClassifier")
        faces = np.asarray(faces)
        if faces.ndim != 4 or faces.shape[1:] != INPUT_SHAPE:
            raise ValueError(f"faces must have shape (n, {', '.join(map(str, INPUT_SHAPE))}), got {faces.shape}")
        if faces.shape[0] == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if face_px is not None and np.shape(face_px) != (faces.shape[0],):
            raise ValueError(f"face_px must have shape ({faces.shape[0]},), got {np.shape(face_px)}")
        x = np.ascontiguousarray(faces, dtype=np.float32)
        probs = self._read(self._session, x)
        if face_px is not None and self.small_faces is not None:
            return apply_temperatures(probs, self.temperature * self.small_faces.factors(face_px))
        return probs if self.temperature == 1.0 else apply_temperature(probs, self.temperature)

    def _read(self, session: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
        """Raw probabilities of ``x``: the graph's own, or the view cascade's."""

        def run(batch: np.ndarray, network: int = 0) -> np.ndarray:
            feed = {self._input_name: batch}
            if network:
                feed[NETWORK_SWITCH] = np.array(network, np.int64)
            (out,) = session.run([self._output_name], feed)
            return out

        self.faces_read += len(x)
        if self.view_cascade is None:
            self.views_read += len(x) * self.graph_views
            return run(x)
        reading = read_with_cascade(run, x, self.view_cascade)
        self.views_read += int(reading.views.sum())
        return reading.probabilities

    def close(self) -> None:
        """Release the ONNX Runtime session (idempotent)."""
        self._session = None

    def __enter__(self) -> OnnxEmotionClassifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
