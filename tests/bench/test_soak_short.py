"""A short soak (``bench/soak.py``): 40 s at 2 fps of the real pipeline on a looping composed
gallery into a real SQLite file, in its own process so its memory is its own.

After a 10 s warm-up (models' arenas, the tracker's first participants, SQLite's page cache)
resident memory must stay flat: a leak of even one gallery frame per frame (1.5 MB at
960x540) would add ~100 MB in the remaining 30 s, far above the 40 MB allowed here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("shipped_model")

REPO_ROOT = Path(__file__).resolve().parents[2]
DURATION_S, FPS, WARM_UP_S, MAX_GROWTH_MB = 40.0, 2.0, 10.0, 40.0


def test_short_soak_keeps_memory_flat_and_stores_every_frame(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    proc = subprocess.run([sys.executable, "-m", "bench.soak", "--duration-s", str(DURATION_S), "--fps", str(FPS),
                           "--report-every-s", "5", "--db", f"sqlite:///{tmp_path / 'soak.sqlite3'}",
                           "--json", str(out)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=DURATION_S + 60)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["errors"] == [] and result["dropped_frames"] == 0
    assert result["frames"] >= 0.9 * DURATION_S * FPS, "the pipeline kept up with 2 fps"
    assert result["rows"]["snapshots"] == result["frames"]
    assert result["faces"] > 0
    assert result["rows"]["observations"] == result["faces"] + result["present_without_face"]

    samples = [(t, mb) for t, mb in result["rss_mb"] if t >= WARM_UP_S]
    base = samples[0][1]
    growth = max(mb for _, mb in samples) - base
    print(f"\nsoak {DURATION_S:g} s at {FPS:g} fps: rss start {result['rss_mb'][0][1]} MB, after warm-up {base} MB, "
          f"end {result['rss_mb'][-1][1]} MB, growth after warm-up {growth:+.1f} MB, {result['frames']} frames")
    assert growth < MAX_GROWTH_MB, result["rss_mb"]
