"""End-to-end: a hunk whose statement the target wraps otherwise is restated onto the target's
own lines (backport.restated, hunks.statement), recorded as an adaptation, and applies with
real git; a change on tokens the target writes otherwise is never applied."""

from __future__ import annotations

import pytest
from test_pipeline_tokens import _git_apply, _port

LOOP = """\
static int update(struct mod *mod, struct page *pg)
{
\tint i;

\tfor (i = 0; i < pg->n; i++) {
\t\tstruct rec *p = &pg->recs[i];

\t\t/* turn the call site into a nop */
\t\tif (!rec_old_disable(mod, p))
\t\t\tbreak;

\t\tcount++;
\t}
\treturn 0;
}
"""

UPSTREAM = LOOP.replace("\t\tif (!rec_old_disable(mod, p))\n",
                        "\t\tif (!IS_ENABLED(CONFIG_NOP_CALLS) &&\n\t\t    !rec_old_disable(mod, p))\n")

FIX = """\
diff --git a/kernel/update.c b/kernel/update.c
--- a/kernel/update.c
+++ b/kernel/update.c
@@ -8,6 +8,6 @@ static int update(struct mod *mod, struct page *pg)
 \t\t/* turn the call site into a nop */
 \t\tif (!IS_ENABLED(CONFIG_NOP_CALLS) &&
-\t\t    !rec_old_disable(mod, p))
+\t\t    !rec_nop_init(mod, p))
 \t\t\tbreak;
\x20
 \t\tcount++;
"""


@pytest.mark.parametrize("base", [True, False], ids=["with-base", "no-base"])
def test_a_call_renamed_in_a_statement_the_target_writes_on_one_line(tmp_path, base):
    r = _port(tmp_path, {"kernel/update.c": LOOP}, FIX, {"kernel/update.c": UPSTREAM} if base else None)
    (pl,) = r.placements
    assert pl.applied, r.findings
    (a,) = [a for a in pl.adaptations if "target's own statement" in a.summary]
    assert a.kind == "token" and "'rec_old_disable' -> 'rec_nop_init'" in a.summary
    assert "lacks '!IS_ENABLED(CONFIG_NOP_CALLS) &&'" in a.summary
    assert a.evidence == ("kernel/update.c:9: if (!rec_old_disable(mod, p))",)
    assert a.port == ("-\t\tif (!rec_old_disable(mod, p))", "+\t\tif (!rec_nop_init(mod, p))")
    assert [f.code for f in r.findings if f.code == "adapted"] == ["adapted"]
    assert not [f for f in r.findings if f.code in ("unplaced-hunk", "adaptation-failed", "removed-line-differs")]
    ported = LOOP.replace("rec_old_disable", "rec_nop_init")
    assert _git_apply(tmp_path, {"kernel/update.c": LOOP}, r.text, "kernel/update.c") == ported


def test_a_change_on_tokens_the_target_writes_otherwise_is_not_applied(tmp_path):
    # the hunk changes the argument the target passes otherwise: no guess
    target = LOOP.replace("rec_old_disable(mod, p)", "rec_old_disable(mod, q)")
    fix = FIX.replace("!rec_nop_init(mod, p))", "!rec_old_disable(mod, p, 0))")
    r = _port(tmp_path, {"kernel/update.c": target}, fix)
    (pl,) = r.placements
    assert not pl.applied and not pl.adaptations
    assert "rec_old_disable(mod, p, 0)" not in r.text
