"""pipeline._judge on anchored placements: context that differs away from an exactly anchored
change is applied with one context-diverged warning (with or without the upstream base);
differing context next to the change, or API drift, is held back or flagged."""

from __future__ import annotations

from pathlib import Path

from backport.model import Patch, PortOptions, Severity, Status
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

UPSTREAM = """\
#include <linux/kernel.h>

static int foo_probe(struct foo *f)
{
\tstruct foo_priv *priv = f->priv;
\tint ret;

\tpriv->stamp = ktime_get_real_seconds();
\tpriv->count = 0;
\tret = foo_hw_init(priv);
\tif (ret)
\t\treturn ret;
\tfoo_enable_irq(priv);
\treturn 0;
}
"""

FIX = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -8,6 +8,7 @@ static int foo_probe(struct foo *f)
 \tpriv->stamp = ktime_get_real_seconds();
 \tpriv->count = 0;
 \tret = foo_hw_init(priv);
+\tfoo_trace_init(priv);
 \tif (ret)
 \t\treturn ret;
 \tfoo_enable_irq(priv);
"""

PATH = "drivers/foo/foo.c"


def _port(target: str, fix: str = FIX, upstream: str | None = None, adapt: bool = True):
    patch = Patch(subject="foo: trace init", files=parse_diff(fix, origin="fix.patch"), diff_text=fix)
    return port_patch(patch, MemoryTree({PATH: target}),
                      options=PortOptions(checks=False, upstream=upstream, adapt=adapt))


def _codes(r, code: str) -> list:
    return [f for f in r.findings if f.code == code]


def test_differing_timestamp_line_away_from_the_change_is_a_warning_not_a_refusal() -> None:
    target = UPSTREAM.replace("ktime_get_real_seconds()", "get_seconds()")
    r = _port(target)
    (p,) = r.placements
    assert p.applied and p.confidence >= 0.8
    (f,) = _codes(r, "context-diverged")
    assert f.severity is Severity.WARNING and any("ktime_get_real_seconds" in e for e in f.evidence)
    assert r.status is Status.REVIEW
    new = dict(r.new_files)[PATH]
    assert "\tret = foo_hw_init(priv);\n\tfoo_trace_init(priv);\n" in new and "get_seconds();" in new


def test_with_the_base_one_context_diverged_per_hunk(tmp_path: Path) -> None:
    up = tmp_path / "upstream"
    (up / "drivers/foo").mkdir(parents=True)
    (up / PATH).write_text(UPSTREAM)
    r = _port(UPSTREAM.replace("ktime_get_real_seconds()", "get_seconds()"), upstream=str(up))
    (p,) = r.placements
    assert p.applied and len(_codes(r, "context-diverged")) == 1


def test_api_drift_is_held_back_unless_adapted() -> None:
    # the new line uses what the differing context called, which the target's file never does:
    # not anchored; held back, or (token adaptation on) written in the target's spelling, flagged
    fix = FIX.replace("+\tfoo_trace_init(priv);", "+\tpriv->start = ktime_get_real_seconds();")
    target = UPSTREAM.replace("ktime_get_real_seconds()", "get_seconds()")
    r = _port(target, fix, adapt=False)
    (p,) = r.placements
    assert not p.applied and _codes(r, "low-confidence-placement")
    r = _port(target, fix)
    (p,) = r.placements
    assert not p.applied or (_codes(r, "adapted") and "ktime_get_real_seconds" not in dict(r.new_files)[PATH])


def test_differing_line_next_to_the_change_is_held_back_or_flagged() -> None:
    r = _port(UPSTREAM.replace("\tret = foo_hw_init(priv);", "\tret = foo_hw_setup(priv, 0);"))
    (p,) = r.placements
    assert not p.applied or any("foo_hw_init" in e for f in _codes(r, "context-diverged") for e in f.evidence)
    assert r.status is not Status.CLEAN
