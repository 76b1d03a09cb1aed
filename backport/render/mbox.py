"""The annotated port as mail (stage: render): ``git format-patch`` text that ``git am`` accepts.

Inputs: a PortResult (its ``text`` is the regenerated diff against the target), the patch's
place in the series and the porter's identity. Outputs: ``render_patch_mail`` (one message:
original author, date and message, the ``[ Upstream commit <sha> ]`` provenance line, the
bracketed backport note, one stable-style ``[ Name: ... ]`` line per adaptation of upstream's
lines just above the porter's Signed-off-by, which comes last, a diffstat and the diff) and
``render_mbox`` (every placed patch of a series, concatenated). ``find_signoff`` reads the
porter's identity from git config.
"""

from __future__ import annotations

import email.errors
import email.policy
import re
from collections.abc import Sequence

from .. import __version__
from ..model import PortResult
from .note import note_name, render_adaptation_notes, render_note

#: the "From " line git format-patch writes when the commit is not known
MAGIC_FROM = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
HEADER_POLICY = email.policy.SMTP.clone(linesep="\n", max_line_length=78, refold_source="all")

# [ Upstream commit 1a2b3c4d5e6f ]   /   commit 1a2b3c4d5e6f upstream.
RE_PROVENANCE = re.compile(r"^\s*(\[\s*upstream commit\s+[0-9a-f]{7,40}\s*\]|commit [0-9a-f]{7,40} upstream\.?)\s*$",
                           re.I | re.M)
# Signed-off-by: A. U. Thor <author@example.org>
RE_TRAILER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:\s")
# diff --git a/mm/foo.c b/mm/foo.c
RE_DIFF_GIT = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
# +++ b/mm/foo.c
RE_NEW_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)")


def _header(name: str, value: str) -> str:
    """One header, RFC 2047-encoded where needed, folded as git format-patch would."""
    try:
        return HEADER_POLICY.fold(name, value)
    except (email.errors.HeaderParseError, IndexError, ValueError):
        return f"{name}: {value}\n"


def subject_line(result: PortResult, index: int, total: int) -> str:
    """``[PATCH n/N] subject`` (``[PATCH]`` alone for a single patch)."""
    tag = f"[PATCH {index}/{total}]" if total > 1 else "[PATCH]"
    return f"{tag} {result.patch.subject}"


def split_trailers(text: str) -> tuple[str, str]:
    """(message, trailer block): the last paragraph when it is made of trailers, else ""."""
    head, sep, last = text.rpartition("\n\n")
    lines = last.splitlines()
    is_block = bool(lines) and RE_TRAILER.match(lines[0]) is not None and all(
        RE_TRAILER.match(ln) or ln.startswith((" ", "\t", "[")) for ln in lines)
    if not is_block:
        return text, ""
    return (head if sep else ""), last


def render_message(result: PortResult, *, signoff: str | None = None) -> str:
    """The commit message of the ported patch: provenance, original message, note, porter's SoB.

    A one-line note goes between the original trailers and the porter's Signed-off-by, as
    stable maintainers write ``[ Sasha: ... ]``; a longer note becomes its own paragraph just
    above the trailer block, so that git still parses the block as trailers (it must hold at
    least 25% trailer lines) and ``git interpret-trailers`` keeps working on the result. The
    ``[ Name: ... ]`` lines of the adaptations go just above the porter's Signed-off-by, or into
    their own paragraph when so many would break that rule.
    """
    patch = result.patch
    body = patch.body.strip("\n")
    parts: list[str] = []
    if patch.upstream_ids and not RE_PROVENANCE.search(body):
        parts.append(f"[ Upstream commit {patch.upstream_ids[0]} ]")
    if body:
        parts.append(body)
    message, trailers = split_trailers("\n\n".join(parts))
    note = render_note(result)
    sob = f"Signed-off-by: {signoff}" if signoff else ""
    adapted = "\n".join(render_adaptation_notes(result, who=note_name(signoff)))
    if "\n" in note:
        block = [trailers, adapted, sob]
        paragraphs = [message, note]
    else:
        block = [trailers, note, adapted, sob]
        paragraphs = [message]
    if adapted and not _keeps_trailers("\n".join(x for x in block if x)):
        block.remove(adapted)  # too many note lines: git would no longer see the trailers
        paragraphs.append(adapted)
    paragraphs.append("\n".join(x for x in block if x))
    return "\n\n".join(p for p in paragraphs if p) + "\n"


def _keeps_trailers(block: str) -> bool:
    """Whether git still parses ``block`` as trailers: it holds a Signed-off-by and at least 25%
    of its lines are trailers (git's trailer.c rule), or it holds no trailer at all."""
    lines = block.splitlines()
    trailers = sum(1 for ln in lines if RE_TRAILER.match(ln))
    return trailers == 0 or trailers * 3 >= len(lines) - trailers


def render_diffstat(diff: str) -> str:
    """`` path | 3 ++-`` lines and the summary, as git format-patch puts below ``---``."""
    counts: dict[str, list[int]] = {}
    current: list[int] | None = None
    in_hunk = False
    for line in diff.splitlines():
        m = RE_DIFF_GIT.match(line)
        if m:
            current = counts.setdefault(m.group(2), [0, 0])
            in_hunk = False
            continue
        if line.startswith("@@"):
            in_hunk = True
            continue
        if current is None:
            m2 = RE_NEW_FILE.match(line)
            if m2:
                current = counts.setdefault(m2.group(1), [0, 0])
            continue
        if not in_hunk:
            continue
        if line.startswith("+"):
            current[0] += 1
        elif line.startswith("-"):
            current[1] += 1
    if not counts:
        return ""
    width = max(len(p) for p in counts)
    out = []
    for path, (add, rem) in counts.items():
        n = add + rem
        bar = "+" * min(add, 60) + "-" * min(rem, 60)
        out.append(f" {path.ljust(width)} | {n:>3} {bar}".rstrip())
    add_total = sum(c[0] for c in counts.values())
    rem_total = sum(c[1] for c in counts.values())
    files = len(counts)
    summary = f" {files} file{'s' if files != 1 else ''} changed"
    if add_total:
        summary += f", {add_total} insertion{'s' if add_total != 1 else ''}(+)"
    if rem_total:
        summary += f", {rem_total} deletion{'s' if rem_total != 1 else ''}(-)"
    return "\n".join(out) + "\n" + summary + "\n"


def render_patch_mail(result: PortResult, *, index: int = 1, total: int = 1,
                      signoff: str | None = None, fallback_author: str | None = None) -> str:
    """One ``git format-patch`` message for a ported patch ("" when no hunk could be placed)."""
    if not result.text.strip():
        return ""
    patch = result.patch
    author = patch.author or fallback_author or "Unknown <unknown@localhost>"
    diff = result.text if result.text.endswith("\n") else result.text + "\n"
    head = [MAGIC_FROM + "\n", _header("From", author)]
    if patch.date:
        head.append(_header("Date", patch.date))
    head.append(_header("Subject", subject_line(result, index, total)))
    head += ["MIME-Version: 1.0\n", "Content-Type: text/plain; charset=UTF-8\n",
             "Content-Transfer-Encoding: 8bit\n", "\n"]
    message = render_message(result, signoff=signoff)
    return ("".join(head) + message + "---\n" + render_diffstat(diff) + "\n" + diff
            + f"-- \nbackport {__version__}\n\n")


def render_mbox(results: Sequence[PortResult], *, signoff: str | None = None) -> str:
    """Every patch that has something placed, as one mbox, numbered in series order."""
    total = len(results)
    return "".join(render_patch_mail(r, index=i, total=total, signoff=signoff)
                   for i, r in enumerate(results, 1))


def find_signoff(repo: str | None = None) -> str | None:
    """``Name <mail>`` from ``git config user.name/user.email`` (of ``repo`` if given), or None."""
    import git  # lazy: GitPython is slow to import

    try:
        cmd = git.Git(repo) if repo else git.Git()
        name = cmd.config("--get", "user.name").strip()
        mail = cmd.config("--get", "user.email").strip()
    except (git.exc.GitCommandError, git.exc.GitCommandNotFound, OSError):
        return None
    if not name or not mail:
        return None
    return f"{name} <{mail}>"
