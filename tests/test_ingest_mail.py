"""Mail as it really arrives: MIME attachments, quoted-printable, base64, charsets, CRLF,
mboxrd ``>From`` escaping, hostile nesting; plus `backport show` on every form."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from backport.cli import main
from backport.errors import ParseError
from backport.ingest import load_series, parse_series_bytes
from backport.series import parse_subject

SAMPLES = Path(__file__).parent / "samples"
DIFF = (SAMPLES / "binary-literal.diff").read_text().split("Binary files")[0].split("diff --git a/drivers")[1]
DIFF = "diff --git a/drivers" + DIFF


@pytest.mark.parametrize(("raw", "text", "prefixes", "version", "n", "total", "reply"), [
    ("[PATCH v2 3/4] x: y", "x: y", ("PATCH",), 2, 3, 4, False),
    ("[PATCHv4] arm: ftrace", "arm: ftrace", ("PATCH",), 4, None, None, False),
    ("[RFC PATCH bpf-next v2 1/4] a b", "a b", ("RFC", "PATCH", "bpf-next"), 2, 1, 4, False),
    ("Re: [PATCH] powerpc/ftrace: fix", "powerpc/ftrace: fix", ("PATCH",), 1, None, None, True),
    ("RE: Re: [PATCH 07/12][RESEND] z", "z", ("PATCH", "RESEND"), 1, 7, 12, True),
    ("[PATCH V3 0/7] cover", "cover", ("PATCH",), 3, 0, 7, False),
    ("[PATCH 5.10 012/345] stable", "stable", ("PATCH", "5.10"), 1, 12, 345, False),
    ("plain subject", "plain subject", (), 1, None, None, False),
])
def test_subject_spellings(raw, text, prefixes, version, n, total, reply):
    s = parse_subject(raw)
    assert (s.text, s.prefixes, s.version, s.number, s.total, s.is_reply) == (text, prefixes, version, n, total, reply)


def test_mime_attachment_base64_and_qp_latin1():
    data = (SAMPLES / "mime-attachment.eml").read_bytes()
    s = parse_series_bytes(data, origin="m.eml")
    (p,) = s.patches
    assert p.author == "J\u00f6rg Kernel <joerg@example.org>"
    assert p.subject == "net: foo: fix the frobnicator" and p.prefixes == ("RFC", "PATCH", "net-next")
    assert p.version == 2 and (p.number, p.total) == (1, 1)
    assert "fr\u00f6bbed" in p.body and p.upstream_ids == ("0123456789abcdef0123456789abcdef01234567",)
    assert p.trailer_values("Signed-off-by") == ("J\u00f6rg Kernel <joerg@example.org>",)
    assert p.files[0].path == "drivers/net/foo.c" and p.files[0].hunks[0].added[0].text == "\treturn -ENODEV;"
    assert p.message_id == "20170306100000.1234-1-joerg@example.org"
    assert p.files[0].render() == DIFF
    assert p.files[0].ref.path == "m.eml" and p.files[0].ref.line > 20


def _mail(body: str, *, cte: str = "8bit", charset: str = "utf-8", subject: str = "[PATCH] foo: fix") -> EmailMessage:
    m = EmailMessage()
    m["From"] = "A U Thor <a@example.org>"
    m["Subject"] = subject
    m["Message-Id"] = "<1@example.org>"
    m.set_content(body, charset=charset, cte=cte)
    return m


@pytest.mark.parametrize("cte", ["quoted-printable", "base64", "8bit"])
def test_inline_patch_in_every_transfer_encoding(cte):
    body = "Fix it \u2013 properly.\n\nSigned-off-by: A <a@example.org>\n---\n" + DIFF
    data = bytes(_mail(body, cte=cte))
    (p,) = parse_series_bytes(data, origin="x.eml").patches
    assert p.body.startswith("Fix it \u2013 properly.") and p.files[0].render() == DIFF


def test_crlf_line_ends_are_mail_transport():
    data = bytes(_mail("Body.\n---\n" + DIFF)).replace(b"\n", b"\r\n")
    (p,) = parse_series_bytes(data, origin="x.eml").patches
    assert p.files[0].render() == DIFF and not p.files[0].hunks[0].lines[0].text.endswith("\r")


def test_mboxrd_from_escaping_is_undone():
    body = "First line.\n>From the start it was wrong.\n\nSigned-off-by: A <a@example.org>\n---\n" + DIFF
    data = b"From abc Mon Sep 17 00:00:00 2001\n" + bytes(_mail(body))
    (p,) = parse_series_bytes(data, origin="x.mbox").patches
    assert "\nFrom the start it was wrong." in p.body


def test_patch_attached_as_a_whole_format_patch_mail():
    inner = bytes(_mail("Inner body.\n---\n" + DIFF, subject="[PATCH 1/1] inner: fix"))
    outer = EmailMessage()
    outer["From"] = "B <b@example.org>"
    outer["Subject"] = "please apply"
    outer.set_content("See attached.\n")
    outer.add_attachment(inner, maintype="text", subtype="x-patch", filename="0001-inner.patch")
    (p,) = parse_series_bytes(bytes(outer), origin="o.eml").patches
    assert p.subject == "inner: fix" and p.files[0].render() == DIFF


def test_deep_mime_nesting_is_refused():
    data = b"From: a@b\nSubject: x\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for i in range(30):
        data += f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n".encode()
    data += b"--b30\nContent-Type: text/plain\n\nhi\n"
    with pytest.raises(ParseError, match="nested deeper"):
        parse_series_bytes(data, origin="bomb.eml")


@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe", b"From \n", b"From: x\n", b"@@ -1 +1 @@\n-a\n+b\n",
                                  b"diff --git a/x b/x\n@@ -1,3 +1,3 @@\n a\n", base64.b64encode(b"z" * 99)])
def test_garbage_only_raises_parse_errors(data):
    with pytest.raises(ParseError) as e:
        parse_series_bytes(data, origin="g")
    assert str(e.value).startswith("g")


def test_latin1_diff_body_keeps_its_characters():
    body = "Body.\n---\n" + DIFF.replace("-ENODEV", "-ENODEV; /* d\u00e9j\u00e0 */")
    data = bytes(_mail(body, charset="iso-8859-1", cte="quoted-printable"))
    (p,) = parse_series_bytes(data, origin="l.eml").patches
    assert p.files[0].hunks[0].added[0].text == "\treturn -ENODEV; /* d\u00e9j\u00e0 */;"


# ---------------------------------------------------------------- backport show


@pytest.mark.parametrize("sample", ["mime-attachment.eml", "review-reply.txt", "quilt-style.diff",
                                    "binary-literal.diff"])
def test_show_text_and_json(sample, capsys):
    path = str(SAMPLES / sample)
    assert main(["show", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("series v") and "patch" in out
    assert main(["show", "--format", "json", path]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["patches"] and doc["origin"] == [path]
    series = load_series([path])
    assert len(doc["patches"]) == len(series.patches)


def test_show_warnings_on_stderr_and_fail_on(capsys):
    path = str(SAMPLES / "review-reply.txt")
    assert main(["show", path]) == 0
    err = capsys.readouterr().err
    assert ": warning: " in err
    assert main(["show", "--fail-on", "warning", path]) == 1


def test_show_bad_input_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.patch"
    bad.write_text("Subject: [PATCH] x\nFrom: a@b\n\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n")
    assert main(["show", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{bad}:8: error: hunk header says 3 lines, found 2"]


def test_show_help_is_clear(capsys):
    with pytest.raises(SystemExit):
        main(["show", "--help"])
    out = capsys.readouterr().out
    assert "SERIES" in out and "--upstream" in out and "--format" in out


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()))
def test_every_sample_round_trips(sample):
    """What each patch's files render to is exactly the diff text it was read from."""
    series = load_series([str(SAMPLES / sample)])
    raw = (SAMPLES / sample).read_text()
    for p in series.patches:
        rendered = "".join(f.render() for f in p.files)
        assert rendered == p.diff_text
        exact = not p.partial and "base64" not in raw
        if exact:
            assert all(f.render() in raw for f in p.files)
        lines = raw.splitlines()
        for f in p.files:
            for h in f.hunks:
                assert h.ref.path == str(SAMPLES / sample) and h.ref.line > 0
                if exact:
                    assert lines[h.ref.line - 1] == h.header().rstrip("\n")
                for ln in h.lines:
                    if "base64" not in raw and ln.text.strip():
                        assert lines[ln.ref.line - 1].endswith(ln.text.strip())


def test_too_many_mime_parts_is_refused():
    data = (b"From: a@b\nSubject: x\nContent-Type: multipart/mixed; boundary=b\n\n"
            + b"--b\nContent-Type: text/plain\n\nsome text here\n" * 1500)
    with pytest.raises(ParseError, match="more than 1000 MIME parts"):
        parse_series_bytes(data, origin="wide.eml")


def test_format_flowed_mail_is_unflowed():
    body = ("This fixes the frobnicator so that it no longer frobs twice when \n"
            "the moon is full.\n\nSigned-off-by: A <a@example.org>\n---\n"
            + DIFF.replace("\n ", "\n  "))  # space-stuffing of the context lines
    raw = ("From: A <a@example.org>\nSubject: [PATCH] foo: fix\n"
           "Content-Type: text/plain; charset=utf-8; format=flowed\n\n" + body).encode()
    s = parse_series_bytes(raw, origin="f.eml")
    (p,) = s.patches
    assert p.body.startswith("This fixes the frobnicator so that it no longer frobs twice when the moon is full.")
    assert p.files[0].render() == DIFF
    assert any("format=flowed" in w for w in s.warnings)


def test_show_verbose_prints_message_hunks_and_lines(capsys):
    path = str(SAMPLES / "mime-attachment.eml")
    assert main(["show", "-vv", path]) == 0
    out = capsys.readouterr().out
    assert "[RFC PATCH net-next v2 1/1] net: foo: fix the frobnicator" in out
    assert "upstream: 0123456789abcdef0123456789abcdef01234567" in out
    assert "      | The frobnicator was fr\u00f6bbed twice." in out
    assert "@@ -10,3 +10,3 @@ static int foo_probe(struct device *dev)  (" + path + ":30)" in out
    assert "        +\treturn -ENODEV;" in out
    assert not any(line != line.rstrip() for line in out.splitlines())
