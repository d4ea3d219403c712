"""``run --save-frames DIR`` keeps the frames as private as the database: folder 0700, files 0600.

A real run (MediaPipe, ONNX Runtime, SQLite) over a folder of composed galleries, under the
common umask 022 that would otherwise leave every frame readable by everyone.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from classmood.cli import main
from tools.compose_gallery import compose_gallery, load_face_photos

pytestmark = [pytest.mark.usefixtures("shipped_model"),
              pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shots")
    photos = load_face_photos()
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), compose_gallery(photos, grid=(2, 2), size_wh=(640, 360), seed=i).image)
    return folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(shots: Path, tmp_path: Path, frames: Path) -> None:
    assert main(["run", "--source", str(shots), "--db", f"sqlite:///{tmp_path / 'c.sqlite3'}", "--no-overlay",
                 "--fps", "0", "--save-frames", str(frames)]) == 0


@pytest.mark.usefixtures("umask_022")
def test_saved_frames_are_readable_by_the_user_only(shots: Path, tmp_path: Path) -> None:
    frames = tmp_path / "kept" / "frames"
    _run(shots, tmp_path, frames)
    saved = sorted(frames.iterdir())
    assert [p.name for p in saved] == ["frame_000001.jpg", "frame_000002.jpg"]
    assert _mode(frames) == 0o700
    assert {_mode(p) for p in saved} == {0o600}
    assert all(cv2.imread(str(p)) is not None for p in saved), "still real JPEG files"


@pytest.mark.usefixtures("umask_022")
def test_frames_left_readable_by_an_earlier_run_are_made_private(shots: Path, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    old = frames / "frame_000001.jpg"
    old.write_bytes(b"old")
    old.chmod(0o644)
    _run(shots, tmp_path, frames)
    assert _mode(old) == 0o600 and old.read_bytes()[:2] == b"\xff\xd8"
