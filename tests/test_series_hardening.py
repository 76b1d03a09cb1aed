"""Diff parsing (series) on hostile or damaged text: old Mac line ends, wrong hunk counts, diff
dialects backport refuses, overlong lines in hunks, misplaced ``\\ No newline`` markers."""

from __future__ import annotations

import pytest

from backport import series as series_mod
from backport.errors import ParseError
from backport.ingest import parse_series_bytes
from backport.series import parse_diff, parse_diff_lenient

GOOD = "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"


# ---------------------------------------------------------------- #3 CR-only line ends


def test_cr_only_line_ends_are_line_ends() -> None:
    text = "diff --git a/x b/x\r--- a/x\r+++ b/x\r@@ -1 +1 @@\r-a\r+b\r"
    (fp,) = parse_diff(text, origin="mac.patch")
    assert (fp.old_path, fp.new_path) == ("x", "x")
    assert [(ln.kind.value, ln.text) for ln in fp.hunks[0].lines] == [("-", "a"), ("+", "b")]
    assert fp.hunks[0].lines[1].ref is not None and fp.hunks[0].lines[1].ref.line == 6
    s = parse_series_bytes(text.encode(), origin="mac.patch")
    assert [f.path for f in s.patches[0].files] == ["x"]


def test_crlf_keeps_working_and_lone_cr_inside_lf_text_is_content() -> None:
    (fp,) = parse_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\r\n+b\r\n")
    assert [ln.text for ln in fp.hunks[0].lines] == ["a\r", "b\r"]


def test_a_file_diff_naming_no_file_is_an_error() -> None:
    text = "--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n"
    with pytest.raises(ParseError, match="a file diff names no file") as e:
        parse_diff(text, origin="p.diff", first_line=10)
    assert str(e.value).startswith("p.diff:10: error:")
    with pytest.raises(ParseError, match="names no file"):
        parse_series_bytes(text.encode(), origin="p.diff")


def test_lenient_mode_skips_a_nameless_file_diff_with_a_warning() -> None:
    text = "--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n" + GOOD
    got = parse_diff_lenient(text, origin="q.txt")
    assert [f.path for f in got.files] == ["x.c"]
    assert got.partial
    assert got.warnings == ("q.txt:1: warning: a file diff names no file; skipped",)


# ---------------------------------------------------------------- #4 lines after a complete hunk


OVERFLOW = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n+e\n"


@pytest.mark.parametrize("strict", [True, False])
def test_lines_after_a_complete_hunk_that_look_like_hunk_lines_warn(strict: bool) -> None:
    got = parse_diff_lenient(OVERFLOW, origin="o.patch", strict=strict)
    assert [ln.text for ln in got.files[0].hunks[0].lines] == ["a", "b", "c"]
    assert got.warnings == ("o.patch:7: warning: 2 lines after the hunk look like hunk lines; "
                            "its header counts may be wrong",)


def test_overflow_warning_reaches_the_series() -> None:
    s = parse_series_bytes(OVERFLOW.encode(), origin="o.patch")
    assert any("2 lines after the hunk look like hunk lines" in w for w in s.warnings)


@pytest.mark.parametrize("tail", ["-- \n2.43.0\n", "--\n2.43.0\n", "---\n", " prose after the diff\n",
                                  "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-p\n+q\n",
                                  "--- a/y\n+++ b/y\n@@ -1 +1 @@\n-p\n+q\n"])
def test_signatures_and_next_files_are_no_overflow(tail: str) -> None:
    got = parse_diff_lenient(GOOD + tail, origin="s.patch", strict=True)
    assert got.warnings == ()


# ---------------------------------------------------------------- #5 refused dialects


ED = "1,2c\nint evil;\n.\nw\n"
CONTEXT = ("*** a/x.c\t2024-01-01\n--- b/x.c\t2024-01-01\n***************\n*** 1,2 ****\n"
           "  a\n! b\n--- 1,2 ----\n  a\n! c\n")
NORMAL = "2c2\n< b\n---\n> c\n"


@pytest.mark.parametrize(("text", "words", "line"), [
    (ED, "ed script", 1), (CONTEXT, "context diff", 3), (NORMAL, "normal (non-unified) diff", 1)])
def test_refused_dialects_are_named_at_their_line(text: str, words: str, line: int) -> None:
    with pytest.raises(ParseError) as e:
        parse_diff(text, origin="d.patch")
    assert words in e.value.message
    assert str(e.value).startswith(f"d.patch:{line}: error:")
    with pytest.raises(ParseError) as e2:
        parse_series_bytes(("Some words first\n\n" + text).encode(), origin="d.patch")
    assert words in e2.value.message
    assert e2.value.ref is not None and e2.value.ref.line == line + 2


def test_plain_prose_still_says_no_diff() -> None:
    with pytest.raises(ParseError, match="no file diff found"):
        parse_diff("just words\n", origin="w.txt")


def test_a_reply_quoting_an_ed_script_is_no_error() -> None:
    mail = (b"From: R <r@example.org>\nSubject: Re: [PATCH] x\nMessage-Id: <r@x>\n\n"
            b"Why not\n\n3d\n\nor so?\n")
    with pytest.raises(ParseError, match="no patch found"):  # a reply without a diff: no patch
        parse_series_bytes(mail, origin="r.eml")


# ---------------------------------------------------------------- #8 overlong lines in hunks


def test_overlong_line_inside_a_hunk_is_refused_at_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(series_mod, "MAX_LINE", 100)
    text = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+" + "x" * 200 + "\n"
    with pytest.raises(ParseError, match="too long") as e:
        parse_diff(text, origin="long.patch")
    assert str(e.value).startswith("long.patch:5: error:")


# ---------------------------------------------------------------- #9 misplaced "\ No newline"


def test_no_newline_marker_inside_a_git_header_warns_and_keeps_one_file() -> None:
    text = ("diff --git a/x.c b/x.c\n\\ No newline at end of file\n--- a/x.c\n+++ b/x.c\n"
            "@@ -1 +1 @@\n-a\n+b\n")
    got = parse_diff_lenient(text, origin="n.patch", strict=True)
    assert [f.path for f in got.files] == ["x.c"]
    assert len(got.files[0].hunks) == 1
    assert got.warnings == ("n.patch:2: warning: '\\\\ No newline at end of file' inside a file header; ignored",)


def test_no_newline_marker_before_the_first_hunk_line_warns() -> None:
    text = "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n\\ No newline at end of file\n-a\n+b\n"
    got = parse_diff_lenient(text, origin="n.patch", strict=True)
    assert [ln.text for ln in got.files[0].hunks[0].lines] == ["a", "b"]
    assert not any(ln.no_newline for ln in got.files[0].hunks[0].lines)
    assert got.warnings == ("n.patch:4: warning: '\\\\ No newline at end of file' before the hunk's "
                            "first line; ignored",)


def test_no_newline_marker_after_the_last_line_is_quiet() -> None:
    text = "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
    got = parse_diff_lenient(text, origin="n.patch", strict=True)
    assert got.warnings == ()
    assert got.files[0].hunks[0].lines[0].no_newline
