"""hunks.toplevel: whole top-level items inserted next to one exact neighbour at file scope are
placed (the other neighbour, an item the old tree lacks, named as diverged); inside a function,
a half item, or API drift toward the missing neighbour are not."""

from __future__ import annotations

from test_hunks_support import apply, spec

from hunks.anchored import ANCHORED_CONFIDENCE
from hunks.cascade import locate
from hunks.syntax import find_bodies
from hunks.toplevel import (
    check_item_scope,
    depth_at,
    find_after_item,
    find_between_items,
    starts_item,
    whole_items,
)
from hunks.types import Match

# an old .c file: foo_gen_or() ends, then foo_decode() (upstream has foo_gen_adr() there instead)
OLD_C = [
    "#include <linux/kernel.h>",
    "",
    "u32 foo_gen_and(u32 a, u32 b)",
    "{",
    "\treturn foo_encode(FOO_IMM_6, a, b);",
    "}",
    "",
    "u32 foo_gen_or(u32 a, u32 b)",
    "{",
    "\tu32 insn = foo_or_value();",
    "",
    "\treturn foo_encode(FOO_IMM_6, a, b);",
    "}",
    "",
    "/*",
    " * Decode an immediate.",
    " */",
    "s32 foo_decode(u32 insn)",
    "{",
    "\treturn insn & 0xff;",
    "}",
]

# upstream adds foo_gen_mov() after foo_gen_or(), before foo_gen_adr() (a later function)
ADD_FN = spec("""@@ -30,6 +30,15 @@ u32 foo_gen_or(u32 a, u32 b)
 \treturn foo_encode(FOO_IMM_6, a, b);
 }

+/*
+ * MOV is an alias of ORR with the zero register.
+ */
+u32 foo_gen_mov(u32 dst, u32 src)
+{
+\treturn foo_gen_or(dst, src);
+}
+
 u32 foo_gen_adr(unsigned long pc, unsigned long addr,
 \t\tu32 reg)
 {
""")


def test_new_function_goes_after_the_function_the_header_names_when_the_next_one_is_missing() -> None:
    m = locate(OLD_C, ADD_FN)
    assert m is not None and m.anchored and m.confidence == ANCHORED_CONFIDENCE and not m.ambiguous
    out = apply(OLD_C, m)
    at = out.index("u32 foo_gen_mov(u32 dst, u32 src)")
    assert out[at - 6:at - 3] == ["\treturn foo_encode(FOO_IMM_6, a, b);", "}", ""]
    assert out[at + 4:at + 7] == ["", "/*", " * Decode an immediate."]
    assert any("foo_gen_adr" in d for d in m.diverged)
    assert "between top-level items" in m.evidence[0]


def test_the_repeated_upper_context_is_pinned_by_the_function_the_header_names() -> None:
    # "return foo_encode(FOO_IMM_6, a, b);" closes two functions: the header says which
    m = find_between_items(tuple(OLD_C), ADD_FN, 29)
    assert m is not None
    out = apply(OLD_C, m)
    assert out.index("u32 foo_gen_mov(u32 dst, u32 src)") > out.index("u32 foo_gen_or(u32 a, u32 b)")


def test_a_prototype_of_the_function_the_header_names_does_not_hide_its_body() -> None:
    # a forward declaration names foo_gen_or too: only the definition holds the hunk's context
    proto = OLD_C[:2] + ["u32 foo_gen_or(u32 a, u32 b);", ""] + OLD_C[2:]
    assert find_bodies(proto, "foo_gen_or", language="c") == [(9, 15)]
    m = locate(proto, ADD_FN)
    assert m is not None and m.anchored
    out = apply(proto, m)
    assert out.index("u32 foo_gen_mov(u32 dst, u32 src)") > out.index("u32 foo_gen_or(u32 a, u32 b)", 4)


def test_without_the_header_the_repeated_context_is_no_place() -> None:
    bare = spec("\n".join(("@@ -30,6 +30,15 @@",) + tuple(
        ("+" if k == "+" else " " if k == " " else "-") + t for k, t in zip(ADD_FN.kinds, ADD_FN.lines, strict=True))))
    assert find_between_items(tuple(OLD_C), bare, 29) is None


# a header: defines added below MCOUNT-like lines whose upstream neighbour (a comment) is missing
OLD_H = [
    "#ifndef __ASM_FOO_H",
    "#define __ASM_FOO_H",
    "",
    "#include <asm/insn.h>",
    "",
    "#define FOO_ADDR\t\t((unsigned long)_foo)",
    "#define FOO_INSN_SIZE\tFOO_SIZE",
    "",
    "#ifndef __ASSEMBLY__",
    "extern void _foo(unsigned long);",
    "#endif",
    "#endif",
]

ADD_DEFINES = spec("""@@ -5,9 +5,16 @@
 #include <asm/insn.h>

 #define FOO_GRAPH_TEST
+
+#ifdef CONFIG_FOO_REGS
+#define FOO_OPS 1
+#else
 #define FOO_ADDR\t\t((unsigned long)_foo)
+#endif
 #define FOO_INSN_SIZE\tFOO_SIZE

+#define FOO_PLT_IDX\t0
+#define NR_FOO_PLTS\t2
+
 /*
  * The link register is saved late.
  */
""")


def test_defines_after_the_exact_neighbour_whose_lower_comment_the_old_header_lacks() -> None:
    m = locate(OLD_H, ADD_DEFINES)
    assert m is not None and m.anchored
    out = apply(OLD_H, m)
    size = out.index("#define FOO_INSN_SIZE\tFOO_SIZE")
    assert out[size + 1:size + 5] == ["", "#define FOO_PLT_IDX\t0", "#define NR_FOO_PLTS\t2", ""]
    assert out[size + 5] == "#ifndef __ASSEMBLY__"
    assert out[out.index("#define FOO_ADDR\t\t((unsigned long)_foo)") + 1] == "#endif"
    assert out.index("#ifdef CONFIG_FOO_REGS") < out.index("#define FOO_ADDR\t\t((unsigned long)_foo)")


def test_inside_a_function_the_missing_neighbour_is_a_refusal() -> None:
    # the same "whole item" lines, but the target's exact neighbour is a statement in a body
    target = OLD_C[:9] + ["\tu32 insn = foo_or_value();", "", "\tfoo_check(insn);", "\treturn 0;", "}"]
    inner = spec("""@@ -9,5 +9,7 @@ u32 foo_gen_or(u32 a, u32 b)
 \tu32 insn = foo_or_value();

+struct foo_local { int a; };
+
 \tfoo_other(insn);
 \treturn 0;
 }
""")
    m = find_between_items(tuple(target), inner, 9)
    assert m is None


def test_new_lines_that_call_the_missing_neighbour_are_drift_not_a_placement() -> None:
    calls_missing = spec("""@@ -30,6 +30,10 @@ u32 foo_gen_or(u32 a, u32 b)
 \treturn foo_encode(FOO_IMM_6, a, b);
 }

+u32 foo_gen_b(u32 pc)
+{
+\treturn foo_gen_adr(pc, 0, 0);
+}
 u32 foo_gen_adr(unsigned long pc, unsigned long addr,
 \t\tu32 reg)
 {
""")
    assert find_between_items(tuple(OLD_C), calls_missing, 29) is None


def test_item_shapes() -> None:
    assert whole_items(["/*", " * a comment", " */", "int foo(void)", "{", "\treturn 0;", "}", ""])
    assert whole_items(["#define A 1", "#define B(x) \\", "\t((x) + 1)"])
    assert whole_items(["int foo(int a,", "\t    int b);"])
    assert not whole_items(["\tfoo();"])  # a statement
    assert not whole_items(["int foo(void)", "{"])  # half a function
    assert not whole_items(["}", "int x;"])
    assert not whole_items(["out:", "\treturn 0;"])
    assert not whole_items(["", ""])
    assert starts_item(["", "u32 foo(void)"]) and starts_item([])
    assert not starts_item(["\t\tu32 reg)"]) and not starts_item(["}"])
    body = ["int a(void)", "{", "\t/* { not a brace */", '\tputs("}");', "\treturn '{';", "}", "int b;"]
    assert depth_at(body, 2) == 1 and depth_at(body, 6) == 0
    assert depth_at(["/*", " * {", " */", "int c;"], 3) == 0


def test_statements_added_in_a_body_are_never_placed_here_even_with_both_neighbours_found() -> None:
    # upstream's declarations above the new statements are missing; a blank line and the code below
    # are in the target: statements are not items, whatever their neighbours (other methods decide)
    body = ["static long foo_ioctl(struct file *f, unsigned int cmd)", "{",
            "\tstruct foo *foo = f->private_data;", "", "\tif (!foo->ready)", "\t\treturn -EBUSY;", "}"]
    hunk = spec("""@@ -3,5 +3,9 @@ static long foo_ioctl(struct file *f, unsigned int cmd)
 \tstruct foo_motor *motor;
 \tint err;

+\t/* no private ioctls */
+\tif (cmd)
+\t\treturn -EINVAL;
+
 \tif (!foo->ready)
 \t\treturn -EBUSY;
 }
""")
    assert find_between_items(tuple(body), hunk, 2) is None


def test_a_new_struct_mapped_inside_another_struct_is_held_below_the_bar() -> None:
    # upstream adds struct stb_arg after struct mp2_dev, which the target lacks; the 3-way maps
    # the lines after it into the target's struct pmc_dev: a struct there cannot be upstream's
    base = ["struct mp2_dev {", "\tvoid *mmio;", "\tint irq;", "};", "", "struct pmc_dev {", "\tvoid *regbase;",
            "\tint cpu_id;", "};", ""]
    target = ["struct pmc_dev {", "\tvoid *regbase;", "\tint cpu_id;", "\tint active_ips;", "};", ""]
    hunk = spec("""@@ -2,6 +2,11 @@ struct mp2_dev {
 \tvoid *mmio;
 \tint irq;
 };
\x20
+struct stb_arg {
+\tu32 size;
+};
+
 struct pmc_dev {
 \tvoid *regbase;
 \tint cpu_id;
""")
    m = locate(target, hunk, base=base)
    assert m is None or m.confidence < 0.8 or depth_at(apply(target, m), apply(target, m).index("struct stb_arg {")) == 0
    # a position inside struct pmc_dev (after its second member), however it was found, is held
    inside = Match("3way", 2, 2, ("struct stb_arg {", "\tu32 size;", "};", ""), 0.85)
    held = check_item_scope(inside, hunk, tuple(target))
    assert held.confidence < 0.8 and "inside a block (brace depth 1)" in held.evidence[-1]
    at_top = Match("3way", 0, 0, ("struct stb_arg {", "\tu32 size;", "};", ""), 0.85)
    assert check_item_scope(at_top, hunk, tuple(target)) is at_top


def test_a_placement_made_again_around_claimed_lines_counts_their_braces() -> None:
    # an earlier hunk claims "struct pmc_dev {"; placed again with that line masked, the new
    # struct's place inside the struct must still be seen as inside a block
    from hunks.order import locate_unclaimed
    target = ["#include <linux/types.h>", "", "struct pmc_dev {", "\tvoid *regbase;", "\tvoid *smu_virt;",
              "\tvoid *stb_virt;", "\tu32 cpu_id;", "};", ""]
    hunk = spec("""@@ -3,4 +3,8 @@
 \tvoid *regbase;
 \tvoid *smu_virt_addr;
+struct stb_arg {
+\tu32 msg_id;
+};
+
 \tvoid *stb_virt;
 \tu32 cpu_id;
""")
    m = locate_unclaimed(target, hunk, [(0, 3)], hint=3)
    assert m is None or m.confidence < 0.8
    masked_alone = locate(["\x00"] * 3 + target[3:], hunk, hint=3)  # what the masked search sees
    assert masked_alone is not None and masked_alone.method != "exact" and masked_alone.confidence >= 0.8


def test_a_table_entry_under_an_ifdef_at_column_0_is_no_top_level_item() -> None:
    target = ("static const struct cap caps[] = {", "#ifdef CONFIG_A", "\t{", "\t\t.id = 1,", "\t},", "#endif",
              "\t{},", "};")
    hunk = spec("""@@ -5,3 +5,8 @@ static const struct cap caps[] = {
 \t},
 #endif
+#ifdef CONFIG_B
+\t{
+\t\t.id = 2,
+\t},
+#endif
 \t{},
""")
    m = Match("fuzz", 4, 7, ("\t},", "#endif", "#ifdef CONFIG_B", "\t{", "\t\t.id = 2,", "\t},", "#endif", "\t{},"), 0.85)
    assert check_item_scope(m, hunk, target) is m


# upstream adds a variable right after struct foo_backlight, whose last member and the struct that
# follows it upstream the old file lacks: only the struct's closing line and a blank are exact
OLD_STRUCTS = ["struct foo_kbd {", "\tchar *name;", "};", "", "struct foo_backlight {", "\tstruct led_classdev cdev;",
               "\tunsigned short off, on_min, on_max;", "};", "", "struct foo_sc {", "\tunsigned long quirks;", "};"]
ADD_VAR = spec("""@@ -89,6 +89,9 @@ struct foo_backlight {
 \tstruct hid_device *hdev;
 };

+/* T2 re-enumerates the keyboard across resume. */
+static int foo_resume_brightness = -1;
+
 struct foo_magic_backlight {
 \tstruct led_classdev cdev;
 \tstruct hid_report *brightness;
""")


def test_new_items_go_right_after_the_item_the_header_names() -> None:
    m = find_after_item(tuple(OLD_STRUCTS), ADD_VAR, 88)
    assert m is not None and m.anchored and m.confidence == ANCHORED_CONFIDENCE
    assert any("foo_magic_backlight" in d for d in m.diverged)
    out = apply(OLD_STRUCTS, m)
    at = out.index("static int foo_resume_brightness = -1;")
    assert out[at - 3:at - 1] == ["};", ""] and out[at - 4] == "\tunsigned short off, on_min, on_max;"
    assert out[at + 1:at + 3] == ["", "struct foo_sc {"]
    m = locate(OLD_STRUCTS, ADD_VAR)  # the cascade keeps that place (never moved by hunks.anchored)
    assert m is not None and apply(OLD_STRUCTS, m) == out


def test_after_the_named_item_only_when_nothing_points_elsewhere() -> None:
    # the struct upstream has next is in the target elsewhere: the new lines may belong by it
    moved = OLD_STRUCTS + ["", "struct foo_magic_backlight {", "\tint x;", "};"]
    assert find_after_item(tuple(moved), ADD_VAR, 88) is None
    # the named struct twice (two definitions under #ifdef): no one place
    twice = OLD_STRUCTS + ["#ifdef CONFIG_FOO"] + OLD_STRUCTS[4:9] + ["#endif"]
    assert find_after_item(tuple(twice), ADD_VAR, 88) is None
    # the target's struct is followed by no blank line where upstream has one
    tight = OLD_STRUCTS[:8] + OLD_STRUCTS[9:]
    assert find_after_item(tuple(tight), ADD_VAR, 88) is None
