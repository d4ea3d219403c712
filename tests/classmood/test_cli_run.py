"""``classmood run`` / ``analyze`` end to end: real MediaPipe, real ONNX Runtime, real SQLite."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from classmood.cli import main
from db.engine import open_engine
from db.recorder import Recorder
from db.schema import ObservationRow, ParticipantRow, SessionRow, SnapshotRow, session_scope
from tools.compose_gallery import compose_gallery, load_face_photos, write_gallery_video

pytestmark = pytest.mark.usefixtures("shipped_model")


@pytest.fixture(scope="module")
def gallery_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    path = tmp_path_factory.mktemp("video") / "class.avi"
    truths = write_gallery_video(path, load_face_photos(), n_frames=16, fps=4.0, size_wh=(1280, 720),
                                 n_start=8, seed=3)
    return path, truths


def _person_at(truth: tuple, box: tuple[int, int, int, int]) -> str | None:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    for tile in truth:
        x1, y1, x2, y2 = tile.xyxy
        if x1 <= cx < x2 and y1 <= cy < y2:
            return tile.person_id
    return None


def test_run_on_a_video_records_every_participant_with_stable_ids(tmp_path: Path, gallery_video, capsys) -> None:
    video, truths = gallery_video
    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    assert main(["run", "--source", str(video), "--db", url, "--no-overlay", "--fps", "0"]) == 0
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert "session 1" in summary and "16 frames" in summary and "class.sqlite3" in summary

    people_with_faces = {t.person_id for truth in truths for t in truth if t.has_face}
    engine = open_engine(url)
    with session_scope(engine) as s:
        session = s.scalars(select(SessionRow)).one()
        assert session.status == "complete" and session.frames == 16 and session.model_sha256
        assert s.scalar(select(func.count()).select_from(SnapshotRow)) == 16
        participants = s.scalar(select(func.count()).select_from(ParticipantRow))
        rows = s.execute(select(ObservationRow.frame_id, ObservationRow.participant_id, ObservationRow.x,
                                ObservationRow.y, ObservationRow.w, ObservationRow.h, ObservationRow.label)).all()
    faces_expected = sum(t.has_face for truth in truths for t in truth)
    face_rows = [r for r in rows if r[-1] != "Camera off"]
    assert len(face_rows) >= 0.99 * faces_expected, "a face was missed"
    # The camera-off tile shows its owner's name: that person is present too, with the camera off.
    cameras_off = {t.person_id for truth in truths for t in truth if not t.has_face}
    assert len(cameras_off) == 1
    assert participants == len(people_with_faces) + len(cameras_off), "one id per person, kept through the reflow"
    persons_of_id: dict[int, set] = defaultdict(set)
    for frame_id, pid, x, y, w, h, _label in face_rows:
        persons_of_id[pid].add(_person_at(truths[frame_id - 1], (x, y, w, h)))
    assert all(len(p) == 1 and None not in p for p in persons_of_id.values()), persons_of_id
    assert {lbl for *_, lbl in rows} <= {"Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral", "Uncertain",
                                         "Unreadable", "Camera off"}
    assert sum(r[-1] == "Camera off" for r in rows) >= 14  # named, on (nearly) every frame


def test_aggregate_privacy_run_keeps_class_numbers_only(tmp_path: Path, gallery_video) -> None:
    video, _ = gallery_video
    url = f"sqlite:///{tmp_path / 'agg.sqlite3'}"
    assert main(["run", "--source", str(video), "--db", url, "--no-overlay", "--fps", "0",
                 "--privacy", "aggregate", "--max-frames", "4"]) == 0
    with session_scope(open_engine(url)) as s:
        assert s.scalar(select(func.count()).select_from(ObservationRow)) == 0
        assert s.scalar(select(func.count()).select_from(ParticipantRow)) == 0
        snaps = s.scalars(select(SnapshotRow)).all()
        assert len(snaps) == 4 and all(r.faces_seen >= 7 and r.mood_index is not None for r in snaps)


def test_presence_privacy_runs_no_emotion_inference(tmp_path: Path, gallery_video) -> None:
    video, _ = gallery_video
    url = f"sqlite:///{tmp_path / 'presence.sqlite3'}"
    assert main(["run", "--source", str(video), "--db", url, "--no-overlay", "--fps", "0",
                 "--privacy", "presence", "--max-frames", "2", "--model", str(tmp_path / "absent.onnx")]) == 0
    with session_scope(open_engine(url)) as s:
        labels = set(s.scalars(select(ObservationRow.label)))
        assert labels == {"Present"}
        with_probs = select(func.count()).select_from(ObservationRow).where(ObservationRow.p_happy.is_not(None))
        assert s.scalar(with_probs) == 0
        # Attention without any emotion: where each face looks is stored, and the class's share.
        readings = s.execute(select(ObservationRow.attention, ObservationRow.yaw_deg)).all()
        assert readings and all(a in ("screen", "down", "away", "eyes_closed", "hidden") for a, _ in readings)
        assert sum(yaw is not None for _, yaw in readings) >= 0.9 * len(readings)
        snaps = s.execute(select(SnapshotRow.attention_share, SnapshotRow.mood_index)).all()
        assert all(share is not None and mood is None for share, mood in snaps)


def test_no_frames_are_written_unless_asked(tmp_path: Path, gallery_video, monkeypatch) -> None:
    video, _ = gallery_video
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'db' / 'c.sqlite3'}"
    assert main(["run", "--source", str(video), "--db", url, "--no-overlay", "--fps", "0", "--max-frames", "2"]) == 0
    images = [p for p in tmp_path.rglob("*") if p.suffix.lower() in (".jpg", ".png", ".jpeg")]
    assert images == []
    assert main(["run", "--source", str(video), "--db", url, "--no-overlay", "--fps", "0", "--max-frames", "2",
                 "--save-frames", str(tmp_path / "frames")]) == 0
    assert len(list((tmp_path / "frames").glob("*.jpg"))) == 2


@contextmanager
def _locked_once_the_session_starts(path: Path) -> Iterator[threading.Event]:
    """Another program takes the SQLite file's write lock as soon as a run has stored its session
    row (before its first commit of frames, ~1 s later), and holds it until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        deadline = time.monotonic() + 120
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        conn = sqlite3.connect(path, timeout=10)
        try:
            while not locked.is_set() and time.monotonic() < deadline:
                try:
                    if conn.execute("SELECT count(*) FROM sessions").fetchone()[0]:
                        conn.execute("BEGIN EXCLUSIVE")
                        locked.set()
                except sqlite3.OperationalError:  # no tables yet
                    pass
                time.sleep(0.01)
            release.wait()
            conn.rollback()
        finally:
            conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield locked
    finally:
        release.set()
        thread.join(timeout=30)


def test_frames_the_database_refuses_are_reported_and_the_exit_code_says_so(
        tmp_path: Path, gallery_video, capsys, monkeypatch) -> None:
    video, _ = gallery_video
    monkeypatch.setattr(Recorder, "CLOSE_RETRY_S", 0.5)  # the default 15 s would only make the test slow
    path = tmp_path / "locked.sqlite3"
    url = f"sqlite:///{path}"
    with _locked_once_the_session_starts(path) as locked:
        code = main(["run", "--source", str(video), "--db", url, "--no-overlay", "--fps", "0", "--max-frames", "4"])
        assert locked.is_set()
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 3
    assert "; 4 of 4 frames could not be stored in sqlite:///" in summary, summary
    with session_scope(open_engine(url)) as s:
        assert s.scalar(select(func.count()).select_from(SnapshotRow)) == 0


def test_analyze_json_lists_every_face(tmp_path: Path, capsys) -> None:
    # 4x4: more labels than the live path reads in one frame (8); a screenshot is one frame only.
    gallery = compose_gallery(load_face_photos(), grid=(4, 4), size_wh=(1920, 1080), seed=11)
    path = tmp_path / "shot.png"
    cv2.imwrite(str(path), gallery.image)
    assert main(["analyze", str(path), "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text, "strict JSON: an unreadable face has nulls, not NaN"
    out = json.loads(text)
    assert len(out["faces"]) == int(gallery.face_mask().sum())
    assert sum(not face["unreadable"] for face in out["faces"]) >= len(out["faces"]) - 2
    for face in out["faces"]:
        assert set(face) >= {"box", "emotion", "confidence", "probabilities", "uncertain", "unreadable"}
        if face["unreadable"]:
            assert face["emotion"] is None and face["probabilities"] is None
            continue
        assert face["emotion"] in face["probabilities"] and len(face["probabilities"]) == 7
        assert abs(sum(face["probabilities"].values()) - 1) < 1e-3
        x, y, w, h = face["box"]
        assert any(t.has_face and t.xyxy[0] <= x + w / 2 < t.xyxy[2] and t.xyxy[1] <= y + h / 2 < t.xyxy[3]
                   for t in gallery.tiles)
    # Where each face looks (degrees, and the state), its eyes, and the name on its tile.
    for face in out["faces"]:
        assert face["attention"] in ("screen", "down", "away", "eyes_closed", "hidden")
        assert face["head_pose"] is not None and set(face["head_pose"]) == {"yaw", "pitch", "roll"}
        assert face["eyes"] in ("open", "closed", None)
        assert face["unreadable"] == (face["attention"] != "screen")
    drawn = {t.name for t in gallery.tiles}
    named = [face["name"] for face in out["faces"] if face["name"] is not None]
    assert len(named) >= len(out["faces"]) - 1 and set(named) <= drawn
    # Every tile is listed with its name and whether its camera is on; camera-off tiles have no face.
    assert len(out["tiles"]) == len(gallery.tiles)
    assert sum(t["camera_on"] for t in out["tiles"]) == len(out["faces"])


@pytest.mark.parametrize("image", [np.zeros((720, 1280, 3), np.uint8), np.full((10, 10, 3), 128, np.uint8),
                                   np.full((480, 640, 3), 200, np.uint8)], ids=["black", "10x10", "blank"])
def test_analyze_bad_frames_reports_no_faces(tmp_path: Path, capsys, image: np.ndarray) -> None:
    path = tmp_path / "bad.png"
    cv2.imwrite(str(path), image)
    assert main(["analyze", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["faces"] == []


def test_unreadable_files_give_one_clear_line(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    assert main(["analyze", str(junk)]) == 5
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot read image" in err and "junk.png" in err


def test_folder_with_a_corrupt_image_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    photos = load_face_photos()
    for i in (1, 3):
        cv2.imwrite(str(folder / f"{i}.png"), compose_gallery(photos, grid=(2, 2), size_wh=(1280, 720), seed=i).image)
    (folder / "2.png").write_bytes(b"\x89PNG broken")
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert main(["run", "--source", str(folder), "--db", url, "--no-overlay"]) == 0
    with session_scope(open_engine(url)) as s:
        assert s.scalar(select(func.count()).select_from(SnapshotRow)) == 2


def test_missing_or_corrupt_model_is_one_line_and_nonzero(tmp_path: Path, gallery_video, capsys) -> None:
    video, _ = gallery_video
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x00garbage")
    for model in (tmp_path / "missing.onnx", bad):
        code = main(["run", "--source", str(video), "--db", f"sqlite:///{tmp_path / 'c.sqlite3'}",
                     "--no-overlay", "--model", str(model)])
        err = capsys.readouterr().err.strip()
        assert code == 4 and err.count("\n") == 0 and model.name in err


def test_no_display_says_so_and_offers_files(monkeypatch, capsys) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["run", "--no-overlay"]) == 5
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no display" in err and "--source" in err
