#!/usr/bin/env python3
"""One entry point for a fresh checkout: ``python3 bootstrap.py run|test [args...]``.

Creates ``.venv`` beside this file when missing, installs ClassMood into it (the test command
also installs the training and test extras and, on Debian/Ubuntu, the system programs the
real-component tests use: Xvfb, Chromium, PostgreSQL), then runs ``classmood run`` or the
whole test suite. Works the same on Linux, macOS and Windows; uses only the standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# What the last install put into a venv (the hash of pyproject.toml, the extras), so `run` does not
# re-run pip (seconds) on every start; deleting it forces the next install.
STAMP_NAME = "classmood-install.json"
# Debian packages the real-component tests drive: a virtual X display (and xrandr, which switches
# its monitor off in the monitor-gone test), the X libraries PyQt5's xcb platform plugin loads, a
# browser for the report screenshot, a PostgreSQL server, two sans-serif fonts the name reader's
# refitted layer was never trained on (the test of names in unseen type draws them) and a Korean
# font with Hanja and kana (the tests of Korean, Chinese and Japanese labels draw it), a
# Chinese one (the report draws simplified Chinese names with it), and the two sans-serifs the
# name reader was trained on besides DejaVu Sans (training.name_crops.TRAIN_FONTS; `python -m
# bench.names --system-fonts` draws its six fonts with them).
APT_PACKAGES = ("xvfb", "x11-utils", "x11-xserver-utils", "xauth", "libxcb-icccm4", "libxcb-keysyms1",
                "libxcb-xinerama0", "libxcb-image0", "libxcb-render-util0", "libxkbcommon-x11-0", "libgl1", "libegl1",
                "libfontconfig1", "libdbus-1-3", "chromium", "postgresql", "fonts-liberation2", "fonts-open-sans",
                "fonts-nanum", "fonts-wqy-microhei", "fonts-lato", "fonts-roboto")


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def sh(*cmd: str | Path, **kw: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)  # type: ignore[call-overload]


def ensure_venv() -> Path:
    py = venv_python()
    if not py.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    return py


def _pyproject_sha256(root: Path) -> str:
    return hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()


def _extras(extras: str) -> set[str]:
    return {e.strip() for e in extras.split(",") if e.strip()}


def install_is_current(venv_dir: Path, extras: str, root: Path = ROOT) -> bool:
    """Whether ``venv_dir`` already holds this checkout's pyproject.toml with at least ``extras``.

    The install is editable, so code changes need no pip; a changed pyproject.toml (dependencies,
    entry points, packages) or a new extra does.
    """
    try:
        stamp = json.loads((venv_dir / STAMP_NAME).read_text(encoding="utf-8"))
        return (stamp["pyproject_sha256"] == _pyproject_sha256(root)
                and _extras(extras) <= set(stamp["extras"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def record_install(venv_dir: Path, extras: str, root: Path = ROOT) -> None:
    """Note in ``venv_dir`` that pip installed ``extras`` from this pyproject.toml (keeping extras noted before)."""
    path = venv_dir / STAMP_NAME
    known: set[str] = set()
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
        if stamp.get("pyproject_sha256") == _pyproject_sha256(root):
            known = set(stamp.get("extras", []))
    except (OSError, ValueError, AttributeError):
        pass
    path.write_text(json.dumps({"pyproject_sha256": _pyproject_sha256(root),
                                "extras": sorted(known | _extras(extras))}), encoding="utf-8")


def install(py: Path, extras: str, venv_dir: Path = VENV, root: Path = ROOT) -> bool:
    """``pip install -e .[extras]`` into the venv unless it is current; True if pip ran."""
    if install_is_current(venv_dir, extras, root):
        return False
    spec = f".[{extras}]" if extras else "."
    sh(py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", spec, cwd=root)
    record_install(venv_dir, extras, root)
    return True


def _dpkg_installed(package: str) -> bool:
    """Whether dpkg has ``package`` installed (see ``dpkg_status_installed``)."""
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return result.returncode == 0 and dpkg_status_installed(result.stdout)


def dpkg_status_installed(status: str) -> bool:
    """Whether a dpkg status ("install ok installed") says installed: its last word is
    "installed". dpkg also lists packages it knows but never installed ("unknown ok
    not-installed"), and removed ones ("deinstall ok config-files"): a fresh machine skipped
    a font the tests draw when the test was only that the status ends with "installed"."""
    return status.split()[-1:] == ["installed"]


def ensure_system_programs() -> None:
    """Debian/Ubuntu only: the programs the real-component tests drive (others skip)."""
    if not sys.platform.startswith("linux") or not shutil.which("apt-get"):
        return
    missing = [pkg for pkg in APT_PACKAGES if not _dpkg_installed(pkg)]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        print(f"note: cannot install {' '.join(missing)} (not root); their tests will be skipped", flush=True)
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        sh(*sudo, "apt-get", "update", "-qq", env=env)
        sh(*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)
    except subprocess.CalledProcessError:
        print(f"note: installing {' '.join(missing)} failed; their tests will be skipped", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print("usage: python3 bootstrap.py run [classmood run flags] | test [pytest args]", file=sys.stderr)
        return 2
    py = ensure_venv()
    if argv[0] == "run":
        install(py, "")
        return subprocess.call([str(py), "-m", "classmood.cli", "run", *argv[1:]], cwd=ROOT)
    ensure_system_programs()
    install(py, "train,test")
    return subprocess.call([str(py), "-m", "pytest", *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
