"""Terminal escape injection: what strangers wrote (subjects, authors, paths, hunk lines, finding
messages) never reaches a terminal as raw ESC, BEL, CR or bidi overrides."""

from __future__ import annotations

import re
from pathlib import Path

from backport.cli import main
from backport.model import (
    FilePatch,
    Finding,
    Hunk,
    HunkLine,
    LineKind,
    Method,
    Patch,
    Placement,
    PortResult,
    ReviewComment,
    Series,
    Severity,
    SourceRef,
    Status,
    Trailer,
)
from backport.pipeline import render_plain_summary
from backport.render.checklist import render_checklist
from backport.render.series import render_series_text
from backport.render.summary import render_summary

#: retitles the terminal, rings the bell, clears the screen, overwrites the line, reverses text
EVIL = "\x1b]0;pwned\x07\x1b[2J\rok \u202eevil"
# ESC [ 1 ; 31 m   (the only escape sequences our own colour output may hold: SGR)
RE_SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_defused(text: str, *, sgr_allowed: bool = False) -> None:
    if sgr_allowed:
        text = RE_SGR.sub("", text)
    for bad in ("\x1b", "\x07", "\r", "\u202e"):
        assert bad not in text, repr(bad)
    assert "\\x1b" in text and "\\u202e" in text


def _hostile_patch() -> Patch:
    line = HunkLine(LineKind.ADDED, f"int x; /* {EVIL} */", ref=SourceRef("evil.mbox", 20))
    hunk = Hunk(1, 0, 1, 1, section=f"static int {EVIL}(void)", lines=(line,),
                comments=(ReviewComment(f"Rev {EVIL}", f"looks {EVIL}", depth=1),))
    fp = FilePatch(f"drivers/{EVIL}.c", f"drivers/{EVIL}.c", hunks=(hunk,))
    return Patch(subject=f"net: {EVIL}", files=(fp,), author=f"Mallory {EVIL} <m@x>",
                 date=EVIL, message_id=f"{EVIL}@x", body=f"message {EVIL}\n",
                 trailers=(Trailer("Signed-off-by", f"M {EVIL}"),), number=1, total=1)


def _hostile_result() -> PortResult:
    patch = _hostile_patch()
    hunk = patch.files[0].hunks[0]
    placement = Placement(hunk, Method.FUZZY, patch.files[0].path, 3, confidence=0.5, applied=False,
                          evidence=(f"ev {EVIL}",), target_old=(f"old {EVIL}",), target_new=(f"new {EVIL}",))
    finding = Finding("low-confidence-placement", Severity.ERROR, f"msg {EVIL}", SourceRef("evil.mbox", 20),
                      (f"drivers/x.c:3: {EVIL}",), f"hint {EVIL}")
    return PortResult(patch, (placement,), (finding,), status=Status.BLOCKED, leftovers=EVIL)


def test_summary_table_escapes_the_subject_in_colour_and_plain():
    results = [_hostile_result()]
    plain = render_summary(results, color=False)
    assert "\x1b" not in plain and "\r" not in plain and "\u202e" not in plain
    assert "\\x1b" in plain  # the subject is shown, made visible
    coloured = render_summary(results, color=True, width=200)
    assert RE_SGR.search(coloured)  # our own colours are still there
    assert "\x1b" not in RE_SGR.sub("", coloured) and "\x07" not in coloured and "\u202e" not in coloured


def test_plain_summary_escapes_subjects_and_finding_messages():
    assert_defused(render_plain_summary([_hostile_result()]))


def test_show_text_escapes_every_field_at_every_verbosity():
    series = Series(patches=(_hostile_patch(),), warnings=(f"evil.mbox:1: warning: {EVIL}",))
    for verbose in (0, 1, 2):
        text = render_series_text(series, verbose=verbose)
        assert_defused(text)
    full = render_series_text(series, verbose=2)
    assert full.count("\\x1b]0;pwned\\x07") >= 8  # subject, author, path, line, trailer, comment, ...


def test_checklist_escapes_finding_messages_paths_and_code():
    text = render_checklist([_hostile_result()], Series(patches=(_hostile_patch(),)))
    assert_defused(text)


def test_backport_show_on_a_hostile_mail_prints_no_raw_escapes(tmp_path: Path, capsys):
    mail = tmp_path / "evil.mbox"
    mail.write_text(
        "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
        "From: =?utf-8?q?Mallory_=1B]0;pwned=07?= <m@example.org>\n"
        "Subject: [PATCH] =?utf-8?q?net:_=1B[2J=E2=80=AEfix?=\n"
        "Date: Mon, 1 Jan 2024 00:00:00 +0000\n\n"
        f"Body {EVIL}\n---\n"
        "diff --git a/drivers/x.c b/drivers/x.c\n--- a/drivers/x.c\n+++ b/drivers/x.c\n"
        f"@@ -1 +1 @@ {EVIL}\n-int a;\n+int a; /* {EVIL} */\n")
    main(["show", str(mail), "-vv"])
    out, err = capsys.readouterr()
    assert "Mallory" in out and "+int a;" in out
    for stream in (out, err):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "\\x1b[2J" in out
