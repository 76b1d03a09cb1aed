"""The fleet file of backport triage: schema and sanity errors as ``fleet.yaml:LINE: error: ...``."""

from __future__ import annotations

from pathlib import Path

import pytest

from backport.cli import main
from backport.errors import ParseError
from backport.triage import load_fleet


@pytest.fixture
def trees(tmp_path: Path) -> Path:
    for name in ("a", "b"):
        (tmp_path / name / "arch" / "x86").mkdir(parents=True)
        (tmp_path / name / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\n")
    (tmp_path / "a.config").write_text("CONFIG_X=y\n")
    return tmp_path


def _err(tmp: Path, text: str) -> str:
    f = tmp / "fleet.yaml"
    f.write_text(text)
    with pytest.raises(ParseError) as e:
        load_fleet(str(f))
    return str(e.value)


def test_a_good_fleet_resolves_paths_relative_to_the_file(trees: Path) -> None:
    f = trees / "fleet.yaml"
    f.write_text("trees:\n  - name: a\n    path: a\n    config: a.config\n  - name: b\n    path: b\n    arch: i386\n")
    fleet = load_fleet(str(f))
    assert [t.name for t in fleet.trees] == ["a", "b"]
    assert fleet.trees[0].path == str(trees / "a") and fleet.trees[0].config == str(trees / "a.config")
    assert fleet.trees[0].arch == "x86_64" and fleet.trees[1].arch == "i386"
    assert str(fleet.trees[1].ref) == f"{f}:5"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("trees:\n  - name: a\n    path: a\n    colour: red\n", 4, "unknown key 'colour'"),
    ("trees:\n  - name: a\n    path: a\n  - name: a\n    path: b\n", 4, "tree name 'a' is used twice (first at line 2)"),
    ("trees:\n  - name: a\n    path: nowhere\n", 3, "nowhere is not a directory"),
    ("trees:\n  - name: a\n    path: a\n    rev: v6.1\n", 4, "is not a git repository"),
    ("trees:\n  - name: a\n    path: a\n    arch: arm64\n", 4, "arch 'arm64' builds arch/arm64/"),
    ("trees:\n  - name: a\n    path: a\n    config: no.config\n", 4, "config no.config is not a file"),
    ("trees:\n  - name: 'a b'\n    path: a\n", 2, "does not match"),
    ("trees:\n  - path: a\n", 2, "'name' is a required property"),
    ("trees: []\n", 1, "should be non-empty"),
    ("tree:\n  - name: a\n", 1, "'trees' is a required property"),
    ("trees:\n  - name: a\n    path: [a\n", 4, "YAML"),
    ("", 1, "empty fleet file"),
])
def test_fleet_errors_name_the_line(trees: Path, text: str, line: int, words: str) -> None:
    msg = _err(trees, text)
    assert msg.startswith(f"{trees / 'fleet.yaml'}:{line}: error: "), msg
    assert words in msg, msg


def test_cli_reports_a_fleet_error_on_one_line_and_exits_2(trees: Path, tmp_path: Path, capsys) -> None:
    f = trees / "fleet.yaml"
    f.write_text("trees:\n  - name: a\n    path: a\n    pth: b\n")
    q = tmp_path / "q.patch"
    q.write_text("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n")
    assert main(["triage", str(q), "--trees", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{f}:4: error: unknown key 'pth' in trees.0"]
    assert not (tmp_path / "o").exists()
