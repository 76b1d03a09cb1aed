"""Designated-initializer entries added next to neighbours the target lacks (stage: hunks, a cascade step).

Inputs: the target file's lines, a HunkSpec that only inserts (no removed line, one run of added
lines), ``known`` (names the target tree defines). Outputs: a Match (method ``fuzz``,
ANCHORED_CONFIDENCE, ``anchored``, ``diverged`` naming the context lines the target has
otherwise) or None.

Ops tables (``.suspend = foo_suspend,``) and indexed tables (``[WMI_TAG_X] = { .min_len = ... },``)
grow one entry per fix, next to entries a stable tree never got; context-based placement then
finds the table but not the place in it, and holds a correct hunk back. C gives the entries of a
designated initializer no order (C11 6.7.9: each designator names its member or index), so any
place at the initializer's top level means the same. The new entry goes where upstream's own
neighbours say, as far as the target has them: right after the nearest context line above that
the target's item has verbatim (an entry's last line), else right before the nearest one below
(an entry's first line), else before the item's closing ``};`` when upstream's context below is
that closing line. Only when

- the hunk's section header names a C item the target has once, an initializer (hunks.syntax),
  and the chosen line lies at the initializer's top level there (brace depth 1 inside the item);
- every added entry starts with a designator (``.member =`` or ``[index] =``) whose designator the
  target's item does not already use (a duplicate would override an entry, or the fix is there);
- the added lines balance their braces and parentheses and end an entry (``,``);
- the new lines use no name of the differing context that the target's file lacks and the tree
  does not define (API drift, as for every anchored placement).
A non-designated array (a device-ID list, a sorted table) is left to the other methods: there
the order is the meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .anchored import ANCHORED_CONFIDENCE, drift_of
from .score import describe_line, norm
from .syntax import anchor_name, items
from .toplevel import depth_at
from .types import HunkSpec, Match

# .member =   /   [INDEX] =   /   [A ... B] =   (a designator opening an entry)
RE_DESIGNATOR = re.compile(r"^\s*(\.[A-Za-z_]\w*|\[[^\]=]+\])\s*=")
# };   (an initializer's closing line)
RE_CLOSE = re.compile(r"^\s*\}\s*;\s*$")


def _entries(lines: Sequence[str]) -> list[str] | None:
    """The designators of the entries ``lines`` add, or None when they are not whole entries."""
    out: list[str] = []
    depth = 0
    for line in lines:
        code = re.sub(r"/\*.*?\*/|//.*$|\"(?:\\.|[^\"\\])*\"", "", line)
        if not code.strip():
            continue
        if depth == 0:
            m = RE_DESIGNATOR.match(code)
            if m is None:
                return None
            out.append(" ".join(m.group(1).split()))
        depth += code.count("{") + code.count("(") - code.count("}") - code.count(")")
        if depth < 0:
            return None
    last = next((ln for ln in reversed(lines) if ln.strip()), "")
    if depth != 0 or not out or not last.rstrip().endswith(","):
        return None
    return out


def find_initializer_entry(target: tuple[str, ...], spec: HunkSpec,
                           known: Callable[[str], bool] | None = None) -> Match | None:
    """Place added designated-initializer entries among the target's (see the module docstring)."""
    kinds = spec.kinds
    if "-" in kinds or "+" not in kinds:
        return None
    first, last = kinds.index("+"), len(kinds) - 1 - kinds[::-1].index("+")
    if any(k != "+" for k in kinds[first:last + 1]):
        return None  # one run of new lines
    new = spec.lines[first:last + 1]
    designators = _entries(new)
    name = anchor_name(spec.section) if spec.section else None
    if designators is None or not name:
        return None
    found = [it for it in items(target, "c") if it.name == name]
    if len(found) != 1 or found[0].kind != "initializer":
        return None
    s, e = found[0].start, found[0].end
    body = target[s:e]
    used = {" ".join(m.group(1).split()) for ln in body if (m := RE_DESIGNATOR.match(ln))}
    if used & set(designators):
        return None  # the target already initialises it: the fix is there, or another one is
    above, below = spec.lines[:first], spec.lines[last + 1:]
    got = [x for x in (_after(target, s, e, above), _before(target, s, e, below)) if x is not None]
    if not got:
        return None
    _, at, how = min(got, key=lambda x: x[0])  # the neighbour nearest the new lines; above on a tie
    if depth_at(target, at) - depth_at(target, s) != 1:
        return None
    old = spec.old
    have = {norm(x) for x in body}
    differing = [j for j, o in enumerate(old) if norm(o) and norm(o) not in have]
    drift = drift_of(spec, old, differing, target, known)
    if drift:
        return None
    lines = tuple(describe_line(j, old[j], 50) for j in differing)
    side = f"after target line {at} {target[at - 1].strip()!r}" if how == "after" else \
        f"before target line {at + 1} {target[at].strip()!r}"
    note = (f"designated-initializer entries ({', '.join(designators)}) added to {name!r}, whose entries C "
            f"does not order: placed {side}, as upstream's context says; {len(lines)} context line(s) differ and "
            "are kept as the target has them: " + ", ".join(lines[:4]))
    return Match("fuzz", at, at, tuple(new), ANCHORED_CONFIDENCE, len(differing), (), (note,),
                 diverged=lines, anchored=True)


def _after(target: Sequence[str], s: int, e: int, above: Sequence[str]) -> tuple[int, int, str] | None:
    """(distance from the new lines, target index, "after"): just after the nearest context line
    above the new lines that the item has once, verbatim, ending an entry (``,`` ends it)."""
    for d, line in enumerate(reversed(above), 1):
        key = norm(line)
        if not key or not line.rstrip().endswith(","):
            continue
        hits = [k for k in range(s, e) if norm(target[k]) == key]
        if len(hits) == 1:
            return d, hits[0] + 1, "after"
    return None


def _before(target: Sequence[str], s: int, e: int, below: Sequence[str]) -> tuple[int, int, str] | None:
    """(distance, target index, "before"): just before the nearest context line below that the
    item has once, verbatim, starting an entry, or before the item's closing ``};`` when that is
    upstream's next line there."""
    for d, line in enumerate(below, 1):
        key = norm(line)
        if not key:
            continue
        if RE_CLOSE.match(line):
            close = max((k for k in range(s, e) if RE_CLOSE.match(target[k])), default=None)
            return (d, close, "before") if close is not None else None
        if RE_DESIGNATOR.match(line):
            hits = [k for k in range(s, e) if norm(target[k]) == key]
            if len(hits) == 1:
                return d, hits[0], "before"
    return None
