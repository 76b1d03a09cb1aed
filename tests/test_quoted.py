"""Review replies: the quoted patch recovered at its depth, partial when snipped, comments kept."""

from __future__ import annotations

from pathlib import Path

from backport.ingest import load_series, parse_series_bytes
from backport.quoted import find_authors, find_quoted_diff, parse_quote_levels, parse_quoted_reply
from backport.series import MailHeaders

SAMPLE = Path(__file__).parent / "samples" / "review-reply.txt"


def test_quote_levels_and_authors():
    text = SAMPLE.read_text()
    lines = parse_quote_levels(text)
    assert lines[12].depth == 3 and lines[12].text == "On Fri, Feb 24 2017, Jane Porter wrote:"
    assert find_quoted_diff(text) == 4
    authors = find_authors(lines, "Jane Porter")
    assert authors == {0: "Jane Porter", 1: "Rob Reviewer", 2: "Jane Porter", 3: "Rob Reviewer", 4: "Jane Porter"}


def test_reply_recovers_partial_patch_with_comments():
    s = load_series([str(SAMPLE)])
    (p,) = s.patches
    assert p.subject == "arm64: ftrace: add HAVE_FOO_WITH_REGS" and p.version == 3 and p.number == 2
    assert p.partial and p.author == "Jane Porter"
    kconfig, entry = p.files
    assert kconfig.path == "arch/arm64/Kconfig" and (kconfig.old_blob, kconfig.new_blob) == ("1a2b3c4", "5d6e7f8")
    (h,) = kconfig.hunks
    # context lines that lost their leading space are read as context; the hunk is complete
    assert (h.old_count, h.new_count) == (6, 7) and len(h.lines) == 7
    assert h.added[0].text == " select HAVE_FOO_WITH_REGS if HAVE_FOO"
    lines = SAMPLE.read_text().splitlines()
    assert lines[h.lines[-1].ref.line - 1] == "> >> > select HAVE_QUX"
    assert [(c.author, c.depth, c.text) for c in h.comments] == [
        ("Rob Reviewer", 3, "Shouldn't this depend on !OLD_MCOUNT instead?"),
        ("Jane Porter", 2, "No, the text patching needs OLD_MCOUNT here."),
        ("Rob Reviewer", 1, "It does not, look again."),
        ("Jane Porter", 0, "Right, I will fix that."),
    ]
    (h2,) = entry.hunks
    assert (h2.old_count, h2.new_count) == (3, 5)  # cut short by the reviewer
    assert h2.comments[0].text == "Being a constant, the saved pc is not very useful."
    assert [c.text for c in p.comments] == ["Hi Jane,"]
    assert any("hunk header says 12 lines, found 3" in w for w in s.warnings)
    assert any("snipped (2 '<snip>' marks)" in w for w in s.warnings)
    assert any(w.startswith(f"{SAMPLE}:22: warning: context line") for w in s.warnings)


def test_reply_as_a_mail_uses_its_headers():
    body = SAMPLE.read_text().split("\n\n\n", 1)[1]
    hdr = MailHeaders(subject="Re: [PATCH v3 2/2] arm64: ftrace: add HAVE_FOO_WITH_REGS",
                      author="Jane Porter <jane@example.org>", in_reply_to="x@y")
    p, warnings = parse_quoted_reply(body, hdr, origin="reply.eml", first_line=10)
    assert p.partial and p.in_reply_to == "x@y" and len(p.files) == 2
    assert p.files[0].hunks[0].comments[-1].author == "Jane Porter"
    assert p.files[0].hunks[0].ref.line == 10 + 14  # line 21 of the file, whose line 7 is 10


def test_reply_folds_into_the_patch_it_quotes(tmp_path):
    patch = (
        "From: Jane Porter <jane@example.org>\nSubject: [PATCH v3 2/2] arm64: ftrace: add HAVE_FOO_WITH_REGS\n"
        "Message-Id: <p2@x>\n\nWords.\n\nSigned-off-by: Jane Porter <jane@example.org>\n---\n"
        "diff --git a/arch/arm64/Kconfig b/arch/arm64/Kconfig\nindex 1a2b3c4..5d6e7f8 100644\n"
        "--- a/arch/arm64/Kconfig\n+++ b/arch/arm64/Kconfig\n@@ -10,6 +10,7 @@ config ARM64\n"
        " \tselect HAVE_DMA_API_DEBUG\n \tselect HAVE_DMA_CONTIGUOUS\n \tselect HAVE_FOO if MMU\n"
        "+\tselect HAVE_FOO_WITH_REGS if HAVE_FOO\n \tselect HAVE_BAR\n \tselect HAVE_BAZ\n \tselect HAVE_QUX\n"
    )
    reply = SAMPLE.read_text().split("\n\n\n", 1)[1]
    mbox = tmp_path / "thread.mbox"
    mbox.write_text(
        "From x Mon Sep 17 00:00:00 2001\n" + patch + "\n"
        "From y Mon Sep 17 00:00:00 2001\nFrom: Jane Porter <jane@example.org>\n"
        "Subject: Re: [PATCH v3 2/2] arm64: ftrace: add HAVE_FOO_WITH_REGS\nIn-Reply-To: <p2@x>\n\n" + reply)
    s = load_series([str(mbox)])
    (p,) = s.patches
    assert not p.partial and p.message_id == "p2@x"
    assert len(p.files[0].hunks[0].comments) == 4
    assert p.files[0].hunks[0].lines[3].text == "\tselect HAVE_FOO_WITH_REGS if HAVE_FOO"


def test_follow_up_trailers_from_replies(tmp_path):
    def mail(sender: str, subject: str, mid: str, body: str, reply_to: str = "") -> str:
        irt = f"In-Reply-To: <{reply_to}>\n" if reply_to else ""
        return (f"From x Mon Sep 17 00:00:00 2001\nFrom: {sender}\nSubject: {subject}\nMessage-Id: <{mid}>\n"
                f"{irt}\n{body}\n")

    diff = ("---\ndiff --git a/a.c b/a.c\nindex 1111111..2222222 100644\n--- a/a.c\n+++ b/a.c\n"
            "@@ -1 +1 @@\n-old\n+new\n")
    mbox = tmp_path / "t.mbox"
    mbox.write_text(
        mail("A <a@x>", "[PATCH 0/2] two fixes", "c@x", "Cover.")
        + mail("A <a@x>", "[PATCH 1/2] one", "1@x", "One.\n\nSigned-off-by: A <a@x>\n" + diff, "c@x")
        + mail("A <a@x>", "[PATCH 2/2] two", "2@x", "Two.\n\nSigned-off-by: A <a@x>\n" + diff, "c@x")
        + mail("T <t@x>", "Re: [PATCH 0/2] two fixes", "r1@x", "> Cover.\n\nTested-by: T <t@x>", "c@x")
        + mail("R <r@x>", "Re: [PATCH 2/2] two", "r2@x", "Looks right.\n\nReviewed-by: R <r@x>", "2@x"))
    s = load_series([str(mbox)])
    one, two = s.patches
    assert one.trailer_values("Tested-by") == ("T <t@x>",) and not one.trailer_values("Reviewed-by")
    assert two.trailer_values("Tested-by") == ("T <t@x>",) and two.trailer_values("Reviewed-by") == ("R <r@x>",)
    assert not s.warnings


def test_plain_depth_one_review_with_tight_quoting():
    reply = (
        "From: Rob Reviewer <rob@example.org>\nSubject: Re: [PATCH] mm: fix\nIn-Reply-To: <p@x>\n\n"
        "On Mon, 6 Mar 2017, Jane Porter wrote:\n"
        ">diff --git a/mm/a.c b/mm/a.c\n>index 1111111..2222222 100644\n>--- a/mm/a.c\n>+++ b/mm/a.c\n"
        ">@@ -1,3 +1,3 @@\n> int a;\n>-int b;\n>+long b;\n"
        "\nWhy long?\n\n"
        "> int c;\n>@@ -10,2 +10,2 @@\n>-x\n>+y\n> z\n\nReviewed-by: Rob Reviewer <rob@example.org>\n")
    s = parse_series_bytes(reply.encode(), origin="r.eml")
    (p,) = s.patches
    assert p.author == "Jane Porter" and p.in_reply_to == "p@x" and not p.partial
    h1, h2 = p.files[0].hunks
    assert [ln.text for ln in h1.lines] == ["int a;", "int b;", "long b;", "int c;"]
    assert [(c.author, c.text) for c in h1.comments] == [("Rob Reviewer", "Why long?")]
    assert h2.comments[0].text == "Reviewed-by: Rob Reviewer <rob@example.org>"
    assert p.trailer_values("Reviewed-by") == ("Rob Reviewer <rob@example.org>",)


def test_one_comment_per_reviewer_turn():
    text = ("On Mon, A wrote:\n> On Sun, B wrote:\n> > diff --git a/x.c b/x.c\n> > --- a/x.c\n> > +++ b/x.c\n"
            "> > @@ -1 +1 @@\n> > -a\n> > +b\n>\n> First point.\n>\n> Second point.\n\nMy answer.\n")
    p, _ = parse_quoted_reply(text, MailHeaders(subject="Re: [PATCH] x", author="C <c@x>"), origin="t")
    assert [(c.author, c.depth, c.text) for c in p.files[0].hunks[0].comments] == [
        ("A", 1, "First point.\n\nSecond point."), ("C", 0, "My answer.")]
    assert p.author == "B"
