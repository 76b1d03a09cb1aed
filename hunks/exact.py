"""Exact, offset and whitespace-insensitive placement (stage: hunks, the cheap methods).

Inputs: the target's lines, a run of lines to find (a hunk's pre-image, post-image or a
trimmed pre-image), the expected 0-based line.
Outputs: every start where the run occurs contiguously, nearest to the expected line first,
found through an index of the target's lines (line -> positions, cached per target) and the
rarest line of the run as pivot, so a 10k-line file answers in well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from .align import build, identity
from .score import TIE_RATIO, distance_prior, norm, tie_factor, tie_ratio
from .types import Candidate, HunkSpec, Match

#: a hunk that starts or ends the upstream file, placed away from the target file's edge
EDGE_MISS = 0.9
#: a whitespace-only difference costs a little: the target may differ on purpose
WHITESPACE_QUALITY = 0.97


@lru_cache(maxsize=16)
def _index(lines: tuple[str, ...], normalised: bool) -> dict[str, list[int]]:
    idx: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        idx.setdefault(norm(line) if normalised else line, []).append(i)
    return idx


@lru_cache(maxsize=16)
def normed_lines(lines: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(norm(x) for x in lines)


def find_runs(target: tuple[str, ...], run: Sequence[str], hint: int, *, whitespace: bool = False,
              lo: int = 0, hi: int | None = None) -> list[int]:
    """0-based starts where ``run`` lies contiguously in ``target[lo:hi]``, nearest ``hint`` first.

    ``whitespace=True`` compares lines after collapsing blanks (norm).
    """
    if not run:
        return []
    hi = len(target) if hi is None else hi
    idx = _index(target, whitespace)
    key: Callable[[str], str] = norm if whitespace else str
    keys = [key(x) for x in run]
    hay = normed_lines(target) if whitespace else target
    # the rarest line of the run as pivot
    pivot = min(range(len(keys)), key=lambda j: len(idx.get(keys[j], ())))
    positions = idx.get(keys[pivot])
    if not positions:
        return []
    m = len(keys)
    starts = []
    for p in positions:
        s = p - pivot
        if s < lo or s + m > hi:
            continue
        if all(hay[s + j] == keys[j] for j in range(m)):
            starts.append(s)
    starts.sort(key=lambda s: (abs(s - hint), s))
    return starts


def positional(method_at_hint: str, starts: Sequence[int], hint: int, *, quality: float = 1.0,
               label: str = "exact") -> tuple[str, float, bool, tuple[Candidate, ...], list[str]]:
    """Score positional candidates (nearest first): method, confidence, ambiguous, alternatives, evidence.

    The nearest start wins (as GNU patch does); its confidence falls with its distance from
    ``hint`` and, when another start is nearly as near, by the tie factor.
    """
    best = starts[0]
    d = best - hint
    method = method_at_hint if d == 0 else "offset"
    conf = distance_prior(d) * quality
    ev = [f"{label} match at line {best + 1}" + (f" (offset {d:+d} from the expected line {hint + 1})" if d else
                                                 " (the expected line)")]
    alts = tuple(Candidate(s, round(distance_prior(s - hint) * quality, 4), f"{label} at line {s + 1} ({s - hint:+d})")
                 for s in starts[1:6])
    ambiguous = False
    if len(starts) > 1:
        second = starts[1] - hint
        conf *= tie_factor(d, second)
        ambiguous = tie_ratio(d, second) > TIE_RATIO
        ev.append(f"also a {label} match at line {starts[1] + 1} ({second:+d}); {len(starts)} in all"
                  + ("; too close to tell apart: ambiguous" if ambiguous else "; the nearer one wins"))
    return method, conf, ambiguous, alts, ev


def find_exact(target: tuple[str, ...], spec: HunkSpec, hint: int) -> Match | None:
    """The pre-image verbatim: ``exact`` at ``hint``, ``offset`` elsewhere (nearest wins)."""
    old = spec.old
    starts = find_runs(target, old, hint)
    if not starts:
        return None
    edge = file_edge(spec)
    fits = [s for s in starts if at_edge(target, s, len(old), edge)]
    if edge and len(fits) == 1 and len(starts) > 1:
        starts = fits  # the hunk is pinned to the file's start or end: the other copies cannot be it
    method, conf, amb, alts, ev = positional("exact", starts, hint)
    s = starts[0]
    if edge and not at_edge(target, s, len(old), edge):
        conf *= EDGE_MISS
        ev.append(f"the hunk sits at the {edge} of the upstream file but not of the target file")
    return Match(method, s, s + len(old), spec.new, round(conf, 4), 0, alts, tuple(ev), amb)


def file_edge(spec: HunkSpec) -> str | None:
    """"start" or "end" when the hunk's context is cut short by the upstream file's edge.

    Diffs carry as much context on both sides; fewer lines above (at line 1) means the hunk
    begins the file, fewer below means it ends it (GNU patch anchors such hunks the same way).
    """
    kinds = spec.kinds
    lead = next((i for i, k in enumerate(kinds) if k != " "), len(kinds))
    trail = next((i for i, k in enumerate(reversed(kinds)) if k != " "), len(kinds))
    if lead < trail and spec.old_start <= 1:
        return "start"
    if trail < lead:
        return "end"
    return None


def at_edge(target: Sequence[str], start: int, length: int, edge: str | None) -> bool:
    """Whether ``target[start:start+length]`` touches the file edge (trailing blank lines ignored)."""
    if edge == "start":
        return start == 0
    if edge == "end":
        return all(not x for x in target[start + length:])
    return True


def find_whitespace(target: tuple[str, ...], spec: HunkSpec, hint: int) -> Match | None:
    """The pre-image up to blanks; the target's own spelling of context lines is kept."""
    old = spec.old
    starts = find_runs(target, old, hint, whitespace=True)
    if not starts:
        return None
    method, conf, amb, alts, ev = positional("whitespace", starts, hint, quality=WHITESPACE_QUALITY,
                                             label="whitespace-insensitive")
    s = starts[0]
    built = build(spec, target, identity(old, target, s))
    return Match("whitespace", s, built.end, built.replacement, round(conf, 4), 0, alts,
                 tuple(ev) + built.evidence, amb)
