"""Packaging: every package is listed, and the installed tool finds its bundled example
(``examples/`` shipped as the data package ``backport.examples``) away from the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_source_package_is_listed_in_pyproject():
    setup = PYPROJECT["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("backport", "hunks", "kb")
             for p in (ROOT / top).rglob("__init__.py")}
    assert set(setup["packages"]) == found | {"backport.examples"}
    assert setup["package-dir"]["backport.examples"] == "examples"
    assert (ROOT / "examples" / "ftrace-with-regs" / "series.mbox").is_file()


def _demo(python: list[str], cwd: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*python, "demo", "--out", str(out)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_demo_finds_the_example_installed_as_package_data(tmp_path):
    """The layout a wheel installs (backport/examples/ beside the code), away from the checkout:
    the demo finds its example through importlib.resources."""
    site = tmp_path / "site"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for top in ("backport", "hunks", "kb"):
        shutil.copytree(ROOT / top, site / top, ignore=ignore)
    shutil.copytree(ROOT / "examples", site / "backport" / "examples", ignore=ignore)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"))
    r = _demo([sys.executable, "-P", "-m", "backport"], elsewhere, tmp_path / "out", env)
    assert r.returncode == 0, r.stderr
    assert f"backport demo: {site}/backport/examples/ftrace-with-regs/series.mbox" in r.stderr
    assert "kb-ftrace-cflags-remove-pg" in r.stdout and (tmp_path / "out" / "report.json").is_file()


@pytest.mark.slow
def test_pip_install_of_the_wheel_ships_the_demo(tmp_path):
    """A real wheel (build isolation: setuptools from the package index) installed with pip
    into a fresh venv; its dependencies come from this interpreter's site-packages."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("backport-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # the test interpreter's packages for the dependencies (its own .pth files are not read,
    # so an editable backport there stays out of the way)
    Path(purelib, "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    r = _demo([str(venv / "bin" / "backport")], elsewhere, tmp_path / "out", env)
    assert r.returncode == 0, r.stderr
    assert f"{purelib}/backport/examples/ftrace-with-regs/series.mbox" in r.stderr
    assert "kb-ftrace-cflags-remove-pg" in r.stdout and (tmp_path / "out" / "checklist.md").is_file()
