"""Hunks that rest on an earlier patch's held-back hunk (stage: series, after every patch is ported).

Inputs: the PortResults of one series, in order. Outputs: the same results, each hunk that was
not applied, or applied by a loose method (fuzz, fuzzy, syntax, 3-way: its context was found only
in part), and whose pre-image (context and removed lines) holds lines that an earlier patch of
the series adds to the same file in a hunk that was not applied, given one ERROR
``series-dependency`` finding naming that hunk.

A series builds on itself: patch 4 of the 2019 arm64 ftrace-with-regs series (v5.5, "arm64:
module/ftrace: intialize PLT at load time") rewrites the ``find_section()`` helper that patch 3
("arm64: module: rework special section handling") adds, and 3b23e4991fb6 ("arm64: implement
ftrace with regs") edits the line patch 4 writes into ``ftrace_make_call()``. When the earlier
hunk is held back (the old tree's code differs where it changes it), the later one finds its
context nowhere and is reported as fitting nowhere, which sends the porter looking in the target
for code that only the series itself would have written. The fact is in the series: the later
hunk's context lines are the earlier hunk's new lines. Saying so turns "fits nowhere" into "port
patch M's hunk first", and stops the porter from adapting the later hunk to the target alone.
A later hunk that fuzz or alignment did place there sits on the target's older code where the
earlier hunk's lines should be ("arm64: ftrace: minimize ifdeffery" drops the ``#else`` of a block
that, without patch 4, still reads the module's PLT field only built with module PLTs): same
finding, worded for an applied hunk.

A line counts when it is informative (hunks.score.weight >= 1: not a brace or a blank), compared
up to blanks; the lines shared must weigh MIN_SHARED (two real lines), or one of them must be a
line the later hunk removes (or, for an applied hunk, one the target lacks where it was placed),
at least MIN_REMOVED_CHARS long (it deletes or stands next to what only the series writes); a
common ``return 0;`` links nothing. For an applied hunk only the lines missing from the target
lines it replaced count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hunks.score import norm, weight

from .model import Finding, LineKind, Method, PortResult, Severity

#: informative weight the shared lines must reach (hunks.score.weight)
MIN_SHARED = 1.5
#: a shared line the later hunk removes links on its own from this length (normalised)
MIN_REMOVED_CHARS = 16
#: placements that found their context only in part: an applied one resting on a held hunk's
#: new lines was placed on the target's older code in their stead
LOOSE = (Method.FUZZ, Method.FUZZY, Method.SYNTAX, Method.THREEWAY, Method.SPLIT)


@dataclass(frozen=True, slots=True)
class _Held:
    index: int  # position in the series
    number: str  # "[PATCH 3/8]"-style label of the patch
    path: str
    hunk: int  # 1-based hunk number in its file
    added: frozenset[str]


def _path(r: PortResult, file_index: int) -> str:
    fps = r.patch.files
    return fps[file_index].path if 0 <= file_index < len(fps) else ""


def _number(r: PortResult, index: int) -> str:
    p = r.patch
    n = f"{p.number}/{p.total}" if p.number and p.total else f"#{index + 1}"
    return f"patch {n} ({p.subject})"


def link_held(results: Sequence[PortResult]) -> tuple[PortResult, ...]:
    """``results`` with a ``series-dependency`` finding on each hunk that rests on an earlier
    patch's hunk that was not applied (see the module docstring)."""
    held: list[_Held] = []
    out: list[PortResult] = []
    for i, r in enumerate(results):
        found: list[Finding] = []
        mine: list[_Held] = []
        for pl in r.placements:
            if pl.method is Method.ALREADY_APPLIED or pl.applied and pl.method not in LOOSE:
                continue
            path = _path(r, pl.file_index)
            pre = {norm(ln.text) for ln in pl.hunk.lines if ln.kind is not LineKind.ADDED and weight(ln.text) >= 1}
            removed = {norm(ln.text) for ln in pl.hunk.lines if ln.kind is LineKind.REMOVED}
            if pl.applied:  # only what the target lacks where it was placed is resting in vain
                pre -= {norm(x) for x in pl.target_old}
            best: tuple[float, int, _Held, set[str]] | None = None  # most shared, then latest
            for k, h in enumerate(held):
                shared = set(pre & h.added)
                w = sum(weight(x) for x in shared)
                # one long line suffices when the hunk removes it or (applied) found it missing
                alone = shared if pl.applied else shared & removed
                if h.path == path and (w >= MIN_SHARED or any(len(x) >= MIN_REMOVED_CHARS for x in alone)):
                    if best is None or (w, k) > best[:2]:
                        best = (w, k, h, shared)
            if best is not None:
                h, shared = best[2], best[3]
                what = ("was applied on the target's own lines although it rests on lines" if pl.applied
                        else "rests on lines")
                found.append(Finding(
                    "series-dependency", Severity.ERROR,
                    f"{path} hunk {pl.hunk_index + 1} {what} that {h.number} adds in {path} "
                    f"hunk {h.hunk}, which was not applied: port that hunk first", pl.hunk.ref,
                    tuple(f"line the earlier hunk adds: {x}" for x in sorted(shared)[:4]),
                    "port the earlier hunk (by hand if need be), then place this one on it"))
            if pl.applied:
                continue  # an applied hunk's new lines are in the tree: nothing rests on them in vain
            added = frozenset(norm(ln.text) for ln in pl.hunk.lines
                              if ln.kind is LineKind.ADDED and weight(ln.text) >= 1)
            if added:
                mine.append(_Held(i, _number(r, i), path, pl.hunk_index + 1, added))
        held.extend(mine)
        out.append(replace(r, findings=r.findings + tuple(found)) if found else r)
    return tuple(out)
