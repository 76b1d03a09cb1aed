"""backport triage on the real Debian trees: a few per-commit upstream fixes x 6.1.187 and 6.12.107.

Slow: needs the trees of ../shared/bench/get-tree.sh (deselected by default; run with -m slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from backport.cli import main
from backport.triage.matrix import SCHEMA_PATH

ROOT = Path(__file__).resolve().parent.parent
QUEUE = ROOT.parent / "shared" / "bench" / "percommit" / "public"
TREES = Path.home() / ".cache" / "kbench" / "trees"
OLD, NEW = TREES / "6.1.187-1", TREES / "6.12.107-1~deb12u1"

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not (OLD.is_dir() and NEW.is_dir() and QUEUE.is_dir()), reason="needs the Debian trees")
def test_triage_on_two_debian_trees(tmp_path: Path) -> None:
    cases = {"8139cp": "8139cp-fix-rx-and-tx-not-being-disabled-in-cp_suspen",
             "arm64": "arm64-fixmap-allow-256k-early_ioremap-at-any-offset"}
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"trees:\n  - name: deb-6.1\n    path: {OLD}\n  - name: deb-6.12\n    path: {NEW}\n")
    out = tmp_path / "out"
    queue = [str(QUEUE / c / "upstream.patch") for c in cases.values()]
    assert main(["triage", *queue, "--trees", str(fleet), "--out", str(out), "-q", "-j", "2"]) == 0
    m = json.loads((out / "matrix.json").read_text())
    jsonschema.validate(m, json.loads(SCHEMA_PATH.read_text()))
    st = {(c["patch"], c["tree"]): c for c in m["cells"]}
    assert st[1, "deb-6.1"]["status"] == "clean" and st[1, "deb-6.12"]["status"] == "clean"
    assert (out / st[1, "deb-6.1"]["links"]["patch"]).is_file()  # the ported mail, git am-able
    for tree in ("deb-6.1", "deb-6.12"):  # an arm64-only fix on x86_64 trees
        assert st[2, tree]["status"] == "not-applicable" and "arch/arm64" in st[2, tree]["reason"]
    assert main(["triage", *queue, "--trees", str(fleet), "--out", str(out), "-q"]) == 0
    m2 = json.loads((out / "matrix.json").read_text())
    assert m2["run"]["reused"] == 4 and m2["run"]["computed"] == 0
