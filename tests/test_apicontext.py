"""backport.apicontext: a hunk's kept and removed lines written with the kb API table's old forms
when the target file spells them that way (unit), and end to end through the pipeline with real
git apply: a correct hunk no longer held back for context a kernel API change respelled."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backport.apicontext import respell_context
from backport.model import LineKind, Patch, PortOptions
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import DirTree
from kb.api import load_api

TARGET = """\
#include <linux/workqueue.h>

static void foo_remove(struct foo *foo)
{
\tcancel_work_sync(&foo->reset);
\tcancel_delayed_work_sync(&foo->timer);
\tcancel_delayed_work_sync(&foo->poll);

\tfoo_hw_stop(foo);
}
"""

# upstream (v6.10+) disables the work items where 6.8 cancels them (kb: api-disable-work-sync,
# api-disable-delayed-work-sync, 86898fa6b8cd); the fix adds one line after them
ADD = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -5,6 +5,7 @@ static void foo_remove(struct foo *foo)
 \tdisable_work_sync(&foo->reset);
 \tdisable_delayed_work_sync(&foo->timer);
 \tdisable_delayed_work_sync(&foo->poll);
+\tfoo_flush(foo);
\x20
 \tfoo_hw_stop(foo);
 }
"""

MMAP = """\
static int foo_mmap(struct file *file, struct vm_area_struct *vma)
{
\tvma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
\tvma->vm_ops = &foo_vm_ops;
\treturn 0;
}
"""

# v6.3 wraps vm_flags writes in vm_flags_set() (kb: api-vm-flags-set, bc292ab00f6c); the fix
# changes the flags a 6.1 tree still ORs in by hand: no token respelling pairs the two lines
REPLACE = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -1,6 +1,6 @@
 static int foo_mmap(struct file *file, struct vm_area_struct *vma)
 {
-\tvm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
+\tvm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP | VM_IO);
 \tvma->vm_ops = &foo_vm_ops;
 \treturn 0;
 }
"""


def _port(tmp_path: Path, diff: str, *, adapt: bool = True, text: str = TARGET, checks: bool = False):
    root = tmp_path / "target"
    (root / "drivers" / "foo").mkdir(parents=True, exist_ok=True)
    (root / "drivers" / "foo" / "foo.c").write_text(text)
    (root / "include" / "linux").mkdir(parents=True, exist_ok=True)
    (root / "include" / "linux" / "mm_types.h").write_text("struct vm_area_struct {\n\tunsigned long vm_flags;\n};\n")
    patch = Patch(subject="foo: flush on remove", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, DirTree(str(root)), options=PortOptions(checks=checks, adapt=adapt))


def _git_apply(tmp_path: Path, diff: str, text: str = TARGET) -> str:
    root = tmp_path / "applytree"
    (root / "drivers" / "foo").mkdir(parents=True)
    (root / "drivers" / "foo" / "foo.c").write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ported.patch").write_text(diff)
    subprocess.run(["git", "apply", "ported.patch"], cwd=root, check=True, capture_output=True)
    return (root / "drivers" / "foo" / "foo.c").read_text()


def test_context_lines_take_the_targets_old_api_spelling_only_where_the_target_has_that_line():
    h = parse_diff(ADD, origin="fix.patch")[0].hunks[0]
    target = TARGET.splitlines()
    rs = respell_context(h, target, load_api())
    assert rs is not None
    assert [ln.text for ln in rs.hunk.lines if ln.kind is LineKind.CONTEXT][:3] == target[4:7]
    assert [e.id for _, e, _, _ in rs.lines] == ["api-disable-work-sync", "api-disable-delayed-work-sync",
                                                 "api-disable-delayed-work-sync"]
    assert rs.hunk.added == h.added  # added lines are apiadapt's business, not this
    # a line the target does not have in the old spelling either stays upstream's
    other = [x.replace("&foo->poll", "&foo->other") for x in target]
    rs = respell_context(h, other, load_api())
    assert rs is not None and rs.hunk.lines[2].text == h.lines[2].text


def test_a_hunk_held_back_for_respelled_context_lands_with_the_entries_as_evidence(tmp_path):
    before = _port(tmp_path / "a", ADD, adapt=False)
    assert not before.placements[0].applied  # three of six context lines differ: held back
    r = _port(tmp_path / "b", ADD)
    (pl,) = r.placements
    assert pl.applied and not pl.adaptations  # upstream's +/- lines are unchanged
    assert any("api-disable-work-sync" in e and "86898fa6b8cd" in e for e in pl.evidence)
    assert _git_apply(tmp_path, r.text) == TARGET.replace("\tcancel_delayed_work_sync(&foo->poll);\n",
                                                           "\tcancel_delayed_work_sync(&foo->poll);\n\tfoo_flush(foo);\n")


def test_a_removed_line_in_the_old_spelling_is_deleted_and_recorded_as_an_adaptation(tmp_path):
    before = _port(tmp_path / "a", REPLACE, text=MMAP, adapt=False)
    assert not before.placements[0].applied
    r = _port(tmp_path / "b", REPLACE, text=MMAP, checks=True)
    (pl,) = r.placements
    assert pl.applied
    removed = [a for a in pl.adaptations if a.kind == "removed"]
    assert len(removed) == 1 and removed[0].rule == "api-vm-flags-set"
    assert removed[0].upstream == ("-\tvm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);",)
    assert removed[0].port == ("-\tvma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;",)
    assert removed[0].evidence == ("drivers/foo/foo.c:3: vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;",)
    # the added line is apiadapt's: the same entry, the target's member as its evidence
    assert [a.rule for a in pl.adaptations if a.kind == "api"] == ["api-vm-flags-set"]
    assert any(f.code == "adapted" for f in r.findings)
    assert _git_apply(tmp_path, r.text, MMAP) == MMAP.replace("VM_DONTDUMP;", "VM_DONTDUMP | VM_IO;")
