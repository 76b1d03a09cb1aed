"""C line lexing for token-level adaptation (stage: hunks, helper of hunks.adapt).

Inputs: one source line (a fragment of C: a diff line). Outputs: its code tokens with their
spans (comments dropped), token-sequence helpers (balance, the call a position is inside, a
run's characters, a run's position). A regex lexer, not a parser: hunk lines are fragments of
C, where tree-sitter sees mostly error nodes, and only tokens are needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# "str \" lit"  'c'  /* comment */  // comment  ident  0x1fUL  12u  ->  <<=  &&  ++  ##  any other char
RE_LEX = re.compile(r'"(?:\\.|[^"\\])*"?|\'(?:\\.|[^\'\\])*\'?|/\*.*?(?:\*/|$)|//.*$|[A-Za-z_]\w*'
                    r"|0[xX][0-9a-fA-F]+\w*|\d+\w*|->|<<=?|>>=?|[<>=!+\-*/%&|^]=|&&|\|\||\+\+|--|##|\S")
# " * a comment line"  /  "/* opening"  /  "*/"  (not "*ptr = x;")
RE_COMMENT_LINE = re.compile(r"^\s*(?:\*(?:\s|$|\*)|/\*|\*/)")
# an identifier token
RE_IDENT = re.compile(r"^[A-Za-z_]\w*$")

OPEN, CLOSE = "([{", ")]}"
#: tokens that continue an operand after a name ("&a.b" is "&(a.b)")
POSTFIX = frozenset((".", "->", "[", "(", "++", "--"))
#: words followed by "(" that do not call anything
NOT_CALLS = frozenset("if while for switch return sizeof typeof __typeof__ alignof _Alignof defined do else case".split())
#: words that start a statement, not a declaration's type (``return ret;``, ``goto err;``)
NOT_TYPES = NOT_CALLS | frozenset("goto break continue default".split())


@dataclass(frozen=True, slots=True)
class Tok:
    text: str
    start: int
    end: int


@lru_cache(maxsize=65536)
def lex(line: str) -> tuple[Tok, ...]:
    """Code tokens of a line with their spans; comments dropped, a comment line has none."""
    if RE_COMMENT_LINE.match(line):
        return ()
    return tuple(Tok(m.group(), m.start(), m.end()) for m in RE_LEX.finditer(line)
                 if not m.group().startswith(("/*", "//")))


def texts_of(toks: Sequence[Tok]) -> tuple[str, ...]:
    return tuple(t.text for t in toks)


def balanced(seq: Sequence[str]) -> bool:
    depth = 0
    for s in seq:
        if s in OPEN:
            depth += 1
        elif s in CLOSE:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def call_start(seq: Sequence[str], i: int) -> int | None:
    """Index of the name of the innermost call whose parentheses hold position ``i``."""
    depth = 0
    for k in range(i - 1, -1, -1):
        if seq[k] in CLOSE:
            depth += 1
        elif seq[k] in OPEN:
            if depth == 0:
                if seq[k] == "(" and k > 0 and RE_IDENT.match(seq[k - 1]) and seq[k - 1] not in NOT_CALLS:
                    return k - 1
                return None
            depth -= 1
    return None


def chars(line: str, toks: Sequence[Tok], a: int, b: int) -> str:
    """The characters of tokens [a, b) of ``line`` ("" for an empty range)."""
    return line[toks[a].start:toks[b - 1].end] if b > a else ""


def find(seq: Sequence[str], sub: Sequence[str], frm: int = 0) -> int:
    n = len(sub)
    for k in range(frm, len(seq) - n + 1):
        if tuple(seq[k:k + n]) == tuple(sub):
            return k
    return -1
