"""Malformed and oversized input: every case ends in a ``path:line: error:`` (ParseError) or a
warning, never a traceback, and memory stays bounded.

Cases of the hardening issue: hunk counts that do not match, truncated files, ``\\ No newline at
end of file`` in every position, CRLF/LF mixes, tabs for spaces, invalid UTF-8 and exotic
charsets, MIME bombs (deep nesting, huge parts), mboxes of thousands of messages, lines of
megabytes. The inputs are built here, from a small diff and mail of our own.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time
import tracemalloc

import pytest

from backport import ingest
from backport.errors import BackportError, ParseError
from backport.ingest import parse_series_bytes
from backport.model import LineKind
from backport.series import parse_diff, parse_diff_lenient

DIFF = """diff --git a/arch/arm64/Kconfig b/arch/arm64/Kconfig
index 1111111..2222222 100644
--- a/arch/arm64/Kconfig
+++ b/arch/arm64/Kconfig
@@ -10,6 +10,7 @@ config ARM64
 \tselect HAVE_DYNAMIC_FTRACE
 \tselect HAVE_FTRACE_MCOUNT_RECORD
 \tselect HAVE_FUNCTION_TRACER
+\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS
 \tselect HAVE_FUNCTION_GRAPH_TRACER
 \tselect HAVE_GCC_PLUGINS
 \tselect HAVE_HW_BREAKPOINT if PERF_EVENTS
"""
# series.mbox:214: error: hunk header says 7 lines, found 6
ERROR_LINE = re.compile(r"^[^\s:]+:\d+: error: \S")
# empty.patch: error: no patch found   (a whole-file error may have no line)
FILE_ERROR_LINE = re.compile(r"^[^\s:]+(?::\d+)?: error: \S")


def mail(n: int = 1, total: int = 1, *, body: bytes = b"Body.\n", diff: bytes | None = None,
         ctype: bytes = b"text/plain; charset=utf-8", cte: bytes | None = None) -> bytes:
    head = (b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
            b"From: Dev <dev@example.org>\nSubject: [PATCH %d/%d] arm64: ftrace: step %d\n"
            b"Message-Id: <%d@example.org>\nContent-Type: " % (n, total, n, n) + ctype + b"\n")
    if cte:
        head += b"Content-Transfer-Encoding: " + cte + b"\n"
    diff = DIFF.encode() if diff is None else diff
    return head + b"\n" + body + b"\nSigned-off-by: Dev <dev@example.org>\n---\n" + diff + b"-- \n2.40.0\n\n"


def assert_clean_failure_or_parse(func, *args, **kw):
    """Call ``func``; a BackportError must read ``path:line: error: ...``. Returns the result or None."""
    try:
        return func(*args, **kw)
    except BackportError as e:
        assert ERROR_LINE.match(str(e)), str(e)
        return None


def hunk_counts_consistent(files) -> bool:
    for fp in files:
        for h in fp.hunks:
            old = sum(1 for ln in h.lines if ln.kind is not LineKind.ADDED)
            new = sum(1 for ln in h.lines if ln.kind is not LineKind.REMOVED)
            if (old, new) != (h.old_count, h.new_count):
                return False
    return True


# ---------------------------------------------------------------- structure


def test_hunk_count_too_big_is_an_error_at_the_hunk_header():
    bad = DIFF.replace("@@ -10,6 +10,7 @@", "@@ -10,8 +10,9 @@")
    with pytest.raises(ParseError) as e:
        parse_diff(bad, origin="s.patch", first_line=20)
    assert str(e.value).startswith("s.patch:24: error: hunk header says")


def test_hunk_count_too_small_never_swallows_the_extra_lines_silently():
    bad = DIFF.replace("@@ -10,6 +10,7 @@", "@@ -10,4 +10,5 @@")
    files = assert_clean_failure_or_parse(parse_diff, bad, origin="s.patch")
    assert files is None or hunk_counts_consistent(files)


def test_truncated_at_every_byte_fails_cleanly_or_parses_consistently():
    for cut in range(len(DIFF)):
        files = assert_clean_failure_or_parse(parse_diff, DIFF[:cut], origin="cut.patch")
        assert files is None or hunk_counts_consistent(files), cut
        data = mail(diff=DIFF[:cut].encode())
        assert_clean_failure_or_parse(parse_series_bytes, data[: len(data) - cut], origin="cut.mbox")


def test_no_newline_marker_in_every_position():
    lines = DIFF.splitlines(keepends=True)
    marker = "\\ No newline at end of file\n"
    for i in range(len(lines) + 1):
        text = "".join(lines[:i] + [marker] + lines[i:])
        files = assert_clean_failure_or_parse(parse_diff, text, origin="nl.patch")
        if files:
            assert hunk_counts_consistent(files), i
            flagged = [ln for fp in files for h in fp.hunks for ln in h.lines if ln.no_newline]
            assert len(flagged) <= 1, i
    # at the end, after the last line: that line is marked
    (fp,) = parse_diff(DIFF + marker, origin="nl.patch")
    assert fp.hunks[-1].lines[-1].no_newline


@pytest.mark.parametrize("pattern", ["all", "alternate", "header-only", "hunk-only"])
def test_crlf_and_lf_mixes(pattern):
    lines = DIFF.splitlines(keepends=True)
    for i, ln in enumerate(lines):
        crlf = {"all": True, "alternate": i % 2 == 0, "header-only": i < 4, "hunk-only": i >= 4}[pattern]
        if crlf:
            lines[i] = ln[:-1] + "\r\n"
    text = "".join(lines)
    files = assert_clean_failure_or_parse(parse_diff, text, origin="crlf.patch")
    assert files is None or hunk_counts_consistent(files)
    series = assert_clean_failure_or_parse(parse_series_bytes, mail(diff=text.encode()), origin="crlf.mbox")
    if pattern == "all":  # mail transport CRLF is undone
        all_crlf = parse_series_bytes(mail(diff=text.encode()).replace(b"\n", b"\r\n").replace(b"\r\r", b"\r"),
                                      origin="crlf.mbox")
        assert all_crlf.patches[0].files[0].hunks[0].new_lines == parse_diff(DIFF)[0].hunks[0].new_lines
    else:
        assert series is None or series.patches


def test_tab_instead_of_the_context_space_is_an_error_with_its_line():
    bad = DIFF.replace(" \tselect HAVE_GCC_PLUGINS", "\t\tselect HAVE_GCC_PLUGINS")
    with pytest.raises(ParseError) as e:
        parse_diff(bad, origin="tab.patch")
    assert ERROR_LINE.match(str(e.value))
    lenient = parse_diff_lenient(bad, origin="tab.patch")
    assert lenient.warnings and all(": warning: " in w for w in lenient.warnings)


def test_spaces_inside_lines_survive_exactly():
    text = DIFF.replace("+\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS", "+        select  X \t ")
    (fp,) = parse_diff(text, origin="ws.patch")
    assert "        select  X \t " in fp.hunks[0].new_lines


# ---------------------------------------------------------------- encodings


def test_invalid_utf8_survives_byte_exact():
    raw = DIFF.encode().replace(b"WITH_REGS", b"WITH_\xff\xfe\xc3(REGS")
    series = parse_series_bytes(mail(diff=raw), origin="bad-utf8.mbox")
    added = series.patches[0].files[0].hunks[0].added[0].text
    assert added.encode("utf-8", "surrogateescape") == b"\tselect HAVE_DYNAMIC_FTRACE_WITH_\xff\xfe\xc3(REGS"


@pytest.mark.parametrize("charset", ["iso-2022-jp", "koi8-r", "shift_jis", "iso-8859-15", "utf-8"])
def test_exotic_charsets_decode_to_the_right_text(charset):
    words = {"iso-2022-jp": "日本語のテスト", "koi8-r": "Привет", "shift_jis": "カーネル",
             "iso-8859-15": "Grüße €", "utf-8": "Grüße 日本"}[charset]
    data = mail(body=words.encode(charset) + b"\n", ctype=b"text/plain; charset=" + charset.encode())
    series = parse_series_bytes(data, origin="cs.mbox")
    assert words in series.patches[0].body


def test_unknown_charset_is_a_warning_with_a_line():
    series = parse_series_bytes(mail(ctype=b"text/plain; charset=x-klingon"), origin="k.mbox")
    assert series.patches and any(re.match(r"^k\.mbox:\d+: warning: .*x-klingon", w) for w in series.warnings)


def test_base64_and_quoted_printable_bodies():
    b64 = base64.encodebytes(b"Body.\n\nSigned-off-by: Dev <dev@example.org>\n---\n" + DIFF.encode())
    data = mail(body=b"", diff=b"", cte=b"base64").replace(b"\n\nSigned-off-by: Dev <dev@example.org>\n---\n-- \n2.40.0\n",
                                                             b"\n" + b64)
    series = parse_series_bytes(data, origin="b64.mbox")
    assert series.patches[0].files[0].path == "arch/arm64/Kconfig"
    garbage = mail(body=b"!!!! not base64 @@@@\n", diff=b"", cte=b"base64")
    assert_clean_failure_or_parse(parse_series_bytes, garbage, origin="garbage.mbox")


# ---------------------------------------------------------------- bombs and sizes


def nested(depth: int) -> bytes:
    out = (b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
           b"From: A <a@example.org>\nSubject: [PATCH] bomb\n")
    for i in range(depth):
        out += b"Content-Type: multipart/mixed; boundary=B%d\n\n--B%d\n" % (i, i)
    out += b"Content-Type: text/plain\n\n---\n" + DIFF.encode()
    for i in reversed(range(depth)):
        out += b"--B%d--\n" % i
    return out


def test_mime_nesting_bomb_is_refused_quickly():
    start = time.perf_counter()
    with pytest.raises(ParseError, match="nested deeper") as e:
        parse_series_bytes(nested(200), origin="bomb.mbox")
    assert str(e.value).startswith("bomb.mbox:")
    assert time.perf_counter() - start < 10


def test_huge_mime_part_is_refused(monkeypatch):
    monkeypatch.setattr(ingest, "MAX_PART", 50_000)
    data = mail(body=b"x" * 60_000 + b"\n")
    with pytest.raises(ParseError, match="larger than 50000") as e:
        parse_series_bytes(data, origin="huge.mbox")
    assert ERROR_LINE.match(str(e.value))


def test_huge_base64_part_is_refused_after_decoding(monkeypatch):
    monkeypatch.setattr(ingest, "MAX_PART", 50_000)
    data = mail(body=b"", diff=b"", cte=b"base64").replace(
        b"\n\nSigned-off-by: Dev <dev@example.org>\n---\n-- \n2.40.0\n", b"\n" + base64.encodebytes(b"\0" * 80_000))
    assert_clean_failure_or_parse(parse_series_bytes, data, origin="b64bomb.mbox")


def test_input_larger_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(ingest, "MAX_INPUT", 1000)
    with pytest.raises(ParseError, match="larger than 1000"):
        parse_series_bytes(mail() * 5, origin="big.mbox")


def test_a_line_of_megabytes_is_an_error_with_its_line_and_bounded_memory():
    diff = DIFF.encode().replace(b"+\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS", b"+" + b"x" * 9_000_000)
    data = mail(diff=diff)
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match="too long") as e:
            parse_series_bytes(data, origin="long.mbox")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    line = next(i for i, ln in enumerate(data.split(b"\n"), 1) if len(ln) > 1000)
    assert str(e.value).startswith(f"long.mbox:{line}: error:")
    assert peak < 4 * len(data)


def test_a_long_line_under_the_limit_parses_with_bounded_memory():
    diff = DIFF.encode().replace(b"+\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS", b"+" + b"y" * 2_000_000)
    data = mail(diff=diff)
    tracemalloc.start()
    try:
        series = parse_series_bytes(data, origin="long.mbox")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(series.patches[0].files[0].hunks[0].added[0].text) == 2_000_000
    assert peak < 30 * len(data)


def test_an_mbox_of_thousands_of_messages():
    n = 1500
    data = b"".join(mail(i, n) for i in range(1, n + 1))
    start = time.process_time()
    series = parse_series_bytes(data, origin="many.mbox")
    took = time.process_time() - start
    assert len(series.patches) == n
    assert [p.number for p in series.patches[:3]] == [1, 2, 3]
    assert took < 60


# ---------------------------------------------------------------- through the CLI: one line, exit 2


@pytest.mark.parametrize("name,data", [
    ("count.patch", DIFF.replace("@@ -10,6 +10,7 @@", "@@ -10,9 +10,9 @@").encode()),
    ("bomb.mbox", nested(40)),
    ("ed.patch", b"1,2c\nint evil;\n.\nw\n"),
    ("empty.patch", b""),
    ("noise.patch", bytes(range(256)) * 4),
])
def test_cli_reports_one_error_line_and_exit_2(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    r = subprocess.run([sys.executable, "-m", "backport", "show", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and FILE_ERROR_LINE.match(err[0]) and "Traceback" not in r.stderr, r.stderr
