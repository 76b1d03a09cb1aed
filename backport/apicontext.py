"""Kernel API spelling of a hunk's kept and removed lines (stage: place, a second try).

Inputs: a Hunk, the target file's lines, the kb API-evolution table (kb.api entries).
Outputs: a Respelled: the hunk with each context or removed line that the target file lacks
written in an old form of a table entry, when that spelling is a line of the target file (the
target's own text is taken); per changed line the entry and both spellings. None when no line
changes.

Why: upstream's context often already uses an API the target spells the old way (a fix adds a
line next to ``disable_work_sync(&hdev->cmd_timer)``, v6.10; a 6.8 tree writes
``cancel_work_sync()`` there). Placement then sees differing context around a change that fits
and holds it back. Written with the table's old form the line is the target's own line: an exact
anchor, backed by the entry's upstream commit, not a guess from similarity. An old form with an
argument only the target's line has (``{?}``: v6.10's one-argument ``__assign_str(dst)`` is
``__assign_str(dst, src)`` before) takes the target's line when exactly one spelling fits. The
pipeline asks for this only when the hunk's own lines give no settled placement. Kept lines are the target's
anyway; a removed line acted on this way deletes the target's spelling of the same statement and
is recorded as an Adaptation (kind ``removed``) naming the entry (backport.pipeline).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hunks.score import norm
from hunks.types import Match
from kb.api import ANY_ARG, ApiEntry, CannotRewrite, find_uses, form_name, old_line_pattern, rewrite_line

from .model import Adaptation, Hunk, HunkLine, LineKind, SourceRef


@dataclass(frozen=True, slots=True)
class Respelled:
    hunk: Hunk
    lines: tuple[tuple[int, ApiEntry, str, str], ...]  # (hunk line index, entry, upstream, target)


def respell_context(h: Hunk, target: Sequence[str], entries: Sequence[ApiEntry]) -> Respelled | None:
    """``h`` with its kept and removed lines in the target's API spelling (module docstring)."""
    have: dict[str, str] = {}
    for t in target:
        have.setdefault(norm(t), t)
    usable = [e for e in entries if e.old and not e.callback]
    out = list(h.lines)
    changed: list[tuple[int, ApiEntry, str, str]] = []
    for i, ln in enumerate(h.lines):
        if ln.kind is LineKind.ADDED or not ln.text.strip() or norm(ln.text) in have:
            continue
        found = _respell(ln.text, usable, have)
        if found is not None:
            e, text = found
            out[i] = HunkLine(ln.kind, text, ln.no_newline, ln.ref)
            changed.append((i, e, ln.text, text))
    if not changed:
        return None
    return Respelled(replace(h, lines=tuple(out)), tuple(changed))


def _respell(line: str, entries: Sequence[ApiEntry], have: dict[str, str]) -> tuple[ApiEntry, str] | None:
    """The entry and the target line that ``line`` becomes with one entry's old form, or None."""
    for e in entries:
        name = "" if e.match else form_name(e.new)
        if name and name not in line:
            continue
        if not find_uses(e, line):
            continue
        for k in range(len(e.old)):
            if ANY_ARG in e.old[k]:  # the target's line supplies an argument: one spelling only
                rx = old_line_pattern(e, line, k)
                hits = [v for key, v in have.items() if rx is not None and rx.fullmatch(key)]
                if len(hits) == 1:
                    return e, hits[0]
                continue
            try:
                got = rewrite_line(e, line, k)
            except CannotRewrite:
                continue
            if len(got) == 1 and norm(got[0]) in have:
                return e, have[norm(got[0])]
    return None


def place_respelled(h: Hunk, target: Sequence[str], entries: Sequence[ApiEntry],
                    place: Callable[[Hunk], Match | None], settled: Callable[[Match], bool], *,
                    path: str, ref: SourceRef | None) -> tuple[Match, Hunk, tuple[Adaptation, ...]] | None:
    """Place ``h`` again with its kept and removed lines in the target's API spelling; the
    settled Match (its evidence naming each respelled line), the hunk as placed and one
    ``removed`` Adaptation per removed line respelled; None when nothing changes or the second
    placement does not settle either."""
    rs = respell_context(h, target, entries)
    if rs is None:
        return None
    m = place(rs.hunk)
    if m is None or not settled(m) or m.method == "already-applied":
        return None
    ev = tuple(f"{'context' if h.lines[i].kind is LineKind.CONTEXT else 'removed'} line {i + 1} "
               f"{up.strip()!r} is the target's {tg.strip()!r} written with {e.name}'s old form "
               f"({e.id}, {e.since}, {e.reference})" for i, e, up, tg in rs.lines)
    notes = tuple(Adaptation(
        "removed", f"remove the target's {tg.strip()!r}, which upstream writes {up.strip()!r} "
                   f"({e.name}() is {e.since})",
        (f"-{up}",), (f"-{tg}",), tuple(f"{path}:{k + 1}: {tg.strip()}" for k in range(m.start, m.end)
                                        if target[k] == tg)[:1],
        path, m.start + 1, h.ref or ref, e.references, e.id)
        for i, e, up, tg in rs.lines if h.lines[i].kind is LineKind.REMOVED)
    return replace(m, evidence=ev + tuple(m.evidence)), rs.hunk, notes
