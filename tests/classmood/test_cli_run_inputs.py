"""``classmood run`` with bad frames mixed into a recording, the first-run notice, and bad
settings: real MediaPipe, ONNX Runtime and SQLite through ``main(argv)``.

(Single bad images through ``analyze`` and a folder with one corrupt file are covered in
``test_cli_run.py``.)
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from classmood.cli import main
from classmood.live import PRIVACY_NOTICE
from tools.compose_gallery import compose_gallery, load_face_photos

pytestmark = pytest.mark.usefixtures("shipped_model")

SIZE_WH = (960, 540)
BLACK = np.zeros((SIZE_WH[1], SIZE_WH[0], 3), np.uint8)
BLANK = np.full((SIZE_WH[1], SIZE_WH[0], 3), 235, np.uint8)  # a light, empty gallery (Teams light theme)
TINY = np.full((10, 10, 3), 128, np.uint8)


def _galleries(n: int) -> list[tuple[np.ndarray, int]]:
    photos = load_face_photos()
    out = []
    for seed in range(n):
        g = compose_gallery(photos, grid=(2, 3), size_wh=SIZE_WH, seed=seed, camera_off_frac=0.0, jpeg_quality=0)
        out.append((g.image, int(g.face_mask().sum())))
    return out


def _video_with_bad_frames(folder: Path) -> tuple[Path, list[int]]:
    """good, good, black, black, blank, good: a camera feed that drops out in the middle."""
    (g1, n1), (g2, n2), (g3, n3) = _galleries(3)
    frames = [(g1, n1), (g2, n2), (BLACK, 0), (BLACK, 0), (BLANK, 0), (g3, n3)]
    path = folder / "class.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 4.0, SIZE_WH)
    for image, _ in frames:
        writer.write(image)
    writer.release()
    return path, [n for _, n in frames]


def _folder_with_bad_frames(folder: Path) -> tuple[Path, list[int]]:
    """Screenshots: good, black, 10x10, corrupt (skipped: no frame), good, blank."""
    (g1, n1), (g2, n2) = _galleries(2)
    shots = folder / "shots"
    shots.mkdir()
    for name, image in (("1.png", g1), ("2.png", BLACK), ("3.png", TINY), ("5.png", g2), ("6.png", BLANK)):
        cv2.imwrite(str(shots / name), image)
    (shots / "4.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return shots, [n1, 0, 0, n2, 0]


@pytest.mark.parametrize("make_source", [_video_with_bad_frames, _folder_with_bad_frames], ids=["video", "folder"])
def test_bad_frames_in_a_run_store_no_faces_and_the_good_ones_go_on(tmp_path: Path, make_source,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    source, faces_per_frame = make_source(tmp_path)
    assert sum(n > 0 for n in faces_per_frame) >= 2 and 0 in faces_per_frame
    db = tmp_path / "c.sqlite3"
    assert main(["run", "--source", str(source), "--db", f"sqlite:///{db}", "--no-overlay", "--fps", "0"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    con = sqlite3.connect(db)
    try:
        stored = con.execute("SELECT frame_id, faces_seen FROM class_snapshots ORDER BY frame_id").fetchall()
        status, frames = con.execute("SELECT status, frames FROM sessions").fetchone()
        per_frame_obs = dict(con.execute("SELECT frame_id, count(*) FROM observations GROUP BY frame_id").fetchall())
    finally:
        con.close()
    assert (status, frames) == ("complete", len(faces_per_frame))
    assert stored == list(enumerate(faces_per_frame, start=1))
    assert per_frame_obs == {i: n for i, n in enumerate(faces_per_frame, start=1) if n}


def test_privacy_notice_is_shown_on_the_first_run_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # A private config folder, so the user's own marker is neither read nor written.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    image = tmp_path / "shot.png"
    cv2.imwrite(str(image), _galleries(1)[0][0])
    args = ["run", "--source", str(image), "--db", f"sqlite:///{tmp_path / 'c.sqlite3'}", "--no-overlay"]

    assert main(args) == 0
    assert capsys.readouterr().err.count(PRIVACY_NOTICE) == 1
    assert (tmp_path / "config" / "classmood" / "notice-shown").is_file()
    assert main(args) == 0
    assert PRIVACY_NOTICE not in capsys.readouterr().err
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(("args", "toml", "expected"), [
    (["--fps", "-3"], None, ["fps", "from 0 to 60", "-3"]),
    (["--privacy", "secret"], None, ["--privacy", "'secret'", "full", "aggregate", "presence"]),
    ([], "fpss = 2\n", ["unknown key 'fpss'", "allowed:", "fps", "privacy", "source"]),
], ids=["negative-fps", "unknown-privacy", "toml-unknown-key"])
def test_bad_settings_exit_2_with_one_line_naming_key_and_allowed_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], toml: str | None,
        expected: list[str]) -> None:
    if toml is not None:
        (tmp_path / "classmood.toml").write_text(toml)
        args = [*args, "--config", str(tmp_path / "classmood.toml")]
    assert main(["run", "--no-overlay", "--db", f"sqlite:///{tmp_path / 'c.sqlite3'}", *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and err.count("\n") == 0, err
    assert err.startswith("classmood"), err
    assert all(word in err for word in expected), err
    assert not (tmp_path / "c.sqlite3").exists(), "nothing is started on bad settings"
