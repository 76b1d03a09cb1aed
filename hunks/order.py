"""Placing all hunks of one file together (stage: hunks): order and spacing between hunks.

Inputs: the target file's lines and the HunkSpecs of one file diff, in order (plus the
options of ``locate``). Outputs: one Match or None per hunk.

Hunks are placed one by one, each expected where the previous one's offset says
(``locate_file``). When two placements then overlap or run out of order (duplicated code:
a table of look-alike entries, two functions with the same tail), ``resolve_order``
re-chooses among the verbatim copies of the hunks involved so that the hunks stay in
order and keep upstream's spacing, by dynamic programming over the copies; the chosen
placements say so in their evidence. When no order-keeping choice exists, the placements
are left as they were (the caller reports the overlap).

``locate_unclaimed`` is the pipeline's answer to the same problem when it places hunks one at a
time: a hunk that lands on lines an earlier hunk of the file already changes is placed again
with those lines masked out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .cascade import locate
from .exact import find_runs
from .score import distance_prior
from .toplevel import check_item_scope
from .types import Candidate, HunkSpec, Match

#: copies of one hunk considered at most (nearest first)
MAX_COPIES = 24
#: a placement chosen by order and spacing is worth a little less than one found directly
ORDER_FACTOR = 0.97
#: cost of leaving a hunk where it was when it cannot be fitted in order
STUCK = 1_000_000


def locate_file(target: Sequence[str], specs: Sequence[HunkSpec], *, max_fuzz: int = 2,
                score_cutoff: float = 0.6, ambiguity_margin: float = 0.1,
                base: Sequence[str] | None = None, language: str = "c") -> list[Match | None]:
    """Place every hunk of one file, each expected at its line plus the previous hunk's offset."""
    tgt = tuple(target)
    out: list[Match | None] = []
    delta = 0
    for spec in specs:
        hint = max(0, spec.old_start - 1 + delta)
        m = locate(tgt, spec, hint=hint, max_fuzz=max_fuzz, score_cutoff=score_cutoff,
                   ambiguity_margin=ambiguity_margin, base=base, language=language)
        if m is not None:
            delta = m.start - (spec.old_start - 1)
        out.append(m)
    return resolve_order(tgt, specs, out)


def _collisions(matches: Sequence[Match | None]) -> set[int]:
    """Indices of placements that overlap or run before the placement of an earlier hunk."""
    out: set[int] = set()
    prev: int | None = None
    for i, m in enumerate(matches):
        if m is None or m.method == "already-applied":
            continue
        if prev is not None:
            p = matches[prev]
            assert p is not None
            if m.start < p.end:
                out |= {prev, i}
        prev = i
    return out


def resolve_order(target: Sequence[str], specs: Sequence[HunkSpec],
                  matches: Sequence[Match | None]) -> list[Match | None]:
    """Re-choose verbatim copies so a file's placements are in order and keep their spacing."""
    out = list(matches)
    involved = _collisions(matches)
    if not involved:
        return out
    tgt = tuple(target)
    idx = [i for i, m in enumerate(matches) if m is not None and m.method != "already-applied"]
    # options per hunk: (start, end); verbatim hunks may move to any copy
    options: list[list[tuple[int, int]]] = []
    for i in idx:
        m = matches[i]
        assert m is not None
        if m.method in ("exact", "offset"):
            starts = find_runs(tgt, specs[i].old, m.start)[:MAX_COPIES]
            options.append([(s, s + len(specs[i].old)) for s in starts] or [(m.start, m.end)])
        else:
            options.append([(m.start, m.end)])
    # dp[k][j]: least cost with hunk idx[k] at options[k][j]; back[k][j]: previous choice (-1 = stuck)
    inf = float("inf")
    dp: list[list[float]] = []
    back: list[list[int]] = []
    for k, i in enumerate(idx):
        old0 = specs[i].old_start - 1
        row, brow = [], []
        for s, _e in options[k]:
            if k == 0:
                m0 = matches[i]
                assert m0 is not None
                row.append(abs(s - m0.start) * 0.001)  # no reason to move the first one
                brow.append(-1)
                continue
            best, arg = inf, -1
            pold = specs[idx[k - 1]].old_start - 1
            for j, (ps, pe) in enumerate(options[k - 1]):
                if dp[k - 1][j] == inf:
                    continue
                cost = dp[k - 1][j] + (abs((s - ps) - (old0 - pold)) if s >= pe else STUCK)
                if cost < best:
                    best, arg = cost, j
            row.append(best)
            brow.append(arg)
        dp.append(row)
        back.append(brow)
    last = min(range(len(dp[-1])), key=lambda j: dp[-1][j])
    if dp[-1][last] >= STUCK:
        return out  # no order-keeping choice: leave it to the caller's overlap report
    choice = [0] * len(idx)
    j = last
    for k in range(len(idx) - 1, -1, -1):
        choice[k] = j
        j = back[k][j] if k > 0 else j
    for k, i in enumerate(idx):
        s, e = options[k][choice[k]]
        m = matches[i]
        assert m is not None
        if s == m.start and (i not in involved or len(options[k]) < 2):
            continue
        spec = specs[i]
        if k > 0:
            ps, _ = options[k - 1][choice[k - 1]]
            drift = (s - ps) - ((spec.old_start - 1) - (specs[idx[k - 1]].old_start - 1))
        else:
            drift = s - (spec.old_start - 1)
        conf = round(distance_prior(drift) * ORDER_FACTOR, 4)
        copies = [a for a, _ in options[k] if a != s]
        ev = (f"{len(options[k])} verbatim copies; line {s + 1} keeps this file's hunks in order and "
              f"upstream's spacing between them (off by {drift:+d} line(s))"
              + (f"; the nearest copy, line {m.start + 1}, collided with another hunk" if s != m.start else ""),)
        alts = tuple(Candidate(a, round(conf * 0.5, 4), f"other copy at line {a + 1}") for a in copies[:5])
        out[i] = replace(m, method="exact" if s == spec.old_start - 1 else "offset", start=s, end=e,
                         replacement=spec.new, confidence=conf, alternatives=alts, evidence=ev,
                         ambiguous=False)
    return out


#: what a line claimed by another hunk reads as while a colliding hunk is placed again (matches nothing)
CLAIMED = "\x00claimed by another hunk\x00"


def overlaps(m: Match, claimed: Sequence[tuple[int, int]]) -> bool:
    """Whether ``m`` writes target lines that an earlier hunk of the same file already claimed."""
    return m.method != "already-applied" and any(m.start < e and s < m.end for s, e in claimed)


def locate_unclaimed(target: Sequence[str], spec: HunkSpec, claimed: Sequence[tuple[int, int]],
                     **options) -> Match | None:
    """Place ``spec`` again with the lines earlier hunks of the same file claimed masked out.

    The hunks of one file diff never share pre-image lines, so a hunk whose placement lands on
    lines another hunk already changes (a verbatim copy of its context elsewhere in the file: the
    same lock/unlock pair in five functions, where the target renamed a variable in some of them)
    belongs somewhere else. The answer keeps the cascade's own confidence; None when nothing fits
    outside the claimed lines."""
    masked = list(target)
    for s, e in claimed:
        masked[s:e] = [CLAIMED] * (e - s)
    m = locate(tuple(masked), spec, **options)
    if m is None or CLAIMED in m.replacement or overlaps(m, claimed):
        return None
    if options.get("language", "c") == "c":
        m = check_item_scope(m, spec, tuple(target))  # the braces of the masked lines count too
    note = (f"{len(claimed)} earlier hunk(s) of this file claim the lines its first placement fitted; "
            "placed again without them")
    return replace(m, evidence=(note,) + m.evidence)
