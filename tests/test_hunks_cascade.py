"""The cheap methods of the placement cascade: exact, offset, whitespace, fuzz, already-applied,
disambiguation of duplicated code, refusal of blind deletes, speed."""

from __future__ import annotations

import time

import pytest
from test_hunks_support import apply, c_file, spec

from hunks.cascade import find_applied, locate
from hunks.fuzz import find_fuzz
from hunks.removed import find_by_removed
from hunks.types import HunkSpec

BASE = c_file()
# fn_1's body starts at index 16 ("\td->field_1_0 ..."), the hunk's first line
HUNK = spec("""@@ -17,6 +17,7 @@ static int fn_1(struct dev_1 *d)
 \td->field_1_0 = compute_0(d, 10);
 \td->field_1_1 = compute_1(d, 11);
 \td->field_1_2 = compute_2(d, 12);
+\td->new = 1;
 \td->field_1_3 = compute_3(d, 13);
 \td->field_1_4 = compute_4(d, 14);
 \td->field_1_5 = compute_5(d, 15);
""")
EXPECTED = BASE[:19] + ["\td->new = 1;"] + BASE[19:]
REPLACE = spec("""@@ -17,7 +17,7 @@ static int fn_1(struct dev_1 *d)
 \td->field_1_0 = compute_0(d, 10);
 \td->field_1_1 = compute_1(d, 11);
 \td->field_1_2 = compute_2(d, 12);
-\td->field_1_3 = compute_3(d, 13);
+\td->field_1_3 = compute_3(d, 13) | FLAG;
 \td->field_1_4 = compute_4(d, 14);
 \td->field_1_5 = compute_5(d, 15);
 \treturn 0;
""")


def pad(lines: list[str], at: int, n: int) -> list[str]:
    return lines[:at] + [f"/* pad {i} */" for i in range(n)] + lines[at:]


def test_exact_at_stated_line_is_certain():
    m = locate(BASE, HUNK, hint=16)
    assert m is not None and m.method == "exact" and m.confidence == 1.0
    assert not m.ambiguous and not m.unsafe and m.fuzz == 0
    assert apply(BASE, m) == EXPECTED


def test_default_hint_is_old_start():
    m = locate(BASE, HUNK)
    assert m is not None and m.method == "exact" and m.start == 16


@pytest.mark.parametrize("shift,low,high", [(1, 0.98, 0.99), (3, 0.97, 0.99), (40, 0.96, 0.98),
                                            (900, 0.95, 0.97)])
def test_offset_confidence_falls_with_distance(shift, low, high):
    target = pad(BASE, 5, shift)
    m = locate(target, HUNK, hint=16)
    assert m is not None and m.method == "offset" and not m.ambiguous
    assert low <= m.confidence <= high
    assert f"offset +{shift}" in m.evidence[0]
    assert apply(target, m) == pad(EXPECTED, 5, shift)


def test_offset_scores_are_monotone():
    confs = [locate(pad(BASE, 5, n), HUNK, hint=16).confidence for n in (0, 1, 5, 20, 100, 1000, 5000)]
    assert confs == sorted(confs, reverse=True) and confs[0] == 1.0


def test_two_equal_copies_equally_far_are_ambiguous():
    body = HUNK.old
    target = ["int a;"] * 10 + list(body) + ["int b;"] * 10 + list(body) + ["int c;"] * 10
    # expected line exactly between the two copies
    m = locate(target, HUNK, hint=18)
    assert m is not None and m.ambiguous and m.confidence <= 0.6
    assert m.alternatives[0].start in (10, 26) and m.alternatives[0].start != m.start
    assert any("ambiguous" in e for e in m.evidence)


def test_nearer_copy_wins_but_costs_confidence():
    body = HUNK.old
    target = ["int a;"] * 10 + list(body) + ["int b;"] * 300 + list(body)
    m = locate(target, HUNK, hint=10)
    assert m is not None and m.start == 10 and not m.ambiguous
    assert 0.9 < m.confidence < 1.0 and m.alternatives[0].start == 316


def test_section_header_picks_the_copy_inside_its_function():
    # the same three lines in two functions; the target is 23 lines shorter above them, so the
    # nearest copy to the stated line is the wrong one (net/sunrpc/rpcb_clnt.c, 6.12 -> 6.1)
    def fn(name: str) -> list[str]:
        return [f"static int {name}(struct net *sn)", "{", "\tint result;", "",
                "\tmap->r_addr = rpc_sockaddr2uaddr(sap, GFP_KERNEL);", "",
                "\tmsg->rpc_proc = &procs[UNSET];", "\tif (port != 0) {", "\t\tgo();", "\t}", "}", ""]
    target = ["/* head */"] * 5 + fn("register_inet4") + ["/* mid */"] * 14 + fn("register_inet6")
    hunk = spec("""@@ -33,6 +33,8 @@ static int register_inet4(struct net *sn)
 \tint result;

 \tmap->r_addr = rpc_sockaddr2uaddr(sap, GFP_KERNEL);
+\tif (!map->r_addr)
+\t\treturn -ENOMEM;

 \tmsg->rpc_proc = &procs[UNSET];
 \tif (port != 0) {
""")
    m = locate(target, hunk)
    assert m is not None and m.start == 7 and not m.ambiguous
    assert any("register_inet4" in e for e in m.evidence)
    assert m.confidence > 0.9


def test_whitespace_difference_keeps_the_targets_spelling():
    target = list(BASE)
    target[16] = "        d->field_1_0 = compute_0(d,  10);"  # spaces instead of a tab
    m = locate(target, HUNK, hint=16)
    assert m is not None and m.method == "whitespace"
    assert 0.9 < m.confidence < 1.0
    out = apply(target, m)
    assert out[16] == target[16] and out[19] == "\td->new = 1;"


def test_fuzz_ignores_a_differing_outer_context_line_and_keeps_it():
    target = tuple(BASE[:16] + ["\td->field_1_0 = compute_0(d, 10) + 1;"] + BASE[17:])
    m = find_fuzz(target, HUNK, 16, max_fuzz=2)
    assert m is not None and m.method == "fuzz" and m.fuzz == 1
    # the cascade goes on (fuzz is below GOOD) but lands on the same lines
    c = locate(target, HUNK, hint=16)
    assert c is not None and apply(target, c) == apply(target, m)
    out = apply(target, m)
    assert out[16] == target[16] and out[19] == "\td->new = 1;" and len(out) == len(target) + 1
    assert any("fuzz 1" in e for e in m.evidence)


def test_fuzz_costs_by_how_much_context_differs():
    one = list(BASE)
    one[16] = "\td->field_1_0 = other(d);"
    two = list(one)
    two[21] = "\td->field_1_5 = other(d);"
    m1, m2 = find_fuzz(tuple(one), HUNK, 16), find_fuzz(tuple(two), HUNK, 16)
    assert m1.method == m2.method == "fuzz"
    assert m2.fuzz == 2 and m1.fuzz == 1
    assert m2.confidence < m1.confidence < locate(BASE, HUNK, hint=16).confidence


def test_already_applied_is_reported_not_applied_twice():
    once = apply(BASE, locate(BASE, HUNK))
    m = locate(once, HUNK)
    assert m is not None and m.method == "already-applied"
    assert apply(once, m) == once
    assert m.confidence > 0.9
    assert find_applied(BASE, HUNK) is None  # pre-image there: not applied


def test_already_applied_deletion():
    hunk = spec("""@@ -17,7 +17,6 @@
 \td->field_1_0 = compute_0(d, 10);
 \td->field_1_1 = compute_1(d, 11);
 \td->field_1_2 = compute_2(d, 12);
-\td->field_1_3 = compute_3(d, 13);
 \td->field_1_4 = compute_4(d, 14);
 \td->field_1_5 = compute_5(d, 15);
 \treturn 0;
""")
    done = BASE[:19] + BASE[20:]
    m = find_applied(done, hunk)
    assert m is not None and m.method == "already-applied" and 0.8 < m.confidence < 0.95


def test_removed_line_that_differs_is_never_deleted_blindly():
    target = list(BASE)
    target[19] = "\td->field_1_3 = compute_3(d, 13) | OTHER_VENDOR_FLAG;"
    m = locate(target, REPLACE, hint=16)
    assert m is None or (m.unsafe and m.confidence <= 0.3)
    assert m is not None and any("differs from target" in e for e in m.evidence)


def test_removed_line_missing_from_target_is_unsafe():
    target = BASE[:19] + BASE[20:]
    m = locate(target, REPLACE, hint=16)
    assert m is None or (m.unsafe and m.confidence <= 0.3)


def test_unplaceable_hunk_returns_none():
    hunk = spec(""" nothing like this
-exists anywhere
+in the target file
 at all
""")
    assert locate(BASE, hunk) is None


def test_new_file_and_empty_preimage():
    new = HunkSpec(("+", "+"), ("a", "b"), 0)
    m = locate([], new)
    assert m is not None and m.method == "exact" and m.replacement == ("a", "b")
    m2 = locate(["a", "b"], new)
    assert m2 is not None and m2.method == "already-applied"
    assert locate(["other"], new) is None


def test_exact_and_offset_are_fast_on_a_10k_line_file():
    big = c_file(1000)  # 11k lines
    assert len(big) > 10000
    target = pad(big, 5, 37)
    locate(target, HUNK, hint=16)  # warm the per-target index
    t0 = time.perf_counter()
    for _ in range(20):
        m = locate(target, HUNK, hint=16)
    per_hunk = (time.perf_counter() - t0) / 20
    assert m is not None and m.method == "offset"
    assert per_hunk < 0.05


def test_same_fix_with_other_context_is_not_added_twice():
    # the target got the same new line from another branch, and a context line differs too:
    # fuzz alone would insert it a second time
    target = list(EXPECTED)
    target[17] = "\td->field_1_1 = compute_1(d, 11) ^ 1;"
    m = locate(target, HUNK, hint=16)
    assert m is not None and m.method == "already-applied"
    assert apply(target, m) == target and m.confidence <= 0.75
    assert any("already" in e for e in m.evidence)


@pytest.mark.parametrize("edge", ["start", "end"])
def test_hunk_at_file_edge_prefers_the_copy_at_the_edge(edge):
    block = ["#ifndef X", "#define X", "", "int a;", "int b;", "int c;"]
    if edge == "start":
        hunk = spec("@@ -1,5 +1,6 @@\n #ifndef X\n+/* guard */\n #define X\n \n int a;\n int b;\n")
        target = block + ["", "/* middle */"] + block + ["/* tail */"] * 3
        want = 0
    else:
        hunk = spec("@@ -4,5 +4,6 @@\n \n int a;\n int b;\n int c;\n+int d;\n #endif\n")
        block = block + ["#endif"]
        target = ["/* head */"] * 3 + block + ["/* middle */"] + block + [""]
        want = len(target) - 1 - 5
    m = locate(target, hunk, hint=3)
    assert m is not None and m.start == want and not m.ambiguous


def test_partly_present_new_lines_cap_a_loose_placement():
    hunk = spec("""@@ -17,6 +17,9 @@ static int fn_1(struct dev_1 *d)
 \td->field_1_0 = compute_0(d, 10);
 \td->field_1_1 = compute_1(d, 11);
 \td->field_1_2 = compute_2(d, 12);
+\td->first_new_field = init_first(d);
+\td->second_new_field = init_second(d);
+\td->third_new_field = init_third(d);
 \td->field_1_3 = compute_3(d, 13);
 \td->field_1_4 = compute_4(d, 14);
 \td->field_1_5 = compute_5(d, 15);
""")
    # another branch brought two of the three lines, and a context line differs
    target = BASE[:19] + ["\td->first_new_field = init_first(d);", "\td->second_new_field = init_second(d);"] \
        + BASE[19:]
    target[16] = "\td->field_1_0 = compute_0(d, 10) | 1;"
    m = locate(target, hunk, hint=16)
    assert m is not None and m.confidence <= 0.7
    assert any("already near" in e or "already" in e for e in m.evidence)


def test_invalid_kinds_are_refused():
    with pytest.raises(ValueError):
        locate(BASE, HunkSpec(("x",), ("line",), 1))


def test_crlf_target_gets_crlf_new_lines():
    target = [x + "\r" for x in BASE]
    m = locate(target, HUNK, hint=16)
    assert m is not None and m.method == "whitespace"
    out = apply(target, m)
    assert out[19] == "\td->new = 1;\r" and all(x.endswith("\r") for x in out)


def test_context_free_insertion_is_never_confident():
    add = HunkSpec(("+",), ("\tnew_call(d);",), 19)  # a -U0 hunk: insert after line 19
    m = locate(BASE, add)
    assert m is not None and m.start == 19 and m.ambiguous and m.confidence <= 0.5
    again = locate(apply(BASE, m), add)
    assert again is not None and again.method == "already-applied" and again.confidence < 0.8


def test_a_moved_removed_line_is_found_by_it_and_its_one_exact_neighbour():
    # the includes were re-sorted in the target: the removed line and the include right below it
    # are still there in a row (hunks.anchored._one_side), the other side is named as diverged
    target = ["/* header */", "#include <linux/clk.h>", "#include <linux/delay.h>", "#include <linux/io.h>",
              "#include <linux/reset.h>", "#include <crypto/internal/rng.h>", "#include <crypto/internal/skcipher.h>",
              "", '#include "sun8i-ss.h"']
    hunk = spec("""@@ -11,7 +11,6 @@
  */

 #include <crypto/engine.h>
-#include <crypto/internal/rng.h>
 #include <crypto/internal/skcipher.h>
 #include <linux/clk.h>
 #include <linux/delay.h>
""")
    m = locate(target, hunk)
    assert m is not None and not m.unsafe and m.anchored and m.confidence >= 0.8
    assert apply(target, m) == target[:5] + target[6:]
    assert any("crypto/engine.h" in d for d in m.diverged)


def test_removed_line_occurring_twice_is_no_anchor():
    target = ["#include <a.h>", "#include <x.h>", "int a;", "#include <x.h>", "int b;"]
    hunk = spec(" #include <q.h>\n-#include <x.h>\n #include <r.h>\n")
    assert find_by_removed(tuple(target), hunk, 0) is None
    m = locate(target, hunk)
    assert m is None or m.confidence < 0.8  # whatever else finds it, never above the bar


def test_a_kconfig_entry_using_a_symbol_the_target_lacks_is_no_less_placed():
    # upstream's Kconfig defines FEATURE_X, the older target does not: in C that would be a
    # missing prerequisite (capped), in Kconfig an undefined symbol is legal (evaluates to n)
    entries = ["config FOO_ERRATUM_1", "\tbool \"Erratum 1\"", "\tdefault y", "\thelp", "\t  Erratum one.", "",
               "\t  If unsure, say Y.", "", "config BAR_ERRATUM_2", "\tbool \"Erratum 2\"", "\tdefault y", ""]
    base = ["config FEATURE_X", "\tbool \"Feature X\"", ""] + entries
    target = ["config OTHER", "\tbool \"Other\"", ""] * 40 + entries
    hunk = spec("""@@ -9,6 +9,12 @@ config FOO_ERRATUM_1
\x20
 \t  If unsure, say Y.
\x20
+config FOO_ERRATUM_3
+\tbool "Erratum 3"
+\tdepends on FEATURE_X
+\tdefault y
+
+
 config BAR_ERRATUM_2
 \tbool "Erratum 2"
 \tdefault y
""")
    m = locate(target, hunk, base=base, language="kconfig")
    assert m is not None and m.start == 120 + 5 and m.confidence >= 0.8
    # in C, a name upstream's file defines and the target lacks keeps the cap
    c_base = ["#define FEATURE_X 1", "", "static int a(void)", "{", "\treturn 1;", "}", "",
              "static int b(void)", "{", "\treturn 2;", "}"]
    c_target = ["static int z(void)", "{", "\treturn 0;", "}", ""] * 30 + c_base[2:]
    c_hunk = spec("""@@ -3,4 +3,5 @@
 static int a(void)
 {
+\tif (FEATURE_X)
 \treturn 1;
 }
""")
    capped = locate(c_target, c_hunk, base=c_base, language="c")
    assert capped is not None and capped.start == 150 and capped.confidence < 0.8
