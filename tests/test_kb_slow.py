"""kb rules on a real kernel tree (Debian 6.1.187): fast enough, and right about what 6.1 has."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from backport.ingest import load_series
from backport.kbcheck import check_patch
from backport.model import PortOptions
from backport.target import load_tree

TREE = Path.home() / ".cache" / "kbench" / "trees" / "6.1.187-1"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ftrace-with-regs"


@pytest.mark.slow
def test_example_series_on_a_real_6_1_tree():
    if not TREE.is_dir():
        pytest.fail(f"{TREE} is missing: run shared/bench/get-tree.sh 6.1.187-1")
    series = load_series([str(EXAMPLE / "series.mbox")])
    tree = load_tree(str(TREE))
    t0 = time.perf_counter()
    findings = [f for p in series.patches for f in check_patch(p, tree, series=series, options=PortOptions())]
    assert time.perf_counter() - t0 < 20
    codes = {f.code for f in findings}
    # 6.1 has patchable entries wired up (linker script, module loader, notrace, ftrace_init_nop,
    # CFLAGS_REMOVE via $(CC_FLAGS_FTRACE)); what remains is the compiler and an asm-offset
    # the 4.20-era entry code uses under its old name (S_FRAME_SIZE became PT_REGS_SIZE).
    assert codes == {"kb-ftrace-pfe-compiler", "kb-ftrace-regs-asm-offsets"}
    offsets = next(f for f in findings if f.code == "kb-ftrace-regs-asm-offsets")
    assert "S_FRAME_SIZE" in offsets.message
