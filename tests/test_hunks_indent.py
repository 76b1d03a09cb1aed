"""hunks.indent: added lines take the target's nesting depth when the code around them is one
level shallower (or deeper) there; the pipeline records it as an adaptation (real port_patch)."""

from __future__ import annotations

from test_hunks_support import apply, spec

from backport.model import Patch, PortOptions
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree
from hunks.cascade import locate
from hunks.indent import reindent

# upstream reads the sample inside a branch; the older tree reads it after the if/else
UPSTREAM = ["static int read_chan(struct st *st, int *val)", "{", "\tint data;", "", "\tif (st->mode) {",
            "\t\tif (st->two) {", "\t\t\tdata = st->recv(2);", "\t\t} else {", "\t\t\tdata = st->recv(1);",
            "\t\t}", "\t\t*val = data;", "\t}", "\treturn 0;", "}"]
TARGET = ["static int read_chan(struct st *st, int *val)", "{", "\tint data;", "", "\tif (st->two) {",
          "\t\tdata = st->recv(2);", "\t} else {", "\t\tdata = st->recv(1);", "\t}", "\t*val = data;",
          "\treturn 0;", "}"]
SIGN = spec("""@@ -8,4 +8,7 @@ static int read_chan(struct st *st, int *val)
 \t\t\tdata = st->recv(1);
 \t\t}
+\t\t/* differential channels are bipolar: sign-extend */
+\t\tif (st->differential)
+\t\t\tdata = sign_extend32(data, st->bits - 1);
 \t\t*val = data;
 \t}
""")


def test_added_lines_take_the_targets_depth() -> None:
    m = locate(TARGET, SIGN)
    assert m is not None
    moved, shifts, added = reindent(SIGN, m)
    assert shifts == (-1,) and added[1] == "\tif (st->differential)"
    out = apply(TARGET, moved)
    i = out.index("\t}", 7)
    assert out[i + 1:i + 5] == ["\t/* differential channels are bipolar: sign-extend */", "\tif (st->differential)",
                                "\t\tdata = sign_extend32(data, st->bits - 1);", "\t*val = data;"]


def test_no_shift_when_the_neighbours_disagree_or_match() -> None:
    m = locate(UPSTREAM, SIGN)
    assert m is not None and reindent(SIGN, m) is None  # same depth: nothing to do
    # only the line above is shallower: the two sides disagree, upstream's depth stays
    half = TARGET[:9] + ["\t\t*val = data;"] + TARGET[10:]
    m = locate(half, SIGN)
    assert m is None or reindent(SIGN, m) is None


def test_the_port_records_the_indentation_as_an_adaptation() -> None:
    diff = ("diff --git a/drivers/iio/st.c b/drivers/iio/st.c\n--- a/drivers/iio/st.c\n+++ b/drivers/iio/st.c\n"
            + "\n".join(k + t for k, t in zip(["@@ -8,4 +8,7 @@ static int read_chan(struct st *st, int *val)"]
                                              + list(SIGN.kinds), [""] + list(SIGN.lines), strict=True)) + "\n")
    patch = Patch(subject="iio: sign-extend", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    r = port_patch(patch, MemoryTree({"drivers/iio/st.c": "\n".join(TARGET) + "\n"}),
                   options=PortOptions(checks=False))
    (p,) = r.placements
    assert p.applied and [a.kind for a in p.adaptations] == ["context"]
    assert any(f.code == "adapted" for f in r.findings)
    assert "\n\tif (st->differential)\n\t\tdata = sign_extend32" in dict(r.new_files)["drivers/iio/st.c"]
    assert "+\tif (st->differential)" in r.text
