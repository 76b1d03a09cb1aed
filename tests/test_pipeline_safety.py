"""The pipeline refuses hostile file patches (backport.safety) instead of reporting them placed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backport.cli import main
from backport.model import Method, Patch, PortOptions, Series, Severity, Status
from backport.pipeline import Overlay, port_series
from backport.series import parse_diff
from backport.target import DirTree, MemoryTree

OPTS = PortOptions(checks=False)

EVIL_MODIFY = ("diff --git a/../outside.c b/../outside.c\n--- a/../outside.c\n+++ b/../outside.c\n"
               "@@ -1 +1 @@\n-int outside;\n+int pwned;\n")
EVIL_NEW = ("diff --git a/../outside.c b/../outside.c\nnew file mode 100644\n--- /dev/null\n"
            "+++ b/../outside.c\n@@ -0,0 +1 @@\n+int pwned;\n")
GOOD = ("diff --git a/drivers/net/dummy.c b/drivers/net/dummy.c\n--- a/drivers/net/dummy.c\n"
        "+++ b/drivers/net/dummy.c\n@@ -1 +1 @@\n-int dummy;\n+int dummy = 1;\n")


def _port(diff: str, tree) -> object:
    patch = Patch(subject="evil", files=parse_diff(diff, origin="evil.patch"), diff_text=diff)
    return port_series(Series(patches=(patch,)), tree, options=OPTS)[0]


@pytest.mark.parametrize("diff", [EVIL_MODIFY, EVIL_NEW], ids=["modify", "new-file"])
def test_dotdot_path_is_blocked_with_an_error_and_nothing_placed(diff):
    # the target even holds an "outside.c" a moved-file search could pick
    tree = MemoryTree({"outside.c": "int outside;\n", "drivers/net/dummy.c": "int dummy;\n"})
    r = _port(diff, tree)
    assert r.status is Status.BLOCKED
    assert [(f.code, f.severity) for f in r.findings] == [("unsafe-path", Severity.ERROR)]
    assert "climbs out" in r.findings[0].message and r.findings[0].ref.path == "evil.patch"
    assert [p.method for p in r.placements] == [Method.NONE]
    assert not r.placements[0].applied and r.placements[0].path is None
    assert r.new_files == () and r.text == ""
    assert "refused" in r.leftovers and "+int pwned;" in r.leftovers


def test_safe_file_of_the_same_patch_is_still_placed_but_the_patch_is_blocked():
    tree = MemoryTree({"drivers/net/dummy.c": "int dummy;\n"})
    r = _port(GOOD + EVIL_MODIFY, tree)
    assert r.status is Status.BLOCKED
    assert [(p.path, p.applied) for p in r.placements] == [("drivers/net/dummy.c", True), (None, False)]
    assert r.new_files == (("drivers/net/dummy.c", "int dummy = 1;\n"),)
    assert "../outside.c" not in r.text


def test_symlink_in_the_target_is_seen_through_the_overlay(tmp_path):
    root = tmp_path / "linux"
    (root / "drivers/net").mkdir(parents=True)
    (root / "drivers/net/dummy.c").write_text("int dummy;\n")
    os.symlink("net", root / "drivers/alias")
    assert Overlay(DirTree(root)).is_symlink("drivers/alias")
    r = _port(GOOD.replace("drivers/net/", "drivers/alias/"), DirTree(root))
    assert r.status is Status.BLOCKED
    assert "symlink-write" in {f.code for f in r.findings}
    assert r.new_files == ()


def _write_case(tmp_path: Path) -> tuple[Path, Path, Path]:
    tree = tmp_path / "linux"
    (tree / "drivers/net").mkdir(parents=True)
    (tree / "drivers/net/dummy.c").write_text("int dummy;\n")
    (tmp_path / "outside.c").write_text("int outside;\n")
    patch = tmp_path / "evil.patch"
    patch.write_text("From: Mallory <m@example.org>\nSubject: [PATCH] evil\n\n---\n" + EVIL_MODIFY)
    return tree, patch, tmp_path / "outside.c"


@pytest.mark.parametrize("command", ["port", "check"])
def test_port_and_check_report_the_hostile_path_blocked(tmp_path, capsys, command):
    tree, patch, outside = _write_case(tmp_path)
    args = [command, str(patch), "--onto", str(tree), "--format", "json"]
    if command == "port":
        args += ["--out", str(tmp_path / "out")]
    assert main(args) == 1
    report = json.loads(capsys.readouterr().out)
    (result,) = report["patches"]
    assert result["status"] == "blocked"
    codes = {(f["code"], f["severity"]) for f in result["findings"]}
    assert ("unsafe-path", "error") in codes
    assert outside.read_text() == "int outside;\n"
    if command == "port":
        assert "pwned" not in "".join(p.read_text() for p in (tmp_path / "out").glob("*.patch"))
        assert "+int pwned;" in (tmp_path / "out/leftovers.txt").read_text()
