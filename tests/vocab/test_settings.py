from __future__ import annotations

from pathlib import Path

import pytest

from vocab.errors import ConfigError
from vocab.settings import Config, Privacy, load_config


def test_defaults_are_sensible() -> None:
    cfg = load_config()
    assert str(cfg.source) == "screen" and cfg.fps == 1.0 and cfg.privacy is Privacy.FULL and cfg.overlay


def test_toml_then_flags_win(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('fps = 2.5\nprivacy = "aggregate"\n[alerts]\nnegative_for_s = 5\n')
    cfg = load_config(toml, {"fps": 4})
    assert cfg.fps == 4 and cfg.privacy == "aggregate" and cfg.alerts.negative_for_s == 5


@pytest.mark.parametrize(("toml_text", "names"), [
    ("fpz = 2", "fpz"),
    ("fps = -1", "fps"),
    ('fps = "fast"', "fps"),
    ('privacy = "secret"', "privacy"),
    ("[alerts]\nnegative_share_above = 7", "alerts.negative_share_above"),
    ("[alerts]\ncolour = 1", "alerts.colour"),
    ("overlay = 3", "overlay"),
    ("fps = ", "not valid TOML"),
])
def test_bad_values_name_the_key(tmp_path: Path, toml_text: str, names: str) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(toml_text + "\n")
    with pytest.raises(ConfigError) as e:
        load_config(toml)
    message = str(e.value)
    assert names in message and "\n" not in message


def test_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Config().fps = 3  # type: ignore[misc]


def test_saved_settings_load_back(tmp_path: Path) -> None:
    from vocab.settings import AlertConfig, save_settings

    edited = Config(source="window:Zoom Meeting", fps=2.0, privacy="presence", alerts=AlertConfig(negative_for_s=7))
    path = tmp_path / "classmood.toml"
    save_settings(edited, path)
    loaded = load_config(path)
    assert (str(loaded.source), loaded.fps, loaded.privacy, loaded.alerts) == ("window:Zoom Meeting", 2.0,
                                                                              Privacy.PRESENCE, edited.alerts)
