"""A real ``python -m classmood.cli analyze`` process: a quiet stderr, and no ONNX Runtime telemetry.

- The native libraries' INFO/WARNING lines (MediaPipe, LiteRT, TFLite, absl) stay off stderr
  unless ``--verbose``, which still shows them.
- ONNX Runtime 1.32 on Linux writes a device id and an event queue under the user's cache
  folder the moment it is imported, and tries to upload them; every ClassMood session is
  opened through ``models.ort_session``, which switches that off. Checked against a fresh
  HOME/XDG_CACHE_HOME, with a plain ``onnxruntime`` session as the control.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from tools.compose_gallery import compose_gallery, load_face_photos

pytestmark = pytest.mark.usefixtures("shipped_model")

REPO_ROOT = Path(__file__).resolve().parents[2]
NATIVE_NOISE = re.compile(r"^(INFO: \[|INFO: Created TensorFlow Lite|WARNING: Logging before InitGoogle|[IW]\d{4} )"
                          r"|Sparsity tensors may not yet be fully supported", re.MULTILINE)


@pytest.fixture(scope="module")
def gallery_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shot") / "gallery.png"
    cv2.imwrite(str(path), compose_gallery(load_face_photos(), grid=(2, 2), size_wh=(960, 540), seed=1).image)
    return path


def _env(home: Path) -> dict[str, str]:
    """A fresh user: nothing of ours or ONNX Runtime's in its folders, no telemetry switch set."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), PYTHONUNBUFFERED="1")
    return env


def _python(code_or_args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *code_or_args], env=_env(home), cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


def _telemetry_files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if "Microsoft" in p.parts)


def test_analyze_stderr_has_no_native_info_lines_unless_verbose(gallery_png: Path, tmp_path: Path) -> None:
    quiet = _python(["-m", "classmood.cli", "analyze", str(gallery_png)], tmp_path / "a")
    assert quiet.returncode == 0, quiet.stderr
    assert "3 faces in 4 tiles" in quiet.stdout
    assert not NATIVE_NOISE.search(quiet.stderr), quiet.stderr

    verbose = _python(["-m", "classmood.cli", "analyze", str(gallery_png), "--verbose"], tmp_path / "b")
    assert verbose.returncode == 0, verbose.stderr
    assert NATIVE_NOISE.search(verbose.stderr), "--verbose shows the native libraries' lines"


def test_native_errors_still_reach_stderr(tmp_path: Path) -> None:
    """Only INFO/WARNING lines are dropped: a native error line (written to fd 2) is passed on."""
    code = ("import os, sys; from classmood.native_log import quiet_native_stderr; assert quiet_native_stderr(); "
            "os.write(2, b'INFO: [x.cc:1] chatter\\nE0000 00:00 x.cc:2] real error\\nW0000 warn\\n'); "
            "print('python line', file=sys.stderr)")
    done = _python(["-c", code], tmp_path)
    assert done.returncode == 0
    assert done.stderr.splitlines() == ["python line", "E0000 00:00 x.cc:2] real error"] or \
        sorted(done.stderr.splitlines()) == ["E0000 00:00 x.cc:2] real error", "python line"]


def test_no_onnxruntime_device_id_or_event_queue_is_written(gallery_png: Path, tmp_path: Path) -> None:
    # Control: onnxruntime used directly writes its device id under the fresh cache folder.
    plain = _python(["-c", "import onnxruntime as ort; "
                     f"ort.InferenceSession({str(REPO_ROOT / 'models' / 'emotion.onnx')!r}, "
                     "providers=['CPUExecutionProvider'])"], tmp_path / "plain")
    assert plain.returncode == 0, plain.stderr
    if not _telemetry_files(tmp_path / "plain"):
        pytest.skip("this onnxruntime build writes no telemetry files (nothing to switch off here)")
    assert "cache/Microsoft/DeveloperTools/.onnxruntime/deviceid" in _telemetry_files(tmp_path / "plain")

    # Every session ClassMood creates: the emotion model (through analyze), landmarks, eye state, text reader.
    home = tmp_path / "ours"
    done = _python(["-m", "classmood.cli", "analyze", str(gallery_png), "--json"], home)
    assert done.returncode == 0, done.stderr
    code = ("from models.face_landmarks import EyeStateClassifier, FaceLandmarker; "
            "from models.text_reader import OnnxTextReader; FaceLandmarker(); EyeStateClassifier(); OnnxTextReader()")
    done = _python(["-c", code], home)
    assert done.returncode == 0, done.stderr
    assert _telemetry_files(home) == []
