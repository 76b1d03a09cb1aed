"""Statements split over lines (stage: adapt, helper of backport.apiadapt).

Inputs: the lines of one placement's ``target_new`` and which rows the port adds.
Outputs: ``statement_rows`` (the consecutive added rows one statement's parentheses span),
``join_statement`` (those rows as one line, for kb.api's line rewrite), ``wrap_statement`` (a
rewritten line back into kernel-style lines: breaks after top-level argument commas, each
continuation aligned with the parenthesis it is inside, tabs then spaces).

Why hand-written: the unit is a few lines of one C statement (kb.api's balanced scan already
decides what a call is); only parentheses, string and character literals matter here. A unit
with a comment, a preprocessor line or a line continuation is never joined: the caller then
reports the call as continuing on the next line.
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.api import code_chars

#: how many lines one statement may span and still be joined
MAX_ROWS = 12


def _depth(line: str) -> int | None:
    """The change of parenthesis depth over ``line`` (literals skipped); None when the line
    has a comment."""
    d = 0
    for i, c in code_chars(line):
        if line.startswith(("//", "/*"), i):
            return None
        d += (c in "([") - (c in ")]")
    return d


def statement_rows(lines: Sequence[str], first: int, added: set[int]) -> list[int]:
    """``[first, ...]``: the consecutive added rows until the parentheses opened on row
    ``first`` close; ``[first]`` when they close on it or cannot be followed safely."""
    depth = _depth(lines[first])
    if not depth or depth < 0 or lines[first].lstrip().startswith("#"):
        return [first]
    rows = [first]
    for r in range(first + 1, min(len(lines), first + MAX_ROWS)):
        d = _depth(lines[r])
        if r not in added or d is None or lines[r].lstrip().startswith("#") or lines[r].rstrip().endswith("\\"):
            return [first]
        rows.append(r)
        depth += d
        if depth <= 0:
            return rows if depth == 0 else [first]
    return [first]


def join_statement(lines: Sequence[str]) -> str:
    """The lines of one statement as one line (continuation indentation dropped)."""
    out = lines[0].rstrip()
    for x in lines[1:]:
        x = x.strip()
        out += x if out.endswith(("(", "[")) or x.startswith((")", "]")) else " " + x
    return out


def width(line: str) -> int:
    return len(line.rstrip().expandtabs(8))


def _indent(col: int) -> str:
    return "\t" * (col // 8) + " " * (col % 8)


def _pieces(text: str) -> list[str]:
    """``text`` cut after every ", " inside parentheses (outside literals)."""
    out, start, d = [], 0, 0
    for i, c in code_chars(text):
        d += (c in "([") - (c in ")]")
        if c == "," and d > 0 and text[i + 1:i + 2] == " ":
            out.append(text[start:i + 2])
            start = i + 2
    out.append(text[start:])
    return out


def _open_col(done: Sequence[str]) -> int:
    """The visual column just after the innermost '(' still open at the end of ``done``."""
    stack: list[int] = []
    for line in done:
        for i, c in code_chars(line):
            if c in "([":
                stack.append(width(line[:i + 1]))
            elif c in ")]" and stack:
                stack.pop()
    return stack[-1] if stack else 0


def wrap_statement(line: str, limit: int) -> list[str]:
    """``line`` as kernel-style lines no wider than ``limit`` where a break after an argument
    comma allows it (a piece wider than that stays whole)."""
    if width(line) <= limit:
        return [line]
    done: list[str] = []
    cur = ""
    for piece in _pieces(line):
        if not cur:
            cur = piece if not done else _indent(_open_col(done)) + piece.lstrip()
            continue
        if width(cur + piece) > limit:
            done.append(cur.rstrip())
            cur = _indent(_open_col(done)) + piece.lstrip()
        else:
            cur += piece
    done.append(cur.rstrip())
    return done
