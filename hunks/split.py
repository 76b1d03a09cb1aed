"""Split placements (stage: hunks): a hunk whose change groups drifted apart in the target.

Inputs: the target's lines, a HunkSpec with two or more change groups (runs of +/- lines parted
by context lines), the expected 0-based line, the language, and ``place``: the cascade that
places one sub-hunk (hunks.cascade.locate without this step).
Outputs: one Match (method ``split``) covering the target from the first part's place to the
last part's, writing each part's change at its own place and keeping every target line between
them, with ``diverged`` naming what the target has between the parts (the caller raises a
``context-diverged`` warning); or None.

A unified hunk holds several change groups when the context between them is short (three lines
of context on each side: groups at most six lines apart share one hunk). When the target inserted
or removed lines between two groups, or their surroundings drifted apart, the hunk's pre-image no
longer matches as one block, while each group, with the context that lies around it, still
does: that is how ``wiggle`` and a human place it. Here the hunk is cut at the context runs
between groups into the fewest parts that each place on their own (each part keeps the whole
context runs around it: the hunk's outer context where it belongs, and the runs it shares with
its neighbours, so a part's own drift is found by the cascade's fuzz and anchoring), and a part
counts only when

- it is placed exactly (exact, offset, whitespace) with no other verbatim copy in the target, or
  anchored (hunks.anchored: its change and the lines next to it verbatim), neither ambiguous nor
  unsafe nor already applied;
- its removed lines are in the target verbatim (up to blanks), at the place it deletes them;
- the parts' changes land in the hunk's order, apart from one another by at most MAX_SPLIT_GAP
  more target lines than the hunk has between them; in C each lands in the item the hunk's
  pre-image above it names (the ``@@`` section, or a definition line of the pre-image) when the
  target has that item, at file scope when a ``}`` at column 0 closed it, and in the same function
  as the part before when nothing names another;
- the new lines use no name of a pre-image line that the target lacks between the parts' ends
  and its file never uses (API drift over the whole hunk, hunks.anchored.drift_of: one part's
  new lines may use what another part's context had).

Failing any of these, there is no split placement: a refusal is better than a wrong port. The
result's confidence is the weakest part's, capped at SPLIT_CONFIDENCE (above the default bar,
below the exact methods), and its evidence names each part's place and method.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .align import change_runs as groups  # the change groups, as hunk line ranges
from .anchored import drift_of
from .score import norm
from .syntax import anchor_name, find_anchors, items
from .types import HunkSpec, Match

#: confidence of a split placement (above the default bar 0.8, below cascade.GOOD)
SPLIT_CONFIDENCE = 0.85
#: target lines two parts may lie further apart than the hunk has them
MAX_SPLIT_GAP = 60
#: change groups beyond which a hunk is not split (placing every run of parts costs a cascade each)
MAX_GROUPS = 8
#: methods that place a part exactly
EXACT_METHODS = ("exact", "offset", "whitespace")


@dataclass(frozen=True, slots=True)
class Part:
    """A sub-hunk: change groups ``first``..``last`` (indices into the hunk's groups) with the
    context runs around them, and where its first line sits in the hunk (line index)."""

    first: int
    last: int
    spec: HunkSpec
    offset: int  # pre-image lines of the hunk above the part


def part(spec: HunkSpec, gs: Sequence[tuple[int, int]], first: int, last: int) -> Part:
    """The sub-hunk of groups ``first``..``last`` with the whole context runs on both sides."""
    lo = gs[first - 1][1] if first > 0 else 0
    hi = gs[last + 1][0] if last + 1 < len(gs) else len(spec.kinds)
    above = sum(1 for k in spec.kinds[:lo] if k != "+")
    sub = HunkSpec(spec.kinds[lo:hi], spec.lines[lo:hi], spec.old_start + above if spec.old_start > 0 else 0,
                   spec.section)
    return Part(first, last, sub, above)


def minimal_edit(target: Sequence[str], m: Match) -> tuple[int, int, tuple[str, ...]]:
    """``m`` reduced to the target lines it really changes: [start, end) -> new lines (the
    common leading and trailing lines of the region and its replacement left out)."""
    old = tuple(target[m.start:m.end])
    new = tuple(m.replacement)
    a = 0
    while a < len(old) and a < len(new) and old[a] == new[a]:
        a += 1
    b = 0
    while b < len(old) - a and b < len(new) - a and old[-1 - b] == new[-1 - b]:
        b += 1
    return m.start + a, m.end - b, new[a:len(new) - b]


def _trusted(m: Match | None, target: Sequence[str]) -> bool:
    """A part's placement counts: exact and unique, or anchored; never ambiguous or unsafe."""
    if m is None or m.ambiguous or m.unsafe or m.method == "already-applied":
        return False
    if m.method in EXACT_METHODS:
        return not m.alternatives and m.confidence >= 0.5
    return m.anchored


def _removed_in_place(sub: HunkSpec, target: Sequence[str], edit: tuple[int, int, tuple[str, ...]]) -> bool:
    """Every line the part removes is among the target lines its edit gives up (up to blanks)."""
    start, end, new = edit
    gone = [norm(x) for x in target[start:end]]
    for x in new:
        if norm(x) in gone:
            gone.remove(norm(x))
    for k, t in zip(sub.kinds, sub.lines, strict=True):
        if k != "-":
            continue
        if norm(t) not in gone:
            return False
        gone.remove(norm(t))
    return True


def _opens_item(line: str) -> bool:
    """A line at column 0 that starts a C definition: a function's first line (a ``(`` and no
    ``;``: its parameters may go on), or a struct, union, enum or initialiser opening ``{``."""
    if line[:1] in ("", " ", "\t", "#", "/", "*", "{", "}") or line.rstrip().endswith(";"):
        return False
    return "(" in line or line.rstrip().endswith("{")


def _scopes(spec: HunkSpec, gs: Sequence[tuple[int, int]]) -> list[str | None]:
    """Per change group, the C item the hunk's lines above it put it in: the name on the last
    definition line of its pre-image (_opens_item; None when the line names nothing known), from
    the ``@@`` section at first; "" once a ``}`` at column 0 closes it (file scope)."""
    state: str | None = anchor_name(spec.section) if spec.section else None
    starts = {a for a, _ in gs}
    out: list[str | None] = []
    for k, (kind, t) in enumerate(zip(spec.kinds, spec.lines, strict=True)):
        if k in starts:
            out.append(state)
        if kind == "+":
            continue
        if t.startswith("}"):
            state = ""
        elif _opens_item(t):
            state = anchor_name(t)
    return out


def _function_at(target: Sequence[str], edit: tuple[int, int, tuple[str, ...]], language: str) -> tuple[int, int] | None:
    """The [start, end) of the innermost C function around an edit (an insertion: around the gap
    between the lines on its two sides), or None at file scope."""
    s, e, _ = edit
    lo, hi = (s - 1, s) if s == e else (s, e - 1)
    best = None
    for it in items(tuple(target), language):
        if it.kind == "function" and it.start <= lo and hi < it.end and (
                best is None or it.end - it.start < best[1] - best[0]):
            best = (it.start, it.end)
    return best


def _in_scope(target: Sequence[str], placed: Sequence[tuple[int, int, tuple[str, ...]]],
              names: Sequence[str | None], language: str) -> bool:
    """Each part's change lies in the item its hunk lines name (when the target has it), at file
    scope when they left every item, and otherwise in the same function as the part before it."""
    if language != "c":
        return True
    prev: tuple[int, int] | None = None
    for k, (edit, name) in enumerate(zip(placed, names, strict=True)):
        fn = _function_at(target, edit, language)
        spans = find_anchors(target, name, language=language) if name else []
        if name == "":
            if fn is not None:
                return False
        elif spans:
            lo, hi = (edit[0] - 1, edit[0]) if edit[0] == edit[1] else (edit[0], edit[1] - 1)
            if not any(a <= lo and hi < b for a, b in spans):
                return False
        elif k and (name is None or names[k - 1] == name) and fn != prev:
            return False  # nothing names its item: it stays in its neighbour's
        elif k and name is not None and names[k - 1] != name:
            return False  # the hunk names an item the target lacks: no telling where it went
        prev = fn
    return True


def find_split(target: tuple[str, ...], spec: HunkSpec, hint: int, place: Callable[[HunkSpec, int], Match | None],
               *, language: str = "c", known: Callable[[str], bool] | None = None) -> Match | None:
    """Place ``spec`` as consecutive parts (see the module docstring); None when it cannot.
    ``known`` answers whether the target tree defines a name (a drifted name it has is no drift)."""
    gs = groups(spec.kinds)
    if not 2 <= len(gs) <= MAX_GROUPS or not spec.old:
        return None
    placed: list[tuple[Part, Match, tuple[int, int, tuple[str, ...]]]] = []
    first = 0
    delta = hint - (spec.old_start - 1) if spec.old_start > 0 else 0
    while first < len(gs):
        got = None
        for last in range(len(gs) - 1, first - 1, -1):
            if first == 0 and last == len(gs) - 1:
                continue  # the whole hunk: the cascade already tried it
            p = part(spec, gs, first, last)
            m = place(p.spec, max(0, p.spec.old_start - 1 + delta))
            if not _trusted(m, target):
                continue
            assert m is not None
            edit = minimal_edit(target, m)
            if not _removed_in_place(p.spec, target, edit):
                continue
            got = (p, m, edit)
            break
        if got is None:
            return None
        placed.append(got)
        delta = got[1].start - (got[0].spec.old_start - 1)
        first = got[0].last + 1
    return _join(target, spec, gs, placed, language, known)


def _join(target: tuple[str, ...], spec: HunkSpec, gs: Sequence[tuple[int, int]],
          placed: Sequence[tuple[Part, Match, tuple[int, int, tuple[str, ...]]]], language: str,
          known: Callable[[str], bool] | None) -> Match | None:
    """One Match from the parts' placements, or None when they are out of order, too far apart,
    outside the items the hunk names, or when the new lines use a name of a pre-image line the
    target lacks there (hunks.anchored.drift_of: API drift, which a part alone cannot see)."""
    between: list[str] = []
    for k, ((p, _, e), (q, _, f)) in enumerate(zip(placed, placed[1:], strict=False)):
        if f[0] < e[1]:
            return None  # out of order, or overlapping
        ours = tuple(target[e[1]:f[0]])
        theirs = tuple(t for t, kind in zip(spec.lines[gs[p.last][1]:gs[q.first][0]],
                                            spec.kinds[gs[p.last][1]:gs[q.first][0]], strict=True) if kind == " ")
        if len(ours) > len(theirs) + MAX_SPLIT_GAP:
            return None
        if tuple(map(norm, ours)) != tuple(map(norm, theirs)):
            sm = difflib.SequenceMatcher(None, [norm(t) for t in theirs], [norm(t) for t in ours], autojunk=False)
            kept = {b + j for _, b, size in sm.get_matching_blocks() for j in range(size)}
            own = [t.strip() for j, t in enumerate(ours) if j not in kept and t.strip()]
            shown = ", ".join(repr(t[:40]) for t in own[:3]) + (", ..." if len(own) > 3 else "")
            between.append(f"between parts {k + 1} and {k + 2} the target has {len(ours)} line(s) (lines "
                           f"{e[1] + 1}-{f[0]}) where the hunk has {len(theirs)}"
                           + (f"; its own: {shown}" if shown else ""))
    names = _scopes(spec, gs)
    if not _in_scope(target, [e for _, _, e in placed], [names[p.first] for p, _, _ in placed], language):
        return None
    lo = min(m.start for _, m, _ in placed)
    hi = max(m.end for _, m, _ in placed)
    # API drift over the whole hunk: a part's new lines may use a name another part's context had
    there = {norm(t) for t in target[lo:hi]}
    old = spec.old
    if drift_of(spec, old, [j for j in range(len(old)) if norm(old[j]) not in there], target, known):
        return None
    lines = list(target[lo:hi])
    for _, _, (s, t, new) in reversed(placed):
        lines[s - lo:t - lo] = list(new)
    conf = min(min(m.confidence for _, m, _ in placed), SPLIT_CONFIDENCE)
    ev = [f"split: the hunk does not fit as one block; its {len(gs)} change groups placed in {len(placed)} parts, "
          "each on its own"]
    for k, (p, m, e) in enumerate(placed):
        groups_of = f"group {p.first + 1}" if p.first == p.last else f"groups {p.first + 1}-{p.last + 1}"
        ev.append(f"part {k + 1} (change {groups_of}) at line {e[0] + 1} by {m.method}"
                  + (" (anchored)" if m.anchored else "") + (f": {m.evidence[0]}" if m.evidence else ""))
    ev.extend(between)
    diverged = tuple(between) + tuple(
        f"part {k + 1}: " + (f"upstream context {x}" if x.startswith("line ") else x)
        for k, (_, m, _) in enumerate(placed) for x in m.diverged)
    if not diverged:
        diverged = ("the parts are in the target as the hunk has them, only its outer context differs",)
    return Match("split", lo, hi, tuple(lines), round(conf, 4), sum(m.fuzz for _, m, _ in placed), (),
                 tuple(ev), diverged=diverged, anchored=True)
