"""``bootstrap.py`` runs pip only when the install is not current (fresh venv, changed pyproject.toml,
a new extra), so ``python3 bootstrap.py run`` starts without seconds of pip on every start.

No pip runs here: the venv's python is a path that does not exist, so a pip run shows up as
``FileNotFoundError`` and a skipped one as nothing at all.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bootstrap

REPO_ROOT = Path(__file__).resolve().parents[1]
NO_PYTHON = Path("/nonexistent/venv/bin/python")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / ".venv").mkdir()
    return root


def _pip_runs(root: Path, extras: str) -> bool:
    try:
        bootstrap.install(NO_PYTHON, extras, venv_dir=root / ".venv", root=root)
    except FileNotFoundError:
        return True
    return False


def test_a_fresh_venv_installs_and_a_current_one_skips_pip(checkout: Path) -> None:
    venv = checkout / ".venv"
    assert _pip_runs(checkout, "train,test"), "fresh clone: test installs what it needs"
    assert not (venv / bootstrap.STAMP_NAME).exists(), "a failed pip leaves nothing that says it worked"

    bootstrap.record_install(venv, "train,test", root=checkout)  # what a pip run that succeeded leaves
    assert not _pip_runs(checkout, "train,test")
    assert not _pip_runs(checkout, ""), "run needs a subset of what test installed"


def test_a_changed_pyproject_or_a_new_extra_installs_again(checkout: Path) -> None:
    venv = checkout / ".venv"
    bootstrap.record_install(venv, "", root=checkout)
    assert not _pip_runs(checkout, "")
    assert _pip_runs(checkout, "train,test"), "extras not installed yet"

    bootstrap.record_install(venv, "test", root=checkout)
    assert not _pip_runs(checkout, "test") and not _pip_runs(checkout, "")
    assert _pip_runs(checkout, "train")

    with (checkout / "pyproject.toml").open("a") as f:
        f.write("\n# a new dependency would change this file\n")
    assert _pip_runs(checkout, ""), "pyproject.toml changed"


@pytest.mark.parametrize("stamp", ["", "not json", '{"extras": []}', '["a list"]', '{"pyproject_sha256": 1}'])
def test_a_damaged_stamp_means_install(checkout: Path, stamp: str) -> None:
    (checkout / ".venv" / bootstrap.STAMP_NAME).write_text(stamp)
    assert _pip_runs(checkout, "")
    bootstrap.record_install(checkout / ".venv", "", root=checkout)  # and a good install replaces it
    assert not _pip_runs(checkout, "")


@pytest.mark.parametrize(("status", "installed"), [
    ("install ok installed", True),
    ("unknown ok not-installed", False),  # known to dpkg, never installed: it must be installed
    ("deinstall ok config-files", False),
    ("install ok half-configured", False),
    ("", False),
])
def test_a_package_dpkg_knows_but_never_installed_is_installed(status: str, installed: bool) -> None:
    assert bootstrap.dpkg_status_installed(status) is installed


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="not a Debian/Ubuntu machine (no dpkg-query)")
def test_dpkg_is_asked_for_real() -> None:
    assert bootstrap._dpkg_installed("dpkg")
    assert not bootstrap._dpkg_installed("no-such-package-classmood")
