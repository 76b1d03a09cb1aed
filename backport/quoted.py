"""Review-reply recovery (stage: ingest): a patch quoted inside a reply -> a partial Patch.

Inputs: the text of a reply (``> >> > `` quote levels, ``<snip>`` marks, ``On ..., X wrote:``
attributions, maybe archive headers like ``From: X`` / ``Date: ...`` on top), its mail headers,
and where it came from. Outputs: a ``Patch`` whose diff is read at the quote depth that holds
it, marked ``partial`` when hunks were snipped or cut short, with every reviewer paragraph kept
as a ``ReviewComment`` on the hunk it follows (``Patch.comments`` when no hunk precedes it),
attributed to the author of its quote depth; plus warnings. Every hunk line keeps the line it
had in the reply (quoted lines are not contiguous, so references are remapped).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

from .model import FilePatch, Hunk, HunkLine, Patch, ReviewComment, SourceRef, Trailer
from .series import MailHeaders, parse_diff_lenient, parse_patch_text

# > >> > select HAVE_DMA_API_DEBUG   (the quote markers, then one optional space)
RE_QUOTE = re.compile(r"^((?:[ \t]?>)+) ?")
# On Tue, Feb 28, 2017 at 11:58:49AM +0100, Nicolai Stange wrote:
RE_ATTRIBUTION = re.compile(r"^(?:On .*,\s*)?(.+?)\s+(?:wrote|writes|said):\s*$")
# <snip>   /   [snip]   /   [...]   /   --- snip ---
RE_SNIP = re.compile(r"^\s*(?:<\s*snip\s*>|\[\s*(?:snip|\.\.\.)\s*\]|-+ ?snip ?-+|\.\.\.)\s*$", re.I)
# diff --git a/arch/arm/Kconfig b/arch/arm/Kconfig   /   @@ -55,6 +55,7 @@ config ARM
RE_DIFF_START = re.compile(r"^(?:diff --git |@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@|--- a/|\+\+\+ b/)")
# From: Abel Vesa   (archive pages put the headers in the text)
RE_TEXT_HEADER = re.compile(r"^(From|Date|Subject):\s*(.+)$")
# Re: [PATCHv4] arm: ftrace: Adds support for CONFIG_DYNAMIC_FTRACE_WITH_REGS
RE_SUBJECT_LINE = re.compile(r"^(?:(?:Re|Fwd?):\s*)*\[[^\]]*PATCH[^\]]*\]", re.I)
# Reviewed-by: Rob Reviewer <rob@example.org>   (given by the replier, unquoted)
RE_REVIEW_TRAILER = re.compile(r"^(Reviewed-by|Acked-by|Tested-by|Nacked-by):\s*(\S.*)$")
# Abel Vesa <abelvesa@linux.com>   /   "Vesa, Abel" <a@b>
RE_NAME_MAIL = re.compile(r"^\"?([^\"<]+?)\"?\s*<[^>]*>$")


@dataclass(frozen=True, slots=True)
class QuotedLine:
    """One line of a reply: its quote depth, text without the markers, line in the input."""

    depth: int
    text: str
    line: int


def parse_quote_levels(text: str, *, first_line: int = 1) -> tuple[QuotedLine, ...]:
    """Each line with its quote depth (the number of ``>`` markers) and its unquoted text."""
    out: list[QuotedLine] = []
    for i, raw in enumerate(text.split("\n")):
        m = RE_QUOTE.match(raw)
        if m:
            out.append(QuotedLine(m.group(1).count(">"), raw[m.end():], first_line + i))
        else:
            out.append(QuotedLine(0, raw, first_line + i))
    if out and out[-1].text == "" and text.endswith("\n"):
        out.pop()
    return tuple(out)


def find_quoted_diff(text: str) -> int | None:
    """The quote depth holding a diff (the one with most diff headers), or None."""
    counts: dict[int, int] = {}
    for q in parse_quote_levels(text):
        if q.depth and RE_DIFF_START.match(q.text):
            counts[q.depth] = counts.get(q.depth, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda d: (counts[d], d))


def _attribution(text: str) -> re.Match[str] | None:
    """``On ..., X wrote:`` (short lines only: the pattern backtracks on long ones)."""
    return RE_ATTRIBUTION.match(text) if len(text) < 300 else None


def _short_name(author: str) -> str:
    m = RE_NAME_MAIL.match(author.strip())
    return m.group(1).strip() if m else author.strip()


def find_authors(lines: tuple[QuotedLine, ...], replier: str) -> dict[int, str]:
    """Who wrote each depth: ``On ..., X wrote:`` at depth d names the author of depth d+1."""
    authors = {0: replier}
    for q in lines:
        m = _attribution(q.text.strip())
        if m:
            name = m.group(1).split(", ")[-1].strip()
            authors.setdefault(q.depth + 1, _short_name(name))
    return authors


def _remap(files: tuple[FilePatch, ...], origin: str, table: list[int], base: int) -> tuple[FilePatch, ...]:
    """Replace refs into the rebuilt diff (``base + k``) by the reply's real line numbers."""

    def fix(ref: SourceRef | None) -> SourceRef | None:
        if ref is None:
            return None
        k = ref.line - base
        return SourceRef(origin, table[k]) if 0 <= k < len(table) else ref

    out: list[FilePatch] = []
    for f in files:
        hunks: list[Hunk] = []
        for h in f.hunks:
            lines = tuple(HunkLine(ln.kind, ln.text, ln.no_newline, fix(ln.ref)) for ln in h.lines)
            hunks.append(replace(h, lines=lines, ref=fix(h.ref)))
        out.append(replace(f, hunks=tuple(hunks), ref=fix(f.ref)))
    return tuple(out)


def _text_headers(lines: tuple[QuotedLine, ...], headers: MailHeaders) -> tuple[MailHeaders, set[int]]:
    """Fill what the mail headers lack from an archive page's top lines (and say which)."""
    subject, author, date = headers.subject, headers.author, headers.date
    used: set[int] = set()
    for q in lines[:12]:
        if q.depth:
            break
        if RE_SUBJECT_LINE.match(q.text.strip()):
            subject = subject or q.text.strip()
            used.add(q.line)
        elif m := RE_TEXT_HEADER.match(q.text.strip()):
            used.add(q.line)
            key, value = m.group(1), m.group(2).strip()
            if key == "From" and not author:
                author = value
            elif key == "Date" and not date:
                date = value
            elif key == "Subject" and not subject:
                subject = value
    return replace(headers, subject=subject, author=author, date=date), used


def _comments(lines: tuple[QuotedLine, ...], depth: int, authors: dict[int, str],
              origin: str, skip: set[int]) -> list[tuple[int, ReviewComment]]:
    """Each reviewer's turn (paragraphs at one depth between diff lines), with the line of
    the diff line before it."""
    out: list[tuple[int, ReviewComment]] = []
    last_diff = 0  # input line of the last patch line seen
    para: list[QuotedLine] = []

    def flush() -> None:
        if para:
            d = para[0].depth
            text = "\n".join(q.text.rstrip() for q in para).strip()
            author = authors.get(d, "")
            out.append((last_diff, ReviewComment(author, text, SourceRef(origin, para[0].line), d)))
            para.clear()

    for q in lines:
        if q.depth >= depth:
            flush()
            last_diff = q.line if q.depth == depth else last_diff
            continue
        stripped = q.text.strip()
        if not stripped:  # a paragraph break inside one reviewer's turn, or a separator
            if para and para[-1].depth == q.depth:
                para.append(q)
            continue
        if RE_SNIP.match(stripped) or _attribution(stripped) or q.line in skip:
            flush()
            continue
        if para and para[-1].depth != q.depth:
            flush()
        para.append(q)
    flush()
    return out


def parse_quoted_reply(text: str, headers: MailHeaders, *, origin: str,
                       first_line: int = 1) -> tuple[Patch, tuple[str, ...]]:
    """Recover the patch quoted in a review reply, with the reviewers' comments on its hunks."""
    lines = parse_quote_levels(text, first_line=first_line)
    depth = find_quoted_diff(text)
    headers, used = _text_headers(lines, headers)
    if depth is None:  # nothing quoted: read it as an ordinary body
        return parse_patch_text(text, headers, origin=origin, first_line=first_line, need_diff=True)
    at_depth = [q for q in lines if q.depth == depth]
    start = next(k for k, q in enumerate(at_depth) if RE_DIFF_START.match(q.text))
    table = [q.line for q in at_depth[start:]]
    diff = "\n".join(q.text for q in at_depth[start:]) + "\n"
    parsed = parse_diff_lenient(diff, origin=origin, first_line=1, strict=False)
    files = _remap(parsed.files, origin, table, 1)
    warnings = [_rewrite_warning(w, origin, table) for w in parsed.warnings]
    snipped = [q for q in lines if q.depth and RE_SNIP.match(q.text)]
    partial = parsed.partial or bool(snipped)
    if snipped:
        warnings.append(f"{origin}:{snipped[0].line}: warning: quoted patch was snipped "
                        f"({len(snipped)} '<snip>' mark{'s' if len(snipped) > 1 else ''}); hunks are missing")
    authors = find_authors(lines, _short_name(headers.author))
    hunk_refs = sorted(((h.ref.line if h.ref else 0), fi, hi)
                       for fi, f in enumerate(files) for hi, h in enumerate(f.hunks))
    attached: dict[tuple[int, int], list[ReviewComment]] = {}
    loose: list[ReviewComment] = []
    starts = [line for line, _, _ in hunk_refs]
    for after, c in _comments(lines, depth, authors, origin, used):
        k = bisect.bisect_right(starts, after) - 1
        if k >= 0 and starts[k] > 0:
            attached.setdefault(hunk_refs[k][1:], []).append(c)
        else:
            loose.append(c)
    files = tuple(
        replace(f, hunks=tuple(replace(h, comments=h.comments + tuple(attached.get((fi, hi), ())))
                               for hi, h in enumerate(f.hunks)))
        for fi, f in enumerate(files))
    base, _ = parse_patch_text("", headers, origin=origin, first_line=first_line, need_diff=False)
    patch = replace(
        base,
        files=files,
        author=authors.get(depth, "") or base.author,
        partial=partial,
        comments=tuple(loose),
        diff_text="".join(f.render() for f in files),
        ref=SourceRef(origin, first_line),
        body="",
        trailers=tuple(Trailer(m.group(1), m.group(2).strip(), SourceRef(origin, q.line)) for q in lines
                       if q.depth == 0 and (m := RE_REVIEW_TRAILER.match(q.text))),
    )
    return patch, tuple(warnings)


def _rewrite_warning(w: str, origin: str, table: list[int]) -> str:
    """``origin:K: warning`` about rebuilt line K -> the reply's real line."""
    m = re.match(rf"^{re.escape(origin)}:(\d+): (.*)$", w, re.S)
    if not m:
        return w
    k = int(m.group(1)) - 1
    line = table[k] if 0 <= k < len(table) else int(m.group(1))
    return f"{origin}:{line}: {m.group(2)}"
