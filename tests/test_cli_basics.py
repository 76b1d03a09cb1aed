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


def test_undecodable_file_names_neither_crash_identity_nor_output(tmp_path):
    from backport.target import DirTree

    tree = tmp_path / "tree" / "drivers"
    tree.mkdir(parents=True)
    name = b"x\xd4.c"
    (tree / name.decode("utf-8", "surrogateescape")).write_text("int a;\n")
    assert DirTree(tmp_path / "tree").identity().startswith("dir:")
    patch = tmp_path / "p.patch"
    patch.write_bytes(b"diff --git a/drivers/" + name + b" b/drivers/" + name + b"\n--- a/drivers/" + name
                      + b"\n+++ b/drivers/" + name + b"\n@@ -1 +1 @@\n-int a;\n+int b;\n")
    for env_enc in ("utf-8", "ascii"):
        r = subprocess.run([sys.executable, "-m", "backport", "check", str(patch), "--onto", str(tmp_path / "tree")],
                           capture_output=True, env={"PYTHONIOENCODING": env_enc, "PATH": "/usr/bin:/bin"})
        assert r.returncode in (0, 1), r.stderr
        assert b"1 patch" in r.stdout
