"""What a live class costs: ``python -m bench.live_cpu [--duration 120] [--repo PATH]``.

A real ``classmood run`` (its own process, overlay on, real SQLite) at 1 fps captures a
simulated 7x7 class shown on a private Xvfb (``bench.class_window``: a composed 1920x1080
gallery repainted with fresh camera noise four times a second). Part-way through, changes are
planted: a camera comes on (a face joins, at 40 % of the run), one goes off (a face leaves, at
55 %), the centre tile shows another face (at 70 %). Prints, from the OS (``/proc``):

- CPU seconds per minute of class of the run's process tree (user + system, all threads and
  the overlay), after a warm-up; also the start-up CPU and per-frame CPU;
- resident memory (VmRSS) in the class's last seconds (before shutdown), split into heap and
  buffers (RssAnon) and mapped code and files (RssFile), and the largest seen;
- the busiest threads' CPU (``/proc/PID/task``) after the warm-up;
- the reaction to each planted change, from the database rows: seconds from the moment the
  window showed it to the capture time of the first stored frame that reflects it (a face in
  the joining tile; none in the leaving one; the centre tile's stored, smoothed expression
  half-way from its old to its final value, and its label that of the new face: the centre
  tile changes from a face read as Neutral to one read as clearly happy).

``--repo`` runs the ``classmood`` of another copy of the source tree (same interpreter), so a
"before" and an "after" can be measured in one session on the same machine. Linux only; needs
Xvfb. Not a test: targets are read here, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREEN = "2400x1200x24"  # room beside the 1920x1080 class for the overlay
TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid``'s tree (live threads and reaped children)."""
    total = 0.0
    for p in _tree(pid):
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in f[11:15]) / TICKS  # utime stime cutime cstime
    return total


def thread_cpu_s(pid: int) -> dict[tuple[int, str], float]:
    """User + system CPU seconds of each live thread of ``pid``, keyed by (thread id, name)."""
    out: dict[tuple[int, str], float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        f = stat.rsplit(")", 1)[1].split()
        out[(int(task.name), name)] = (int(f[11]) + int(f[12])) / TICKS
    return out


def rss_parts_mb(pid: int) -> dict[str, float]:
    """Resident memory of ``pid``'s tree, MB: ``total`` (VmRSS) and its ``anon`` (heaps, buffers)
    and ``file`` (mapped library code and model files) parts, which call for different fixes."""
    keys = {"VmRSS:": "total", "RssAnon:": "anon", "RssFile:": "file"}
    out = dict.fromkeys(keys.values(), 0.0)
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key = keys.get(line.split(maxsplit=1)[0] if line else "")
                if key:
                    out[key] += int(line.split()[1]) / 1024
        except OSError:
            continue
    return out


def _median_since(samples: list[tuple[float, float]], since_s: float) -> float:
    """The median of the values sampled at or after ``since_s`` (0.0 when there are none)."""
    values = sorted(v for t, v in samples if t >= since_s)
    return values[len(values) // 2] if values else 0.0


class _Lines:
    """A child's stdout lines, read in a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._proc.stdout or ():
            self.lines.append(line.strip())

    def wait_for(self, prefix: str, timeout_s: float) -> str:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            for line in self.lines:
                if line.startswith(prefix):
                    self.lines.remove(line)
                    return line
            time.sleep(0.02)
        raise RuntimeError(f"no {prefix!r} from child within {timeout_s} s (rc={self._proc.poll()})")


def _utc_s(text: str) -> float:
    """A stored ``t_utc`` (SQLite text) as unix seconds."""
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:  # SQLite drops the zone; ClassMood stores UTC
        from datetime import UTC

        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def reactions(db_path: Path, tiles: list[list[int]], planted: dict[str, float]) -> dict[str, float | None]:
    """Seconds from each planted change to the capture time of the first stored frame showing it."""
    con = sqlite3.connect(db_path)
    frames = [(fid, _utc_s(t))
              for fid, t in con.execute("SELECT frame_id, t_utc FROM class_snapshots ORDER BY frame_id")]
    obs: dict[int, list[tuple[float, float, str, np.ndarray]]] = {}
    # "Hidden" and "Camera off" rows are participants known but not seen as a face this frame.
    for fid, x, y, w, h, label, *p in con.execute(
            "SELECT frame_id, x, y, w, h, label, p_angry, p_disgust, p_fear, p_happy, p_sad, p_surprise, p_neutral "
            "FROM observations WHERE label NOT IN ('Hidden', 'Camera off')"):
        probs = np.array([np.nan if v is None else v for v in p], np.float64)
        obs.setdefault(fid, []).append((x + w / 2, y + h / 2, label, probs))
    con.close()

    def rows_in(fid: int, k: int) -> list[tuple[str, np.ndarray]]:
        x0, y0, x1, y1 = tiles[k]
        return [(lab, pr) for cx, cy, lab, pr in obs.get(fid, []) if x0 <= cx < x1 and y0 <= cy < y1]

    def in_tile(fid: int, k: int) -> list[str]:
        return [lab for lab, _ in rows_in(fid, k)]

    from bench.class_window import JOIN_TILE, LEAVE_TILE, SWAP_TILE

    out: dict[str, float | None] = {}
    checks = {"join": lambda f: bool(in_tile(f, JOIN_TILE)), "leave": lambda f: not in_tile(f, LEAVE_TILE)}
    for what, shown in checks.items():
        t0 = planted.get(what)
        hit = [t - t0 for f, t in frames if t0 is not None and t >= t0 and shown(f)]
        out[what] = hit[0] if hit else None
    # The swap: seconds until the shown (smoothed) expression of the centre tile has moved half
    # of the way from its value before the swap to its value at the end of the run.
    t0 = planted.get("swap")
    if t0 is not None:
        before = [rows_in(f, SWAP_TILE) for f, t in frames if t < t0]
        after = [(t, rows_in(f, SWAP_TILE)) for f, t in frames if t >= t0]
        out["swap"] = None
        if before and before[-1] and after and after[-1][1]:
            p0, p1 = before[-1][0][1], after[-1][1][0][1]
            full = float(np.nansum(np.abs(p1 - p0)))
            hit = [t - t0 for t, rows in after if rows and full > 0
                   and float(np.nansum(np.abs(rows[0][1] - p0))) >= 0.5 * full]
            out["swap"] = hit[0] if hit else None
            old_label, new_label = before[-1][0][0], after[-1][1][0][0]
            out["swap_labels"] = f"{old_label}->{new_label}"  # type: ignore[assignment]
            # What the host sees: the badge shows the new expression's name.
            shown = [t - t0 for t, rows in after if rows and rows[0][0] == new_label] if new_label != old_label else []
            out["swap_label"] = shown[0] if shown else None
    return out


def run(duration_s: float, repo: Path, fps: float, overlay: bool, extra: list[str]) -> dict[str, object]:
    """One measured run; returns the figures (also printed by ``main``)."""
    tmp = Path(tempfile.mkdtemp(prefix="classmood-live-"))
    display = f":{150 + os.getpid() % 50}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", SCREEN, "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=display, PYTHONUNBUFFERED="1", HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_DATA_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"), XDG_RUNTIME_DIR=str(tmp))
    window: subprocess.Popen[str] | None = None
    cm: subprocess.Popen[bytes] | None = None
    try:
        time.sleep(1.0)
        window = subprocess.Popen([sys.executable, "-m", "bench.class_window"], env=env, cwd=REPO_ROOT, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        wl = _Lines(window)
        tiles = json.loads(wl.wait_for("tiles ", 120)[6:])
        wl.wait_for("ok ready", 30)
        db_path = tmp / "class.sqlite3"
        args = ["run", "--source", "region:0,0,1920,1080", "--fps", str(fps), "--db", f"sqlite:///{db_path}",
                "--duration", str(duration_s), *([] if overlay else ["--no-overlay"]), *extra]
        t_start = time.monotonic()
        cm = subprocess.Popen([sys.executable, "-m", "classmood.cli", *args], env=env, cwd=repo,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        warm_s = min(20.0, duration_s / 4)
        plants = {"join": 0.40, "leave": 0.55, "swap": 0.70}
        planted: dict[str, float] = {}
        cpu0 = cpu_at_warm = 0.0
        threads_at_warm: dict[tuple[int, str], float] = {}
        threads_end: dict[tuple[int, str], float] = {}
        threads_span_s = 0.0
        rss_max = 0.0
        warm_at: float | None = None
        end_at = cpu_end = 0.0
        rss_end_parts: dict[str, float] = {}  # the last sample of the class's last seconds
        rss_samples: list[tuple[float, float]] = []  # (seconds into the run, MB), every 0.5 s
        while cm.poll() is None:
            now = time.monotonic() - t_start
            c = cpu_s(cm.pid)
            if c > 0:
                cpu0 = c
            parts = rss_parts_mb(cm.pid)
            rss_max = max(rss_max, parts["total"])
            if warm_at is None and now >= warm_s:
                warm_at, cpu_at_warm = now, c
                threads_at_warm = thread_cpu_s(cm.pid)
            if warm_at is not None and now < duration_s - 2:  # before the run winds its threads down
                threads_end, threads_span_s = thread_cpu_s(cm.pid), now - warm_at
            for what, share in plants.items():
                if what not in planted and now >= share * duration_s:
                    assert window.stdin is not None
                    window.stdin.write(what + "\n")
                    window.stdin.flush()
                    planted[what] = float(wl.wait_for(f"ok {what}", 10).split()[2])
            if now < duration_s - 2 and parts["total"]:  # the class, not the shutdown (models closed)
                rss_end_parts = parts
                rss_samples.append((now, parts["total"]))
            end_at, cpu_end = now, cpu0
            time.sleep(0.5)
        con = sqlite3.connect(db_path)
        frames = con.execute("SELECT COUNT(*) FROM class_snapshots").fetchone()[0]
        faces = con.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        con.close()
        span_s = max(end_at - (warm_at or 0.0), 1e-9)
        per_min = (cpu_end - cpu_at_warm) / span_s * 60
        per_thread = sorted(((v - threads_at_warm.get(k, 0.0)) / max(threads_span_s, 1e-9) * 1000, f"{k[1]}/{k[0]}")
                            for k, v in threads_end.items())[::-1]
        return {"duration_s": duration_s, "frames": frames, "faces": faces, "startup_cpu_s": cpu_at_warm,
                "cpu_s_per_min": per_min, "cpu_ms_per_frame": per_min / 60 / fps * 1000 if fps else None,
                "share_of_core": per_min / 60, "rss_max_mb": rss_max,
                "rss_end_mb": rss_end_parts.get("total") or rss_max,
                "rss_last_min_median_mb": _median_since(rss_samples, end_at - 60.0),
                "rss_end_anon_mb": rss_end_parts.get("anon", 0.0), "rss_end_file_mb": rss_end_parts.get("file", 0.0),
                "reaction_s": reactions(db_path, tiles, planted), "rc": cm.returncode,
                "thread_ms_per_s": [(name, ms) for ms, name in per_thread[:6]]}
    finally:
        if cm is not None and cm.poll() is None:
            cm.send_signal(signal.SIGINT)  # Ctrl-C: the run ends its session and exits
            try:
                cm.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cm.kill()
        if window is not None and window.poll() is None:
            window.kill()
            window.wait()
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=120.0, help="seconds of class (default 120)")
    p.add_argument("--repo", type=Path, default=REPO_ROOT, help="source tree whose classmood runs")
    p.add_argument("--fps", type=float, default=1.0)
    p.add_argument("--no-overlay", dest="overlay", action="store_false")
    p.add_argument("extra", nargs="*", help="more `classmood run` flags, after --")
    a = p.parse_args(argv)
    if shutil.which("Xvfb") is None:
        print("bench.live_cpu needs Xvfb (apt-get install xvfb)")
        return 2
    r = run(a.duration, a.repo.resolve(), a.fps, a.overlay, a.extra)
    rx = r["reaction_s"]
    assert isinstance(rx, dict)
    share = float(r["share_of_core"])  # type: ignore[arg-type]

    def s(v: object) -> str:
        return "not seen" if v is None else f"{v:.1f} s" if isinstance(v, float) else str(v)

    print(f"ClassMood live cost, {a.repo.resolve()}, 7x7 class 1920x1080 at {a.fps:g} fps, "
          f"{'overlay on' if a.overlay else 'no overlay'}, {a.duration:.0f} s, {os.cpu_count()} cores")
    print(f"frames stored {r['frames']}, face rows {r['faces']}, exit code {r['rc']}")
    print(f"CPU after warm-up: {r['cpu_s_per_min']:.1f} s per minute of class = {100 * share:.1f} % "
          f"of one core = {r['cpu_ms_per_frame']:.0f} ms per frame; start-up {r['startup_cpu_s']:.1f} s")
    print("busiest threads after warm-up (name/id, CPU ms a second): " + ", ".join(
        f"{name} {ms:.1f}" for name, ms in r["thread_ms_per_s"]))  # type: ignore[attr-defined]
    print(f"resident memory: {r['rss_end_mb']:.0f} MB at the end ({r['rss_end_anon_mb']:.0f} MB heap and buffers, "
          f"{r['rss_end_file_mb']:.0f} MB mapped code and files), median of the last minute "
          f"{r['rss_last_min_median_mb']:.0f} MB, {r['rss_max_mb']:.0f} MB at most")
    print(f"reaction: face joins {s(rx.get('join'))}, face leaves {s(rx.get('leave'))}, "
          f"another face's expression half-way shown {s(rx.get('swap'))} ({rx.get('swap_labels')}), "
          f"its new label shown {s(rx.get('swap_label'))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
