"""Indentation of added lines (stage: hunks, after placement): the target's nesting depth.

Inputs: a HunkSpec and the Match placing it (its replacement holds the target's context lines
and the hunk's added lines as upstream indents them).
Outputs: ``reindent`` -> (the Match with each run of added lines shifted, the shifts) or None.

Kernel code is indented with one tab per nesting level. When the target has the code around an
insertion one level shallower or deeper than upstream (a branch the target does not have, a
loop upstream added), the placement matches it up to blanks and the added lines must take the
target's depth, as a human backporting writes them: the lines next to a run of added lines, on
both sides, are upstream's lines up to leading tabs and differ from them by the same number of
tabs (or the line above is a switch label the line below sits under: the new lines start that
case, hunks.anchored.find_case_split); a run that replaces removed lines takes the depth the
target has those lines at, when the target's lines equal them up to blanks; and when the
neighbour on one side opens (``{``) or closes (``}``) a block upstream has around the run and the
target lacks (that neighbour differs), the other side alone gives the (shallower) depth. Only leading tabs move; a run whose neighbours disagree, are missing, are blank or
indented with spaces, or whose lines lack the tabs to remove, is left as upstream wrote it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import replace

from .align import RE_LABEL, added_runs
from .score import norm
from .types import HunkSpec, Match

# "\t\tfoo();" -> "\t\t"   (leading tabs, then the code)
RE_TABS = re.compile(r"^(\t*)(?! )")


def _tabs(line: str) -> int | None:
    """Leading tabs of a non-blank line indented with tabs only; None otherwise."""
    if not line.strip():
        return None
    m = RE_TABS.match(line)
    return len(m.group(1)) if m else None


def _neighbour(lines: list[str], start: int, step: int) -> str | None:
    """The first non-blank line from ``start`` going by ``step``, or None."""
    i = start
    while 0 <= i < len(lines):
        if lines[i].strip():
            return lines[i]
        i += step
    return None


def _context_neighbour(kinds: tuple[str, ...], lines: tuple[str, ...], start: int, step: int) -> str | None:
    """The first non-blank hunk line from ``start`` going by ``step`` across context lines only."""
    k = start
    while 0 <= k < len(kinds) and kinds[k] == " ":
        if lines[k].strip():
            return lines[k]
        k += step
    return None


def _shift(line: str, delta: int) -> str:
    if not line.strip():
        return line
    return "\t" * delta + line if delta > 0 else line[-delta:]


def _replaced_delta(spec: HunkSpec, i: int, at: int, rep: list[str], region: Sequence[str] | None) -> int:
    """For a run of added lines (hunk index ``i``) right after removed lines: the difference in
    leading tabs between the target's removed lines and upstream's, when the target's region
    (``region``: the lines the placement replaces) has them, equal up to blanks, right where the
    run went in the replacement (``at``), and all differ by the same tabs; 0 otherwise. The new
    lines replace those lines, so they take their depth."""
    kinds, lines = spec.kinds, spec.lines
    if region is None or i == 0 or kinds[i - 1] != "-":
        return 0
    r0 = i
    while r0 > 0 and kinds[r0 - 1] == "-":
        r0 -= 1
    up = lines[r0:i]
    sm = difflib.SequenceMatcher(None, list(region), rep, autojunk=False)
    gone = next((list(region[a1:a2]) for tag, a1, a2, b1, b2 in sm.get_opcodes()
                 if tag in ("replace", "delete") and b1 == at), None)
    if gone is None or len(gone) != len(up) or any(norm(a) != norm(b) for a, b in zip(up, gone, strict=True)):
        return 0
    deltas = {(_tabs(b) or 0) - (_tabs(a) or 0) for a, b in zip(up, gone, strict=True)
              if a.strip() and _tabs(a) is not None and _tabs(b) is not None}
    return deltas.pop() if len(deltas) == 1 else 0


def reindent(spec: HunkSpec, m: Match, region: Sequence[str] | None = None,
             ) -> tuple[Match, tuple[int, ...], tuple[str, ...]] | None:
    """``m`` with its added lines at the target's depth (see the module docstring), the shift in
    tabs of each run of added lines that moved and the hunk's added lines as shifted (in order);
    None when nothing moves. ``region``: the target lines ``m`` replaces; with it, a run that
    replaces removed lines the target has at another depth takes their depth (_replaced_delta)."""
    kinds, lines = spec.kinds, spec.lines
    added = [t for k, t in zip(kinds, lines, strict=True) if k == "+"]
    seen = 0  # added lines before the current run
    rep = list(m.replacement)
    out = list(rep)
    shifts: list[int] = []
    for i, j, at in added_runs(spec, rep):
        if at is None:
            return None
        run = list(lines[i:j])
        up_above = _context_neighbour(kinds, lines, i - 1, -1)
        up_below = _context_neighbour(kinds, lines, j, 1)
        tg_above = _neighbour(rep, at - 1, -1)
        tg_below = _neighbour(rep, at + len(run), 1)
        delta = _replaced_delta(spec, i, at, rep, region) or _delta(up_above, tg_above, up_below, tg_below)
        if delta and all(not t.strip() or (_tabs(t) or 0) >= -delta for t in run) and \
                all(_tabs(t) is not None for t in run if t.strip()):
            out[at:at + len(run)] = added[seen:seen + len(run)] = [_shift(t, delta) for t in run]
            shifts.append(delta)
        seen += len(run)
    if not shifts:
        return None
    return replace(m, replacement=tuple(out)), tuple(shifts), tuple(added)


def _delta(up_above: str | None, tg_above: str | None, up_below: str | None, tg_below: str | None) -> int:
    """The common difference in leading tabs of both neighbours (target minus upstream), or 0.
    A target line above that is a switch label the lower neighbour sits under (one tab deeper)
    opens the block the new lines start (hunks.anchored.find_case_split): the lower neighbour's
    difference alone then gives their depth."""
    if tg_above is not None and tg_below is not None and up_below is not None and RE_LABEL.match(tg_above) \
            and (up_above is None or norm(up_above) != norm(tg_above)) and norm(up_below) == norm(tg_below):
        a, b, lab = _tabs(up_below), _tabs(tg_below), _tabs(tg_above)
        if a is not None and b is not None and lab is not None and b == lab + 1 and b > a:
            return b - a
    # a neighbour the target lacks that opens (above: "... {") or closes (below: "}") upstream's
    # block around the run: a branch the target does not have; the other neighbour gives the depth
    for up, tg, other_up, other_tg, edge in ((up_above, tg_above, up_below, tg_below, "{"),
                                              (up_below, tg_below, up_above, tg_above, "}")):
        if up is not None and tg is not None and other_up is not None and other_tg is not None \
                and norm(up) != norm(tg) and (up.rstrip().endswith("{") if edge == "{" else up.strip() == "}") \
                and norm(other_up) == norm(other_tg):
            a, b = _tabs(other_up), _tabs(other_tg)
            if a is not None and b is not None and b < a:
                return b - a
    found: list[int] = []
    for up, tg in ((up_above, tg_above), (up_below, tg_below)):
        if up is None or tg is None or norm(up) != norm(tg):
            return 0
        a, b = _tabs(up), _tabs(tg)
        if a is None or b is None:
            return 0
        found.append(b - a)
    return found[0] if found[0] == found[1] else 0
