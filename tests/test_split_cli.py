"""End to end (CLI, real git work tree): a hunk whose two change groups the target holds apart (it
has a reset step between them) is ported in parts (method split) with a context-diverged warning
naming what lies between; the same hunk is refused when the target has the second change's code
above the first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from test_hunks_split import HEAD, OTHER, RESET, SETUP_BOTTOM, SETUP_TOP, TARGET

from backport.cli import main

PATH = "drivers/foo/foo.c"
HEADER = """\
#ifndef _LINUX_FOO_H
#define _LINUX_FOO_H
#define FOO_CTRL 0x10
#define FOO_CTRL_ON 0x1
#define FOO_READY 1
#define FOO_RESET_ALL 0xff
struct foo_clk;
struct foo_dev {
	struct foo_clk *clk;
	int state;
	int *cal_table;
};
int foo_enable_clock(struct foo_clk *clk);
int foo_prepare_enable_clock(struct foo_clk *clk);
void foo_disable_clock(struct foo_clk *clk);
int foo_reset(struct foo_dev *fd, int what);
void foo_calibrate(struct foo_dev *fd, int *table);
void foo_wait_ready(struct foo_dev *fd);
void foo_write(struct foo_dev *fd, int reg, int val);
#endif
"""
MAIL = """\
From: A <a@example.org>
Subject: [PATCH] foo: prepare the clock and name the control value
Date: Tue, 29 Oct 2019 16:58:26 +0000

Use the prepare variant and name the value.
---
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -5,10 +5,10 @@ static int foo_setup(struct foo_dev *fd)
 \tint ret;
\x20
-\tret = foo_enable_clock(fd->clk);
+\tret = foo_prepare_enable_clock(fd->clk);
 \tif (ret)
 \t\treturn ret;
\x20
 \tfd->state = FOO_READY;
-\tfoo_write(fd, FOO_CTRL, 1);
+\tfoo_write(fd, FOO_CTRL, FOO_CTRL_ON);
 \treturn 0;
 }
"""


def _repo(tmp_path: Path, lines: list[str]) -> Path:
    tree = tmp_path / "tree"
    (tree / "drivers/foo").mkdir(parents=True)
    (tree / "include/linux").mkdir(parents=True)
    (tree / PATH).write_text("\n".join(lines) + "\n")
    (tree / "include/linux/foo.h").write_text(HEADER)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(tree)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "old"], check=True)
    return tree


def _findings(report: dict) -> list[dict]:
    return [f for p in report["patches"] for f in p["findings"]]


def test_cli_ports_a_hunk_whose_groups_lie_apart_in_parts(tmp_path: Path) -> None:
    tree = _repo(tmp_path, TARGET)
    mail = tmp_path / "fix.patch"
    mail.write_text(MAIL)
    out = tmp_path / "out"
    assert main(["port", str(mail), "--onto", str(tree), "--out", str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())
    placements = [p for pa in report["patches"] for p in pa["placements"]]
    assert [p["method"] for p in placements] == ["split"] and placements[0]["applied"]
    diverged = [f for f in _findings(report) if f["code"] == "context-diverged"]
    assert len(diverged) == 1 and diverged[0]["severity"] == "warning"
    assert "split" in diverged[0]["message"] and any("foo_reset" in e for e in diverged[0]["evidence"])
    ported = next(out.glob("0001-*.patch")).read_text()
    assert "+\tret = foo_prepare_enable_clock(fd->clk);" in ported
    assert "+\tfoo_write(fd, FOO_CTRL, FOO_CTRL_ON);" in ported
    assert ported.count("\n@@ ") == 2  # one hunk per part, the reset step between them untouched
    assert (tree / PATH).read_text() == "\n".join(TARGET) + "\n"  # no --apply: the tree is not touched
    # the warning is what --fail-on warning stops on
    assert main(["port", str(mail), "--onto", str(tree), "--out", str(tmp_path / "out2"), "-q",
                 "--fail-on", "warning"]) == 1


def test_cli_refuses_when_the_second_change_lies_above_the_first(tmp_path: Path) -> None:
    bottom = SETUP_BOTTOM[:2]
    lines = HEAD + SETUP_TOP[:2] + ["\tint ret;", ""] + bottom + RESET + SETUP_TOP[3:] + ["\treturn 0;", "}"] + OTHER
    tree = _repo(tmp_path, lines)
    mail = tmp_path / "fix.patch"
    mail.write_text(MAIL)
    out = tmp_path / "out"
    assert main(["port", str(mail), "--onto", str(tree), "--out", str(out), "-q"]) == 1
    report = json.loads((out / "report.json").read_text())
    assert not any(p["method"] == "split" and p["applied"] for pa in report["patches"] for p in pa["placements"])
    assert "foo_prepare_enable_clock" in (out / "leftovers.txt").read_text()
