"""Argument-level and removed-line pieces of token adaptation (stage: hunks, helper of hunks.adapt).

Inputs: token sequences of aligned upstream/target lines and a hunk's lines.
Outputs: ``arg_position`` (a wrapper learned at one argument of a call: ``f(inode)`` against
``f(BTRFS_I(inode))``), ``arg_mixed`` / ``carry_arg`` (whether the target file calls it both ways;
that argument of every call in an added line wrapped or unwrapped as the target does), ``close``
/ ``derived`` (a removed line a few tokens apart from the target's, and added lines that keep
upstream's difference), ``whole_call`` (a called function's rename widened to the whole call), ``anchored`` (such a line held 1:1 between verbatim, unique neighbours:
proof enough without the upstream base).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from rapidfuzz.distance import Indel

from .clex import CLOSE, OPEN, balanced, call_start, find, lex, texts_of
from .types import HunkSpec

if TYPE_CHECKING:
    from .adapt import Substitution

#: a removed line whose tokens agree this much, differing in at most CLOSE_TOKENS, is the line deleted
CLOSE_SIM = 0.5
CLOSE_TOKENS = 3
#: verbatim neighbours an anchored removed line may reach for on each side (past blanks and braces)
ANCHOR_LINES = 3
#: differing lines held 1:1 that may sit between a line and its anchors (anchored)
HELD_LINES = 2


def arg_position(up: Sequence[str], i1: int, i2: int) -> tuple[str, int]:
    """(called name, argument index) when ``up[i1:i2]`` is one whole argument of a call, else ("", -1)."""
    c = call_start(up, i1)
    if c is None or i1 == 0 or up[i1 - 1] not in ("(", ",") or i2 >= len(up) or up[i2] not in (")", ","):
        return "", -1
    args = call_args(up, c)
    for n, (a, b) in enumerate(args):
        if (a, b) == (i1, i2):
            return up[c], n
    return "", -1


def call_args(texts: Sequence[str], c: int) -> list[tuple[int, int]]:
    """Token ranges of the top-level arguments of the call named at ``texts[c]`` (its "(" next),
    as far as the line holds them: a last argument cut by the line's end is left out."""
    return _scan_args(texts, c)[0]


def closed_args(texts: Sequence[str], c: int) -> list[tuple[int, int]] | None:
    """Like call_args, None when the call does not close on the line."""
    out, closed = _scan_args(texts, c)
    return out if closed else None


def _scan_args(texts: Sequence[str], c: int) -> tuple[list[tuple[int, int]], bool]:
    out: list[tuple[int, int]] = []
    depth, start = 0, c + 2
    for q in range(c + 2, len(texts)):
        t = texts[q]
        if t in OPEN:
            depth += 1
        elif t in CLOSE:
            if depth == 0:
                if q > start:
                    out.append((start, q))
                return out, True
            depth -= 1
        elif t == "," and depth == 0:
            out.append((start, q))
            start = q + 1
    return out, False


def arg_change(up: Sequence[str], c: int, tg: Sequence[str], d: int) -> tuple[int, int, int, int] | None:
    """(index, upstream's argument count, the argument's token range) when the call at ``up[c]``
    and the target's at ``tg[d]`` differ by one whole argument inserted or dropped after the
    first (``f(a, b)`` against ``f(a, b, 0)``); None otherwise (a first argument stays the
    anchored ``argument`` kind's)."""
    ua, ta = closed_args(up, c), closed_args(tg, d)
    if ua is None or ta is None or abs(len(ua) - len(ta)) != 1:
        return None
    us = [tuple(up[a:b]) for a, b in ua]
    ts = [tuple(tg[a:b]) for a, b in ta]
    longer, shorter, ranges = (us, ts, ua) if len(us) > len(ts) else (ts, us, ta)
    for k in range(1, len(longer)):
        if longer[:k] + longer[k + 1:] == shorter:
            return k, len(us), *ranges[k]
    return None


def _target_calls(tgt: Sequence[str], name: str) -> Iterator[tuple[tuple[str, ...], int]]:
    """(line tokens, call position) of every call of ``name`` in the target file."""
    for ln in tgt:
        if name in ln:
            texts = texts_of(lex(ln))
            for c in calls(texts, name):
                yield texts, c


def argpos_mixed(sub: Substitution, tgt: Sequence[str]) -> bool:
    """The target file also calls ``sub.anchor`` with upstream's number of arguments."""
    return any((args := closed_args(texts, c)) is not None and len(args) == sub.nargs
               for texts, c in _target_calls(tgt, sub.anchor))


def carry_argpos(line: str, sub: Substitution) -> tuple[str, int, bool]:
    """``line`` with the argument inserted into (or dropped from) every call of ``sub.anchor``
    that has upstream's number of arguments; (line, how many, whether some call did not fit)."""
    toks = lex(line)
    texts = texts_of(toks)
    insert = bool(sub.tg_text)
    edits: list[tuple[int, int, str]] = []
    misfit = False
    own = _derived_from(sub) if insert else None
    for c in calls(texts, sub.anchor):
        args = closed_args(texts, c)
        if args is None or len(args) != sub.nargs:
            misfit = misfit or args is None or len(args) != sub.nargs + (1 if insert else -1)
            continue
        if own is not None and [tuple(texts[a:b]) for a, b in args] != own:
            misfit = True  # the inserted value is computed from that call's own arguments
            continue
        end = toks[args[sub.arg - 1][1] - 1].end
        if insert:
            edits.append((end, end, f", {sub.tg_text}"))
        else:
            edits.append((end, toks[args[sub.arg][1] - 1].end, ""))
    for a, b, new in reversed(edits):
        line = line[:a] + new + line[b:]
    return line, len(edits), misfit


def _derived_from(sub: Substitution) -> list[tuple[str, ...]] | None:
    """For an inserted argument that names one of the other arguments of the call it was learned
    from (``__assign_str(drv, foo->drv->name)`` against upstream's ``__assign_str(drv)``): those
    other arguments, the only call it fits; None for a value of its own (``THIS_MODULE``,
    ``GFP_KERNEL``), which fits every call."""
    texts = texts_of(lex(sub.text))
    for c in calls(texts, sub.anchor):
        args = closed_args(texts, c)
        if args is None or len(args) != sub.nargs + 1:
            continue
        others = [tuple(texts[a:b]) for k, (a, b) in enumerate(args) if k != sub.arg]
        inserted = texts[slice(*args[sub.arg])]
        if " ".join(inserted) != " ".join(texts_of(lex(sub.tg_text))):
            continue
        names = {x for o in others for x in o if x[:1].isalpha() or x[:1] == "_"}
        return others if names & set(inserted) else None
    return None


def _arg_form(texts: Sequence[str], a: int, b: int, wrapper: str) -> str | None:
    """The argument ``texts[a:b]`` as "wrapped" (``W(...)`` whole) or "bare"."""
    if b - a >= 4 and texts[a] == wrapper and texts[a + 1] == "(" and texts[b - 1] == ")" \
            and balanced(texts[a + 2:b - 1]):
        return "wrapped"
    return "bare"


def calls(texts: Sequence[str], name: str) -> list[int]:
    return [k for k in range(len(texts) - 1) if texts[k] == name and texts[k + 1] == "("
            and (k == 0 or texts[k - 1] not in (".", "->"))]


def arg_mixed(sub: Substitution, tgt: Sequence[str]) -> bool:
    """The target file also calls ``sub.anchor`` with that argument in upstream's form."""
    wrapper = max(sub.upstream, sub.target, key=len)[0]
    up_form = "wrapped" if len(sub.upstream) > len(sub.target) else "bare"
    return any(sub.arg < len(args := call_args(texts, c)) and _arg_form(texts, *args[sub.arg], wrapper) == up_form
               for texts, c in _target_calls(tgt, sub.anchor))


def carry_arg(line: str, sub: Substitution) -> tuple[str, int, bool]:
    """``line`` with argument ``sub.arg`` of every call of ``sub.anchor`` wrapped (or unwrapped)
    as the target does; (line, how many, whether some call did not fit)."""
    toks = lex(line)
    texts = texts_of(toks)
    wrap = len(sub.target) > len(sub.upstream)
    wrapper = max(sub.upstream, sub.target, key=len)[0]
    edits: list[tuple[int, int, str]] = []
    misfit = False
    for c in calls(texts, sub.anchor):
        args = call_args(texts, c)
        if sub.arg >= len(args):
            misfit = True  # the argument is on another line
            continue
        a, b = args[sub.arg]
        form = _arg_form(texts, a, b, wrapper)
        text = line[toks[a].start:toks[b - 1].end]
        if wrap and form == "bare":
            edits.append((toks[a].start, toks[b - 1].end, f"{wrapper}({text})"))
        elif not wrap and form == "wrapped":
            edits.append((toks[a].start, toks[b - 1].end, line[toks[a + 2].start:toks[b - 2].end]))
        elif not wrap:
            misfit = True  # nothing to unwrap: the target's callee wants something else
    for s, e, new in reversed(edits):
        line = line[:s] + new + line[e:]
    return line, len(edits), misfit


def close(upstream: str, target: str) -> list[tuple[str, ...]] | None:
    """A removed line the target spells a few tokens otherwise, beyond a plain respelling
    (``return f(x);`` against ``f(x);``, ``u32 flags,`` against ``unsigned int flags,``): still
    the line the hunk deletes, when paired by the 3-way or the alignment; nothing is learned
    from it (its difference is no substitution to carry). Returns upstream's differing tokens
    with its left and with its right neighbour, per difference (None: not close)."""
    up, tg = texts_of(lex(upstream)), texts_of(lex(target))
    if not up or not tg or Indel.normalized_similarity(up, tg) < CLOSE_SIM:
        return None
    ops = [op for op in difflib.SequenceMatcher(None, up, tg, autojunk=False).get_opcodes() if op[0] != "equal"]
    if sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops) > CLOSE_TOKENS:
        return None
    return [w for _, i1, i2, _, _ in ops for w in (up[max(0, i1 - 1):i2], up[i1:i2 + 1]) if len(w) > 1]


def derived(h: int, spec: HunkSpec, windows: Sequence[tuple[str, ...]], text: str, target: str) -> list[str]:
    """Why the hunk cannot act on a close removed line: an added line that is not the removed
    line moved elsewhere keeps upstream's tokens where the two differ (``if (a && b)`` against
    the target's ``if (a)``, added ``if (a && b && c)``): carrying the difference is a guess."""
    out = []
    for k, (kind, line) in enumerate(zip(spec.kinds, spec.lines, strict=True)):
        if kind != "+" or line.split() == text.split():
            continue
        toks = texts_of(lex(line))
        for w in windows:
            if find(toks, w) >= 0:
                out.append(f"added line {k + 1} keeps upstream's {' '.join(w)!r} from removed line {h + 1}, which "
                           f"the target spells {target.strip()!r}: not carried")
                break
    return out


def anchored(old: Sequence[str], tgt: Sequence[str], pairs: Sequence[int | None], i: int) -> bool:
    """Whether pre-image line ``i`` (paired with target line ``p``) sits 1:1 between exact, unique
    anchors: the pre-image lines next to it on both sides are verbatim the target lines next to
    ``p`` (nothing else differs between them; up to ANCHOR_LINES each side, taken until one has a
    name in it, so a blank line or a brace reaches on to the next statement), some anchor line
    has a name in it, and that block of target lines occurs nowhere else in the file. Then the
    line between is the one the hunk changes, whatever a few of its tokens say: as strong as the
    3-way's pairing, without the upstream base (alignment alone pairs ``foo_count--;`` with
    ``foo_count -= 1;`` from a few lines off). Up to HELD_LINES neighbours that differ as well
    may sit between it and the anchors when they too are held 1:1 (two parameters respelled in
    a row: ``u32 fd_flags,`` / ``u64 heap_flags)`` against ``unsigned int`` both): the block
    between the anchors is still matched line for line."""
    p = pairs[i]
    if p is None:
        return False
    sides = []
    held = 0
    for step in (-1, 1):
        k = 1
        while held < HELD_LINES and _paired(old, tgt, pairs, i + step * k, p + step * k) \
                and old[i + step * k].rstrip() != tgt[p + step * k].rstrip():
            k += 1
            held += 1
        gap = k - 1
        run: list[str] = []
        while k <= gap + ANCHOR_LINES and _paired(old, tgt, pairs, i + step * k, p + step * k) \
                and old[i + step * k].rstrip() == tgt[p + step * k].rstrip():
            run.append(old[i + step * k].rstrip())
            if _named(run[-1]):
                break
            k += 1
        if not run:
            return False
        sides.append((gap, run))
    (gap_b, before), (gap_a, after) = sides
    if not any(_named(x) for x in before + after):
        return False  # "{" and "}" anchor nothing
    block = [*before[::-1], *([None] * (gap_b + 1 + gap_a)), *after]
    n = len(block)
    lines = [x.rstrip() for x in tgt]
    return sum(1 for q in range(len(lines) - n + 1)
               if all(b is None or lines[q + j] == b for j, b in enumerate(block))) == 1


def _paired(old: Sequence[str], tgt: Sequence[str], pairs: Sequence[int | None], i: int, p: int) -> bool:
    """Pre-image line ``i`` exists and is paired with target line ``p`` (which exists)."""
    return 0 <= i < len(old) and pairs[i] == p and 0 <= p < len(tgt)


def _named(line: str) -> bool:
    return any(t[:1].isalpha() or t[:1] == "_" for t in texts_of(lex(line)))


def whole_call(s: Substitution) -> Substitution | None:
    """A rename of a called function (``spin_lock_bh`` -> ``write_lock``) as the whole call the
    target line makes (``write_lock(&rxnet->call_lock)``), upstream's being the same call under
    upstream's name; None when the name is not called there or the call does not close on the line."""
    from dataclasses import replace

    toks = lex(s.text)
    texts = texts_of(toks)
    for c in calls(texts, s.target[0]):
        args = closed_args(texts, c)
        if args is None:
            continue
        end = (args[-1][1] if args else c + 2) + 1  # past the closing ")"
        tg = tuple(texts[c:end])
        text = s.text[toks[c].start:toks[end - 1].end]
        up = (s.upstream[0],) + tg[1:]
        return replace(s, kind="call", upstream=up, target=tg, up_text=s.up_text + text[len(s.target[0]):],
                       tg_text=text)
    return None
