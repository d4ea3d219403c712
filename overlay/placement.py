"""Where the overlay was, and how it was set up: remembered in a small JSON file.

The file lives in the user's config directory (``platformdirs``), so the overlay reopens where
the host left it, beside their Zoom window, with the same click-through and badge choices.
A missing or damaged file means defaults; it is never an error worth bothering the host.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """The overlay window's geometry (logical screen pixels) and toggles."""

    x: int = -1  # -1: not placed yet (top-right corner of the primary screen, until tiles are known)
    y: int = -1
    width: int = 360
    height: int = 380
    click_through: bool = False
    badges: bool = True
    host_placed: bool = False  # dragged there by the host: kept even where it covers tiles (with a warning)


def default_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("classmood", appauthor=False) / "overlay.json"


def load_placement(path: Path | None = None) -> Placement:
    """The saved placement, or defaults when there is none or it cannot be read."""
    path = path or default_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Placement()
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable overlay placement %s: %s", path, e)
        return Placement()
    if not isinstance(data, dict):
        return Placement()
    known = {f.name: f.type for f in fields(Placement)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        kind = bool if known.get(key) == "bool" else int if key in known else None
        if kind is not None and isinstance(value, (bool, int)) and (kind is bool) == isinstance(value, bool):
            values[key] = value
    placed = replace(Placement(), **values)
    if placed.width < 120 or placed.height < 80:
        placed = replace(placed, width=Placement.width, height=Placement.height)
    return placed


def save_placement(placement: Placement, path: Path | None = None) -> None:
    """Write ``placement``; a failure is logged and otherwise ignored."""
    path = path or default_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(placement), indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        log.warning("could not remember the overlay's place in %s: %s", path, e)
