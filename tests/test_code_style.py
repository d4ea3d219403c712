"""House style is checked, not hoped for: ruff on everything, mypy on every runtime package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("tool", [["ruff", "check", "."], ["mypy"]], ids=["ruff", "mypy"])
def test_code_passes(tool: list[str]) -> None:
    pytest.importorskip(tool[0], reason=f"{tool[0]} is in the test extra: pip install -e .[test]")
    result = subprocess.run([sys.executable, "-m", *tool], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
