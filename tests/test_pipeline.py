"""End-to-end tests of backport.pipeline on miniature kernel-like trees written here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backport.model import Method, Patch, PortOptions, Series, Severity, Status
from backport.pipeline import Overlay, port_patch, port_series, render_file_diff
from backport.series import parse_diff
from backport.target import DirTree, MemoryTree

FOO_C = """\
#include <linux/kernel.h>
#include <linux/slab.h>

static int foo_count;

static int foo_init(struct foo *f)
{
\tint ret;

\tf->buf = kmalloc(64, GFP_KERNEL);
\tif (!f->buf)
\t\treturn -ENOMEM;
\tret = foo_setup(f);
\tif (ret)
\t\tgoto err;
\tfoo_count++;
\treturn 0;
err:
\tkfree(f->buf);
\treturn ret;
}

static void foo_exit(struct foo *f)
{
\tkfree(f->buf);
\tfoo_count--;
}
"""

FIX_INIT = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -11,8 +11,10 @@ static int foo_init(struct foo *f)
 \tif (!f->buf)
 \t\treturn -ENOMEM;
 \tret = foo_setup(f);
-\tif (ret)
+\tif (ret) {
+\t\tpr_err("foo: setup failed\\n");
 \t\tgoto err;
+\t}
 \tfoo_count++;
 \treturn 0;
 err:
"""

#: the deps and kb checks are other modules' business: these tests look at placement only
OPTS = PortOptions(checks=False)


def _patch(diff: str, subject: str = "foo: report setup failure") -> Patch:
    return Patch(subject=subject, files=parse_diff(diff, origin="fix.patch"), diff_text=diff)


def _tree(files: dict[str, str]) -> MemoryTree:
    return MemoryTree(files)


def _git_apply_check(tmp_path: Path, files: dict[str, str], diff: str) -> subprocess.CompletedProcess:
    root = tmp_path / "applytree"
    for p, text in files.items():
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ported.patch").write_text(diff)
    return subprocess.run(["git", "apply", "--check", "ported.patch"], cwd=root, capture_output=True, text=True)


def test_exact_placement_is_clean_and_regenerated(tmp_path: Path) -> None:
    files = {"drivers/foo/foo.c": FOO_C}
    r = port_patch(_patch(FIX_INIT), _tree(files), options=OPTS)
    assert r.status is Status.CLEAN
    (p,) = r.placements
    assert p.method is Method.EXACT and p.path == "drivers/foo/foo.c" and p.start == 11 and p.applied
    assert p.confidence >= 0.99
    assert "@@ -11,8 +11,10 @@ static int foo_init(struct foo *f)" in r.text
    new = dict(r.new_files)["drivers/foo/foo.c"]
    assert '\t\tpr_err("foo: setup failed\\n");\n\t\tgoto err;\n\t}\n' in new
    assert _git_apply_check(tmp_path, files, r.text).returncode == 0


def test_offset_uses_target_line_numbers(tmp_path: Path) -> None:
    shifted = FOO_C.replace("static int foo_count;\n", "static int foo_count;\nstatic int bar;\nstatic int baz;\n")
    files = {"drivers/foo/foo.c": shifted}
    r = port_patch(_patch(FIX_INIT), _tree(files), options=OPTS)
    (p,) = r.placements
    assert p.method is Method.OFFSET and p.start == 13 and p.offset == 2 and p.applied
    assert r.status is Status.CLEAN
    assert "@@ -13,8 +13,10 @@ static int foo_init" in r.text
    assert _git_apply_check(tmp_path, files, r.text).returncode == 0


def test_fuzz_keeps_the_targets_own_context(tmp_path: Path) -> None:
    diverged = FOO_C.replace("\tif (!f->buf)", "\tif (f->buf == NULL)")
    files = {"drivers/foo/foo.c": diverged}
    r = port_patch(_patch(FIX_INIT), _tree(files), options=OPTS)
    (p,) = r.placements
    assert p.placed and p.method in (Method.FUZZ, Method.FUZZY)
    assert p.fuzz >= 1
    assert p.applied  # one outer context line differs: still confident
    # the target's spelling survives, upstream's kmalloc is not written back
    new = dict(r.new_files)["drivers/foo/foo.c"]
    assert "\tif (f->buf == NULL)\n" in new and "if (!f->buf)" not in new
    assert _git_apply_check(tmp_path, files, r.text).returncode == 0


def test_unplaced_hunk_goes_to_leftovers_and_blocks() -> None:
    other = "int main(void)\n{\n\treturn 0;\n}\n"
    r = port_patch(_patch(FIX_INIT), _tree({"drivers/foo/foo.c": other}), options=OPTS)
    (p,) = r.placements
    assert not p.placed and not p.applied and p.method is Method.NONE
    assert r.status is Status.BLOCKED
    assert any(f.code == "unplaced-hunk" and f.severity is Severity.ERROR for f in r.findings)
    assert "not applied" in r.leftovers and "+\t\tpr_err" in r.leftovers
    assert r.text == ""


def test_missing_file_is_unplaced() -> None:
    r = port_patch(_patch(FIX_INIT), _tree({"README": "hello\n"}), options=OPTS)
    assert r.status is Status.BLOCKED
    assert [f.code for f in r.findings] == ["unplaced-hunk"]
    assert "drivers/foo/foo.c" in r.leftovers


def test_already_applied_is_reported_not_applied_twice() -> None:
    files = {"drivers/foo/foo.c": FOO_C}
    first = port_patch(_patch(FIX_INIT), _tree(files), options=OPTS)
    patched = dict(first.new_files)
    r = port_patch(_patch(FIX_INIT), _tree(patched), options=OPTS)
    (p,) = r.placements
    assert p.method is Method.ALREADY_APPLIED and not p.applied
    assert any(f.code == "already-applied" and f.severity is Severity.NOTE for f in r.findings)
    assert r.text == "" and r.new_files == ()
    assert r.status is Status.CLEAN


AMBIG_C = "".join(
    f"static void dev{i}_stop(struct dev *d)\n{{\n\tlock(d);\n\td->state = 0;\n\tunlock(d);\n}}\n\n"
    for i in (1, 2))

AMBIG_PATCH = """\
diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -8,4 +8,5 @@
 \tlock(d);
 \td->state = 0;
+\td->flags = 0;
 \tunlock(d);
 }
"""


def test_ambiguous_placement_is_a_finding_not_applied() -> None:
    # the hunk claims line 8, equally far (5 lines) from both identical function bodies
    body = AMBIG_C.split("\n")
    text = "\n".join(body[:7] + [""] * 3 + body[7:])
    r = port_patch(_patch(AMBIG_PATCH), _tree({"a.c": text}), options=OPTS)
    (p,) = r.placements
    assert p.placed and not p.applied
    assert p.alternatives
    assert any(f.code == "ambiguous-placement" for f in r.findings)
    assert r.status is Status.REVIEW
    assert r.text == "" and "as well as" in r.leftovers


def test_deleted_line_that_differs_is_never_deleted_blindly() -> None:
    diff = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -23,5 +23,4 @@ static void foo_exit(struct foo *f)
 static void foo_exit(struct foo *f)
 {
 \tkfree(f->buf);
-\tfoo_count -= 1;
 }
"""
    r = port_patch(_patch(diff), _tree({"drivers/foo/foo.c": FOO_C}), options=OPTS)
    (p,) = r.placements
    assert not p.applied
    assert "foo_count--" in FOO_C and r.text == ""
    assert r.status is not Status.CLEAN


MOVED_H = """\
#ifndef FOO_HELPERS_H
#define FOO_HELPERS_H

static inline int foo_check(struct foo *f)
{
\tif (!f)
\t\treturn -EINVAL;
\treturn 0;
}

#endif
"""

CHECK_PATCH = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -40,7 +40,7 @@ static inline int foo_check(struct foo *f)
 {
 \tif (!f)
 \t\treturn -EINVAL;
-\treturn 0;
+\treturn f->ready ? 0 : -EAGAIN;
 }
@BLANK@
 static int foo_probe(void)
""".replace("@BLANK@", " ")


def test_hunk_relocated_into_another_file(tmp_path: Path) -> None:
    files = {"drivers/foo/foo.c": FOO_C, "drivers/foo/foo_helpers.h": MOVED_H}
    tree = _tree(files)
    r = port_patch(_patch(CHECK_PATCH), tree, options=OPTS)
    (p,) = r.placements
    assert p.path == "drivers/foo/foo_helpers.h" and p.applied
    assert any(f.code == "relocated-hunk" and f.severity is Severity.WARNING for f in r.findings)
    assert "diff --git a/drivers/foo/foo_helpers.h b/drivers/foo/foo_helpers.h" in r.text
    assert "f->ready ? 0 : -EAGAIN" in dict(r.new_files)["drivers/foo/foo_helpers.h"]
    assert _git_apply_check(tmp_path, files, r.text).returncode == 0


def test_renamed_file_is_found_by_its_basename() -> None:
    tree = _tree({"drivers/legacy/foo/foo.c": FOO_C})
    r = port_patch(_patch(FIX_INIT), tree, options=OPTS)
    (p,) = r.placements
    assert p.path == "drivers/legacy/foo/foo.c" and p.applied
    assert any(f.code == "relocated-file" for f in r.findings)
    assert r.status is Status.REVIEW


def test_three_way_base_flags_diverged_context(tmp_path: Path) -> None:
    base = tmp_path / "upstream"
    (base / "drivers/foo").mkdir(parents=True)
    (base / "drivers/foo/foo.c").write_text(FOO_C)
    # the target changed the function the hunk lives in, away from the hunk's own lines
    target = FOO_C.replace("\tkfree(f->buf);\n\treturn ret;", "\tkfree(f->buf);\n\tf->buf = NULL;\n\treturn ret;")
    r = port_patch(_patch(FIX_INIT), _tree({"drivers/foo/foo.c": target}),
                   options=PortOptions(upstream=str(base), checks=False))
    (p,) = r.placements
    assert p.applied and p.method is Method.EXACT
    div = [f for f in r.findings if f.code == "context-diverged"]
    assert div and div[0].severity is Severity.WARNING
    assert any("f->buf = NULL;" in e for e in div[0].evidence)
    assert r.status is Status.REVIEW
    # without divergence the same base gives a clean result
    r2 = port_patch(_patch(FIX_INIT), _tree({"drivers/foo/foo.c": FOO_C}),
                    options=PortOptions(upstream=str(base), checks=False))
    # (a note: the patch has no index line, so the plain directory's file is an unverified base)
    assert r2.status is Status.CLEAN and [f.code for f in r2.findings] == ["upstream-base"]
    assert r2.findings[0].severity is Severity.NOTE and "approximate 3-way base" in r2.findings[0].message


def test_identifier_known_upstream_but_absent_in_target(tmp_path: Path) -> None:
    base = tmp_path / "upstream"
    (base / "drivers/foo").mkdir(parents=True)
    upstream_c = FOO_C.replace("static int foo_count;\n", "static int foo_count;\nstatic bool foo_verbose;\n")
    (base / "drivers/foo/foo.c").write_text(upstream_c)
    diff = FIX_INIT.replace('+\t\tpr_err("foo: setup failed\\n");', '+\t\tif (foo_verbose)\n+\t\t\tpr_err("x");')
    diff = diff.replace("@@ -11,8 +11,10 @@", "@@ -12,8 +12,11 @@")
    r = port_patch(_patch(diff), _tree({"drivers/foo/foo.c": FOO_C}), options=PortOptions(upstream=str(base), checks=False))
    assert any(f.code == "missing-identifier" and "foo_verbose" in f.message for f in r.findings)


def test_series_patch_two_sees_patch_one() -> None:
    second = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -13,7 +13,7 @@ static int foo_init(struct foo *f)
 \tret = foo_setup(f);
 \tif (ret) {
 \t\tpr_err("foo: setup failed\\n");
-\t\tgoto err;
+\t\tgoto err_free;
 \t}
 \tfoo_count++;
 \treturn 0;
"""
    series = Series(patches=(_patch(FIX_INIT), _patch(second, "foo: rename label")))
    tree = _tree({"drivers/foo/foo.c": FOO_C})
    r1, r2 = port_series(series, tree, options=OPTS)
    assert r1.status is Status.CLEAN and r2.status is Status.CLEAN
    assert "goto err_free;" in dict(r2.new_files)["drivers/foo/foo.c"]
    assert 'pr_err("foo: setup failed\\n");' in dict(r2.new_files)["drivers/foo/foo.c"]
    assert tree.files["drivers/foo/foo.c"] == FOO_C  # the tree itself is never modified


def test_new_and_deleted_files_and_no_newline(tmp_path: Path) -> None:
    diff = """\
diff --git a/drivers/foo/new.h b/drivers/foo/new.h
new file mode 100644
--- /dev/null
+++ b/drivers/foo/new.h
@@ -0,0 +1,2 @@
+#define FOO_NEW 1
+#define FOO_OLD 0
\\ No newline at end of file
diff --git a/drivers/foo/gone.c b/drivers/foo/gone.c
deleted file mode 100644
--- a/drivers/foo/gone.c
+++ /dev/null
@@ -1,2 +0,0 @@
-int gone;
-int gone2;
"""
    files = {"drivers/foo/gone.c": "int gone;\nint gone2;\n", "drivers/foo/foo.c": FOO_C}
    r = port_patch(_patch(diff), _tree(files), options=OPTS)
    assert r.status is Status.CLEAN, r.findings
    nf = dict(r.new_files)
    assert nf["drivers/foo/new.h"] == "#define FOO_NEW 1\n#define FOO_OLD 0"
    assert nf["drivers/foo/gone.c"] is None
    assert "\\ No newline at end of file" in r.text
    assert _git_apply_check(tmp_path, files, r.text).returncode == 0


def test_dir_tree_and_overlay_read_lazily(tmp_path: Path) -> None:
    (tmp_path / "drivers/foo").mkdir(parents=True)
    (tmp_path / "drivers/foo/foo.c").write_text(FOO_C)
    tree = DirTree(tmp_path)
    ov = Overlay(tree)
    ov.update((("drivers/foo/foo.c", "changed\n"), ("x.c", "new\n")))
    assert ov.read("drivers/foo/foo.c") == "changed\n" and ov.exists("x.c")
    assert "x.c" in list(ov.iter_paths())
    assert (tmp_path / "drivers/foo/foo.c").read_text() == FOO_C


def test_render_file_diff_round_trips_through_git_apply(tmp_path: Path) -> None:
    old = "a\nb\nc\nd\ne\nf\ng\nh\n"
    new = "a\nb\nC\nd\ne\nf\ng\nh\ni"
    d = render_file_diff("x.txt", "x.txt", old, new)
    assert d.startswith("diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n@@ ")
    root = tmp_path / "t"
    root.mkdir()
    (root / "x.txt").write_text(old)
    (root / "p.patch").write_text(d)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "apply", "p.patch"], cwd=root, check=True)
    assert (root / "x.txt").read_text() == new


def test_distant_difference_in_the_function_is_function_diverged(tmp_path: Path) -> None:
    base = tmp_path / "upstream"
    (base / "drivers/foo").mkdir(parents=True)
    long_init = FOO_C.replace("\tint ret;\n", "\tint ret;\n" + "".join(f"\tfoo_step{i}(f);\n" for i in range(12)))
    (base / "drivers/foo/foo.c").write_text(long_init)
    diff = FIX_INIT.replace("@@ -11,8 +11,10 @@", "@@ -23,8 +23,10 @@")
    # the target lacks one early step, far above the hunk and unrelated to what it changes
    target = long_init.replace("\tfoo_step1(f);\n", "")
    r = port_patch(_patch(diff), _tree({"drivers/foo/foo.c": target}),
                   options=PortOptions(upstream=str(base), checks=False))
    (p,) = r.placements
    assert p.applied
    codes = {f.code: f for f in r.findings}
    assert "context-diverged" not in codes
    assert codes["function-diverged"].severity is Severity.WARNING
    assert any("foo_step1" in e for e in codes["function-diverged"].evidence)


def test_patch_two_finds_a_file_patch_one_created() -> None:
    create = """\
diff --git a/drivers/foo/foo_new.c b/drivers/foo/foo_new.c
new file mode 100644
--- /dev/null
+++ b/drivers/foo/foo_new.c
@@ -0,0 +1,3 @@
+int foo_new(void)
+{
+}
"""
    # patch 2 names the file by its old upstream place: it must be found where patch 1 put it
    modify = """\
diff --git a/drivers/old/foo_new.c b/drivers/old/foo_new.c
--- a/drivers/old/foo_new.c
+++ b/drivers/old/foo_new.c
@@ -1,3 +1,4 @@
 int foo_new(void)
 {
+\treturn 0;
 }
"""
    series = Series(patches=(_patch(create, "add"), _patch(modify, "fix")))
    r1, r2 = port_series(series, _tree({"drivers/foo/foo.c": FOO_C}), options=OPTS)
    assert r1.status is Status.CLEAN
    (p,) = r2.placements
    assert p.path == "drivers/foo/foo_new.c" and p.applied
    assert dict(r2.new_files)["drivers/foo/foo_new.c"] == "int foo_new(void)\n{\n\treturn 0;\n}\n"


def test_file_modes_are_carried_into_the_ported_diff(tmp_path: Path) -> None:
    diff = """\
diff --git a/scripts/new.sh b/scripts/new.sh
new file mode 100755
--- /dev/null
+++ b/scripts/new.sh
@@ -0,0 +1,2 @@
+#!/bin/sh
+echo new
diff --git a/scripts/old.sh b/scripts/old.sh
old mode 100644
new mode 100755
"""
    files = {"scripts/old.sh": "#!/bin/sh\necho old\n"}
    r = port_patch(_patch(diff), _tree(files), options=OPTS)
    assert r.status is Status.CLEAN
    assert "new file mode 100755\n" in r.text
    assert "diff --git a/scripts/old.sh b/scripts/old.sh\nold mode 100644\nnew mode 100755\n" in r.text
    assert _git_apply_check(tmp_path, files, r.text).returncode == 0


def test_hostile_path_in_the_patch_never_reads_outside_the_base(tmp_path: Path) -> None:
    from backport.model import FilePatch
    from backport.upstream_base import load_base

    (tmp_path / "secret").write_text("do not read\n")
    base = tmp_path / "upstream"
    base.mkdir()
    assert load_base(FilePatch("../secret", "../secret"), str(base)) is None
    assert load_base(FilePatch("/etc/passwd", "/etc/passwd"), str(base)) is None


def test_base_from_an_upstream_git_repo_by_blob_or_base_commit(tmp_path: Path) -> None:
    from backport.model import FilePatch
    from backport.upstream_base import load_base

    repo = tmp_path / "up"
    (repo / "drivers/foo").mkdir(parents=True)
    (repo / "drivers/foo/foo.c").write_text(FOO_C)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=repo, check=True)
    blob = subprocess.run(["git", "hash-object", "drivers/foo/foo.c"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()
    fp = FilePatch("drivers/foo/foo.c", "drivers/foo/foo.c", old_blob=blob[:7])
    assert load_base(fp, str(repo)) == FOO_C
    nameless = FilePatch("drivers/foo/foo.c", "drivers/foo/foo.c", old_blob="1234567")
    assert load_base(nameless, str(repo)) is None
    assert load_base(nameless, str(repo), base_commit=head) == FOO_C


def test_a_line_deleted_up_to_blanks_is_still_deleted(tmp_path: Path) -> None:
    diff = """\
diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -23,5 +23,4 @@ static void foo_exit(struct foo *f)
 static void foo_exit(struct foo *f)
 {
 \tkfree(f->buf);
-\tfoo_count--;
 }
"""
    spaced = FOO_C.replace("\tfoo_count--;\n}\n", "        foo_count--;\n}\n")
    r = port_patch(_patch(diff), _tree({"drivers/foo/foo.c": spaced}), options=OPTS)
    (p,) = r.placements
    assert p.method is Method.WHITESPACE and p.applied
    assert "foo_count--" not in dict(r.new_files)["drivers/foo/foo.c"]
    assert _git_apply_check(tmp_path, {"drivers/foo/foo.c": spaced}, r.text).returncode == 0


def test_exit_code_follows_settled_hunks_and_fail_on() -> None:
    from backport.pipeline import exit_code

    clean = port_patch(_patch(FIX_INIT), _tree({"drivers/foo/foo.c": FOO_C}), options=OPTS)
    unplaced = port_patch(_patch(FIX_INIT), _tree({"drivers/foo/foo.c": "int x;\n"}), options=OPTS)
    moved = port_patch(_patch(FIX_INIT), _tree({"drivers/legacy/foo/foo.c": FOO_C}), options=OPTS)
    assert exit_code([clean]) == 0
    assert exit_code([clean, unplaced]) == 1
    assert exit_code([unplaced], fail_on="never") == 1  # an unplaced hunk always fails
    assert exit_code([moved]) == 0  # a warning, below the default bar
    assert exit_code([moved], fail_on="warning") == 1
