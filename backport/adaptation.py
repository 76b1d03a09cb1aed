"""Adapted hunks as findings (stage: adapt -> findings).

Inputs: the placements of one patch, each carrying the Adaptations that made its lines fit the
target (token substitutions, kb API-table rewrites, lines acted on in the target's spelling).
Outputs: one ``adapted`` WARNING finding per applied, adapted hunk: nothing adapted is ever
written without a finding that tells the reviewer what changed and why.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Finding, Placement, Severity

#: how many adaptations one finding spells out in its message (the rest are in the evidence)
MAX_SUMMARIES = 3


def check_adaptations(placements: Sequence[Placement]) -> list[Finding]:
    """One ``adapted`` finding per applied placement that carries adaptations."""
    found: list[Finding] = []
    for p in placements:
        if not p.applied or not p.adaptations:
            continue
        summaries = [a.summary for a in p.adaptations]
        shown = "; ".join(summaries[:MAX_SUMMARIES])
        if len(summaries) > MAX_SUMMARIES:
            shown += f"; and {len(summaries) - MAX_SUMMARIES} more"
        where = f"{p.path}:{p.start}" if p.path else "?"
        evidence = tuple(e for a in p.adaptations for e in (a.evidence or (f"{a.path}:{a.line}",)))
        refs = tuple(dict.fromkeys(r for a in p.adaptations for r in a.references))
        rules = [a.rule for a in p.adaptations if a.rule]
        found.append(Finding(
            "adapted", Severity.WARNING,
            f"hunk {p.hunk_index + 1} adapted at {where}: {shown}",
            p.hunk.ref, (where,) + evidence, "check each change against the target's API and the upstream intent",
            rules[0] if rules else "", refs,
            f"Adapted hunk at {where}: {shown}"))
    return found
