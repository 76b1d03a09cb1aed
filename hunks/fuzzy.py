"""Fuzzy placement (stage: hunks): rapidfuzz over lists of normalised lines, with a margin.

Inputs: the target's lines, a HunkSpec, the expected line, ``score_cutoff`` and
``ambiguity_margin`` (keyword-only, as in RapidFuzz), optionally a [lo, hi) range to search
(the syntax method passes a function's extent).
Outputs: a Match (method ``fuzzy``, or the method name the caller passes) carrying the
second-best candidate, or None below the cutoff.

How: each informative pre-image line asks ``rapidfuzz.process.extract`` for its most similar
target lines (C speed, one pass per line); every hit votes for the start it implies; the best
few starts (votes smoothed over a few lines so insertions and deletions still agree) are
aligned line by line (hunks.align) and scored. Bounded: at most MAX_PROBES lines vote, at most
MAX_STARTS alignments of O(hunk * (hunk + slack)) run, whatever the file size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from .align import Alignment, align, build
from .exact import normed_lines
from .score import DRIFT_CAP, UNSAFE_CAP, ambiguous_by_margin, distance_prior, is_trivial, norm
from .types import Candidate, HunkSpec, Match

#: lines of the pre-image that vote (the longest informative ones)
MAX_PROBES = 24
#: hits each probe line contributes
HITS_PER_PROBE = 25
#: alignments tried
MAX_STARTS = 8
#: how far a candidate's lines may shift against each other (insertions/deletions), at most
MAX_SLACK = 24
#: a fuzzy placement's confidence is at most this times its quality
FUZZY_BASE = 0.92
#: alignments sharing more than this share of the shorter span are one place, not two
SAME_PLACE = 0.75
#: votes below this line similarity (0-100) are ignored
PROBE_CUTOFF = 65


def candidate_starts(target: tuple[str, ...], old: Sequence[str], lo: int, hi: int,
                     hint: int | None = None) -> list[int]:
    """Likely starts of ``old`` in ``target[lo:hi]``: the expected line, then the best voted."""
    hay = normed_lines(target)[lo:hi]
    probes = [i for i, o in enumerate(old) if not is_trivial(o)]
    probes = sorted(probes, key=lambda i: -len(norm(old[i])))[:MAX_PROBES]
    votes: dict[int, float] = defaultdict(float)
    for i in probes:
        hits = process.extract(norm(old[i]), hay, scorer=fuzz.ratio, score_cutoff=PROBE_CUTOFF,
                               limit=HITS_PER_PROBE)
        for _, score, j in hits:
            # an equal line is strong evidence; a look-alike (field_1 vs field_10) is weak
            votes[lo + int(j) - i] += 1.0 if score >= 100 else 0.5 * (score / 100.0) ** 4
    keep: list[int] = [hint] if hint is not None and lo <= hint < hi else []
    if not votes:
        return keep
    smooth = {s: sum(votes.get(s + k, 0.0) for k in range(-2, 3)) for s in votes}
    ranked = sorted(smooth, key=lambda s: (-smooth[s], -votes[s]))
    gap = max(2, len(old) // 2)
    for s in ranked:
        if all(abs(s - k) > gap for k in keep):
            keep.append(s)
            if len(keep) > MAX_STARTS:
                break
    return keep


def find_alignments(target: tuple[str, ...], old: Sequence[str], hint: int, *, lo: int = 0,
                    hi: int | None = None) -> list[Alignment]:
    """Aligned candidates for ``old`` in ``target[lo:hi]``, best quality first (nearer on ties)."""
    hi = len(target) if hi is None else min(hi, len(target))
    slack = min(MAX_SLACK, max(4, len(old) // 2))
    best: dict[int, Alignment] = {}  # per start, the better alignment (a window cut short by
    for s in candidate_starts(target, old, lo, hi, hint):  # the slack aligns fewer lines)
        al = align(old, target, max(lo, s - slack), min(hi, s + len(old) + slack), band=2 * slack)
        if al is not None and (al.start not in best or al.quality > best[al.start].quality):
            best[al.start] = al
    return sorted(best.values(), key=lambda a: (-round(a.quality, 3), abs(a.start - hint)))


def find_fuzzy(target: tuple[str, ...], spec: HunkSpec, hint: int, *, score_cutoff: float = 0.6,
               ambiguity_margin: float = 0.1, lo: int = 0, hi: int | None = None,
               method: str = "fuzzy", base_conf: float = FUZZY_BASE,
               note: str = "") -> Match | None:
    """Best fuzzy placement of ``spec`` with its runner-up, or None below ``score_cutoff``."""
    old = spec.old
    if not any(not is_trivial(o) for o in old):
        return None
    cands = find_alignments(target, old, hint, lo=lo, hi=hi)
    if not cands or cands[0].quality < score_cutoff:
        return None
    best = cands[0]
    rivals = [c for c in cands[1:] if not same_place(best, c)]
    second = rivals[0] if rivals else None
    return score_alignment(target, spec, best, second, hint, ambiguity_margin=ambiguity_margin,
                           method=method, base_conf=base_conf, note=note,
                           others=rivals[:5])


def same_place(a: Alignment, b: Alignment) -> bool:
    """Whether ``b`` is ``a``'s region aligned a few lines off (more than SAME_PLACE of the
    shorter span shared), not another place: which of the two is right is the alignment's
    quality to say, not a reason to call the placement ambiguous."""
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > SAME_PLACE * min(a.end - a.start, b.end - b.start)


def score_alignment(target: tuple[str, ...], spec: HunkSpec, best: Alignment, second: Alignment | None,
                    hint: int, *, ambiguity_margin: float, method: str, base_conf: float, note: str = "",
                    others: Sequence[Alignment] = ()) -> Match:
    """Turn an aligned candidate into a scored Match (shared by fuzzy, syntax and 3-way)."""
    built = build(spec, target, best)
    d = best.start - hint
    conf = base_conf * best.quality * distance_prior(d)
    ev = [f"{method}: pre-image aligned at lines {best.start + 1}-{best.end} with similarity "
          f"{best.quality:.2f}" + (f" (offset {d:+d})" if d else "")
          + (f"; {best.extras} target line(s) inside the hunk it does not know" if best.extras else "")]
    if note:
        ev.insert(0, note)
    ambiguous = ambiguous_by_margin(best.quality, second.quality if second else None, ambiguity_margin)
    if second is not None:
        ev.append(f"runner-up at line {second.start + 1} with similarity {second.quality:.2f}"
                  + ("; within the ambiguity margin: ambiguous" if ambiguous else ""))
        if ambiguous:
            conf *= 0.6
    if built.insert_ambiguous:
        conf *= 0.85 ** built.insert_ambiguous
    new_al = None
    if spec.new != spec.old and spec.new and built.unsafe:
        new_al = align(spec.new, target, best.start - 2, best.end + 2,
                       band=None if len(spec.new) < 2 * MAX_SLACK else 2 * MAX_SLACK)
    if new_al is not None and _added_all_present(spec, new_al) and new_al.quality > best.quality:
        ev.insert(0, f"the target here looks more like the hunk's result ({new_al.quality:.2f}) than its "
                     f"pre-image ({best.quality:.2f}): probably applied already, perhaps adapted")
        return Match("already-applied", new_al.start, new_al.end, target[new_al.start:new_al.end],
                     round(min(conf, 0.6) * new_al.quality, 4), built.differing_context,
                     _alts(others, hint), tuple(ev), ambiguous)
    if built.unsafe:
        conf = min(conf, UNSAFE_CAP * best.quality)
    if built.drift:
        conf = min(conf, DRIFT_CAP)
    return Match(method, built.start, built.end, built.replacement, round(conf, 4),
                 built.differing_context, _alts(others, hint), tuple(ev) + built.evidence,
                 ambiguous, built.unsafe > 0)


def _added_all_present(spec: HunkSpec, new_al: Alignment) -> bool:
    """Every ``+`` line of the hunk has an equal partner in the post-image alignment."""
    ni = -1
    seen = False
    for kind in spec.kinds:
        if kind == "-":
            continue
        ni += 1
        if kind == "+":
            seen = True
            if new_al.pairs[ni] is None or new_al.sims[ni] < 1.0:
                return False
    return seen


def _alts(others: Sequence[Alignment], hint: int) -> tuple[Candidate, ...]:
    return tuple(Candidate(a.start, round(a.quality, 4), f"similarity {a.quality:.2f} at line {a.start + 1} "
                           f"({a.start - hint:+d})") for a in others)
