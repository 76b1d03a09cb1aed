"""Token-level adaptation (stage: hunks): write a placed hunk in the target's spelling.

Inputs: a HunkSpec, the target's lines, the pairing of the hunk's pre-image with target lines
(per pre-image line a target index or None: hunks.align / hunks.threeway), and optionally
more (upstream line, target index) pairs from the upstream base around the hunk (3-way at
token level: base region against target region says exactly what the target spells otherwise).
Outputs: an Adapted: the hunk's lines in the target's spelling (context and removed lines as
the target has them, added lines with the learned substitutions carried), the substitutions
carried (each with the target line it was learned from), the removed lines acted on in the
target's spelling, and ``uncarried``: reasons the hunk cannot be adapted without guessing.

How: each paired line that differs is lexed (a regex lexer: hunk lines are fragments of C, so
a parser such as tree-sitter sees mostly error nodes on them, and only tokens are needed here)
and the two token sequences are diffed (difflib opcodes). Neighbouring edits are merged until
both sides are balanced (``READ_ONCE(x)`` against ``x`` is one edit), and an edit that only
inserts or drops tokens inside a call is widened to the called name (``class_create(`` against
``class_create(THIS_MODULE,``). Each edit is a substitution: upstream tokens -> target tokens.
A substitution is carried into the added lines, as whole tokens, when it is learned one way
only and the target file never uses upstream's spelling elsewhere (then the target knows both
spellings and nothing needs carrying). What cannot be carried is reported, never guessed: a
substitution learned two ways that an added line uses, an added line that still uses a name
the target file lacks after carrying, a call whose arguments do not fit the learned change.
A rename of a local (``err`` in upstream's function, ``ret`` in the target's: the target's
name is declared, as a variable or parameter, in the C function holding the hunk) is judged
within that function instead of the whole file (other functions' ``err`` say nothing about
this one), and carried whatever the rest of the tree defines; a function that uses both
spellings is a reason, not a guess.
Further kinds: a pointer in one tree (``&raw_class`` against ``raw_class``, not ``&a->b``); an
annotation the target lacks dropped (``__bpf_kfunc``: a one-sided name that is no C keyword,
carried only when the target tree does not define it); a wrapper at one argument of a call
(``f(inode)`` against ``f(BTRFS_I(inode))``: the callee's parameter differs, so that argument of
every added call of ``f`` is wrapped or unwrapped; hunks.adaptargs).
A removed line is acted on in the target's spelling when it differs from its target line by
substitutions alone, or, paired by the 3-way or held 1:1 between verbatim unique neighbours, by
a few tokens (``return f(x);`` against
``f(x);``) that no added line derived from it keeps, unless the two lines are parts of statements
wrapped otherwise (hunks.statement: restated there instead); a removed line that is not in the
target stays a reason. Lexing lives in hunks.clex.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from rapidfuzz.distance import Indel

from .adaptargs import (
    anchored,
    arg_change,
    arg_mixed,
    arg_position,
    argpos_mixed,
    carry_arg,
    carry_argpos,
    close,
    derived,
    whole_call,
)
from .align import align
from .clex import (
    CLOSE,
    NOT_TYPES,
    OPEN,
    POSTFIX,
    RE_IDENT,
    balanced,
    call_start,
    chars,
    find,
    lex,
    texts_of,
)
from .statement import wrapped_apart
from .syntax import anchor_name, items
from .threeway import base_region, threeway_pairs
from .types import HunkSpec

#: a paired line whose tokens agree less than this is another line, not a respelling
MIN_TOKEN_SIM = 0.6
#: a substitution longer than this (tokens, either side) is a rewrite, not a respelling
MAX_SUB_TOKENS = 12
#: base lines around the hunk that the 3-way learns from, on each side
BASE_MARGIN = 40
#: target lines around a placed region the pre-image may still be paired with (fuzz drops ends)
SLACK = 3
#: a function renamed for one argument list is carried per call when the target file makes that call this often
MIN_CALL_LINES = 2
#: C keywords and type words: never an annotation a tree may lack
C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
    volatile while bool _Bool true false typeof __typeof__ asm __asm__""".split())


@dataclass(frozen=True, slots=True)
class Substitution:
    """Upstream's tokens -> the target's, learned from one target line."""

    kind: str  # rename | argument | wrapper | argwrap | argpos | call | member | pointer | attribute | moved | other
    upstream: tuple[str, ...]
    target: tuple[str, ...]
    up_text: str  # upstream's characters for it ("timer_container_of")
    tg_text: str  # the target's ("from_timer")
    line: int  # 0-based target index it was learned from
    text: str  # that target line
    anchor: str = ""  # the called name of an argument change
    removed: bool = False  # learned from a line the hunk removes (its added lines derive from it)
    local: str = ""  # a local's rename: the target function it was judged in
    arg: int = -1  # an argwrap / argpos: which argument of ``anchor``'s calls is wrapped or unwrapped,
    #               inserted or dropped
    nargs: int = -1  # an argpos: how many arguments upstream's call has

    @property
    def key(self) -> tuple[str, ...]:
        """What is learned: the upstream tokens (for an argwrap, at that argument of that call)."""
        if self.kind in ("argwrap", "argpos"):
            return ("\0", self.kind, self.anchor, str(self.arg), *self.upstream)
        return self.upstream

    def summary(self) -> str:
        """Stable-style words: ``use from_timer(), the target has no timer_container_of()``."""
        up, tg = " ".join(self.up_text.split()), " ".join(self.tg_text.split())
        if self.local:
            return f"use the target's local {tg!r} for upstream's {up!r} in {self.local}()"
        if self.kind == "rename":
            call = "()" if re.search(rf"\b{re.escape(self.target[0])}\s*\(", self.text) else ""
            return f"use {tg}{call}, the target has no {up}{call}"
        if self.kind == "argument":
            return f"call {self.anchor}() as the target does ({tg} ...), not as upstream ({up} ...)"
        if self.kind == "call":
            return f"write {tg} as the target does for these arguments, not {up}"
        if self.kind == "argpos":
            if self.tg_text:
                return f"call {self.anchor}() with the target's argument {self.arg + 1} ({self.tg_text})"
            return f"call {self.anchor}() without upstream's argument {self.arg + 1} ({self.up_text}), as the target does"
        if self.kind == "argwrap":
            if len(self.upstream) > len(self.target):
                return f"pass {self.anchor}() its argument without {self.upstream[0]}() as the target does ({tg})"
            return f"pass {self.anchor}() {self.target[0]}() of its argument as the target does ({tg})"
        if self.kind == "pointer":
            if len(self.upstream) > len(self.target):
                return f"write {tg} as the target does, not {up}: {tg} is a pointer there"
            return f"write {tg} as the target does, not {up}: {up} is no pointer there"
        if self.kind == "moved":
            return f"re-add {up!r}, which the hunk moves, as the target writes it: {tg!r}"
        if self.kind == "attribute":
            return f"drop {up}, the target has no {self.upstream[0]}"
        if self.kind == "wrapper":
            if len(self.upstream) > len(self.target):
                return f"{tg} as the target reads it, without {self.upstream[0]}()"
            return f"{tg} as the target reads it, not bare {up}"
        return f"write {tg!r} as the target does, not {up!r}"


@dataclass(frozen=True, slots=True)
class RemovedAct:
    """A removed line deleted as the target spells it."""

    hunk_line: int  # index into spec.lines
    line: int  # 0-based target index
    upstream: str
    target: str


@dataclass(frozen=True, slots=True)
class Adapted:
    lines: tuple[str, ...]  # the hunk's lines in the target's spelling (spec.kinds unchanged)
    carried: tuple[tuple[Substitution, tuple[int, ...]], ...]  # substitution, hunk lines it changed
    removed: tuple[RemovedAct, ...]
    uncarried: tuple[str, ...]  # why the hunk cannot be adapted without guessing
    learned: tuple[Substitution, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.carried or self.removed)

    @property
    def ok(self) -> bool:
        return not self.uncarried


# ---------------------------------------------------------------- learning


def _groups(up: tuple[str, ...], tg: tuple[str, ...]) -> list[list[int]]:
    """Edits of ``up`` -> ``tg`` as [i1, i2, j1, j2, how], merged until both sides are balanced and
    widened so an insertion or deletion inside a call starts at the called name (how 1); how 2:
    tokens only added or dropped outside a call (``if (a)`` against ``if (a && b)``)."""
    ops = [list(op[1:]) for op in difflib.SequenceMatcher(None, up, tg, autojunk=False).get_opcodes()
           if op[0] != "equal"]
    out: list[list[int]] = []
    for op in ops:
        if out:
            last = out[-1]
            gap = up[last[1]:op[0]]
            unbalanced = not (balanced(up[last[0]:last[1]]) and balanced(tg[last[2]:last[3]]))
            if unbalanced or (len(gap) == 1 and gap[0] in ("->", ".")):
                last[1], last[3] = op[1], op[3]
                continue
        out.append(op)
    for g in out:
        _trim(g, up, tg)
        i1, i2, j1, j2 = g
        one_sided = i1 == i2 or j1 == j2
        has_ident = any(RE_IDENT.match(x) for x in up[i1:i2])
        g.append(0)
        if one_sided and _address(g, up, tg):
            continue
        if one_sided:
            c = call_start(up, i1)
            if c is not None:
                g[0], g[2], g[4] = c, j1 - (i1 - c), 1
            else:
                g[4] = 2  # tokens added or dropped outside any call: not a respelling
            continue
        if not has_ident:  # "->" for ".": widen to the name it follows
            k = i1
            while k > 0 and not RE_IDENT.match(up[k - 1]):
                k -= 1
            if k > 0:
                g[0], g[2] = k - 1, j1 - (i1 - k + 1)
    return out


def _address(g: list[int], up: tuple[str, ...], tg: tuple[str, ...]) -> bool:
    """A one-sided ``&`` or ``*`` in operand position before a name (``&raw_class`` against
    ``raw_class``: the object is a pointer in one tree): widen the edit to the name (how 3)."""
    i1, i2, j1, j2 = g[:4]
    side = up[i1:i2] or tg[j1:j2]
    if len(side) != 1 or side[0] not in ("&", "*") or i2 >= len(up) or j2 >= len(tg) or up[i2] != tg[j2] \
            or not RE_IDENT.match(up[i2]) or up[i2] in NOT_TYPES or (up[i2 + 1:i2 + 2] or ("",))[0] in POSTFIX:
        return False  # "&sbi->shrinker" takes the member's address, not the name's
    prev = up[i1 - 1] if i1 > 0 else ""
    if RE_IDENT.match(prev) and prev not in NOT_TYPES or prev[:1].isdigit() or prev in (")", "]"):
        return False  # a binary "&" / "*" (or a declaration's "*")
    g[1], g[3], g[4] = i2 + 1, j2 + 1, 3
    return True


def _trim(g: list[int], up: tuple[str, ...], tg: tuple[str, ...]) -> None:
    """An unbalanced merged edit with equal tokens at its ends (``READ_ONCE(x))`` against ``x)``):
    drop them when that balances it."""
    i1, i2, j1, j2 = g
    if balanced(up[i1:i2]) and balanced(tg[j1:j2]):
        return
    while i1 < i2 and j1 < j2 and up[i1] == tg[j1]:
        i1, j1 = i1 + 1, j1 + 1
    while i2 > i1 and j2 > j1 and up[i2 - 1] == tg[j2 - 1]:
        i2, j2 = i2 - 1, j2 - 1
    if balanced(up[i1:i2]) and balanced(tg[j1:j2]) and i2 > i1:
        g[:] = [i1, i2, j1, j2]


def _kind(up: tuple[str, ...], tg: tuple[str, ...], one_sided_call: bool) -> str:
    if len(up) == 1 and len(tg) == 1 and RE_IDENT.match(up[0]) and RE_IDENT.match(tg[0]):
        return "rename"
    if one_sided_call:
        return "argument"
    for a, b in ((up, tg), (tg, up)):
        if len(a) >= 3 and RE_IDENT.match(a[0]) and a[1] == "(" and a[-1] == ")" and a[2:-1] == b:
            return "wrapper"
    if [x for x in up if x not in ("->", ".")] == [x for x in tg if x not in ("->", ".")]:
        return "member"
    return "other"


def _attribute(seq: Sequence[str]) -> bool:
    """``__bpf_kfunc`` / ``__counted_by(len)``: one ``__`` name (the kernel's spelling of an
    annotation macro; ``err`` dropped from ``return err;`` is no annotation), alone or with one
    balanced argument list."""
    if not seq or not RE_IDENT.match(seq[0]) or seq[0] in C_KEYWORDS or not seq[0].startswith("__"):
        return False
    return len(seq) == 1 or (seq[1] == "(" and seq[-1] == ")" and balanced(seq[1:]) and len(seq) <= MAX_SUB_TOKENS)


def learn_line(upstream: str, target: str, line: int) -> tuple[list[Substitution], str]:
    """Substitutions that turn ``upstream`` into ``target`` token by token, or ([], why not)."""
    ut, tt = lex(upstream), lex(target)
    up, tg = texts_of(ut), texts_of(tt)
    if up == tg:
        words_u, words_t = upstream.split(), target.split()
        if words_u != words_t and Indel.normalized_similarity(words_u, words_t) < MIN_TOKEN_SIM:
            return [], "differs beyond a few words"  # another comment, not a respelled one
        return [], ""
    if not up or not tg or Indel.normalized_similarity(up, tg) < MIN_TOKEN_SIM:
        return [], "differs beyond a few tokens"
    subs: list[Substitution] = []
    for i1, i2, j1, j2, how in _groups(up, tg):
        if how == 2 and j1 == j2 and _attribute(up[i1:i2]):
            subs.append(Substitution("attribute", up[i1:i2], (), chars(upstream, ut, i1, i2), "", line, target))
            continue
        if how == 2:
            return [], f"adds or drops {' '.join(up[i1:i2] or tg[j1:j2])!r} outside a call, not a respelling"
        in_call = how == 1
        su, st = up[i1:i2], tg[j1:j2]
        skip = 2 if in_call else 0  # an argument change starts at "name ("
        if not balanced(su[skip:]) or not balanced(st[skip:]) or max(len(su), len(st)) > MAX_SUB_TOKENS \
                or not su:
            return [], f"differs in {' '.join(su) or '(nothing)'!r} / {' '.join(st)!r}, not a plain respelling"
        plain = [x for x in su + st if x not in ("(", ")", ",")]
        kind = "pointer" if how == 3 else _kind(su, st, bool(in_call))
        if not plain:
            return [], "differs only in punctuation"
        anchor, arg, nargs = (su[0] if kind == "argument" else ""), -1, -1
        up_text, tg_text = chars(upstream, ut, i1, i2), chars(target, tt, j1, j2)
        if kind == "wrapper":
            anchor, arg = arg_position(up, i1, i2)
            kind = "argwrap" if anchor else kind
        elif kind == "argument" and (pos := arg_change(up, i1, tg, j1)) is not None:
            kind, (arg, nargs, a, b) = "argpos", pos
            up_text, tg_text = (chars(upstream, ut, a, b), "") if len(su) > len(st) else ("", chars(target, tt, a, b))
        subs.append(Substitution(kind, su, st, up_text, tg_text, line, target, anchor, arg=arg, nargs=nargs))
    return subs, ""




# ---------------------------------------------------------------- the target file


@lru_cache(maxsize=8)
def _file_index(lines: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Each line as " tok tok ... " (for counting token runs) and the file's identifiers."""
    joined = []
    words: set[str] = set()
    for ln in lines:
        toks = texts_of(lex(ln))
        joined.append(" " + " ".join(toks) + " ")
        words.update(t for t in toks if RE_IDENT.match(t))
    return tuple(joined), frozenset(words)


def lex_words(line: str) -> list[str]:
    """The identifiers of one line (code only)."""
    return [t for t in texts_of(lex(line)) if RE_IDENT.match(t)]


def _count(joined: Sequence[str], seq: Sequence[str]) -> int:
    needle = " " + " ".join(seq) + " "
    return sum(j.count(needle) for j in joined)


def _mixed(sub: Substitution, joined: Sequence[str]) -> bool:
    """The target file also spells it upstream's way outside the target's own spelling."""
    if not sub.target:
        return _count(joined, sub.upstream) > 0
    inside = _count([" " + " ".join(sub.target) + " "], sub.upstream)
    return _count(joined, sub.upstream) > inside * _count(joined, sub.target)


# ---------------------------------------------------------------- carrying


def carry(line: str, sub: Substitution) -> tuple[str, int]:
    """``line`` with every occurrence of ``sub.upstream`` (as whole tokens) written the target's
    way, and how many were rewritten."""
    done = 0
    pos = 0
    while True:
        toks = lex(line)
        texts = texts_of(toks)
        k = find(texts, sub.upstream, pos)
        if k < 0:
            return line, done
        after = texts[k + len(sub.upstream)] if k + len(sub.upstream) < len(texts) else ""
        if sub.kind == "pointer" and after in POSTFIX:
            pos = k + 1  # "&obj.member" is no "&obj": the pointer change does not fit (see unfit())
            continue
        a, b = toks[k].start, toks[k + len(sub.upstream) - 1].end
        new = sub.tg_text
        if not sub.target:  # an annotation dropped: "__bpf_kfunc void f(" -> "void f("
            while b < len(line) and line[b] in " \t":
                b += 1
            if b == len(line) or line[b] in ";,)":
                while a > 0 and line[a - 1] in " \t":
                    a -= 1  # "x[] __counted_by(n);" -> "x[];"
        elif sub.target[-1] == "," and sub.upstream[-1] != "," and b < len(line) and not line[b].isspace():
            new += " "  # an argument inserted first: "f(x" -> "f(NEW, x"
        if sub.upstream[-1] == "," and sub.target[-1] != ",":
            while b < len(line) and line[b] in " \t":
                b += 1  # an argument dropped first: "f(OLD, x" -> "f(x"
        line = line[:a] + new + line[b:]
        done += 1
        pos = k + len(sub.target)


def adapt(spec: HunkSpec, target: Sequence[str], pairs: Sequence[int | None],
          more: Sequence[tuple[str, int]] = (), known: Callable[[str], bool] | None = None,
          language: str = "", by_base: bool = False) -> Adapted:
    """The hunk in the target's spelling (see the module docstring).

    ``pairs``: per pre-image line (spec.old) its target index or None; ``more``: further
    (upstream line, target index) pairs to learn from (the upstream base around the hunk);
    ``known(name)``: whether the target (its whole tree) defines ``name``. A substitution that
    only drops names the target defines is optional (upstream's spelling builds there too:
    ``sysfs_emit`` where the file still calls ``sprintf``) and is not carried: a port changes
    upstream's lines only where it must. ``language`` ("c": hunks.syntax.language_for) enables
    judging a local's rename within its function. ``by_base``: the pairs come from the 3-way
    (the base maps each pre-image line onto its target line): only then is a removed line a few
    tokens apart (``close``) taken for the line the hunk deletes, or without it when the line sits
    1:1 between verbatim, unique neighbours (adaptargs.anchored); a similar line found by
    alignment alone (``foo_count--;`` for ``foo_count -= 1;``) is not proof enough to delete it.
    """
    tgt = tuple(target)
    joined, file_words = _file_index(tgt)
    why: list[str] = []
    learned: list[Substitution] = []
    removed: list[RemovedAct] = []
    out = list(spec.lines)
    oi = -1
    for h, (kind, text) in enumerate(zip(spec.kinds, spec.lines, strict=True)):
        if kind == "+":
            continue
        oi += 1
        p = pairs[oi]
        if p is None:
            if kind == "-":
                why.append(f"removed line {h + 1} {text.strip()!r} is not in the target: nothing to delete")
            continue
        subs, bad = learn_line(text, tgt[p], p)
        if kind == "-":
            subs = [replace(x, removed=True) for x in subs]
        windows = (close(text, tgt[p]) if by_base or anchored(spec.old, tgt, pairs, oi) else None) \
            if kind == "-" and bad else []
        if windows is not None and kind == "-" and bad and wrapped_apart(spec.old, oi, tgt, p):
            windows, bad = None, f"{bad}, and the target wraps its statement otherwise"
        if windows is None:
            why.append(f"removed line {h + 1} {text.strip()!r} {bad} from target line {p + 1} "
                       f"{tgt[p].strip()!r}")
            continue
        why.extend(derived(h, spec, windows, text, tgt[p]))
        learned.extend(subs)
        out[h] = tgt[p]
        if kind == "-" and text.split() != tgt[p].split():
            removed.append(RemovedAct(h, p, text, tgt[p]))
    for text, p in more:
        learned.extend(learn_line(text, tgt[p], p)[0])
    scope = _Scope(spec, tgt, pairs) if language == "c" else None
    all_learned = learned
    if scope is not None:
        learned = [s for s in learned if not (s.kind == "rename" and scope.own(s.upstream[0]))]
    ways: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for s in learned:
        ways.setdefault(s.key, set()).add(s.target)
    usable: list[Substitution] = []
    seen: set[tuple[str, ...]] = set()
    both: list[Substitution] = []  # locals the target function spells both ways
    for s in learned:
        if s.key in seen or len(ways[s.key]) > 1:
            continue
        if s.kind == "argwrap" and arg_mixed(s, tgt) or s.kind == "argpos" and argpos_mixed(s, tgt):
            continue
        if s.kind not in ("argwrap", "argpos") and (_mixed(s, joined) or _optional(s, known)):
            local = scope.judge(s) if scope is not None else None
            if local is None:
                continue
            if not local[1]:
                both.append(s)
                continue
            s = replace(s, local=local[0])
        seen.add(s.key)
        usable.append(s)
    usable.extend(_calls_renamed(learned, ways, seen, joined))
    usable.sort(key=lambda s: -len(s.upstream))  # longer spellings first
    carried: dict[tuple[str, ...], list[int]] = {}
    # an added line that re-adds a removed line the target spells otherwise (a statement moved
    # or re-indented: WRITE_ONCE(q->quantum, quantum) out of a branch that the target writes
    # q->quantum = quantum in) is the target's line, at the added line's depth; not a return or
    # jump: re-added under a new condition, its value is part of the new control flow upstream
    # chose. Unlike a learned substitution it is no change of upstream's: upstream re-adds the
    # statement unchanged, so the target's own version of it stays (3 of 4 held-out cases so)
    moved = {r.upstream.strip(): Substitution(
        "moved", texts_of(lex(r.upstream)), texts_of(lex(r.target)), r.upstream.strip(), r.target.strip(),
        r.line, r.target, removed=True) for r in removed
        if not re.match(r"\s*(?:return|goto|break|continue)\b", r.upstream)}
    siblings = _siblings(all_learned)
    added_toks = [texts_of(lex(t)) for k, t in zip(spec.kinds, spec.lines, strict=True) if k == "+"]
    for h, (kind, text) in enumerate(zip(spec.kinds, spec.lines, strict=True)):
        if kind != "+":
            continue
        line = text
        toks = texts_of(lex(text))
        for s in usable:
            part = _partial(s, siblings, toks)
            if part is not None:
                if find(toks, s.upstream) >= 0:
                    why.append(f"added line {h + 1} has {s.up_text!r} but not {part.up_text!r}, which the target's "
                               f"{s.text.strip()!r} (line {s.line + 1}) respells together with it: "
                               "carrying one of the two is a guess")
                continue
            if s.kind in ("argwrap", "argpos"):
                line, n, misfit = (carry_arg if s.kind == "argwrap" else carry_argpos)(line, s)
                if misfit:
                    why.append(f"added line {h + 1} calls {s.anchor}() in a form the target's {s.tg_text!r} "
                               f"(line {s.line + 1}) does not fit")
            elif s.kind in ("rename", "call") and find(toks, s.upstream) >= 0 \
                    and any(find(a, s.target) >= 0 for a in added_toks):
                # upstream's new lines name both: they are two things, not one spelled two ways (a
                # parameter the target lacks is no rename of the one after it: f(dsb, plane, x);
                # synchronize_rcu_expedited() on one branch, synchronize_rcu() on the other)
                why.append(f"added line {h + 1} uses {s.up_text!r} and the hunk's new lines also use {s.tg_text!r}, "
                           f"which the target's {s.text.strip()!r} (line {s.line + 1}) would make one: not carried")
                n = 0
            else:
                line, n = carry(line, s)
            if n:
                carried.setdefault(s.key, []).append(h)
        mv = moved.get(text.strip())
        if mv is not None and line.strip() != mv.tg_text:  # what was learned did not already give it
            line = text[:len(text) - len(text.lstrip())] + mv.tg_text
            for hs in carried.values():
                if h in hs:
                    hs.remove(h)
            carried.setdefault(mv.key, []).append(h)
            out[h] = line
            continue
        out[h] = line
        why.extend(f"added line {h + 1} uses {s.up_text!r} where the target's pointer change (line {s.line + 1}: "
                   f"{s.text.strip()!r}) does not fit" for s in usable
                   if s.kind == "pointer" and find(texts_of(lex(line)), s.upstream) >= 0)
        why.extend(_uncarried(h, line, learned, ways, joined, file_words, known))
        why.extend(f"added line {h + 1} uses {s.up_text!r}, which the line it replaces spells {s.tg_text!r} in the "
                   f"target (line {s.line + 1}), and the target file spells it both ways: not carried"
                   for s in learned if s.removed and s.key not in seen and len(ways[s.key]) == 1
                   and s.kind not in ("argwrap", "argpos")
                   and not _optional(s, known) and find(texts_of(lex(line)), s.upstream) >= 0)
        why.extend(f"added line {h + 1} uses {s.up_text!r}, which the target's {s.text.strip()!r} (line "
                   f"{s.line + 1}) spells {s.tg_text!r}, and the target function uses both: not carried"
                   for s in both if s.key not in seen and find(texts_of(lex(line)), s.upstream) >= 0)
    by_up = {s.key: s for s in (*usable, *moved.values())}
    return Adapted(tuple(out), tuple((by_up[u], tuple(hs)) for u, hs in carried.items() if hs), tuple(removed),
                   tuple(dict.fromkeys(why)), tuple(all_learned))


def _siblings(learned: Sequence[Substitution]) -> dict[tuple[str, ...], list[list[Substitution]]]:
    """Per substitution key, the groups of substitutions learned from one line pair with it
    (``kvm_x86_call(set_mode)`` against ``static_call_cond(kvm_x86_set_mode)``: two renames of
    one pattern, not two facts)."""
    by_line: dict[tuple[int, str], list[Substitution]] = {}
    for s in learned:
        by_line.setdefault((s.line, s.text), []).append(s)
    out: dict[tuple[str, ...], list[list[Substitution]]] = {}
    for group in by_line.values():
        for s in group:
            out.setdefault(s.key, []).append([x for x in group if x.key != s.key])
    return out


def _partial(s: Substitution, siblings: dict[tuple[str, ...], list[list[Substitution]]],
             toks: Sequence[str]) -> Substitution | None:
    """A renamed name learned only together with other respellings on the same line, some of
    which the added line does not have (``update_cr8_intercept`` where the learned line had
    ``set_mode``): carried alone it writes half a pattern; the sibling it lacks, else None.
    Learned alone from some line, the rename stands on its own."""
    if s.kind != "rename" or s.local:
        return None
    groups = siblings.get(s.key, [])
    if not groups or any(not g for g in groups):
        return None
    for g in groups:
        missing = [x for x in g if x.kind in ("rename", "call") and find(toks, x.upstream) < 0]
        if not missing:
            return None
    return missing[0]


def _calls_renamed(learned: Sequence[Substitution], ways: dict[tuple[str, ...], set[tuple[str, ...]]],
                   seen: set[tuple[str, ...]], joined: Sequence[str]) -> list[Substitution]:
    """Renames of a called function that cannot be carried as names (the target file also calls
    upstream's, or spells it two ways: ``spin_lock_bh`` stays for other locks), carried per whole
    call instead: ``spin_lock_bh(&rxnet->call_lock)`` -> ``write_lock(&rxnet->call_lock)`` when a
    paired line shows it, every paired line with those arguments shows it so, the target file
    makes the target's call at least MIN_CALL_LINES times and never upstream's (the lock is of
    another type there)."""
    wide: dict[tuple[str, ...], list[Substitution]] = {}
    for s in learned:
        if s.kind == "rename" and s.key not in seen and (w := whole_call(s)) is not None:
            wide.setdefault(w.key, []).append(w)
    out = []
    for key, ws in wide.items():
        if len({w.target for w in ws}) == 1 and _count(joined, ws[0].target) >= MIN_CALL_LINES \
                and key not in seen and not _mixed(ws[0], joined):
            seen.add(key)
            out.append(ws[0])
    return out


class _Scope:
    """The C function of the target holding a hunk's added lines, for judging locals' renames."""

    def __init__(self, spec: HunkSpec, tgt: tuple[str, ...], pairs: Sequence[int | None]) -> None:
        self.spec, self.tgt, self.pairs = spec, tgt, pairs
        self._fn: tuple[str, int, int] | None | bool = False  # not looked up yet

    def function(self) -> tuple[str, int, int] | None:
        """(name, start, end) of the one function holding every added line, or None."""
        if self._fn is False:
            points: list[int] = []
            prev: int | None = None
            pending = 0
            oi = -1
            for kind in self.spec.kinds:
                if kind == "+":
                    if prev is None:
                        pending += 1
                    else:
                        points.append(prev)
                    continue
                oi += 1
                p = self.pairs[oi]
                if p is not None:
                    if pending:
                        points.append(p)
                        pending = 0
                    prev = p
            self._fn = None
            if points and not pending:
                lo, hi = min(points), max(points)
                fns = [it for it in items(self.tgt, "c") if it.kind == "function" and it.start <= lo and hi < it.end]
                if fns:
                    it = min(fns, key=lambda it: it.end - it.start)
                    self._fn = (it.name, it.start, it.end)
            elif not points and self.spec.section:  # nothing paired: the function the @@ line names
                name = anchor_name(self.spec.section)
                fns = [it for it in items(self.tgt, "c") if it.kind == "function" and it.name == name]
                if len(fns) == 1:
                    self._fn = (fns[0].name, fns[0].start, fns[0].end)
        return self._fn  # type: ignore[return-value]

    def own(self, name: str) -> bool:
        """Whether ``name`` is the target function's own local as the hunk uses it: the function
        declares it (not on a line the hunk deletes) and a line of the hunk's pre-image that the
        target has verbatim uses it. Then the added lines' ``name`` is that local, whatever other
        lines spell otherwise (``zap_process(signal, ...)`` written ``zap_process(tsk, ...)`` is
        the callee's argument changed, not the local renamed)."""
        fn = self.function()
        if fn is None or not RE_IDENT.match(name):
            return False
        _, start, end = fn
        gone = set(_removed_targets(self.spec, self.pairs))
        if not any(declares(self.tgt[k], name) for k in range(start, end) if k not in gone):
            return False
        old = [t for k, t in zip(self.spec.kinds, self.spec.lines, strict=True) if k != "+"]
        return any(p is not None and start <= p < end and t.split() == self.tgt[p].split()
                   and name in texts_of(lex(t)) for t, p in zip(old, self.pairs, strict=True))

    def judge(self, s: Substitution) -> tuple[str, bool] | None:
        """For a rename of a name the target function declares: (function, whether that function
        never spells it upstream's way); None when it is no local's rename."""
        if s.kind != "rename":
            return None
        fn = self.function()
        if fn is None or not fn[1] <= s.line < fn[2]:
            return None
        name, start, end = fn
        gone = set(_removed_targets(self.spec, self.pairs))  # a declaration the hunk deletes does not count
        body = self.tgt[start:end]
        if not any(declares(ln, s.target[0]) for k, ln in enumerate(body, start) if k not in gone):
            return None
        if any(declares(ln, s.upstream[0]) for k, ln in zip(self.spec.kinds, self.spec.lines, strict=True) if k == "+"):
            return None  # the hunk declares upstream's name itself: renaming it would clash
        uses = sum(1 for ln in body if s.upstream[0] in texts_of(lex(ln)))
        return name, uses == 0


def _removed_targets(spec: HunkSpec, pairs: Sequence[int | None]) -> list[int]:
    old_kinds = [k for k in spec.kinds if k != "+"]
    return [p for k, p in zip(old_kinds, pairs, strict=True) if k == "-" and p is not None]


def declares(line: str, name: str) -> bool:
    """Whether ``line`` declares ``name`` as a variable or parameter (``int ret;``,
    ``struct foo *f = ...``, ``int a, ret;``, ``(struct device *dev, int ret)``)."""
    texts = texts_of(lex(line))
    depth = 0
    for k, t in enumerate(texts):
        if t in OPEN:
            depth += 1
        elif t in CLOSE:
            depth -= 1
        if t != name or (k + 1 < len(texts) and texts[k + 1] not in ("=", ";", ",", "[", ")")):
            continue
        b = k
        while b > 0 and (RE_IDENT.match(texts[b - 1]) or texts[b - 1] == "*"):
            b -= 1
        typ = texts[b:k]
        if any(RE_IDENT.match(x) for x in typ) and typ[0] not in NOT_TYPES and (b == 0 or texts[b - 1] in "(,;{"):
            return True
        if b == k and k > 0 and texts[k - 1] == "," and depth == 0 and texts[-1] == ";"                 and len(texts) > 2 and RE_IDENT.match(texts[0]) and texts[0] not in NOT_TYPES                 and (RE_IDENT.match(texts[1]) or texts[1] == "*"):
            return True  # "int a, ret;"
    return False


def lost(s: Substitution) -> set[str]:
    """Names upstream's spelling has and the target's lacks."""
    return {x for x in s.upstream if RE_IDENT.match(x)} - set(s.target)


def _optional(s: Substitution, known: Callable[[str], bool] | None) -> bool:
    """Upstream's spelling only uses names the target tree defines: it builds there as is. Never
    for an argument inserted or dropped in a call of the same function (``vfs_rmdir(&init_user_ns,
    d, c)`` against ``vfs_rmdir(d, c)``): the target's function takes another number of
    arguments, so upstream's call does not build there whatever its arguments name."""
    if s.kind == "argument" and s.target and s.upstream[0] == s.target[0]:
        return False
    gone = lost(s)
    return bool(gone) and known is not None and all(known(w) for w in gone)


def _uncarried(h: int, line: str, learned: Sequence[Substitution], ways: dict[tuple[str, ...], set[tuple[str, ...]]],
               joined: Sequence[str], file_words: frozenset[str],
               known: Callable[[str], bool] | None = None) -> list[str]:
    """Why added line ``h`` (already carried) still uses something the target spells otherwise."""
    texts = texts_of(lex(line))
    words = set(texts)
    out: list[str] = []
    for s in learned:
        if len(ways[s.key]) > 1 and find(texts, s.upstream) >= 0:
            spellings = " / ".join(repr(" ".join(t)) for t in sorted(ways[s.key]))
            out.append(f"added line {h + 1} uses {s.up_text!r}, which the target spells two ways "
                       f"({spellings}): not carried")
            continue
        for w in sorted(lost(s) & words):
            if w not in file_words and not (known is not None and known(w)):
                out.append(f"added line {h + 1} uses {w!r}, which the target file lacks (the target writes "
                           f"{s.tg_text!r} at line {s.line + 1}) in a form the substitution does not fit")
        if s.kind == "argument" and s.anchor in words and not _mixed(s, joined) and not _optional(s, known):
            at = [k for k, x in enumerate(texts) if x == s.anchor]
            if any(tuple(texts[k:k + len(s.target)]) != s.target for k in at):
                out.append(f"added line {h + 1} calls {s.anchor}() in a form the target's argument change "
                           f"(line {s.line + 1}: {s.text.strip()!r}) does not fit")
    return out


def learning_pairs(spec: HunkSpec, target: Sequence[str], start: int, end: int,
                   base: Sequence[str] | None = None) -> tuple[list[int | None], list[tuple[str, int]], bool]:
    """Per pre-image line its target index, for a hunk placed at ``target[start:end]``, and the
    (upstream line, target index) pairs of the base region around it (empty without ``base``),
    and whether the pairing came through the base.

    Through the base when it holds the pre-image and maps it onto the same region (the 3-way
    pairing), else by aligning the pre-image with the region (a few lines of slack each side)."""
    tgt = tuple(target)
    if base is not None:
        found = threeway_pairs(tgt, spec, base)
        if found is not None:
            bs, pairs = found
            placed = [p for p in pairs if p is not None]
            if placed and min(placed) < end + SLACK and max(placed) >= start - SLACK:
                pair_gaps(pairs)
                return pairs, base_region(tgt, base, bs, len(spec.old), pairs, BASE_MARGIN), True
    al = align(spec.old, tgt, start - SLACK, end + SLACK)
    if al is None:
        return [None] * len(spec.old), [], False
    pairs = list(al.pairs)
    pair_gaps(pairs)
    return pairs, [], False


def pair_gaps(pairs: list[int | None]) -> None:
    """Pair a run of unpaired pre-image lines with the target lines between its paired
    neighbours when there are exactly as many (diff3's changed block of equal size); whether
    each such pair is a respelling is then the tokens' call (learn_line)."""
    i = 0
    while i < len(pairs):
        if pairs[i] is not None or i == 0 or pairs[i - 1] is None:
            i += 1
            continue
        j = i
        while j < len(pairs) and pairs[j] is None:
            j += 1
        prev, nxt = pairs[i - 1], pairs[j] if j < len(pairs) else None
        if nxt is not None and prev is not None and nxt - prev - 1 == j - i:
            for k in range(i, j):
                pairs[k] = prev + 1 + (k - i)
        i = j
