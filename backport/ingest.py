"""Series ingestion (stage: ingest): every way a kernel engineer receives a series -> model.Series.

Inputs: paths (one ``git format-patch`` file per patch, a directory of them, an mbox, a
maildir, a quilt ``series`` directory, a plain ``diff -u`` / ``git diff`` file, ``git show`` /
``git log -p`` output, a Debian DEP-3 patch, a review reply quoting a patch, ``-`` for stdin) or ``A..B`` ranges of
an ``--upstream`` git repo; or bytes.
Outputs: one ``Series`` (cover letter, patches in order, chosen version, warnings as
``path:line: warning: ...``); every hunk line keeps its origin ``SourceRef(path, line)``.

Mail as it arrives is handled with the stdlib ``email`` package: MIME multipart with the
patch inline or attached, quoted-printable and base64, other charsets, CRLF line ends,
mboxrd ``>From `` escaping. Several versions in one mbox: the newest complete one wins (as
b4 picks), holes (in one line, ``1 of 104 patches given: 42``; not at all when several
files each holding one numbered patch were named: a deliberate pick) and duplicates in the
numbering are reported. Bounded: MIME nesting,
part and file sizes are limited and refused with a ParseError, never a traceback.
"""

from __future__ import annotations

import datetime
import email
import email.errors
import email.policy
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import Message
from pathlib import Path

from .errors import ParseError, TreeError, UnsafePathError, UsageError
from .model import Patch, ReviewComment, Series, SourceRef, Trailer
from .quoted import find_quoted_diff, parse_quoted_reply
from .series import (
    RE_GIT_HEADER,
    MailHeaders,
    parse_diff_lenient,
    parse_patch_text,
    parse_subject,
    split_lines,
)
from .target import check_relpath

# From 7b53f86c0ffee1234567890abcdef0123456789a Mon Sep 17 00:00:00 2001
RE_MBOX_FROM = re.compile(rb"^From (\S+) ?.*$")
# From 7b53f86c Mon Sep 17 00:00:00 2001   (the full date form: a separator even without a blank line)
RE_MBOX_FROM_DATE = re.compile(rb"^From \S+ +\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\s*$")
# Origin: upstream, https://git.kernel.org/linus/80d6b0c2eed2a8a1a6ee46cb6a41e4a0fd4e8a3c
RE_DEP3_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$")
RE_DEP3_KEY = re.compile(rb"^(?:Description|Origin):", re.M | re.I)
RE_SHA40 = re.compile(r"\b([0-9a-f]{40})\b")
# Content-Type: text/x-patch; name="0001-fix.patch"
RE_CONTENT_TYPE = re.compile(rb"^content-type:", re.I | re.M)
# Content-Type: multipart/mixed; boundary="------------2A9C1E7F"
RE_BOUNDARY = re.compile(rb"boundary\s*=", re.I)
# commit 80d6b0c2eed2a8a1a6ee46cb6a41e4a0fd4e8a3c   (git show / git log -p output)
RE_GIT_SHOW = re.compile(rb"^commit [0-9a-f]{40}(?: \(.*\))?\n")
RE_GIT_SHOW_LINE = re.compile(r"^commit [0-9a-f]{40}(?: \(.*\))?$")
# Subject: [PATCH v2 1/4] ftrace: Allow users to disable ftrace direct call
RE_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
# >>From the mboxrd escaping of a body line that began with "From "
RE_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )", re.M)
# Reviewed-by: Mark Rutland <mark.rutland@arm.com>   (in a reply, unquoted)
RE_FOLLOW_UP = re.compile(r"^(Reviewed-by|Acked-by|Tested-by|Reported-by|Suggested-by|Nacked-by):\s*(\S.*)$")
# 80d6b0c2eed2a8a1a6ee46cb6a41e4a0fd4e8a3c
RE_SHA = re.compile(r"^[0-9a-f]{40}$")
# v5.10..v5.11   /   abc123~3..abc123   /   HEAD^!
RE_GIT_RANGE = re.compile(r"^[^\s-][^\s]*(?:\.\.\.?[^\s]+|\^!)$")
# v6.1   /   80d6b0c2eed2   /   HEAD~2 (one commit, taken as REV^!)
RE_REV = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./~^-]*$")

MAIL_HEADERS = (b"from:", b"subject:", b"date:", b"message-id:", b"to:", b"return-path:", b"received:")
PATCH_SUFFIXES = (".patch", ".diff", ".mbox", ".mbx", ".eml", ".txt", ".mail")
PATCH_TYPES = ("text/x-patch", "text/x-diff", "application/x-patch", "text/x-log",
               "application/x-diff", "text/diff", "application/octet-stream")
MAX_INPUT = 256 * 1024 * 1024
MAX_PART = 64 * 1024 * 1024
MAX_DEPTH = 20
DIFF_LINE_STARTS = (" ", "+", "-", "@@ ", "\\")
MAX_PARTS = 1000
MAX_LINE = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Text:
    """One text part of a message, decoded, with the line it starts at in the input."""

    text: str
    first_line: int
    attachment: bool = False


@dataclass
class _Item:
    """A message turned into a Patch, with where it was found."""

    patch: Patch
    order: int
    from_sha: str = ""


# ---------------------------------------------------------------- bytes to messages


def _normalize(data: bytes) -> bytes:
    """CRLF to LF when every line ends in CRLF (mail transport); lone CRs are content, unless
    no line ends in LF at all (old Mac line ends): then every CR ends a line."""
    if b"\n" not in data and b"\r" in data:
        return data.replace(b"\r", b"\n")
    if b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n"):
        return data.replace(b"\r\n", b"\n")
    return data


def _check_lines(data: bytes, origin: str, first_line: int = 1) -> None:
    if len(data) <= MAX_LINE:
        return
    for n, line in enumerate(data.split(b"\n")):
        if len(line) > MAX_LINE:
            raise ParseError(f"line of {len(line)} bytes is too long", SourceRef(origin, first_line + n))


def _check_boundaries(raw: bytes, origin: str, first_line: int) -> None:
    """Refuse a mail declaring more MIME boundaries than MAX_DEPTH nesting can use, before the
    stdlib parser spends superlinear time on the nesting (a cheap DoS otherwise)."""
    limit = 4 * MAX_DEPTH
    for n, m in enumerate(RE_BOUNDARY.finditer(raw), 1):
        if n > limit:
            line = first_line + raw.count(b"\n", 0, m.start())
            raise ParseError(f"MIME parts nested deeper than {MAX_DEPTH} (more than {limit} boundaries declared)",
                             SourceRef(origin, line))


def split_mbox(data: bytes) -> list[tuple[int, bytes, str]]:
    """Cut an mbox into (first line, message bytes, sha of the ``From <sha>`` line) triples.

    A ``From `` line only separates messages at the start or after a blank line, and only
    when a header follows it, so a body line that slipped through unescaped does not split.
    """
    lines = data.split(b"\n")
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if not line.startswith(b"From ") or (i and lines[i - 1].strip() and not RE_MBOX_FROM_DATE.match(line)):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else b""
        if RE_HEADER_LINE.match(nxt) or (i == 0 and not nxt.strip()):
            m = RE_MBOX_FROM.match(line)
            token = m.group(1).decode("ascii", "replace") if m else ""
            starts.append((i, token if RE_SHA.match(token) else ""))
    out: list[tuple[int, bytes, str]] = []
    for k, (i, sha) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        body = b"\n".join(lines[i + 1 : end])
        out.append((i + 2, RE_MBOXRD_ESCAPE.sub(rb"\1", body), sha))
    return out


def _looks_like_mail(data: bytes) -> bool:
    head = data.lstrip(b"\n")[:8192].split(b"\n\n", 1)[0].split(b"\n")
    if not head or not RE_HEADER_LINE.match(head[0]):
        return False
    return any(line.lower().startswith(MAIL_HEADERS) for line in head if RE_HEADER_LINE.match(line))


def _header(msg: Message, name: str) -> str:
    """A header decoded (RFC 2047) and unfolded; '' when absent or beyond repair."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - the stdlib header parsers fail in many ways; keep the raw text
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if value is None:
        return ""
    return " ".join(str(value).split())


def _charset_decode(payload: bytes, charset: str | None, origin: str, line: int, warnings: list[str]) -> str:
    name = (charset or "utf-8").strip().strip('"').lower() or "utf-8"
    if name in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        name = "utf-8"
    try:
        return payload.decode(name, "surrogateescape" if name in ("utf-8", "utf8") else "replace")
    except LookupError:
        warnings.append(f"{origin}:{line}: warning: unknown charset {name!r}; read as UTF-8")
        return payload.decode("utf-8", "surrogateescape")


def _part_line(raw: bytes, part: Message, cursor: list[int], fallback: int, base: int) -> int:
    """The input line where ``part``'s body starts (best effort for encoded parts).

    ``cursor`` is [byte offset, newlines before it] where the previous part was found: parts
    come in order, so the search and the line count go on from there.
    """
    payload = part.get_payload(decode=False)
    if not isinstance(payload, str):
        return fallback
    lines = payload.split("\n", 200)[:200]
    j = next((k for k, ln in enumerate(lines) if len(ln.strip()) > 8), -1)
    if j < 0:
        return fallback
    idx = raw.find(lines[j][:120].encode("utf-8", "surrogateescape"), cursor[0])
    if idx < 0:
        return fallback
    cursor[1] += raw.count(b"\n", cursor[0], idx)
    cursor[0] = idx
    return base + cursor[1] - j


def unflow(text: str, *, delsp: bool = False) -> str:
    """Undo RFC 3676 ``format=flowed``: unstuff leading spaces, join soft line breaks."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]
        # diff lines keep their trailing blanks: a soft break only ends a line of prose
        if line.endswith(" ") and line != "-- " and not (pending + line).startswith(DIFF_LINE_STARTS):
            pending += line[:-1] if delsp else line
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return "\n".join(out)


def _texts(raw: bytes, msg: Message, origin: str, first_line: int, warnings: list[str]) -> list[_Text]:
    """The text parts of a message in order, decoded, each with its starting line."""
    head_end = raw.find(b"\n\n")
    body_line = first_line + (raw[:head_end].count(b"\n") + 2 if head_end >= 0 else 0)
    out: list[_Text] = []
    cursor = [max(head_end, 0), raw.count(b"\n", 0, max(head_end, 0))]
    parts = [0]

    def walk(part: Message, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ParseError(f"MIME parts nested deeper than {MAX_DEPTH}", SourceRef(origin, first_line))
        parts[0] += 1
        if parts[0] > MAX_PARTS:
            raise ParseError(f"mail has more than {MAX_PARTS} MIME parts", SourceRef(origin, first_line))
        if part.is_multipart():
            sub = part.get_payload()
            if isinstance(sub, list):
                for p in sub:
                    if isinstance(p, Message):
                        walk(p, depth + 1)
            return
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        name = part.get_filename() or ""
        textual = ctype.startswith("text/") or ctype in PATCH_TYPES or name.endswith((".patch", ".diff"))
        if not textual or ctype == "text/html":
            return
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return
        if len(payload) > MAX_PART:
            raise ParseError(f"MIME part of {len(payload)} bytes is larger than {MAX_PART}", SourceRef(origin, first_line))
        if part is msg:
            line = body_line
        else:
            line = _part_line(raw, part, cursor, body_line, first_line)
        text = _charset_decode(payload, part.get_content_charset(), origin, line, warnings)
        if cte in ("base64", "quoted-printable"):
            text = text.replace("\r\n", "\n")
        if str(part.get_param("format", "") or "").lower() == "flowed":
            delsp = str(part.get_param("delsp", "") or "").lower() == "yes"
            text = unflow(text, delsp=delsp)
            warnings.append(f"{origin}:{line}: warning: format=flowed mail undone (RFC 3676); "
                            "whitespace in the patch may still be damaged")
        out.append(_Text(text, line, attachment=disposition == "attachment" or part is not msg and bool(name)))

    walk(msg, 0)
    return out


# ---------------------------------------------------------------- messages to patches


def _mail_headers(msg: Message) -> MailHeaders:
    return MailHeaders(
        subject=_header(msg, "Subject"),
        author=_header(msg, "From"),
        date=_header(msg, "Date"),
        message_id=_header(msg, "Message-Id").strip("<>"),
        in_reply_to=_header(msg, "In-Reply-To").strip("<>"),
    )


def _has_diff(text: str) -> bool:
    return "\n@@ " in text or text.startswith("@@ ") or "\nGIT binary patch" in text or "\nBinary files " in text


def parse_message(raw: bytes, *, origin: str, first_line: int = 1) -> tuple[list[Patch], list[str]]:
    """One RFC 822 message (maybe MIME) to the patches it carries (0, 1, or attached ones)."""
    warnings: list[str] = []
    raw = _normalize(raw)
    _check_lines(raw, origin, first_line)
    if b"\n\n" not in raw and raw.strip():
        raise ParseError("truncated mail: its headers never end", SourceRef(origin, first_line))
    if len(RE_CONTENT_TYPE.findall(raw)) > MAX_PARTS:  # refuse before the stdlib parser spends time
        raise ParseError(f"mail has more than {MAX_PARTS} MIME parts", SourceRef(origin, first_line))
    _check_boundaries(raw, origin, first_line)
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        headers = _mail_headers(msg)
        texts = _texts(raw, msg, origin, first_line, warnings)
    except (ValueError, LookupError, TypeError, IndexError, AttributeError, UnicodeError, ArithmeticError,
            RecursionError, email.errors.MessageError) as e:
        raise ParseError(f"unreadable mail: {type(e).__name__}: {e}", SourceRef(origin, first_line)) from None
    patches: list[Patch] = []
    rest: list[_Text] = []
    for t in texts:
        data = t.text.encode("utf-8", "surrogateescape")
        if t.attachment and (data.startswith(b"From ") or _looks_like_mail(data)):
            sub, w = _parse_items(data, origin=origin, first_line=t.first_line)
            patches.extend(it.patch for it in sub)
            warnings.extend(w)
        else:
            rest.append(t)
    if patches and not any(_has_diff(t.text) for t in rest):
        return patches, warnings
    main = rest[0] if rest else _Text("", first_line)
    patch, pw = _patch_from_text(main, headers, origin)
    warnings.extend(pw)
    for t in rest[1:]:
        if not _has_diff(t.text):
            continue
        parsed = parse_diff_lenient(t.text, origin=origin, first_line=t.first_line, strict=True)
        warnings.extend(parsed.warnings)
        first = (parsed.files[0].ref.line if parsed.files[0].ref else t.first_line) - t.first_line
        diff_text = "\n".join(split_lines(t.text)[first:parsed.end]) + "\n"
        patch = replace(patch, files=patch.files + parsed.files, diff_text=patch.diff_text + diff_text)
    patches.append(replace(patch, ref=SourceRef(origin, first_line)))
    return patches, warnings


def _patch_from_text(t: _Text, headers: MailHeaders, origin: str) -> tuple[Patch, tuple[str, ...]]:
    """A body with a diff, or a review reply quoting one, or a mail with no diff at all."""
    patch, warnings = parse_patch_text(t.text, headers, origin=origin, first_line=t.first_line, need_diff=False)
    if not patch.files and find_quoted_diff(t.text):
        return parse_quoted_reply(t.text, headers, origin=origin, first_line=t.first_line)
    return patch, warnings


def parse_series_bytes(data: bytes, *, origin: str, first_line: int = 1) -> Series:
    """The patches in one input's bytes: an mbox, one mail, a plain diff or a quoted reply."""
    items, warnings = _parse_items(data, origin=origin, first_line=first_line)
    return _assemble(items, origin=(origin,), warnings=warnings, where=SourceRef(origin, first_line))


def _parse_items(data: bytes, *, origin: str, first_line: int = 1) -> tuple[list[_Item], list[str]]:
    if len(data) > MAX_INPUT:
        raise ParseError(f"input of {len(data)} bytes is larger than {MAX_INPUT}", SourceRef(origin, first_line))
    data = _normalize(data)
    _check_lines(data, origin, first_line)
    items: list[_Item] = []
    warnings: list[str] = []
    lead = len(data) - len(data.lstrip(b"\n"))
    skip = data[:lead].count(b"\n")
    if data[lead:].startswith(b"From "):
        messages = split_mbox(data)
        if not messages:
            raise ParseError("mbox 'From ' line without a message after it", SourceRef(origin, first_line))
        for line, raw, sha in messages:
            patches, w = parse_message(raw, origin=origin, first_line=first_line + line - 1)
            warnings.extend(w)
            items.extend(_Item(p, len(items) + k, sha) for k, p in enumerate(patches))
    elif RE_DEP3_KEY.search(data[lead:].split(b"\n\n", 1)[0][:65536]) and (
            dep3 := parse_dep3(data[lead:].decode("utf-8", "surrogateescape"), origin=origin,
                               first_line=first_line + skip)):
        warnings.extend(dep3[1])
        items.append(_Item(dep3[0], 0))
    elif _looks_like_mail(data[lead:]):
        patches, w = parse_message(data[lead:], origin=origin, first_line=first_line + skip)
        warnings.extend(w)
        items.extend(_Item(p, k) for k, p in enumerate(patches))
    elif RE_GIT_SHOW.match(data[lead:]):
        text = data[lead:].decode("utf-8", "surrogateescape")
        for patch, gw in _oldest_first(parse_git_log(text, origin=origin, first_line=first_line + skip)):
            warnings.extend(gw)
            items.append(_Item(patch, len(items)))
    else:
        text = data.decode("utf-8", "surrogateescape")
        patch, pw = _patch_from_text(_Text(text, first_line), MailHeaders(), origin)
        warnings.extend(pw)
        items.append(_Item(patch, 0))
    return items, warnings


def parse_dep3(text: str, *, origin: str, first_line: int = 1) -> tuple[Patch, tuple[str, ...]] | None:
    """A Debian DEP-3 patch (``Description:``, ``Author:``, ``Origin:`` headers), or None."""
    lines = text.split("\n")
    fields: dict[str, str] = {}
    i = 0
    key = ""
    while i < len(lines) and lines[i].strip():
        m = RE_DEP3_FIELD.match(lines[i])
        if m:
            key = m.group(1).lower()
            fields[key] = m.group(2).strip()
        elif lines[i].startswith((" ", "\t")) and key:
            fields[key] += "\n" + lines[i].strip()
        else:
            return None
        i += 1
    if not ({"description", "subject"} & fields.keys()) or not ({"author", "from", "origin"} & fields.keys()):
        return None
    desc = (fields.get("description") or fields.get("subject") or "").split("\n")
    headers = MailHeaders(subject=desc[0], author=fields.get("author") or fields.get("from") or "",
                          date=fields.get("date") or fields.get("last-update", ""))
    patch, warnings = parse_patch_text("\n".join(lines[i + 1:]), headers, origin=origin,
                                       first_line=first_line + i + 1)
    ids = tuple(dict.fromkeys(RE_SHA40.findall(fields.get("origin", "")) + list(patch.upstream_ids)))
    more = "\n".join(ln.removeprefix(".") for ln in desc[1:])
    body = (more + "\n\n" + patch.body if patch.body else more + "\n") if more.strip() else patch.body
    return replace(patch, upstream_ids=ids, body=body, ref=SourceRef(origin, first_line)), warnings


def _git_date(value: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %Y %z")
    except ValueError:
        return None


def _oldest_first(found: list[tuple[Patch, tuple[str, ...]]]) -> list[tuple[Patch, tuple[str, ...]]]:
    """``git log`` lists the newest commit first: a series goes oldest first."""
    dates = [_git_date(p.date) for p, _ in found]
    if len(found) > 1 and dates[0] is not None and dates[-1] is not None and dates[0] > dates[-1]:
        return found[::-1]
    return found


def parse_git_log(text: str, *, origin: str, first_line: int = 1) -> list[tuple[Patch, tuple[str, ...]]]:
    """``git show`` / ``git log -p`` output: one Patch per ``commit <sha>`` block.

    The message is indented by four spaces there; it is dedented in place so every line
    keeps its number. The commit id becomes the patch's first upstream id.
    """
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if RE_GIT_SHOW_LINE.match(ln)]
    out: list[tuple[Patch, tuple[str, ...]]] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        block = lines[start:end]
        sha = block[0].split()[1]
        author = date = ""
        i = 1
        while i < len(block) and block[i].strip():
            key, _, value = block[i].partition(":")
            if key in ("Author", "AuthorDate", "Date"):
                author = value.strip() if key == "Author" else author
                date = value.strip() if key in ("Date", "AuthorDate") else date
            i += 1
        msg_start = i + 1
        j = msg_start
        while j < len(block) and (block[j].startswith("    ") or not block[j].strip()):
            if RE_GIT_HEADER.match(block[j]):
                break
            j += 1
        message = [ln[4:] for ln in block[msg_start:j]]
        subject = next((ln for ln in message if ln.strip()), "")
        skip = message.index(subject) + 1 if subject else 0
        while skip < len(message) and not message[skip].strip():
            skip += 1
        rest = "\n".join(message[skip:] + block[j:]) + "\n"
        headers = MailHeaders(subject=subject, author=author, date=date)
        line = first_line + start + msg_start + skip
        patch, w = parse_patch_text(rest, headers, origin=origin, first_line=line)
        ids = (sha,) + tuple(x for x in patch.upstream_ids if x != sha)
        out.append((replace(patch, upstream_ids=ids, ref=SourceRef(origin, first_line + start)), w))
    return out


# ---------------------------------------------------------------- patches to a series


def _is_cover(p: Patch) -> bool:
    return p.number == 0 or (not p.files and p.total is not None and p.number is None)


def _from_reply(p: Patch) -> bool:
    """A patch recovered from a review reply's quotes (not a patch in its own right)."""
    quoted = p.partial or bool(p.comments) or any(h.comments for f in p.files for h in f.hunks)
    return quoted and parse_subject(p.raw_subject).is_reply


def _merge_review(target: Patch, reply: Patch) -> Patch:
    """Put a reply's review comments on the matching hunks (same file, same old start)."""
    where: dict[tuple[str, int], list[ReviewComment]] = {}
    loose = list(reply.comments)
    for f in reply.files:
        for h in f.hunks:
            where.setdefault((f.path, h.old_start), []).extend(h.comments)
    files = []
    for f in target.files:
        hunks = []
        for h in f.hunks:
            extra = where.pop((f.path, h.old_start), [])
            hunks.append(replace(h, comments=h.comments + tuple(extra)) if extra else h)
        files.append(replace(f, hunks=tuple(hunks)))
    for extra in where.values():
        loose.extend(extra)
    return replace(target, files=tuple(files), comments=target.comments + tuple(loose))


def _fold_replies(items: list[_Item]) -> list[_Item]:
    """Replies quoting a patch that is itself in the input lend it their comments and vanish."""
    out = [it for it in items if not _from_reply(it.patch)]
    index = {(it.patch.subject, it.patch.version): k for k, it in enumerate(out) if it.patch.files}
    for it in items:
        if not _from_reply(it.patch):
            continue
        k = index.get((it.patch.subject, it.patch.version))
        if k is None:
            out.append(it)
        else:
            out[k] = _Item(_merge_review(out[k].patch, it.patch), out[k].order, out[k].from_sha)
    return sorted(out, key=lambda it: it.order)


def _follow_up_trailers(items: list[_Item]) -> list[_Item]:
    """``Reviewed-by:`` / ``Acked-by:`` / ``Tested-by:`` given in replies join the patch replied to
    (all patches when the reply answers the cover letter), as b4 collects them."""
    by_id = {it.patch.message_id: k for k, it in enumerate(items) if it.patch.message_id}
    out = [it.patch for it in items]
    for it in items:
        p = it.patch
        if (p.files and not _from_reply(p)) or p.in_reply_to not in by_id:
            continue
        said = [p.body] + [c.text for c in p.comments if c.depth == 0]
        said += [c.text for f in p.files for h in f.hunks for c in h.comments if c.depth == 0]
        given = [Trailer(m.group(1), m.group(2).strip(), p.ref)
                 for text in said for line in text.splitlines() if (m := RE_FOLLOW_UP.match(line))]
        if not given:
            continue
        target = by_id[p.in_reply_to]
        targets = [k for k, q in enumerate(out) if q.files] if _is_cover(out[target]) else [target]
        for k in targets:
            have = {(t.key.lower(), t.value) for t in out[k].trailers}
            new = tuple(t for t in given if (t.key.lower(), t.value) not in have)
            out[k] = replace(out[k], trailers=out[k].trailers + new)
    return [_Item(p, it.order, it.from_sha) for p, it in zip(out, items, strict=True)]


def _number_ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` -> ``1-3, 5, 7-8``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def describe_holes(given: Sequence[int], total: int) -> str | None:
    """One line for the numbers of an n/N series that were not given (None when none is
    missing): ``1 of 104 patches given: 42``, naming the missing ones too when they are not
    more (``103 of 104 patches given: 1-41, 43-104; missing: 42``). One line, not one per absent patch: a mail
    taken out of a stable review queue would otherwise bury every other warning."""
    have = sorted(set(given))
    missing = [n for n in range(1, total + 1) if n not in set(have)]
    if not missing:
        return None
    said = f"{len(have)} of {total} patches given: {_number_ranges(have)}"
    return said + f"; missing: {_number_ranges(missing)}" if len(missing) <= len(have) else said


def is_deliberate_pick(per_input: Sequence[Sequence[_Item]]) -> bool:
    """True when the user named the patches one by one: several inputs, each a file holding a
    single numbered patch of a larger series (``0003-x.patch 0007-y.patch``, two mails saved
    from a stable review queue). Holes in the numbering are then the point, not an accident."""
    if len(per_input) < 2:
        return False
    for items in per_input:
        with_diff = [it for it in items if it.patch.files and not _is_cover(it.patch)]
        if len(with_diff) != 1 or with_diff[0].patch.number is None or not with_diff[0].patch.total:
            return False
    return True


def _assemble(items: list[_Item], *, origin: tuple[str, ...], warnings: list[str], where: SourceRef,
              picked: bool = False) -> Series:
    """Pick the newest complete version, order by n/N, report holes (once, and not when the
    patches were ``picked`` one by one) and duplicates."""
    items = _fold_replies(_follow_up_trailers(items))
    covers = [it for it in items if _is_cover(it.patch)]
    patches = [it for it in items if not _is_cover(it.patch) and it.patch.files]
    skipped = [it for it in items if not _is_cover(it.patch) and not it.patch.files]
    for it in skipped:
        if not it.patch.raw_subject.lower().startswith(("re:", "aw:", "sv:")):
            ref = it.patch.ref or where
            subject = it.patch.raw_subject or "(no subject)"
            subject = subject if len(subject) <= 72 else subject[:69] + "..."
            warnings.append(f"{ref}: warning: no diff in message {subject!r}; skipped")
    if not patches and not covers:
        raise ParseError("no patch found (no diff, no cover letter)", where)
    if not patches:
        warnings.append(f"{where}: warning: only a cover letter, no patch with a diff")
    versions = sorted({it.patch.version for it in patches} | {it.patch.version for it in covers})
    chosen = versions[-1]
    if len(versions) > 1:
        complete = [v for v in versions if _complete([it for it in patches if it.patch.version == v])]
        chosen = complete[-1] if complete else versions[-1]
        why = "newest complete" if complete else "newest; none is complete"
        names = ", ".join(f"v{v}" for v in versions)
        warnings.append(f"{where}: warning: found versions {names} of the series; using v{chosen} ({why})")
    mine = [it for it in patches if it.patch.version == chosen]
    cover = next((it.patch for it in reversed(covers) if it.patch.version == chosen), None)
    by_number: dict[int, _Item] = {}
    loose: list[_Item] = []
    for it in mine:
        n = it.patch.number
        if n is None:
            loose.append(it)
            continue
        if n in by_number:
            ref = it.patch.ref or where
            warnings.append(f"{ref}: warning: patch {n}/{it.patch.total} appears more than once; keeping the last")
        by_number[n] = it
    totals = {it.patch.total for it in by_number.values() if it.patch.total}
    if cover is not None and cover.total:
        totals.add(cover.total)
    if len(totals) > 1:
        warnings.append(f"{where}: warning: patches disagree on the series length: {sorted(totals)}")
    if by_number:
        total = max(totals | {max(by_number)})
        hole = describe_holes(sorted(by_number), total)
        if hole and not picked:
            warnings.append(f"{where}: warning: {hole}")
    ordered = [by_number[n].patch for n in sorted(by_number)] + [it.patch for it in loose]
    return Series(patches=tuple(ordered), cover=cover, version=chosen, origin=origin, warnings=tuple(warnings))


def _complete(items: list[_Item]) -> bool:
    if not items:
        return False
    numbers = {it.patch.number for it in items if it.patch.number is not None}
    if not numbers:
        return True
    total = max((it.patch.total or 0) for it in items)
    return numbers >= set(range(1, total + 1))


# ---------------------------------------------------------------- paths, dirs, quilt, git ranges


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT:
            raise ParseError(f"file of {size} bytes is larger than {MAX_INPUT}", SourceRef(str(path), 1))
        return path.read_bytes()
    except OSError as e:
        raise ParseError(f"cannot read: {e.strerror or e}", SourceRef(str(path), 1)) from None


def find_quilt_series(directory: Path) -> Path | None:
    """The quilt ``series`` file of a directory (``series`` or ``patches/series``), if any."""
    for cand in (directory / "series", directory / "patches" / "series"):
        if cand.is_file():
            return cand
    return None


def _quilt_files(series_file: Path) -> list[Path]:
    out: list[Path] = []
    for n, line in enumerate(series_file.read_text("utf-8", "replace").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = SourceRef(str(series_file), n)
        try:
            check_relpath(words[0])
        except UnsafePathError as e:
            raise ParseError(f"quilt series entry {words[0]!r} points outside its directory: {e.message}",
                             where) from None
        path = series_file.parent / words[0]
        base = series_file.parent.resolve()
        if path.exists() and not path.resolve().is_relative_to(base):
            raise ParseError(f"quilt series entry {words[0]!r} resolves outside {base} (a symlink?)", where)
        if not path.is_file():
            raise ParseError(f"quilt series names {words[0]!r}, which does not exist", SourceRef(str(series_file), n))
        out.append(path)
    if not out:
        raise ParseError("quilt series file lists no patch", SourceRef(str(series_file), 1))
    return out


def _dir_files(directory: Path) -> list[Path]:
    if quilt := find_quilt_series(directory):
        return _quilt_files(quilt)
    if (directory / "cur").is_dir() or (directory / "new").is_dir():  # a maildir
        return sorted(p for sub in ("cur", "new") if (directory / sub).is_dir()
                      for p in (directory / sub).iterdir() if p.is_file())
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(PATCH_SUFFIXES))
    if not files:
        raise ParseError("directory holds no .patch, .diff, .mbox or .eml file and no quilt series",
                         SourceRef(str(directory)))
    return files


def load_git_range(repo_path: str, spec: str) -> Series:
    """Commits ``A..B`` (or ``X^!``, or one commit) of an upstream repo, as format-patch text."""
    items, warnings = _git_range_items(repo_path, spec)
    return _assemble(items, origin=(f"{repo_path}:{spec}",), warnings=warnings, where=SourceRef(repo_path))


def _git_range_items(repo_path: str, spec: str) -> tuple[list[_Item], list[str]]:
    from git import Repo
    from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

    if spec.startswith("-") or any(c.isspace() for c in spec):
        raise UsageError(f"{spec!r} is not a commit range")
    try:
        repo = Repo(repo_path)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise TreeError(f"{repo_path}: not a git repository") from None
    rng = spec if (".." in spec or spec.endswith("^!")) else f"{spec}^!"
    for end in re.split(r"\.\.\.?", rng.removesuffix("^!")):
        if not end:
            continue
        try:
            repo.git.rev_parse("--verify", "--quiet", f"{end}^{{commit}}")
        except GitCommandError:
            raise UsageError(f"{spec}: unknown revision {end!r} in {repo_path}") from None
    try:
        out = repo.git.format_patch("--stdout", "--full-index", "--binary", "--no-signature",
                                    rng, stdout_as_string=False)
    except GitCommandError as e:
        msg = (e.stderr or "").strip().splitlines()
        raise UsageError(f"{spec}: git format-patch failed: {msg[-1] if msg else e}") from None
    if not isinstance(out, bytes) or not out.strip():
        raise ParseError(f"range {spec} holds no commit", SourceRef(f"{repo_path}:{spec}"))
    origin = f"{repo_path}:{spec}"
    items: list[_Item] = []
    warnings: list[str] = []
    for line, raw, sha in split_mbox(out + b"\n"):
        patches, w = parse_message(raw, origin=origin, first_line=line)
        warnings.extend(w)
        for p in patches:
            ids = (sha,) + tuple(i for i in p.upstream_ids if i != sha) if sha else p.upstream_ids
            items.append(_Item(replace(p, upstream_ids=ids), len(items), sha))
    return items, warnings


def load_series(inputs: Sequence[str], *, upstream: str | None = None) -> Series:
    """Read every input (files, directories, ``-``, ranges with ``upstream``) into one Series."""
    if not inputs:
        raise UsageError("no series given")
    items: list[_Item] = []
    warnings: list[str] = []
    per_file: list[list[_Item]] = []  # what each input named on the command line holds
    for spec in inputs:
        loaded = _load_one(spec, upstream)
        per_file.append([it for sub, _ in loaded for it in sub] if Path(spec).is_file() else [])
        for sub, w in loaded:
            warnings.extend(w)
            items.extend(_Item(it.patch, len(items) + k, it.from_sha) for k, it in enumerate(sub))
    first = inputs[0]
    whole_file = first == "-" or Path(first).is_file()  # a whole-file error is said at its line 1
    where = SourceRef("<stdin>" if first == "-" else first, 1 if whole_file else 0)
    return _assemble(items, origin=tuple(inputs), warnings=warnings, where=where,
                     picked=is_deliberate_pick(per_file))


def _load_one(spec: str, upstream: str | None) -> list[tuple[list[_Item], list[str]]]:
    if spec == "-":
        return [_parse_items(sys.stdin.buffer.read(MAX_INPUT + 1), origin="<stdin>")]
    path = Path(spec)
    if path.is_dir():
        return [_parse_items(_read(p), origin=str(p)) for p in _dir_files(path)]
    if path.exists():
        return [_parse_items(_read(path), origin=spec)]
    if upstream is not None and (RE_GIT_RANGE.match(spec) or RE_REV.match(spec)):
        return [_git_range_items(upstream, spec)]
    if RE_GIT_RANGE.match(spec):
        raise UsageError(f"{spec}: looks like a commit range; say where with --upstream REPO")
    raise ParseError("no such file or directory", SourceRef(spec))
