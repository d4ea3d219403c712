"""Where the shared data for tests lives: ``../shared`` beside the repository root, or ``$CLASSMOOD_SHARED``.

Tests that need it skip with a reason naming the missing folder.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("CLASSMOOD_SHARED") or REPO_ROOT.parent / "shared")
