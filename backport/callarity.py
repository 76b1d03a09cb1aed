"""Call arity (stage: checks): a call the port re-argues that the target's function does not take.

Inputs: a model.Patch, the TargetTree it is ported onto (the pipeline's overlay of the earlier
patches), the patch's Placements, the Series (its other patches) and PortOptions (for the deps
index). Outputs: model.Finding values with the stable code ``call-arity`` (WARNING).

Kind of problem: upstream added or dropped a parameter of a function (nf_ct_refresh() lost its
``skb`` in v6.14: "netfilter: conntrack: remove skb argument from nf_ct_refresh", picked into
linux-6.6.y as ebfa0ba48453), changed the definition in one commit and every caller in the same or later
ones. A fix written after that calls the function the new way; on a target whose function still
takes the old parameters each hunk applies cleanly, the ported file looks right, and it does not
build. The hunk itself says so: it removes a call with N arguments and adds one with M.

Method: in each applied hunk, the functions called with one number of arguments on removed lines
and another on added lines (the patch re-argues the call; calls it only adds or only keeps are
not compared, so a wrong guess about a macro or a function pointer cannot cost anything) whose
new call is still in what the port writes (an API-table rewrite may have put it back). Each is
looked up in the deps index (backport.deps.get_index: where the target defines it as a C
function; a name also defined as a macro is left alone) and its definitions are read as the port
leaves the defining files (prototype.definitions). When no definition takes the new number of
arguments (a ``...`` parameter takes any number from its fixed ones) and no other patch of the
series declares one that does, the call is a finding naming the definition ``path:line``. Line
scanning rather than tree-sitter: a hunk is a fragment, and a call's arguments are found by
balanced parentheses, which is exact for C expressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .model import Finding, Hunk, LineKind, Patch, Placement, PortOptions, Series, Severity, TargetTree
from .prototype import RE_TOKEN, _close, _ported_text, _split_params, definitions

CODE = "call-arity"
HINT = ("the target's function takes other parameters than upstream's: write the call the target's "
        "way, or port the commit that re-argued it")

# foo(   (an identifier followed by an opening parenthesis)
RE_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
# "a string" / 'c'   (their commas and parentheses are not the call's)
RE_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
RE_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
#: words that look like calls but are not functions
NOT_CALLS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "typeof", "__typeof__",
                       "defined", "__attribute__", "alignof", "_Alignof", "offsetof", "do"})
#: a character before the name that makes it a call (not a declaration, not a member pointer)
CALL_CONTEXT = frozenset("=(,!&|?:+-/<>%^~[{;")


def _blank(text: str) -> str:
    """``text`` with comments blanked and each literal a ``0`` (same length: offsets stay valid)."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))
    return RE_COMMENT.sub(blank, RE_LITERAL.sub(lambda m: "0".rjust(len(m.group(0))), text))


def _arity(text: str, open_paren: int) -> int | None:
    """The number of arguments of the call whose ``(`` is at ``open_paren`` (None if unclosed)."""
    end = _close(text, open_paren)
    if end < 0:
        return None
    return len(_split_params(RE_TOKEN.findall(text[open_paren + 1:end - 1])))


def calls(lines: Sequence[str], marked: Sequence[bool]) -> Iterator[tuple[str, int, int]]:
    """(name, number of arguments, line index) of each call that starts on a marked line."""
    text = _blank("\n".join(lines))
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)
    row = 0
    for m in RE_CALL.finditer(text):
        name = m.group(1)
        while starts[row + 1] <= m.start():
            row += 1
        if name in NOT_CALLS or not marked[row]:
            continue
        before = text[starts[row]:m.start()].rstrip()
        if before.endswith(("->", ".")) or \
                before and before[-1] not in CALL_CONTEXT and not re.search(r"\b(?:return|case|else)$", before):
            continue  # a declaration (``int foo(``), a member pointer (``ops->foo(``), a cast ...
        n = _arity(text, m.end() - 1)
        if n is not None:
            yield name, n, row


def _side(h: Hunk, kind: LineKind) -> tuple[list[str], list[bool]]:
    lines = [ln for ln in h.lines if ln.kind is LineKind.CONTEXT or ln.kind is kind]
    return [ln.text for ln in lines], [ln.kind is kind for ln in lines]


def reargued(h: Hunk) -> dict[str, set[int]]:
    """name -> the argument counts an added line calls it with, for the names a removed line of
    the same hunk calls with another count (the hunk re-argues those calls)."""
    old: dict[str, set[int]] = {}
    for name, n, _ in calls(*_side(h, LineKind.REMOVED)):
        old.setdefault(name, set()).add(n)
    new: dict[str, set[int]] = {}
    for name, n, _ in calls(*_side(h, LineKind.ADDED)):
        if name in old and n not in old[name]:
            new.setdefault(name, set()).add(n)
    return new


def _takes(sig: tuple, n: int) -> bool:
    params = sig[1]
    if params and params[-1] == "...":
        return n >= len(params) - 1
    return n == len(params)


def _series_declares(series: Series | None, patch: Patch, name: str, n: int) -> bool:
    """Another patch of the series adds a definition or prototype of ``name`` taking ``n``."""
    rx = re.compile(rf"\b{re.escape(name)}\s*\(")
    for p in (series.patches if series is not None else ()):
        if p is patch:
            continue
        for fp in p.files:
            for h in fp.hunks:
                if not any(ln.kind is LineKind.ADDED and rx.search(ln.text) for ln in h.lines):
                    continue
                text = "\n".join(h.new_lines)
                if any(_takes(sig, n) for _, sig, _ in definitions(text, name)):
                    return True
                if any(_takes(sig, n) for _, sig, _ in definitions(re.sub(r"\)\s*;", ") {", text), name)):
                    return True  # a prototype: the same text with a body where its ';' is
    return False


def check_patch(patch: Patch, tree: TargetTree, *, placements: Sequence[Placement] = (),
                series: Series | None = None, options: PortOptions | None = None) -> tuple[Finding, ...]:
    """``call-arity`` findings for ``patch`` ported with ``placements`` onto ``tree``."""
    wanted: list[tuple[str, int, Placement]] = []
    for pl in placements:
        if not pl.applied or not pl.placed or not (pl.path or "").endswith((".c", ".h")):
            continue
        for name, counts in reargued(pl.hunk).items():
            written = {n for nm, n, _ in calls(list(pl.target_new), [True] * len(pl.target_new)) if nm == name}
            wanted.extend((name, n, pl) for n in sorted(counts & written))
    if not wanted:
        return ()
    from .deps import get_index

    idx = get_index(tree, options, touched=[fp.path for fp in patch.files])
    findings: list[Finding] = []
    texts: dict[str, str | None] = {}
    seen: set[str] = set()
    for name, n, pl in wanted:
        if name in seen:
            continue
        defs = idx.defines(name)
        if not defs or any(d.kind in ("macro", "fmacro") for d in defs):
            continue
        found: list[tuple[str, int, tuple]] = []
        for path in sorted({d.path for d in defs if d.kind == "function"}):
            if path not in texts:
                texts[path] = _ported_text(path, tree, placements)
            found.extend((path, line, sig) for line, sig, _ in definitions(texts[path] or "", name))
        if not found or any(_takes(sig, n) for _, _, sig in found) or _series_declares(series, patch, name, n):
            continue
        seen.add(name)
        path, line, sig = found[0]
        takes = len(sig[1])
        findings.append(Finding(
            CODE, Severity.WARNING,
            f"{pl.path}:{pl.start}: the port calls {name}() with {n} argument{'s' * (n != 1)}; the "
            f"target's {name}() at {path}:{line} takes {takes}", pl.hunk.ref or patch.ref,
            evidence=(f"{path}:{line}: {name}({', '.join(sig[1])})",
                      *(f"{pl.path}: {t.strip()}" for t in pl.target_new if re.search(rf"\b{name}\s*\(", t))),
            hint=HINT))
    return tuple(findings)


__all__ = ["CODE", "calls", "check_patch", "reargued"]
