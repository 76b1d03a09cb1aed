"""The ported diff keeps each applied hunk's own +/- lines (backport.portdiff), and `git am` takes it.

Two upstream hunks that land next to each other in the target (the lines between them upstream
are not in the target) re-diffed as one file pair make libgit2 pair the lines otherwise: an
inserted ``gfp_mask = ...`` above ``might_sleep();`` and the old one below it removed read as
``-might_sleep();`` ... ``+might_sleep();``, lines in no hunk of upstream's patch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from test_prereq import init_repo

from backport.cli import main
from backport.portdiff import render_file_diff

OLD = "x\ny\nz\n\tmight_sleep();\n\tmask = mask & M;\n\n\tva = alloc(mask);\nend\n"
# hunk 1 inserts two lines above might_sleep(); hunk 2 removes the mask line and the blank below it
EDITS = [(0, 4, ["x", "y", "z", "\t/* only reclaim flags */", "\tmask = mask & M;", "\tmight_sleep();"]),
         (4, 7, ["\tva = alloc(mask);"])]
NEW = "x\ny\nz\n\t/* only reclaim flags */\n\tmask = mask & M;\n\tmight_sleep();\n\tva = alloc(mask);\nend\n"


def _body(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def test_adjacent_edits_keep_their_own_lines() -> None:
    plain = render_file_diff("a.c", "a.c", OLD, NEW)
    assert "-\tmight_sleep();" in _body(plain)  # libgit2 alone pairs the mask line instead
    d = render_file_diff("a.c", "a.c", OLD, NEW, edits=EDITS)
    assert _body(d) == ["+\t/* only reclaim flags */", "+\tmask = mask & M;", "-\tmask = mask & M;", "-"]
    assert "@@ -1,8 +1,8 @@\n x\n y\n z\n+" in d


def test_edits_libgit2_agrees_with_change_nothing() -> None:
    old = "".join(f"line {i}\n" for i in range(30))
    new = old.replace("line 5\n", "line five\n").replace("line 20\n", "")
    edits = [(2, 9, [f"line {i}" if i != 5 else "line five" for i in range(2, 9)]),
             (17, 24, [f"line {i}" for i in range(17, 24) if i != 20])]
    assert render_file_diff("a", "a", old, new, edits=edits) == render_file_diff("a", "a", old, new)


def test_rendered_from_edits_round_trips_through_git_apply(tmp_path: Path) -> None:
    (tmp_path / "a.c").write_text(OLD)
    (tmp_path / "p.patch").write_text(render_file_diff("a.c", "a.c", OLD, NEW, edits=EDITS))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "apply", "p.patch"], cwd=tmp_path, check=True)
    assert (tmp_path / "a.c").read_text() == NEW


VALLOC = """\
#include <linux/slab.h>

static struct vmap_area *alloc_vmap_area(unsigned long size, gfp_t gfp_mask, int node)
{
\tstruct vmap_area *va;
\tint ret;

\tBUG_ON(!size);
\tif (unlikely(!vmap_initialized))
\t\treturn ERR_PTR(-EBUSY);

\tmight_sleep();
\tgfp_mask = gfp_mask & GFP_RECLAIM_MASK;

\tva = kmem_cache_alloc_node(vmap_area_cachep, gfp_mask, node);
\tif (unlikely(!va))
\t\treturn ERR_PTR(-ENOMEM);

\tret = setup_area(va, size);
\tif (ret)
\t\treturn ERR_PTR(ret);
\treturn va;
}
"""

# upstream masks once before both allocation paths; its old mask line sat inside `if (!va) {`,
# a node-cache path this target does not have (the shape of 6.12's alloc_vmap_area() against 6.1's)
FIX = """\
From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: A U Thor <a@example.org>
Date: Mon, 1 Jan 2024 00:00:00 +0000
Subject: [PATCH] mm: mask gfp flags before the node cache

Mask once, before either allocation path.

Signed-off-by: A U Thor <a@example.org>
---
 mm/valloc.c | 4 ++--
 1 file changed, 2 insertions(+), 2 deletions(-)

diff --git a/mm/valloc.c b/mm/valloc.c
--- a/mm/valloc.c
+++ b/mm/valloc.c
@@ -9,6 +9,8 @@ static struct vmap_area *alloc_vmap_area(unsigned long size, gfp_t gfp_mask, int node)
 \tif (unlikely(!vmap_initialized))
 \t\treturn ERR_PTR(-EBUSY);
\x20
+\t/* Only reclaim behaviour flags are relevant. */
+\tgfp_mask = gfp_mask & GFP_RECLAIM_MASK;
 \tmight_sleep();
\x20
 \t/*
@@ -16,8 +18,6 @@ static struct vmap_area *alloc_vmap_area(unsigned long size, gfp_t gfp_mask, int node)
 \t */
 \tva = node_alloc(size, node);
 \tif (!va) {
-\t\tgfp_mask = gfp_mask & GFP_RECLAIM_MASK;
-
 \t\tva = kmem_cache_alloc_node(vmap_area_cachep, gfp_mask, node);
 \t\tif (unlikely(!va))
 \t\t\treturn ERR_PTR(-ENOMEM);
--\x20
2.40.0

"""


def test_adjacent_hunks_port_keeps_hunk_lines_names_the_block_move_and_git_am_takes_it(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "mm").mkdir(parents=True)
    (tree / "mm/valloc.c").write_text(VALLOC)
    mail = tmp_path / "fix.patch"
    mail.write_text(FIX)
    out = tmp_path / "out"
    assert main(["port", str(mail), "--onto", str(tree), "--out", str(out), "-q"]) == 0
    (ported,) = sorted(out.glob("0001-*.patch"))
    body = _body(ported.read_text().split("diff --git", 1)[1].split("\n-- \n", 1)[0])
    assert body == ["+\t/* Only reclaim behaviour flags are relevant. */", "+\tgfp_mask = gfp_mask & GFP_RECLAIM_MASK;",
                    "-\tgfp_mask = gfp_mask & GFP_RECLAIM_MASK;", "-"]
    report = json.loads((out / "report.json").read_text())
    moved = [f for p in report["patches"] for f in p["findings"] if f["code"] == "block-diverged"]
    assert len(moved) == 1 and "inside `if (!va) {` (not in the target there)" in moved[0]["message"]
    assert "mm/valloc.c:13 has it further out" in moved[0]["message"]
    # the anchor says it holds on one side of the removal only (`if (!va) {` above it is not there)
    evidence = [e for p in report["patches"] for f in p["findings"] if f["code"] == "context-diverged"
                and "hunk 2" in f["message"] for e in f["evidence"]]
    assert any("next to each change (for a removal, on one side of it)" in e for e in evidence)
    init_repo(tree)
    subprocess.run(["git", "add", "-A"], cwd=tree, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "target"], cwd=tree, check=True)
    r = subprocess.run(["git", "am", str(ported)], cwd=tree, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (tree / "mm/valloc.c").read_text()
    assert text.count("gfp_mask = gfp_mask & GFP_RECLAIM_MASK;") == 1
    assert "\tgfp_mask = gfp_mask & GFP_RECLAIM_MASK;\n\tmight_sleep();\n\tva = kmem_cache" in text
