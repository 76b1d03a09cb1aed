"""parse_diff: git/unified diffs to the frozen model, exact round trip, errors with their line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backport.errors import ParseError
from backport.model import LineKind
from backport.series import parse_diff, parse_diff_lenient, render_diff

SAMPLES = Path(__file__).parent / "samples"

MODIFY = """\
diff --git a/arch/arm/Kconfig b/arch/arm/Kconfig
index fda6a46..877df5b 100644
--- a/arch/arm/Kconfig
+++ b/arch/arm/Kconfig
@@ -55,6 +55,7 @@ config ARM
 \tselect HAVE_DMA_API_DEBUG
 \tselect HAVE_DMA_CONTIGUOUS if MMU
 \tselect HAVE_DYNAMIC_FTRACE if (!XIP_KERNEL) && !CPU_ENDIAN_BE32 && MMU
+\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS if HAVE_DYNAMIC_FTRACE && OLD_MCOUNT
 \tselect HAVE_EFFICIENT_UNALIGNED_ACCESS if (CPU_V6 || CPU_V6K || CPU_V7) && MMU
 \tselect HAVE_EXIT_THREAD
 \tselect HAVE_FTRACE_MCOUNT_RECORD if (!XIP_KERNEL)
@@ -90,2 +91,2 @@
-old
+new
 same
"""

PLAIN = """\
diff -urN linux-4.9.orig/drivers/foo.c linux-4.9/drivers/foo.c
--- linux-4.9.orig/drivers/foo.c\t2020-01-01 00:00:00.000000000 +0000
+++ linux-4.9/drivers/foo.c\t2020-01-02 00:00:00.000000000 +0000
@@ -1,3 +1,3 @@
 int a;
-int b;
+long b;
 int c;
"""


def test_modify_hunks_lines_and_refs():
    (fp,) = parse_diff(MODIFY, origin="k.patch", first_line=10)
    assert (fp.old_path, fp.new_path, fp.old_blob, fp.new_blob) == ("arch/arm/Kconfig",) * 2 + ("fda6a46", "877df5b")
    assert fp.old_mode == fp.new_mode == "100644" and not fp.is_binary and fp.ref.line == 10
    h = fp.hunks[0]
    assert (h.old_start, h.old_count, h.new_start, h.new_count, h.section) == (55, 6, 55, 7, "config ARM")
    assert h.ref.path == "k.patch" and h.ref.line == 14
    assert [ln.ref.line for ln in h.lines] == list(range(15, 22))
    assert h.added[0].text.startswith("\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS")
    assert len(h.old_lines) == 6 and len(h.new_lines) == 7
    assert fp.hunks[1].lines[0].kind is LineKind.REMOVED
    assert render_diff((fp,)) == MODIFY


def test_plain_diff_strips_first_component():
    (fp,) = parse_diff(PLAIN)
    assert fp.old_path == fp.new_path == "drivers/foo.c"
    assert fp.render() == PLAIN


def test_hunk_count_mismatch_is_an_error_with_line():
    bad = MODIFY.replace("@@ -55,6 +55,7 @@", "@@ -55,7 +55,8 @@")
    with pytest.raises(ParseError) as e:
        parse_diff(bad, origin="series.mbox", first_line=200)
    assert str(e.value) == "series.mbox:204: error: hunk header says 7 lines, found 6"


def test_no_files_is_an_error():
    with pytest.raises(ParseError, match="no file diff"):
        parse_diff("just some prose\n", origin="x.txt")


def test_lenient_recovers_short_hunk_and_lost_prefix():
    text = MODIFY.replace(" \tselect HAVE_EXIT_THREAD", "select HAVE_EXIT_THREAD")
    text = text.replace("@@ -55,6 +55,7 @@", "@@ -55,9 +55,10 @@")
    r = parse_diff_lenient(text, origin="r.txt")
    assert r.partial and len(r.warnings) == 2
    assert any("leading space" in w for w in r.warnings)
    assert any("hunk header says 9 lines, found 6" in w for w in r.warnings)
    assert r.files[0].hunks[0].old_count == 6


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def test_real_git_diff_round_trip(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "a@b.c")
    _git(repo, "config", "user.name", "A U Thor")
    (repo / "a.c").write_text("".join(f"line{i}\n" for i in range(1, 30)))
    (repo / "nonl.txt").write_text("x")
    (repo / "b.bin").write_bytes(b"\x00\x01bin")
    (repo / "d").mkdir()
    (repo / "d" / "old.txt").write_text("old\n" * 5)
    (repo / "gone.c").write_text("bye\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    (repo / "a.c").write_text("".join(f"line{i}\n" for i in range(1, 30) if i != 4).replace("line20", "LINE20"))
    (repo / "nonl.txt").write_text("y")
    (repo / "b.bin").write_bytes(b"\x00\x02bin")
    (repo / "a.c").chmod(0o755)
    _git(repo, "mv", "d/old.txt", "d/new.txt")
    (repo / "gone.c").unlink()
    (repo / "new file.c").write_text("new\n")
    _git(repo, "add", "-A")
    diff = _git(repo, "diff", "--cached", "--binary", "-M")
    files = parse_diff(diff, origin="git.diff")
    assert render_diff(files) == diff
    by = {f.path: f for f in files}
    assert by["a.c"].old_mode == "100644" and by["a.c"].new_mode == "100755"
    assert len(by["a.c"].hunks) == 2
    assert by["b.bin"].is_binary and not by["b.bin"].hunks
    assert by["d/new.txt"].is_rename and by["d/new.txt"].old_path == "d/old.txt"
    assert by["d/new.txt"].similarity == 100
    assert by["gone.c"].is_deleted and by["new file.c"].is_new
    nonl = by["nonl.txt"].hunks[0].lines
    assert [ln.no_newline for ln in nonl] == [True, True]
    text = _git(repo, "diff", "--cached", "--stat").strip()
    assert "5 files changed" in text or "files changed" in text


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.diff")))
def test_sample_diffs_round_trip(sample):
    text = (SAMPLES / sample).read_text()
    assert render_diff(parse_diff(text, origin=sample)) == text


BENCH = Path("/work/shared/bench/public")


@pytest.mark.slow
def test_every_bench_patch_round_trips():
    """Real kernel diffs (the kbench cases, both sides): parse, render, compare."""
    patches = sorted(BENCH.glob("*/*.patch"))
    assert len(patches) > 100, "the kbench cases are needed (../shared/bench)"
    for path in patches:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        files = parse_diff(text, origin=str(path))
        assert render_diff(files) == text, path
        assert all(f.hunks and f.hunks[0].ref.line > 0 for f in files if not f.is_binary)


def test_wrapped_line_gets_a_hint():
    text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+a long line the mailer\nwrapped\n c\n"
    with pytest.raises(ParseError) as e:
        parse_diff(text, origin="w.patch")
    assert str(e.value) == ("w.patch:4: error: hunk header says 3 lines, found 2 "
                            "(line 8 has no ' ', '+' or '-': wrapped by a mailer?)")


# ---------------------------------------------------------------- property: render then parse is identity

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from backport.model import FilePatch, Hunk, HunkLine  # noqa: E402

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=30)
_line = st.tuples(st.sampled_from(list(LineKind)), _text)


@st.composite
def _hunks(draw):
    hunks, start = [], 1
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.lists(_line, min_size=1, max_size=12))
        lines = tuple(HunkLine(k, t) for k, t in body)
        old = sum(k is not LineKind.ADDED for k, _ in body)
        new = sum(k is not LineKind.REMOVED for k, _ in body)
        section = draw(st.sampled_from(["", "static int foo(void)", "config ARM"]))
        hunks.append(Hunk(start, old, start, new, section, lines))
        start += old + draw(st.integers(1, 50))
    return tuple(hunks)


@settings(max_examples=150, deadline=None)
@given(hunks=_hunks(), path=st.sampled_from(["a.c", "drivers/net/foo bar.c", "arch/arm64/Kconfig"]))
def test_render_parse_round_trip(hunks, path):
    header = (f"diff --git a/{path} b/{path}", "index 1234567..89abcde 100644", f"--- a/{path}", f"+++ b/{path}")
    fp = FilePatch(path, path, hunks, header_lines=header)
    text = fp.render()
    (back,) = parse_diff(text, origin="p")
    assert back.render() == text and back.path == path
    assert [[(ln.kind, ln.text) for ln in h.lines] for h in back.hunks] == [
        [(ln.kind, ln.text) for ln in h.lines] for h in hunks]
