"""Placement by the removed lines alone (stage: hunks, the last resort of the cascade).

Inputs: the target's lines, a HunkSpec that removes lines, the expected line.
Outputs: a Match (method ``fuzzy``, low confidence, evidence saying how it was found) or None.

When the context around a change has diverged beyond recognition (the includes of a file
re-sorted, a table reordered), the lines the hunk removes may still be there, once, verbatim:
``#include <crypto/internal/rng.h>`` moved twelve lines down. This method finds every run
of removed lines as a unique verbatim (or up to blanks) occurrence, in order and close
together, then pairs the context lines it can around them and applies the hunk keeping the
target's context. It never decides alone: its confidence stays below the usual bar so a
human confirms it; it only beats a method that would delete the wrong lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from .align import Alignment, build, quality_of
from .exact import find_runs
from .score import UNSAFE_CAP, informative_weight, similarity
from .threeway import fill_gaps, keep_monotone
from .types import HunkSpec, Match

#: the most a placement by removed lines alone is worth
REMOVED_BASE = 0.75
#: removed lines carrying less information than this (weighted lines) cannot pin a place
MIN_INFORMATION = 1.0


def _runs(kinds: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) of each run of ``-`` lines, as indices into the pre-image."""
    out: list[tuple[int, int]] = []
    oi = -1
    start = None
    for k in kinds:
        if k == "+":
            continue
        oi += 1
        if k == "-" and start is None:
            start = oi
        elif k != "-" and start is not None:
            out.append((start, oi))
            start = None
    if start is not None:
        out.append((start, oi + 1))
    return out


def find_by_removed(target: tuple[str, ...], spec: HunkSpec, hint: int) -> Match | None:
    """Place ``spec`` where its removed lines occur once each, in order; None otherwise."""
    old = spec.old
    runs = _runs(spec.kinds)
    if not runs or informative_weight([t for k, t in zip(spec.kinds, spec.lines, strict=True) if k == "-"]) \
            < MIN_INFORMATION:
        return None
    pairs: list[int | None] = [None] * len(old)
    last_end = -1
    first_at: int | None = None
    for a, b in runs:
        found = find_runs(target, old[a:b], hint) or find_runs(target, old[a:b], hint, whitespace=True)
        if len(found) != 1 or found[0] < last_end:
            return None  # absent, repeated or out of order: no anchor
        for k in range(b - a):
            pairs[a + k] = found[0] + k
        last_end = found[0] + (b - a)
        first_at = found[0] if first_at is None else first_at
    placed = [p for p in pairs if p is not None]
    if max(placed) - min(placed) > 3 * len(old) + 10:
        return None  # the removed runs are scattered: not one hunk's worth
    fill_gaps(old, target, pairs)
    keep_monotone(pairs)
    placed = [p for p in pairs if p is not None]
    sims = [similarity(o, target[p]) if p is not None else 0.0 for o, p in zip(old, pairs, strict=True)]
    start, end = min(placed), max(placed) + 1
    used = set(placed)
    extra = [target[k] for k in range(start, end) if k not in used]
    al = Alignment(start, end, tuple(pairs), tuple(sims), len(extra), quality_of(old, sims, extra))
    built = build(spec, target, al)
    conf = REMOVED_BASE * (0.5 + 0.5 * al.quality) * (0.85 ** built.insert_ambiguous)
    if built.unsafe:
        conf = min(conf, UNSAFE_CAP)
    ev = (f"placed by its removed lines alone: each run occurs once in the target, the first at line "
          f"{(first_at or 0) + 1} (offset {(first_at or 0) - hint:+d}); the context around them matches "
          f"{al.quality:.2f}",) + built.evidence
    return Match("fuzzy", built.start, built.end, built.replacement, round(conf, 4), built.differing_context,
                 (), ev, False, built.unsafe > 0)
