"""backport triage --verify build on two miniature kernel-like trees (real make and gcc, the
verifier of backport.verify): a port that compiles on one tree and not on the other is clean
there and build-failed here, with the compiler error in the cell's report."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
from test_verify import FILES

from backport.cli import main

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("gcc") is None,
                                reason="needs make and gcc")

UTIL = FILES["drivers/mini/util.c"]
PORTED = UTIL.replace("\treturn mini_helper(1);\n", "\treturn mini_helper(1) + mini_pair(1, 2);\n")


def _tree(root: Path, pair: str) -> Path:
    files = dict(FILES)
    files["include/mini.h"] = files["include/mini.h"].replace("#endif", f"int mini_pair({pair});\n#endif")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_verify_build_marks_the_tree_where_the_port_does_not_compile(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    good = _tree(tmp_path / "good", "int a, int b")
    bad = _tree(tmp_path / "bad", "int a")  # an older mini_pair(): one argument
    diff = "".join(difflib.unified_diff(UTIL.splitlines(True), PORTED.splitlines(True),
                                        "a/drivers/mini/util.c", "b/drivers/mini/util.c"))
    q = tmp_path / "fix.patch"
    q.write_text("From: A <a@example.org>\nSubject: [PATCH] mini: add the pair\n\nfix\n---\n"
                 f"diff --git a/drivers/mini/util.c b/drivers/mini/util.c\n{diff}")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"trees:\n  - name: good\n    path: {good}\n  - name: bad\n    path: {bad}\n")
    before = {p: p.read_bytes() for p in bad.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    assert main(["triage", str(q), "--trees", str(fleet), "--out", str(out), "--verify", "build", "-q",
                 "--fail-on", "conflict"]) == 1
    m = json.loads((out / "matrix.json").read_text())
    cells = {c["tree"]: c for c in m["cells"]}
    assert cells["good"]["status"] == "clean", cells["good"]
    assert cells["bad"]["status"] == "build-failed", cells["bad"]
    assert "mini_pair" in cells["bad"]["reason"] and cells["bad"]["findings"]["codes"]["build-error"] >= 1
    assert m["options"]["verify"] == "build" and cells["bad"]["timing"]["verify"] > 0
    assert cells["bad"]["timing"]["prepare"] > 0  # inline: each tree prepared by its first cell
    report = json.loads((out / cells["bad"]["links"]["json"]).read_text())
    assert any(f["code"] == "build-error" for f in report["patches"][0]["findings"])
    assert {p: p.read_bytes() for p in bad.rglob("*") if p.is_file()} == before  # the tree is never written
