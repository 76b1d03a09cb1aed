"""backport.apiarity: an added call of a function the upstream base and the target define with
other parameters: one parameter the target lacks is dropped from the call (end to end with the
deps index, the upstream directory and real git apply); anything else is a call-arity finding.
Without the base, a NULL that alone fits away against the target's parameters is dropped."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backport.apiarity import _drop_arg, _dropped, _null_to_drop
from backport.model import Patch, PortOptions
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import DirTree

TARGET_H = "int deleg_return(struct inode *inode, const struct cred *cred, int issync);\n"
UPSTREAM_H = ("int deleg_return(struct inode *inode, const struct cred *cred,\n"
              "\t\t struct deleg *deleg, int issync);\n")
MORE_H = "int deleg_return(struct inode *inode, const struct cred *cred, int issync, int flags, void *cookie);\n"
SET_C = """\
#include "deleg.h"

int deleg_set(struct inode *inode, const struct cred *cred)
{
\tint ret = 0;

\tif (!inode)
\t\treturn -EINVAL;
\treturn ret;
}
"""

FIX = """\
diff --git a/fs/deleg/set.c b/fs/deleg/set.c
--- a/fs/deleg/set.c
+++ b/fs/deleg/set.c
@@ -5,5 +5,7 @@ int deleg_set(struct inode *inode, const struct cred *cred)
\x20
 \tif (!inode)
 \t\treturn -EINVAL;
+\tif (ret)
+\t\tdeleg_return(inode, cred, NULL, 0);
 \treturn ret;
 }
"""


def _tree(root: Path, header: str) -> None:
    (root / "fs" / "deleg").mkdir(parents=True, exist_ok=True)
    (root / "fs" / "deleg" / "deleg.h").write_text(header)
    (root / "fs" / "deleg" / "set.c").write_text(SET_C)


def _port(tmp_path: Path, target_h: str, *, base: bool = True, fix: str = FIX):
    _tree(tmp_path / "target", target_h)
    _tree(tmp_path / "upstream", UPSTREAM_H)
    patch = Patch(subject="deleg: return on error", files=parse_diff(fix, origin="fix.patch"), diff_text=fix)
    opts = PortOptions(checks=True, upstream=str(tmp_path / "upstream") if base else None)
    return port_patch(patch, DirTree(str(tmp_path / "target")), options=opts)


def _git_applied(tmp_path: Path, diff: str) -> str:
    """fs/deleg/set.c after real `git apply` of ``diff`` on a fresh copy of the target."""
    _tree(tmp_path / "apply", TARGET_H)
    subprocess.run(["git", "init", "-q", "apply"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply"], cwd=tmp_path / "apply", input=diff, text=True, check=True, capture_output=True)
    return (tmp_path / "apply" / "fs" / "deleg" / "set.c").read_text()


def test_the_one_parameter_the_target_lacks_is_found_by_type_and_position():
    base = ("struct inode *", "const struct cred *", "struct deleg *", "int")
    assert _dropped(base, ("struct inode *", "const struct cred *", "int")) == 2
    assert _dropped(("int", "int", "int"), ("int", "int")) is None  # any of three: a guess
    assert _dropped(base, base) is None
    line = "\t\tdeleg_return(inode, cred, NULL, 0);"
    assert _drop_arg(line, "deleg_return", 4, 2) == "\t\tdeleg_return(inode, cred, 0);"
    assert _drop_arg(line, "deleg_return", 4, 0) == "\t\tdeleg_return(cred, NULL, 0);"
    assert _drop_arg(line, "deleg_return", 4, 3) == "\t\tdeleg_return(inode, cred, NULL);"
    assert _drop_arg("\tf(a, g(b, c), d);", "f", 3, 1) == "\tf(a, d);"
    assert _drop_arg("\tf(a,", "f", 2, 1) is None  # the call continues on the next line


def test_an_added_call_drops_the_argument_the_targets_function_has_no_parameter_for(tmp_path):
    r = _port(tmp_path, TARGET_H)
    (pl,) = r.placements
    assert pl.applied
    (a,) = [a for a in pl.adaptations if a.kind == "api"]
    assert "without upstream's argument 3 (struct deleg *)" in a.summary
    assert a.evidence == ("fs/deleg/deleg.h:1: int deleg_return(struct inode *inode, const struct cred *cred, "
                          "int issync)",
                          "upstream fs/deleg/deleg.h:1: int deleg_return(struct inode *inode, const struct cred "
                          "*cred, struct deleg *deleg, int issync)")
    assert any(f.code == "adapted" for f in r.findings)
    assert "\t\tdeleg_return(inode, cred, 0);\n" in _git_applied(tmp_path, r.text)


def test_a_parameter_the_target_has_more_is_reported_not_invented(tmp_path):
    r = _port(tmp_path, MORE_H)
    (pl,) = r.placements
    assert pl.applied and not [a for a in pl.adaptations if a.kind == "api"]
    (f,) = [f for f in r.findings if f.code == "call-arity"]
    assert "deleg_return() with 4 arguments as upstream's takes" in f.message and "takes 5" in f.message


def test_without_the_upstream_base_the_null_the_target_has_no_parameter_for_is_dropped(tmp_path):
    r = _port(tmp_path, TARGET_H, base=False)
    (pl,) = r.placements
    assert pl.applied
    (a,) = [a for a in pl.adaptations if a.kind == "api"]
    assert "without upstream's argument 3 (NULL)" in a.summary and "takes 3 parameters" in a.summary
    assert a.evidence == ("fs/deleg/deleg.h:1: int deleg_return(struct inode *inode, const struct cred *cred, "
                          "int issync)",)
    assert any(f.code == "adapted" for f in r.findings)
    assert "\t\tdeleg_return(inode, cred, 0);\n" in _git_applied(tmp_path, r.text)


def test_without_the_base_only_a_null_that_alone_fits_away_is_dropped():
    head = "int deleg_return(struct inode *inode, const struct cred *cred, int issync)"
    assert _null_to_drop("\tdeleg_return(inode, cred, NULL, 0);", "deleg_return", 4, head) == 2
    assert _null_to_drop("\tdeleg_return(inode, cred, 0, NULL);", "deleg_return", 4, head) == 3
    # a value, not NULL: what the target's function lacks would be a guess
    assert _null_to_drop("\tdeleg_return(inode, cred, d, 0);", "deleg_return", 4, head) is None
    # two pointers either of which could go
    assert _null_to_drop("\tf(a, NULL, b);", "f", 3, "int f(void *x, void *y)") is None
    # an argument named like a parameter stays at it: dropping the NULL would pass cred as n
    assert _null_to_drop("\tg(cred, NULL, n);", "g", 3, "int g(int n, const struct cred *cred)") is None
    assert _null_to_drop("\tg(NULL, cred, 1);", "g", 3, "int g(const struct cred *cred, int n)") == 0


def test_without_the_upstream_base_a_value_argument_is_left_alone(tmp_path):
    r = _port(tmp_path, TARGET_H, base=False, fix=FIX.replace("cred, NULL, 0)", "cred, deleg, 0)"))
    (pl,) = r.placements
    assert pl.applied and not pl.adaptations
    assert not [f for f in r.findings if f.code == "call-arity"]
