"""signature-diverged end to end (no upstream base): a hunk whose ``@@`` header says upstream's
function has a parameter the changed lines use and the target's function does not have it
(miniature trees, real pipeline, real git for the CLI)."""

from __future__ import annotations

from pathlib import Path

from test_index import write_tree
from test_prototype import _git

from backport.cli import main
from backport.ingest import parse_series_bytes
from backport.model import PortOptions, Severity
from backport.pipeline import port_series

SRC = """\
#include <linux/foo.h>

static int foo_xmit(struct foo *f, int len)
{
\tint ret = 0;

\tret = foo_send(f, len);
\treturn ret;
}
"""
HDR = """\
struct foo { int flags; };
#define FOO_SYNC 1
int foo_send(struct foo *f, int len);
void foo_wait(struct foo *f);
"""
MAIL = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Dev <dev@example.org>
Date: Mon, 1 Jan 2024 00:00:00 +0000
Subject: [PATCH] foo: wait for synchronous sends

Wait for synchronous sends.

Signed-off-by: Dev <dev@example.org>
---
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -5,5 +5,7 @@ static int foo_xmit(struct foo *f, int len, unsigned int flags)
 \tint ret = 0;
{SP}
 \tret = foo_send(f, len);
+\tif (ADDED)
+\t\tfoo_wait(f);
 \treturn ret;
 }
--{SP}
2.40.0
""".replace("{SP}", " ")


def _port(tmp_path: Path, src: str, added: str) -> list:
    tree = write_tree(tmp_path / "tree", {"drivers/foo/foo.c": src})
    series = parse_series_bytes(MAIL.replace("ADDED", added).encode(), origin="s.mbox")
    results = port_series(series, tree, options=PortOptions(extra={"index-cache": str(tmp_path / "cache")}))
    assert all(pl.applied for r in results for pl in r.placements)
    return [f for r in results for f in r.findings if f.code == "signature-diverged"]


def test_hunk_using_a_parameter_the_target_lacks_warns(tmp_path: Path) -> None:
    found = _port(tmp_path, SRC, "flags & FOO_SYNC")
    assert len(found) == 1
    f = found[0]
    assert f.severity is Severity.WARNING
    assert "it uses flags, a parameter of upstream's foo_xmit()" in f.message
    assert f.evidence[1] == "drivers/foo/foo.c:3: static int foo_xmit(struct foo *f, int len)"


def test_parameter_the_hunk_does_not_use_is_fine(tmp_path: Path) -> None:
    assert _port(tmp_path, SRC, "len > 0") == []


def test_name_the_target_function_has_is_fine(tmp_path: Path) -> None:
    # the target's function knows ``flags`` another way (a local): the hunk's use resolves there
    src = SRC.replace("\tint ret = 0;\n", "\tunsigned int flags = f->flags;\n\tint ret = 0;\n")
    assert _port(tmp_path, src, "flags & FOO_SYNC") == []


def test_cli_check_fails_on_warning_for_a_git_target(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    root = tmp_path / "repo"
    write_tree(root, {"drivers/foo/foo.c": SRC, "include/linux/foo.h": HDR})
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    mbox = tmp_path / "s.mbox"
    mbox.write_text(MAIL.replace("ADDED", "flags & FOO_SYNC"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    argv = ["check", str(mbox), "--onto", str(root), "--format", "json"]
    assert main([*argv, "--fail-on", "warning"]) == 1
    assert "signature-diverged" in capsys.readouterr().out
    assert main([*argv, "--fail-on", "error"]) == 0
    assert (root / "drivers/foo/foo.c").read_text() == SRC
