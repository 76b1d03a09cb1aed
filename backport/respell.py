"""Token-level adaptation of one placed hunk (stage: place -> adapt, before the thresholds).

Inputs: the target file's lines, a Hunk, its engine Match, the upstream base file (or None),
the target path, PortOptions. Outputs: a Respelled: the Match to judge (its replacement in the
target's spelling, re-placed to confirm it), the Hunk as ported (for the removed-line check),
the Adaptations to attach to the Placement, findings, and whether the hunk must be held back.

Runs hunks.adapt on placements whose pre-image differs from the target (fuzz, fuzzy, syntax,
3-way): removed and kept lines are acted on as the target spells them, and the substitutions
learned from the aligned lines are carried into the added lines. The adapted hunk is placed
again (hunks.cascade.locate) and only kept when it lands, unambiguous and safe, on the same
region: the evidence must hold with the target's own spelling, not just look close. What
cannot be carried is an ``adaptation-failed`` warning and the hunk is held back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hunks.adapt import Adapted, adapt, learning_pairs, lex_words, lost
from hunks.cascade import locate
from hunks.indent import reindent
from hunks.syntax import language_for
from hunks.types import HunkSpec, Match

from . import deps
from .model import Adaptation, Finding, Hunk, HunkLine, LineKind, PortOptions, Severity, SourceRef, TargetTree

#: methods whose placements may differ from the target in tokens
ADAPTABLE = frozenset({"fuzz", "fuzzy", "syntax", "3way"})
#: an adapted placement is worth at most this (it passes the default bar, and is always flagged)
ADAPTED_CAP = 0.9
#: how far the re-placed adapted hunk may start from the original placement
MAX_SHIFT = 3


@dataclass(frozen=True, slots=True)
class Respelled:
    match: Match
    hunk: Hunk  # the hunk as ported (removed lines in the target's spelling)
    adaptations: tuple[Adaptation, ...] = ()
    findings: tuple[Finding, ...] = ()
    hold: bool = False


def known_names(tree: TargetTree, options: PortOptions, path: str) -> Callable[[str], bool] | None:
    """``name -> bool``: whether the target tree defines ``name`` (the deps index, loaded on first
    use); None when the checks are off (no index is built for the port then)."""
    if not options.checks:
        return None
    memo: dict[str, bool] = {}

    def known(name: str) -> bool:
        if name not in memo:
            idx = deps.get_index(tree, options, touched=(path,))
            memo[name] = idx.has(name) or idx.has(name, members=True)
        return memo[name]
    return known


def respell(lines: Sequence[str], h: Hunk, spec: HunkSpec, m: Match, *, base: Sequence[str] | None, path: str,
            label: str, ref: SourceRef | None, options: PortOptions,
            known: Callable[[str], bool] | None = None) -> Respelled | None:
    """The hunk adapted to the target's spelling, a reason to hold it back, or None (nothing to do);
    the added lines then take the target's indentation depth (hunks.indent), recorded as well."""
    rs = _respell(lines, h, spec, m, base=base, path=path, label=label, ref=ref, options=options, known=known)
    if not options.adapt or m.ambiguous or (rs is not None and rs.hold):
        return rs
    done, ported = (rs.match, rs.hunk) if rs is not None else (m, h)
    found = reindent(HunkSpec(spec.kinds, tuple(ln.text for ln in ported.lines), spec.old_start, spec.section),
                     done, lines[done.start:done.end])
    if found is None:
        return rs
    moved, shifts, after = found
    plus = [i for i, ln in enumerate(ported.lines) if ln.kind.value == "+"]
    before = [ported.lines[i].text for i in plus]
    re_lines = list(ported.lines)
    for i, t in zip(plus, after, strict=True):
        re_lines[i] = HunkLine(re_lines[i].kind, t, re_lines[i].no_newline, re_lines[i].ref)
    words = ", ".join(f"{abs(d)} tab(s) {'deeper' if d > 0 else 'shallower'}" for d in shifts)
    note = Adaptation("context", f"indent the added lines as the target nests the code around them ({words})",
                      tuple(f"+{t}" for t, u in zip(before, after, strict=True) if t != u),
                      tuple(f"+{u}" for t, u in zip(before, after, strict=True) if t != u),
                      (f"{path}:{m.start + 1}: the context around the added lines is indented {words}",),
                      path, m.start + 1, h.ref or ref)
    am = replace(moved, confidence=round(min(moved.confidence, ADAPTED_CAP), 4),
                 evidence=(f"adapted: {note.summary}",) + moved.evidence)
    return Respelled(am, replace(ported, lines=tuple(re_lines)), (rs.adaptations if rs else ()) + (note,),
                     rs.findings if rs else ())


def _respell(lines: Sequence[str], h: Hunk, spec: HunkSpec, m: Match, *, base: Sequence[str] | None, path: str,
             label: str, ref: SourceRef | None, options: PortOptions,
             known: Callable[[str], bool] | None = None) -> Respelled | None:
    """The hunk adapted to the target's spelling, a reason to hold it back, or None (nothing to do)."""
    if not options.adapt or m.ambiguous or not spec.old:
        return None
    if m.method not in ADAPTABLE:
        return _needed(lines, h, spec, m, base=base, path=path, ref=ref, known=known)
    pairs, more, by_base = learning_pairs(spec, lines, m.start, m.end, base)
    a = adapt(spec, lines, pairs, more, known, language=language_for(path), by_base=by_base)
    if a.uncarried:
        return _failed(h, m, a.uncarried, path, label, ref)
    if not a.changed:
        return None
    aspec = HunkSpec(spec.kinds, a.lines, spec.old_start, spec.section)
    r = locate(lines, aspec, hint=m.start, max_fuzz=options.max_fuzz, score_cutoff=0.6,
               ambiguity_margin=options.ambiguity_margin, base=base)
    if r is None or r.method == "already-applied" or r.ambiguous or r.unsafe or abs(r.start - m.start) > MAX_SHIFT:
        how = "nowhere" if r is None else f"{r.method} at line {r.start + 1}"
        return _failed(h, m, (f"the adapted hunk does not land back on target line {m.start + 1} ({how})",),
                       path, label, ref)
    adaptations = _adaptations(spec, a, path, r.start + 1, h.ref or ref)
    ev = tuple(f"adapted: {x.summary}" for x in adaptations)
    conf = round(min(r.confidence, ADAPTED_CAP), 4)
    am = replace(r, method=m.method, confidence=conf, alternatives=m.alternatives,
                 evidence=ev + (f"the adapted hunk lands by {r.method} at line {r.start + 1}",) + r.evidence)
    ported = replace(h, lines=tuple(HunkLine(ln.kind, t, ln.no_newline, ln.ref)
                                    for ln, t in zip(h.lines, a.lines, strict=True)))
    return Respelled(am, ported, adaptations)


def _needed(lines: Sequence[str], h: Hunk, spec: HunkSpec, m: Match, *, base: Sequence[str] | None, path: str,
            ref: SourceRef | None, known: Callable[[str], bool] | None) -> Respelled | None:
    """An exact or offset placement whose added lines use a name the target tree lacks (a member
    or macro newer trees have): carry the substitutions the base-vs-target diff around the hunk
    shows (``cgx->mac_ops->rxid_map_offset`` where the target writes ``CGXX_CMRX_RX_ID_MAP``), but
    only those that take such a name out; anything else leaves the placement as it was."""
    if base is None or known is None or m.method not in ("exact", "offset"):
        return None
    words = {w for k, t in zip(spec.kinds, spec.lines, strict=True) if k == "+" for w in lex_words(t)}
    btext, ttext = "\n".join(base), "\n".join(lines)  # a name new in the patch is in neither
    missing = {w for w in words if _has_word(btext, w) and not _has_word(ttext, w) and not known(w)}
    if not missing:
        return None
    pairs, more, by_base = learning_pairs(spec, lines, m.start, m.end, base)
    a = adapt(spec, lines, pairs, more, known, language=language_for(path), by_base=by_base)
    if a.uncarried or a.removed or not a.carried or any(not (lost(sub) & missing) for sub, _ in a.carried):
        return None
    ported = replace(h, lines=tuple(HunkLine(ln.kind, t, ln.no_newline, ln.ref)
                                    for ln, t in zip(h.lines, a.lines, strict=True)))
    replacement = [t for k, t in zip(spec.kinds, a.lines, strict=True) if k != "-"]
    adaptations = _adaptations(spec, a, path, m.start + 1, h.ref or ref)
    am = replace(m, replacement=tuple(replacement), confidence=round(min(m.confidence, ADAPTED_CAP), 4),
                 evidence=tuple(f"adapted: {x.summary}" for x in adaptations) + m.evidence)
    return Respelled(am, ported, adaptations)


def _has_word(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` as a whole identifier (str.find, then the neighbours)."""
    i = text.find(word)
    while i >= 0:
        j = i + len(word)
        if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and \
                (j == len(text) or not (text[j].isalnum() or text[j] == "_")):
            return True
        i = text.find(word, i + 1)
    return False


def _failed(h: Hunk, m: Match, why: Sequence[str], path: str, label: str, ref: SourceRef | None) -> Respelled:
    line = m.start + 1
    return Respelled(m, h, (), (Finding(
        "adaptation-failed", Severity.WARNING,
        f"{label} differs from the target at {path}:{line} in a way that cannot be carried: {why[0]}",
        ref, (f"{path}:{line}",) + tuple(why[:5]),
        "adapt the hunk by hand: the target spells the code it touches otherwise"),), True)


def _adaptations(spec: HunkSpec, a: Adapted, path: str, line: int, ref: SourceRef | None) -> tuple[Adaptation, ...]:
    out: list[Adaptation] = []
    for act in a.removed:
        out.append(Adaptation(
            "removed", f"remove the target's {act.target.strip()!r}, which upstream writes "
                       f"{act.upstream.strip()!r}",
            (f"-{act.upstream}",), (f"-{act.target}",), (f"{path}:{act.line + 1}: {act.target.strip()}",),
            path, act.line + 1, ref))
    for sub, hs in a.carried:
        out.append(Adaptation(
            "token", sub.summary(), tuple(f"{spec.kinds[i]}{spec.lines[i]}" for i in hs),
            tuple(f"{spec.kinds[i]}{a.lines[i]}" for i in hs), (f"{path}:{sub.line + 1}: {sub.text.strip()}",),
            path, line, ref))
    return tuple(out)



def carry_across(lines: Sequence[str], placed: Sequence[tuple[Hunk, Match, bool]], *, base: Sequence[str] | None,
                 path: str, options: PortOptions, known: Callable[[str], bool] | None,
                 ref: SourceRef | None) -> dict[int, tuple[tuple[str, ...], tuple[Adaptation, ...]]]:
    """Substitutions one hunk's lines teach, carried into another hunk of the same file whose own
    lines teach nothing (placed verbatim): the target's ``q->lrc[0].ring`` on a line hunk 2
    removes is how hunk 1's added ``q->lrc[0]->ring`` must be written too. Only hunks that did not
    land verbatim teach (their own lines against the target, and the base around them). ``placed``: per
    applied hunk of the file, the hunk as ported, its Match and whether it may take such a
    carry (placed verbatim, not adapted already). Returns, per index into ``placed``, the new
    replacement lines and the token Adaptations (evidence: the other hunk's target line); a hunk
    whose carry leaves a reason (hunks.adapt's ``uncarried``) is left as it was."""
    if not options.adapt or len(placed) < 2:
        return {}
    if not any(free for _, _, free in placed):
        return {}
    # a hunk placed verbatim: its own lines are the target's and teach nothing
    teach = [[] if free else taught(lines, [(hp, m)], base) for hp, m, free in placed]
    out: dict[int, tuple[tuple[str, ...], tuple[Adaptation, ...]]] = {}
    for i, (hp, m, free) in enumerate(placed):
        more = [x for j, t in enumerate(teach) if j != i for x in t]
        if not free or not more or not any(k.value == "+" for k in (ln.kind for ln in hp.lines)):
            continue
        spec = _spec(hp)
        pairs = list(range(m.start, m.start + len(spec.old)))
        a = adapt(spec, lines, pairs, more, known, language=language_for(path))
        if a.uncarried or not a.carried or a.removed:
            continue
        replacement = tuple(t for k, t in zip(spec.kinds, a.lines, strict=True) if k != "-")
        out[i] = (replacement, _adaptations(spec, a, path, m.start + 1, hp.ref or ref))
    return out


def _spec(h: Hunk) -> HunkSpec:
    return HunkSpec(tuple(ln.kind.value for ln in h.lines), tuple(ln.text for ln in h.lines), h.old_start, h.section)


def respell_preimage(h: Hunk, lines: Sequence[str], teach: Sequence[tuple[str, int]], *, path: str,
                     known: Callable[[str], bool] | None) -> tuple[Hunk, tuple[str, ...]] | None:
    """``h`` with its kept and removed lines written as the file's other hunks taught (hunks.adapt
    learning from ``teach``: (upstream line, target index) pairs of hunks already placed that the
    target spells otherwise), and the evidence per substitution; None when no line changes. For
    placing a hunk whose own context the target spells the way another hunk showed (a local
    ``folios`` that is ``pages`` in the function the @@ line names, learned where hunk 4 landed,
    lets hunk 6's ``kfree(folios);`` anchor on the target's ``kfree(pages);``)."""
    pre = [i for i, ln in enumerate(h.lines) if ln.kind is not LineKind.ADDED]
    if not teach or not pre:
        return None
    spec = HunkSpec(("+",) * len(pre), tuple(h.lines[i].text for i in pre), h.old_start, h.section)
    a = adapt(spec, lines, [], teach, known, language=language_for(path))
    if not a.carried:
        return None
    out = list(h.lines)
    for k, i in enumerate(pre):
        ln = h.lines[i]
        if a.lines[k] != ln.text:
            out[i] = HunkLine(ln.kind, a.lines[k], ln.no_newline, ln.ref)
    ev = tuple(f"{sub.summary()} (learned at {path}:{sub.line + 1}: {sub.text.strip()})" for sub, _ in a.carried)
    return replace(h, lines=tuple(out)), ev


def taught(lines: Sequence[str], placed: Sequence[tuple[Hunk, Match]], base: Sequence[str] | None) -> list[tuple[str, int]]:
    """The (upstream line, target index) pairs of placed hunks whose lines the target spells
    otherwise: what they teach about the target's spelling (learning_pairs, own and base region)."""
    out: list[tuple[str, int]] = []
    for hp, m in placed:
        spec = _spec(hp)
        pairs, more, _ = learning_pairs(spec, lines, m.start, m.end, base)
        out.extend((o, p) for o, p in zip(spec.old, pairs, strict=True) if p is not None and o != lines[p])
        out.extend((o, p) for o, p in more if o != lines[p])
    return out
