"""training/gpu_round.sh end to end on the CPU, at toy size: the one command a lent GPU runs.

A lease is short and cannot be rehearsed on the GPU itself, so the script is rehearsed here:
packed data in, a teacher and two students trained to their budgets, and out come the files a
later session needs (the students' checkpoints, the teacher in parts that join, the logs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import torch

from training.model import load_checkpoint
from training.pack import pack
from training.parts import join_checkpoint

REPO = Path(__file__).resolve().parents[2]


def test_gpu_round_script_runs_a_whole_round_and_returns_what_it_promises(fer2013_npz: Path, tmp_path: Path) -> None:
    pack(fer2013_npz, tmp_path / "packed", max_per_split=48)
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "PACKED": str(tmp_path / "packed"), "PY": sys.executable, "DEV": "cpu",
           "TB": "3", "SB": "3", "EXTRA": "--batch-size 16",
           "GRACE": "240"}  # a busy 2-core runner takes ~50 s to import torch and train a toy teacher
    run = subprocess.run(["bash", str(REPO / "training" / "gpu_round.sh")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert {p.name for p in out.iterdir()} == {"kd7_last_ema.pt", "kd9_last_ema.pt", "teacher1.part1.pt",
                                               "teacher1.part2.pt", "logs.tgz"}
    assert all(p.stat().st_size < 16e6 for p in out.iterdir())
    teacher, ck = load_checkpoint(join_checkpoint(out / "teacher1.part1.pt", out / "teacher1.part2.pt",
                                                  tmp_path / "teacher.pt"))
    assert teacher.cfg.stem_stride == 1 and ck["config"]["recipe"] == "teacher"
    for name, weight in (("kd7", 0.7), ("kd9", 0.9)):
        student = torch.load(out / f"{name}_last_ema.pt", map_location="cpu", weights_only=False)
        assert student["config"]["teacher_weight"] == weight and len(student["teachers"]) == 1
    with tarfile.open(out / "logs.tgz") as tar:
        assert {"t1.txt", "kd7.txt", "kd9.txt", "t1/history.jsonl"} <= set(tar.getnames())
