"""Anchored placements (stage: hunks): context that differs away from an exactly anchored change.

Inputs: the target's lines, a HunkSpec and a loose Match for it (fuzz, fuzzy, syntax, 3-way).
Outputs: the Match with ``Match.diverged`` naming the context lines the target has otherwise (the
caller raises a ``context-diverged`` warning when it applies it), raised to ANCHORED_CONFIDENCE
with ``Match.anchored`` set when the change itself is anchored exactly.

A loose method pays for every context line that differs, wherever it is. What decides whether the
change means the same in the target is the code the change touches: when

- every removed line is in the target, verbatim (up to blanks);
- the context line just above and just below the changed region (each block of +/- lines and
  everything between the first and the last block) is in the target, verbatim, with nothing the
  target adds in between: the change lands between the same neighbours;
- those exact lines, extended by the exact context contiguous with them (one piece per stretch
  of the hunk the target has verbatim), weigh at least MIN_ANCHOR_WEIGHT informative lines each
  (hunks.score.weight: ``}`` or a blank line counts a quarter), one piece at least occurs exactly
  once in the target (or once in the C function the ``@@`` header names, when the target has one
  such function and the placement is in it) and the target adds at most MAX_GAP_GROWTH lines
  between two pieces;
- the Match writes exactly the hunk's change there and keeps the target's lines elsewhere;

with two widenings that do not move the change: a context line the target dropped (the lines on
both sides of it meet in the target) may separate a neighbour from the change on one side (the
next exact line is the neighbour, and pieces that meet count as one); and below removed lines the
target may have lines of its own, however many (the new lines take the removed lines' place);

and a block of removed lines may have one exact neighbour right next to it while the other side
differs (_one_side: the new lines take the removed lines' place), and an insertion may be followed
by target lines of its own that end the block with a jump before the ``}`` below it
(hunks.align.before_exit);

and the new lines use no name of a differing context line that the target's file never uses and
the target tree does not define (``known``, from the tree's index; API drift: the change itself
then needs adapting, hunks.align.find_drift), then a context line that
differs further out (a timestamp API the target calls otherwise, a local renamed beside the
insertion, a comment reworded) is not a reason to refuse: the placement is
applied and ``diverged`` makes the caller raise a ``context-diverged`` warning that names those
lines. A context line that differs between two blocks of the change fails the test, and so does
one next to the change unless the target has its own version of it there, line for line (at most
MAX_RESPELLED lines between the exact neighbours, as many in the target as upstream has: a
timestamp API line right above an added call; the new lines go on the same side of it, and a
piece of the anchor weighs together with the piece past such lines); failing, the Match keeps its
(low) confidence and stays held back. The placement also keeps its
ambiguity and unsafety flags; neither is lifted here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import replace

from .align import _file_words, _members, before_exit, change_blocks, into_case, slide_dropped
from .exact import file_edge, find_runs
from .score import api_words, code_part, describe_line, informative_weight, is_trivial, norm, tokens
from .syntax import anchor_name, find_bodies
from .types import HunkSpec, Match

# sysfs_emit   (a plain name the tree index can answer for; "ptr->" member spellings are not)
RE_NAME = re.compile(r"^[A-Za-z_]\w*$")
# /* a comment */   or   * continued */   or   // a comment   (a line ending in a comment)
RE_COMMENT_END = re.compile(r"(\*/|^\s*//.*|^\s*/?\*.*)\s*$")
#: confidence of an anchored placement whose other context differs (above the default bar 0.8,
#: below cascade.GOOD so the cascade still compares the other methods' answers)
ANCHORED_CONFIDENCE = 0.85
#: informative lines each exact piece must weigh (one real line and two braces or blanks)
MIN_ANCHOR_WEIGHT = 1.5
#: lines the target may add between two exact pieces of one hunk (a renamed line split in two...)
MAX_GAP_GROWTH = 3
#: target lines a switch's other cases may put between an insertion's context above and below
MAX_CASE_GAP = 40
#: context lines next to an insertion that may differ line for line (the target's own spelling)
MAX_RESPELLED = 2
#: methods whose placements may keep differing context lines
LOOSE_METHODS = ("fuzz", "fuzzy", "syntax", "3way")


def _mapping(old: tuple[str, ...], target: tuple[str, ...], lo: int, hi: int) -> dict[int, int]:
    """Pre-image index -> target index for the lines equal up to blanks (one LCS alignment)."""
    sm = difflib.SequenceMatcher(None, [norm(x) for x in old], [norm(t) for t in target[lo:hi]], autojunk=False)
    out: dict[int, int] = {}
    for a, b, size in sm.get_matching_blocks():
        for k in range(size):
            out[a + k] = lo + b + k
    return out


def _slid(spec: HunkSpec, mp: dict[int, int]) -> dict[int, int]:
    """The mapping with each dropped line next to a change paired where an equal copy allows
    (hunks.align.slide_dropped)."""
    pairs: list[int | None] = [mp.get(j) for j in range(len(spec.old))]
    slide_dropped(spec, pairs)
    return {j: p for j, p in enumerate(pairs) if p is not None}


def anchor(m: Match, spec: HunkSpec, target: tuple[str, ...], known: Callable[[str], bool] | None = None,
           language: str = "c") -> Match:
    """``m`` with ``diverged`` naming the context lines the target has otherwise (any loose
    placement), and raised to ANCHORED_CONFIDENCE with ``anchored`` set when its change is
    anchored exactly and only context away from it differs (see the module docstring)."""
    if m.method not in LOOSE_METHODS or not spec.old:
        return m
    old = spec.old
    reach = len(old) + 3
    mp = _slid(spec, _mapping(old, target, max(0, m.start - reach), min(len(target), m.end + reach)))
    pre_kinds = [k for k in spec.kinds if k != "+"]
    differing = tuple(describe_line(j, old[j], 50) for j in range(len(old)) if pre_kinds[j] == " " and j not in mp)
    # a Match a cascade step already anchored (its own frame) is checked, never moved
    rebuilt: list[Match] | None = None if m.anchored else []
    found = None if m.ambiguous or m.unsafe else _anchored(m, spec, target, mp, known, language, rebuilt=rebuilt)
    sides = "the lines next to each change"
    if found is None and not (m.ambiguous or m.unsafe):
        found = _anchored(m, spec, target, mp, known, language, one_sided=True, rebuilt=rebuilt)
        sides = "the lines next to each change (for a removal, on one side of it)"
    if found is None:
        return replace(m, diverged=differing) if differing else m
    lines, pieces = found
    if rebuilt:  # the loose method aligned the lines otherwise: the anchor's frames say where
        m = replace(rebuilt[-1], evidence=rebuilt[-1].evidence + (
            f"{m.method} paired the context otherwise; the change written between its exact neighbours instead",))
    note = (f"anchored: the removed lines and {sides} are in the target (up to whitespace), "
            f"in {pieces} piece(s), one found once; {len(lines)} context line(s) away from the change differ "
            "and are kept as the target has them: " + ", ".join(lines[:4]) + (", ..." if len(lines) > 4 else ""))
    return replace(m, confidence=max(m.confidence, ANCHORED_CONFIDENCE), evidence=m.evidence + (note,),
                   diverged=lines, anchored=True)


def _anchored(m: Match, spec: HunkSpec, target: tuple[str, ...], mp: dict[int, int],
              known: Callable[[str], bool] | None, language: str = "c",
              one_sided: bool = False,
              frame: Callable[[int, int], tuple[int | None, int | None, int, int] | None] | None = None,
              rebuilt: list[Match] | None = None, near_only: bool = False) -> tuple[tuple[str, ...], int] | None:
    """(the differing context lines, the number of exact pieces) when the change is anchored
    exactly and something around it differs; None otherwise. ``one_sided``: a block of removed
    lines may be framed by one exact neighbour next to it (_one_side); ``frame``: a further frame
    tried for a block the plain one refuses (hunks.toplevel: whole items at file scope); ``rebuilt``:
    when ``m`` (fuzz, fuzzy or syntax) writes the change elsewhere than the frames say, within the
    lines it replaces (the aligner found the region but paired its lines otherwise), the Match the
    frames give is appended there instead of refusing; ``near_only``: an
    insertion is framed by one exact side only (_near_side, for find_near_side)."""
    old = spec.old
    blocks = change_blocks(spec.kinds)
    if not blocks:
        return None
    edits: list[tuple[int, int, tuple[str, ...]]] = []  # target [from, to) -> the block's new lines
    stretches: set[tuple[int, int]] = set()
    ends: list[tuple[int, int]] = []  # (pre-image index, pre-image index) pieces that may part in place
    pre_kinds = [k for k in spec.kinds if k != "+"]
    for a, b in blocks:
        outer = (blocks[0][0], blocks[-1][1])
        fr = _one_side(a, b, pre_kinds, mp) if one_sided else _near_side(
            a, b, pre_kinds, mp, outer, old, target, _added(spec, a)) if near_only else _frame(
            a, b, pre_kinds, mp, target, outer, old, _added(spec, a))
        if fr is None and frame is not None:
            fr = frame(a, b)
        if fr is None:
            return None
        u, d, t_from, t_to = fr
        edits.append((t_from, t_to, _added(spec, a)))
        for j in [x for x in (u, d) if x is not None] + list(range(a, b)):
            stretches.add(_stretch(j, mp))
        if b > a and d is not None:
            ends.append((b - 1, d))
    inside = {j for lo, hi in stretches for j in range(lo, hi + 1)}
    if all(j in inside for j in range(len(old))) and len(stretches) == 1:
        return None  # every line matches in one piece: nothing differs, nothing to calibrate here
    diverged = [j for j in range(len(old)) if j not in inside and j not in mp]  # the lines that differ
    drift = drift_of(spec, old, diverged, target, known)
    if drift:
        return None  # the new lines use a name the differing context had and the target lacks
    pieces = sorted(stretches)
    # pieces that meet in the target (a dropped line between them) weigh and are found as one run
    runs: list[tuple[int, list[str]]] = []  # (target start, lines)
    for k, (lo, hi) in enumerate(pieces):
        if k and mp[lo] == mp[pieces[k - 1][1]] + 1:
            runs[-1][1].extend(old[lo:hi + 1])
        else:
            runs.append((mp[lo], list(old[lo:hi + 1])))
    # a piece weighs together with the next one when only lines the target respells one for one
    # (at most MAX_RESPELLED) part them: the change sits between the same lines either way
    chains: list[list[str]] = []
    for k, (lo, hi) in enumerate(pieces):
        gap = lo - pieces[k - 1][1] - 1 if k else -1
        if k and (mp[lo] == mp[pieces[k - 1][1]] + 1
                  or 0 <= gap <= MAX_RESPELLED and mp[lo] - mp[pieces[k - 1][1]] == gap + 1):
            chains[-1].extend(old[lo:hi + 1])
        else:
            chains.append(list(old[lo:hi + 1]))
    if any(informative_weight(lines) < MIN_ANCHOR_WEIGHT for lines in chains):
        return None
    # found once, and there: the copy the frames use (not another copy of the same lines)
    if not any(find_runs(target, lines, at, whitespace=True) == [at] for at, lines in runs):
        span = _section_span(spec, target, m, language)
        if span is None or not any([s for s in find_runs(target, lines, at, whitespace=True)
                                    if span[0] <= s < span[1]] == [at] for at, lines in runs):
            return None
    # the pieces stay together: the target adds at most MAX_GAP_GROWTH lines between two of them
    # (any number right after removed lines: what the target has there stays after the change)
    if any(mp[q[0]] - mp[p[1]] > q[0] - p[1] + MAX_GAP_GROWTH
           and not any(p[0] <= e <= p[1] and q[0] <= d <= q[1] for e, d in ends)
           for p, q in zip(pieces, pieces[1:], strict=False)):
        return None
    # the Match must write each block between its neighbours and keep every other target line
    expected = list(target)
    for t_from, t_to, new in sorted(edits, reverse=True):
        expected[t_from:t_to] = new
    if tuple(expected) != target[:m.start] + tuple(m.replacement) + target[m.end:]:
        if rebuilt is None or m.method == "3way" or any(f < m.start or t > m.end for f, t, _ in edits):
            return None  # the base's mapping outweighs the frames; elsewhere than m found is a move
        start, end = m.start, m.end
        rebuilt.append(replace(m, start=start, end=end,
                               replacement=tuple(expected[start:end + len(expected) - len(target)])))
    lines = tuple(describe_line(j, old[j], 50) for j in diverged) or (
        f"the target has lines of its own between the hunk's context lines ({len(pieces)} exact pieces)",)
    return lines, len(pieces)


def _section_span(spec: HunkSpec, target: tuple[str, ...], m: Match, language: str) -> tuple[int, int] | None:
    """The extent of the C function the hunk's ``@@`` header names, when the target has exactly one
    and the placement starts inside it: a piece found once there is pinned (the same lock/unlock
    lines recur in every function of a driver)."""
    name = anchor_name(spec.section) if spec.section and language == "c" else None
    spans = find_bodies(target, name, language=language) if name else []
    return spans[0] if len(spans) == 1 and spans[0][0] <= m.start < spans[0][1] else None


def _stretch(j: int, mp: dict[int, int]) -> tuple[int, int]:
    """The maximal run of pre-image lines around ``j`` that the target has verbatim and in a row."""
    lo = hi = j
    while lo - 1 in mp and mp[lo - 1] == mp[lo] - 1:
        lo -= 1
    while hi + 1 in mp and mp[hi + 1] == mp[hi] + 1:
        hi += 1
    return lo, hi


def _frame(a: int, b: int, pre_kinds: list[str], mp: dict[int, int], target: tuple[str, ...],
           outer: tuple[int, int] = (-1, -1), old: tuple[str, ...] = (),
           new: tuple[str, ...] = ()) -> tuple[int | None, int | None, int, int] | None:
    """(upper neighbour, lower neighbour, target from, target to) of the block [a, b), or None:
    framed by neighbours on both sides (_framed), else an insertion held by one side (_near_side,
    given the pre-image ``old`` and the block's new lines ``new``)."""
    return _framed(a, b, pre_kinds, mp, target, outer, old) or (
        _near_side(a, b, pre_kinds, mp, outer, old, target, new) if old else None)


def nearby(target: tuple[str, ...], line: str, at: int, size: int) -> bool:
    """Whether ``line``, unless trivial (hunks.score.is_trivial), is in the target within a hunk's
    reach (``size`` + 3 lines) of ``at``: a context line a frame takes for dropped or respelled
    that is there moved within the spot, and points to another place for the change (a table the
    target orders otherwise). Further away it is another item's line (a member of another struct)."""
    reach = size + 3
    return not is_trivial(line) and bool(find_runs(target, [line], at, whitespace=True,
                                                   lo=max(0, at - reach), hi=min(len(target), at + reach)))


def _meet(a: int, b: int, u: int, d: int, mp: dict[int, int], old: tuple[str, ...], target: tuple[str, ...]) -> bool:
    """Whether the block [a, b) keeps one place although the target dropped context lines on both
    sides of it: the exact neighbours ``u`` and ``d`` meet the block in the target (an insertion's
    neighbours are next to each other there, a removal's are right next to its removed lines), at
    most MAX_RESPELLED lines are dropped on each side, and none of them is close by (``nearby``:
    then it moved rather than went, and says the change belongs next to it). Two includes a newer
    tree has around a new ``#include``."""
    if not old or u < 0 or d not in mp or a - 1 - u > MAX_RESPELLED or d - b > MAX_RESPELLED:
        return False
    if b == a:
        if mp[d] != mp[u] + 1:
            return False
    elif mp[u] + 1 != mp[a] or mp[d] != mp[b - 1] + 1:
        return False
    return not any(nearby(target, old[j], mp[u], len(old)) for j in list(range(u + 1, a)) + list(range(b, d)))


def _near_side(a: int, b: int, pre_kinds: list[str], mp: dict[int, int], outer: tuple[int, int],
               old: tuple[str, ...], target: tuple[str, ...],
               new: tuple[str, ...] = ()) -> tuple[int | None, int | None, int, int] | None:
    """(upper neighbour, None, from, to) or (None, lower neighbour, from, to) of an insertion
    ``new`` at the edge of the change whose context on one side is in the target verbatim, right
    next to it, and whose context line right next to it on the other side is not in the target at
    all (the lines the target has there instead, however many, say nothing about the spot): the
    new lines go right next to the exact side, where upstream has them. A 3-way merge through the
    upstream file puts them there too (the base says those far lines are upstream's, changed or
    dropped by the target); without it the exact side alone pins the spot, as long as its piece
    weighs and is found once (checked by the caller, like every piece), and only at the outer edge
    of the change (the first block's upper side, the last one's lower side: lines that differ
    between two blocks may be what the change works with). Not when

    - the other side's line, unless trivial (hunks.score.is_trivial: a blank, a brace), is in the
      target close by (``nearby``): it points to another place (a table the target orders otherwise);
    - the new lines start indented (inside a function, a struct, a table: they work with the code
      around them) and the other side shows no informative exact line within the hunk: the code
      there is the target's own, not upstream's respelled (a function body the target writes
      otherwise); at file scope the other side is another item, which says nothing of the new one;
    - the exact side is above and the new lines end with a comment: a comment speaks of what
      follows it, which the target lacks (a note above a function the target does not have)."""
    n = len(pre_kinds)
    if b != a:
        return None
    up_near = a > 0 and pre_kinds[a - 1] == " " and (a - 1) in mp
    down_near = b < n and pre_kinds[b] == " " and b in mp
    code = [x for x in new if x.strip()]
    first = next((x for x in code if not x.lstrip().startswith("#")), "")  # directives sit in column 0
    inside = first[:1].isspace()

    def elsewhere(line: str) -> bool:
        return nearby(target, line, mp[a - 1] if up_near else mp[b], len(old))

    def confirmed(js: range) -> bool:  # the first exact line on the far side says where it is
        j = next((j for j in js if j in mp or pre_kinds[j] != " "), None)
        return j is not None and j in mp and not is_trivial(old[j])

    if up_near and not down_near and b < n and pre_kinds[b] == " " and b == outer[1]:
        if elsewhere(old[b]) or (inside and not confirmed(range(b, n))) or (
                code and RE_COMMENT_END.search(code[-1])):
            return None
        t = mp[a - 1] + 1
        return a - 1, None, t, t
    if down_near and not up_near and a > 0 and pre_kinds[a - 1] == " " and a == outer[0]:
        if elsewhere(old[a - 1]) or (inside and not confirmed(range(a - 1, -1, -1))):
            return None
        t = mp[b]
        return None, b, t, t
    return None


def _framed(a: int, b: int, pre_kinds: list[str], mp: dict[int, int], target: tuple[str, ...],
            outer: tuple[int, int] = (-1, -1), old: tuple[str, ...] = ()) -> tuple[int | None, int | None, int, int] | None:
    """(upper neighbour, lower neighbour, target from, target to) of the block [a, b), or None.

    The block's removed lines must be in the target verbatim and in a row. Its neighbours are
    the nearest exact context lines above and below; a context line the target dropped (nothing
    of the target's own in its place) may lie between a neighbour and the change on one side,
    never on both: the change still has one place. Below removed lines the target may have lines
    of its own (the new lines take the removed lines' place, those stay after them); next to an
    insertion it may not (where the new lines go among them is a guess), unless they end the block
    its lower neighbour ``}`` closes with a ``return`` or jump: new lines after it would never run
    (hunks.align.before_exit), so they go right after the upper neighbour."""
    n = len(pre_kinds)
    if any(j not in mp for j in range(a, b)) or any(mp[j] != mp[j - 1] + 1 for j in range(a + 1, b)):
        return None
    u = a - 1
    while u >= 0 and u not in mp and pre_kinds[u] == " ":
        u -= 1
    d = b
    while d < n and d not in mp and pre_kinds[d] == " ":
        d += 1
    if (u >= 0 and u not in mp) or (d < n and d not in mp):
        return None  # a removed line of another block stops the walk: not a neighbour
    up = u if u >= 0 else None
    down = d if d < n else None
    if (a > 0 and up is None) or (b < n and down is None) or (up is None and down is None):
        return None
    if u != a - 1 and d != b and not _meet(a, b, u, d, mp, old, target):
        return None
    # an insertion whose context lines on one side differ line for line (the target has as many
    # lines of its own between the exact neighbours as the pre-image has there): the target's
    # versions of those lines, so the new lines go on the same side of them as upstream's
    # (never between two blocks of the change: ``outer`` is the first block's start, the last's end)
    respelled = (b == a and up is not None and down is not None and u != d - 1
                 and mp[down] - mp[up] == d - u and d - u - 1 <= MAX_RESPELLED
                 and ((u != a - 1 and a == outer[0]) or (d != b and b == outer[1])))
    if b > a:
        t_from = mp[a]
        if up is not None and mp[up] + 1 != t_from:
            return None
    elif respelled:
        t_from = mp[up] + 1 + (a - 1 - u)  # type: ignore[operator]
    else:
        t_from = mp[up] + 1 if up is not None else mp[down]  # type: ignore[index]
    t_to = t_from + (b - a)
    if down is not None and (mp[down] < t_to or (b == a and mp[down] != t_to and not respelled and not (
            up is not None and mp[up] + 1 == t_from and before_exit(target[t_to:mp[down]], target[mp[down]])))):
        return None
    return up, down, t_from, t_to


def _one_side(a: int, b: int, pre_kinds: list[str], mp: dict[int, int]) -> tuple[int | None, int | None, int, int] | None:
    """(upper neighbour, lower neighbour, target from, target to) of a block [a, b) that removes
    lines, framed on one side only: the removed lines are in the target verbatim and in a row and
    exactly one of the context lines right above and right below them is in the target, verbatim,
    right next to them; the other side differs (a ``return NULL;`` the target writes ``return
    result;``, a declaration above the changed prototype) and is named as diverged. The new lines
    take the removed lines' place, so the place is as certain as with two neighbours; what the
    other side's difference means for the change is the ``context-diverged`` warning's to say."""
    n = len(pre_kinds)
    if b == a or any(j not in mp for j in range(a, b)) or any(mp[j] != mp[j - 1] + 1 for j in range(a + 1, b)):
        return None
    t_from, t_to = mp[a], mp[a] + (b - a)
    up_next = a > 0 and pre_kinds[a - 1] == " " and mp.get(a - 1) == t_from - 1
    down_next = b < n and pre_kinds[b] == " " and mp.get(b) == t_to
    if up_next == down_next:
        return None  # both sides exact (then _frame decides) or neither: no frame
    return (a - 1 if up_next else None), (b if down_next else None), t_from, t_to


def drift_of(spec: HunkSpec, old: tuple[str, ...], diverged: list[int], target: tuple[str, ...],
             known: Callable[[str], bool] | None = None) -> set[str]:
    """Names and member accesses of the differing context lines that the new lines use and the
    target's file never does: the target spells them otherwise (API drift), which is where the
    change itself needs adapting, not only its surroundings. A plain name ``known`` says the
    target tree defines compiles there (the file's older style), so it is no drift."""
    gone: set[str] = set()
    for j in diverged:
        code = code_part(old[j])
        gone |= api_words(code) | _members(tokens(code))
    if not gone:
        return set()
    used: set[str] = set()
    for k, t in zip(spec.kinds, spec.lines, strict=True):
        if k == "+":
            code = code_part(t)
            used |= api_words(code) | _members(tokens(code))
    drift = (gone & used) - _file_words(target)
    if known is not None:
        drift = {w for w in drift if not (RE_NAME.match(w) and known(w))}
    return drift


def _added(spec: HunkSpec, at: int) -> tuple[str, ...]:
    """The added lines of the block (run of +/- lines) that starts at pre-image index ``at``."""
    out: list[str] = []
    j = 0  # pre-image index
    start: int | None = None  # pre-image index where the current run began
    for k, t in zip(spec.kinds, spec.lines, strict=True):
        if k == " ":
            if start == at:
                break
            start = None
            j += 1
            continue
        if start is None:
            start = j
        if start == at and k == "+":
            out.append(t)
        j += k == "-"
    return tuple(out)


def find_appended(target: tuple[str, ...], spec: HunkSpec, known: Callable[[str], bool] | None = None) -> Match | None:
    """A hunk that appends to the end of the upstream file, placed at the end of the target file.

    Diffs keep as much context below a change as above it unless the file ends there, so a hunk
    with less context below than above, that removes nothing, adds at the file's end
    (hunks.exact.file_edge). When the target file also ends with the hunk's last context line (the
    closing brace of the last function, an ``#endif``), the new lines go after it, whatever the
    lines above differ in (the target's last function is another one, or written otherwise): the
    file's end anchors the change. Context below the new lines (a header's include-guard
    ``#endif``) must be the target file's last lines verbatim, and the new lines go before them.
    Not when the new lines use a name of that differing context that the target's file lacks and
    the tree does not define (drift, as for anchored placements).
    """
    kinds = spec.kinds
    if "-" in kinds or not kinds or kinds[0] != " " or file_edge(spec) != "end":
        return None
    tail = next(i for i, k in enumerate(reversed(kinds)) if k == "+")  # context lines below the new ones
    old = spec.old
    end = len(target)
    while end > 0 and not target[end - 1].strip():
        end -= 1
    if tail:
        below = old[len(old) - tail:]
        if end < tail or [norm(x) for x in target[end - tail:end]] != [norm(x) for x in below] \
                or not any(norm(x) for x in below):
            return None
        end -= tail
        old = old[:len(old) - tail]
        if not old:
            return None
    elif end == 0 or norm(target[end - 1]) != norm(old[-1]) or (len(old) > 1 and not norm(old[-1])):
        return None
    lead = 0  # context lines above the insertion that the target has too, in a row
    if not tail:
        while lead + 1 < len(old) and end - 2 - lead >= 0 and norm(target[end - 2 - lead]) == norm(old[-2 - lead]):
            lead += 1
        differing = list(range(len(old) - 1 - lead))
    else:
        while lead < len(old) and end - 1 - lead >= 0 and norm(target[end - 1 - lead]) == norm(old[-1 - lead]):
            lead += 1
        differing = list(range(len(old) - lead))
    if not differing:
        return None  # the whole pre-image is there: the exact methods place it
    drift = drift_of(spec, old, differing, target, known)
    if drift:
        return None
    new = tuple(t for k, t in zip(kinds, spec.lines, strict=True) if k == "+")
    lines = tuple(describe_line(j, old[j], 50) for j in differing)
    last = (f"ends with {spec.old[-1].strip()!r}" if not tail else
            f"ends with the hunk's last {tail} context line(s) ({spec.old[-1].strip()!r}), which follow the new lines")
    note = (f"appended at the end of the file: the hunk ends the upstream file and the target's file also {last}; "
            f"{len(lines)} context line(s) above it differ and are kept as the target has them: " + ", ".join(lines[:4]))
    return Match("fuzz", end, end, new, ANCHORED_CONFIDENCE, len(differing), (), (note,),
                 diverged=lines, anchored=True)



def find_case_split(target: tuple[str, ...], spec: HunkSpec, hint: int) -> Match | None:
    """An insertion whose lower context the target has under a switch label (hunks.align.into_case).

    The hunk adds one run of lines and removes nothing; its context below is in the target once,
    up to blanks (deeper: the case's code), weighing MIN_ANCHOR_WEIGHT informative lines; its
    context above is there too, the nearest copy at most MAX_CASE_GAP lines above; the target's own
    lines between them stay in the function and end with a ``case``/``default`` label the lower
    context sits under. The new lines go right before the lower context (hunks.indent then gives
    them its depth); the target's lines between are named as diverged, so the result carries a
    ``context-diverged`` warning."""
    kinds = spec.kinds
    if "-" in kinds or "+" not in kinds:
        return None
    i = kinds.index("+")
    j = i
    while j < len(kinds) and kinds[j] == "+":
        j += 1
    if i == 0 or j == len(kinds) or "+" in kinds[j:]:
        return None
    above, below = spec.lines[:i], spec.lines[j:]
    if informative_weight(list(below)) < MIN_ANCHOR_WEIGHT or informative_weight(list(above)) < MIN_ANCHOR_WEIGHT:
        return None
    lower = find_runs(target, below, hint, whitespace=True)
    if len(lower) != 1:
        return None
    d = lower[0]
    ups = find_runs(target, above, hint, whitespace=True, lo=max(0, d - MAX_CASE_GAP - len(above)), hi=d)
    if not ups:
        return None
    u = max(ups)
    u_end = u + len(above)
    upper = next((x for x in reversed(target[u:u_end]) if x.strip()), "")
    gap = target[u_end:d]
    if not gap or not into_case(gap, upper, target[d]):
        return None
    new = tuple(t for k, t in zip(kinds, spec.lines, strict=True) if k == "+")
    replacement = tuple(target[u:d]) + new + tuple(target[d:d + len(below)])
    own = (f"target lines {u_end + 1}-{d} of its own between the hunk's context lines, ending with the switch label "
           f"{norm(target[d - 1])!r}",)
    note = (f"into a case: the context below the new lines is at target line {d + 1} under the switch label "
            f"{norm(target[d - 1])!r}, the context above at line {u + 1}; the new lines go right before the case's "
            "code they precede upstream, not on the other cases' paths")
    return Match("fuzz", u, d + len(below), replacement, ANCHORED_CONFIDENCE, 0, (), (note,),
                 diverged=own, anchored=True)


#: copies of an exact side tried as the place of a one-sided insertion (nearest the hint first)
MAX_NEAR_COPIES = 8


def find_near_side(target: tuple[str, ...], spec: HunkSpec, hint: int, known: Callable[[str], bool] | None = None,
                   language: str = "c") -> Match | None:
    """A hunk that only inserts one run of lines, placed next to the side of its context the target
    has verbatim when the line right next to the new ones on the other side is not there.

    The loose methods score the whole pre-image: when half of it (upstream's comment below a new
    declaration, a line the target never got above a new ``#include``) differs, they fall below
    their cutoff or align the differing half somewhere else. Here each side's context, whole and
    verbatim (up to blanks), is looked up in the target; at each copy the placement the _near_side
    frame gives is built and checked like every anchored one (_anchored: the exact piece weighs
    MIN_ANCHOR_WEIGHT and is found once in the file or in the function the ``@@`` header names, no
    drift toward the differing lines). The other side's line next to the new ones must not be in
    the target close by (``nearby``): there, it says the new lines belong next to it (a table the
    target orders otherwise). One place must come out; two (both sides exact at
    different places, or two copies) are no place. Outputs a Match (method ``fuzz``, ANCHORED_CONFIDENCE,
    ``anchored``, ``diverged`` naming the other side's lines) or None."""
    blocks = change_blocks(spec.kinds)
    if len(blocks) != 1 or blocks[0][0] != blocks[0][1]:
        return None
    old = spec.old
    a, n = blocks[0][0], len(old)
    if a == 0 or a == n:
        return None  # context on one side only: hunks.exact.file_edge's and find_appended's case
    new = _added(spec, a)
    found: dict[int, Match] = {}
    for side, upper in ((old[:a], True), (old[a:], False)):
        far = old[a] if upper else old[a - 1]  # the other side's line next to the new ones
        if informative_weight(list(side)) < MIN_ANCHOR_WEIGHT:
            continue
        for s in find_runs(target, side, hint, whitespace=True)[:MAX_NEAR_COPIES]:
            t = s + len(side) if upper else s
            if nearby(target, far, t, n):
                continue  # found close by, it points to another place: the two sides disagree
            other = t if upper else t - 1  # the target line where the other side's neighbour would be
            if 0 <= other < len(target) and norm(target[other]) == norm(far):
                continue  # both sides there: the exact methods' place, not this one
            mp = _slid(spec, _mapping(old, target, max(0, t - n - 3), min(len(target), t + n + 3)))
            if (a - 1 if upper else a) not in mp:
                continue
            start = min([t] + list(mp.values()))
            end = max([t] + [x + 1 for x in mp.values()])
            m = Match("fuzz", start, end, tuple(target[start:t]) + new + tuple(target[t:end]), 0.0)
            got = _anchored(m, spec, target, mp, known, language, near_only=True)
            if got is None:
                continue
            lines, pieces = got
            note = (f"one side exact: the context {'above' if upper else 'below'} the new lines is at target line "
                    f"{s + 1}, verbatim ({pieces} exact piece(s), one found once); the line next to them on the "
                    f"other side is not in the target, so they go right {'after' if upper else 'before'} it; "
                    f"{len(lines)} context line(s) differ and are kept as the target has them: "
                    + ", ".join(lines[:4]) + (", ..." if len(lines) > 4 else ""))
            found[t] = replace(m, confidence=ANCHORED_CONFIDENCE, fuzz=len(lines), evidence=(note,),
                               diverged=lines, anchored=True)
    return next(iter(found.values())) if len(found) == 1 else None
