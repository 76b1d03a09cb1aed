"""The pipeline on real kernel backports (shared/bench public cases on the Debian 6.1.187 tree).

Slow: needs the trees of ../shared/bench/get-tree.sh (deselected by default; run with -m slow).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from backport.model import Patch, PortOptions
from backport.pipeline import is_settled, port_patch
from backport.series import parse_diff
from backport.target import DirTree

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "bench" / "public"
TREES = Path.home() / ".cache" / "kbench" / "trees"
TARGET, BASE = TREES / "6.1.187-1", TREES / "6.12.107-1~deb12u1"

pytestmark = pytest.mark.slow


def _apply(old: bytes, rel: str, diff: str, work: Path) -> bytes | None:
    f = work / rel
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(old)
    (work / "p.diff").write_text(diff, encoding="utf-8", errors="surrogateescape")
    r = subprocess.run(["git", "apply", f"--include={rel}", "p.diff"], cwd=work, capture_output=True, check=False)
    return f.read_bytes() if r.returncode == 0 else None


def _sample(label: str, n: int) -> list[str]:
    ids = [c["id"] for c in json.loads((CASES / "MANIFEST.json").read_text())["cases"] if c["label"] == label]
    return ids[:: max(1, len(ids) // n)][:n]


@pytest.fixture(scope="module")
def tree() -> DirTree:
    if not TARGET.is_dir() or not BASE.is_dir():
        pytest.fail(f"run ../shared/bench/get-tree.sh for {TARGET.name} and {BASE.name} first")
    return DirTree(TARGET)


def test_identical_cases_come_out_exactly_as_the_human_backport(tree: DirTree, tmp_path: Path) -> None:
    opts = PortOptions(upstream=str(BASE))
    correct = 0
    ids = _sample("identical", 30)
    for i, cid in enumerate(ids):
        meta = json.loads((CASES / cid / "meta.json").read_text())
        rel = meta["path"]
        text = (CASES / cid / "upstream.patch").read_text()
        patch = Patch(subject=rel, files=parse_diff(text, origin=cid))
        r = port_patch(patch, tree, options=opts)
        old = (TARGET / rel).read_bytes()
        expected = _apply(old, rel, (CASES / cid / "expected.patch").read_text(), tmp_path / f"e{i}")
        if not all(is_settled(p, min_confidence=opts.min_confidence) for p in r.placements):
            continue  # refused: allowed, but counted below
        ours = _apply(old, rel, r.text, tmp_path / f"o{i}")
        assert ours is not None, f"{cid}: the ported diff does not apply"
        assert ours == expected, f"{cid}: ported, yet differs from the human backport"
        correct += 1
    assert correct >= len(ids) - 1
