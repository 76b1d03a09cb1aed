"""C tokens and hunk correspondence for the benchmark's reporting (stage: bench).

Inputs: the text of two unified diffs of the same fix (upstream's and the human backport's).
Outputs: ``tokens(line)`` (C tokens of one source line), ``hunk_changes(patch)`` (per file, per
hunk: the removed and added lines), ``pair_hunks`` / ``pair_lines`` (which hunks and which
+/- lines correspond), ``token_edits`` (the token-level difference of two lines) and
``token_level(upstream, expected)`` (the ``adapted/token`` definition of bench/RESULTS.md).

The tokenizer is tree-sitter-c (already a dependency of hunks/syntax.py): a single diff line is
a fragment (``} else {``, half a call), which tree-sitter parses with error recovery while still
lexing strings, character literals, comments and multi-character operators (``->``, ``>>=``)
correctly; the leaves of its tree are the tokens. A line whose leaves do not cover its
non-blank characters (a recovery that dropped text) is lexed by a small regex lexer instead
(identifiers, numbers, strings, chars, comments, the C operators), so nothing is lost.

Used by bench/run_bench.py (the ``adapted/token`` row) and bench/mine_adaptations.py. Reporting
only: nothing in backport reads expected patches.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

# a C token: identifier/number, string, char, comment, multi-char operator, any other character
RE_TOKEN = re.compile(
    r'[A-Za-z_]\w*|0[xX][0-9a-fA-F]+\w*|\d[\w.]*|"(?:\\.|[^"\\])*"?|\'(?:\\.|[^\'\\])*\'?|/\*.*?(?:\*/|$)|//.*'
    r"|->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|##|\.\.\.|\S")
#: a line pair differing in at most this many token edits is "a few tokens" apart
FEW_TOKENS = 8
_LEAF_WHOLE = ("string_literal", "char_literal", "comment", "system_lib_string", "concatenated_string")


@lru_cache(maxsize=1)
def _parser():
    try:
        import tree_sitter_c
        from tree_sitter import Language, Parser
    except ImportError:  # pragma: no cover - tree-sitter is a dependency
        return None
    return Parser(Language(tree_sitter_c.language()))


@lru_cache(maxsize=65536)
def tokens(line: str) -> tuple[str, ...]:
    """The C tokens of one line (see the module docstring for the lexer and its fallback)."""
    parser = _parser()
    if parser is not None:
        data = line.encode("utf-8", "surrogateescape")
        found: list[tuple[int, str]] = []
        stack = [parser.parse(data).root_node]
        while stack:
            n = stack.pop()
            if n.child_count == 0 or n.type in _LEAF_WHOLE:
                if n.end_byte > n.start_byte:
                    found.append((n.start_byte, data[n.start_byte:n.end_byte].decode("utf-8", "surrogateescape")))
            else:
                stack.extend(n.children)
        out = tuple(t for _, t in sorted(found))
        if "".join(out).replace(" ", "").replace("\t", "") == re.sub(r"\s+", "", line):
            return out
    return tuple(RE_TOKEN.findall(line))


@dataclass(frozen=True, slots=True)
class HunkChange:
    path: str
    removed: tuple[str, ...]  # whitespace-normalised
    added: tuple[str, ...]
    context: tuple[str, ...] = ()

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple("-" + x for x in self.removed) + tuple("+" + x for x in self.added)


def norm(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def hunk_changes(patch: str) -> list[HunkChange]:
    """Every hunk of a unified diff as its removed and added lines (whitespace-normalised)."""
    out: list[HunkChange] = []
    path = ""
    rem: list[str] | None = None
    add: list[str] = []
    ctx: list[str] = []
    for ln in patch.splitlines():
        if ln.startswith("diff --git "):
            if rem is not None:
                out.append(HunkChange(path, tuple(rem), tuple(add), tuple(ctx)))
            rem = None
            path = ln.split(" b/", 1)[-1]
        elif ln.startswith("@@"):
            if rem is not None:
                out.append(HunkChange(path, tuple(rem), tuple(add), tuple(ctx)))
            rem, add, ctx = [], [], []
        elif rem is not None and ln.startswith("-") and not ln.startswith("--- "):
            rem.append(norm(ln[1:]))
        elif rem is not None and ln.startswith("+") and not ln.startswith("+++ "):
            add.append(norm(ln[1:]))
        elif rem is not None and ln.startswith("-- ") and ln.strip() == "--":
            break  # the mail signature after the last hunk
        elif rem is not None and ln.startswith(" "):
            ctx.append(norm(ln[1:]))
    if rem is not None:
        out.append(HunkChange(path, tuple(rem), tuple(add), tuple(ctx)))
    return out


def similarity(a: HunkChange, b: HunkChange) -> float:
    return difflib.SequenceMatcher(None, a.changed, b.changed, autojunk=False).ratio()


def pair_hunks(up: list[HunkChange], ex: list[HunkChange], *, cutoff: float = 0.5) -> list[tuple[int, int]]:
    """Corresponding (upstream, expected) hunk indices: same file, changed lines at least
    ``cutoff`` similar, matched greedily best-first, one to one."""
    cand = sorted(((similarity(a, b), i, j) for i, a in enumerate(up) for j, b in enumerate(ex)
                   if a.path == b.path), reverse=True)
    used_i: set[int] = set()
    used_j: set[int] = set()
    pairs = []
    for r, i, j in cand:
        if r < cutoff or i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        pairs.append((i, j))
    return sorted(pairs)


def pair_lines(a: tuple[str, ...], b: tuple[str, ...], *, min_ratio: float = 0.0) -> list[tuple[str, str]]:
    """Corresponding lines of two line lists: equal lines, and the lines of a replaced block
    paired in order (the shorter block's count), kept when their tokens are at least
    ``min_ratio`` similar; unpaired lines are left out."""
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(zip(a[i1:i2], b[j1:j2], strict=True))
        elif op == "replace":
            out.extend((x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=False)
                       if not min_ratio or difflib.SequenceMatcher(None, tokens(x), tokens(y),
                                                                    autojunk=False).ratio() >= min_ratio)
    return out


def token_edits(a: str, b: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The token-level differences of two lines: (op, upstream tokens, expected tokens)."""
    ta, tb = tokens(a), tokens(b)
    return [(op, ta[i1:i2], tb[j1:j2])
            for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes()
            if op != "equal"]


def edit_size(a: str, b: str) -> int:
    return sum(max(len(x), len(y)) for _, x, y in token_edits(a, b))


def token_level(upstream: str, expected: str, *, few: int = FEW_TOKENS) -> bool:
    """The ``adapted/token`` definition: the two diffs' hunks correspond one to one (same file,
    changed lines at least half similar), each pair has as many removed and as many added lines,
    corresponding lines (in order) are equal or differ in at most ``few`` token edits, and at
    least one pair differs (whitespace never counts)."""
    up, ex = hunk_changes(upstream), hunk_changes(expected)
    if not up or len(up) != len(ex):
        return False
    pairs = pair_hunks(up, ex)
    if len(pairs) != len(up):
        return False
    differs = False
    for i, j in pairs:
        a, b = up[i], ex[j]
        if len(a.removed) != len(b.removed) or len(a.added) != len(b.added):
            return False
        for x, y in (*zip(a.removed, b.removed, strict=True), *zip(a.added, b.added, strict=True)):
            if x == y or tokens(x) == tokens(y):
                continue
            if edit_size(x, y) > few:
                return False
            differs = True
    return differs
