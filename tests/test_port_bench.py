"""bench/run_bench.py: how one case's port becomes <id>.patch / .flagged / .refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import run_bench  # noqa: E402

TEXT = "".join(f"int line{i};\n" for i in range(1, 41))

GOOD = """\
diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -9,7 +9,7 @@
 int line9;
 int line10;
 int line11;
-int line12;
+long line12;
 int line13;
 int line14;
 int line15;
"""

# hunk 2's code does not exist in the target at all: dropped, the rest written, flagged
NOWHERE = GOOD + """\
@@ -30,2 +30,3 @@
 static void gone_a(void);
 static void gone_b(void);
+static void gone_c(void);
"""


def _case(tmp_path: Path, cid: str, diff: str) -> dict:
    d = tmp_path / "set" / cid
    d.mkdir(parents=True)
    (d / "upstream.patch").write_text(diff)
    return {"id": cid, "path": "a.c", "dir": str(d), "label": "identical"}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.c").write_text(TEXT)
    run_bench._init_tool(str(tree), None, False)
    o = tmp_path / "out"
    o.mkdir()
    return o


def test_a_clean_port_is_a_patch_without_flag(tmp_path: Path, out: Path) -> None:
    cid, secs, what = run_bench.run_tool_case(_case(tmp_path, "good", GOOD), str(out))
    assert (cid, what) == ("good", "patch") and secs >= 0
    assert "+long line12;" in (out / "good.patch").read_text()
    assert not (out / "good.flagged").exists()


def test_hunks_that_fit_nowhere_are_dropped_and_flagged(tmp_path: Path, out: Path) -> None:
    _, _, what = run_bench.run_tool_case(_case(tmp_path, "nowhere", NOWHERE), str(out))
    assert what == "flagged"
    assert "gone_c" not in (out / "nowhere.patch").read_text()
    assert "unplaced-hunk" in (out / "nowhere.flagged").read_text()


def test_strict_policy_refuses_instead(tmp_path: Path, out: Path) -> None:
    run_bench._STATE["policy"] = "strict"
    try:
        _, _, what = run_bench.run_tool_case(_case(tmp_path, "strict", NOWHERE), str(out))
    finally:
        run_bench._STATE["policy"] = "drop-unplaced"
    assert what == "refused" and (out / "strict.refused").exists()


def test_a_crash_is_a_refusal_with_the_traceback(tmp_path: Path, out: Path) -> None:
    _, _, what = run_bench.run_tool_case(_case(tmp_path, "bad", "@@ -1,3 +1,3 @@\n-a\n"), str(out))
    assert what in ("crash", "refused")
    assert (out / "bad.refused").read_text()
