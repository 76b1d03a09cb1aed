"""Properties of the engine on random small files and hunks: it never raises, stays in bounds,
scores in [0, 1], and a clean exact placement reproduces the hunk's post-image."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hunks.cascade import locate
from hunks.order import locate_file
from hunks.types import HunkSpec

LINE = st.sampled_from(["", "}", "{", "\treturn 0;", "\tint err;", "\terr = setup(d);", "\tif (err)",
                        "\t\tgoto out;", "static int f(void)", "out:", "\tkfree(p);", "/* note */",
                        "\tp->x = 1;", "\tp->x  =  1;", "\tvendor();", "#include <linux/io.h>"])
TARGET = st.lists(LINE, min_size=0, max_size=60)


@st.composite
def hunks(draw: st.DrawFn) -> HunkSpec:
    n = draw(st.integers(1, 9))
    kinds = tuple(draw(st.sampled_from([" ", " ", "-", "+"])) for _ in range(n))
    lines = tuple(draw(LINE) for _ in range(n))
    return HunkSpec(kinds, lines, draw(st.integers(0, 70)), draw(st.sampled_from(["", "static int f(void)"])))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TARGET, hunks(), st.booleans())
def test_locate_is_total_and_bounded(target, spec, with_base):
    base = list(target[::-1]) if with_base else None
    m = locate(target, spec, base=base)
    if m is None:
        return
    assert 0 <= m.start <= m.end <= len(target)
    assert 0.0 <= m.confidence <= 1.0
    assert all(0.0 <= c.score <= 1.0 for c in m.alternatives)
    if m.method == "already-applied":
        assert m.replacement == tuple(target[m.start:m.end])
    if m.method == "exact" and spec.old:
        assert tuple(target[m.start:m.end]) == spec.old and m.replacement == spec.new


@settings(max_examples=100, deadline=None)
@given(TARGET, st.lists(hunks(), min_size=1, max_size=4))
def test_locate_file_is_total(target, specs):
    out = locate_file(target, specs)
    assert len(out) == len(specs)
    for m in out:
        assert m is None or 0 <= m.start <= m.end <= len(target)
