"""bench/percommit.py and bench/ctokens.py: the per-commit target overlay, its scoring, and the
``adapted/token`` definition (real pipeline on a miniature tree; no kernel tree needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import ctokens  # noqa: E402
import percommit  # noqa: E402

from backport.target import DirTree  # noqa: E402

OLD = "".join(f"int line{i};\n" for i in range(1, 31))
PRE = OLD.replace("int line5;\n", "int line5; /* pre */\n")


def _mail(body: str) -> str:
    return ("From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
            "From: A <a@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH] fix it\n\n"
            "Body.\n---\n" + body + "--\n2.43.0\n")


# changes a.c and creates new.c, which the old tree has with other content
PATCH = _mail("""\
diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -4,7 +4,7 @@
 int line4;
 int line5; /* pre */
 int line6;
-int line7;
+long line7;
 int line8;
 int line9;
 int line10;
diff --git a/new.c b/new.c
new file mode 100644
--- /dev/null
+++ b/new.c
@@ -0,0 +1 @@
+int fresh;
""")


def _case(tmp_path: Path, post_a: str, *, post_new: str | None = "int fresh;\n") -> tuple[dict, DirTree]:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.c").write_text(OLD)
    (tree / "new.c").write_text("int stale;\n")  # the old tree's file: the case says it is absent
    d = tmp_path / "set" / "c1"
    for sub, files in (("pre", {"a.c": PRE}), ("post", {"a.c": post_a, "new.c": post_new})):
        for name, text in files.items():
            if text is not None:
                (d / sub).mkdir(parents=True, exist_ok=True)
                (d / sub / name).write_text(text)
    (d / "upstream.patch").write_text(PATCH)
    (d / "meta.json").write_text(json.dumps({"label": "identical", "old_tree": "tree"}))
    (tmp_path / "set" / "MANIFEST.json").write_text(json.dumps({"cases": [{"case": "c1"}]}))
    return percommit.load_cases(tmp_path / "set", only=[])[0], DirTree(tree)


def test_pre_files_are_laid_over_the_tree_and_files_pre_lacks_are_absent(tmp_path: Path) -> None:
    case, tree = _case(tmp_path, PRE)
    from backport.ingest import load_series

    patch = load_series([str(Path(case["dir"]) / "upstream.patch")]).patches[0]
    ov, pre = percommit.case_tree(tree, case, patch)
    assert ov.read("a.c") == PRE and set(pre) == {"a.c"}
    assert ov.read("new.c") is None and not ov.exists("new.c")
    assert ov.read("Makefile") is None and tree.read("a.c") == OLD  # the tree itself is untouched


def test_every_post_file_byte_equal_is_correct(tmp_path: Path) -> None:
    case, tree = _case(tmp_path, PRE.replace("int line7;", "long line7;"))
    row = percommit.run_case(case, tree, with_base=False, checks=False)
    assert row["outcome"] == "correct" and not row["flagged"], row


def test_a_differing_file_is_wrong_and_a_file_post_lacks_is_wrong(tmp_path: Path) -> None:
    case, tree = _case(tmp_path, PRE.replace("int line7;", "long line7;"), post_new=None)
    row = percommit.run_case(case, tree, with_base=False, checks=False)
    assert row["outcome"] == "wrong"  # new.c written where post/ has none
    assert percommit.table([row], set_name="percommit", base="none").count("| 1 (100.0%) |") >= 1


def test_token_level_definition() -> None:
    up = "@@ -1,3 +1,3 @@\n a\n-\tfoo(x);\n+\tvm_flags_clear(area, VM_MAYWRITE);\n"
    same_tokens = "@@ -5,3 +5,3 @@\n a\n-\tfoo(x);\n+\tarea->vm_flags &= ~VM_MAYWRITE;\n"
    extra_line = same_tokens + "+\treturn 0;\n"
    assert ctokens.token_level(up, same_tokens)
    assert not ctokens.token_level(up, up.replace("@@ -1", "@@ -9"))  # identical: not adapted
    assert not ctokens.token_level(up, extra_line)  # a line more is not a token change
    assert ctokens.tokens("\tx = a->b >> 1; /* c */") == ("x", "=", "a", "->", "b", ">>", "1", ";", "/* c */")


def test_mined_kinds_of_substitution() -> None:
    import mine_adaptations as mine

    def kinds(x: str, y: str) -> set[str]:
        ta = ctokens.tokens(x)
        out = set()
        for op, p, q in ctokens.token_edits(x, y):
            at = mine._find(ta, p, 0) if p else mine._anchor(ta, x, y, q)
            out.add(mine.classify(p, q, op, ta[at - 1] if at else "", ta[at + len(p)] if at + len(p) < len(ta) else ""))
        return out

    assert kinds("cls = class_create(name);", "cls = class_create(THIS_MODULE, name);") == {"argument added"}
    assert kinds("t = timer_container_of(t, f);", "t = from_timer(t, f);") == {"function renamed"}
    assert "wrapper removed (e.g. READ_ONCE(x) -> x)" in kinds("t = READ_ONCE(ce->hint);", "t = ce->hint;")
    assert kinds("static void foo_remove(struct x *p)", "static int foo_remove(struct x *p)") == {
        "type changed (e.g. void -> int)"}
    assert kinds("a = p->drm_edid;", "a = p->edid;") == {"field swapped"}
