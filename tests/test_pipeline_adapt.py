"""End-to-end: token-level adaptation in the pipeline (backport.respell over hunks.adapt), real git apply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backport.model import Patch, PortOptions, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import DirTree

TARGET = """\
#include <linux/timer.h>

static void foo_timeout(struct timer_list *t)
{
\tstruct foo *f = from_timer(f, t, timer);
\tint pending = f->pending;

\tif (pending)
\t\tfoo_kick(f);
\tfoo_done(f);
}
"""

UPSTREAM = TARGET.replace("from_timer(", "timer_container_of(").replace("= f->pending;", "= READ_ONCE(f->pending);")

FIX = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -3,7 +3,7 @@
 static void foo_timeout(struct timer_list *t)
 {
 \tstruct foo *f = timer_container_of(f, t, timer);
-\tint pending = READ_ONCE(f->pending);
+\tint pending = READ_ONCE(f->pending) && !foo_dead(timer_container_of(f, t, timer));
\x20
 \tif (pending)
 \t\tfoo_kick(f);
"""

PORTED = TARGET.replace("\tint pending = f->pending;", "\tint pending = f->pending && !foo_dead(from_timer(f, t, timer));")


def _write(root: Path, text: str) -> None:
    (root / "drivers" / "foo").mkdir(parents=True, exist_ok=True)
    (root / "drivers" / "foo" / "foo.c").write_text(text)


def _port(tmp_path: Path, diff: str, *, base: bool, adapt: bool = True):
    _write(tmp_path / "target", TARGET)
    upstream = None
    if base:
        _write(tmp_path / "upstream", UPSTREAM)
        upstream = str(tmp_path / "upstream")
    patch = Patch(subject="foo: do not kick a dead foo", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    opts = PortOptions(checks=False, upstream=upstream, adapt=adapt)
    return port_patch(patch, DirTree(str(tmp_path / "target")), options=opts)


def _git_apply(tmp_path: Path, diff: str, original: str = TARGET) -> str:
    root = tmp_path / "applytree"
    _write(root, original)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ported.patch").write_text(diff)
    subprocess.run(["git", "apply", "ported.patch"], cwd=root, check=True, capture_output=True)
    return (root / "drivers" / "foo" / "foo.c").read_text()


@pytest.mark.parametrize("base", [True, False], ids=["with-base", "no-base"])
def test_adapted_hunk_is_written_in_the_targets_spelling_and_says_so(tmp_path, base):
    r = _port(tmp_path, FIX, base=base)
    (pl,) = r.placements
    assert pl.applied
    kinds = sorted(a.kind for a in pl.adaptations)
    assert kinds == ["removed", "token", "token"]
    summaries = " | ".join(a.summary for a in pl.adaptations)
    assert "use from_timer(), the target has no timer_container_of()" in summaries
    assert "without READ_ONCE()" in summaries
    rename = next(a for a in pl.adaptations if "from_timer" in a.summary)
    assert rename.evidence == ("drivers/foo/foo.c:5: struct foo *f = from_timer(f, t, timer);",)
    assert rename.upstream[0].startswith("+") and "timer_container_of" in rename.upstream[0]
    assert "from_timer" in rename.port[0]
    adapted = [f for f in r.findings if f.code == "adapted"]
    assert len(adapted) == 1 and adapted[0].severity is Severity.WARNING
    assert not [f for f in r.findings if f.code in ("removed-line-differs", "adaptation-failed")]
    assert _git_apply(tmp_path, r.text) == PORTED


def test_without_adapt_the_hunk_is_held_back_as_before(tmp_path):
    r = _port(tmp_path, FIX, base=False, adapt=False)
    (pl,) = r.placements
    assert not pl.applied and not pl.adaptations
    assert any(f.code == "removed-line-differs" for f in r.findings)


def test_a_substitution_learned_two_ways_holds_the_hunk_back(tmp_path):
    # the target spells KSMBD_GFP two ways around the hunk: which one the new line wants is a guess
    target = "int f(void)\n{\n\ta = kmalloc(n, GFP_KERNEL);\n\tb = kmalloc(n, GFP_ATOMIC);\n\treturn 0;\n}\n"
    diff = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -1,6 +1,7 @@
 int f(void)
 {
 \ta = kmalloc(n, KSMBD_GFP);
 \tb = kmalloc(n, KSMBD_GFP);
+\tc = kmalloc(n, KSMBD_GFP);
 \treturn 0;
 }
"""
    _write(tmp_path / "target", target)
    patch = Patch(subject="f: c", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    r = port_patch(patch, DirTree(str(tmp_path / "target")), options=PortOptions(checks=False))
    (pl,) = r.placements
    assert not pl.applied and not pl.adaptations
    failed = [f for f in r.findings if f.code == "adaptation-failed"]
    assert failed and failed[0].severity is Severity.WARNING
    assert any("two ways" in e for e in failed[0].evidence)
    assert "KSMBD_GFP" in r.leftovers


def test_a_removed_line_missing_from_the_target_is_never_deleted(tmp_path):
    diff = FIX.replace("-\tint pending = READ_ONCE(f->pending);", "-\tif (foo_busy(f))\n-\t\treturn;")
    diff = diff.replace("@@ -3,7 +3,7 @@", "@@ -3,8 +3,7 @@")
    r = _port(tmp_path, diff, base=False)
    (pl,) = r.placements
    assert not pl.applied and not pl.adaptations
    assert not r.text


LOCALS_TARGET = """\
static int other(struct device *dev)
{
\tint err = probe(dev);

\treturn err;
}

static int foo(struct device *dev)
{
\tint ret;

\tret = bar(dev);
\tif (ret)
\t\tgoto out;
\tbaz(dev);
out:
\treturn ret;
}
"""

LOCALS_FIX = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -12,6 +12,9 @@ static int foo(struct device *dev)
 \terr = bar(dev);
 \tif (err)
 \t\tgoto out;
+\terr = qux(dev);
+\tif (err)
+\t\tgoto out;
 \tbaz(dev);
 out:
 \treturn err;
"""


def _port_locals(tmp_path: Path, target: str, *, base: bool):
    _write(tmp_path / "target", target)
    upstream = None
    if base:
        fn = target.index("static int foo")
        _write(tmp_path / "upstream", target[:fn] + target[fn:].replace("ret", "err"))
        upstream = str(tmp_path / "upstream")
    patch = Patch(subject="foo: check qux", files=parse_diff(LOCALS_FIX, origin="fix.patch"), diff_text=LOCALS_FIX)
    return port_patch(patch, DirTree(str(tmp_path / "target")), options=PortOptions(checks=False, upstream=upstream))


@pytest.mark.parametrize("base", [True, False], ids=["with-base", "no-base"])
def test_a_renamed_local_is_carried_within_its_function_and_said(tmp_path, base):
    # other() names its own local "err", so the file spells it both ways; foo() only says "ret"
    r = _port_locals(tmp_path, LOCALS_TARGET, base=base)
    (pl,) = r.placements
    assert pl.applied
    (tok,) = [a for a in pl.adaptations if a.kind == "token"]
    assert tok.summary == "use the target's local 'ret' for upstream's 'err' in foo()"
    assert tok.evidence == ("drivers/foo/foo.c:12: ret = bar(dev);",)
    assert [f.code for f in r.findings if f.code == "adapted"] == ["adapted"]
    ported = LOCALS_TARGET.replace("\tbaz(dev);", "\tret = qux(dev);\n\tif (ret)\n\t\tgoto out;\n\tbaz(dev);")
    assert _git_apply(tmp_path, r.text, LOCALS_TARGET) == ported


def test_a_function_spelling_a_local_both_ways_holds_the_hunk_back(tmp_path):
    target = LOCALS_TARGET.replace("\tint ret;\n", "\tint ret, err = 0;\n").replace("\treturn ret;\n}\n", "\treturn ret ?: err;\n}\n")
    r = _port_locals(tmp_path, target, base=False)
    (pl,) = r.placements
    assert not pl.applied and not pl.adaptations and not r.text
    failed = [f for f in r.findings if f.code == "adaptation-failed"]
    assert failed and any("the target function uses both" in e for e in failed[0].evidence)


def test_a_renamed_global_keeps_the_whole_file_rule(tmp_path):
    # "ret" is not foo()'s local: as before the rename is not carried, and upstream's "err" stays
    target = "static int ret;\n\n" + LOCALS_TARGET.replace("\tint ret;\n\n", "")
    r = _port_locals(tmp_path, target, base=False)
    assert not any(a.kind == "token" for pl in r.placements for a in pl.adaptations)
    assert "+\terr = qux(dev);" in r.text and "ret = qux(dev)" not in r.text
