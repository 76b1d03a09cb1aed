"""Placing a file's hunks together: order and spacing decide between copies of duplicated code."""

from __future__ import annotations

from test_hunks_support import apply, spec

from hunks.order import locate_file, resolve_order


def entry(name: str, irqs: int) -> list[str]:
    return [f"\t[{name}] = {{", "\t\t.addr = 0x1b,", "\t\t.age = 15000,", f"\t\t.irqs = {irqs},",
            "\t\t.g2 = 10,", "\t\t.pvt = true,", "\t},"]


HUNK = """@@ -{start},5 +{start},5 @@ static const struct info table[] = {{
 \t\t.addr = 0x1b,
 \t\t.age = 15000,
-\t\t.irqs = 8,
+\t\t.irqs = 9,
 \t\t.g2 = 10,
 \t\t.pvt = true,
"""


def test_two_identical_hunks_land_on_two_copies_in_order():
    # upstream: entries A(8) B(8) at lines 31 and 38; the target lost 20 lines above them and has
    # two more look-alike entries (C, D) further up, so "nearest copy" sends both hunks to B
    target = ["/* x */"] * 5 + entry("C", 8) + entry("D", 8) + ["/* y */"] * 5 + entry("A", 8) + entry("B", 8)
    a, b = target.index("\t[A] = {"), target.index("\t[B] = {")
    specs = [spec(HUNK.format(start=a + 22)), spec(HUNK.format(start=b + 22))]
    ms = locate_file(target, specs)
    assert [m.start for m in ms] == [a + 1, b + 1]
    assert all(not m.ambiguous and m.confidence > 0.9 for m in ms)
    assert any("in order" in e for e in ms[0].evidence)
    out = target
    for m in sorted(ms, key=lambda m: -m.start):
        out = apply(out, m)
    assert out[a + 3] == out[b + 3] == "\t\t.irqs = 9,"
    assert out.count("\t\t.irqs = 8,") == 2  # C and D untouched


def test_resolve_order_leaves_ordered_placements_alone():
    target = entry("A", 8) + entry("B", 7)
    specs = [spec(HUNK.format(start=2))]
    ms = locate_file(target, specs)
    assert resolve_order(target, specs, ms) == ms and ms[0].start == 1
