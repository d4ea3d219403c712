"""A mistyped live source is refused at start, in one line, and leaves no session behind.

Real X server (Xvfb, 1600x900, no window manager), a real "Zoom Meeting" window shown by the
``gallery_window.py`` child, python-xlib and mss; ``main(argv)`` in this process, so the
refusal is seen before any model loads. A window that closes *during* a run still pauses it
(``test_run_faults.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sources import region_problem
from classmood.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_CHILD = Path(__file__).resolve().parent / "gallery_window.py"


@pytest.fixture(scope="module")
def zoom_window(xvfb_display: str) -> Iterator[str]:
    """The X display, with a window titled "Zoom Meeting" shown on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=xvfb_display, XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="classmood-xdg-"))
    child = subprocess.Popen([sys.executable, str(WINDOW_CHILD)], env=env, cwd=REPO_ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None and child.stdin is not None
    try:
        for line in child.stdout:  # "faces N", then "ok ready"
            if line.strip() == "ok ready":
                break
        else:
            pytest.fail(f"gallery window child ended before it was ready (rc={child.wait()})")
        yield xvfb_display
    finally:
        try:
            child.stdin.write("quit\n")
            child.stdin.close()
        except OSError:
            pass
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


@pytest.fixture
def on_display(zoom_window: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", zoom_window)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.mark.usefixtures("on_display")
@pytest.mark.parametrize(("source", "says"), [
    ("window:No Such Window", ["no window titled 'No Such Window' is open", "open windows:", "'Zoom Meeting'"]),
    ("region:5000,5000,200,100", ["region:5000,5000,200,100 is not on the screen", "1600x900 at 0,0"]),
    ("region:1500,0,200,100", ["region:1500,0,200,100 is not on the screen"]),  # half off the right edge
], ids=["window", "region-outside", "region-half-off"])
def test_a_live_source_that_is_not_there_is_one_line_exit_5_and_no_session(
        source: str, says: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "class.sqlite3"
    code = main(["run", "--source", source, "--no-overlay", "--db", f"sqlite:///{db}", "--fps", "4"])
    err = capsys.readouterr().err.strip()
    assert code == 5, err
    assert err.count("\n") == 0 and err.startswith("classmood: "), err
    for text in says:
        assert text in err
    assert not db.exists(), "no session (not even an empty database) is stored"


@pytest.mark.usefixtures("on_display", "shipped_model")
def test_a_window_that_is_there_and_a_region_on_the_screen_run(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    for i, source in enumerate(("window:zoom meeting", "region:100,50,640,360")):
        db = tmp_path / f"{i}.sqlite3"
        assert main(["run", "--source", source, "--no-overlay", "--db", f"sqlite:///{db}", "--fps", "0",
                     "--max-frames", "2"]) == 0, capsys.readouterr().err
        con = sqlite3.connect(db)
        try:
            assert con.execute("SELECT status, frames FROM sessions").fetchall() == [("complete", 2)]
        finally:
            con.close()


@pytest.mark.parametrize(("region", "ok"), [
    ((0, 0, 1600, 900), True), ((1599, 899, 1, 1), True), ((1500, 0, 200, 10), True), ((2800, 0, 81, 10), False),
    ((-1, 0, 10, 10), False),
    ((0, 900, 10, 10), False), ((1700, 0, 10, 10), True),  # the second monitor, right of the first
])
def test_region_problem_against_two_monitors(region: tuple[int, int, int, int], ok: bool) -> None:
    monitors = [{"left": 0, "top": 0, "width": 2880, "height": 900},
                {"left": 0, "top": 0, "width": 1600, "height": 900},
                {"left": 1600, "top": 0, "width": 1280, "height": 720}]
    assert (region_problem(region, monitors) is None) is ok
