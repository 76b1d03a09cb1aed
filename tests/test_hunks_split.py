"""hunks.split: a hunk whose change groups lie apart in the target is placed in parts, each part
by the cascade on its own, joined in order; never when a part is ambiguous, deletes a line the
target lacks, lands out of order, too far away or in another function than the hunk says."""

from __future__ import annotations

from dataclasses import replace

from test_hunks_support import apply, spec

from hunks.cascade import locate
from hunks.split import MAX_SPLIT_GAP, SPLIT_CONFIDENCE, _scopes, find_split, groups, minimal_edit
from hunks.types import Match

HEAD = ["#include <linux/foo.h>", ""]
SETUP_TOP = [
    "static int foo_setup(struct foo_dev *fd)",
    "{",
    "\tint ret;",
    "",
    "\tret = foo_enable_clock(fd->clk);",
    "\tif (ret)",
    "\t\treturn ret;",
    "",
]
SETUP_BOTTOM = [
    "\tfd->state = FOO_READY;",
    "\tfoo_write(fd, FOO_CTRL, 1);",
    "\treturn 0;",
    "}",
]
# what the target has between the two changes and upstream does not: a reset step
RESET = [
    "\tret = foo_reset(fd, FOO_RESET_ALL);",
    "\tif (ret) {",
    "\t\tfoo_disable_clock(fd->clk);",
    "\t\treturn ret;",
    "\t}",
    "\tfoo_calibrate(fd, fd->cal_table);",
    "\tfoo_wait_ready(fd);",
    "",
]
OTHER = [
    "",
    "static void foo_teardown(struct foo_dev *fd)",
    "{",
    "\tfoo_write(fd, FOO_CTRL, 0);",
    "\tfoo_disable_clock(fd->clk);",
    "}",
]
TARGET = HEAD + SETUP_TOP + RESET + SETUP_BOTTOM + OTHER

# upstream changes the clock call and the control value: one hunk, two change groups
FIX = spec("""@@ -5,10 +5,10 @@ static int foo_setup(struct foo_dev *fd)
 \tint ret;

-\tret = foo_enable_clock(fd->clk);
+\tret = foo_prepare_enable_clock(fd->clk);
 \tif (ret)
 \t\treturn ret;

 \tfd->state = FOO_READY;
-\tfoo_write(fd, FOO_CTRL, 1);
+\tfoo_write(fd, FOO_CTRL, FOO_CTRL_ON);
 \treturn 0;
 }
""")


def _place(target):
    return lambda part, at: locate(tuple(target), part, hint=at, split=False)


def test_groups_and_minimal_edit() -> None:
    assert groups(FIX.kinds) == [(2, 4), (8, 10)]
    m = Match("fuzz", 3, 6, ("a", "B", "c", "d"), 0.8)
    assert minimal_edit(["x", "x", "x", "a", "b", "c", "y"], m) == (4, 6, ("B", "c", "d"))


def test_groups_apart_in_the_target_are_placed_in_parts() -> None:
    whole = locate(TARGET, FIX, split=False)
    assert whole is None or whole.confidence < 0.8  # as one block the hunk does not fit
    m = locate(TARGET, FIX)
    assert m is not None and m.method == "split" and m.confidence == SPLIT_CONFIDENCE
    assert not m.ambiguous and not m.unsafe and m.anchored
    want = list(TARGET)
    want[want.index("\tret = foo_enable_clock(fd->clk);")] = "\tret = foo_prepare_enable_clock(fd->clk);"
    want[want.index("\tfoo_write(fd, FOO_CTRL, 1);")] = "\tfoo_write(fd, FOO_CTRL, FOO_CTRL_ON);"
    assert apply(TARGET, m) == want
    # the evidence names each part's place; diverged names what lies between the parts
    assert any(e.startswith("part 1 ") and "at line 7" in e for e in m.evidence)
    assert any(e.startswith("part 2 ") and "at line 20" in e for e in m.evidence)
    assert any("between parts 1 and 2 the target has" in d and "foo_reset" in d for d in m.diverged)


def test_a_hunk_that_fits_whole_is_not_split() -> None:
    target = HEAD + SETUP_TOP + SETUP_BOTTOM + OTHER
    m = locate(target, FIX)
    assert m is not None and m.method == "exact"


def test_a_part_placeable_at_two_places_is_no_split() -> None:
    # a second copy of the clock-enable block in another function, and no @@ section to tell the
    # two functions apart: part 1 is ambiguous
    target = TARGET + ["", "static int foo_resume(struct foo_dev *fd)"] + SETUP_TOP[1:] + ["\treturn 0;", "}"]
    bare = replace(FIX, section="")
    assert find_split(tuple(target), bare, 4, _place(target)) is None
    m = locate(target, bare)
    assert m is None or m.method != "split"
    # the @@ section names foo_setup(), where the block is once: no ambiguity left
    m = locate(target, FIX)
    assert m is not None and m.method == "split" and m.start < len(TARGET)


def test_a_removed_line_the_target_lacks_is_no_split() -> None:
    target = [t.replace("FOO_CTRL, 1", "FOO_CTRL, FOO_CTRL_DEFAULT") for t in TARGET]
    assert find_split(tuple(target), FIX, 4, _place(target)) is None


def test_parts_out_of_order_are_no_split() -> None:
    # the target writes the control register before it enables the clock
    bottom = ["\tfd->state = FOO_READY;", "\tfoo_write(fd, FOO_CTRL, 1);", "\treturn 0;"]
    target = HEAD + SETUP_TOP[:2] + ["\tint ret;", ""] + bottom[:2] + RESET + SETUP_TOP[3:] + bottom[2:] + ["}"]
    assert find_split(tuple(target), FIX, 4, _place(target)) is None


def test_parts_too_far_apart_are_no_split() -> None:
    filler = [f"\tfoo_step(fd, {i});" for i in range(MAX_SPLIT_GAP + 5)] + [""]
    target = HEAD + SETUP_TOP + filler + SETUP_BOTTOM + OTHER
    assert find_split(tuple(target), FIX, 4, _place(target)) is None


def test_a_part_in_another_function_than_its_neighbour_is_no_split() -> None:
    # the control write the hunk changes in foo_setup() is, in the target, only in foo_other():
    # nothing in the hunk names a new function between the parts, so they must share one
    other = ["", "static int foo_other(struct foo_dev *fd)", "{"] + SETUP_BOTTOM
    target = HEAD + SETUP_TOP + ["\tfoo_start(fd);", "\treturn 0;", "}"] + other
    assert find_split(tuple(target), FIX, 4, _place(target)) is None


def test_a_definition_line_between_parts_names_the_second_parts_function() -> None:
    hunk = spec("""@@ -3,11 +3,11 @@
 static int foo_a(struct foo_dev *fd)
 {
-\treturn foo_start(fd, 1);
+\treturn foo_start(fd, FOO_ONE);
 }

 static int foo_b(struct foo_dev *fd)
 {
-\treturn foo_stop(fd, 2);
+\treturn foo_stop(fd, FOO_TWO);
 }
""")
    mid = ["", "static int foo_x(struct foo_dev *fd)", "{"] + [f"\tfoo_x_step(fd, {i});" for i in range(6)] + ["}"]
    a = ["static int foo_a(struct foo_dev *fd)", "{", "\treturn foo_start(fd, 1);", "}"]
    b = ["", "static int foo_b(struct foo_dev *fd)", "{", "\treturn foo_stop(fd, 2);", "}"]
    target = HEAD + a + mid + b
    m = find_split(tuple(target), hunk, 2, _place(target))
    assert m is not None and m.method == "split"
    assert "\treturn foo_start(fd, FOO_ONE);" in apply(target, m) and "\treturn foo_stop(fd, FOO_TWO);" in apply(target, m)
    # the same second change inside a function of another name: not where the hunk says it is
    c = ["", "static int foo_c(struct foo_dev *fd)", "{", "\treturn foo_stop(fd, 2);", "}"]
    target = HEAD + a + mid + c
    assert find_split(tuple(target), hunk, 2, _place(target)) is None


def test_scopes_follow_definition_lines_and_closing_braces() -> None:
    hunk = spec("""@@ -3,14 +3,14 @@ static int foo_a(struct foo_dev *fd)
 \tfoo_start(fd);
-\treturn 1;
+\treturn 0;
 }

-static int foo_b(struct foo_dev *fd,
+static int foo_b(const struct foo_dev *fd,
 \t\t int mode)
 {
-\treturn mode;
+\treturn mode & 1;
 }

+static struct foo_ops foo_ops = {
+};
""")
    assert _scopes(hunk, groups(hunk.kinds)) == ["foo_a", "", "foo_b", ""]
    # a multi-line signature's first line names the item
    ctx = spec("""@@ -3,6 +3,6 @@
 static int foo_b(struct foo_dev *fd,
 \t\t int mode)
 {
-\treturn mode;
+\treturn mode & 1;
 }
""")
    assert _scopes(ctx, groups(ctx.kinds)) == ["foo_b"]


def test_a_name_one_part_uses_and_another_parts_missing_context_had_is_drift() -> None:
    # the target lacks upstream's "foo_registered = true;" above part 1, and part 2 adds a use of
    # foo_registered: a prerequisite the target lacks, not context to step over
    target = HEAD + [
        "static int __init foo_bus_register(void)",
        "{",
        "\tint ret;",
        "",
        "\tret = bus_register(&foo_bus_type);",
        "\tif (ret)",
        "\t\treturn ret;",
        "",
        "\tif (early_foo_attr)",
        "\t\treturn PTR_ERR(foo_device_register(early_foo_attr));",
        "",
    ] + [f"\tfoo_bus_step(&foo_bus_type, {i});" for i in range(8)] + [
        "",
        "\treturn 0;",
        "}",
    ]
    hunk = spec("""@@ -8,10 +8,17 @@ static int __init foo_bus_register(void)
 \t\treturn ret;
 \tfoo_registered = true;

-\tif (early_foo_attr)
-\t\treturn PTR_ERR(foo_device_register(early_foo_attr));
+\tif (early_foo_attr) {
+\t\tret = PTR_ERR(foo_device_register(early_foo_attr));
+\t\tgoto err_unregister;
+\t}

 \treturn 0;
+
+err_unregister:
+\tfoo_registered = false;
+\tbus_unregister(&foo_bus_type);
+\treturn ret;
 }
""")
    assert find_split(tuple(target), hunk, 8, _place(target)) is None
    # a name the target tree defines (elsewhere) is no drift: the parts are placed
    m = find_split(tuple(target), hunk, 8, _place(target), known=lambda name: True)
    assert m is not None and "\tfoo_registered = false;" in apply(target, m)
