"""backport.condscope: a macro the port leaves under a condition that no longer covers a use the
target had is an ERROR (definition-out-of-scope), on file pairs and end to end through port;
unchanged visibility, per-branch definitions and unbalanced files say nothing."""

from __future__ import annotations

from backport.condscope import check_file
from backport.model import Patch, PortOptions, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

# an old entry-foo.S: helper macros between the stub and the graph code, used by the return hook
OLD = """\
#include <linux/linkage.h>

#ifndef CONFIG_DYNAMIC_FOO
ENTRY(_foo)
\tret
ENDPROC(_foo)
#else
ENTRY(foo_caller)
\tret
ENDPROC(foo_caller)
#endif /* CONFIG_DYNAMIC_FOO */

ENTRY(foo_stub)
\tret
ENDPROC(foo_stub)

#ifdef CONFIG_FOO_GRAPH
\t.macro save_regs
\tsub sp, sp, #64
\t.endm

ENTRY(foo_graph_caller)
\tbl\tprepare_return
ENDPROC(foo_graph_caller)

ENTRY(return_hook)
\tsave_regs
\tret
END(return_hook)
#endif /* CONFIG_FOO_GRAPH */
""".splitlines()

# upstream's reshaping: the old code goes under #else of the new option, the graph block is
# closed after foo_graph_caller and a new one opened for return_hook, foo_stub moves down
FIX = """\
diff --git a/arch/foo/kernel/entry-foo.S b/arch/foo/kernel/entry-foo.S
--- a/arch/foo/kernel/entry-foo.S
+++ b/arch/foo/kernel/entry-foo.S
@@ -1,5 +1,10 @@
 #include <linux/linkage.h>
\x20
+#ifdef CONFIG_FOO_REGS
+ENTRY(foo_regs_caller)
+\tret
+ENDPROC(foo_regs_caller)
+#else /* CONFIG_FOO_REGS */
 #ifndef CONFIG_DYNAMIC_FOO
 ENTRY(_foo)
 \tret
@@ -8,11 +13,6 @@ ENDPROC(_foo)
 ENTRY(foo_caller)
 \tret
 ENDPROC(foo_caller)
-#endif /* CONFIG_DYNAMIC_FOO */
-
-ENTRY(foo_stub)
-\tret
-ENDPROC(foo_stub)
\x20
 #ifdef CONFIG_FOO_GRAPH
 ENTRY(foo_graph_caller)
@@ -17,4 +17,12 @@ ENTRY(foo_graph_caller)
 \tbl\tprepare_return
 ENDPROC(foo_graph_caller)
+#endif /* CONFIG_FOO_GRAPH */
+#endif /* CONFIG_DYNAMIC_FOO */
+#endif /* CONFIG_FOO_REGS */
+
+ENTRY(foo_stub)
+\tret
+ENDPROC(foo_stub)
\x20
+#ifdef CONFIG_FOO_GRAPH
 ENTRY(return_hook)
"""

PATH = "arch/foo/kernel/entry-foo.S"


def test_a_macro_left_in_the_old_branch_while_its_use_moves_out_is_an_error() -> None:
    new = OLD[:2] + ["#ifdef CONFIG_FOO_REGS", "#else"] + OLD[2:10] + OLD[16:25] + [
        "#endif", "#endif", "#endif", "", "ENTRY(foo_stub)", "\tret", "ENDPROC(foo_stub)", "",
        "#ifdef CONFIG_FOO_GRAPH"] + OLD[25:]
    found = check_file(PATH, OLD, new)
    assert len(found) == 1 and found[0].code == "definition-out-of-scope"
    assert found[0].severity is Severity.ERROR and "save_regs" in found[0].message
    assert "the #else of #ifdef CONFIG_FOO_REGS" in found[0].message
    assert any("use: save_regs" in e for e in found[0].evidence)


def test_the_same_reshaping_without_target_lines_in_between_is_quiet() -> None:
    old = [x for x in OLD if "save_regs" not in x and x not in ("\tsub sp, sp, #64", "\t.endm")]
    new = old[:2] + ["#ifdef CONFIG_FOO_REGS", "#else"] + old[2:] + ["#endif"]
    assert check_file(PATH, old, new) == []


def test_per_branch_definitions_and_unbalanced_files_are_not_judged() -> None:
    old = ["#ifdef CONFIG_A", "#define FOO 1", "#else", "#define FOO 2", "#endif", "int x = FOO;"]
    new = ["#ifdef CONFIG_B", "#ifdef CONFIG_A", "#define FOO 1", "#else", "#define FOO 2", "#endif", "#endif",
           "int x = FOO;"]
    assert check_file("a.h", old, new) == []
    assert check_file("a.h", ["#define BAR 1", "int y = BAR;"], ["#ifdef X", "#define BAR 1", "int y = BAR;"]) == []


def test_a_use_the_port_adds_under_another_condition_is_not_the_target_losing_one() -> None:
    old = ["#ifdef CONFIG_A", "#define FOO 1", "int a = FOO;", "#endif"]
    new = old[:3] + ["#endif", "int b = FOO;"]
    assert check_file("b.c", old, new) == []


def test_port_reports_it_end_to_end() -> None:
    text = "\n".join(OLD) + "\n"
    patch = Patch(subject="foo: regs caller", files=parse_diff(FIX, origin="fix.patch"), diff_text=FIX)
    r = port_patch(patch, MemoryTree({PATH: text}), options=PortOptions(checks=False))
    assert all(p.applied for p in r.placements)
    codes = [f.code for f in r.findings]
    assert codes.count("definition-out-of-scope") == 1


def test_many_conditional_macros_are_judged_like_a_few() -> None:
    """More macros than condscope.MAX_PREFILTER: their uses are found without the name prefilter."""
    from backport.condscope import MAX_PREFILTER

    names = [f"MACRO_{k}" for k in range(MAX_PREFILTER + 4)]
    defs = [f"#define {n} {k}" for k, n in enumerate(names)]
    uses = [f"int v{k} = {n};" for k, n in enumerate(names)]
    old = ["#ifdef CONFIG_A", *defs, *uses, "#endif"]
    new = ["#ifdef CONFIG_A", *defs, "#endif", *uses]
    found = check_file("a.h", old, new)
    assert sorted(f.message.split(" (defined")[0].rsplit(" ", 1)[-1] for f in found) == sorted(names)
