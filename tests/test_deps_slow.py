"""deps on the real Debian 6.1.187 tree (from ../shared/bench/get-tree.sh) and real bench patches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backport.deps import check_series
from backport.ingest import load_series
from backport.model import PortOptions, Severity
from backport.target import DirTree

TREE = Path(os.path.expanduser("~/.cache/kbench/trees/6.1.187-1"))
BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tree() -> DirTree:
    if not TREE.is_dir() or not BENCH.is_dir():
        pytest.fail("run ../shared/bench/get-tree.sh 6.1.187-1 first (and keep ../shared/bench)")
    return DirTree(TREE)


def _opts(**kw: str) -> PortOptions:
    extra = {"deps-index": "whole"}
    if os.environ.get("BACKPORT_INDEX_CACHE"):
        extra["index-cache"] = os.environ["BACKPORT_INDEX_CACHE"]
    return PortOptions(extra=extra, **kw)


def test_real_prerequisite_is_named(tree: DirTree):
    # upstream moved assign_register() out of KVM as insn_assign_reg(); 6.1.187 lacks it
    series = load_series([str(BENCH / "arch__x86__kvm__emulate.c" / "upstream.patch")])
    ((_, findings),) = check_series(series, tree, options=_opts())
    missing = [f for f in findings if f.code == "missing-symbol"]
    assert [f.message.split(":")[0] for f in missing] == ["insn_assign_reg"]
    assert missing[0].severity is Severity.ERROR and missing[0].ref is not None and missing[0].ref.line > 0


def test_identical_case_raises_nothing_and_vendor_config_notes_unbuilt_code(tree: DirTree, tmp_path: Path):
    series = load_series([str(BENCH / "arch__alpha__kernel__pci-sysfs.c" / "upstream.patch")])
    ((_, findings),) = check_series(series, tree, options=_opts())
    assert findings == ()
    cfg = tmp_path / "vendor.config"
    cfg.write_text("CONFIG_ALPHA=y\n# CONFIG_PCI is not set\n")
    ((_, findings),) = check_series(series, tree, options=_opts(config=str(cfg)))
    assert [(f.code, f.severity) for f in findings] == [("not-built", Severity.NOTE)]
    assert findings[0].evidence[0].startswith("arch/alpha/kernel/Makefile:")
