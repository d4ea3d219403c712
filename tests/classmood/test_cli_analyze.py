"""``classmood analyze`` on real screenshots with the real models: text and JSON agree, folders
work like ``run --source FOLDER``, and counts read as English ("1 face", "2 tiles").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import pytest

from classmood.cli import main
from tools.compose_gallery import compose_gallery, load_face_photos

pytestmark = pytest.mark.usefixtures("shipped_model")

FACE_LINE = re.compile(r"^\s+(\d+)\. box x=(\d+) y=(\d+) w=(\d+) h=(\d+)  (.*)$")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of three composed galleries (3x3, 2x2, 1 tile with one face)."""
    folder = tmp_path_factory.mktemp("shots")
    photos = load_face_photos()
    for name, grid, seed in (("a.png", (3, 3), 11), ("b.png", (2, 2), 4), ("c.png", (1, 1), 2)):
        gallery = compose_gallery(photos, grid=grid, size_wh=(960, 540), seed=seed, camera_off_frac=0.0)
        cv2.imwrite(str(folder / name), gallery.image)
    return folder


def _analyze(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["analyze", *args]) == 0
    return capsys.readouterr().out


def _text_faces(out: str) -> list[str]:
    """What each face line says of the expression, in order."""
    return [m.group(6) for line in out.splitlines() if (m := FACE_LINE.match(line))]


@pytest.mark.parametrize("uncertain_below", [0.99, 0.6, 0.0])
def test_text_says_uncertain_exactly_where_the_json_does(shots: Path, tmp_path: Path, uncertain_below: float,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "classmood.toml"
    config.write_text(f"uncertain_below = {uncertain_below}\n")
    image = str(shots / "a.png")
    faces = json.loads(_analyze(capsys, image, "--json", "--config", str(config)))["faces"]
    said = _text_faces(_analyze(capsys, image, "--config", str(config)))
    assert len(faces) >= 6 and len(said) == len(faces)
    readable = [f for f in faces if not f["unreadable"]]
    assert len(readable) >= 6
    if uncertain_below == 0.99:
        assert all(f["uncertain"] for f in readable), "every face under 99 % is uncertain"
    if uncertain_below == 0.0:
        assert not any(f["uncertain"] for f in faces)
    for face, text in zip(faces, said, strict=True):
        if face["unreadable"]:
            assert text.startswith("Unreadable"), (face, text)
            continue
        best = f"{face['emotion']} {face['confidence']:.0%}"
        if face["uncertain"]:
            assert text == f"Uncertain (best guess {best})", (face, text)
        else:
            assert text.split() == best.split(), (face, text)


def test_a_folder_gives_each_image_in_name_order_as_text_and_one_json_list(shots: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    listed = json.loads(_analyze(capsys, str(shots), "--json"))
    assert isinstance(listed, list) and [Path(r["image"]).name for r in listed] == ["a.png", "b.png", "c.png"]
    for result in listed:  # each image as analysed on its own
        assert result == json.loads(_analyze(capsys, result["image"], "--json"))

    text = _analyze(capsys, str(shots))
    headers = [line for line in text.splitlines() if not FACE_LINE.match(line)]
    assert headers == [f"{r['image']}: {len(r['faces'])} face{'' if len(r['faces']) == 1 else 's'} in "
                       f"{len(r['tiles'])} tile{'' if len(r['tiles']) == 1 else 's'}" for r in listed]
    assert headers[-1].endswith(": 1 face in 1 tile")
    assert len(_text_faces(text)) == sum(len(r["faces"]) for r in listed)


def test_a_folder_with_an_unreadable_image_goes_on(shots: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "1.png").write_bytes((shots / "c.png").read_bytes())
    (folder / "2.png").write_bytes(b"\x89PNG broken")
    listed = json.loads(_analyze(capsys, str(folder), "--json"))
    assert len(listed[0]["faces"]) == 1
    assert listed[1]["image"].endswith("2.png") and "cannot read image" in listed[1]["error"]
    lines = _analyze(capsys, str(folder)).splitlines()
    assert lines[0].endswith("1.png: 1 face in 1 tile") and "2.png: skipped: cannot read image" in lines[-1]


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_a_folder_where_no_image_reads_fails_and_one_where_some_do_says_how_many_failed(
        shots: Path, tmp_path: Path, json_flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("1.png", "2.jpg"):
        (broken / name).write_bytes(b"\x89PNG broken")
    assert main(["analyze", str(broken), *json_flag]) == 5, "nothing could be analyzed: the capture exit code"
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "none of the 2 images" in err and str(broken) in err
    (broken / "0.png").write_bytes((shots / "c.png").read_bytes())
    assert main(["analyze", str(broken), *json_flag]) == 0, "one image read: the analysis stands"
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "2 of 3 images" in err and "could not be read" in err


def test_an_empty_folder_is_one_line_and_the_capture_exit_code(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path)]) == 5
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no images in" in err


def test_help_says_folders_and_the_json_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "IMAGE_OR_FOLDER" in text and "one list, one object per image" in text


@pytest.mark.parametrize("command", ["run", "analyze", "sessions", "report", "purge", "eval"])
def test_usage_lines_show_no_stray_arguments(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.startswith(f"usage: classmood {command}") and "rest" not in usage.split()
