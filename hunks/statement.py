"""Statement-level alignment (stage: hunks): a statement that upstream and the target wrap otherwise.

Inputs: a HunkSpec, the target's lines, the expected 0-based line. Outputs: Restated hunks, best
first: the HunkSpec rewritten so that the statement the hunk changes is written as the target
writes it (the target's own lines as context and removed lines, the hunk's change carried onto
them as added lines), with the target lines it rests on; and the reasons a candidate did not fit.

Why: line-level placement pairs lines. When upstream and the target wrap one C statement over
lines differently (``if (a &&`` / ``!f(x))`` against ``if (!f(x))``, a parameter list broken at
another argument), no pre-image line equals a target line and the hunk's removed line is "not in
the target" although its statement is. Here a statement is a run of lines joined while its
parentheses are open or a line ends in an operator or a comma (hunks.clex tokens; comments are
tokens of their own, so an added comment is carried with its place). For each change block of
the hunk the smallest run of whole statements of its pre-image and post-image is taken (O and N);
target statements whose tokens are close to O's are candidates (T), and O, N, T are merged at
token level (a diff3 over tokens, hand-written here because no library merges token lists with
their spacing): the hunk's edits (O -> N) are carried onto T's tokens and T's own differences
from O stay. An edit of the hunk that overlaps tokens the target writes otherwise, or inserts
where the target changed, is a conflict: a reason, never a guess. Layout: a statement the hunk
rewrites whole (every pre-image line of it removed) comes out in upstream's line breaks, one it
partly keeps in the target's; tokens of one side keep that side's spacing.
The caller confirms a restated hunk by placing it again (hunks.cascade.locate).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Indel

from .align import change_runs
from .clex import RE_COMMENT_LINE, RE_LEX, lex, texts_of
from .score import norm
from .types import HunkSpec

#: a target statement whose tokens agree with upstream's less than this is another statement
MIN_SIM = 0.6
#: a statement longer than this many lines is cut (a runaway join of broken code)
MAX_UNIT_LINES = 12
#: change blocks (with their statements) longer than this are rewrites, not re-wrapped statements
MAX_RUN_LINES = 30
#: candidates returned per hunk
MAX_CANDIDATES = 4
#: a line ending in one of these continues the statement on the next line
#: (not ":": a line ending in it is a label, ``case X:``, whatever a ternary split there would need)
CONTINUES = frozenset("&& || , = ? + - * / % | & ^ << >> < > <= >= == != += -= *= /= |= &= ^= <<= >>=".split())


@dataclass(frozen=True, slots=True)
class Restated:
    spec: HunkSpec  # the hunk with the statement written as the target writes it
    line: int  # 0-based target index of the target statement
    target: tuple[str, ...]  # the target's lines of the statement
    upstream_old: tuple[str, ...]  # the hunk's pre-image lines of the statement (O)
    upstream_new: tuple[str, ...]  # its post-image lines (N)
    port: tuple[str, ...]  # the target's statement with the hunk's change carried (R)
    kept: tuple[str, ...]  # what the target writes otherwise than upstream ("-a +b" token runs)
    carried: tuple[str, ...]  # the hunk's token edits carried ("a -> b")
    similarity: float
    at: int = 0  # index into spec.lines where the statement's lines start
    upstream_lines: tuple[str, ...] = ()  # the hunk's lines of the statement, with their prefixes
    port_lines: tuple[str, ...] = ()  # the same lines as restated, with their prefixes


# ---------------------------------------------------------------- statements


def units(lines: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """[start, end) spans of ``lines``: a statement's lines joined (open parentheses, a trailing
    operator or comma), every blank, comment or preprocessor line a span of its own."""
    return _units(tuple(lines))


def _units(lines: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    i, n = 0, len(lines)
    while i < n:
        j, depth = i, 0
        while j < n:
            toks = texts_of(lex(lines[j]))
            if not toks or lines[j].lstrip().startswith("#"):
                j += 1 if j == i else 0
                break
            depth += sum(1 for t in toks if t in "([") - sum(1 for t in toks if t in ")]")
            j += 1
            if depth < 0 or j - i >= MAX_UNIT_LINES or (depth == 0 and toks[-1] not in CONTINUES):
                break
        out.append((i, j))
        i = j
    return tuple(out)


def wrapped_apart(old: Sequence[str], i: int, target: Sequence[str], k: int) -> bool:
    """Whether line ``old[i]`` and line ``target[k]`` sit in statements wrapped otherwise (one is
    a part of a statement over several lines, the other a statement of another extent, or
    another part of it): such lines are no respelling of each other, whatever their tokens."""
    a = next(u for u in _units(tuple(old)) if u[0] <= i < u[1])
    b = next(u for u in _index(tuple(target))[0] if u[0] <= k < u[1])
    return (a[1] - a[0], i - a[0]) != (b[1] - b[0], k - b[0])


# ---------------------------------------------------------------- tokens with their places


@dataclass(frozen=True, slots=True)
class _Tok:
    key: str  # what is compared (a comment with its spacing normalised)
    line: int  # index into the run's lines
    start: int
    end: int


def _tokens(lines: Sequence[str]) -> tuple[_Tok, ...]:
    out: list[_Tok] = []
    for i, ln in enumerate(lines):
        if RE_COMMENT_LINE.match(ln):
            body = ln.strip()
            if body:
                out.append(_Tok(" ".join(body.split()), i, len(ln) - len(ln.lstrip()), len(ln.rstrip())))
            continue
        for m in RE_LEX.finditer(ln):
            text = m.group()
            key = " ".join(text.split()) if text.startswith(("/*", "//")) else text
            out.append(_Tok(key, i, m.start(), m.end()))
    return tuple(out)


def _gap(lines: Sequence[str], a: _Tok, b: _Tok) -> str:
    """The characters between tokens ``a`` and ``b`` of one run (line breaks as "\\n")."""
    if a.line == b.line:
        return lines[a.line][a.end:b.start]
    mid = [lines[a.line][a.end:].rstrip(), *(ln.rstrip() for ln in lines[a.line + 1:b.line]), lines[b.line][:b.start]]
    return "\n".join(mid)


def _keys(toks: Sequence[_Tok]) -> tuple[str, ...]:
    return tuple(t.key for t in toks)


# ---------------------------------------------------------------- the token merge


def _mapping(a: Sequence[str], b: Sequence[str]) -> list[int | None]:
    """Per token of ``a`` its equal token of ``b`` (difflib's longest common blocks), or None."""
    out: list[int | None] = [None] * len(a)
    for blk in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(blk.size):
            out[blk.a + k] = blk.b + k
    return out


def _edits(of: Sequence[int | None], nb: int) -> list[tuple[int, int, int, int]]:
    """The edits (i1, i2, j1, j2) between the mapped tokens of ``of`` (a -> b)."""
    out: list[tuple[int, int, int, int]] = []
    pi, pj = -1, -1
    for i, j in [*((i, j) for i, j in enumerate(of) if j is not None), (len(of), nb)]:
        if i > pi + 1 or j > pj + 1:
            out.append((pi + 1, i, pj + 1, j))
        pi, pj = i, j
    return out


def _slide(of: list[int | None], keys: Sequence[str], e: tuple[int, int, int, int], step: int) -> bool:
    """Move a deletion (tokens of ``a`` mapped to nothing) one token left (-1) or right (+1) when
    the token it passes equals the one at its other end: the same diff, another alignment."""
    i1, i2, j1, j2 = e
    if j1 != j2 or i1 == i2:
        return False
    if step < 0 and i1 > 0 and of[i1 - 1] is not None and keys[i1 - 1] == keys[i2 - 1]:
        of[i2 - 1], of[i1 - 1] = of[i1 - 1], None
        return True
    if step > 0 and i2 < len(of) and of[i2] is not None and keys[i1] == keys[i2]:
        of[i1], of[i2] = of[i2], None
        return True
    return False


def _clash(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Two edits of the same tokens of O: overlapping, or an insertion at or inside the other."""
    a1, a2, b1, b2 = a[0], a[1], b[0], b[1]
    if a1 == a2 or b1 == b2:
        return b1 <= a1 <= b2 if a1 == a2 else a1 <= b1 <= a2
    return a1 < b2 and b1 < a2


def _groups(keys: Sequence[str]) -> list[int]:
    """Per position p of ``keys`` (0 .. len), the index of the "(" or "[" enclosing the gap
    before keys[p] (-1 at the top)."""
    stack, out = [-1], []
    for k, x in enumerate(keys):
        out.append(stack[-1])
        if x in "([":
            stack.append(k)
        elif x in ")]" and len(stack) > 1:
            stack.pop()
    out.append(stack[-1])
    return out


def _arity(seq: Sequence[str]) -> bool:
    """A list separator at the top of ``seq``: the edit adds or drops a whole argument."""
    depth = 0
    for x in seq:
        depth += (x in "([") - (x in ")]")
        if x == "," and depth == 0:
            return True
    return False


def _argument_clash(o: Sequence[str], groups: Sequence[int], h: tuple[int, int, int, int], hn: Sequence[str],
                    t: tuple[int, int, int, int], tk: Sequence[str]) -> bool:
    """The two edits change arguments of one list, one of them adds or drops an argument, and no
    argument neither touches lies between them: which argument the change belongs to is a guess
    (an argument inserted next to two the target merged into one)."""
    if groups[h[0]] != groups[t[0]]:
        return False
    if not (_arity(o[h[0]:h[1]]) or _arity(hn[h[2]:h[3]]) or _arity(o[t[0]:t[1]]) or _arity(tk[t[2]:t[3]])):
        return False
    a, b = (h[1], t[0]) if h[1] <= t[0] else (t[1], h[0])
    return sum(1 for k in range(a, b) if o[k] == "," and groups[k] == groups[h[0]]) < 2


def _touch(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[1] == b[0] or b[1] == a[0]


def _settle(o: Sequence[str], t_of: list[int | None], n_edits: Sequence[tuple[int, int, int, int]],
            nt: int) -> list[tuple[int, int, int, int]] | None:
    """The target's edits, slid off the hunk's where the alignment allows (a deletion next to
    the hunk's edit moved away from it); None when one still overlaps the hunk's."""
    for _ in range(2 * len(o) + 2):
        t_edits = _edits(t_of, nt)
        bad = [(e, h) for e in t_edits for h in n_edits if _clash(e, h) or _touch(e, h)]
        if not any(_slide(t_of, o, e, -1 if e[0] < h[0] or (e[0] == h[0] and e[1] <= h[1]) else 1)
                   for e, h in bad[:1]):
            return None if any(_clash(e, h) for e, h in bad) else t_edits
    return None


def _rewrapped(old: Sequence[_Tok], target: Sequence[_Tok], t_of: Sequence[int | None]) -> bool:
    """Whether the target breaks the statement's lines elsewhere: two tokens the statements share,
    next to each other in both, on one line in one and on two in the other."""
    pairs = [(i, j) for i, j in enumerate(t_of) if j is not None]
    for (i, j), (i2, j2) in zip(pairs, pairs[1:], strict=False):
        if (old[i].line != old[i2].line) != (target[j].line != target[j2].line):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _R:
    n: int | None  # index of the token in N
    t: int | None  # index of the token in T
    #: a token one side put in place of others: where those others stand on the other side
    #: (first, last), for the spacing around it
    lo: int | None = None
    hi: int | None = None


def merge(old: Sequence[str], new: Sequence[str], target: Sequence[str],
          upstream_layout: bool) -> tuple[tuple[str, ...] | None, str, tuple[str, ...], tuple[str, ...]]:
    """The target's lines ``target`` with the change ``old`` -> ``new`` carried at token level:
    (lines or None, why not, the target's own differences, the hunk's edits carried)."""
    ot, nt, tt = _tokens(old), _tokens(new), _tokens(target)
    ok_, nk, tk = _keys(ot), _keys(nt), _keys(tt)
    n_of, t_of = _mapping(ok_, nk), _mapping(ok_, tk)
    n_edits = _edits(n_of, len(nk))
    if not n_edits:
        return None, "the hunk changes no token of the statement", (), ()
    t_edits = _settle(ok_, t_of, n_edits, len(tk))
    if t_edits is None:
        return None, "the hunk changes tokens the target writes otherwise", (), ()
    groups = _groups(ok_)
    if any(_argument_clash(ok_, groups, h, nk, e, tk) for h in n_edits for e in t_edits):
        return None, "the hunk adds or drops an argument next to arguments the target writes otherwise", (), ()
    if not _rewrapped(ot, tt, t_of):
        return None, "the target wraps the statement as upstream does", (), ()
    by_n = {e[0]: e for e in n_edits}
    by_t = {e[0]: e for e in t_edits}
    out: list[_R] = []
    i = 0
    while i <= len(ok_):
        for e, side in ((by_n.get(i), "n"), (by_t.get(i), "t")):
            if e is not None and e[0] == e[1]:  # an insertion before O[i]
                out.extend(_R(j, None) if side == "n" else _R(None, j) for j in range(e[2], e[3]))
        if i == len(ok_):
            break
        hn, ht = by_n.get(i), by_t.get(i)
        if hn is not None and hn[1] > hn[0]:
            out.extend(_R(j, None, t_of[hn[0]] if j == hn[2] else None, t_of[hn[1] - 1] if j == hn[3] - 1 else None)
                       for j in range(hn[2], hn[3]))
            i = hn[1]
            continue
        if ht is not None and ht[1] > ht[0]:
            out.extend(_R(None, j, n_of[ht[0]] if j == ht[2] else None, n_of[ht[1] - 1] if j == ht[3] - 1 else None)
                       for j in range(ht[2], ht[3]))
            i = ht[1]
            continue
        out.append(_R(n_of[i], t_of[i]))
        i += 1
    text = _render(out, new, nt, target, tt, upstream_layout)
    kept = tuple(_words(old, ot, target, tt, e) for e in t_edits)
    carried = tuple(_words(old, ot, new, nt, e) for e in n_edits)
    return tuple(ln.rstrip() for ln in text.split("\n")), "", kept, carried


def _words(a: Sequence[str], at: Sequence[_Tok], b: Sequence[str], bt: Sequence[_Tok],
           e: tuple[int, int, int, int]) -> str:
    """One edit as ``upstream -> target`` in the runs' own characters ("(nothing)" for none)."""
    return f"{_text(a, at, e[0], e[1])} -> {_text(b, bt, e[2], e[3])}"


def _text(lines: Sequence[str], toks: Sequence[_Tok], i: int, j: int) -> str:
    if i >= j:
        return "(nothing)"
    x, y = toks[i], toks[j - 1]
    return " ".join(_gap(lines, _Tok("", x.line, x.start, x.start), _Tok("", y.line, y.end, y.end)).split())


def _render(out: Sequence[_R], new: Sequence[str], nt: Sequence[_Tok], target: Sequence[str],
            tt: Sequence[_Tok], upstream_layout: bool) -> str:
    """The merged tokens with their spacing: the governing side's between two of its adjacent
    tokens, else the other side's, else the spacing before the later token on its own side."""
    def side(r: _R, up: bool) -> int | None:
        return r.n if up else r.t

    def pos(r: _R, up: bool, left: bool) -> int | None:
        k = side(r, up)
        if k is None and (r.t if up else r.n) is not None:  # stands in place of that side's tokens
            k = r.lo if left else r.hi
        return k

    def run(up: bool) -> tuple[Sequence[str], Sequence[_Tok]]:
        return (new, nt) if up else (target, tt)

    def tok(r: _R) -> str:
        for up in (upstream_layout, not upstream_layout):
            k = side(r, up)
            if k is not None:
                lines, toks = run(up)
                t = toks[k]
                return lines[t.line][t.start:t.end]
        raise AssertionError("a merged token from neither side")

    def gap(a: _R, b: _R) -> str:
        for up in (upstream_layout, not upstream_layout):
            x, y = pos(a, up, False), pos(b, up, True)
            if x is not None and y is not None and y == x + 1:
                lines, toks = run(up)
                return _gap(lines, toks[x], toks[y])
        for up in (upstream_layout, not upstream_layout):
            y = side(b, up)
            if y is not None and y > 0:
                lines, toks = run(up)
                return _gap(lines, toks[y - 1], toks[y])
        return " "

    if not out:
        return ""
    first = out[0]
    lead = ""
    for up in (upstream_layout, not upstream_layout):
        k = side(first, up)
        if k is not None:
            lines, toks = run(up)
            lead = lines[toks[k].line][:toks[k].start]
            break
    parts = [lead, tok(first)]
    for a, b in zip(out, out[1:], strict=False):
        parts += [gap(a, b), tok(b)]
    return "".join(parts)


# ---------------------------------------------------------------- the hunk


def _spans(spec: HunkSpec) -> list[tuple[int, int]]:
    """[s, e) hunk-line spans: each change block grown to whole statements on both sides."""
    old_at = [h for h, k in enumerate(spec.kinds) if k != "+"]
    new_at = [h for h, k in enumerate(spec.kinds) if k != "-"]
    groups = [[old_at[a:b] for a, b in units(spec.old)], [new_at[a:b] for a, b in units(spec.new)]]
    out: list[tuple[int, int]] = []
    for s, e in change_runs(spec.kinds):
        while True:
            s2, e2 = s, e
            for g in groups:
                for hs in g:
                    if hs and hs[0] < e and hs[-1] >= s:
                        s2, e2 = min(s2, hs[0]), max(e2, hs[-1] + 1)
            if (s2, e2) == (s, e):
                break
            s, e = s2, e2
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


@lru_cache(maxsize=4)
def _index(target: tuple[str, ...]) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[str, ...], ...],
                                             dict[str, list[int]]]:
    """The target's statements, their tokens, and where each normalised line is."""
    spans = _units(target)
    keys = tuple(_keys(_tokens(target[a:b])) for a, b in spans)
    at: dict[str, list[int]] = {}
    for k, ln in enumerate(target):
        at.setdefault(norm(ln), []).append(k)
    return spans, keys, at


def _verbatim(run: Sequence[str], at: dict[str, list[int]], target: Sequence[str]) -> bool:
    if not run:
        return True
    return any(all(k + d < len(target) and norm(target[k + d]) == norm(x) for d, x in enumerate(run))
               for k in at.get(norm(run[0]), ()))


def restatements(spec: HunkSpec, target: Sequence[str], hint: int) -> tuple[list[Restated], list[str]]:
    """The hunk with each change block's statement written as the target writes it, one per
    candidate target statement, best first (closest tokens, then nearest ``hint``); and reasons
    candidates were dropped. Empty when every block's pre-image is in the target verbatim."""
    tgt = tuple(target)
    spans, tkeys, at = _index(tgt)
    plans: list[tuple[int, int, list[tuple[float, int, int, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]]] = []
    why: list[str] = []
    for s, e in _spans(spec):
        kinds, lines = spec.kinds[s:e], spec.lines[s:e]
        o = [t for k, t in zip(kinds, lines, strict=True) if k != "+"]
        n = [t for k, t in zip(kinds, lines, strict=True) if k != "-"]
        if not o or e - s > MAX_RUN_LINES or _verbatim(o, at, tgt):
            continue
        okeys = _keys(_tokens(o))
        nunits = sum(1 for a, b in units(o))
        if not any(texts_of(lex(x)) for x in o):
            continue
        whole = all(k == "-" for k, x in zip(kinds, lines, strict=True) if k != "+" and texts_of(lex(x)))
        found = []
        for u in range(len(spans) - nunits + 1):
            a, b = spans[u][0], spans[u + nunits - 1][1]
            keys = tuple(x for ks in tkeys[u:u + nunits] for x in ks)
            sim = Indel.normalized_similarity(okeys, keys, score_cutoff=MIN_SIM)
            if not sim or [norm(x) for x in tgt[a:b]] == [norm(x) for x in o]:
                continue
            port, reason, kept, carried = merge(o, n, tgt[a:b], whole)
            if port is None:
                why.append(f"target line {a + 1}: {reason}")
                continue
            if list(port) == list(tgt[a:b]):
                why.append(f"target line {a + 1}: the change is already there")
                continue
            found.append((sim, a, b, port, kept, carried))
        if not found:
            return [], why
        found.sort(key=lambda f: (-round(f[0], 3), abs(f[1] - hint)))
        plans.append((s, e, found[:MAX_CANDIDATES]))
    out: list[Restated] = []
    if len(plans) != 1:  # several statements restated at once: each would need its own proof
        return [], why + (["more than one statement of the hunk is wrapped otherwise"] if plans else [])
    s, e, found = plans[0]
    kinds, lines = spec.kinds[s:e], spec.lines[s:e]
    o = tuple(t for k, t in zip(kinds, lines, strict=True) if k != "+")
    n = tuple(t for k, t in zip(kinds, lines, strict=True) if k != "-")
    for sim, a, b, port, kept, carried in found:
        bk, bl = _block(tgt[a:b], port)
        rs = HunkSpec(spec.kinds[:s] + bk + spec.kinds[e:], spec.lines[:s] + bl + spec.lines[e:],
                      spec.old_start, spec.section)
        out.append(Restated(rs, a, tgt[a:b], o, n, port, kept, carried, round(sim, 4), s,
                            tuple(k + t for k, t in zip(kinds, lines, strict=True)),
                            tuple(k + t for k, t in zip(bk, bl, strict=True))))
    return out, why


def _block(old: Sequence[str], new: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``old`` -> ``new`` as hunk lines (kinds, texts): equal lines kept as context."""
    kinds: list[str] = []
    texts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, list(old), list(new), autojunk=False).get_opcodes():
        if op == "equal":
            kinds += [" "] * (i2 - i1)
            texts += old[i1:i2]
            continue
        kinds += ["-"] * (i2 - i1) + ["+"] * (j2 - j1)
        texts += list(old[i1:i2]) + list(new[j1:j2])
    return tuple(kinds), tuple(texts)

