"""The placement cascade (stage: hunks): cheapest method first, recording which one won.

Inputs: the target file's lines, a HunkSpec, the expected 0-based line (``hint``), thresholds,
optionally the upstream pre-image file (``base``, enables 3-way) and the file's language.
Outputs: a Match (method, target lines replaced, replacement, confidence, fuzz, the
alternatives it beat, evidence, ambiguous/unsafe flags) or None when nothing fits.

Order: exact -> offset -> whitespace -> already-applied -> 3-way -> fuzz -> fuzzy -> syntax
-> removed lines alone (hunks.removed, reported as a low-confidence fuzzy placement) -> the end
of the file for a hunk that appends to the end of the upstream file (hunks.anchored.find_appended)
-> in C, an insertion whose context below the target has under a switch label
(hunks.anchored.find_case_split) -> in C, whole top-level items inserted next to one exact
neighbour at file scope (hunks.toplevel.find_between_items) -> when none of these reaches
SPLIT_BELOW, the hunk cut into parts at the context between its change groups, each part placed
by this cascade on its own and the parts joined (hunks.split, method ``split``).
A loose placement whose change is anchored exactly and whose differing context lies away from
it is raised above the default bar with ``Match.diverged`` set (hunks.anchored).
3-way (only when the upstream pre-image ``base`` is given) runs before fuzz: it knows which
differing context lines touch the change, where fuzz would ignore them blindly.
A method's answer is taken at once when it is confident (>= GOOD) and unambiguous;
otherwise the cascade goes on and the most confident answer wins, carrying the runners-up
of the other methods as alternatives. Deciding whether a doubtful Match is applied is the
caller's job (PortOptions.min_confidence); this module only measures and explains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

from .align import build, identity
from .anchored import anchor, find_appended, find_case_split
from .applied import find_applied
from .exact import WHITESPACE_QUALITY, find_exact, find_runs, find_whitespace
from .fuzz import find_fuzz
from .fuzzy import find_fuzzy
from .initializer import find_initializer_entry
from .removed import find_by_removed
from .score import DRIFT_CAP, api_words, distance_prior, is_trivial, norm
from .split import find_split
from .syntax import find_anchors, find_syntax, hunk_anchor, items
from .threeway import find_threeway
from .toplevel import check_item_scope, find_between_items
from .types import Candidate, HunkSpec, Match

__all__ = ["locate", "find_applied", "GOOD"]

# foo_bar   (identifiers, three characters or more: short ones say nothing)
RE_IDENT = re.compile(r"\b[A-Za-z_]\w{2,}\b")

#: cap on a loose placement some of whose new lines are already next to it
PARTIAL_CAP = 0.7
#: shorter new lines are too common to count as "already there"
PARTIAL_MIN_CHARS = 16
#: a confident, unambiguous answer at or above this ends the cascade
GOOD = 0.9
#: when no method's answer reaches this (the default bar of backport's --min-confidence) unambiguous
#: and safe, the hunk is tried in parts (hunks.split)
SPLIT_BELOW = 0.8


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
    there = find_runs(target, new, at) if new else []
    if there and abs(there[0] - at) <= len(new) + 3:
        s = there[0]
        return Match("already-applied", s, s + len(new), target[s:s + len(new)], 0.6, 0, (),
                     (f"the new lines are already at line {s + 1}; without context nothing more confirms it",),
                     len(there) > 1)
    return Match("offset", at, at, new, 0.5, 0, (),
                 ("the hunk has no context at all: inserted at its stated line, nothing confirms it",),
                 True)


def locate(target: Sequence[str], spec: HunkSpec, *, hint: int | None = None, max_fuzz: int = 2,
           score_cutoff: float = 0.6, ambiguity_margin: float = 0.1,
           base: Sequence[str] | None = None, language: str = "c",
           known: Callable[[str], bool] | None = None, moving: frozenset[str] = frozenset(),
           split: bool = True) -> Match | None:
    """Find where ``spec`` lands in ``target``; None when no method finds a place.

    ``hint`` is the 0-based line where the hunk is expected (default ``old_start - 1``).
    ``score_cutoff`` bounds the fuzzy and syntax methods' similarity; ``ambiguity_margin`` is
    the gap below which two fuzzy candidates are a tie; ``base`` is the upstream pre-image
    file (3-way); ``language`` (hunks.syntax.language_for) selects syntax anchors; ``known``
    answers whether the target tree defines a name (hunks.anchored: a drifted name it has is no
    reason to hold a change back); ``moving`` holds the lines (normalised, hunks.score.norm) that
    other hunks of the same file diff remove: a new line found next to the placement that the
    patch removes elsewhere is being moved, not already applied. ``split`` (the default) lets a
    hunk that no method places over SPLIT_BELOW be placed in parts (hunks.split); the parts
    themselves are placed without it.
    """
    if len(spec.kinds) != len(spec.lines) or any(k not in ("+", "-", " ") for k in spec.kinds):
        raise ValueError("HunkSpec.kinds must hold one of '+', '-', ' ' per line")
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
    steps.append(lambda: find_by_removed(tgt, spec, hint))
    steps.append(lambda: find_appended(tgt, spec, known))
    if language == "c":
        steps.append(lambda: find_case_split(tgt, spec, hint))
        steps.append(lambda: find_between_items(tgt, spec, hint, known, language))
        steps.append(lambda: find_initializer_entry(tgt, spec, known))
    found: list[Match] = []
    for step in steps:
        m = step()
        if m is None:
            continue
        if m.method in ("fuzz", "fuzzy", "syntax", "3way"):
            m = anchor(check_applied_nearby(m, spec, tgt, moving), spec, tgt, known, language)
        if m.alternatives and m.method in ("exact", "offset", "whitespace"):
            m = disambiguate(m, tgt, spec, hint, base=base, language=language)
        if base is not None:
            m = check_prerequisites(m, spec, tgt, tuple(base), language)
        if language == "c":
            m = check_item_scope(m, spec, tgt)
        if m.confidence >= GOOD and not m.ambiguous and not m.unsafe:
            return _with_runners_up(m, found)
        found.append(m)
    # (a hunk that may be applied already is not cut up: its parts would add what is there)
    if split and not any(m.confidence >= SPLIT_BELOW and not m.ambiguous and not m.unsafe
                         or m.method == "already-applied" for m in found):
        sm = find_split(tgt, spec, hint, lambda part, at: locate(
            tgt, part, hint=at, max_fuzz=max_fuzz, score_cutoff=score_cutoff, ambiguity_margin=ambiguity_margin,
            base=base, language=language, known=known, moving=moving, split=False), language=language, known=known)
        if sm is not None and base is not None:
            sm = check_prerequisites(sm, spec, tgt, tuple(base), language)
        if sm is not None:
            return _with_runners_up(sm, found)
    if not found:
        return None
    best = max(found, key=lambda m: (not m.unsafe, not m.ambiguous, m.confidence))
    return _with_runners_up(best, [m for m in found if m is not best])


def disambiguate(m: Match, tgt: tuple[str, ...], spec: HunkSpec, hint: int, *,
                 base: Sequence[str] | None, language: str) -> Match:
    """Choose among several verbatim candidates with the upstream file (3-way) or the item the
    hunk's section header names; the nearest-wins rule alone picks the wrong copy of
    duplicated code whenever the target is shorter or longer than upstream above it."""
    starts = [m.start] + [c.start for c in m.alternatives]
    chosen: int | None = None
    reason = ""
    if base is not None:
        tw = find_threeway(tgt, spec, hint, base)
        if tw is not None and not tw.unsafe and tw.start in starts:
            chosen, reason = tw.start, "the upstream file (3-way) maps the hunk to this copy"
    if chosen is None:
        name = hunk_anchor(spec, language)
        spans = find_anchors(tgt, name, language=language) if name else []
        inside = [s for s in starts if any(a <= s < b for a, b in spans)]
        if len(inside) == 1:
            chosen, reason = inside[0], f"the only copy inside {name!r}"
    if chosen is None:
        return m
    quality = WHITESPACE_QUALITY if m.method == "whitespace" else 1.0
    d = chosen - hint
    conf = round(distance_prior(d) * quality, 4)
    ev = (f"{len(starts)} verbatim candidates; chose line {chosen + 1}: {reason}",)
    alts = tuple(Candidate(s, round(distance_prior(s - hint) * quality * 0.5, 4), f"other copy at line {s + 1}")
                 for s in starts if s != chosen)
    if m.method == "whitespace":
        built = build(spec, tgt, identity(spec.old, tgt, chosen))
        return Match("whitespace", chosen, built.end, built.replacement, conf, 0, alts,
                     ev + (f"whitespace-insensitive match at line {chosen + 1}",) + built.evidence)
    method = "exact" if d == 0 else "offset"
    return Match(method, chosen, chosen + len(spec.old), spec.new, conf, 0, alts,
                 ev + (f"exact match at line {chosen + 1}" + (f" (offset {d:+d})" if d else ""),))


def check_applied_nearby(m: Match, spec: HunkSpec, tgt: tuple[str, ...],
                         moving: frozenset[str] = frozenset()) -> Match:
    """A loose placement whose new lines are already around it (in order) and whose removed
    lines are gone: the same fix arrived with other context. Reported as already-applied
    (doubtful), because applying it would add the lines a second time. A new line that this hunk
    or another hunk of the file (``moving``) removes is the patch moving it: no evidence."""
    added = [norm(t) for k, t in zip(spec.kinds, spec.lines, strict=True)
             if k == "+" and not is_trivial(t) and norm(t) not in moving]
    removed = {norm(t) for k, t in zip(spec.kinds, spec.lines, strict=True) if k == "-" and not is_trivial(t)}
    moved = [a for a in added if a in removed]  # a hunk that reorders lines re-adds what it removes
    added = [a for a in added if a not in removed]
    if not added:
        return m
    reach = len(spec.lines) + 3
    lo, hi = max(0, m.start - reach), min(len(tgt), m.end + reach)
    window = [norm(x) for x in tgt[lo:hi]]
    pos = 0
    first = None
    # long lines only: "return ret;" or "goto out;" next to a placement prove nothing
    present = [a for a in added if a in window and len(a) >= PARTIAL_MIN_CHARS]
    for a in added:
        try:
            pos = window.index(a, pos) + 1
        except ValueError:
            if len(present) >= 2 and 3 * len(present) >= 2 * len(added):
                note = (f"{len(present)} of the hunk's {len(added)} new lines are already near the placement "
                        f"({present[0]!r}...): partly applied, or applying would duplicate them")
                return replace(m, confidence=round(min(m.confidence, PARTIAL_CAP), 4), evidence=m.evidence + (note,))
            return m
        first = pos - 1 if first is None else first
    if (removed - set(moved)) & set(window):
        return m
    at = lo + (first or 0)
    ev = (f"the hunk's new lines are already at target line {at + 1} and its removed lines are gone: "
          f"the same change is present with other context (found by {m.method})",) + m.evidence
    return Match("already-applied", m.start, m.end, tgt[m.start:m.end], round(min(m.confidence, 0.75), 4),
                 m.fuzz, m.alternatives, ev, m.ambiguous)


@lru_cache(maxsize=16)
def file_words(lines: tuple[str, ...]) -> frozenset[str]:
    """The identifiers (RE_IDENT: 3+ characters) of a file's lines, cached per content (the
    prerequisite check here and backport.divergence's ask about the same target file)."""
    return frozenset(w for line in lines for w in RE_IDENT.findall(line))


@lru_cache(maxsize=8)
def _defined(lines: tuple[str, ...], language: str) -> frozenset[str]:
    """Names a file defines itself (functions, macros, types, variables, labels, configs)."""
    return frozenset(it.name for it in items(lines, language))


def check_prerequisites(m: Match, spec: HunkSpec, target: tuple[str, ...], base: tuple[str, ...],
                        language: str = "c") -> Match:
    """Cap a placement whose new lines use names the upstream file defines and the target lacks.

    Such a name (a static helper, a macro, a variable defined in the file upstream) means the
    target misses a prerequisite or spells it otherwise: the change needs adapting. Names
    from elsewhere (headers, other files) are the dependency checker's business. So are all
    of a Kconfig file's: its symbols are global to the tree (one file's lacking a symbol says
    nothing about the target), and one no Kconfig file defines is legal there (it evaluates to
    n in ``depends on``, ``select``, ``default``, ``if``: the entry just cannot be enabled), the
    kind a porter keeps for an erratum entry depending on a feature the older target lacks; the
    dependency checker names each such symbol (``missing-kconfig``), the place is no less sure.
    """
    if m.method == "already-applied" or language == "kconfig":
        return m
    used: set[str] = set()
    for k, t in zip(spec.kinds, spec.lines, strict=True):
        if k == "+":
            used |= api_words(t)
    if not used:
        return m
    have = file_words(target)
    new = [w for w in used if w not in have]
    if not new:  # every name is in the target already: what upstream's file defines is not asked
        return m
    upstream = _defined(base, language)
    missing = sorted(w for w in new if w in upstream)
    if not missing:
        return m
    note = (f"the new lines use {', '.join(map(repr, missing[:5]))}, which upstream's file has and the "
            "target's lacks: a missing prerequisite, or a name the target spells otherwise")
    return replace(m, confidence=round(min(m.confidence, DRIFT_CAP), 4), evidence=m.evidence + (note,))


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
