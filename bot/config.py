"""All settings in one typed object: defaults, then a TOML file, then command-line flags.

Unknown keys and out-of-range values are refused with a one-line ``ConfigError`` that names
the key and what is allowed, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from bot.errors import ConfigError

PrivacyMode = Literal["full", "aggregate", "presence"]
PRIVACY_MODES: tuple[str, ...] = get_args(PrivacyMode)


@dataclass(frozen=True)
class AlertConfig:
    """When the overlay's alert line speaks up."""

    negative_share_above: float = 0.5  # share of Angry+Disgust+Fear+Sad in the class mood
    negative_for_s: float = 20.0  # ... held for this long
    cameras_off_share_above: float = 0.5  # share of tiles without a face
    no_faces_for_s: float = 10.0  # no face at all for this long: "is the gallery visible?"

    def __post_init__(self) -> None:
        _in_range("alerts.negative_share_above", self.negative_share_above, 0.0, 1.0)
        _in_range("alerts.cameras_off_share_above", self.cameras_off_share_above, 0.0, 1.0)
        _in_range("alerts.negative_for_s", self.negative_for_s, 0.0, 3600.0)
        _in_range("alerts.no_faces_for_s", self.no_faces_for_s, 0.0, 3600.0)


@dataclass(frozen=True)
class Config:
    """Everything ``classmood run`` / ``analyze`` needs to know."""

    source: str = "screen"  # screen | screen:N | region:X,Y,W,H | window:TITLE | PATH
    fps: float = 1.0  # frames per second; 0 = as fast as the machine allows
    db: str | None = None  # SQLAlchemy URL; None = SQLite in the user's data directory
    overlay: bool = True
    privacy: PrivacyMode = "full"
    save_frames: Path | None = None  # a folder; frames are never written unless this is set
    model: Path | None = None  # emotion ONNX; None = the shipped models/emotion.onnx
    min_face_score: float = 0.5
    uncertain_below: float = 0.4  # smoothed confidence under this -> "Uncertain"
    smoothing_s: float = 3.0  # time constant of the per-participant smoothing
    forget_after_s: float = 600.0  # a participant unseen this long gets a new id on return
    threads: int = 0  # inference threads; 0 = all cores
    max_frames: int | None = None  # stop after this many frames
    duration_s: float | None = None  # stop after this long
    verbose: bool = False
    alerts: AlertConfig = field(default_factory=AlertConfig)

    def __post_init__(self) -> None:
        _in_range("fps", self.fps, 0.0, 60.0)
        _in_range("min_face_score", self.min_face_score, 0.05, 1.0)
        _in_range("uncertain_below", self.uncertain_below, 0.0, 1.0)
        _in_range("smoothing_s", self.smoothing_s, 0.0, 600.0)
        _in_range("forget_after_s", self.forget_after_s, 0.0, 86400.0)
        _in_range("threads", self.threads, 0, 256)
        if self.privacy not in PRIVACY_MODES:
            raise ConfigError(f"config: privacy must be one of {', '.join(PRIVACY_MODES)}, not {self.privacy!r}")
        if self.max_frames is not None:
            _in_range("max_frames", self.max_frames, 1, 10**9)
        if self.duration_s is not None:
            _in_range("duration_s", self.duration_s, 0.0, 10**7)
        if not self.source.strip():
            raise ConfigError("config: source must not be empty "
                              "(screen, screen:N, region:X,Y,W,H, window:TITLE or a path)")


def _in_range(key: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ConfigError(f"config: {key} must be a number from {lo:g} to {hi:g}, not {value!r}")


def _convert(key: str, hint: Any, value: Any) -> Any:
    """Coerce a TOML/flag value to the field's type, or say why not."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(key, inner[0], value)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"config: {key} must be one of {', '.join(map(str, args))}, not {value!r}")
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"config: {key} must be true or false, not {value!r}")
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"config: {key} must be a number, not {value!r}")
        try:
            return hint(value)
        except (TypeError, ValueError):
            raise ConfigError(f"config: {key} must be a number, not {value!r}") from None
    if hint is Path:
        return Path(value).expanduser()
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config: {key} must be text, not {value!r}")
        return value
    return value


def _apply(obj: Any, values: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in fields(obj)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"config: unknown key '{prefix}{unknown[0]}'; allowed: {', '.join(sorted(names))}")
    kw: dict[str, Any] = {}
    for key, value in values.items():
        if key == "alerts":
            if not isinstance(value, dict):
                raise ConfigError("config: alerts must be a table of alert settings")
            kw[key] = _apply(getattr(obj, key), value, prefix="alerts.")
        else:
            kw[key] = _convert(prefix + key, hints[key], value)
    return replace(obj, **kw)


# The settings the overlay's dialog edits; saved so the next run starts with them.
SAVED_KEYS = ("source", "fps", "privacy")


def user_settings_path() -> Path:
    """``classmood.toml`` in the user's config folder (platformdirs): the overlay saves edits here."""
    from platformdirs import user_config_path

    return user_config_path("classmood", appauthor=False) / "classmood.toml"


def save_settings(cfg: Config, path: Path) -> None:
    """Write the dialog-editable settings as TOML (strings JSON-quoted: valid TOML basic strings)."""
    lines = [f"{k} = {json.dumps(getattr(cfg, k))}" for k in SAVED_KEYS]
    lines.append("[alerts]")
    lines += [f"{f.name} = {json.dumps(getattr(cfg.alerts, f.name))}" for f in fields(cfg.alerts)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Saved by the ClassMood overlay's settings dialog; flags still win.\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")


def load_config(toml_path: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then ``toml_path`` (if given), then ``overrides`` (flags that were set)."""
    cfg = Config()
    if toml_path is not None:
        try:
            with open(toml_path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config: file not found: {toml_path}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config: {toml_path} is not valid TOML: {e}") from None
        cfg = _apply(cfg, data)
    if overrides:
        cfg = _apply(cfg, overrides)
    return cfg
