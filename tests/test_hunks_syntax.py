"""Syntax anchors (C via tree-sitter, asm, Kconfig, Makefile, dts) and syntax-aware placement."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from test_hunks_support import apply, spec

from hunks.cascade import locate
from hunks.syntax import anchor_name, find_anchor, find_anchors, find_enclosing, find_syntax, language_for


@pytest.mark.parametrize("path,lang", [
    ("kernel/trace/ftrace.c", "c"), ("include/linux/ftrace.h", "c"), ("arch/arm64/kernel/entry-ftrace.S", "asm"),
    ("arch/x86/lib/memcpy.s", "asm"), ("arch/arm/Kconfig", "kconfig"), ("drivers/Kconfig.debug", "kconfig"),
    ("kernel/trace/Makefile", "make"), ("arch/arm64/Kbuild", "make"), ("scripts/Makefile.lib", "make"),
    ("tools/scripts/utilities.mk", "make"), ("arch/arm64/boot/dts/qcom/sm8250.dtsi", "dts"),
    ("Documentation/trace/ftrace.rst", "text"), ("scripts/checkpatch.pl", "text"),
])
def test_language_for(path, lang):
    assert language_for(path) == lang


@pytest.mark.parametrize("section,name", [
    ("static int foo(struct bar *b)", "foo"),
    ("static int __init ftrace_init_module(struct module *mod,", "ftrace_init_module"),
    ("config ARM", "ARM"),
    ("menuconfig FTRACE", "FTRACE"),
    ("ENTRY(ftrace_caller)", "ftrace_caller"),
    ("SYM_FUNC_START(ftrace_common)", "ftrace_common"),
    ("SYM_CODE_START_LOCAL(ftrace_regs_entry)", "ftrace_regs_entry"),
    ("struct ftrace_ops {", "ftrace_ops"),
    ("static const struct of_device_id foo_of_match[] = {", "foo_of_match"),
    ("SYSCALL_DEFINE3(open, const char __user *, filename, int, flags,", "open"),
    ("#define FTRACE_WARN_ON(cond)", "FTRACE_WARN_ON"),
    ("static void (*handler)(int);", "handler"),
    ("ifdef CONFIG_FUNCTION_TRACER", "CONFIG_FUNCTION_TRACER"),
    ("obj-$(CONFIG_FTRACE) += ftrace.o", "obj-$(CONFIG_FTRACE)"),
    ("ftrace_stub:", "ftrace_stub"),
    ("EXPORT_SYMBOL_GPL(soc_device_register);", "soc_device_register"),
    ("late_initcall_sync(trace_eval_sync);", "trace_eval_sync"),
    ("MODULE_DEVICE_TABLE(of, atmel_ecc_dt_ids);", "atmel_ecc_dt_ids"),
    ("LEAF(mips_cps_core_boot)", "mips_cps_core_boot"),
    ("", None),
    ("   ", None),
])
def test_anchor_name(section, name):
    assert anchor_name(section) == name


C_SRC = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/ftrace.h>

#define FTRACE_WARN_ON(cond)\t\t\\
\t({ int ___r = cond; ___r; })

struct ftrace_page {
\tstruct ftrace_page *next;
\tint index;
};

static const struct of_device_id foo_of_match[] = {
\t{ .compatible = "foo,bar" },
\t{ }
};

#ifdef CONFIG_MODULES
static int
ftrace_module_init(struct module *mod)
{
\treturn 0;
}
#endif

SYSCALL_DEFINE1(frob, int, x)
{
\treturn x;
}

typedef struct {
\tint a;
} frob_t;
""".splitlines()


@pytest.mark.parametrize("name,span", [
    ("FTRACE_WARN_ON", (3, 5)),
    ("ftrace_page", (6, 10)),
    ("foo_of_match", (11, 15)),
    ("ftrace_module_init", (17, 22)),  # inside #ifdef, return type on its own line
    ("frob", (24, 28)),  # SYSCALL_DEFINE1(frob, ...)
    ("frob_t", (29, 32)),
])
def test_find_anchor_c(name, span):
    assert find_anchor(C_SRC, name, language="c") == span


def _shape(node) -> list:
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out.append((n.type, n.start_byte, n.end_byte, n.start_point, n.end_point, n.is_error, n.is_missing))
        todo.extend(n.children)
    return out


@pytest.mark.parametrize("text", [
    "\n".join(C_SRC) + "\n#define LAST 1\n",  # without the final newline: a MISSING token
    "int a;\n#define rd() (1)\n",
    "static int f(void)\n{\n\treturn 0;\n}\n#define X(a) \\\n\t(a)\n",
    "struct s {\n\tint a;\n#ifdef CONFIG_Y\n\tint b;\n",  # unbalanced: error recovery at the end
])
def test_c_tree_of_a_file_reuses_the_parse_of_its_lines_and_equals_a_fresh_parse(text):
    from hunks import syntax

    syntax._TREES.clear()
    syntax.c_tree(text[:-1])  # what items() parses: the lines joined, no final newline
    kept = syntax._TREES[text[:-1]]
    tree = syntax.c_tree(text)  # incremental from that tree
    assert syntax._TREES[text[:-1]] is kept and _shape(kept.root_node) == _shape(syntax._parser().parse(
        text[:-1].encode()).root_node)  # the kept tree is not edited
    assert _shape(tree.root_node) == _shape(syntax._parser().parse(text.encode()).root_node)
    assert syntax.c_tree(text) is tree


def test_c_tree_keeps_a_bounded_number_of_trees():
    from hunks import syntax

    for k in range(syntax.MAX_TREES + 5):
        syntax.c_tree(f"int v{k};\n")
    assert len(syntax._TREES) == syntax.MAX_TREES and "int v0;\n" not in syntax._TREES


def test_find_anchor_missing_is_none():
    assert find_anchor(C_SRC, "no_such_thing", language="c") is None
    assert find_anchors(C_SRC, "no_such_thing", language="c") == []


def test_find_enclosing():
    it = find_enclosing(C_SRC, 20, language="c")
    assert it is not None and it.name == "ftrace_module_init" and it.kind == "function"


ASM_SRC = """\
#include <asm/assembler.h>

\t.macro mcount_enter
\tstp x29, x30, [sp, #-16]!
\t.endm

ENTRY(ftrace_caller)
\tmcount_enter
\tbl ftrace_stub
ENDPROC(ftrace_caller)

SYM_FUNC_START(ftrace_common)
\tmov x0, x1
.Llocal:
\tret
SYM_FUNC_END(ftrace_common)

ftrace_stub:
\tret
""".splitlines()


@pytest.mark.parametrize("name,span", [
    ("mcount_enter", (2, 5)), ("ftrace_caller", (6, 10)), ("ftrace_common", (11, 16)), ("ftrace_stub", (17, 19)),
])
def test_find_anchor_asm(name, span):
    assert find_anchor(ASM_SRC, name, language="asm") == span


KCONFIG_SRC = """\
config ARM
\tbool
\tdefault y
\tselect HAVE_DYNAMIC_FTRACE if !XIP_KERNEL
\thelp
\t  The ARM series.

menuconfig FTRACE
\tbool "Tracers"

if FTRACE

config FUNCTION_TRACER
\tbool "Kernel Function Tracer"
\tdepends on HAVE_FUNCTION_TRACER

endif
""".splitlines()


@pytest.mark.parametrize("name,span", [("ARM", (0, 6)), ("FTRACE", (7, 9)), ("FUNCTION_TRACER", (12, 15))])
def test_find_anchor_kconfig(name, span):
    assert find_anchor(KCONFIG_SRC, name, language="kconfig") == span


MAKE_SRC = """\
# SPDX-License-Identifier: GPL-2.0
ccflags-y := -I$(src) \\
\t-DDEBUG

ifdef CONFIG_FUNCTION_TRACER
ORIG_CFLAGS := $(KBUILD_CFLAGS)
KBUILD_CFLAGS = $(subst $(CC_FLAGS_FTRACE),,$(ORIG_CFLAGS))
endif

obj-$(CONFIG_FTRACE) += ftrace.o
obj-y += core.o

$(obj)/vmlinux.lds: FORCE
\t$(call if_changed,cpp)
""".splitlines()


@pytest.mark.parametrize("name,span", [
    ("ccflags-y", (1, 3)), ("CONFIG_FUNCTION_TRACER", (4, 8)), ("obj-$(CONFIG_FTRACE)", (9, 10)),
    ("$(obj)/vmlinux.lds", (12, 14)),
])
def test_find_anchor_make(name, span):
    assert find_anchor(MAKE_SRC, name, language="make") == span


def test_find_anchor_make_config_name_finds_its_obj_line():
    assert find_anchors(MAKE_SRC, "CONFIG_FTRACE", language="make") == [(9, 10)]


DTS_SRC = """\
/ {
\tsoc: soc@0 {
\t\tuart0: serial@1000 {
\t\t\tstatus = "disabled";
\t\t};
\t};
};

&uart0 {
\tstatus = "okay";
};
""".splitlines()


@pytest.mark.parametrize("name,span", [("uart0", (2, 5)), ("soc@0", (1, 6)), ("&uart0", (8, 11))])
def test_find_anchor_dts(name, span):
    assert find_anchor(DTS_SRC, name, language="dts") == span


def _func(name: str, salt: str) -> list[str]:
    return [f"static int {name}(struct ctx *c)", "{", "\tint err;", "",
            f"\terr = prepare(c, {salt});", "\tif (err)", "\t\treturn err;", "",
            "\tc->state = STATE_READY;", "\treturn 0;", "}", ""]


MOVED_HUNK = spec("""@@ -8,7 +8,9 @@ static int gamma_setup(struct ctx *c)
 \tif (err)
 \t\treturn err;

+\tif (!c->ops)
+\t\treturn -EINVAL;
 \tc->state = STATE_READY;
 \treturn 0;
 }
""")


def test_syntax_relocates_a_function_that_moved():
    # alpha..delta share their tails; gamma moved from the top of the file to the bottom,
    # so nothing but its name tells its copy of the tail from the others
    upstream_like = _func("gamma_setup", "3") + _func("alpha_setup", "1") + _func("beta_setup", "2")
    assert MOVED_HUNK.old == tuple(upstream_like[5:11])
    target = _func("alpha_setup", "1") + _func("beta_setup", "2") + _func("delta_setup", "4") \
        + ["/* moved */"] + _func("gamma_setup", "3")
    m = locate(target, MOVED_HUNK, language="c")
    assert m is not None and not m.ambiguous and m.confidence >= 0.9
    out = apply(target, m)
    g = out.index("static int gamma_setup(struct ctx *c)")
    assert out[g + 8: g + 10] == ["\tif (!c->ops)", "\t\treturn -EINVAL;"]
    assert out.count("\tif (!c->ops)") == 1
    assert any("gamma_setup" in e for e in m.evidence)


def test_syntax_relocates_into_a_renamed_file():
    # the pipeline reads another file (the old name) and asks find_anchor + locate there
    renamed = ["// old home of the code"] + _func("beta_setup", "2") + _func("gamma_setup", "3")
    assert find_anchor(renamed, "gamma_setup", language="c") == (13, 24)
    m = locate(renamed, MOVED_HUNK, language="c")
    assert m is not None and m.start >= 13 and not m.ambiguous


def test_find_syntax_in_kconfig_block():
    target = ["config FOO", "\tbool \"foo\"", "\tdefault n", "", "config ARM", "\tbool",
              "\tselect HAVE_B", "\tselect HAVE_C", "\thelp", "\t  ARM.", ""]
    hunk = spec("""@@ -50,4 +50,5 @@ config ARM
 \tbool
 \tselect HAVE_A
+\tselect HAVE_A_WITH_REGS
 \tselect HAVE_B
""")
    m = find_syntax(tuple(target), hunk, 49, language="kconfig")
    assert m is not None and m.method == "syntax" and m.start == 5
    out = apply(target, m)
    assert out[5:9] == ["\tbool", "\tselect HAVE_A_WITH_REGS", "\tselect HAVE_B", "\tselect HAVE_C"]


def test_hunks_package_imports_no_backport():
    for path in Path(__file__).resolve().parents[1].joinpath("hunks").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not any(n.split(".")[0] in ("backport", "git", "kb") for n in names), path


HEADER_SRC = """\
#ifndef _LINUX_FROB_H
#define _LINUX_FROB_H
int frob_register(struct frob *f);
extern void (*frob_hook)(int);
static bool frob_ready;
static inline int frob_count(void)
{
\treturn 0;
}
#endif
""".splitlines()


@pytest.mark.parametrize("name,span,kind", [
    ("_LINUX_FROB_H", (1, 2), "macro"), ("frob_register", (2, 3), "prototype"), ("frob_hook", (3, 4), "prototype"),
    ("frob_ready", (4, 5), "variable"), ("frob_count", (5, 9), "function"),
])
def test_header_anchors(name, span, kind):
    assert find_anchor(HEADER_SRC, name, language="c") == span
    it = find_enclosing(HEADER_SRC, span[0], language="c")
    assert it is not None and it.kind == kind


SEED_HUNK = spec("""@@ -55,6 +55,7 @@ config ARM
 \tselect HAVE_DMA_API_DEBUG
 \tselect HAVE_DMA_CONTIGUOUS if MMU
 \tselect HAVE_DYNAMIC_FTRACE if (!XIP_KERNEL) && !CPU_ENDIAN_BE32 && MMU
+\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS if HAVE_DYNAMIC_FTRACE && OLD_MCOUNT
 \tselect HAVE_EFFICIENT_UNALIGNED_ACCESS if (CPU_V6 || CPU_V6K || CPU_V7) && MMU
 \tselect HAVE_EXIT_THREAD
 \tselect HAVE_FTRACE_MCOUNT_RECORD if (!XIP_KERNEL)
""")  # the arm Kconfig hunk quoted in the seed thread (arm: ftrace: DYNAMIC_FTRACE_WITH_REGS)


def test_seed_kconfig_hunk_lands_in_a_vendor_select_list():
    # a vendor tree: config ARM moved down, two selects of the context are gone, one is new
    target = ["config ARM64_VENDOR", "\tbool", ""] * 10 + [
        "config ARM", "\tbool", "\tdefault y", "\tselect HAVE_DMA_CONTIGUOUS if MMU",
        "\tselect HAVE_DYNAMIC_FTRACE if (!XIP_KERNEL) && !CPU_ENDIAN_BE32 && MMU",
        "\tselect HAVE_EFFICIENT_UNALIGNED_ACCESS if (CPU_V6 || CPU_V6K || CPU_V7) && MMU",
        "\tselect VENDOR_FAST_BOOT", "\tselect HAVE_FTRACE_MCOUNT_RECORD if (!XIP_KERNEL)", "\thelp", "\t  ARM.", ""]
    m = locate(target, SEED_HUNK, language="kconfig")
    assert m is not None and not m.unsafe and not m.ambiguous
    out = apply(target, m)
    i = out.index("\tselect HAVE_DYNAMIC_FTRACE if (!XIP_KERNEL) && !CPU_ENDIAN_BE32 && MMU")
    assert out[i + 1] == "\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS if HAVE_DYNAMIC_FTRACE && OLD_MCOUNT"
    assert "\tselect VENDOR_FAST_BOOT" in out and "\tselect HAVE_EXIT_THREAD" not in out
    assert m.fuzz >= 2 and m.confidence < 0.9  # diverged context is never "clean"
