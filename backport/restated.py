"""A hunk whose statement the target wraps otherwise, restated (stage: place -> adapt).

Inputs: the target file's lines, a Hunk the line-level placement could not use (unplaced, or
held back), the expected line, the upstream base (or None), the target path, PortOptions, and
a judge (the pipeline's thresholds). Outputs: the Match and Respelled of the hunk rewritten by
hunks.statement (the statement it changes written as the target writes it, the hunk's token
edits carried onto it), or None.

A restated hunk is only kept when it is placed again by hunks.cascade.locate on the target
statement it was built from, unambiguous, safe and above the bar (the judge applies it), and
when exactly one candidate statement does so; it carries an Adaptation naming the target's
statement, what the target writes otherwise and what was carried, so an ``adapted`` finding
always reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from hunks.cascade import locate
from hunks.statement import Restated, restatements
from hunks.types import HunkSpec, Match

from .model import Adaptation, Hunk, HunkLine, LineKind, PortOptions, SourceRef
from .respell import ADAPTED_CAP, Respelled, respell

#: how much of a token run an adaptation summary quotes
MAX_QUOTE = 60


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 3] + "...")


def _edit_words(edit: str, lacks: str, has: str, writes: str) -> str:
    a, _, b = edit.partition(" -> ")
    if b == "(nothing)":
        return f"{lacks} {_quote(a)}"
    if a == "(nothing)":
        return f"{has} {_quote(b)}"
    return writes.format(_quote(a), _quote(b))


def adaptation(r: Restated, path: str, ref: SourceRef | None) -> Adaptation:
    """The Adaptation saying which target statement the hunk's change was carried onto."""
    carried = "; ".join(_edit_words(e, "drop", "add", "{} -> {}") for e in r.carried)
    kept = "; ".join(_edit_words(e, "lacks", "also has", "writes {1} for {0}") for e in r.kept)
    summary = (f"carry upstream's change ({carried}) onto the target's own statement at line {r.line + 1}, "
               f"wrapped over {len(r.target)} line(s) where upstream's takes {len(r.upstream_old)}")
    if kept:
        summary += f"; the target's statement {kept}"
    evidence = tuple(f"{path}:{r.line + 1 + k}: {t.strip()}" for k, t in enumerate(r.target))
    return Adaptation("token", summary, r.upstream_lines, r.port_lines, evidence, path, r.line + 1, ref)


def _hunk(h: Hunk, spec: HunkSpec) -> Hunk:
    last = h.lines[-1].no_newline if h.lines else False
    lines = tuple(HunkLine(LineKind(k), t, last and i == len(spec.lines) - 1, h.lines[0].ref if h.lines else None)
                  for i, (k, t) in enumerate(zip(spec.kinds, spec.lines, strict=True)))
    return replace(h, lines=lines)


def restate(lines: Sequence[str], h: Hunk, spec: HunkSpec, *, hint: int, base: Sequence[str] | None, path: str,
            label: str, ref: SourceRef | None, options: PortOptions, language: str,
            known: Callable[[str], bool] | None, moving: frozenset[str],
            judge: Callable[[Match, Hunk], bool]) -> tuple[Match, Respelled] | None:
    """The hunk restated onto the one target statement it lands on, confirmed; or None."""
    if not options.adapt or not spec.old:
        return None
    found: list[tuple[Match, Respelled]] = []
    cands, _ = restatements(spec, lines, hint)
    for r in cands:
        at = r.line - sum(1 for k in r.spec.kinds[:r.at] if k != "+")  # where its pre-image starts then
        m = locate(lines, r.spec, hint=max(0, at), max_fuzz=options.max_fuzz, score_cutoff=0.6,
                   ambiguity_margin=options.ambiguity_margin, base=base, language=language, known=known,
                   moving=moving)
        if m is None or m.ambiguous or m.unsafe or m.method == "already-applied" \
                or not (m.start <= r.line and r.line + len(r.target) <= m.end):
            continue
        h2 = _hunk(h, r.spec)
        rs = respell(lines, h2, r.spec, m, base=base, path=path, label=label, ref=ref, options=options,
                     known=known)
        if rs is not None and rs.hold:
            continue
        done, ported = (rs.match, rs.hunk) if rs is not None else (m, h2)
        note = adaptation(r, path, h.ref or ref)
        done = replace(done, confidence=round(min(done.confidence, ADAPTED_CAP), 4),
                       evidence=(f"adapted: {note.summary}",
                                 f"the restated hunk lands by {m.method} at line {m.start + 1}") + done.evidence)
        if not judge(done, ported):
            continue
        if any(f[0].start == done.start for f in found):
            continue
        found.append((done, Respelled(done, ported, (note,) + (rs.adaptations if rs else ()),
                                      rs.findings if rs else ())))
    return found[0] if len(found) == 1 else None
