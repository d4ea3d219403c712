"""One model file that carries two networks: ``python -m training.partner A.onnx B.onnx --cascade JSON --out F``.

Two networks trained apart err on different faces; where one is unsure, the other's reading is
worth more than a second view by the same network (``models.view_cascade``). The runtime reads
one graph per file, so this joins two one-view graphs (``training.export --view-cascade``, float
or int8) into one: an ONNX ``If`` picks network A (the default) or B by the int64 scalar
``network``, an initializer of 0 that a caller may override. ONNX Runtime does not list such an
initializer as an input, so the file keeps the runtime's contract (one input, one output) and a
tool that knows nothing of the partner reads network A alone. Both branches share the outer
scope's weights; only the branch taken runs.

The joined file keeps A's metadata (labels, model config, calibration), with ``view_cascade``
set to ``--cascade`` and ``partner`` (JSON: B's model config, its ``training`` record, which names
the checkpoints it was exported from, and the sha256 of B's file). Before it replaces
``--out``, each network's reading of PublicTest faces through the joined file must equal its
own file's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, compose, helper, numpy_helper

from models.emotion_classifier import OnnxEmotionClassifier
from models.model_file import open_session
from models.preprocessing import face_tensor
from models.view_cascade import NETWORK_SWITCH, VIEW_CASCADE_KEY, ViewCascade
from training.data import DEFAULT_DATA, load_test_split, sha256_of_file
from vocab.errors import ModelError
from vocab.labels import EMOTIONS

log = logging.getLogger(__name__)

PARTNER_KEY = "partner"
PARITY_FACES = 256
_PREFIXES = ("model/", "partner/")


def _one_view(path: Path) -> onnx.ModelProto:
    """The graph of ``path``, refused unless the runtime takes it (its contract: one input, one
    output) and it is one view of one network (``OnnxEmotionClassifier.graph_views``)."""
    with OnnxEmotionClassifier(path, threads=1) as clf:
        if clf.graph_views != 1:
            raise ValueError(f"{path} averages views in its graph ({clf.graph_views}); join graphs of one view "
                             "(python -m training.export CHECKPOINT --view-cascade A B)")
    return onnx.load(str(path))


def _branch(model: onnx.ModelProto, prefix: str, face: str) -> tuple[onnx.GraphProto, list[onnx.TensorProto]]:
    """``model``'s nodes as an ``If`` branch reading the outer input ``face``, and its weights
    (renamed with ``prefix``, to live in the outer scope)."""
    renamed = compose.add_prefix(model, prefix)
    g = renamed.graph
    own_input = g.input[0].name
    for node in g.node:
        node.input[:] = [face if name == own_input else name for name in node.input]
    out = helper.make_tensor_value_info(g.output[0].name, TensorProto.FLOAT, None)
    return helper.make_graph(list(g.node), prefix.strip("/"), [], [out]), list(g.initializer)


def join(model_a: Path, model_b: Path, cascade: ViewCascade) -> onnx.ModelProto:
    """The joined model of the module notes (not yet checked for parity)."""
    a, b = _one_view(model_a), _one_view(model_b)
    face, probs = a.graph.input[0].name, a.graph.output[0].name
    then_graph, then_weights = _branch(a, _PREFIXES[0], face)
    else_graph, else_weights = _branch(b, _PREFIXES[1], face)
    switch = numpy_helper.from_array(np.array(0, np.int64), NETWORK_SWITCH)
    zero = numpy_helper.from_array(np.array(0, np.int64), "network_a")
    nodes = [helper.make_node("Equal", [NETWORK_SWITCH, "network_a"], ["reads_a"]),
             helper.make_node("If", ["reads_a"], [probs], then_branch=then_graph, else_branch=else_graph)]
    graph = helper.make_graph(
        nodes, "emotion_with_partner",
        [a.graph.input[0], helper.make_tensor_value_info(NETWORK_SWITCH, TensorProto.INT64, [])],
        [a.graph.output[0]], initializer=then_weights + else_weights + [switch, zero])
    opsets: dict[str, int] = {}
    for op in list(a.opset_import) + list(b.opset_import):
        opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    joined = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    joined.ir_version = max(a.ir_version, b.ir_version)
    meta_b = {p.key: p.value for p in b.metadata_props}
    partner = {"model_config": json.loads(meta_b.get("model_config", "null")),
               "training": json.loads(meta_b.get("training", "null")),
               "file_sha256": sha256_of_file(model_b), "quantization": meta_b.get("quantization")}
    for p in a.metadata_props:
        if p.key not in (VIEW_CASCADE_KEY, PARTNER_KEY):
            joined.metadata_props.add(key=p.key, value=p.value)
    joined.metadata_props.add(key=VIEW_CASCADE_KEY, value=cascade.to_json())
    joined.metadata_props.add(key=PARTNER_KEY, value=json.dumps(partner))
    onnx.checker.check_model(joined)
    return joined


def raw_reading(path: Path, faces: np.ndarray, networks: tuple[int | None, ...] = (None,),
                batch: int = 256) -> list[np.ndarray]:
    """The graph's own output for ``faces`` (no cascade, no temperature), in batches, once per
    entry of ``networks`` (None: the default network, no switch fed), from one session."""
    session, _ = open_session(path, "emotion", (), 1)
    name = session.get_inputs()[0].name
    readings = []
    for network in networks:
        switch = {} if network is None else {NETWORK_SWITCH: np.array(network, np.int64)}
        parts = [session.run(None, {name: faces[i:i + batch], **switch})[0] for i in range(0, len(faces), batch)]
        readings.append(np.concatenate(parts) if parts else np.zeros((0, len(EMOTIONS)), np.float32))
    return readings


def write_joined(model_a: Path, model_b: Path, cascade: ViewCascade, out: Path, faces: np.ndarray) -> Path:
    """Join, check that each network reads ``faces`` through the joined file exactly as through
    its own, check the runtime accepts it, then move it into ``out``."""
    tmp = out.with_name(out.name + ".partial")
    onnx.save(join(model_a, model_b, cascade), str(tmp))
    try:
        joined = raw_reading(tmp, faces, (0, 1))
        for network, source in enumerate((model_a, model_b)):
            (own,) = raw_reading(source, faces)
            diff = float(np.abs(joined[network] - own).max())
            if diff > 1e-6:
                raise ValueError(f"network {network} reads faces differently in the joined file "
                                 f"(max abs difference {diff:.2e} from {source})")
        with OnnxEmotionClassifier(tmp, threads=1) as clf:
            if clf.view_cascade != cascade:
                raise ValueError(f"the joined file's cascade reads back as {clf.view_cascade}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote %s (%.1f MB): %s", out, out.stat().st_size / 1e6, cascade.describe())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.partner", description=__doc__.split("\n\n")[0])
    p.add_argument("model_a", type=Path, metavar="A.onnx", help="the file's own network (one view)")
    p.add_argument("model_b", type=Path, metavar="B.onnx", help="the partner network (one view)")
    p.add_argument("--cascade", required=True,
                   help='JSON {"stages": [[[network, view], ...], ...], "below": [t, ...]} (models.view_cascade)')
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="fer2013.npz (PublicTest faces for parity)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        cascade = ViewCascade.from_json(args.cascade)
        faces = face_tensor(load_test_split(args.data, "public")[0][:PARITY_FACES])
        write_joined(args.model_a, args.model_b, cascade, args.out, faces)
    except (FileNotFoundError, ModelError, ValueError, onnx.checker.ValidationError) as e:
        log.error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
