"""Fuzzy placement: rapidfuzz candidates, line alignment, the ambiguity margin, the cutoff,
keeping the target's diverged context, and the bound on work for large files."""

from __future__ import annotations

import time
from types import SimpleNamespace

from test_hunks_support import apply, c_file, spec

from hunks.align import align, build
from hunks.cascade import locate
from hunks.fuzzy import find_fuzzy, same_place
from hunks.score import similarity
from hunks.types import HunkSpec

BASE = c_file(40)
HUNK = spec("""@@ -17,6 +17,7 @@ static int fn_1(struct dev_1 *d)
 \td->field_1_0 = compute_0(d, 10);
 \td->field_1_1 = compute_1(d, 11);
 \td->field_1_2 = compute_2(d, 12);
+\td->new = 1;
 \td->field_1_3 = compute_3(d, 13);
 \td->field_1_4 = compute_4(d, 14);
 \td->field_1_5 = compute_5(d, 15);
""")


def diverged(lines: list[str]) -> list[str]:
    """fn_1 with a changed argument, a changed constant and a vendor line in its body."""
    t = list(lines)
    t[17] = "\td->field_1_1 = compute_1(d, 11, extra);"
    t[20] = "\td->field_1_4 = compute_4(d, 99);"
    t.insert(21, "\tvendor_hook(d);")
    return t


def test_similarity_tells_near_identifiers_apart():
    same = similarity("\td->field_1_0 = compute_0(d, 10);", "d->field_1_0  =  compute_0(d,10);")
    near = similarity("d->field_1_0 = compute_0(d, 10);", "d->field_10_0 = compute_0(d, 100);")
    edit = similarity("d->field_1_1 = compute_1(d, 11);", "d->field_1_1 = compute_1(d, 11, extra);")
    assert same == 1.0 and near < 0.9 and near < edit < 1.0


def test_fuzzy_places_into_diverged_context_and_keeps_it():
    target = diverged(BASE)
    m = find_fuzzy(tuple(target), HUNK, 16)
    assert m is not None and m.method == "fuzzy" and not m.unsafe and not m.ambiguous
    out = apply(target, m)
    assert out[16:24] == ["\td->field_1_0 = compute_0(d, 10);", "\td->field_1_1 = compute_1(d, 11, extra);",
                          "\td->field_1_2 = compute_2(d, 12);", "\td->new = 1;",
                          "\td->field_1_3 = compute_3(d, 13);", "\td->field_1_4 = compute_4(d, 99);",
                          "\tvendor_hook(d);", "\td->field_1_5 = compute_5(d, 15);"]
    assert m.fuzz == 2
    assert m.alternatives and m.alternatives[0].score < 0.9  # the runner-up is carried
    assert any("runner-up" in e for e in m.evidence)
    assert 0.5 < m.confidence < 0.9


def test_fuzzy_runner_up_within_margin_is_ambiguous():
    # two functions whose bodies are equally close to the hunk
    a = ["static int one(void)", "{", "\tx = alpha(1);", "\ty = beta(2);", "\tz = gamma(3);", "\treturn 0;", "}"]
    b = ["static int two(void)", "{", "\tx = alpha(1);", "\ty = beta(2);", "\tz = gamma(4);", "\treturn 0;", "}"]
    target = a + [""] * 40 + b
    hunk = spec("""@@ -3,4 +3,5 @@
 \tx = alpha(1);
 \ty = beta(2);
 \tz = gamma(5);
+\tw = delta(6);
 \treturn 0;
""")
    m = locate(target, hunk, hint=20)
    assert m is not None and m.ambiguous and m.confidence < 0.6
    assert {m.start, m.alternatives[0].start} == {2, 49}


def test_margin_zero_lets_the_better_candidate_stand():
    a = ["\tx = alpha(1);", "\ty = beta(2);", "\tz = gamma(3);", "\treturn 0;"]
    b = ["\tx = alpha(1);", "\ty = beta(7);", "\tz = gamma(8);", "\treturn 0;"]
    target = a + [""] * 30 + b
    hunk = spec(""" \tx = alpha(1);
 \ty = beta(2);
 \tz = gamma(9);
+\tw = delta(6);
 \treturn 0;
""")
    strict = find_fuzzy(tuple(target), hunk, 0, ambiguity_margin=0.5)
    loose = find_fuzzy(tuple(target), hunk, 0, ambiguity_margin=0.0)
    assert strict is not None and strict.ambiguous
    assert loose is not None and not loose.ambiguous and loose.start == 0


def test_score_cutoff_returns_none():
    target = diverged(BASE)
    assert find_fuzzy(tuple(target), HUNK, 16, score_cutoff=0.99) is None


def test_alignment_skips_target_extras_and_reports_them():
    old = ["a = 1;", "b = 2;", "c = 3;"]
    target = ["x", "a = 1;", "b = 2;", "extra();", "c = 3;", "y"]
    al = align(old, target, 0, len(target))
    assert al is not None and al.pairs == (1, 2, 4) and al.extras == 1
    built = build(spec(" a = 1;\n b = 2;\n+new();\n c = 3;"), target, al)
    assert built.replacement == ("a = 1;", "b = 2;", "new();", "extra();", "c = 3;")
    assert built.insert_ambiguous == 1 and any("does not know" in e for e in built.evidence)


def test_fuzzy_is_bounded_on_a_large_file():
    # CPU time of this process (time.process_time): a bound on work that other processes on a
    # loaded machine do not stretch
    big = diverged(c_file(1000))  # 11k lines of look-alike functions
    t0 = time.process_time()
    m = locate(big, HUNK, hint=16)
    took = time.process_time() - t0
    # fuzzy aligns it at line 16, or fuzz's anchored core at 18: the same edit either way
    assert m is not None and apply(big, m) == big[:19] + ["\td->new = 1;"] + big[19:]
    assert took < 2.0


def test_a_big_diverged_hunk_is_bounded():
    big = c_file(2000)
    old = big[1000:1400]
    spec_ = HunkSpec(tuple(" " if i % 10 else "-" for i in range(400)) + ("+",), tuple(old) + ("\tnew();",), 1001)
    target = [x + " /* v */" if 1000 <= i < 1400 and i % 7 == 0 else x for i, x in enumerate(big)]
    t0 = time.process_time()
    m = locate(target, spec_)
    assert time.process_time() - t0 < 5.0
    # removed lines the target changed: never a clean placement
    assert m is None or m.unsafe and m.confidence <= 0.3


def test_an_alignment_cut_short_by_the_hints_window_does_not_hide_the_whole_one():
    # the hint lies a few lines above the place: the window aligned around it ends inside the
    # hunk's region and starts where the full alignment (from the voted start) does
    old = ["\tint err, i;", "", "\tsi = swp_swap_info(entry);", "", "\toffset = swp_offset(entry);",
           "\tVM_WARN_ON(nr > SWAPFILE_CLUSTER - offset % SWAPFILE_CLUSTER);"]
    place = ["\tint err;", "", "\tp = swp_swap_info(entry);", "", "\toffset = swp_offset(entry);",
             "\tci = lock_cluster_or_swap_info(p, offset);"]
    target = c_file(3) + ["static int dup(swp_entry_t entry)", "{", "\tstruct swap_info_struct *p;"] + place \
        + ["\treturn 0;", "}"] + c_file(3)
    at = len(c_file(3)) + 3
    hunk = HunkSpec(tuple(" " * 3) + ("+",) * 2 + tuple(" " * 3),
                    tuple(old[:3]) + ("\tif (WARN_ON_ONCE(!si))", "\t\treturn -EINVAL;") + tuple(old[3:]))
    for hint in (at, at - 7):
        m = find_fuzzy(tuple(target), hunk, hint)
        assert m is not None and m.start == at, hint


def test_a_runner_up_that_is_the_same_region_aligned_a_few_lines_off_is_no_rival():
    def al(start: int, end: int) -> SimpleNamespace:
        return SimpleNamespace(start=start, end=end)
    assert same_place(al(48, 81), al(50, 81))  # 31 of 33 lines shared: one place
    assert not same_place(al(10, 14), al(11, 15))  # 3 of 4: a small hunk shifted by one is a rival
    assert not same_place(al(2, 7), al(49, 54))  # another function
