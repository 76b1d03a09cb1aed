"""hunks.statement: a statement upstream and the target wrap over lines differently (synthetic
miniatures: a condition upstream grew, a parameter list broken elsewhere, a call rewritten whole)."""

from __future__ import annotations

from test_pipeline_statement import FIX
from test_pipeline_statement import LOOP as LOOP_TEXT

from hunks.cascade import locate
from hunks.statement import merge, restatements, units
from hunks.types import HunkSpec


def spec(text: str, start: int = 1) -> HunkSpec:
    kinds, lines = [], []
    for ln in text.split("\n"):
        kinds.append(ln[:1])
        lines.append(ln[1:])
    return HunkSpec(tuple(kinds), tuple(lines), start)


def apply(target: list[str], s: HunkSpec) -> list[str]:
    m = locate(target, s)
    assert m is not None and not m.ambiguous and not m.unsafe, m
    return target[:m.start] + list(m.replacement) + target[m.end:]


def test_units_join_open_parentheses_and_trailing_operators():
    lines = ["\tif (a &&", "\t    b)", "\t\tbreak;", "", "\tx = f(1,", "\t      2);", "#ifdef X", "\t/* c */",
             "\ty = a +", "\t    b;"]
    assert units(lines) == ((0, 2), (2, 3), (3, 4), (4, 6), (6, 7), (7, 8), (8, 10))
    # labels end their line: case labels of a switch are no statement wrapped over lines
    assert units(["\tcase A:", "\tcase B:", "\t\tmemcpy(d, s, n);", "out:", "\treturn 0;"]) == (
        (0, 1), (1, 2), (2, 3), (3, 4), (4, 5))


# upstream grew a condition in front of the call the hunk renames; the target has the call alone
# (the miniature of test_pipeline_statement, as hunks see it)
LOOP = LOOP_TEXT.split("\n")[:-1]
LOOP_FIX = spec(FIX.split(" @@ ", 1)[1].split("\n", 1)[1].rstrip("\n"), 8)


def test_a_renamed_call_is_carried_onto_the_targets_one_line_statement():
    assert locate(LOOP, LOOP_FIX) is None or locate(LOOP, LOOP_FIX).unsafe  # line-level: the removed line is not there
    found, _ = restatements(LOOP_FIX, LOOP, 7)
    assert len(found) == 1
    r = found[0]
    assert r.line == 8 and r.target == ("\t\tif (!rec_old_disable(mod, p))",)
    assert r.port == ("\t\tif (!rec_nop_init(mod, p))",)
    assert r.carried == ("rec_old_disable -> rec_nop_init",)
    assert r.kept == ("!IS_ENABLED(CONFIG_NOP_CALLS) && -> (nothing)",)
    out = apply(LOOP, r.spec)
    assert out == LOOP[:8] + ["\t\tif (!rec_nop_init(mod, p))"] + LOOP[9:]


# the target's prototype lacks a parameter upstream has and wraps the rest otherwise
SETUP = [
    " * @size: size of the job data",
    " */",
    "struct queue *setup_queue(struct device *dev, const char *name,",
    "\t\tjob_fn *fn, timeout_fn *timeout, int size)",
    "{",
    "\tstruct set *set;",
]
SETUP_FIX = spec("""\
  * @size: size of the job data
+ * @len: size of the reply
  */
 struct queue *setup_queue(struct device *dev, const char *name,
 \t\tstruct limits *lim, job_fn *fn,
-\t\ttimeout_fn *timeout, int size)
+\t\ttimeout_fn *timeout, int size,
+\t\tunsigned int len)
 {
 \tstruct set *set;""")


def test_an_added_parameter_goes_onto_the_targets_own_lines():
    found, _ = restatements(SETUP_FIX, SETUP, 0)
    assert len(found) == 1
    out = apply(SETUP, found[0].spec)
    assert out == [" * @size: size of the job data", " * @len: size of the reply", " */",
                   "struct queue *setup_queue(struct device *dev, const char *name,",
                   "\t\tjob_fn *fn, timeout_fn *timeout, int size,", "\t\tunsigned int len)", "{",
                   "\tstruct set *set;"]
    assert found[0].kept == ("struct limits *lim, -> (nothing)",)


# upstream rewrites a call whole (and comments it); the target passes another object and breaks
# its arguments elsewhere: upstream's layout, the target's argument
READ = [
    "\t\t\tgoto fail;",
    "\t\t}",
    "\t\terr = submit_read(use_cow ?",
    "\t\t\t\tI(inode)->cow : inode, page,",
    "\t\t\t\taddr, 0, true);",
    "\t\tif (err)",
    "\t\t\tgoto fail;",
]
READ_FIX = spec("""\
 \t\t\tgoto fail;
 \t\t}
-\t\terr = submit_read(use_cow ?
-\t\t\t\tI(inode)->cow : inode,
-\t\t\t\tfolio, addr, 0, true);
+\t\t/* read with the inode that owns the data */
+\t\terr = submit_read(inode, folio, addr, 0, true);
 \t\tif (err)
 \t\t\tgoto fail;""")


def test_a_statement_rewritten_whole_takes_upstreams_layout_and_the_targets_tokens():
    found, _ = restatements(READ_FIX, READ, 2)
    assert len(found) == 1
    out = apply(READ, found[0].spec)
    assert out == READ[:2] + ["\t\t/* read with the inode that owns the data */",
                              "\t\terr = submit_read(inode, page, addr, 0, true);"] + READ[5:]
    assert found[0].kept == ("folio -> page",)


def test_an_edit_on_tokens_the_target_writes_otherwise_is_a_reason_not_a_guess():
    # the hunk renames the very call the target writes otherwise
    target = ["\t\tif (!rec_older_off(mod, p))", "\t\t\tbreak;"]
    s = spec("""\
-\t\tif (!IS_ENABLED(CONFIG_NOP_CALLS) &&
-\t\t    !rec_old_disable(mod, p))
+\t\tif (!rec_nop_init(mod, p))
 \t\t\tbreak;""")
    found, why = restatements(s, target, 0)
    assert found == [] and any("writes otherwise" in w for w in why)
    lines, reason, _, _ = merge(["if (a &&", "    f(x))"], ["if (a &&", "    f(z))"], ["if (f(y))"], False)
    assert lines is None and "writes otherwise" in reason
    # a rename next to the tokens the target lacks is carried, spaced as the target spaces it
    lines, _, kept, carried = merge(["if (a &&", "    f(x))"], ["if (a &&", "    g(x))"], ["if (f(y))"], False)
    assert lines == ("if (g(y))",) and carried == ("f -> g",) and kept == ("a && -> (nothing)", "x -> y")


def test_a_statement_wrapped_as_upstream_wraps_it_is_left_to_the_line_level_methods():
    target = ["\tif (a &&", "\t    !old_f(mod, q))", "\t\tbreak;"]
    s = spec("""\
 \tif (a &&
-\t    !old_f(mod, p))
+\t    !new_f(mod, p))
 \t\tbreak;""")
    found, why = restatements(s, target, 0)
    assert found == [] and any("wraps the statement as upstream does" in w for w in why)


def test_a_pre_image_in_the_target_verbatim_needs_no_restating():
    s = spec("""\
 \t\tif (!IS_ENABLED(CONFIG_NOP_CALLS) &&
-\t\t    !rec_old_disable(mod, p))
+\t\t    !rec_nop_init(mod, p))""")
    target = ["\t\tif (!IS_ENABLED(CONFIG_NOP_CALLS) &&", "\t\t    !rec_old_disable(mod, p))"]
    assert restatements(s, target, 0) == ([], [])


def test_an_argument_added_next_to_arguments_the_target_merged_is_a_reason():
    # upstream passes two callbacks the target passes as one ops pointer: where the new argument
    # goes in the target's call is a guess
    target = ["\t\tif (put_op(skb, cb, &op))", "\t\t\treturn skb->len;"]
    s = spec("""\
 \t\tif (put_op(skb, cb,
+\t\t\t   it->cmd,
 \t\t\t   &it->doit,
 \t\t\t   &it->dumpit))
 \t\t\treturn skb->len;""")
    found, why = restatements(s, target, 0)
    assert found == [] and any("adds or drops an argument" in w for w in why)
