"""The API pass on the real Debian 6.1.187 tree (shared/bench public cases).

Slow: needs the trees of ../shared/bench/get-tree.sh (deselected by default; run with -m slow).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backport.apiadapt import _Target
from backport.model import Patch, PortOptions, Series
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import DirTree
from kb.api import load_api

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "bench" / "public"
TREES = Path.home() / ".cache" / "kbench" / "trees"
TARGET, BASE = TREES / "6.1.187-1", TREES / "6.12.107-1~deb12u1"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trees():
    if not (TARGET.is_dir() and BASE.is_dir() and CASES.is_dir()):
        pytest.skip("kbench trees or cases missing")
    return DirTree(str(TARGET)), DirTree(str(BASE))


def test_vm_flags_clear_is_written_the_way_the_human_backport_did(trees, tmp_path: Path):
    """sound/usb/usx2y/us122l.c: upstream calls vm_flags_clear() (v6.3); 6.1's backport writes
    area->vm_flags &= ~VM_MAYWRITE."""
    case = CASES / "sound__usb__usx2y__us122l.c"
    diff = (case / "upstream.patch").read_text()
    patch = Patch(subject="us122l", files=parse_diff(diff, origin="upstream.patch"), diff_text=diff)
    r = port_patch(patch, trees[0], options=PortOptions(upstream=str(BASE)), series=Series((patch,)))
    assert "+\t\tarea->vm_flags &= ~VM_MAYWRITE;" in r.text and "vm_flags_clear" not in r.text
    (a,) = [a for p in r.placements for a in p.adaptations if a.kind == "api"]
    assert a.rule == "api-vm-flags-clear" and a.evidence[0].startswith("include/linux/mm_types.h:")
    assert any(f.code == "adapted" and "bc292ab00f6c" in " ".join(f.references) for f in r.findings)
    assert not [f for f in r.findings if f.code in ("api-missing", "missing-symbol") and "vm_flags" in f.message]
    expected = (case / "expected.patch").read_text()
    assert "+\t\tarea->vm_flags &= ~VM_MAYWRITE;" in expected
    work = tmp_path / "t"
    rel = "sound/usb/usx2y/us122l.c"
    (work / rel).parent.mkdir(parents=True)
    (work / rel).write_bytes((TARGET / rel).read_bytes())
    (work / "p.diff").write_text(r.text)
    assert subprocess.run(["git", "apply", "p.diff"], cwd=work, capture_output=True).returncode == 0


def test_the_markers_say_what_each_tree_has(trees):
    """A marker that misses on the newer tree would rewrite correct code; check both trees."""
    old, new = (_Target(t, PortOptions(), Patch(subject="x"), None) for t in trees)
    entries = {e.id: e for e in load_api()}
    # 6.12 has these new forms; 6.1 lacks them (and has the old form)
    for eid in ("api-class-create-owner", "api-vm-flags-set", "api-strscpy-two-arg", "api-str-true-false",
                "api-platform-remove-void", "api-i2c-probe-one-arg", "api-disable-work-sync",
                "api-i2c-client-get-device-id", "api-counted-by", "api-iommu-map-gfp"):
        e = entries[eid]
        assert new.has_new(e, "drivers/x/x.c"), eid
        assert not old.has_new(e, "drivers/x/x.c"), eid
    # both trees (6.1.y backported some of these) have these new forms: nothing to rewrite
    for eid in ("api-timer-delete-sync", "api-secs-to-jiffies", "api-get-random-u32-below", "api-fallthrough",
                "api-vmalloc-no-pgprot", "api-access-ok-no-type", "api-netif-napi-add-no-weight", "api-guard",
                "api-bio-alloc-bdev", "api-kobj-default-groups", "api-devm-clk-get-enabled"):
        assert old.has_new(entries[eid], "drivers/x/x.c") and new.has_new(entries[eid], "drivers/x/x.c"), eid
    # neither tree has these (v6.13+)
    for eid in ("api-timer-container-of", "api-hrtimer-setup", "api-module-import-ns-string"):
        assert not new.has_new(entries[eid], "drivers/x/x.c"), eid
        assert new.old_evidence(entries[eid]) is not None, eid
