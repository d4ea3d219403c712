"""One way to fill a frozen settings dataclass from a mapping (TOML, flags), for the app and training.

``apply_mapping(obj, values)`` returns a copy of ``obj`` with ``values`` applied: unknown keys
and values of the wrong type are refused with a one-line ``ConfigError`` naming the key
(``alerts.negative_for_s``) and what is allowed; nested dataclass fields take nested tables;
types with a ``parse(text)`` classmethod and enums are parsed from their text once, here.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from vocab.errors import ConfigError

T = TypeVar("T")


def in_range(key: str, value: Any, lo: float, hi: float, what: str = "config") -> None:
    """``ConfigError`` unless ``value`` is a number (not a bool) in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ConfigError(f"{what}: {key} must be a number from {lo:g} to {hi:g}, not {value!r}")


def apply_mapping(obj: T, values: dict[str, Any], *, what: str = "config", prefix: str = "") -> T:
    """``obj`` (a frozen dataclass) with ``values`` applied, each converted to its field's type."""
    assert is_dataclass(obj) and not isinstance(obj, type)
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in fields(obj)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"{what}: unknown key '{prefix}{unknown[0]}'; allowed: {', '.join(sorted(names))}")
    kw: dict[str, Any] = {}
    for key, value in values.items():
        current = getattr(obj, key)
        if is_dataclass(current) and not isinstance(current, type) and not hasattr(type(current), "parse"):
            if not isinstance(value, dict):
                raise ConfigError(f"{what}: {prefix}{key} must be a table of settings")
            kw[key] = apply_mapping(current, value, what=what, prefix=f"{prefix}{key}.")
        else:
            kw[key] = _convert(f"{prefix}{key}", hints[key], value, what)
    try:
        return replace(obj, **kw)  # type: ignore[type-var]
    except (TypeError, ValueError) as e:  # a __post_init__ that raises plain errors
        raise ConfigError(f"{what}: {e}") from None


def _convert(key: str, hint: Any, value: Any, what: str) -> Any:
    """Coerce a TOML/flag value to the field's type, or say why not."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(key, inner[0], value, what)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{what}: {key} must be one of {', '.join(map(str, args))}, not {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{what}: {key} must be a list, not {value!r}")
        return tuple(_convert(key, args[0], v, what) for v in value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        if isinstance(value, hint):
            return value
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in hint)
            raise ConfigError(f"{what}: {key} must be one of {allowed}, not {value!r}") from None
    if isinstance(hint, type) and hasattr(hint, "parse"):
        return value if isinstance(value, hint) else hint.parse(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{what}: {key} must be true or false, not {value!r}")
    if hint in (int, float):
        return _number(key, hint, value, what)
    if hint is Path:
        if not isinstance(value, (str, Path)):  # Path(5) is a TypeError, not a setting's message
            raise ConfigError(f"{what}: {key} must be a path as text, not {value!r}")
        return Path(value).expanduser()
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{what}: {key} must be text, not {value!r}")
        return value
    return value


def _number(key: str, hint: type, value: Any, what: str) -> int | float:
    """``value`` as an int or float (``hint``); a fraction for a whole-number setting is refused,
    never cut: ``max_frames = 2.7`` is a typo to report, not 2."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: {key} must be a number, not {value!r}")
    if hint is int and isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: {key} must be a number, not {value!r}") from None
    if hint is float:
        return number
    if not number.is_integer():
        raise ConfigError(f"{what}: {key} must be a whole number, not {value!r}")
    return int(number)
