"""Fixtures shared by all tests: where ``../shared`` is, the FER2013 file, the shipped model, an Xvfb.

``../shared`` is found next to the repository root; ``CLASSMOOD_SHARED`` points elsewhere.
Tests that need data or the shipped model skip with a reason when those are absent.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from shared_data import shared_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
# The real database servers (a PostgreSQL for the session) and engine clean-up, for every folder.
pytest_plugins = ["database_servers"]
SHIPPED_MODEL = REPO_ROOT / "models" / "emotion.onnx"


@pytest.fixture(scope="session")
def fer2013_npz() -> Path:
    path = shared_dir() / "data" / "fer2013" / "fer2013.npz"
    if not path.is_file():
        pytest.skip(f"FER2013 data not found at {path} (set CLASSMOOD_SHARED to the shared folder)")
    return path


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    # The model ships in the repository: its absence is a broken checkout, not a reason to skip.
    assert SHIPPED_MODEL.is_file(), f"{SHIPPED_MODEL} is missing from the checkout"
    return SHIPPED_MODEL


def check_emotion_contract(path: Path) -> None:
    """Assert the ONNX file at ``path`` follows the shipped-model contract (graph, metadata, outputs)."""
    import json

    import numpy as np
    import onnx
    import onnxruntime as ort

    from models.emotion_classifier import OnnxEmotionClassifier
    from vocab.labels import EMOTIONS

    model = onnx.load(str(path))
    # Inputs a caller must feed: an input with an initializer has a default (a partner network's
    # switch, training.partner), and ONNX Runtime does not list it either.
    weights = {t.name for t in model.graph.initializer}
    (inp,), (out,) = [i for i in model.graph.input if i.name not in weights], model.graph.output
    assert (inp.name, out.name) == ("face", "probabilities")
    for value, tail in ((inp, [1, 48, 48]), (out, [7])):
        tensor = value.type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.FLOAT
        dims = list(tensor.shape.dim)
        assert dims[0].dim_param, "batch axis must be dynamic"
        assert [d.dim_value for d in dims[1:]] == tail
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["labels"]) == list(EMOTIONS)
    spec = json.loads(meta["input_spec"])
    assert (spec["name"], spec["shape"], spec["dtype"]) == ("face", ["N", 1, 48, 48], "float32")
    assert spec["range"] == [0.0, 1.0]
    assert set(json.loads(meta["model_config"])) >= {"widths", "blocks", "mean", "std"}
    assert meta["flip_average"] in ("true", "false")

    rng = np.random.default_rng(0)
    # Outside callers use ONNX Runtime directly, so the graph itself must take any batch, 0 included.
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (0, 1, 49):
        (raw,) = session.run(["probabilities"], {"face": rng.random((n, 1, 48, 48), dtype=np.float32)})
        assert raw.shape == (n, 7) and raw.dtype == np.float32
    with OnnxEmotionClassifier(path, threads=1) as clf:
        assert clf.labels == EMOTIONS
        for n in (0, 1, 49):
            faces = rng.random((n, 1, 48, 48), dtype=np.float32)
            probs = clf.predict(faces)
            assert probs.shape == (n, 7) and probs.dtype == np.float32
            assert np.all(np.isfinite(probs)) and np.all((probs >= 0) & (probs <= 1))
            np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        if clf.flip_average:  # mirror averaging makes the output mirror-invariant
            # Exactly for the float model; int8 rounding of the activations differs a little
            # between a face and its mirror image (measured up to 0.007 on the shipped variant).
            tolerance = 0.02 if "quantization" in meta else 1e-5
            faces = rng.random((4, 1, 48, 48), dtype=np.float32)
            np.testing.assert_allclose(clf.predict(faces), clf.predict(faces[..., ::-1]), atol=tolerance)


@pytest.fixture(scope="session")
def emotion_contract() -> Callable[[Path], None]:
    """The contract checker, for tests in any folder (conftest is not importable as a module)."""
    return check_emotion_contract


XVFB_SCREEN = "1600x900x24"


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number in :90..:199")


@pytest.fixture(scope="module")
def xvfb_display() -> Iterator[str]:
    """``:N`` of a fresh Xvfb (1600x900, 24 bit), stopped after the module; skips without Xvfb."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb): no real X display to test on")
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", XVFB_SCREEN, "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    socket = Path(f"/tmp/.X11-unix/X{n}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"Xvfb :{n} did not start: {err[-500:]}")
        time.sleep(0.05)
    try:
        yield f":{n}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own user config/data folders (platformdirs follows XDG on Linux).

    Keeps the suite hermetic: no first-run marker, saved overlay settings or default database
    of the person running the tests is read or written.
    """
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
