"""hunks.anchored: a context line that differs away from an exactly anchored change is trusted
(and named), one next to the change or between its blocks is not, nor is API drift."""

from __future__ import annotations

from dataclasses import replace

from test_hunks_support import apply, spec

from hunks.anchored import ANCHORED_CONFIDENCE, anchor, find_near_side
from hunks.cascade import locate
from hunks.types import Match

BODY = [
    "static int foo_probe(struct foo *f)",
    "{",
    "\tstruct foo_priv *priv = f->priv;",
    "\tint ret;",
    "",
    "\tpriv->stamp = ktime_get_real_seconds();",
    "\tpriv->count = 0;",
    "\tret = foo_hw_init(priv);",
    "\tif (ret)",
    "\t\treturn ret;",
    "\tfoo_enable_irq(priv);",
    "\treturn 0;",
    "}",
]
FILE = ["/* other */", "static int other;", ""] + BODY + ["", "static void foo_remove(struct foo *f)", "{", "}"]

# a timestamp API line just above the exact line the call is added after
ADD_CALL = spec("""@@ -6,6 +6,7 @@ static int foo_probe(struct foo *f)

 \tpriv->stamp = ktime_get_real_seconds();
 \tpriv->count = 0;
+\tfoo_trace_init(priv);
 \tret = foo_hw_init(priv);
 \tif (ret)
 \t\treturn ret;
""")

# a new line calling what the differing context called (API drift)
DRIFT = spec("""@@ -8,6 +8,7 @@ static int foo_probe(struct foo *f)
 \tpriv->stamp = ktime_get_real_seconds();
 \tpriv->count = 0;
 \tret = foo_hw_init(priv);
+\tpriv->start = ktime_get_real_seconds();
 \tif (ret)
 \t\treturn ret;
 \tfoo_enable_irq(priv);
""")


def _target(**swap: str) -> list[str]:
    return [swap.get(line, line) for line in FILE]


def test_timestamp_api_line_near_an_added_call_is_applied_and_named() -> None:
    target = _target(**{"\tpriv->stamp = ktime_get_real_seconds();": "\tpriv->stamp = get_seconds();"})
    m = locate(target, ADD_CALL)
    assert m is not None and m.anchored and m.confidence >= ANCHORED_CONFIDENCE >= 0.8
    assert any("ktime_get_real_seconds" in d for d in m.diverged)
    out = apply(target, m)
    assert out[out.index("\tpriv->count = 0;") + 1] == "\tfoo_trace_init(priv);"
    assert "\tpriv->stamp = get_seconds();" in out  # the target's own line is kept


def test_renamed_local_beside_the_insertion_is_applied() -> None:
    hunk = spec("""@@ -5,6 +5,7 @@ static int foo_probe(struct foo *f)
 \tstruct foo_priv *priv = f->priv;
 \tint ret;

+\tspin_lock_init(&priv->lock);
 \tpriv->stamp = ktime_get_real_seconds();
 \tpriv->count = 0;
 \tret = foo_hw_init(priv);
""")
    target = _target(**{"\tint ret;": "\tint err;"})  # a local renamed two lines above
    m = locate(target, hunk)
    assert m is not None and m.anchored and m.confidence >= 0.8
    assert apply(target, m)[target.index("\tpriv->stamp = ktime_get_real_seconds();")] == "\tspin_lock_init(&priv->lock);"


def _held_or_named(m: Match | None, line: str) -> bool:
    """Not trusted as anchored: held back (below the bar), or applied with the line named (the
    pipeline then raises context-diverged)."""
    return m is None or (not m.anchored and (m.confidence < 0.8 or any(line in d for d in m.diverged)))


def test_a_line_next_to_an_insertion_the_target_respells_is_trusted_and_named() -> None:
    # the line right below the insertion is the target's version of upstream's (one line for one,
    # exact lines around): the new call goes on the same side of it, and the line is named
    target = _target(**{"\tret = foo_hw_init(priv);": "\tret = foo_hw_setup(priv, 0);"})
    m = locate(target, ADD_CALL)
    assert m is not None and m.anchored and any("foo_hw_init" in d for d in m.diverged)
    out = apply(target, m)
    assert out[out.index("\tret = foo_hw_setup(priv, 0);") - 1] == "\tfoo_trace_init(priv);"
    assert out[out.index("\tfoo_trace_init(priv);") - 1] == "\tpriv->count = 0;"


def test_a_line_next_to_an_insertion_the_target_rewrites_into_more_lines_keeps_the_exact_side() -> None:
    # two target lines where upstream has one: the exact lines above hold the new call right after
    # them, before whatever the target has instead of upstream's line (hunks.anchored._near_side)
    target = [x for line in FILE for x in (["\tret = foo_hw_setup(priv, 0);", "\tfoo_hw_wait(priv);"]
                                          if line == "\tret = foo_hw_init(priv);" else [line])]
    m = locate(target, ADD_CALL)
    assert m is not None and m.anchored and any("foo_hw_init" in d for d in m.diverged)
    out = apply(target, m)
    at = out.index("\tfoo_trace_init(priv);")
    assert out[at - 1] == "\tpriv->count = 0;" and out[at + 1:at + 3] == target[target.index("\tpriv->count = 0;") + 1:][:2]


# an insertion at the end of a header's declarations; upstream's comment below it is not in the target
ADD_DECL = spec("""@@ -20,6 +20,11 @@ void foo_update(struct foo *foo);

 extern const struct foo_operations foo_ops;

+static inline bool foo_cloned(struct foo *foo, struct bio *bio)
+{
+\treturn bio->bi_pool == &foo->clone_set;
+}
+
 /*
  * Foo devices can be stacked, in which case ->disk is NULL.
  */
""")
HEADER = ["#ifndef _FOO_H", "#define _FOO_H", "", "void foo_update(struct foo *foo);", "",
          "extern const struct foo_operations foo_ops;", "", "#endif /* _FOO_H */"]


def test_an_insertion_whose_lower_context_the_target_lacks_goes_after_the_exact_lines_above() -> None:
    m = locate(HEADER, ADD_DECL)
    assert m is not None and m.anchored and m.confidence >= ANCHORED_CONFIDENCE
    assert any("Foo devices" in d for d in m.diverged)  # named: the pipeline warns context-diverged
    out = apply(HEADER, m)
    at = out.index("static inline bool foo_cloned(struct foo *foo, struct bio *bio)")
    assert out[at - 2:at] == ["extern const struct foo_operations foo_ops;", ""]
    assert out[-1] == "#endif /* _FOO_H */"


def test_an_exact_side_of_blanks_and_braces_holds_no_insertion() -> None:
    # the only exact lines next to the new ones are "}" and a blank: found all over a file
    hunk = spec("""@@ -5,6 +5,7 @@
 \treturn foo_old(a);
 }

+int foo_new(void);
 /* upstream comment */
 int foo_next(void);
""")
    target = ["int a(void)", "{", "\treturn 0;", "}", "", "int b(void)", "{", "\treturn 1;", "}", "", "int c;"]
    m = locate(target, hunk)
    assert m is None or (not m.anchored and m.confidence < 0.8)


def test_an_insertion_whose_both_neighbours_are_exact_with_target_lines_between_stays_held() -> None:
    # upstream's neighbours are next to each other and the target has a line of its own between
    # them: which side of it the new call goes is a guess (not a one-sided insertion)
    target = [x for line in FILE for x in (["\tpriv->count = 0;", "\tpriv->flags = 0;"]
                                          if line == "\tpriv->count = 0;" else [line])]
    target = [("\tpriv->stamp = get_seconds();" if x == "\tpriv->stamp = ktime_get_real_seconds();" else x)
              for x in target]
    assert _held_or_named(locate(target, ADD_CALL), "ktime_get_real_seconds")


def test_a_differing_line_between_two_changes_is_held_back_or_named() -> None:
    hunk = spec("""@@ -9,6 +9,8 @@ static int foo_probe(struct foo *f)
 \tpriv->count = 0;
 \tret = foo_hw_init(priv);
+\tfoo_trace_init(priv);
 \tif (ret)
+\t\tfoo_trace_exit(priv);
 \t\treturn ret;
 \tfoo_enable_irq(priv);
""")
    target = _target(**{"\tif (ret)": "\tif (ret < 0)"})  # interleaved, touching both blocks
    assert _held_or_named(locate(target, hunk), "if (ret)")


def test_api_drift_stays_held_back() -> None:
    # the new line calls what the differing context called and the target's file never does
    target = _target(**{"\tpriv->stamp = ktime_get_real_seconds();": "\tpriv->stamp = get_seconds();"})
    m = locate(target, DRIFT)
    assert m is None or (not m.anchored and m.confidence < 0.8)


def test_an_anchor_of_braces_and_blanks_is_not_enough() -> None:
    target = ["{", "", "}", "{", "", "}"]
    m = Match("fuzz", 1, 2, ("", "x();"), 0.6, 1)
    hunk = spec(" {\n \n+x();\n }\n int y;")
    out = anchor(m, hunk, tuple(target))
    assert not out.anchored and out.confidence == 0.6
    assert out.diverged  # 'int y;' is not in the target: still named


def test_exact_placements_are_left_alone() -> None:
    m = locate(FILE, ADD_CALL)
    assert m is not None and m.method in ("exact", "offset") and not m.diverged and not m.anchored


def test_drift_to_a_name_the_target_tree_defines_is_trusted() -> None:
    # the file calls get_seconds(), but the tree has ktime_get_real_seconds() too (the file's older
    # style): upstream's new line compiles there, so only the differing context is reported
    target = _target(**{"\tpriv->stamp = ktime_get_real_seconds();": "\tpriv->stamp = get_seconds();"})
    assert not locate(target, DRIFT, known=lambda name: False).anchored
    m = locate(target, DRIFT, known=lambda name: name == "ktime_get_real_seconds")
    assert m is not None and m.anchored and m.confidence >= 0.8


# upstream's .remove returns void; the older target's still ends with "return 0;"
REMOVE_VOID = [
    "static void foo_remove(struct i2c_client *client)",
    "{",
    "\tstruct foo *uc = i2c_get_clientdata(client);",
    "",
    "\tcancel_work_sync(&uc->work);",
    "\tpm_runtime_disable(uc->dev);",
    "\tfoo_unregister(uc->ucsi);",
    "\tfoo_destroy(uc->ucsi);",
    "\tfree_irq(uc->irq, uc);",
    "}",
    "",
    "static const struct i2c_device_id foo_device_id[] = {",
    "\t{\"foo\", 0},",
    "\t{}",
    "};",
]
MOVE_TEARDOWN = spec("""@@ -5,8 +5,8 @@ static void foo_remove(struct i2c_client *client)
 \tcancel_work_sync(&uc->work);
 \tpm_runtime_disable(uc->dev);
 \tfoo_unregister(uc->ucsi);
-\tfoo_destroy(uc->ucsi);
 \tfree_irq(uc->irq, uc);
+\tfoo_destroy(uc->ucsi);
 }

 static const struct i2c_device_id foo_device_id[] = {
""")


def _remove_int(*tail: str) -> list[str]:
    target = ["/* other */", "static int other;", ""] + list(REMOVE_VOID)
    target[3] = "static int foo_remove(struct i2c_client *client)"
    at = target.index("\tfree_irq(uc->irq, uc);") + 1
    return target[:at] + list(tail) + target[at:]


def test_insertion_goes_before_the_return_that_ends_the_block() -> None:
    # the target's own "return 0;" sits between the new line and the "}" below it: after it the
    # line would never run, so it goes right after free_irq(), as upstream has it
    target = _remove_int("", "\treturn 0;")
    m = locate(target, MOVE_TEARDOWN)
    assert m is not None and m.anchored and m.confidence >= 0.8 and not m.ambiguous
    out = apply(target, m)
    at = out.index("\tfree_irq(uc->irq, uc);")
    assert out[at - 1] == "\tfoo_unregister(uc->ucsi);"
    assert out[at + 1:at + 5] == ["\tfoo_destroy(uc->ucsi);", "", "\treturn 0;", "}"]


def test_target_lines_between_an_insertion_and_its_neighbour_stay_a_guess() -> None:
    # a statement of the target's own (not an exit) between the insertion and "}": either side fits
    target = _remove_int("\tfoo_put(uc);")
    assert _held_or_named(locate(target, MOVE_TEARDOWN), "}")


# a replaced call in an error path; the target's function returns an int where upstream's a pointer
ERR_PATH = [
    "struct foo_dev *foo_add(struct foo_bus *bus)",
    "{",
    "\tstruct foo_dev *device = kzalloc(sizeof(*device), GFP_KERNEL);",
    "\tint result;",
    "",
    "\tresult = foo_register_device(bus, device);",
    "\tif (result)",
    "\t\tgoto err;",
    "",
    "\treturn device;",
    "",
    " err:",
    "\tfoo_release_resource(&device->dev);",
    "\treturn NULL;",
    "}",
]
PUT_DEVICE = spec("""@@ -10,6 +10,6 @@ struct foo_dev *foo_add(struct foo_bus *bus)
 \treturn device;

  err:
-\tfoo_release_resource(&device->dev);
+\tfoo_dev_put(device);
 \treturn NULL;
 }
""")


def _err_target(**swap: str) -> list[str]:
    body = [swap.get(line, line) for line in ERR_PATH]
    return ["/* other */", "static int other;", ""] + body + ["", "static void foo_remove(void)", "{", "}"]


def test_replaced_lines_with_one_exact_neighbour_are_applied_and_the_other_side_named() -> None:
    # "return NULL;" below the replaced call is "return result;" in the target, and the
    # "return device;" further up is "return 0;": the removed line and " err:" above it pin the place
    target = _err_target(**{"\treturn NULL;": "\treturn result;", "\treturn device;": "\treturn 0;"})
    m = locate(target, PUT_DEVICE)
    assert m is not None and m.anchored and m.confidence >= 0.8
    assert any("return NULL;" in d for d in m.diverged)
    out = apply(target, m)
    at = out.index(" err:")
    assert out[at + 1:at + 4] == ["\tfoo_dev_put(device);", "\treturn result;", "}"]


def test_replaced_lines_with_no_exact_neighbour_stay_held() -> None:
    target = _err_target(**{"\treturn NULL;": "\treturn result;", " err:": "err_free:"})
    assert _held_or_named(locate(target, PUT_DEVICE), "return NULL;")


# an include added among includes the target orders otherwise and lacks one of
ADD_INCLUDE = spec("""@@ -21,6 +21,7 @@
 #include <linux/of.h>
 #include <linux/slab.h>
 #include <linux/memblock.h>
+#include <linux/minmax.h>
 #include <linux/crash_core.h>
 #include <asm/sections.h>
 #include <asm/kexec_ranges.h>
""")
INCLUDES = ["#include <linux/sort.h>", "#include <linux/kexec.h>", "#include <linux/of.h>",
            "#include <linux/slab.h>", "#include <linux/crash_core.h>", "#include <asm/sections.h>",
            "#include <asm/kexec_ranges.h>", "", "static int x;"]


def test_find_near_side_puts_an_include_before_the_exact_includes_below() -> None:
    m = find_near_side(tuple(INCLUDES), ADD_INCLUDE, 20)
    assert m is not None and m.anchored and m.confidence == ANCHORED_CONFIDENCE
    assert any("memblock" in d for d in m.diverged)
    out = apply(INCLUDES, m)
    assert out[out.index("#include <linux/minmax.h>") + 1] == "#include <linux/crash_core.h>"
    m = locate(INCLUDES, ADD_INCLUDE)  # the cascade takes it over the loose aligners' guesses
    assert m is not None and apply(INCLUDES, m) == out


def test_find_near_side_wants_one_place() -> None:
    # the exact side twice and nothing else of the context there, no function to tell: no place
    twice = ["#include <linux/sort.h>"] + INCLUDES[4:7] + ["", "#ifdef CONFIG_X"] + INCLUDES[4:7] + ["#endif"]
    assert find_near_side(tuple(twice), ADD_INCLUDE, 20) is None
    # both sides at the place: the exact methods' case, not this one
    whole = INCLUDES[:4] + ["#include <linux/memblock.h>"] + INCLUDES[4:]
    assert find_near_side(tuple(whole), ADD_INCLUDE, 20) is None
    # the line next to the new one on the other side is there (the target has lines between): held
    between = INCLUDES[:4] + ["#include <linux/memblock.h>", "#include <linux/io.h>"] + INCLUDES[4:]
    assert find_near_side(tuple(between), ADD_INCLUDE, 20) is None


def test_an_include_whose_neighbours_the_target_dropped_on_both_sides_goes_where_they_meet() -> None:
    # the target has neither memblock.h above nor crash_core.h below: slab.h and sections.h meet
    target = [x for x in INCLUDES if "crash_core" not in x]
    m = locate(target, ADD_INCLUDE)
    assert m is not None and m.anchored and m.confidence >= 0.8
    assert {d.split("'")[1] for d in m.diverged} == {"#include <linux/memblock.h>", "#include <linux/crash_core.h>"}
    out = apply(target, m)
    at = out.index("#include <linux/minmax.h>")
    assert out[at - 1:at + 2] == ["#include <linux/slab.h>", "#include <linux/minmax.h>", "#include <asm/sections.h>"]


def test_a_dropped_neighbour_the_target_has_elsewhere_is_no_frame() -> None:
    # crash_core.h is not gone, it is further up: the two sides point to different places
    target = [x for x in INCLUDES if "crash_core" not in x]
    target.insert(1, "#include <linux/crash_core.h>")
    m = locate(target, ADD_INCLUDE)
    assert m is None or not m.anchored and m.confidence < 0.8


def test_a_removed_line_whose_guard_the_target_lacks_is_replaced_in_place() -> None:
    hunk = spec("""@@ -10,7 +10,7 @@ static int foo_stream(struct foo *f)
 \tint preferred_refresh = 0;
 \tenum foo_tf tf = FOO_TF_UNKNOWN;
 #if defined(CONFIG_FOO_FP)
-\tstruct foo_dsc_caps dsc_caps;
+\tstruct foo_dsc_caps dsc_caps = {0};
 #endif
 \tuint32_t link_bandwidth_kbps;
 \tstruct dc_link *link = NULL;
""")
    target = ["static int foo_stream(struct foo *f)", "{", "\tint mode_refresh;", "\tint preferred_refresh = 0;",
              "\tenum foo_tf tf = FOO_TF_UNKNOWN;", "\tstruct foo_dsc_caps dsc_caps;",
              "\tuint32_t link_bandwidth_kbps;", "\tstruct dc_link *link = NULL;", "", "\treturn 0;", "}"]
    m = locate(target, hunk)
    assert m is not None and m.anchored and m.confidence >= 0.8
    assert apply(target, m)[5] == "\tstruct foo_dsc_caps dsc_caps = {0};"


def test_an_indented_insertion_wants_the_other_side_confirmed_by_an_exact_line() -> None:
    # inside a function whose remaining body the target writes otherwise: the new call may not
    # belong there at all (the target does the same work another way), so no one-sided place
    hunk = spec("""@@ -10,6 +10,7 @@ void foo_mark_dead(struct foo *foo)
  */
 void foo_mark_dead(struct foo *foo)
 {
+\tfoo_flag_set(FOO_DYING, foo->queue);
 \t__foo_mark_dead(foo);
 \tfoo_report_dead(foo, true);
 }
""")
    target = ["/*", " * foo_mark_dead - mark it", " */", "void foo_mark_dead(struct foo *foo)", "{",
              "\tset_bit(FOO_DEAD, &foo->state);", "\tfoo_start_drain(foo->queue);", "\tfoo_wake(foo);", "}"]
    m = locate(target, hunk)
    assert m is None or not m.anchored and m.confidence < 0.8


def test_a_new_comment_above_an_item_the_target_lacks_is_no_one_sided_place() -> None:
    # the comment speaks of the function below it upstream, which the target does not have
    hunk = spec("""@@ -66,6 +66,7 @@ int foo_die_to_segment(int die)
 \treturn bus ? pci_domain_nr(bus) : -EINVAL;
 }

+/* Note: This API can only be used when NUMA information is available. */
 int foo_device_to_die(struct pci_dev *dev)
 {
 \tint node = pcibus_to_node(dev->bus);
""")
    target = ["int foo_die_to_segment(int die)", "{", "\tstruct pci_bus *bus = NULL;", "",
              "\treturn bus ? pci_domain_nr(bus) : -EINVAL;", "}", "", "static void foo_free_map(void)", "{", "}"]
    m = locate(target, hunk)
    assert m is None or not m.anchored and m.confidence < 0.8


def test_a_loose_pairing_is_rebuilt_from_the_frames_only_inside_its_lines_and_never_for_3way() -> None:
    target = [x for x in INCLUDES if "crash_core" not in x]
    t = tuple(target)
    # fuzzy paired the includes one line off, over the right lines: the frames rewrite it in place
    off = Match("fuzzy", 2, 6, tuple(target[2:5]) + ("#include <linux/minmax.h>",) + tuple(target[5:6]), 0.7, 4)
    out = anchor(off, ADD_INCLUDE, t)
    assert out.anchored and apply(target, out)[4] == "#include <linux/minmax.h>"
    # a 3-way Match is the base's mapping: the frames never move it
    assert not anchor(replace(off, method="3way"), ADD_INCLUDE, t).anchored
    # the frames' place outside the lines the Match replaces: not this Match's place
    far = Match("fuzzy", 5, 7, tuple(target[5:7]) + ("#include <linux/minmax.h>",), 0.7, 4)
    assert not anchor(far, ADD_INCLUDE, t).anchored
