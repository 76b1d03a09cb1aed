"""Added calls of a function re-argued between upstream and the target (stage: adapt).

Inputs: one patch's placements (after placement and the kb API rewrites), the target tree (its
deps index: where each function is defined), PortOptions (``upstream``: the base tree or
repository; ``checks``), the rows of each placement the port adds (backport.apiadapt.added_rows).
Outputs: the placements with rewritten ``target_new`` lines and one ``api`` Adaptation per
rewritten call, ``call-arity`` findings for what cannot be rewritten, and the indexes changed.

Kind of problem: a fix adds a call written for upstream's function, whose parameter list the
target does not have (``nfs4_proc_delegreturn(inode, cred, stateid, NULL, 0)``: upstream's
takes a ``struct nfs_delegation *`` that a 6.8 tree's does not). backport.callarity compares the
calls a hunk re-argues (removed with N arguments, added with M); a call the hunk only adds has
no such evidence in the hunk. The upstream base has it: its definition of the function (same
path as the target's) takes the call's argument count and the target's does not. When the
target's parameter types are the base's with exactly one left out, at exactly one position,
the argument at that position is what the target has no parameter for and is dropped (the
evidence is both definitions). Anything else (a parameter the target has more: its value would
be a guess; several positions fit; a call that does not close on its line) is a ``call-arity``
finding naming both definitions. Without the index, nothing is done.

Without the base (a porter with only the patch and the target), the call's own arguments are
the evidence: when the target's one definition takes one parameter fewer than the call passes,
and dropping exactly one argument makes the others fit the target's parameters (an argument
named like a parameter sits at that parameter and is not the one dropped; ``NULL``, ``&x`` or a string is not passed for a
plain integer, nor an integer literal for a pointer) and that argument is ``NULL`` (no object
passed: what a parameter the target lacks can take without meaning), it is dropped; the
evidence is the target's definition. Anything else is left as upstream wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from .callarity import CODE, HINT, _blank, calls, reargued
from .model import Adaptation, Finding, Patch, Placement, PortOptions, Severity, TargetTree
from .prototype import _close, _drop_name, _split_params, _tokens, definitions
from .upstream_base import read_upstream


def _defs(text: str, name: str) -> list[tuple[int, tuple, str]]:
    """(line, signature, its text on one line) of the definitions and prototypes of ``name``."""
    out = list(definitions(text, name))
    if not out:  # a header's prototype: read with a body where its ';' is
        out = list(definitions(re.sub(r"\)\s*;", ") {", text), name))
    return [(line, sig, " ".join(head.split())) for line, sig, head in out]


def _dropped(base: tuple[str, ...], target: tuple[str, ...]) -> int | None:
    """The one position of ``base`` whose removal gives ``target``, or None (none or several)."""
    if len(base) != len(target) + 1:
        return None
    fits = [k for k in range(len(base)) if base[:k] + base[k + 1:] == target]
    return fits[0] if len(fits) == 1 else None


def _bounds(line: str, name: str, n: int) -> list[int] | None:
    """Offsets of the ``(``, the top-level commas and the ``)`` of the one ``name(...)`` call of
    ``line`` with ``n`` arguments (argument k lies between bounds[k] and bounds[k + 1]), or None
    when the call is not there once, closed on the line, with ``n`` arguments."""
    text = _blank(line)
    found = [m for m in re.finditer(rf"\b{re.escape(name)}\s*\(", text)]
    if len(found) != 1:
        return None
    open_at = found[0].end() - 1
    end = _close(text, open_at)
    if end < 0:
        return None
    commas, depth = [], 0
    for i in range(open_at + 1, end - 1):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            commas.append(i)
    if len(commas) + 1 != n:
        return None
    return [open_at, *commas, end - 1]


def _drop_arg(line: str, name: str, n: int, k: int) -> str | None:
    """``line`` with argument ``k`` of its one ``name(...)`` call of ``n`` arguments removed, or
    None when the call is not there once, closed on the line, with ``n`` arguments."""
    bounds = _bounds(line, name, n)
    if bounds is None:
        return None
    if k == 0:  # the first: with the comma after it
        return line[:bounds[0] + 1] + line[bounds[1] + 1:].lstrip(" ")
    return line[:bounds[k]] + line[bounds[k + 1]:]  # with the comma before it


#: parameter types a pointer, NULL or a string is never passed for (words of the type, const aside)
SCALAR_WORDS = frozenset("""
    int long short char bool _Bool unsigned signed size_t ssize_t loff_t
    u8 u16 u32 u64 s8 s16 s32 s64 __u8 __u16 __u32 __u64 __s8 __s16 __s32 __s64
""".split())
RE_INT_LITERAL = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*|true|false")
RE_IDENT = re.compile(r"[A-Za-z_]\w*")


def _params(head: str, name: str) -> list[tuple[str, str]] | None:
    """(type, name or '') of each parameter of the definition ``head`` of ``name``."""
    m = re.search(rf"\b{re.escape(name)}\s*\(", head)
    end = _close(head, m.end() - 1) if m else -1
    if end < 0:
        return None
    out = []
    for p in _split_params(_tokens(head[m.end():end - 1])):
        ptype = _drop_name(p)
        out.append((ptype, p[-1] if ptype != " ".join(p) else ""))
    return [] if [t for t, _ in out] == ["void"] else out


def _fits(arg: str, ptype: str, pname: str, names: set[str]) -> bool:
    """Whether ``arg`` may be passed for a parameter ``ptype pname`` (False only when it cannot)."""
    if RE_IDENT.fullmatch(arg) and arg in names and arg != pname:
        return False  # named like another parameter of the function
    words = [w for w in ptype.split() if w not in ("const", "volatile")]
    pointer = "*" in words or "(" in words
    scalar = bool(words) and not pointer and all(w in SCALAR_WORDS for w in words)
    if (arg == "NULL" or arg.startswith(("&", '"'))) and scalar:
        return False
    return not (RE_INT_LITERAL.fullmatch(arg) and pointer)


def _null_to_drop(line: str, name: str, n: int, head: str) -> int | None:
    """Without the base: the one argument whose removal fits the target's parameters, when it is
    ``NULL`` (module docstring); None otherwise."""
    bounds = _bounds(line, name, n)
    params = _params(head, name)
    if bounds is None or params is None or len(params) != n - 1:
        return None
    args = [line[bounds[k] + 1:bounds[k + 1]].strip() for k in range(n)]
    names = {pn for _, pn in params if pn}
    fits = [k for k in range(n) if args[k] not in names  # an argument named like a parameter is kept
            and all(_fits(a, t, pn, names) for a, (t, pn) in zip(args[:k] + args[k + 1:], params, strict=True))]
    return fits[0] if len(fits) == 1 and args[fits[0]] == "NULL" else None


def adapt_added_calls(patch: Patch, placements: list[Placement], tree: TargetTree, options: PortOptions,
                      rows: Callable[[Placement], list[int]]) -> tuple[list[Finding], set[int]]:
    """Rewrite or report added calls whose function the target takes other arguments for."""
    if not options.checks or not options.adapt:
        return [], set()
    wanted: list[tuple[int, int, str, int]] = []  # placement, row, name, argument count
    for i, pl in enumerate(placements):
        if not pl.applied or not pl.placed or not (pl.path or "").endswith((".c", ".h")):
            continue
        mine = rows(pl)
        if not mine:
            continue
        marked = [j in set(mine) for j in range(len(pl.target_new))]
        skip = set(reargued(pl.hunk))  # callarity's: the hunk itself re-argues these
        wanted.extend((i, row, name, n) for name, n, row in calls(list(pl.target_new), marked) if name not in skip)
    if not wanted:
        return [], set()
    from .deps import get_index

    idx = get_index(tree, options, touched=[fp.path for fp in patch.files])
    findings: list[Finding] = []
    changed: set[int] = set()
    memo: dict[str, tuple | None] = {}
    for i, row, name, n in wanted:
        if not options.upstream:
            if name not in memo:  # a function called on several added lines is looked up once
                memo[name] = _target_def(name, idx, tree)
            _without_base(placements, i, row, name, n, memo[name], changed)
            continue
        if name not in memo:
            memo[name] = _compare(name, idx, tree, options, patch)
        got = memo[name]
        if got is None:
            continue
        (tpath, tline, tsig, thead), (bline, bsig, bhead) = got
        if len(tsig[1]) == n or len(bsig[1]) != n or (bsig[1] and bsig[1][-1] == "..."):
            continue
        pl = placements[i]
        line = pl.target_new[row]
        k = _dropped(bsig[1], tsig[1])
        new = _drop_arg(line, name, n, k) if k is not None else None
        ev = (f"{tpath}:{tline}: {thead}", f"upstream {tpath}:{bline}: {bhead}")
        if new is None:
            findings.append(Finding(
                CODE, Severity.WARNING,
                f"{pl.path}:{pl.start + row}: the port adds a call of {name}() with {n} argument"
                f"{'s' * (n != 1)} as upstream's takes; the target's {name}() at {tpath}:{tline} takes "
                f"{len(tsig[1])}", pl.hunk.ref or patch.ref, (*ev, f"{pl.path}: {line.strip()}"), HINT))
            continue
        _rewrite(placements, i, row, new, f"call {name}() without upstream's argument {k + 1} ({bsig[1][k]}): "
                 f"the target's {name}() has no such parameter", ev)
        changed.add(i)
    return findings, changed


def _rewrite(placements: list[Placement], i: int, row: int, new: str, summary: str, ev: tuple[str, ...]) -> None:
    """Placement ``i`` with its added line ``row`` written ``new`` and an ``api`` Adaptation saying so."""
    pl = placements[i]
    lines = list(pl.target_new)
    note = Adaptation("api", summary, (f"+{lines[row]}",), (f"+{new}",), ev, pl.path or "", pl.start + row,
                      pl.hunk.ref)
    lines[row] = new
    placements[i] = replace(pl, target_new=tuple(lines), adaptations=(*pl.adaptations, note))


def _without_base(placements: list[Placement], i: int, row: int, name: str, n: int,
                  got: tuple[str, int, tuple, str] | None, changed: set[int]) -> None:
    """Drop the ``NULL`` the target's definition ``got`` (_target_def) has no parameter for
    (module docstring)."""
    if got is None:
        return
    tpath, tline, tsig, thead = got
    if len(tsig[1]) != n - 1 or (tsig[1] and tsig[1][-1] == "..."):
        return
    pl = placements[i]
    line = pl.target_new[row]
    k = _null_to_drop(line, name, n, thead)
    new = _drop_arg(line, name, n, k) if k is not None else None
    if new is None:
        return
    _rewrite(placements, i, row, new, f"call {name}() without upstream's argument {k + 1} (NULL): the target's "
             f"{name}() takes {n - 1} parameter{'s' * (n != 2)}, which the other arguments fit",
             (f"{tpath}:{tline}: {thead}",))
    changed.add(i)


def _target_def(name: str, idx, tree: TargetTree) -> tuple[str, int, tuple, str] | None:  # noqa: ANN001
    """The target's one definition of ``name`` (path, line, signature, head); None when it is
    missing, several, or a macro."""
    defs = idx.defines(name)
    if not defs or any(d.kind in ("macro", "fmacro") for d in defs):
        return None
    found: list[tuple[str, int, tuple, str]] = []
    for path in sorted({d.path for d in defs if d.kind in ("function", "prototype")}):
        text = tree.read(path) or ""
        found.extend((path, line, sig, head) for line, sig, head in _defs(text, name))
    if len({sig for _, _, sig, _ in found}) != 1:
        return None
    return found[0]


def _compare(name: str, idx, tree: TargetTree, options: PortOptions, patch: Patch  # noqa: ANN001
             ) -> tuple[tuple[str, int, tuple, str], tuple[int, tuple, str]] | None:
    """The target's one definition of ``name`` (path, line, signature) and the upstream base's at
    the same path (line, signature); None when either is missing, several, or a macro."""
    got = _target_def(name, idx, tree)
    if got is None:
        return None
    tpath, tline, tsig, thead = got
    base = read_upstream(options.upstream, tpath, base_commit=patch.base_commit)
    bdefs = _defs(base or "", name)
    if len({sig for _, sig, _ in bdefs}) != 1:
        return None
    return (tpath, tline, tsig, thead), bdefs[0]


__all__ = ["adapt_added_calls"]
