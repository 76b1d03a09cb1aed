"""--verify build on a miniature kernel-like tree with its own small Makefile (real make, real
gcc, real out-of-tree build directory): a ported compile error becomes a finding on its line, a
clean port gives none, a new warning is told from one the tree already has, a ported header is
seen by an unported source, and the target tree is never written."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from backport.cli import main
from backport.model import Severity
from backport.verify import make_farm, objects_for, prepare_build, verify_port, verify_results

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("gcc") is None,
                                reason="needs make and gcc")

# A miniature of Kbuild's out-of-tree build: `make O=DIR defconfig|olddefconfig|prepare` and
# `make O=DIR path/file.o` for the objects obj-y lists; paths on the command line are relative
# to the source directory, as Kbuild prints them.
MAKEFILE = """\
MAKEFLAGS += -rR
obj-y := drivers/mini/core.o drivers/mini/util.o kernel/sys.o
CC := gcc
CFLAGS := -Wall -Werror=implicit-function-declaration -Iinclude -I$(O)/include/generated

defconfig:
\t@mkdir -p $(O) && echo CONFIG_MINI=y > $(O)/.config
olddefconfig:
\t@test -f $(O)/.config
prepare:
\t@mkdir -p $(O)/include/generated && echo '#define CONFIG_MINI 1' > $(O)/include/generated/autoconf.h

$(obj-y): %.o: %.c FORCE
\t@mkdir -p $(O)/$(dir $@)
\t$(CC) $(CFLAGS) -c $< -o $(O)/$@

FORCE:
.PHONY: defconfig olddefconfig prepare FORCE
"""

FILES = {
    "Makefile": MAKEFILE,
    "include/mini.h": "#ifndef MINI_H\n#define MINI_H\nint mini_helper(int x);\n#endif\n",
    "drivers/mini/Makefile": "obj-y += core.o util.o\n",
    "drivers/mini/core.c": '#include <mini.h>\n#include "local.h"\n\nint mini_helper(int x)\n{\n\treturn x + LOCAL;\n}\n',
    "drivers/mini/local.h": "#define LOCAL 2\n",
    "drivers/mini/util.c": "#include <mini.h>\n\nint mini_util(void)\n{\n\tint old_unused;\n\treturn mini_helper(1);\n}\n",
    "drivers/mini/extra.c": "int mini_extra(void) { return 0; }\n",
    "kernel/Makefile": "obj-y += sys.o\n",
    "kernel/sys.c": "int sys_mini(void)\n{\n\treturn 0;\n}\n",
}


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            digest = hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            out[str(p.relative_to(root))] = (digest, st.st_mtime_ns)
    return out


@pytest.fixture
def mini(tmp_path: Path) -> tuple[Path, Path]:
    tree = tmp_path / "tree"
    for rel, text in FILES.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    return tree, tmp_path / "cache"


def test_compile_error_is_a_finding_on_the_ported_line(mini: tuple[Path, Path]) -> None:
    tree, cache = mini
    before = _snapshot(tree)
    bd = prepare_build(str(tree), None, None, cache)
    assert Path(bd.objdir, ".config").is_file() and bd.seconds > 0
    ported = FILES["drivers/mini/core.c"].replace("\treturn x + LOCAL;", "\treturn x + LOCAL + mini_missing(x);")
    findings = verify_port(bd, str(tree), [("drivers/mini/core.c", ported)])
    errors = [f for f in findings if f.code == "build-error"]
    assert len(errors) == 1, findings
    assert errors[0].severity is Severity.ERROR
    assert errors[0].message.startswith("drivers/mini/core.c:6: error: implicit declaration of function 'mini_missing'")
    assert "(a ported line)" in errors[0].message
    assert errors[0].evidence == ("drivers/mini/core.c:6: return x + LOCAL + mini_missing(x);",)
    assert _snapshot(tree) == before  # the target tree is never written


def test_clean_port_gives_no_finding_and_cache_is_reused(mini: tuple[Path, Path]) -> None:
    tree, cache = mini
    bd = prepare_build(str(tree), None, None, cache)
    ported = FILES["kernel/sys.c"].replace("return 0;", "return 1;")
    assert verify_port(bd, str(tree), [("kernel/sys.c", ported)]) == []
    again = prepare_build(str(tree), None, None, cache)
    assert again.key == bd.key and again.seconds == 0.0


def test_only_new_warnings_and_unbuilt_objects(mini: tuple[Path, Path]) -> None:
    tree, cache = mini
    bd = prepare_build(str(tree), None, None, cache)
    # util.c already warns about old_unused: not the port's; the new unused variable is
    ported = FILES["drivers/mini/util.c"].replace("\tint old_unused;\n", "\tint old_unused;\n\tint new_unused;\n")
    findings = verify_port(bd, str(tree), [("drivers/mini/util.c", ported)])
    assert [f.code for f in findings] == ["build-warning"]
    assert "'new_unused'" in findings[0].message and findings[0].message.startswith("drivers/mini/util.c:6:")
    # extra.c is in a Kbuild directory but not built by this config
    findings = verify_port(bd, str(tree), [("drivers/mini/extra.c", "int mini_extra(void) { return 1; }\n")])
    assert [(f.code, f.severity) for f in findings] == [("build-skipped", Severity.NOTE)]


def test_ported_header_is_seen_by_unported_source(mini: tuple[Path, Path]) -> None:
    tree, cache = mini
    before = _snapshot(tree)
    bd = prepare_build(str(tree), None, None, cache)
    assert objects_for(str(tree), [("drivers/mini/local.h", "")]) == (["drivers/mini/core.o"], [])
    findings = verify_port(bd, str(tree), [("drivers/mini/local.h", "#define LOCAL (undeclared_thing)\n")])
    assert [f.code for f in findings] == ["build-error"]
    assert findings[0].message.startswith("drivers/mini/local.h:1: error: 'undeclared_thing' undeclared")
    assert _snapshot(tree) == before


def test_farm_overlays_without_touching_tree(tmp_path: Path, mini: tuple[Path, Path]) -> None:
    tree, _ = mini
    farm = tmp_path / "farm"
    make_farm(str(tree), str(farm), [("drivers/mini/core.c", "x\n"), ("drivers/mini/util.c", None),
                                    ("drivers/new/n.c", "n\n")])
    assert (farm / "kernel").is_symlink() and (farm / "include").is_symlink()
    assert not (farm / "drivers").is_symlink() and (farm / "drivers/mini/local.h").is_symlink()
    assert (farm / "drivers/mini/core.c").read_text() == "x\n"
    assert not (farm / "drivers/mini/util.c").exists() and (farm / "drivers/new/n.c").read_text() == "n\n"
    assert (tree / "drivers/mini/core.c").read_text() == FILES["drivers/mini/core.c"]


PATCH = """\
From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: Up Stream <up@example.org>
Date: Mon, 1 Jan 2024 00:00:00 +0000
Subject: [PATCH] mini: use mini_missing

---
 drivers/mini/core.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/drivers/mini/core.c b/drivers/mini/core.c
--- a/drivers/mini/core.c
+++ b/drivers/mini/core.c
@@ -3,5 +3,5 @@
{SP}
 int mini_helper(int x)
 {
-\treturn x + LOCAL;
+\treturn x + LOCAL + mini_missing(x);
 }
--{SP}
2.40.0
""".replace("{SP}", " ")


def test_port_verify_build_cli(mini: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    tree, cache = mini
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    before = _snapshot(tree)
    patch = tmp_path / "0001.patch"
    patch.write_text(PATCH)
    rc = main(["check", str(patch), "--onto", str(tree), "--verify", "build", "--format", "json"])
    out = capsys.readouterr().out
    assert rc == 1
    assert '"build-error"' in out and "mini_missing" in out
    assert _snapshot(tree) == before


def test_verify_results_ties_finding_to_patch_line(mini: tuple[Path, Path], tmp_path: Path) -> None:
    from backport.ingest import parse_series_bytes
    from backport.model import Status
    from backport.pipeline import port_series
    from backport.target import DirTree

    tree, cache = mini
    series = parse_series_bytes(PATCH.encode(), origin="0001.patch")
    results = port_series(series, DirTree(tree))
    bd = prepare_build(str(tree), None, None, cache)
    [r] = verify_results(results, str(tree), bd)
    [f] = [f for f in r.findings if f.code == "build-error"]
    assert f.ref is not None and f.ref.path == "0001.patch" and f.ref.line == PATCH.splitlines().index(
        "+\treturn x + LOCAL + mini_missing(x);") + 1
    assert r.status is Status.BLOCKED
