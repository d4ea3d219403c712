"""All settings in one typed object: defaults, then a TOML file, then command-line flags.

Unknown keys and out-of-range values are refused with a one-line ``ConfigError`` that names
the key and what is allowed, so a typo never silently falls back to a default. Text settings
are parsed here, once, into types (``SourceSpec``, ``Privacy``); nothing downstream splits a
string again.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from vocab.errors import ConfigError
from vocab.typed_config import apply_mapping, in_range

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})


class Privacy(StrEnum):
    """What a run may infer and keep.

    ``FULL`` stores every face's expressions per participant; ``AGGREGATE`` keeps class-level
    numbers only (per-person data never leaves the pipeline); ``PRESENCE`` runs no emotion
    inference at all (faces present, cameras on).
    """

    FULL = "full"
    AGGREGATE = "aggregate"
    PRESENCE = "presence"

    @property
    def per_person(self) -> bool:
        """Whether per-participant rows (and badges beside faces) are allowed."""
        return self is not Privacy.AGGREGATE

    @property
    def emotions(self) -> bool:
        """Whether expressions are inferred at all."""
        return self is not Privacy.PRESENCE


PRIVACY_MODES: tuple[str, ...] = tuple(p.value for p in Privacy)


class SourceKind(StrEnum):
    SCREEN = "screen"
    REGION = "region"
    WINDOW = "window"
    VIDEO = "video"
    IMAGE = "image"
    FOLDER = "folder"

    @property
    def is_live(self) -> bool:
        """Live sources are paced by the clock and last as long as the class; files run as fast as they can."""
        return self in (SourceKind.SCREEN, SourceKind.REGION, SourceKind.WINDOW)


SOURCE_HELP = "screen, screen:N, region:X,Y,W,H, window:TITLE or a path to a video, an image or a folder"


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from, parsed once from text like ``window:Zoom Meeting``.

    Exactly one of ``monitor`` (``SCREEN``; None = the primary), ``region_xywh`` (``REGION``),
    ``window_title`` (``WINDOW``) or ``path`` (``VIDEO``/``IMAGE``/``FOLDER``) is meaningful.
    """

    kind: SourceKind
    monitor: int | None = None
    region_xywh: tuple[int, int, int, int] | None = None
    window_title: str | None = None
    path: Path | None = None

    @property
    def is_live(self) -> bool:
        return self.kind.is_live

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        """``screen``, ``screen:N``, ``region:X,Y,W,H``, ``window:TITLE`` or an existing path; else ``ConfigError``."""
        if not isinstance(text, str):
            raise ConfigError(f"config: source must be text ({SOURCE_HELP}), not {text!r}")
        spec = text.strip()
        if not spec:
            raise ConfigError(f"config: source must not be empty ({SOURCE_HELP})")
        kind, _, arg = spec.partition(":")
        if kind == "screen" and (not arg or arg.isdigit()):
            monitor = int(arg) if arg else None
            if monitor is not None and monitor < 1:
                raise ConfigError(f"config: screen:{arg} does not exist; monitors are numbered from 1")
            return cls(SourceKind.SCREEN, monitor=monitor)
        if kind == "region":
            return cls(SourceKind.REGION, region_xywh=_parse_region(arg))
        if kind == "window":
            title = arg.strip().strip('"').strip()
            if not title:
                raise ConfigError('config: source window: needs a title, e.g. window:"Zoom Meeting"')
            return cls(SourceKind.WINDOW, window_title=title)
        path = Path(spec).expanduser()
        if path.is_dir():
            return cls(SourceKind.FOLDER, path=path)
        if not path.exists():
            raise ConfigError(f"config: source {spec!r} is neither {SOURCE_HELP} that exists")
        kind_of_file = SourceKind.IMAGE if path.suffix.lower() in IMAGE_SUFFIXES else SourceKind.VIDEO
        return cls(kind_of_file, path=path)

    def __str__(self) -> str:
        """The text form, which ``parse`` reads back to the same spec."""
        if self.kind is SourceKind.SCREEN:
            return "screen" if self.monitor is None else f"screen:{self.monitor}"
        if self.kind is SourceKind.REGION:
            return "region:" + ",".join(str(v) for v in self.region_xywh or ())
        if self.kind is SourceKind.WINDOW:
            return f"window:{self.window_title}"
        return str(self.path)


def _parse_region(arg: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in arg.split(","))
    except ValueError:
        raise ConfigError(f"config: region must be X,Y,W,H in whole pixels, not {arg!r}") from None
    if w < 16 or h < 16 or x < 0 or y < 0:
        raise ConfigError(f"config: region {arg!r} must be at least 16x16 px at x,y >= 0")
    return x, y, w, h


@dataclass(frozen=True)
class AlertConfig:
    """When the overlay's alert line speaks up."""

    negative_share_above: float = 0.5  # share of Angry+Disgust+Fear+Sad in the class mood
    negative_for_s: float = 20.0  # ... held for this long
    cameras_off_share_above: float = 0.5  # share of tiles without a face
    no_faces_for_s: float = 10.0  # no face at all for this long: "is the gallery visible?"
    # Share of the faces with an attention reading that look down, away or have their eyes closed,
    # held this long: long enough that a class writing a note for a minute does not set it off.
    looking_away_share_above: float = 0.4
    looking_away_for_s: float = 120.0

    def __post_init__(self) -> None:
        in_range("alerts.negative_share_above", self.negative_share_above, 0.0, 1.0)
        in_range("alerts.cameras_off_share_above", self.cameras_off_share_above, 0.0, 1.0)
        in_range("alerts.looking_away_share_above", self.looking_away_share_above, 0.0, 1.0)
        in_range("alerts.negative_for_s", self.negative_for_s, 0.0, 3600.0)
        in_range("alerts.no_faces_for_s", self.no_faces_for_s, 0.0, 3600.0)
        in_range("alerts.looking_away_for_s", self.looking_away_for_s, 0.0, 3600.0)


@dataclass(frozen=True)
class Config:
    """Everything ``classmood run`` / ``analyze`` needs to know.

    ``source`` and ``privacy`` may be given as text (a TOML value, a flag, a test): they are
    parsed here, once, into ``SourceSpec`` and ``Privacy``.
    """

    source: SourceSpec = field(default_factory=lambda: SourceSpec(SourceKind.SCREEN))
    fps: float = 1.0  # frames per second; 0 = as fast as the machine allows
    db: str | None = None  # SQLAlchemy URL; None = SQLite in the user's data directory
    overlay: bool = True
    privacy: Privacy = Privacy.FULL
    save_frames: Path | None = None  # a folder; frames are never written unless this is set
    model: Path | None = None  # emotion ONNX; None = the shipped models/emotion.onnx
    min_face_score: float = 0.5
    uncertain_below: float = 0.4  # smoothed confidence under this -> "Uncertain"
    smoothing_s: float = 3.0  # time constant of the per-participant smoothing
    forget_after_s: float = 600.0  # a participant unseen this long gets a new id on return
    threads: int = 0  # inference threads; 0 = all cores
    attention: bool = True  # head pose, eyes and where each face looks (landmarks every few seconds)
    names: bool = True  # read display names from the tiles (full privacy mode only; personal data)
    badge_names: bool = False  # the overlay's badges show participants' first names beside their faces
    max_frames: int | None = None  # stop after this many frames
    duration_s: float | None = None  # stop after this long
    verbose: bool = False
    alerts: AlertConfig = field(default_factory=AlertConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.source, SourceSpec):
            object.__setattr__(self, "source", SourceSpec.parse(self.source))
        if not isinstance(self.privacy, Privacy):
            object.__setattr__(self, "privacy", parse_privacy(self.privacy))
        in_range("fps", self.fps, 0.0, 60.0)
        in_range("min_face_score", self.min_face_score, 0.05, 1.0)
        in_range("uncertain_below", self.uncertain_below, 0.0, 1.0)
        in_range("smoothing_s", self.smoothing_s, 0.0, 600.0)
        in_range("forget_after_s", self.forget_after_s, 0.0, 86400.0)
        in_range("threads", self.threads, 0, 256)
        if self.max_frames is not None:
            in_range("max_frames", self.max_frames, 1, 10**9)
        if self.duration_s is not None:
            in_range("duration_s", self.duration_s, 0.0, 10**7)


def parse_privacy(value: object) -> Privacy:
    """``"full"`` etc. as ``Privacy``; ``ConfigError`` naming the allowed modes otherwise."""
    try:
        if isinstance(value, str):
            return Privacy(value)
    except ValueError:
        pass
    raise ConfigError(f"config: privacy must be one of {', '.join(PRIVACY_MODES)}, not {value!r}")


# The settings the overlay's dialog edits; saved so the next run starts with them.
SAVED_KEYS = ("source", "fps", "privacy")


def user_settings_path() -> Path:
    """``classmood.toml`` in the user's config folder (platformdirs): the overlay saves edits here."""
    from platformdirs import user_config_path

    return user_config_path("classmood", appauthor=False) / "classmood.toml"


def _toml_value(value: Any) -> str:
    # JSON strings are valid TOML basic strings; enums and specs are written as their text.
    return json.dumps(str(value) if isinstance(value, (SourceSpec, StrEnum)) else value)


def save_settings(cfg: Config, path: Path) -> None:
    """Write the dialog-editable settings as TOML."""
    lines = [f"{k} = {_toml_value(getattr(cfg, k))}" for k in SAVED_KEYS]
    lines.append("[alerts]")
    lines += [f"{f.name} = {_toml_value(getattr(cfg.alerts, f.name))}" for f in fields(cfg.alerts)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Saved by the ClassMood overlay's settings dialog; flags still win.\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")


def load_config(toml_path: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then ``toml_path`` (if given), then ``overrides`` (flags that were set)."""
    cfg = Config()
    if toml_path is not None:
        cfg = apply_mapping(cfg, read_toml(toml_path))
    if overrides:
        cfg = apply_mapping(cfg, overrides)
    return cfg


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict, or a one-line ``ConfigError`` naming the file (missing, a folder,
    unreadable, not UTF-8, not TOML)."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config: file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config: {path} is a folder, not a TOML file") from None
    except OSError as e:
        raise ConfigError(f"config: cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config: {path} is not UTF-8 text (TOML files must be UTF-8)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config: {path} is not valid TOML: {e}") from None
