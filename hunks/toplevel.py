"""Whole top-level items inserted next to one exact neighbour (stage: hunks, a cascade step).

Inputs: the target file's lines, a HunkSpec that only inserts (no removed line), the expected
line, the tree's ``known`` names. Outputs: a Match (method ``fuzz``, ANCHORED_CONFIDENCE,
``anchored``, ``diverged`` naming the context lines the target has otherwise) or None.

An old tree meets new code next to neighbours it never got: upstream adds a helper right after
an existing function and right before one that came later (the 5.5-era
``aarch64_insn_gen_move_reg()`` of e3bf8a67f759 ("arm64: insn: add encoder for MOV (register)")
sits between ``aarch64_insn_gen_logical_shifted_reg()`` and ``aarch64_insn_gen_adr()``, which
4.x trees lack); a header gains a group of ``#define`` lines whose lower neighbour is a comment
the old header does not have (``FTRACE_PLT_IDX`` in arm64's asm/ftrace.h, 3b23e4991fb6 "arm64:
implement ftrace with regs"). The context on one side of the
new lines is then missing, and anchored placement (hunks.anchored) refuses an insertion with a
differing neighbour, rightly so inside a function or a table, where the order of statements or
entries is the change's meaning.

At file scope it is not: C gives top-level items no order beyond declaration before use, and
the new item belongs after (or before) the item it was written next to. So when

- every block of the hunk adds whole top-level items, at file scope in the target, and at least
  one of them has a single exact neighbour (the others may have two): in each block the first
  added line starts at column 0 and is not a ``}``, a label or a continuation, braces and
  parentheses balance, and the last code line ends an item (``}``, ``;``, a comment's end or a
  preprocessor line);
- the context line on one side of the block is in the target verbatim, right next to it (its
  exact piece weighing MIN_ANCHOR_WEIGHT informative lines, one piece found once, as for any
  anchored placement), and the first non-blank context line on the other side starts an item at
  column 0 upstream too (upstream's new lines sat between two items);
- the target is at file scope there (brace depth 0 counted from the top of the file, comments
  and strings left out): the new lines do not land inside a function or an initializer;

the block goes right after (or before) that neighbour, and the other side's context lines are
named as diverged (a ``context-diverged`` warning); every other check of an anchored placement
(hunks.anchored._anchored: all blocks framed, weights, uniqueness, API drift) still applies, so a
hunk whose new code uses a name of the missing neighbour that the target lacks is still refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from .align import added_runs, change_blocks
from .anchored import (
    ANCHORED_CONFIDENCE,
    RE_COMMENT_END,
    _added,
    _anchored,
    _framed,
    _mapping,
    _slid,
    drift_of,
)
from .exact import find_runs
from .score import describe_line, is_trivial, norm, weight
from .syntax import anchor_name, find_bodies
from .types import HunkSpec, Match

# "str"  'c'  // comment  /* (a comment's opening: its end is looked for after it)
RE_NOISE = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//.*$|/\*')
# out:   err_free:   (a goto label: only inside a function)
RE_LABEL = re.compile(r"^[A-Za-z_]\w*:\s*$")
#: unique context lines tried as the hunk's pivot, nearest the expected line first
MAX_PIVOTS = 6
# };   or   }   (an item's closing line at column 0)
RE_CLOSER = re.compile(r"^\};?\s*$")


def _code(lines: Sequence[str]) -> list[str]:
    """Each line with comments, strings and character literals blanked out (block comments
    spanning lines included)."""
    out: list[str] = []
    inside = False
    for line in lines:
        rest, parts = line, []
        while rest:
            if inside:
                end = rest.find("*/")
                if end < 0:
                    break
                rest, inside = rest[end + 2:], False
                continue
            mt = RE_NOISE.search(rest)
            if not mt:
                parts.append(rest)
                break
            parts.append(rest[:mt.start()] + " ")
            inside = mt.group(0) == "/*"
            rest = rest[mt.end():]
        out.append("".join(parts))
    return out


def depth_at(target: Sequence[str], at: int) -> int:
    """Brace depth before target line ``at`` (0: file scope), comments and strings left out."""
    depth = 0
    for code in _code(target[:at]):
        if code.lstrip().startswith("#"):
            continue
        depth += code.count("{") - code.count("}")
    return depth


def whole_items(new: Sequence[str]) -> bool:
    """Whether the lines are whole top-level items (see the module docstring)."""
    code = _code(new)
    nonblank = [k for k, line in enumerate(new) if line.strip()]
    if not nonblank:
        return False
    first = new[nonblank[0]]
    if first[0].isspace() or first.startswith(("}", ")", "]")) or RE_LABEL.match(first):
        return False
    braces = parens = 0
    continued = False
    directive: set[int] = set()  # the lines of preprocessor directives (with their continuations)
    for k, line in enumerate(code):
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            directive.add(k)
            continue
        braces += line.count("{") - line.count("}")
        parens += line.count("(") - line.count(")")
        if braces < 0 or parens < 0:
            return False
    if braces or parens or continued:
        return False
    last = new[nonblank[-1]].rstrip()
    last_code = code[nonblank[-1]].rstrip()
    return last_code.endswith(("}", ";")) or last.endswith("*/") or nonblank[-1] in directive


def starts_item(lines: Sequence[str]) -> bool:
    """Whether the first non-blank line of ``lines`` starts a top-level item (column 0, not a
    closing brace, a label or a preprocessor continuation); True when there is none."""
    line = next((x for x in lines if x.strip()), None)
    if line is None:
        return True
    return not line[0].isspace() and not line.startswith(("}", ")", "]")) and not RE_LABEL.match(line)


def _item_frame(spec: HunkSpec, pre_kinds: list[str], mp: dict[int, int],
                target: tuple[str, ...]) -> Callable[[int, int], tuple[int | None, int | None, int, int] | None]:
    """A frame for an insertion block [a, a) with one exact neighbour, for hunks.anchored._anchored
    (same shape as its _frame)."""
    old = spec.old

    def frame(a: int, b: int) -> tuple[int | None, int | None, int, int] | None:
        n = len(pre_kinds)
        if b != a or not whole_items(_added(spec, a)):
            return None
        up = a > 0 and (a - 1) in mp
        down = a < n and a in mp
        if up == down:
            return None  # both neighbours exact (the plain frame's case) or neither: no frame
        if up:
            t_from = mp[a - 1] + 1
            if not starts_item(old[a:]):
                return None
        else:
            t_from = mp[a]
            if not starts_item(old[a:]):
                return None  # the exact neighbour below must itself start an item
        if depth_at(target, t_from) != 0:
            return None
        return (a - 1 if up else None), (a if down else None), t_from, t_from

    return frame


def find_between_items(target: tuple[str, ...], spec: HunkSpec, hint: int,
                       known: Callable[[str], bool] | None = None, language: str = "c") -> Match | None:
    """The insertion hunk placed with its blocks of whole top-level items next to their one exact
    neighbour (see the module docstring); None when that does not hold or two places fit."""
    kinds = spec.kinds
    if language != "c" or "-" in kinds or "+" not in kinds:
        return None
    old = spec.old
    pre_kinds = [k for k in kinds if k != "+"]
    name = anchor_name(spec.section) if spec.section else None
    spans = find_bodies(target, name, language=language) if name else []
    span = spans[0] if len(spans) == 1 else None  # the function the @@ header names, when once there
    pivots: list[tuple[int, int]] = []  # (pre-image index, target index)
    for j, line in enumerate(old):
        if weight(line) < 1:
            continue
        at = find_runs(target, [line], hint, whitespace=True)
        if span is not None and len(at) > 1:
            at = [x for x in at if span[0] <= x < span[1]]
        if len(at) == 1:
            pivots.append((j, at[0]))
    pivots.sort(key=lambda p: abs(p[1] - p[0] - hint))
    found: dict[tuple[int, int, tuple[str, ...]], Match] = {}
    for j, t in pivots[:MAX_PIVOTS]:
        lo, hi = max(0, t - j - 3), min(len(target), t + len(old) - j + 3)
        mp = _slid(spec, _mapping(old, target, lo, hi))
        m = _build(spec, target, mp, pre_kinds)
        if m is None:
            continue
        got = _anchored(m, spec, target, mp, known, language, frame=_item_frame(spec, pre_kinds, mp, target))
        if got is None:
            continue
        lines, pieces = got
        note = (f"between top-level items: the new lines are whole items and each block has one exact neighbour "
                f"at file scope in the target ({pieces} exact piece(s), one found once); {len(lines)} context "
                "line(s) on the other side differ (the target lacks upstream's neighbouring item) and are kept as "
                "the target has them: " + ", ".join(lines[:4]) + (", ..." if len(lines) > 4 else ""))
        found[(m.start, m.end, m.replacement)] = Match(
            "fuzz", m.start, m.end, m.replacement, ANCHORED_CONFIDENCE, len(lines), (), (note,),
            diverged=lines, anchored=True)
    if len(found) != 1:
        return None
    return next(iter(found.values()))


def _build(spec: HunkSpec, target: tuple[str, ...], mp: dict[int, int], pre_kinds: list[str]) -> Match | None:
    """The Match writing each insertion block at its one exact neighbour (the plain frame's place
    when both neighbours are exact), for _anchored to check; None unless every block inserts
    whole items at file scope and at least one has a single exact neighbour."""

    item = _item_frame(spec, pre_kinds, mp, target)
    edits: list[tuple[int, tuple[str, ...]]] = []
    one_sided = 0
    blocks = change_blocks(spec.kinds)
    for a, b in blocks:
        new = _added(spec, a)
        if not whole_items(new):
            return None  # every block inserts whole items, also those with both neighbours exact
        fr = _framed(a, b, pre_kinds, mp, target, (blocks[0][0], blocks[-1][1]))
        if fr is None:
            fr = item(a, b)
            one_sided += 1
        if fr is None or depth_at(target, fr[2]) != 0:
            return None
        edits.append((fr[2], new))
    if not one_sided:
        return None  # both neighbours exact everywhere: the other methods' case, not this one
    edits.sort()
    # the Match covers the context the target has too, as the other methods' matches do
    start = min([edits[0][0]] + list(mp.values()))
    end = max([edits[-1][0]] + [t + 1 for t in mp.values()])
    out: list[str] = []
    k = start
    for at, new in edits:
        out.extend(target[k:at])
        out.extend(new)
        k = at
    out.extend(target[k:end])
    diverged = tuple(describe_line(j, old_j, 50) for j, old_j in enumerate(spec.old) if j not in mp)
    return Match("fuzz", start, end, tuple(out), ANCHORED_CONFIDENCE, len(diverged), (), (), diverged=diverged,
                 anchored=True)


__all__ = ["find_between_items", "whole_items", "starts_item", "depth_at"]


#: confidence of a placement that would put a new top-level definition inside a block
INSIDE_BLOCK_CONFIDENCE = 0.5
#: methods whose placement is the hunk's own context, verbatim (check_item_scope trusts them)
TRUSTED = frozenset({"exact", "offset", "whitespace", "already-applied"})


def check_item_scope(m: Match, spec: HunkSpec, target: tuple[str, ...]) -> Match:
    """``m`` held below the bar when a run of added lines that is a whole top-level definition
    (a column-0 item that opens a brace: ``struct x {``, a function) would land inside a brace
    block of the target: a mapped or loose position inside another struct or function (context
    the target lacks, a 3-way offset into the next item) cannot be where upstream's file-scope
    item belongs, and the result would not compile. Placements that match the hunk's own lines
    (TRUSTED) are left as they are: there upstream's file had the item at that place too. C only
    (the caller decides)."""
    if m.method in TRUSTED:
        return m
    rep = list(m.replacement)
    for i, j, at in added_runs(spec, rep):
        if at is None:
            return m
        run = list(spec.lines[i:j])
        code = _code(run)
        head = next((run[k] for k, c in enumerate(code) if c.strip() and not c.lstrip().startswith("#")), "")
        # a definition: its first code line (past preprocessor lines) starts at column 0 and is no
        # bare "{" (a table entry under an #ifdef at column 0 is no top-level item)
        if head and not head[0].isspace() and not head.startswith("{") and whole_items(run) \
                and any("{" in c for c in code):
            depth = depth_at(list(target[:m.start]) + rep[:at], m.start + at)
            if depth > 0:
                note = (f"the added lines {i + 1}-{j} are a top-level definition, but at target line "
                        f"{m.start + at + 1} they would land inside a block (brace depth {depth})")
                return replace(m, confidence=min(m.confidence, INSIDE_BLOCK_CONFIDENCE), anchored=False,
                               evidence=m.evidence + (note,))
    return m


def find_after_item(target: tuple[str, ...], spec: HunkSpec, hint: int,
                    known: Callable[[str], bool] | None = None, language: str = "c") -> Match | None:
    """Whole top-level items inserted right after the item the ``@@`` header names, placed after
    that item's end in the target when the lines around differ.

    A diff's section header names the nearest item that starts above the hunk; when the hunk's
    upper context ends with that item's closing line (``}`` or ``};`` at column 0, then blank
    lines), the new items were written right after it. The item's last members or statements
    and the item upstream has next may be missing in an older tree (a struct that grew a member
    there, a helper added later), so no context line but the closer and blanks is exact, and those
    weigh nothing (hunks.anchored). The item itself pins the place: when the target has exactly one
    definition of that name (hunks.syntax.find_bodies), ending with the same closing line and
    followed by as many blank lines, the new lines go there; at file scope (depth_at), whole items
    (whole_items), the context line below them, unless trivial, nowhere in the target (it would
    point elsewhere), no comment ending the new lines (it would speak of the item upstream has
    next), every column-0 line of the upper context the item's own header, and no drift
    toward the differing context (hunks.anchored.drift_of). Outputs a Match (method ``fuzz``,
    ANCHORED_CONFIDENCE, ``anchored``, ``diverged`` naming the differing context) or None."""
    kinds = spec.kinds
    blocks = change_blocks(kinds)
    if language != "c" or len(blocks) != 1 or blocks[0][0] != blocks[0][1] or not spec.section:
        return None
    old = spec.old
    a = blocks[0][0]
    new = _added(spec, a)
    name = anchor_name(spec.section)
    code = [x for x in new if x.strip()]
    if a == 0 or not name or not whole_items(new) or RE_COMMENT_END.search(code[-1]):
        return None  # new lines ending in a comment speak of what follows them upstream
    c = a - 1
    while c >= 0 and not old[c].strip():
        c -= 1
    blanks = a - 1 - c
    if c < 0 or not RE_CLOSER.match(old[c]):
        return None
    if any(x[:1].strip() and name not in x for x in old[:c]):
        return None  # another item starts in the context: the header's item is not the one closing
    spans = find_bodies(target, name, language=language)
    if len(spans) != 1:
        return None
    s, e = spans[0]
    t = e + blanks
    if norm(target[e - 1]) != norm(old[c]) or t > len(target) or any(x.strip() for x in target[e:t]):
        return None
    if a < len(old) and not is_trivial(old[a]) and find_runs(target, [old[a]], hint, whitespace=True):
        # the next item's first line anywhere in the file: the new items may belong next to it
        return None
    if depth_at(target, t) != 0:
        return None
    body = {norm(x) for x in target[s:e]}
    differing = [j for j in range(c) if norm(old[j]) not in body]
    differing += [j for k, j in enumerate(range(a, len(old))) if t + k >= len(target) or norm(target[t + k]) != norm(old[j])]
    drift = drift_of(spec, old, differing, target, known)
    if drift or not differing:
        return None
    lines = tuple(describe_line(j, old[j], 50) for j in differing)
    note = (f"after the item the header names: {name!r} ends at target line {e} with {norm(old[c])!r} as upstream's "
            f"does; the new lines are whole items and go right after it; {len(lines)} context line(s) differ and are "
            "kept as the target has them: " + ", ".join(lines[:4]) + (", ..." if len(lines) > 4 else ""))
    return Match("fuzz", t, t, new, ANCHORED_CONFIDENCE, len(lines), (), (note,), diverged=lines, anchored=True)
