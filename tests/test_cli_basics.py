"""The CLI contract: help, usage errors as one line with exit 2."""

from __future__ import annotations

import subprocess
import sys

from backport.cli import main


def test_help_lists_every_command(capsys):
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    for cmd in ("show", "port", "check", "deps", "checklist", "hook", "kb", "demo"):
        assert cmd in out


def test_usage_error_is_one_line_exit_2(capsys):
    assert main(["port", "x.patch"]) == 2  # --onto missing
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0] and "--onto" in err[0]


def test_python_dash_m_runs():
    r = subprocess.run([sys.executable, "-m", "backport", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("backport ")
