"""The reviewer checklist (stage: render): one Markdown checkbox per thing a human must verify.

Inputs: the PortResults of a series. Outputs: ``find_checklist_items`` (the items of one
patch, riskiest first: hunks left out, error findings, doubtful placements with the upstream
pre-image and the target code side by side, adapted hunks with upstream's and the port's
lines side by side and where each change was learned, warnings and kb items, review comments
carried over from a quoted review, notes) and ``render_checklist`` (the Markdown document, patches in
series order). ``render_side_by_side`` aligns two versions of code like ``diff -y``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Finding, Placement, PortResult, Series, Severity, SourceRef, Status
from ..safety import render_printable
from .note import (
    describe_placement,
    find_ported_hunk,
    hunk_label,
    is_about,
    is_doubtful,
    is_held_back,
    is_kb,
    section_name,
    upstream_path,
)

SIDE_WIDTH = 56  # columns of each side of a side-by-side block
RISK_UNPLACED = 100
RISK_ERROR = 90
RISK_DOUBTFUL = 50  # + up to 40 as the confidence drops
RISK_ADAPTED = 60  # the port changed upstream's lines: a human confirms each change
RISK_WARNING = 55
RISK_REVIEW = 45
RISK_NOTE = 20


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One checkbox: what to verify, why, and the code to look at."""

    risk: int
    kind: str  # unplaced | error | doubtful | adapted | warning | kb | review | note
    title: str
    details: tuple[str, ...] = ()
    code_block: str = ""  # side by side, or the hunk that was left out
    ref: SourceRef | None = None


def _clip(text: str, width: int) -> str:
    text = text.expandtabs(8)
    return text if len(text) <= width else text[: width - 1] + "…"


def render_side_by_side(left: Sequence[str], right: Sequence[str], *, left_title: str = "upstream",
                        right_title: str = "target", width: int = SIDE_WIDTH) -> str:
    """Two versions aligned line by line; the gutter says ``|`` same, ``!`` changed, ``<``/``>`` one side."""
    rows: list[tuple[str, str, str]] = [(left_title, "|", right_title), ("-" * width, "+", "-" * width)]
    matcher = difflib.SequenceMatcher(None, list(left), list(right), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [(left[i], "|", right[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        n = max(i2 - i1, j2 - j1)
        for k in range(n):
            lt = left[i1 + k] if i1 + k < i2 else None
            rt = right[j1 + k] if j1 + k < j2 else None
            mark = "!" if lt is not None and rt is not None else ("<" if rt is None else ">")
            rows.append((lt or "", mark, rt or ""))
    return "\n".join(f"{_clip(a, width).ljust(width)} {m} {_clip(b, width)}".rstrip() for a, m, b in rows)


def _finding_title(f: Finding) -> str:
    what = f.checklist or f.message
    where = f" ({f.ref})" if f.ref is not None else ""
    rule = f", rule `{f.rule}`" if f.rule else ""
    label = f"kb {f.severity}" if is_kb(f) else str(f.severity)
    return f"**{label}** `{f.code}`{rule}{where}: {what}"


def _finding_details(f: Finding) -> tuple[str, ...]:
    out = []
    if f.checklist and f.checklist != f.message:
        out.append(f.message)
    if f.hint:
        out.append(f"hint: {f.hint}")
    out += list(f.evidence)
    if f.references:
        out.append("upstream: " + ", ".join(f.references))
    return tuple(out)


def _placement_item(result: PortResult, p: Placement, merged: Sequence[Finding]) -> ChecklistItem:
    patch = result.patch
    also = tuple(f"{f.severity} `{f.code}`: {f.message}" for f in merged)
    if not p.placed:
        return ChecklistItem(RISK_UNPLACED, "unplaced",
                             f"**left out** {hunk_label(patch, p)}: could not be placed; port it by hand "
                             "or confirm the target does not need it",
                             tuple(p.evidence) + also, p.hunk.render(), p.hunk.ref)
    alts = "; ".join(f"{a.path}:{a.line} ({a.score:.2f}){' ' + a.note if a.note else ''}" for a in p.alternatives)
    details = tuple(p.evidence) + ((f"other candidates: {alts}",) if alts else ()) + also
    ported = find_ported_hunk(result, p)  # target code with the full context, when the diff has it
    right, right_at = (ported.old_lines, ported.old_start) if ported is not None else (p.target_old, p.start)
    side = render_side_by_side(p.hunk.old_lines, right,
                               left_title=f"upstream {upstream_path(patch, p)}:{p.hunk.old_start}",
                               right_title=f"target {p.path}:{right_at}")
    risk = RISK_DOUBTFUL + round((1.0 - max(0.0, min(1.0, p.confidence))) * 40)
    if is_held_back(p):  # missing from the patch: nearly as risky as a hunk that found no place
        risk = max(risk, RISK_UNPLACED - 5)
    title = (f"**doubtful placement** {describe_placement(patch, p)}; the target code must be what the "
             f"upstream change expects")
    return ChecklistItem(risk, "doubtful", title, details, side, p.hunk.ref)


def _adapted_item(result: PortResult, p: Placement) -> ChecklistItem:
    """One box per adapted hunk: each change, where it was learned, upstream vs port lines."""
    label = hunk_label(result.patch, p)
    summaries = "; ".join(dict.fromkeys(a.summary for a in p.adaptations))
    details: list[str] = []
    for a in p.adaptations:
        where = f" at {a.path}:{a.line}" if a.path and a.line else ""
        rule = f", kb API table `{a.rule}`" if a.rule else ""
        details.append(f"{a.kind}{where}{rule}: {a.summary}")
        details += [f"learned from {e}" for e in a.evidence]
        if a.references:
            details.append("upstream change undone: " + ", ".join(a.references))
    left = [ln for a in p.adaptations for ln in a.upstream]
    right = [ln for a in p.adaptations for ln in a.port]
    side = render_side_by_side(left, right, left_title=f"upstream {upstream_path(result.patch, p)}",
                               right_title=f"port {p.path}:{p.start}") if left or right else ""
    return ChecklistItem(RISK_ADAPTED, "adapted",
                         f"**adapted** {label} at {p.path}:{p.start}: {summaries}; confirm each change keeps "
                         "upstream's intent on the target's API", tuple(details), side, p.hunk.ref)


def is_adapted_finding(f: Finding, p: Placement) -> bool:
    """The ``adapted`` finding backport.adaptation raised for this very hunk."""
    return f.code == "adapted" and f.ref is not None and f.ref == p.hunk.ref


def find_checklist_items(result: PortResult) -> tuple[ChecklistItem, ...]:
    """Every checkbox of one patch, riskiest first (stable among equals)."""
    items: list[ChecklistItem] = []
    merged: set[int] = set()
    for p in result.placements:
        if not is_doubtful(p):
            continue
        about = [f for f in result.findings if is_about(f, p)]
        merged.update(id(f) for f in about)
        items.append(_placement_item(result, p, about))
    for p in result.placements:
        if p.applied and p.placed and p.adaptations:
            merged.update(id(f) for f in result.findings if is_adapted_finding(f, p))
            items.append(_adapted_item(result, p))
    for f in result.findings:
        if id(f) in merged:
            continue
        if f.severity is Severity.ERROR:
            risk, kind = RISK_ERROR, "error"
        elif f.severity is Severity.WARNING:
            risk, kind = RISK_WARNING, "kb" if is_kb(f) else "warning"
        else:
            risk, kind = RISK_NOTE, "note"
        items.append(ChecklistItem(risk, kind, _finding_title(f), _finding_details(f), "", f.ref))
    patch = result.patch
    for p in result.placements:
        for c in p.hunk.comments:
            items.append(ChecklistItem(RISK_REVIEW, "review",
                                       f"**review** {c.author} on {hunk_label(patch, p)}: {_quote(c.text)}",
                                       (), "", c.ref))
    for c in patch.comments:
        items.append(ChecklistItem(RISK_REVIEW, "review", f"**review** {c.author}: {_quote(c.text)}", (), "", c.ref))
    return tuple(sorted(items, key=lambda it: -it.risk))


def _quote(text: str) -> str:
    return "“" + " ".join(text.split()) + "”"


def render_item(item: ChecklistItem) -> str:
    where = f" ({item.ref})" if item.ref is not None and item.kind in ("review", "doubtful", "unplaced") else ""
    lines = [f"- [ ] {item.title}{where}"]
    lines += [f"  - {d}" for d in item.details]
    if item.code_block:
        fence = "```diff" if item.kind == "unplaced" else "```text"
        lines += ["", f"  {fence}", *[f"  {ln}".rstrip() for ln in item.code_block.rstrip("\n").splitlines()],
                  "  ```", ""]
    return "\n".join(lines)


def render_patch_checklist(index: int, total: int, result: PortResult) -> str:
    patch = result.patch
    head = [f"## [{index}/{total}] {patch.subject} — {result.status.value.upper()}", ""]
    facts = []
    if patch.author:
        facts.append(f"Author: {patch.author}")
    if patch.upstream_ids:
        facts.append(f"upstream commit {patch.upstream_ids[0]}")
    placed = sum(1 for p in result.placements if p.placed)
    facts.append(f"{placed}/{len(result.placements)} hunks placed")
    head += ["; ".join(facts) + ".", "", ""]
    items = find_checklist_items(result)
    if not items:
        sections = {section_name(p.hunk.section) for p in result.placements} - {""}
        where = f" ({', '.join(sorted(sections))})" if sections else ""
        return "\n".join(head[:-1] + [f"Nothing to verify: every hunk applied as is or at an offset{where}, "
                                 "no findings.", ""])
    return "\n".join(head) + "\n".join(render_item(it) for it in items).rstrip("\n") + "\n"


def render_checklist(results: Sequence[PortResult], series: Series | None = None) -> str:
    """The whole checklist as Markdown: a header, then one section per patch in series order."""
    counts = {s: sum(1 for r in results if r.status is s) for s in Status}
    n_items = sum(len(find_checklist_items(r)) for r in results)
    out = ["# Reviewer checklist", ""]
    origin = f" from {', '.join(series.origin)}" if series is not None and series.origin else ""
    version = f" v{series.version}" if series is not None and series.version > 1 else ""
    out += [f"Series{version}{origin}: {len(results)} patch{'es' if len(results) != 1 else ''}, "
            f"{counts[Status.CLEAN]} clean, {counts[Status.REVIEW]} to review, {counts[Status.BLOCKED]} blocked; "
            f"{n_items} item{'s' if n_items != 1 else ''} to verify, riskiest first within each patch.", ""]
    if series is not None and series.warnings:
        out += [f"- {w}" for w in series.warnings] + [""]
    total = len(results)
    body = "\n".join(render_patch_checklist(i, total, r) for i, r in enumerate(results, 1))
    # read in terminals too: a stranger's ESC sequences and bidi overrides are made visible
    return render_printable("\n".join(out) + "\n" + body)
