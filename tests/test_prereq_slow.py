"""--with-prereqs on the real Debian trees: a fix written on 6.12 that calls list_count_nodes()
(a static inline of include/linux/list.h since v6.3) gets it as a patch of its own on 6.1,
placed after its upstream neighbour, and `git apply --check` takes both patches in order."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backport.cli import main

TREES = Path(os.path.expanduser("~/.cache/kbench/trees"))
TARGET, UPSTREAM = TREES / "6.1.187-1", TREES / "6.12.107-1~deb12u1"

pytestmark = pytest.mark.slow

FIX = """\
From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001
From: Test Person <test@example.org>
Date: Mon, 2 Dec 2024 10:00:00 +0100
Subject: [PATCH] lib/list_sort: warn on huge lists

Signed-off-by: Test Person <test@example.org>
---
 lib/list_sort.c | 2 ++
 1 file changed, 2 insertions(+)

diff --git a/lib/list_sort.c b/lib/list_sort.c
--- a/lib/list_sort.c
+++ b/lib/list_sort.c
@@ -190,6 +190,8 @@ void list_sort(void *priv, struct list_head *head, list_cmp_func_t cmp)
 \tif (list == head->prev)\t/* Zero or one elements */
 \t\treturn;
\x20
+\tWARN_ON_ONCE(list_count_nodes(head) > 1000000);
+
 \t/* Convert to a null-terminated singly-linked list. */
 \thead->prev->next = NULL;
\x20
"""


def test_list_count_nodes_comes_from_the_upstream_header(tmp_path, capsys):
    if not TARGET.is_dir() or not UPSTREAM.is_dir():
        pytest.fail("run ../shared/bench/get-tree.sh 6.1.187-1 and 6.12.107-1~deb12u1 first")
    fix = tmp_path / "fix.patch"
    fix.write_text(FIX)
    out = tmp_path / "out"
    rc = main(["port", str(fix), "--onto", str(TARGET), "--upstream", str(UPSTREAM), "--with-prereqs",
               "--out", str(out), "--signoff", "Porter Person <porter@example.org>"])
    capsys.readouterr()
    names = sorted(p.name for p in out.glob("0*.patch"))
    assert names == ["0001-list-add-list_count_nodes.patch", "0002-lib-list_sort-warn-on-huge-lists.patch"]
    assert rc == 0
    first = (out / names[0]).read_text()
    assert "static inline size_t list_count_nodes(struct list_head *head)" in first
    assert 'Stable-dep-of: ("lib/list_sort: warn on huge lists")' in first
    assert "list_count_nodes() from upstream include/linux/list.h:751" in " ".join(first.split())
    work = tmp_path / "work"
    work.mkdir()
    for rel in ("include/linux/list.h", "lib/list_sort.c"):
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TARGET / rel, work / rel)
    for name in names:
        r = subprocess.run(["git", "apply", str(out / name)], cwd=work, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    header = (work / "include/linux/list.h").read_text()
    assert header.index("list_count_nodes(struct") < header.index("list_entry_is_head(pos, head, member)")
