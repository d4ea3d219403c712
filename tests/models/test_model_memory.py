"""What keeps ClassMood's memory small beside the meeting app: the text reader released while
idle, freed heap given back to the system, MediaPipe without its unused tasks, quiet threads."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from models import native_heap
from models.idle_reader import IdleTextReader
from models.ort_session import session_options
from models.text_reader import DEFAULT_REC_PATH, OnnxTextReader
from tools.name_labels import render_tile
from vocab.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[2]
GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _name_crop(text: str) -> np.ndarray:
    tile = render_tile(text, style="zoom", size_wh=(400, 225), font_px=16, jpeg_quality=None, seed=0)
    x0, y0, x1, y1 = tile.label_xyxy
    return tile.image[max(0, y0 - 3):y1 + 3, max(0, x0 - 3):x1 + 3]


def test_the_text_reader_is_released_when_idle_and_loaded_again_when_a_name_must_be_read() -> None:
    clock = Clock()
    reader = IdleTextReader(lambda: OnnxTextReader(threads=1), idle_s=60.0, clock=clock)
    crop = _name_crop("Maria Lopez")
    assert reader.loaded and reader.loads == 1  # loaded at once: a broken model shows at start
    assert reader.read_lines([crop])[0][0] == "Maria Lopez"
    clock.t += 59.0
    assert not reader.release_if_idle() and reader.loaded
    clock.t += 60.0
    assert reader.release_if_idle() and not reader.loaded
    assert not reader.release_if_idle()
    assert reader.read_lines([crop])[0][0] == "Maria Lopez"  # a name changed: read as before
    assert reader.loaded and reader.loads == 2
    assert len(reader.find_lines(np.full((64, 256, 3), 255, np.uint8))[0]) == 0
    reader.close()
    assert not reader.loaded
    with pytest.raises(ModelError, match="closed"):
        reader.read_lines([crop])


def test_a_loaded_model_does_not_keep_its_file_in_memory() -> None:
    """The recogniser's file is 21 MB; ONNX Runtime's Python wrapper kept those bytes for as long as
    the session lived, beside the session's own copy of the weights."""
    rec_file_mb = DEFAULT_REC_PATH.stat().st_size / 2**20
    tracemalloc.start()
    try:
        reader = OnnxTextReader(threads=1)
        held_mb = tracemalloc.get_traced_memory()[0] / 2**20
    finally:
        tracemalloc.stop()
    assert rec_file_mb > 15
    assert held_mb < 4, f"{held_mb:.1f} MB of Python memory held by a loaded text reader"
    assert reader.read_lines([_name_crop("Maria Lopez")])[0][0] == "Maria Lopez"  # still reads
    reader.close()


def test_a_broken_text_model_is_reported_when_the_reader_is_made(tmp_path: Path) -> None:
    bad = tmp_path / "rec.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="not a valid ONNX"):
        IdleTextReader(lambda: OnnxTextReader(rec_path=bad, threads=1))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_trim_gives_freed_heap_memory_back_to_the_system() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    block = 64 * 1024  # under glibc's mmap threshold: these come from the heap, as a model's buffers do
    native_heap.trim()  # free pages left by earlier tests would be reused below without adding to RSS
    before = _rss_mb()
    blocks = []
    for _ in range(1600):  # 100 MB
        p = libc.malloc(block)
        ctypes.memset(p, 1, block)
        blocks.append(p)
    keep = libc.malloc(block)  # allocated last: the freed blocks below it cannot shrink the heap's top
    for p in blocks:
        libc.free(p)
    held = _rss_mb()
    assert held - before > 80  # freed, but still resident
    assert native_heap.trim()
    assert held - _rss_mb() > 80
    libc.free(keep)


def test_the_heap_trimmer_runs_at_most_every_period() -> None:
    clock = Clock()
    trimmer = native_heap.HeapTrimmer(every_s=30.0, clock=clock)
    for _ in range(29):
        clock.t += 1.0
        trimmer()
    assert trimmer.trims == 0
    clock.t += 1.0
    trimmer()
    trimmer()
    assert trimmer.trims == 1
    with pytest.raises(ValueError):
        native_heap.limit_arenas(0)


def test_sessions_do_not_spin_between_frames() -> None:
    opts = session_options(1)
    assert opts.intra_op_num_threads == 1 and opts.inter_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert session_options(None).intra_op_num_threads == 0  # ONNX Runtime's choice


def test_the_face_detector_loads_without_the_rest_of_mediapipe() -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from models.face_detector import FULL_RANGE_MODEL_PATH, MediaPipeFaceDetector\n"
        "short, full = MediaPipeFaceDetector(), MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH)\n"
        "print(sorted(m for m in ('matplotlib', 'sounddevice', 'mediapipe') if m in sys.modules))\n"
        "print(len(short.detect(np.zeros((128, 128, 3), np.uint8))[0]))\n"
        "import mediapipe as mp\n"  # someone else's ordinary import still gets all of MediaPipe
        "print(mp.Image.__name__, mp.tasks.vision.FaceDetector.__name__, 'matplotlib' in sys.modules)\n"
        "print(len(full.detect(np.zeros((192, 192, 3), np.uint8))[0]))\n"
        "short.close(); full.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:4] == ["[]", "0", "Image FaceDetector True", "0"]
