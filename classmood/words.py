"""Counted nouns for what the commands print: "1 frame", "2 frames", "1,234 face observations"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural`` for nouns that do not just add "s")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
