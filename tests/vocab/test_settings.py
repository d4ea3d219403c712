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
    message = _refusal(tmp_path, toml_text)
    assert names in message and "\n" not in message


def _refusal(tmp_path: Path, toml_text: str) -> str:
    """The ``ConfigError`` message of loading a config file holding ``toml_text``."""
    toml = tmp_path / "c.toml"
    toml.write_text(toml_text + "\n")
    with pytest.raises(ConfigError) as e:
        load_config(toml)
    return str(e.value)


def test_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(("toml_text", "message"), [
    ("model = 5", "config: model must be a path as text, not 5"),
    ("save_frames = [1, 2]", "config: save_frames must be a path as text, not [1, 2]"),
    ("max_frames = 2.7", "config: max_frames must be a whole number, not 2.7"),
    ("threads = 1.5", "config: threads must be a whole number, not 1.5"),
    ("max_frames = nan", "config: max_frames must be a whole number, not nan"),
])
def test_values_of_the_wrong_kind_are_refused_not_bent(tmp_path: Path, toml_text: str, message: str) -> None:
    """A number for a path, or a fraction for a count, is a typo to report: never a traceback, never cut."""
    assert _refusal(tmp_path, toml_text) == message


def test_whole_numbers_and_paths_still_load(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('max_frames = 3.0\nthreads = 2\nfps = 2\nmodel = "~/m.onnx"\n')
    cfg = load_config(toml)
    assert (cfg.max_frames, cfg.threads, cfg.fps, cfg.model) == (3, 2, 2.0, Path.home() / "m.onnx")
    assert type(cfg.max_frames) is int and type(cfg.fps) is float


def test_a_config_that_is_not_utf8_is_one_line_naming_the_file(tmp_path: Path) -> None:
    toml = tmp_path / "latin1.toml"
    toml.write_bytes("# réglages\nfps = 2\n".encode("latin-1"))
    with pytest.raises(ConfigError) as e:
        load_config(toml)
    assert str(e.value) == f"config: {toml} is not UTF-8 text (TOML files must be UTF-8)"


def test_a_folder_given_as_config_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path)
    assert str(e.value) == f"config: {tmp_path} is a folder, not a TOML file"


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
