"""--verify build on the real Debian 6.1.187 tree (x86_64 defconfig): one object, built over a
scratch overlay; a ported compile error is found on its line, a clean port gives nothing, and
the tree is not written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backport.verify import prepare_build, verify_port

TREE = Path(os.path.expanduser("~/.cache/kbench/trees/6.1.187-1"))

pytestmark = pytest.mark.slow


def test_one_object_of_debian_61(tmp_path: Path) -> None:
    if not TREE.is_dir():
        pytest.fail("run ../shared/bench/get-tree.sh 6.1.187-1 first")
    cache = os.environ.get("BACKPORT_BUILD_CACHE") or str(tmp_path / "cache")
    sys_c = TREE / "kernel" / "sys.c"
    before = (sys_c.stat().st_mtime_ns, sys_c.read_bytes())
    bd = prepare_build(str(TREE), "x86_64", None, cache)
    assert (Path(bd.objdir) / "include" / "generated" / "autoconf.h").is_file()
    src = sys_c.read_text()
    assert verify_port(bd, str(TREE), [("kernel/sys.c", src.replace("return task_tgid_vnr(current);",
                                                                    "return task_tgid_vnr(current) + 0;", 1))]) == []
    bad = src.replace("return task_tgid_vnr(current);", "return task_tgid_vnr_missing(current);", 1)
    line = bad.splitlines().index("\treturn task_tgid_vnr_missing(current);") + 1
    findings = verify_port(bd, str(TREE), [("kernel/sys.c", bad)])
    assert [f.code for f in findings] == ["build-error"]
    assert findings[0].message.startswith(f"kernel/sys.c:{line}: error: implicit declaration of function "
                                          "'task_tgid_vnr_missing'")
    assert (sys_c.stat().st_mtime_ns, sys_c.read_bytes()) == before
