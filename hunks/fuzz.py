"""GNU-patch-style fuzz (stage: hunks): drop outer context lines, with the risk scored.

Inputs: the target's lines, a HunkSpec, the expected line, ``max_fuzz``.
Outputs: a Match (method ``fuzz``) or None. Fuzz level f ignores up to f leading and f
trailing context lines, as ``patch --fuzz`` does; lower levels are tried first and the
nearest start wins. The ignored target lines are left as they are (never overwritten with
upstream context); each one that really differs counts in ``Match.fuzz`` and costs
confidence in proportion to the hunk's context (score.context_factor).
"""

from __future__ import annotations

from .align import Alignment, build, find_drift, identity
from .exact import WHITESPACE_QUALITY, find_runs
from .score import DRIFT_CAP, TIE_RATIO, describe_line, distance_prior, similarity, tie_factor, tie_ratio
from .types import Candidate, HunkSpec, Match


def _edges(kinds: tuple[str, ...]) -> tuple[int, int]:
    """Number of leading and trailing context lines."""
    lead = 0
    while lead < len(kinds) and kinds[lead] == " ":
        lead += 1
    trail = 0
    while trail < len(kinds) - lead and kinds[-1 - trail] == " ":
        trail += 1
    return lead, trail


def trim(spec: HunkSpec, top: int, bottom: int) -> HunkSpec:
    """The hunk without ``top`` leading and ``bottom`` trailing lines (context only)."""
    end = len(spec.kinds) - bottom
    return HunkSpec(spec.kinds[top:end], spec.lines[top:end], spec.old_start + top, spec.section)


def _bad_lines(target: tuple[str, ...], spec: HunkSpec, start: int, top: int, bottom: int) -> list[int]:
    """Pre-image indices of the dropped context lines that really differ around a core at ``start``."""
    old = spec.old
    bad = []
    for j in range(top):  # dropped leading lines sit just above the core
        t = start - top + j
        if t < 0 or similarity(old[j], target[t]) < 1.0:
            bad.append(j)
    core_len = len(old) - top - bottom
    for j in range(bottom):
        t = start + core_len + j
        if t >= len(target) or similarity(old[len(old) - bottom + j], target[t]) < 1.0:
            bad.append(len(old) - bottom + j)
    return bad


def _mismatches(target: tuple[str, ...], spec: HunkSpec, start: int, top: int, bottom: int) -> int:
    return len(_bad_lines(target, spec, start, top, bottom))


def find_fuzz(target: tuple[str, ...], spec: HunkSpec, hint: int, *, max_fuzz: int = 2) -> Match | None:
    """Place the hunk with up to ``max_fuzz`` outer context lines ignored on each side."""
    lead, trail = _edges(spec.kinds)
    n_context = spec.kinds.count(" ")
    for f in range(1, max_fuzz + 1):
        top, bottom = min(f, lead), min(f, trail)
        if top == 0 and bottom == 0:
            continue
        if f > 1 and top == min(f - 1, lead) and bottom == min(f - 1, trail):
            continue  # nothing more to drop than at the previous level
        core = trim(spec, top, bottom)
        core_old = core.old
        if not core_old or all(k == " " for k in core.kinds) and not core.kinds.count("+"):
            continue
        for ws in (False, True):
            starts = find_runs(target, core_old, hint + top, whitespace=ws)
            if starts:
                return _score(target, spec, core, starts, hint + top, top, bottom, n_context, f, ws)
    return None


def _score(target: tuple[str, ...], spec: HunkSpec, core: HunkSpec, starts: list[int], hint: int,
           top: int, bottom: int, n_context: int, level: int, ws: bool) -> Match:
    ranked = sorted(starts, key=lambda s: (_mismatches(target, spec, s, top, bottom), abs(s - hint), s))
    best = ranked[0]
    bad = _mismatches(target, spec, best, top, bottom)
    quality = WHITESPACE_QUALITY if ws else 1.0
    d = best - hint
    conf = distance_prior(d) * quality * _fuzz_factor(bad, n_context)
    ev = [f"fuzz {level}: ignored {top} leading and {bottom} trailing context line(s); "
          f"{bad} of them differ in the target (kept the target's): "
          + ", ".join("context " + describe_line(j, spec.old[j], 40) for j in _bad_lines(target, spec, best, top, bottom)),
          f"core of the hunk found {'up to blanks ' if ws else ''}at line {best + 1}"
          + (f" (offset {d:+d})" if d else "")]
    alts = tuple(Candidate(s, round(distance_prior(s - hint) * quality *
                                    _fuzz_factor(_mismatches(target, spec, s, top, bottom), n_context), 4),
                           f"fuzz core at line {s + 1} ({s - hint:+d})") for s in ranked[1:6])
    ambiguous = False
    if len(ranked) > 1:
        second = ranked[1]
        if _mismatches(target, spec, second, top, bottom) <= bad:
            conf *= tie_factor(d, second - hint)
            ambiguous = tie_ratio(d, second - hint) > TIE_RATIO
            ev.append(f"the core also matches at line {second + 1}" + ("; ambiguous" if ambiguous else ""))
    built = build(core, target, identity(core.old, target, best))
    # drift is judged on the whole hunk: the ignored context lines say most about it
    first = best - top
    pairs = tuple(first + i if 0 <= first + i < len(target) else None for i in range(len(spec.old)))
    sims = tuple(similarity(o, target[p]) if p is not None else 0.0 for o, p in zip(spec.old, pairs, strict=True))
    drift = find_drift(spec, target, Alignment(first, first + len(spec.old), pairs, sims, 0, 0.0))
    if drift:
        conf = min(conf, DRIFT_CAP)
        ev.append(f"the new lines use {', '.join(map(repr, drift))}, which the target's context spells "
                  "differently: the change likely needs adapting")
    return Match("fuzz", best, built.end, built.replacement, round(conf, 4), bad, alts,
                 tuple(ev) + built.evidence, ambiguous)


def _fuzz_factor(bad: int, n_context: int) -> float:
    """Cost of ``bad`` differing context lines: a third of the confidence when all context differs,
    and a floor cost for relying on fuzz at all."""
    if bad == 0:
        return 0.97
    return 0.95 * (1.0 - 0.6 * min(1.0, bad / max(1, n_context)))
