"""``classmood run`` as a real process under faults: the meeting window closed or minimised,
the monitor switched off, Ctrl-C / SIGTERM, SIGKILL.

Everything is real: an Xvfb, a gallery window titled "Zoom Meeting" shown by a child process
(``gallery_window.py``), ``python -m classmood.cli run --source window:...`` capturing it with
python-xlib + mss, MediaPipe, ONNX Runtime, and a SQLite file read back here. ``--verbose``
makes the run log one line per frame it hands to storage, which is how frames processed are
compared with rows stored.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from storage_helpers import wait_for

from classmood.cli import main

pytestmark = pytest.mark.usefixtures("shipped_model")

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_CHILD = Path(__file__).resolve().parent / "gallery_window.py"
TITLE = "Zoom Meeting"
FPS = 4.0
QUEUED = re.compile(r"frame (\d+) queued for storage")


def _env(display: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=display, PYTHONUNBUFFERED="1", HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="classmood-xdg-"))
    return env


def _holds(predicate: Callable[[], bool], for_s: float, what: str) -> None:
    """``predicate`` stays true for ``for_s`` (checked every 50 ms): nothing happens during a fault."""
    end = time.monotonic() + for_s
    while time.monotonic() < end:
        assert predicate(), what
        time.sleep(0.05)


class GalleryWindow:
    """The child that shows the gallery window; ``send('close')`` returns once it is done."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, str(WINDOW_CHILD)], env=env, cwd=REPO_ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._out: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=lambda: [self._out.put(line.strip()) for line in self.proc.stdout or ()],
                         daemon=True).start()
        self.faces = int(self._next(30).split()[1])
        assert self._next(10) == "ok ready"

    def _next(self, timeout_s: float) -> str:
        try:
            return self._out.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"gallery window child silent for {timeout_s} s (rc={self.proc.poll()})") from None

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        assert self._next(10) == f"ok {command}"

    def stop(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


class ClassMoodRun:
    """``python -m classmood.cli run ...`` in its own process; its stderr lines are collected as they come."""

    def __init__(self, db_path: Path, env: dict[str, str], source: str) -> None:
        self.db_path = db_path
        args = ["run", "--source", source, "--no-overlay", "--db", f"sqlite:///{db_path}",
                "--fps", str(FPS), "--verbose"]
        self.proc = subprocess.Popen([sys.executable, "-m", "classmood.cli", *args], env=env, cwd=REPO_ROOT, text=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr or ():
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, needle: str, after: int = 0, timeout_s: float = 30) -> int:
        """Index of the first stderr line from ``after`` on that contains ``needle``."""
        end = time.monotonic() + timeout_s
        while True:
            for i in range(after, len(self.lines)):
                if needle in self.lines[i]:
                    return i
            if time.monotonic() > end or self.proc.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"no {needle!r} in the run's log (rc={self.proc.poll()}):\n"
                                     + "\n".join(self.lines[-30:]))
            time.sleep(0.05)

    def frames_queued(self) -> int:
        """Frames the run processed and handed to storage so far (from its per-frame log line)."""
        ids = [int(m.group(1)) for line in list(self.lines) if (m := QUEUED.search(line))]
        return max(ids, default=0)

    def stored(self) -> int:
        try:
            return _query(self.db_path, "SELECT count(*) FROM class_snapshots")[0][0]
        except sqlite3.OperationalError:  # the run has not created the file or its schema yet
            return 0

    def finish(self, timeout_s: float = 20) -> int:
        rc = self.proc.wait(timeout=timeout_s)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish()


def _query(db_path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def env(xvfb_display: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _env(xvfb_display, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def window(env: dict[str, str]) -> Iterator[GalleryWindow]:
    w = GalleryWindow(env)
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def run_factory(env: dict[str, str]) -> Iterator[Callable[..., ClassMoodRun]]:
    runs: list[ClassMoodRun] = []

    def start(db_path: Path, source: str = f"window:{TITLE}") -> ClassMoodRun:
        runs.append(ClassMoodRun(db_path, env, source))
        return runs[-1]

    yield start
    for r in runs:  # a failed test must not leave a run behind
        r.kill()


def _assert_flushed_and_complete(run: ClassMoodRun, signame: str) -> None:
    assert run.finish() == 0, "\n".join(run.lines[-20:])
    assert any(f"stopping ({signame})" in line for line in run.lines)
    ((status, frames, ended),) = _query(run.db_path, "SELECT status, frames, ended_utc FROM sessions")
    assert status == "complete" and ended is not None
    # Flushed: every frame the run processed is stored, with its faces.
    assert frames == run.stored() == run.frames_queued() > 0
    assert _query(run.db_path, "SELECT count(*) FROM observations")[0][0] > 0


def test_closed_or_minimised_window_pauses_the_run_until_it_is_back(window: GalleryWindow, run_factory,
                                                                     tmp_path: Path) -> None:
    run = run_factory(tmp_path / "class.sqlite3")
    run.wait_for(f"capturing window:{TITLE}")
    wait_for(lambda: run.stored() >= 3, 15, "the first frames to be stored")
    mark = 0
    # "hide" unmaps the window, as minimising does (Xvfb has no window manager to iconify it).
    for fault, back in (("close", "open"), ("hide", "show")):
        window.send(fault)
        mark = run.wait_for("is not visible (closed or minimised); retrying", after=mark, timeout_s=5)
        assert "WARNING" in run.lines[mark]
        wait_for(lambda: run.stored() == run.frames_queued(), 5, "frames grabbed before the fault to be stored")
        stored, queued = run.stored(), run.frames_queued()
        _holds(lambda: run.proc.poll() is None and (run.stored(), run.frames_queued()) == (stored, queued),  # noqa: B023
               2.0, "the run keeps going and captures nothing while the window is gone")
        assert not any("Traceback" in line for line in run.lines)

        window.send(back)
        mark = run.wait_for(f"capturing window:{TITLE}", after=mark, timeout_s=5)
        wait_for(lambda: run.stored() >= stored + 3, 15, f"capture to resume after {back!r}")  # noqa: B023
        newest = _query(run.db_path, "SELECT faces_seen FROM class_snapshots ORDER BY id DESC LIMIT 2")
        assert [n for (n,) in newest] == [window.faces, window.faces], "every face is found again"

    run.proc.send_signal(signal.SIGINT)
    _assert_flushed_and_complete(run, "SIGINT")


def _xrandr(env: dict[str, str], *args: str) -> None:
    # Xvfb's one output cannot be switched off without an error from xrandr, but the framebuffer
    # then shrinks: what was the monitor's area is no longer on the screen, as after an unplug.
    subprocess.run(["xrandr", *args], env=env, capture_output=True, timeout=10, check=False)


def test_monitor_gone_pauses_a_screen_run_until_it_is_back(window: GalleryWindow, run_factory, env: dict[str, str],
                                                         tmp_path: Path) -> None:
    if shutil.which("xrandr") is None:
        pytest.skip("xrandr is not installed (apt-get install x11-xserver-utils)")
    run = run_factory(tmp_path / "class.sqlite3", source="screen")
    mark = run.wait_for("capturing screen:1 1600x900")
    wait_for(lambda: run.stored() >= 3, 15, "the first frames to be stored")
    try:
        _xrandr(env, "--output", "screen", "--off")
        _xrandr(env, "--fb", "800x600")
        mark = run.wait_for("screen capture failed (screen:1 1600x900; monitor", after=mark, timeout_s=5)
        assert "retrying" in run.lines[mark] and "\n" not in run.lines[mark]
        wait_for(lambda: run.stored() == run.frames_queued(), 5, "frames grabbed before the fault to be stored")
        stored, queued = run.stored(), run.frames_queued()
        _holds(lambda: run.proc.poll() is None and (run.stored(), run.frames_queued()) == (stored, queued),
               1.5, "the run keeps going and captures nothing while the monitor is gone")
    finally:
        _xrandr(env, "--fb", "1600x900")
        _xrandr(env, "--output", "screen", "--auto")
    run.wait_for("capturing screen:1 1600x900", after=mark, timeout_s=5)
    wait_for(lambda: run.stored() >= stored + 3, 15, "capture to resume on the monitor")
    newest = _query(run.db_path, "SELECT faces_seen FROM class_snapshots ORDER BY id DESC LIMIT 2")
    assert [n for (n,) in newest] == [window.faces, window.faces]
    run.proc.send_signal(signal.SIGTERM)
    _assert_flushed_and_complete(run, "SIGTERM")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_or_terminate_flushes_and_completes_the_session(window: GalleryWindow, run_factory,
                                                                  tmp_path: Path, sig: signal.Signals) -> None:
    run = run_factory(tmp_path / "class.sqlite3")
    wait_for(lambda: run.stored() >= 3, 20, "the first frames to be stored")
    # Between two commits: some processed frames are still only in memory.
    wait_for(lambda: run.frames_queued() > run.stored(), 5, "a frame not yet committed")
    run.proc.send_signal(sig)
    _assert_flushed_and_complete(run, sig.name)


def test_sigkill_loses_at_most_about_a_second_and_the_next_start_says_interrupted(
        window: GalleryWindow, run_factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "class.sqlite3"
    run = run_factory(db_path)
    wait_for(lambda: run.stored() >= 6, 20, "the first frames to be stored")
    wait_for(lambda: run.frames_queued() > run.stored(), 5, "a frame not yet committed")
    run.kill()
    assert run.proc.returncode == -signal.SIGKILL
    processed, stored = run.frames_queued(), run.stored()
    lost = processed - stored
    measured = (f"SIGKILL at {FPS:g} fps: {processed} frames processed, {stored} stored, "
                f"{lost} lost ({lost / FPS:.2f} s)")
    assert 0 <= lost <= FPS * 1.0 + 2, f"{measured}: more than the ~1 s commit interval"
    assert _query(db_path, "SELECT status FROM sessions") == [("running",)]

    # The next start, even just listing sessions, marks the dead run's session as interrupted.
    assert main(["sessions", "--db", f"sqlite:///{db_path}"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "interrupted"
    ((status, ended, frames),) = _query(db_path, "SELECT status, ended_utc, frames FROM sessions")
    assert status == "interrupted" and ended is not None and frames == stored
    with capsys.disabled():
        print(f"\n{measured}")
