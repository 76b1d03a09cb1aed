"""Line alignment and replacement (stage: hunks): map a hunk's pre-image onto target lines.

Inputs: a HunkSpec, the target's lines and a window (or a known start) in them.
Outputs: an Alignment (each pre-image line -> a target index or None, with its similarity)
and a Built replacement: the target's own context lines kept, the hunk's ``-`` lines removed
only where the target line equals them (after whitespace normalisation), its ``+`` lines
inserted, and target lines the hunk does not know about left in place. Anything doubtful
(a removed line that differs or is missing, new lines whose exact spot is unclear) is
reported in the evidence and the ``unsafe``/``insert_ambiguous`` counts, never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .score import RE_WORD, api_words, code_part, describe_line, is_trivial, norm, similarity, tokens, weight
from .types import HunkSpec

#: cost of a pre-image line that has no partner in the target
GAP_OLD = 0.6
#: cost of a target line inside the region that the pre-image does not know
GAP_TARGET = 0.4
#: a pre-image line paired with a target line below this similarity is not "the same line"
PAIR_MIN = 0.5
#: a switch label alone on its line: "case F_SET:", "case A ... B:", "default:"
RE_LABEL = re.compile(r"^\s*(?:case\b[^;{}]*|default\s*):\s*$")
#: a C statement after which nothing else in its block runs
RE_EXIT = re.compile(r"^\s*(?:return\b[^;]*|goto\s+\w+|break|continue)\s*;\s*$")


@dataclass(frozen=True, slots=True)
class Alignment:
    start: int  # first target index of the region
    end: int  # one past the last target index of the region
    pairs: tuple[int | None, ...]  # per pre-image line: its target index or None
    sims: tuple[float, ...]  # per pre-image line: similarity to its partner (0.0 when None)
    extras: int  # target lines inside [start, end) paired with no pre-image line
    quality: float  # weighted similarity in [0, 1], extras cost


@dataclass(frozen=True, slots=True)
class Built:
    start: int
    end: int
    replacement: tuple[str, ...]
    differing_context: int  # context lines absent from the target or different there
    unsafe: int  # removed lines that differ from, or are missing in, the target
    insert_ambiguous: int  # runs of new lines placed among target lines the hunk does not know
    evidence: tuple[str, ...]
    #: spellings the target changed in the context and the new lines still use (API drift)
    drift: tuple[str, ...] = ()


def identity(old: Sequence[str], target: Sequence[str], start: int) -> Alignment:
    """Alignment of a pre-image lying contiguously at ``target[start:]``."""
    pairs = tuple(start + i for i in range(len(old)))
    sims = tuple(similarity(o, target[start + i]) for i, o in enumerate(old))
    return Alignment(start, start + len(old), pairs, sims, 0, quality_of(old, sims, ()))


def quality_of(old: Sequence[str], sims: Sequence[float], extra_lines: Sequence[str]) -> float:
    total = sum(weight(o) for o in old)
    if total <= 0:
        return 0.0
    # squared: a line that only looks like its partner is worth much less than an equal one
    got = sum(weight(o) * s * s for o, s in zip(old, sims, strict=True))
    got -= 0.5 * sum(weight(x) for x in extra_lines)
    return max(0.0, min(1.0, got / total))


def _dp_sim(o: str, t: str) -> float:
    """Similarity as the alignment sees it: a brace or blank line re-indented is only a
    look-alike (its indentation is all it says about where it is)."""
    sim = similarity(o, t)
    if sim == 1.0 and o != t and is_trivial(o):
        return 0.8
    return sim


def align(old: Sequence[str], target: Sequence[str], lo: int, hi: int, *, anchor_start: bool = False,
          anchor_end: bool = False, band: int | None = None) -> Alignment | None:
    """Best semi-global alignment of every pre-image line against ``target[lo:hi]``.

    Target lines before the first and after the last paired line are free (unless
    ``anchor_start``/``anchor_end`` pin the pre-image to that end of the window); target
    lines inside the region and pre-image lines without a partner cost.
    O(len(old) * (hi - lo)), or O(len(old) * band) when ``band`` bounds how far a pairing may
    stray from the window's middle diagonal.
    """
    lo, hi = max(0, lo), min(len(target), hi)
    m, w = len(old), hi - lo
    if m == 0 or w <= 0:
        return None
    win = target[lo:hi]
    wts = [weight(o) for o in old]
    wwin = [weight(x) for x in win]
    neg = float("-inf")
    # score[i][j]: best for old[:i] against win[:j] with old[i-1] ending at or before j
    first = [0.0] * (w + 1)
    if anchor_start:
        for j in range(1, w + 1):
            first[j] = first[j - 1] - GAP_TARGET * wwin[j - 1]
    score = [first] + [[neg] * (w + 1) for _ in range(m)]
    move = [[0] * (w + 1) for _ in range(m + 1)]  # 1 diag, 2 up (old gap), 3 left (target extra)
    for i in range(1, m + 1):
        wi = wts[i - 1]
        o = old[i - 1]
        row, prev, mv = score[i], score[i - 1], move[i]
        row[0] = prev[0] - GAP_OLD * wi
        mv[0] = 2
        inner = i < m
        if band is None:
            jmin, jmax = 1, w
        else:  # only cells near the window's middle diagonal: O(len(old) * band)
            mid = i + (w - m) / 2
            jmin, jmax = max(1, int(mid - band)), min(w, int(mid + band) + 1)
        for j in range(jmin, jmax + 1):
            sim = _dp_sim(o, win[j - 1])
            best = prev[j - 1] + wi * (2.0 * sim * sim - 1.0)  # a look-alike line earns little
            how = 1
            up = prev[j] - GAP_OLD * wi
            if up > best:
                best, how = up, 2
            if inner:
                left = row[j - 1] - GAP_TARGET * wwin[j - 1]
                if left > best:
                    best, how = left, 3
            row[j] = best
            mv[j] = how
    # the suffix of the window is free: end anywhere (or pay for the lines left over)
    tail = [0.0] * (w + 1)
    if anchor_end:
        for k in range(w - 1, -1, -1):
            tail[k] = tail[k + 1] - GAP_TARGET * wwin[k]
    j = max(range(w + 1), key=lambda k: score[m][k] + tail[k])
    pairs: list[int | None] = [None] * m
    sims = [0.0] * m
    i = m
    while i > 0:
        how = move[i][j] if j > 0 else 2
        if how == 1:
            s = similarity(old[i - 1], win[j - 1])
            if s >= PAIR_MIN or old[i - 1].strip() == "":
                pairs[i - 1] = lo + j - 1
                sims[i - 1] = s
            i, j = i - 1, j - 1
        elif how == 2:
            i -= 1
        else:
            j -= 1
    placed = [p for p in pairs if p is not None]
    if not placed:
        return None
    start, end = min(placed), max(placed) + 1
    used = set(placed)
    extra_lines = [target[k] for k in range(start, end) if k not in used]
    return Alignment(start, end, tuple(pairs), tuple(sims), len(extra_lines),
                     quality_of(old, sims, extra_lines))


def change_runs(kinds: Sequence[str]) -> list[tuple[int, int]]:
    """Each maximal run of +/- lines as a [a, b) range of hunk line indices."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(kinds):
        if kinds[i] == " ":
            i += 1
            continue
        a = i
        while i < len(kinds) and kinds[i] != " ":
            i += 1
        out.append((a, i))
    return out


def change_blocks(kinds: tuple[str, ...]) -> list[tuple[int, int]]:
    """Each maximal run of +/- lines as a [a, b) range of pre-image indices (a == b: insertion)."""
    out = []
    j = prev = 0  # pre-image index at hunk line ``prev``
    for a, b in change_runs(kinds):
        j += a - prev  # context lines between two runs
        out.append((j, j + kinds[a:b].count("-")))
        j, prev = out[-1][1], b
    return out


def slide_dropped(spec: HunkSpec, pairs: list[int | None], sims: list[float] | None = None) -> bool:
    """Pair the context line just above each change when the diff dropped it but an equal line
    below it stays (in place).

    When the target dropped lines of which an equal copy stays (a table entry gone between two
    entries ending in the same line), the diff may pair either copy: both alignments are equally
    long, but new lines go right after the last paired line above them, so with the wrong one
    they land inside the neighbouring entry. The pairing slides up to the line next to the
    change, one equal context line at a time (a diff "slider"); True when any moved."""
    old = [norm(x) for x in spec.old]
    pre_kinds = [k for k in spec.kinds if k != "+"]
    n = len(old)
    moved = False
    for a, _b in change_blocks(spec.kinds):
        k = a - 1
        if k < 0 or pairs[k] is not None:
            continue
        i = k
        while i > 0 and pairs[i - 1] is None:
            i -= 1
        j = k + 1
        while j < n and pairs[j] is None:
            j += 1
        while i <= k and j < n and pairs[j] is not None and old[i] == old[j] and pre_kinds[i] == " " == pre_kinds[j]:
            pairs[i], pairs[j] = pairs[j], None
            if sims is not None:
                sims[i], sims[j] = sims[j], 0.0
            i, j = i + 1, j + 1
            moved = True
    return moved


def pair_replaced(spec: HunkSpec, target: Sequence[str], al: Alignment) -> Alignment:
    """``al`` with each run of unpaired context lines paired line for line with the target lines
    between its paired neighbours, when there are exactly as many: the target replaced those lines
    (diff's view of a changed region: a timestamp API written another way, a renamed call), so they
    keep their place in the hunk and new lines next to them stay on the same side of them.
    Dropped lines next to a change slide first (slide_dropped)."""
    pre_kinds = [k for k in spec.kinds if k != "+"]
    pairs, sims = list(al.pairs), list(al.sims)
    changed = slide_dropped(spec, pairs, sims)
    i = 0
    while i < len(pairs):
        if pairs[i] is not None:
            i += 1
            continue
        j = i
        while j < len(pairs) and pairs[j] is None:
            j += 1
        before, after = pairs[i - 1] if i else None, pairs[j] if j < len(pairs) else None
        if (before is not None and after is not None and after - before - 1 == j - i
                and all(pre_kinds[k] == " " for k in range(i, j))):
            for k in range(i, j):
                pairs[k] = before + 1 + k - i
                sims[k] = similarity(spec.old[k], target[pairs[k]])
            changed = True
        i = j
    if not changed:
        return al
    placed = [p for p in pairs if p is not None]
    return Alignment(al.start, al.end, tuple(pairs), tuple(sims), al.extras - (len(placed) - sum(
        1 for p in al.pairs if p is not None)), al.quality)


def before_exit(gap: Sequence[str], below: str) -> bool:
    """True when the target's own lines ``gap``, between an insertion's upper neighbour and its
    lower neighbour ``below``, end the block ``below`` closes with a ``return``/``goto``/``break``/
    ``continue`` (a ``.remove`` callback that still returns ``int``: ``return 0;`` before ``}``).
    New lines put after that statement would never run, so they go before the gap, right after
    the upper neighbour as upstream has them: the place is not a guess."""
    code = [code_part(x).rstrip() for x in gap]
    code = [x for x in code if x.strip()]
    close = code_part(below)
    if not code or not close.strip().startswith("}") or not RE_EXIT.match(code[-1]):
        return False
    return indent_width(code[-1]) > indent_width(close)


def indent_width(line: str) -> int:
    """Columns of leading whitespace, tabs to 8 (the kernel's)."""
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def into_case(gap: Sequence[str], above: str, below: str) -> bool:
    """True when the target's own lines ``gap``, between an insertion's upper neighbour ``above``
    and its lower neighbour ``below``, end with a switch label (``case F_SET:``) under which
    ``below`` sits deeper than ``above``: the target's function dispatches cases where upstream's
    runs one straight line (the 6.1 fcntl_rw_hint() against upstream's fcntl_set_rw_hint()), and
    the code upstream runs right after the new lines is that case's. The new lines join it, right
    before the lower neighbour (at its depth: hunks.indent), so they run where upstream's ran before
    that code and not on the other cases' paths, which upstream's function never had
    (hunks.anchored.find_case_split). The gap stays inside the upper neighbour's block (no line of
    it shallower): the switch is in the same function."""
    code = [code_part(x).rstrip() for x in gap]
    code = [x for x in code if x.strip()]
    if not code or not RE_LABEL.match(code[-1]) or not code_part(below).strip() or not code_part(above).strip():
        return False
    top = indent_width(above)
    return indent_width(below) > indent_width(code[-1]) >= top and all(indent_width(x) >= top for x in code)


def build(spec: HunkSpec, target: Sequence[str], al: Alignment) -> Built:
    """Apply the hunk's +/- lines to the aligned target region, keeping the target's context
    (runs of context lines the target replaced line for line are paired first: pair_replaced)."""
    al = pair_replaced(spec, target, al)
    out: list[str] = []
    ev: list[str] = []
    pos = al.start
    oi = 0
    differing = unsafe = insert_amb = 0
    after_plus = False  # the last thing emitted was a run of new lines
    # the new lines follow removed lines the target has: they take those lines' place, so target
    # lines of its own after them stay after them (in-place replacement, not an insertion to place)
    replacing = False
    last_removed = False  # the last pre-image line was a removed line found in the target
    # a CRLF target file: new lines get its "\r" (the lines were split on "\n")
    paired = [target[p] for p in al.pairs if p is not None]
    eol = "\r" if paired and all(x.endswith("\r") for x in paired) \
        and not any(t.endswith("\r") for t in spec.lines) else ""
    for kind, text in zip(spec.kinds, spec.lines, strict=True):
        if kind == "+":
            out.append(text + eol)
            replacing = replacing or (not after_plus and last_removed)
            after_plus = True
            continue
        t, s = al.pairs[oi], al.sims[oi]
        oi += 1
        last_removed = kind == "-" and t is not None
        if t is None:
            if kind == " ":
                differing += 1
                ev.append(f"context {describe_line(oi - 1, text)} of the hunk is not in the target")
            else:
                unsafe += 1
                ev.append(f"removed {describe_line(oi - 1, text)} of the hunk is not in the target: "
                          "nothing to remove (adapted or partly applied?)")
            continue
        if t > pos:
            if after_plus and oi > 1 and not replacing and before_exit(target[pos:t], target[t]):
                ev.append(f"new lines go before {t - pos} target line(s) of its own that end the block "
                          f"with {norm(target[t - 1])!r} (target lines {pos + 1}-{t}): after them they would never run")
            elif after_plus and oi > 1 and not replacing:
                insert_amb += 1
                ev.append(f"new lines go among {t - pos} target line(s) the hunk does not know "
                          f"(target lines {pos + 1}-{t}); placed before them")
            out.extend(target[pos:t])
        after_plus = replacing = False
        if kind == " ":
            out.append(target[t])
            if s < 1.0:
                differing += 1
                ev.append(f"context {describe_line(oi - 1, text)} differs in the target: "
                          f"{describe_line(t, target[t])} (kept the target's)")
        elif s < 1.0:
            unsafe += 1
            ev.append(f"removed {describe_line(oi - 1, text)} differs from target "
                      f"{describe_line(t, target[t])}: deleting it would lose the target's version")
        pos = t + 1
    drift = find_drift(spec, target, al)
    for word in drift:
        ev.append(f"the new lines use {word!r}, which the target's context spells differently: "
                  "the change likely needs adapting")
    return Built(al.start, max(al.end, pos), tuple(out), differing, unsafe, insert_amb, tuple(ev), drift)


def _members(toks: Sequence[str]) -> set[str]:
    """``ptr->`` and ``obj.`` spellings of a line: a field reached another way is API drift too."""
    return {a + b for a, b in zip(toks, toks[1:], strict=False) if b in ("->", ".") and RE_WORD.match(a)}


def find_drift(spec: HunkSpec, target: Sequence[str], al: Alignment) -> tuple[str, ...]:
    """Names and member accesses that upstream's context has, the target's paired lines lack,
    and the hunk's new lines use: ``nvme_quiesce_io_queues`` renamed, ``sw_stats->`` now
    ``sw_stats.``. Comments and keywords are ignored."""
    added = [code_part(t) for k, t in zip(spec.kinds, spec.lines, strict=True) if k == "+"]
    if not any(added):
        return ()
    gone: set[str] = set()
    for o, p, s in zip(spec.old, al.pairs, al.sims, strict=True):
        if p is None or s >= 1.0 or not code_part(o).strip():
            continue
        tg = code_part(target[p])
        gone |= api_words(o) - api_words(tg)
        gone |= _members(tokens(code_part(o))) - _members(tokens(tg))
    if not gone:
        return ()
    used: set[str] = set()
    for line in added:
        used |= api_words(line) | _members(tokens(line))
    # a spelling the target still uses elsewhere in the file is not drift
    have = _file_words(tuple(target))
    return tuple(sorted(w for w in gone & used if w not in have))


@lru_cache(maxsize=8)
def _file_words(lines: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for line in lines:
        toks = tokens(code_part(line))
        out.update(w for w in toks if RE_WORD.match(w))
        out |= _members(toks)
    return frozenset(out)


def added_runs(spec: HunkSpec, replacement: Sequence[str]) -> Iterator[tuple[int, int, int | None]]:
    """Each run of added lines of the hunk, in order: (first hunk index, end index, where the run
    starts in ``replacement`` after the previous run, or None when it is not there)."""
    kinds, lines = spec.kinds, spec.lines
    rep = list(replacement)
    pos = 0
    i = 0
    while i < len(kinds):
        if kinds[i] != "+":
            i += 1
            continue
        j = i
        while j < len(kinds) and kinds[j] == "+":
            j += 1
        run = list(lines[i:j])
        at = next((k for k in range(pos, len(rep) - len(run) + 1) if rep[k:k + len(run)] == run), None)
        if at is not None:
            pos = at + len(run)
        yield i, j, at
        i = j
