"""The placement cascade (stage: hunks): cheapest method first, recording which one won.

Inputs: the target file's lines, a HunkSpec, the expected 0-based line (``hint``), thresholds,
optionally the upstream pre-image file (``base``, enables 3-way) and the file's language.
Outputs: a Match (method, target lines replaced, replacement, confidence, fuzz, the
alternatives it beat, evidence, ambiguous/unsafe flags) or None when nothing fits.

Order: exact -> offset -> whitespace -> already-applied -> 3-way -> fuzz -> fuzzy -> syntax.
3-way (only when the upstream pre-image ``base`` is given) runs before fuzz: it knows which
differing context lines touch the change, where fuzz would ignore them blindly.
A method's answer is taken at once when it is confident (>= GOOD) and unambiguous;
otherwise the cascade goes on and the most confident answer wins, carrying the runners-up
of the other methods as alternatives. Deciding whether a doubtful Match is applied is the
caller's job (PortOptions.min_confidence); this module only measures and explains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .applied import find_applied
from .exact import find_exact, find_whitespace
from .fuzz import find_fuzz
from .fuzzy import find_fuzzy
from .syntax import find_syntax
from .threeway import find_threeway
from .types import Candidate, HunkSpec, Match

__all__ = ["locate", "find_applied", "GOOD"]

#: a confident, unambiguous answer at or above this ends the cascade
GOOD = 0.9


def _locate_empty(target: tuple[str, ...], spec: HunkSpec) -> Match | None:
    """A hunk with no pre-image: a new file, or lines added to an empty one."""
    new = spec.new
    if tuple(target) == new and new:
        return Match("already-applied", 0, len(target), new, 1.0, 0, (),
                     ("the target already holds exactly the new content",))
    if not target:
        return Match("exact", 0, 0, new, 1.0, 0, (), ("empty target: the hunk creates its content",))
    if spec.old_start <= 0:
        return None  # creating a file that exists with other content: the caller decides
    at = min(max(spec.old_start, 0), len(target))
    return Match("offset", at, at, new, 0.5, 0, (),
                 ("the hunk has no context at all: inserted at its stated line, nothing confirms it",),
                 True)


def locate(target: Sequence[str], spec: HunkSpec, *, hint: int | None = None, max_fuzz: int = 2,
           score_cutoff: float = 0.6, ambiguity_margin: float = 0.1,
           base: Sequence[str] | None = None, language: str = "c") -> Match | None:
    """Find where ``spec`` lands in ``target``; None when no method finds a place.

    ``hint`` is the 0-based line where the hunk is expected (default ``old_start - 1``).
    ``score_cutoff`` bounds the fuzzy and syntax methods' similarity; ``ambiguity_margin`` is
    the gap below which two fuzzy candidates are a tie; ``base`` is the upstream pre-image
    file (3-way); ``language`` (hunks.syntax.language_for) selects syntax anchors.
    """
    tgt = tuple(target)
    if not spec.old:
        return _locate_empty(tgt, spec)
    if hint is None:
        hint = max(0, spec.old_start - 1)
    hint = min(max(0, hint), len(tgt))
    steps: list[Callable[[], Match | None]] = [
        lambda: find_exact(tgt, spec, hint),
        lambda: find_whitespace(tgt, spec, hint),
        lambda: find_applied(tgt, spec, hint=hint),
    ]
    if base is not None:
        steps.append(lambda: find_threeway(tgt, spec, hint, base))
    steps.append(lambda: find_fuzz(tgt, spec, hint, max_fuzz=max_fuzz))
    steps.append(lambda: find_fuzzy(tgt, spec, hint, score_cutoff=score_cutoff, ambiguity_margin=ambiguity_margin))
    steps.append(lambda: find_syntax(tgt, spec, hint, language=language, score_cutoff=score_cutoff,
                                     ambiguity_margin=ambiguity_margin))
    found: list[Match] = []
    for step in steps:
        m = step()
        if m is None:
            continue
        if m.confidence >= GOOD and not m.ambiguous and not m.unsafe:
            return _with_runners_up(m, found)
        found.append(m)
    if not found:
        return None
    best = max(found, key=lambda m: (not m.unsafe, m.confidence))
    return _with_runners_up(best, [m for m in found if m is not best])


def _with_runners_up(m: Match, others: list[Match]) -> Match:
    """Add the other methods' answers (at other places) to the winner's alternatives."""
    seen = {m.start} | {c.start for c in m.alternatives}
    extra = []
    for o in sorted(others, key=lambda o: -o.confidence):
        if o.start in seen:
            continue
        seen.add(o.start)
        extra.append(Candidate(o.start, o.confidence, f"{o.method} at line {o.start + 1}"))
    if not extra:
        return m
    alts = tuple(sorted(m.alternatives + tuple(extra), key=lambda c: -c.score))
    return replace(m, alternatives=alts)
