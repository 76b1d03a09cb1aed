"""3-way placement (stage: hunks): merge through the upstream pre-image, reporting conflicts.

Inputs: the target's lines, a HunkSpec, the expected line and ``base``: the upstream file the
hunk was made against (its ``index`` blob). Outputs: a Match (method ``3way``) or None.

How (the idea of ``git am -3`` / diff3, written for lists of lines): the hunk's pre-image is
found verbatim in the base near its stated line; a diff of base against target (difflib,
matching blocks) maps each pre-image line to its target line; lines the diff could not map
(blank lines, braces, lines the target changed) are aligned locally between their mapped
neighbours. The hunk is then applied to the target region keeping the target's context.
A conflict is a place where both sides changed the same lines: a removed line that the
target changed or lost, or new lines going where the target also inserted lines. Each
conflict is one evidence line and makes the Match ``unsafe``; a target change right next
to a changed line (git merge-file would call it a conflict) costs confidence.

Mapped placements: what git merge-file calls a conflict when the target changed or dropped a
line next to the change is a textual conflict, not a doubt about where the change goes, when
the base maps it exactly: every removed line is in the target verbatim, no new line goes among
target lines the hunk does not know, and the new lines use no name of the differing context
that the target's file lacks (drift). The placement is then as trustworthy as an anchored one
(hunks.anchored): it is raised to ANCHORED_CONFIDENCE, and the differing context it keeps is a
``context-diverged`` warning the caller raises, not a refusal.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from functools import lru_cache

from .align import Alignment, align, build, quality_of, slide_dropped
from .anchored import ANCHORED_CONFIDENCE, drift_of
from .exact import find_runs
from .score import DRIFT_CAP, UNSAFE_CAP, describe_line, similarity
from .types import HunkSpec, Match

#: confidence of a 3-way merge without any conflict or changed context
THREEWAY_BASE = 0.96


@lru_cache(maxsize=8)
def base_map(base: tuple[str, ...], target: tuple[str, ...]) -> dict[int, int]:
    """base line index -> target line index, for lines the two files share (difflib blocks)."""
    sm = difflib.SequenceMatcher(None, base, target, autojunk=len(base) > 400)
    out: dict[int, int] = {}
    for blk in sm.get_matching_blocks():
        for k in range(blk.size):
            out[blk.a + k] = blk.b + k
    return out


def fill_gaps(old: Sequence[str], target: tuple[str, ...], pairs: list[int | None]) -> None:
    """Pair unmapped pre-image lines with target lines between their mapped neighbours."""
    m = len(old)
    i = 0
    while i < m:
        if pairs[i] is not None:
            i += 1
            continue
        j = i
        while j < m and pairs[j] is None:
            j += 1
        prev = pairs[i - 1] if i > 0 else None
        nxt = pairs[j] if j < m else None
        if prev is None and nxt is None:
            return
        lo = prev + 1 if prev is not None else max(0, nxt - (j - i) - 2)  # type: ignore[operator]
        hi = nxt if nxt is not None else min(len(target), prev + (j - i) + 3)  # type: ignore[operator]
        if hi > lo:
            # a run between mapped lines must fill the gap; a leading one ends at its neighbour,
            # a trailing one starts right after its neighbour
            al = align(old[i:j], target, lo, hi, anchor_start=prev is not None, anchor_end=nxt is not None)
            if al is not None:
                for k, p in enumerate(al.pairs):
                    pairs[i + k] = p
        i = j



def keep_monotone(pairs: list[int | None]) -> None:
    """Drop (set to None) every pair that goes backwards, so the mapping stays in order."""
    last = -1
    for i, p in enumerate(pairs):
        if p is not None:
            if p <= last:
                pairs[i] = None
            else:
                last = p

def threeway_pairs(target: tuple[str, ...], spec: HunkSpec, base: Sequence[str]) -> tuple[int, list[int | None]] | None:
    """Where the pre-image is in ``base`` (0-based) and, per pre-image line, its target index
    through the base-to-target diff (None: unpaired); None when base lacks the pre-image."""
    btup = tuple(base)
    old = spec.old
    expected = max(0, spec.old_start - 1)
    bstarts = find_runs(btup, old, expected) or find_runs(btup, old, expected, whitespace=True)
    if not bstarts:
        return None
    bs = bstarts[0]
    mapping = base_map(btup, target)
    pairs: list[int | None] = [mapping.get(bs + i) for i in range(len(old))]
    if all(p is None for p in pairs):
        return None
    fill_gaps(old, target, pairs)
    keep_monotone(pairs)
    if all(p is None for p in pairs):
        return None
    slide_dropped(spec, pairs)
    return bs, pairs


def base_region(target: tuple[str, ...], base: Sequence[str], bs: int, n: int, pairs: Sequence[int | None],
                margin: int) -> list[tuple[str, int]]:
    """(base line, target index) pairs for up to ``margin`` base lines on each side of the
    pre-image at ``base[bs:bs + n]`` (paired by the base-to-target diff, gaps aligned locally),
    stopping at the pre-image's own first and last target lines so the pairing stays in order."""
    btup = tuple(base)
    mapping = base_map(btup, target)
    placed = [p for p in pairs if p is not None]
    out: list[tuple[str, int]] = []
    for lo, hi, bound in ((max(0, bs - margin), bs, min(placed, default=0)),
                          (bs + n, min(len(btup), bs + n + margin), max(placed, default=-1))):
        lines = btup[lo:hi]
        got: list[int | None] = [mapping.get(lo + i) for i in range(len(lines))]
        if all(p is None for p in got):
            continue
        fill_gaps(lines, target, got)
        keep_monotone(got)
        before = hi == bs
        out.extend((b, p) for b, p in zip(lines, got, strict=True)
                   if p is not None and (p < bound if before else p > bound))
    return out


def find_threeway(target: tuple[str, ...], spec: HunkSpec, hint: int, base: Sequence[str]) -> Match | None:
    """Place the hunk through its upstream pre-image file ``base``; None when base lacks it."""
    found = threeway_pairs(target, spec, base)
    if found is None:
        return None
    bs, pairs = found
    old = spec.old
    placed = [p for p in pairs if p is not None]
    sims = [similarity(o, target[p]) if p is not None else 0.0 for o, p in zip(old, pairs, strict=True)]
    start, end = min(placed), max(placed) + 1
    used = set(placed)
    extra = [target[k] for k in range(start, end) if k not in used]
    al = Alignment(start, end, tuple(pairs), tuple(sims), len(extra), quality_of(old, sims, extra))
    built = build(spec, target, al)
    ev = [f"3-way: the pre-image is upstream line {bs + 1}; the base-to-target diff maps it to target "
          f"lines {start + 1}-{end}" + (f" (offset {start - hint:+d})" if start != hint else "")]
    conflicts = built.unsafe + built.insert_ambiguous
    adjacent = _adjacent_changes(spec, pairs, sims)
    conf = THREEWAY_BASE * (0.98 ** (built.differing_context - len(adjacent))) * (0.85 ** len(adjacent))
    if extra:
        conf *= 0.97 ** len(extra)
        ev.append(f"{len(extra)} target line(s) inside the region are not in upstream (kept)")
    for a in adjacent:
        ev.append(f"target changed {describe_line(a, old[a])} right next to a changed line "
                  "(git merge-file would call this a conflict)")
    if conflicts:
        ev.append(f"{conflicts} conflict(s): upstream and the target changed the same lines")
        conf = min(conf, UNSAFE_CAP)
    if built.drift:
        conf = min(conf, DRIFT_CAP)
    elif not conflicts and built.unsafe == 0 and conf < ANCHORED_CONFIDENCE and _mapped(spec, pairs, sims, target):
        conf = ANCHORED_CONFIDENCE
        ev.append("mapped: every removed line is in the target and the base fixes where the new lines go; "
                  "the context the target changed or dropped does not feed the new lines")
    return Match("3way", built.start, built.end, built.replacement, round(conf, 4), built.differing_context,
                 (), tuple(ev) + built.evidence, False, built.unsafe > 0 or built.insert_ambiguous > 0)


def _mapped(spec: HunkSpec, pairs: Sequence[int | None], sims: Sequence[float], target: tuple[str, ...]) -> bool:
    """True when the change is mapped exactly (see the module docstring): every removed line paired
    verbatim and no name of a differing context line (changed or dropped) used by the new lines
    that the target's file lacks."""
    pre_kinds = [k for k in spec.kinds if k != "+"]
    if any(k == "-" and (p is None or s < 1.0) for k, p, s in zip(pre_kinds, pairs, sims, strict=True)):
        return False
    differing = [j for j, (k, p, s) in enumerate(zip(pre_kinds, pairs, sims, strict=True))
                 if k == " " and (p is None or s < 1.0)]
    return not drift_of(spec, spec.old, differing, target)


def _adjacent_changes(spec: HunkSpec, pairs: Sequence[int | None], sims: Sequence[float]) -> list[int]:
    """Pre-image indices of context lines that differ in the target and touch a -/+ line."""
    out: list[int] = []
    oi = -1
    kinds = spec.kinds
    for h, kind in enumerate(kinds):
        if kind == "+":
            continue
        oi += 1
        if kind != " " or (pairs[oi] is not None and sims[oi] >= 1.0):
            continue
        near = [kinds[x] for x in (h - 1, h + 1) if 0 <= x < len(kinds)]
        if any(k in "+-" for k in near):
            out.append(oi)
    return out
