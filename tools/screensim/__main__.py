"""CLI: ``python -m tools.screensim --seed N --out x.png [--set layout=share ...]``.

Writes the screen as an image and its ground truth as ``x.json`` next to it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import cv2

from tools.screensim.scene import ScreenSpec, random_spec, simulate_screen


def _value(field_type: object, text: str) -> object:
    kind = str(field_type)
    if "tuple[int, int]" in kind:
        a, b = text.lower().split("x")
        return int(a), int(b)
    if "tuple[str" in kind:
        return tuple(t for t in text.split(",") if t)
    if "bool" in kind:
        return text.lower() in ("1", "true", "yes")
    if "int" in kind:
        return int(text)
    if "float" in kind:
        return float(text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screensim", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frame", type=int, default=0, help="the same screen a moment later (live tiles change)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="pin a spec field, e.g. layout=share, app=teams, size_wh=1366x768, "
                             "panels=people,chat (repeatable)")
    parser.add_argument("--out", required=True, help="output .png or .jpg; the truth goes to .json beside it")
    args = parser.parse_args(argv)
    types = {f.name: f.type for f in fields(ScreenSpec)}
    overrides: dict[str, object] = {}
    for item in args.set:
        key, _, text = item.partition("=")
        if key not in types:
            print(f"error: unknown field {key!r}; fields: {', '.join(sorted(types))}", file=sys.stderr)
            return 2
        overrides[key] = _value(types[key], text)
    try:
        screen = simulate_screen(random_spec(args.seed, **overrides), frame_index=args.frame)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if not cv2.imwrite(str(out), screen.image):
        print(f"error: cannot write {out}", file=sys.stderr)
        return 1
    out.with_suffix(".json").write_text(json.dumps(screen.truth_dict(), indent=1, ensure_ascii=False))
    print(f"wrote {out} ({len(screen.faces)} faces, {len(screen.tiles)} tiles) and {out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
