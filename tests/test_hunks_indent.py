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


# upstream has a function per command; the older tree dispatches both in one switch
CASE_TARGET = ["static long rw_hint(struct file *file, unsigned int cmd, unsigned long arg)", "{",
               "\tu64 __user *argp = (u64 __user *)arg;", "\tu64 hint;", "", "\tswitch (cmd) {", "\tcase F_GET:",
               "\t\thint = file->hint;", "\t\tif (copy_to_user(argp, &hint, sizeof(*argp)))", "\t\t\treturn -EFAULT;",
               "\t\treturn 0;", "\tcase F_SET:", "\t\tif (copy_from_user(&hint, argp, sizeof(hint)))",
               "\t\t\treturn -EFAULT;", "\t\tif (!hint_valid(hint))", "\t\t\treturn -EINVAL;", "\t\tfile->hint = hint;",
               "\t\treturn 0;", "\tdefault:", "\t\treturn -EINVAL;", "\t}", "}"]
CASE_HUNK = spec("""@@ -40,6 +40,9 @@ static long set_rw_hint(struct file *file, unsigned long arg)
 \tu64 __user *argp = (u64 __user *)arg;
 \tu64 hint;
\x20
+\t/* nothing is ever written to it */
+\tif (IS_IMMUTABLE(file_inode(file)))
+\t\treturn -EPERM;
 \tif (copy_from_user(&hint, argp, sizeof(hint)))
 \t\treturn -EFAULT;
 \tif (!hint_valid(hint))
""")


def test_an_insertion_goes_into_the_case_holding_its_lower_context_at_its_depth() -> None:
    m = locate(CASE_TARGET, CASE_HUNK)
    assert m is not None and m.anchored and m.confidence >= 0.8 and m.diverged
    moved, shifts, _ = reindent(CASE_HUNK, m)
    assert shifts == (1,)
    out = apply(CASE_TARGET, moved)
    assert out[11:16] == ["\tcase F_SET:", "\t\t/* nothing is ever written to it */",
                          "\t\tif (IS_IMMUTABLE(file_inode(file)))", "\t\t\treturn -EPERM;",
                          "\t\tif (copy_from_user(&hint, argp, sizeof(hint)))"]
    # the lower context after a plain block opener (no switch label) is not pinned this way
    wrapped = [ln.replace("\tcase F_SET:", "\tif (cmd == F_SET) {") for ln in CASE_TARGET]
    m = locate(wrapped, CASE_HUNK)
    assert m is None or not m.anchored or m.start != 2


def test_a_replacement_takes_the_depth_the_target_has_the_removed_line_at() -> None:
    # upstream jumps to another label from inside a branch the target does not have: the new jump
    # replaces the target's own line, one tab shallower (the neighbours disagree: the branch's })
    target = ["\terr = set_current(rng);", "\tif (err)", "\t\tgoto out_unlock;", "\t/* take a ref */",
              "\tget_rng(rng);"]
    hunk = spec("""@@ -1,5 +1,5 @@
 \t\terr = set_current(rng);
 \t\tif (err)
-\t\t\tgoto out_unlock;
+\t\t\tgoto out_list_del;
 \t}
 \tmutex_unlock(&rng_mutex);
""")
    m = locate(target, hunk)
    assert m is not None
    found = reindent(hunk, m, target[m.start:m.end])
    assert found is not None and found[1] == (-1,)
    assert "\t\tgoto out_list_del;" in found[0].replacement
    assert reindent(hunk, m) is None  # without the target's region: the neighbours alone disagree


def test_an_insertion_at_the_top_of_a_block_the_target_lacks_takes_the_depth_below() -> None:
    # upstream opens "if (!pinned) {" above the new lines; the target has no such branch: the
    # exact line below gives the depth
    target = ["\tumem->private = mr;", "\terr = store_mkey(dev, &mr->mkey);", "\tif (err)", "\t\tgoto err_dereg;",
              "\treturn &mr->ibmr;"]
    hunk = spec("""@@ -1,5 +1,9 @@
 \tumem->private = mr;
 \tif (!pinned) {
+\t\terr = create_eq(dev, &dev->eq);
+\t\tif (err)
+\t\t\tgoto err_dereg;
+
 \t\terr = store_mkey(dev, &mr->mkey);
 \t\tif (err)
 \t\t\tgoto err_dereg;
""")
    base = ["\tumem->private = mr;", "\tif (!pinned) {", "\t\terr = store_mkey(dev, &mr->mkey);", "\t\tif (err)",
            "\t\t\tgoto err_dereg;", "\t}", "\treturn &mr->ibmr;"]
    m = locate(target, hunk, base=base)
    assert m is not None and m.method == "3way"
    found = reindent(hunk, m, target[m.start:m.end])
    assert found is not None and found[1] == (-1,)
    out = apply(target, found[0])
    assert out[1:5] == ["\terr = create_eq(dev, &dev->eq);", "\tif (err)", "\t\tgoto err_dereg;", ""]
