"""Hostile patches, one test per attack: each is refused with a clear finding and never written.

GNU patch had a CVE for most of these (CVE-2010-4651 ``../`` paths, CVE-2015-1196 and
CVE-2019-13636 symlinks, CVE-2018-1000156 and CVE-2019-13638 ed scripts); git had
CVE-2014-9390 for ``.GIT``. Every test builds its own miniature tree under tmp_path, next to a
"precious" file outside the tree that must survive untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backport import apply as apply_mod
from backport.apply import apply_results, revert_apply
from backport.errors import ApplyError, ParseError, UnsafePathError
from backport.model import FilePatch, Patch, PortResult, Series, Severity
from backport.safety import check_diff_text, check_filepatch_safety, find_path_problem
from backport.series import parse_diff
from backport.target import DirTree


@pytest.fixture
def world(tmp_path):
    """(tree root, outside dir): a tiny kernel tree and a sibling directory it must never touch."""
    root = tmp_path / "linux"
    (root / "drivers/net").mkdir(parents=True)
    (root / "drivers/net/dummy.c").write_text("int dummy;\n")
    (root / "Makefile").write_text("VERSION = 4\nPATCHLEVEL = 9\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n")
    return root, outside


def everything(base: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(base.rglob("*")):
        if ".backport-apply" in p.parts:
            continue
        out[str(p.relative_to(base))] = os.readlink(p).encode() if p.is_symlink() else (
            p.read_bytes() if p.is_file() else b"<dir>")
    return out


def codes(fp: FilePatch, root: Path) -> set[str]:
    found = check_filepatch_safety(fp, DirTree(root))
    assert all(f.severity is Severity.ERROR and f.message for f in found)
    return {f.code for f in found}


def diff_for(path: str) -> str:
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            "@@ -1 +1 @@\n-root:x:0:0\n+root::0:0\n")


def refuse_apply(root: Path, fp: FilePatch, path: str, error=UnsafePathError) -> None:
    """apply_results must refuse, and nothing anywhere under tmp_path may change."""
    base = root.parent
    before = everything(base)
    res = PortResult(patch=Patch(subject="evil", files=(fp,)), new_files=((path, "root::0:0\n"),))
    with pytest.raises(error):
        apply_results(str(root), [res])
    assert everything(base) == before


# ---------------------------------------------------------------- paths that leave the tree

HOSTILE_PATHS = {
    "dotdot": "../../outside/passwd",
    "absolute": "/etc/passwd",
    "inner-dotdot": "drivers/../../outside/passwd",
    "nul-byte": "drivers/net/dummy.c\x00.png",
    "control-bytes": "drivers/\x1b[2Jnet.c",
    "bidi-override": "drivers/net/\u202ec.ymmud",
    "overlong-component": "drivers/" + "n" * 300 + ".c",
    "overlong-path": "/".join(["d" * 200] * 25),
    "overlong-utf8-bytes": "drivers/" + "\u00e9" * 200 + ".c",
    "too-deep": "a/" * 100 + "x.c",
    "dot-git-hooks": ".git/hooks/post-checkout",
    "dot-git-any-case": ".GIT/config",
    "apply-record": ".backport-apply/20260101T000000-0001-00000000/journal.json",
    "windows-drive": "C:\\Windows\\system.ini",
    "backslash-dotdot": "drivers\\..\\..\\outside\\passwd",
}


@pytest.mark.parametrize("path", HOSTILE_PATHS.values(), ids=HOSTILE_PATHS.keys())
def test_hostile_path_is_refused_and_never_written(world, path):
    root, outside = world
    assert find_path_problem(path)
    fp = FilePatch(path, path)
    assert "unsafe-path" in codes(fp, root)
    refuse_apply(root, fp, path)
    assert (outside / "passwd").read_text() == "root:x:0:0\n"


def test_a_path_attack_parsed_from_a_real_diff_is_refused(world):
    root, outside = world
    (fp,) = parse_diff(diff_for("a/../../outside/passwd"), origin="evil.patch")
    found = check_filepatch_safety(fp, DirTree(root))
    assert [f.code for f in found] == ["unsafe-path"]
    assert found[0].ref is not None and found[0].ref.path == "evil.patch"
    refuse_apply(root, fp, fp.path)


def test_rename_to_a_hostile_path_is_caught_in_the_raw_header(world):
    root, _ = world
    fp = FilePatch("drivers/net/dummy.c", "drivers/net/dummy2.c",
                   header_lines=("diff --git a/drivers/net/dummy.c b/drivers/net/dummy2.c",
                                 "rename from drivers/net/dummy.c", "rename to ../../outside/passwd"))
    assert codes(fp, root) == {"unsafe-path"}


def test_copy_from_outside_the_tree_is_refused(world):
    """``copy from ../../home/me/.ssh/id_rsa`` would leak a private file into the tree."""
    root, outside = world
    text = ("diff --git a/../outside/passwd b/drivers/leak.txt\nsimilarity index 100%\n"
            "copy from ../outside/passwd\ncopy to drivers/leak.txt\n")
    (fp,) = parse_diff(text, origin="copy.patch")
    assert "unsafe-path" in codes(fp, root)
    refuse_apply(root, fp, "drivers/leak.txt")
    assert not (root / "drivers/leak.txt").exists()


def test_series_that_makes_a_symlink_then_writes_through_it_is_refused(world):
    """CVE-2015-1196: patch 1 creates ``drivers/evil -> ../../outside``, patch 2 writes through it."""
    root, outside = world
    link = parse_diff("diff --git a/drivers/evil b/drivers/evil\nnew file mode 120000\n--- /dev/null\n"
                      "+++ b/drivers/evil\n@@ -0,0 +1 @@\n+../../outside\n\\ No newline at end of file\n",
                      origin="1.patch")
    write = parse_diff(diff_for("drivers/evil/passwd"), origin="2.patch")
    results = [PortResult(patch=Patch(subject="1", files=link), new_files=(("drivers/evil", "../../outside"),)),
               PortResult(patch=Patch(subject="2", files=write), new_files=(("drivers/evil/passwd", "root::0:0\n"),))]
    before = everything(root.parent)
    with pytest.raises(UnsafePathError, match="symlink-create"):
        apply_results(str(root), results)
    assert everything(root.parent) == before


def test_pipeline_bug_writing_outside_is_still_refused_by_apply(world):
    root, outside = world
    before = everything(root.parent)
    res = PortResult(patch=Patch(subject="ok"), new_files=(("../outside/passwd", "pwned\n"),))
    with pytest.raises(UnsafePathError, match="climbs out"):
        apply_results(str(root), [res])
    assert everything(root.parent) == before


# ---------------------------------------------------------------- symlinks


def test_symlinked_directory_pointing_outside_is_symlink_escape(world):
    root, outside = world
    os.symlink(outside, root / "drivers/evil")
    fp = FilePatch("drivers/evil/passwd", "drivers/evil/passwd")
    assert codes(fp, root) == {"symlink-escape"}
    refuse_apply(root, fp, fp.path)
    assert (outside / "passwd").read_text() == "root:x:0:0\n"


def test_target_file_that_is_a_symlink_outside_is_never_written_through(world):
    root, outside = world
    os.symlink(outside / "passwd", root / "drivers/net/link.c")
    fp = FilePatch("drivers/net/link.c", "drivers/net/link.c")
    assert codes(fp, root) == {"symlink-escape"}
    refuse_apply(root, fp, fp.path)


def test_symlink_loop_in_the_target_is_refused(world):
    root, _ = world
    os.symlink("loop", root / "drivers/loop")
    fp = FilePatch("drivers/loop/x.c", "drivers/loop/x.c")
    assert codes(fp, root) & {"symlink-escape", "symlink-write"}
    refuse_apply(root, fp, fp.path)


def test_symlink_inside_the_tree_is_not_written_through_either(world):
    root, _ = world
    os.symlink("net", root / "drivers/alias")
    fp = FilePatch("drivers/alias/dummy.c", "drivers/alias/dummy.c")
    assert codes(fp, root) == {"symlink-write"}
    refuse_apply(root, fp, fp.path)


def test_symlink_planted_after_the_checks_is_caught_by_the_nofollow_walk(world, monkeypatch):
    """The race of CVE-2019-13636: the checks passed, then a link appears before the write."""
    root, outside = world
    monkeypatch.setattr(apply_mod, "check_filepatch_safety", lambda fp, tree: ())
    monkeypatch.setattr(apply_mod, "find_path_problem", lambda path: None)
    os.symlink(outside, root / "drivers/late")
    fp = FilePatch("drivers/late/passwd", "drivers/late/passwd")
    refuse_apply(root, fp, fp.path)
    assert (outside / "passwd").read_text() == "root:x:0:0\n"


def test_patch_creating_a_symlink_is_refused(world):
    root, _ = world
    text = ("diff --git a/drivers/net/x b/drivers/net/x\nnew file mode 120000\nindex 0000000..1234567\n"
            "--- /dev/null\n+++ b/drivers/net/x\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n")
    (fp,) = parse_diff(text, origin="link.patch")
    assert codes(fp, root) == {"symlink-create"}
    refuse_apply(root, fp, fp.path)
    assert not (root / "drivers/net/x").exists()


def test_patch_turning_a_file_into_a_symlink_is_refused(world):
    root, _ = world
    fp = FilePatch("drivers/net/dummy.c", "drivers/net/dummy.c", old_mode="100644", new_mode="120000")
    assert codes(fp, root) == {"symlink-create"}
    refuse_apply(root, fp, fp.path)
    assert (root / "drivers/net/dummy.c").read_text() == "int dummy;\n"


def test_hard_linked_file_is_replaced_not_written_through(world):
    root, outside = world
    os.link(outside / "passwd", root / "drivers/net/hard.c")
    res = PortResult(patch=Patch(subject="s"), new_files=(("drivers/net/hard.c", "changed\n"),))
    apply_results(str(root), [res])
    assert (root / "drivers/net/hard.c").read_text() == "changed\n"
    assert (outside / "passwd").read_text() == "root:x:0:0\n"


def test_fifo_at_the_target_path_is_refused_without_hanging(world):
    root, _ = world
    os.mkfifo(root / "drivers/net/fifo.c")
    fp = FilePatch("drivers/net/fifo.c", "drivers/net/fifo.c")
    assert codes(fp, root) == {"not-regular-file"}
    refuse_apply(root, fp, fp.path)  # by the safety check
    bare = PortResult(patch=Patch(subject="s"), new_files=(("drivers/net/fifo.c", "x\n"),))
    with pytest.raises(ApplyError, match="not a regular file"):
        apply_results(str(root), [bare])  # by apply's own O_NONBLOCK read


# ---------------------------------------------------------------- modes


@pytest.mark.parametrize("mode,code", [("104755", "setuid-mode"), ("102755", "setuid-mode"), ("101644", "setuid-mode"),
                                       ("100777", "unsafe-mode"), ("160000", "gitlink-unsupported")],
                         ids=["setuid", "setgid", "sticky", "world-writable", "gitlink"])
def test_dangerous_mode_change_is_refused(world, mode, code):
    root, _ = world
    (fp,) = parse_diff(f"diff --git a/Makefile b/Makefile\nold mode 100644\nnew mode {mode}\n", origin="m.patch")
    assert codes(fp, root) == {code}
    refuse_apply(root, fp, "Makefile")
    assert oct((root / "Makefile").stat().st_mode & 0o7777) == "0o644"


def test_executable_mode_is_fine(world):
    root, _ = world
    (fp,) = parse_diff("diff --git a/Makefile b/Makefile\nold mode 100644\nnew mode 100755\n", origin="m.patch")
    assert codes(fp, root) == set()


# ---------------------------------------------------------------- diff dialects


def test_git_binary_patch_is_reported_unsupported(world):
    root, _ = world
    text = ("diff --git a/fw.bin b/fw.bin\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 5\n"
            "McmZ?wbaVdt00;;G0{{R3\n\nliteral 0\nHcmV?d00001\n\n")
    (fp,) = parse_diff(text, origin="bin.patch")
    assert codes(fp, root) == {"binary-unsupported"}
    assert [f.code for f in check_diff_text(text, origin="bin.patch")] == ["binary-unsupported"]


def test_binary_files_differ_is_reported_unsupported(world):
    root, _ = world
    fp = FilePatch("logo.png", "logo.png", header_lines=("Binary files a/logo.png and b/logo.png differ",))
    assert codes(fp, root) == {"binary-unsupported"}


ED_SCRIPT = "1,2c\nint evil;\n.\n!touch {marker}\nw\nq\n"


def test_ed_script_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "ed-ran"
    text = ED_SCRIPT.format(marker=marker)
    found = check_diff_text(text, origin="ed.patch")
    assert [(f.code, str(f.ref)) for f in found] == [("ed-diff-refused", "ed.patch:1")]
    with pytest.raises(ParseError) as e:
        parse_diff(text, origin="ed.patch")
    assert str(e.value).startswith("ed.patch:")
    assert not marker.exists()


def test_context_diff_is_refused_clearly():
    text = ("*** drivers/a.c\n--- drivers/a.c\n***************\n*** 1,3 ****\n  a\n! b\n  c\n"
            "--- 1,3 ----\n  a\n! B\n  c\n")
    found = check_diff_text(text, origin="ctx.patch", first_line=10)
    assert [(f.code, f.ref.line) for f in found] == [("context-diff-unsupported", 12)]
    with pytest.raises(ParseError):
        parse_diff(text, origin="ctx.patch")


def test_normal_diff_is_refused_clearly():
    found = check_diff_text("3c3\n< int a;\n---\n> int b;\n", origin="n.patch")
    assert [f.code for f in found] == ["normal-diff-unsupported"]


def test_unified_diff_with_ed_like_lines_inside_hunks_is_not_flagged():
    text = "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n 1a\n-12d\n+1,2c\n .\n"
    assert check_diff_text(text, origin="ok.patch") == ()


# ---------------------------------------------------------------- the record itself


def test_a_tampered_record_cannot_make_revert_leave_the_tree(world):
    root, outside = world
    record = apply_results(str(root), [PortResult(patch=Patch(subject="s"),
                                                  new_files=(("Makefile", "VERSION = 5\n"),))])
    journal = json.loads(Path(record, "journal.json").read_text())
    journal["entries"][0]["path"] = "../outside/passwd"
    Path(record, "journal.json").write_text(json.dumps(journal))
    with pytest.raises(ApplyError, match="refusing a record entry"):
        revert_apply(str(root))
    assert (outside / "passwd").read_text() == "root:x:0:0\n"


def test_record_directory_that_is_a_symlink_is_refused(world):
    root, outside = world
    os.symlink(outside, root / ".backport-apply")
    res = PortResult(patch=Patch(subject="s"), new_files=(("Makefile", "VERSION = 5\n"),))
    with pytest.raises(UnsafePathError, match="refusing to keep a record"):
        apply_results(str(root), [res])
    assert sorted(p.name for p in outside.iterdir()) == ["passwd"]
    assert (root / "Makefile").read_text() == "VERSION = 4\nPATCHLEVEL = 9\n"


# ---------------------------------------------------------------- what we print and render


def test_render_printable_defuses_terminal_escapes_and_bidi():
    from backport.safety import render_printable

    hostile = "arm64: \x1b]0;pwned\x07\x1b[2J\rfake\u202etxt.exe \udcff"
    shown = render_printable(hostile)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in shown)
    assert shown == "arm64: \\x1b]0;pwned\\x07\\x1b[2J\\x0dfake\\u202etxt.exe \\xff"
    assert render_printable("int x;\t/* é 日本 */\n") == "int x;\t/* é 日本 */\n"


def test_html_report_escapes_hostile_subjects_and_lines(tmp_path):
    from backport.render.output import write_outputs

    evil = "<script>alert(1)</script>"
    fp = parse_diff(f"--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-int a;\n+int a; /* </pre>{evil} */\n", origin="x.patch")
    patch = Patch(subject=f"x: {evil}", files=fp, author=f"{evil} <a@b>", body=evil)
    res = PortResult(patch=patch, text=fp[0].render(), new_files=(("x.c", "int a;\n"),))
    write_outputs([res], Series(patches=(patch,)), str(tmp_path / "out"))
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("subject", ["../../../outside/pwn", "/etc/passwd", "..", ".git/config", "a\x00b",
                                     "x" * 5000, "\u202e\u0007 \x1b[2J"])
def test_out_files_stay_inside_out_whatever_the_subject(tmp_path, subject):
    from backport.render.output import write_outputs

    fp = parse_diff("--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-int a;\n+int b;\n", origin="x.patch")
    patch = Patch(subject=subject, files=fp)
    res = PortResult(patch=patch, text=fp[0].render(), new_files=(("x.c", "int b;\n"),))
    before = {p for p in tmp_path.rglob("*")}
    out = tmp_path / "a" / "out"
    written = write_outputs([res], Series(patches=(patch,)), str(out))
    assert written and all(Path(w).parent == out for w in written)
    assert {p for p in tmp_path.rglob("*")} - before == {tmp_path / "a", out} | {Path(w) for w in written}


KBENCH_TREE = Path("/root/.cache/kbench/trees/6.1.187-1")
BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"


@pytest.mark.slow
def test_no_false_alarm_on_real_upstream_patches():
    """Every upstream.patch of the bench against the real 6.1 tree: nothing is refused."""
    if not KBENCH_TREE.is_dir() or not BENCH.is_dir():
        pytest.fail("needs the 6.1.187 tree (../shared/bench/get-tree.sh) and ../shared/bench")
    tree = DirTree(str(KBENCH_TREE))
    checked, alarms = 0, []
    for patch in sorted(BENCH.glob("*/upstream.patch")):
        text = patch.read_text("utf-8", "surrogateescape")
        for fp in parse_diff(text, origin=str(patch)):
            checked += 1
            alarms += [f.message for f in check_filepatch_safety(fp, tree)]
        alarms += [f.message for f in check_diff_text(text, origin=str(patch))]
    assert checked > 1000 and alarms == []
