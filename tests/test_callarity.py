"""call-arity end to end: a hunk that re-argues a call, on a target whose function still takes
the old parameters (miniature trees, real pipeline, real index, real git for the CLI)."""

from __future__ import annotations

from pathlib import Path

from test_deps import make_mbox
from test_index import write_tree
from test_prototype import _git

from backport.callarity import calls, reargued
from backport.cli import main
from backport.ingest import parse_series_bytes
from backport.model import Hunk, HunkLine, LineKind, PortOptions, Severity
from backport.pipeline import port_series

HDR = """\
#ifndef _CT_H
#define _CT_H
struct sk_buff;
struct conn;

static inline void ct_refresh(struct conn *ct, const struct sk_buff *skb, unsigned int extra)
{
}

#endif
"""
NEW_HDR = HDR.replace("struct conn *ct, const struct sk_buff *skb, unsigned int extra",
                      "struct conn *ct, unsigned int extra")
SRC = """\
#include "ct.h"

static int proto_help(struct sk_buff *skb, struct conn *ct)
{
\tint ret = 0;

\tct_refresh(ct, skb, 30 * HZ);
\treturn ret;
}
"""
NEW_SRC = SRC.replace("ct_refresh(ct, skb, 30 * HZ);", "ct_refresh(ct, 30 * HZ);")


def _port(tmp_path: Path, tree_files: dict[str, str], patches) -> list:  # noqa: ANN001
    tree = write_tree(tmp_path / "tree", tree_files)
    series = parse_series_bytes(make_mbox(patches).encode(), origin="series.mbox")
    results = port_series(series, tree, options=PortOptions(extra={"index-cache": str(tmp_path / "cache")}))
    return [f for r in results for f in r.findings if f.code == "call-arity"]


def _hunk(*lines: tuple[str, str]) -> Hunk:
    kinds = {" ": LineKind.CONTEXT, "-": LineKind.REMOVED, "+": LineKind.ADDED}
    return Hunk(1, 0, 1, 0, lines=tuple(HunkLine(kinds[k], t) for k, t in lines))


def test_calls_count_arguments_across_lines_and_skip_declarations() -> None:
    lines = ['\terr = foo(a, bar(b, c), "x, y",', "\t\t  d[1, 2]);", "static int foo(int a);",
             "\tops->foo(a);", "\tif (foo())", "\treturn foo(a, (b, c));"]
    got = list(calls(lines, [True] * len(lines)))
    assert got == [("foo", 4, 0), ("bar", 2, 0), ("foo", 0, 4), ("foo", 2, 5)]
    assert list(calls(lines, [False] * len(lines))) == []


def test_reargued_names_only_calls_whose_count_the_hunk_changes() -> None:
    h = _hunk(("-", "\tct_refresh(ct, skb, t);"), ("+", "\tct_refresh(ct, t);"),
              ("-", "\tkeep(a, b);"), ("+", "\tkeep(a, c);"), ("+", "\tnew_call(a);"))
    assert reargued(h) == {"ct_refresh": {2}}


def test_reargued_call_the_target_does_not_take_warns(tmp_path: Path) -> None:
    found = _port(tmp_path, {"include/ct.h": HDR, "net/x/proto.c": SRC},
                  [("drop skb", {"net/x/proto.c": (SRC, NEW_SRC)})])
    assert len(found) == 1
    f = found[0]
    assert f.severity is Severity.WARNING
    assert "calls ct_refresh() with 2 arguments" in f.message and "include/ct.h:6" in f.message
    assert "takes 3" in f.message


def test_definition_changed_by_the_same_patch_is_fine(tmp_path: Path) -> None:
    found = _port(tmp_path, {"include/ct.h": HDR, "net/x/proto.c": SRC},
                  [("drop skb", {"include/ct.h": (HDR, NEW_HDR), "net/x/proto.c": (SRC, NEW_SRC)})])
    assert found == []


def test_definition_changed_by_another_patch_of_the_series_is_fine(tmp_path: Path) -> None:
    found = _port(tmp_path, {"include/ct.h": HDR, "net/x/proto.c": SRC},
                  [("callers", {"net/x/proto.c": (SRC, NEW_SRC)}), ("definition", {"include/ct.h": (HDR, NEW_HDR)})])
    assert found == []


def test_macro_and_variadic_functions_are_left_alone(tmp_path: Path) -> None:
    macro = HDR.replace("#endif", "#define ct_refresh(ct, skb, t) __ct_refresh(ct, t)\n#endif")
    assert _port(tmp_path / "m", {"include/ct.h": macro, "net/x/proto.c": SRC},
                 [("drop skb", {"net/x/proto.c": (SRC, NEW_SRC)})]) == []
    variadic = HDR.replace("const struct sk_buff *skb, unsigned int extra", "...")
    src = SRC.replace("ct_refresh(ct, skb, 30 * HZ);", "ct_refresh(ct, skb, 30 * HZ, 1);")
    assert _port(tmp_path / "v", {"include/ct.h": variadic, "net/x/proto.c": src},
                 [("fewer", {"net/x/proto.c": (src, NEW_SRC)})]) == []


def test_cli_check_fails_on_warning_for_a_git_target(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    root = tmp_path / "repo"
    write_tree(root, {"include/ct.h": HDR, "net/x/proto.c": SRC})
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    mbox = tmp_path / "s.mbox"
    mbox.write_text(make_mbox([("drop skb", {"net/x/proto.c": (SRC, NEW_SRC)})]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    argv = ["check", str(mbox), "--onto", str(root), "--format", "json"]
    assert main([*argv, "--fail-on", "warning"]) == 1
    assert "call-arity" in capsys.readouterr().out
    assert main([*argv, "--fail-on", "error"]) == 0
    assert (root / "net/x/proto.c").read_text() == SRC  # the target is never modified without --apply
