"""3-way placement through the upstream pre-image, its conflicts, and the adaptation signals
(API drift in the context, names upstream's file defines and the target lacks)."""

from __future__ import annotations

from test_hunks_support import apply, spec

from hunks.cascade import locate
from hunks.threeway import find_threeway

UPSTREAM = ["#include <linux/io.h>", "",
            "static int helper_new(struct dev *d)", "{", "\treturn d->id;", "}", "",
            "static int probe(struct dev *d)", "{", "\tint ret;", "",
            "\tret = setup_clocks(d);", "\tif (ret)", "\t\treturn ret;", "",
            "\tret = setup_irq(d, IRQF_SHARED);", "\tif (ret)", "\t\tgoto err_clk;", "",
            "\td->ready = true;", "\treturn 0;", "err_clk:", "\tteardown_clocks(d);", "\treturn ret;", "}"]
# upstream line 16 ("ret = setup_irq") .. hunk adds a check after it
HUNK = spec("""@@ -14,7 +14,9 @@ static int probe(struct dev *d)
 \t\treturn ret;

 \tret = setup_irq(d, IRQF_SHARED);
 \tif (ret)
 \t\tgoto err_clk;
+\tif (!d->regs)
+\t\tgoto err_clk;

 \td->ready = true;
 \treturn 0;
""")


def _target(**changes: str) -> list[str]:
    """A vendor tree: no helper_new, extra vendor code above, and the given line changes."""
    t = ["#include <linux/io.h>", "#include <vendor/hacks.h>", ""] + UPSTREAM[7:]
    t = t[:6] + ["\tvendor_quirk(d);"] + t[6:]  # inside probe, above the hunk
    return [changes.get(x, x) for x in t]


def test_threeway_with_diverged_far_context_is_clean():
    target = _target(**{"\tret = setup_clocks(d);": "\tret = vendor_setup_clocks(d);"})
    m = find_threeway(tuple(target), HUNK, 13, UPSTREAM)
    assert m is not None and m.method == "3way" and not m.unsafe
    out = apply(target, m)
    i = out.index("\t\tgoto err_clk;")
    assert out[i + 1: i + 3] == ["\tif (!d->regs)", "\t\tgoto err_clk;"]


def test_threeway_keeps_target_context_changed_inside_the_hunk():
    # the target changed a context line of the hunk: fuzz-free 3-way keeps the target's version
    target = _target(**{"\tret = setup_irq(d, IRQF_SHARED);": "\tret = setup_irq(d, 0);"})
    m = locate(target, HUNK, base=UPSTREAM)
    assert m is not None and m.method == "3way" and not m.unsafe
    out = apply(target, m)
    assert "\tret = setup_irq(d, 0);" in out and "\tret = setup_irq(d, IRQF_SHARED);" not in out
    assert out.count("\tif (!d->regs)") == 1
    assert m.fuzz == 1 and 0.5 < m.confidence < 0.96
    assert any("setup_irq" in e for e in m.evidence)


def test_threeway_reports_conflict_on_removed_line_changed_by_target():
    hunk = spec("""@@ -20,4 +20,4 @@ static int probe(struct dev *d)
 \td->ready = true;
 \treturn 0;
 err_clk:
-\tteardown_clocks(d);
+\tteardown_clocks_sync(d);
""")
    target = _target(**{"\tteardown_clocks(d);": "\tvendor_teardown_clocks(d, 1);"})
    m = locate(target, hunk, base=UPSTREAM)
    assert m is None or (m.unsafe and m.confidence <= 0.3)
    assert m is not None and any("conflict" in e or "differs from target" in e for e in m.evidence)


def test_threeway_absent_preimage_in_base_gives_none():
    assert find_threeway(tuple(_target()), HUNK, 13, ["unrelated"] * 30) is None


def test_new_lines_using_a_helper_upstream_defines_and_target_lacks_are_capped():
    hunk = spec("""@@ -19,4 +19,5 @@ static int probe(struct dev *d)

 \td->ready = true;
+\td->id = helper_new(d);
 \treturn 0;
 err_clk:
""")
    target = _target()
    without = locate(target, hunk)
    assert without is not None and without.confidence > 0.9  # nothing to see without upstream
    m = locate(target, hunk, base=UPSTREAM)
    assert m is not None and m.confidence <= 0.55
    assert any("helper_new" in e and "lacks" in e for e in m.evidence)


def test_api_drift_in_context_caps_confidence():
    # the target spells the call in the context differently, and the new lines use the
    # upstream spelling: the change needs adapting (nvme_quiesce_io_queues vs nvme_stop_queues)
    hunk = spec("""@@ -14,7 +14,9 @@ static int probe(struct dev *d)
 \t\treturn ret;

 \tret = setup_irq(d, IRQF_SHARED);
 \tif (ret)
 \t\tgoto err_clk;
+\tret = setup_irq(d, IRQF_ONESHOT);
+\tif (ret)

 \td->ready = true;
 \treturn 0;
""")
    target = _target(**{"\tret = setup_irq(d, IRQF_SHARED);": "\tret = request_line(d, IRQF_SHARED);"})
    m = locate(target, hunk, base=UPSTREAM)
    assert m is not None and m.confidence <= 0.55
    assert any("setup_irq" in e and "spells differently" in e for e in m.evidence)


def test_threeway_trailing_context_keeps_indentation_of_braces():
    # a device-tree node: the target closes its parent right after it, upstream has a sibling
    base = ["\t\tparent {", "\t\t\ti2c6_sleep: i2c6-sleep {", '\t\t\t\tpins = "gpio83";', "\t\t\t\tbias-pull-up;",
            "\t\t\t};", "", "\t\t\tspi1_default: spi1-default {", '\t\t\t\tpins = "gpio53";', "\t\t\t};", "\t\t};"]
    target = ["\t\tparent {", "\t\t\ti2c6_sleep: i2c6-sleep {", '\t\t\t\tpins = "gpio83";', "\t\t\t\tbias-pull-up;",
              "\t\t\t};", "\t\t};", "", "\t\tremoteproc@4080000 {", "\t\t};"]
    hunk = spec("""@@ -3,5 +3,5 @@ i2c6_sleep: i2c6-sleep {
 \t\t\t\tpins = "gpio83";
-\t\t\t\tbias-pull-up;
+\t\t\t\tbias-disable;
 \t\t\t};

 \t\t\tspi1_default: spi1-default {
""")
    m = find_threeway(tuple(target), hunk, 2, base)
    assert m is not None and not m.unsafe
    assert apply(target, m) == target[:3] + ["\t\t\t\tbias-disable;"] + target[4:]
