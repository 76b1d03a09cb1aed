"""Atomic accessors on a member the target declares plain (stage: adapt, after backport.apiadapt).

Inputs: one patch's placements (applied ones are looked at), the target tree.
Outputs: the placements whose added lines read a member chain through ``atomic_read(&E)``
(``atomic_long_read``, ``atomic64_read``) or set it with a statement ``atomic_set(&E, v);``
rewritten to ``E`` / ``E = v;``, each with an Adaptation (kind ``token``) naming the target
line that shows the member is plain there; an ``adaptation-failed`` warning for any other
atomic operation on such a member (left as upstream wrote it: it does not build there).

Why: newer trees convert members to atomic_t (io_uring's ``io_wq_work.flags`` became one in
v6.10), and a fix touching them reads ``atomic_read(&req->work.flags)``; on a tree where the
member is still an integer that does not build, and a human writes ``req->work.flags``. Whether
the member is atomic in the target is read from the target's own code, not guessed from its
version: the same member chain (``->work.flags``; a single member only with its base,
``req->flags``) assigned or combined with an arithmetic, bitwise or comparison operator
(none of which compiles on an atomic_t), in the patched file or its neighbours (the .c/.h of
the same stem, the quoted includes of the same directory), with no neighbour taking its
address (``&E`` is how atomic_t is passed), is plain there.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from kb.api import scan_call

from .model import Adaptation, Finding, Placement, Severity, TargetTree

# atomic_read(&   atomic64_read(&   atomic_long_read(&   atomic_set(&   atomic_or(x, &  ...
RE_ATOMIC = re.compile(r"(?<![\w.>])(atomic(?:64|_long)?_(\w+))\s*\(")
# a member chain: name(->|.)name...
RE_CHAIN = re.compile(r"^[A-Za-z_]\w*(?:\s*(?:->|\.)\s*[A-Za-z_]\w*)+$")
# what follows a plain integer use: an assignment, ++/--, a bitwise, arithmetic or comparison operator
RE_PLAIN_AFTER = re.compile(r"^\s*(?:[-+*/%&|^]?=(?!=)|\+\+|--|==|!=|<<|>>|[&|^](?![&|=])|[<>]=?|[-+*/%](?![-+>=]))")
# the operand a suffix chain hangs on: "req", "ctx->req", "reqs[i]."
RE_CHAIN_HEAD = re.compile(r"(?:[A-Za-z_]\w*(?:\[[^\]]*\])?\s*(?:->|\.)\s*)*[A-Za-z_]\w*(?:\[[^\]]*\])?\s*$")
# a quoted include
RE_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
#: how many neighbour files are read for evidence
MAX_FILES = 8


def chain_key(expr: str) -> str:
    """The part of a member chain to look for: from its first member when it has two or more
    (``->work.flags``), else the whole chain (``req->flags``); spaces dropped."""
    e = re.sub(r"\s+", "", expr)
    m = re.search(r"->|\.", e)
    rest = e[m.start():] if m else e
    return rest if len(re.findall(r"->|\.", rest)) >= 2 else e


def _chain_rx(key: str) -> re.Pattern[str]:
    parts = re.split(r"(->|\.)", key)
    body = r"\s*".join(re.escape(p) for p in parts if p)
    lead = r"(?<![\w.>])" if key[0].isalpha() or key[0] == "_" else ""
    return re.compile(lead + body + r"(?!\w)(?!\s*(?:->|\.|\[))")


def plain_evidence(key: str, files: Sequence[tuple[str, str]]) -> str | None:
    """``path:line: text`` of a use of the chain as a plain integer, when no file takes its
    address; None otherwise."""
    rx = _chain_rx(key)
    found = None
    for path, text in files:
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("//", 1)[0]
            if code.lstrip().startswith(("*", "/*")):
                continue
            for m in rx.finditer(code):
                before = code[:m.start()]
                if key[0] in "-.":  # "&req->work.flags": the address of the whole chain
                    before = RE_CHAIN_HEAD.sub("", before)
                before = before.rstrip()
                if before.endswith("&") and not before.endswith("&&"):
                    return None  # its address is taken: it may well be atomic there
                if found is None and RE_PLAIN_AFTER.match(code[m.end():]):
                    found = f"{path}:{n}: {line.strip()}"
    return found


def neighbours(tree: TargetTree, path: str, text: str) -> list[tuple[str, str]]:
    """The patched file and its neighbours in the target: the .c/.h of the same stem and the
    quoted includes of the same directory."""
    d = posixpath.dirname(path)
    stem, ext = posixpath.splitext(path)
    names = [path]
    names += [stem + e for e in (".c", ".h") if e != ext]
    names += [posixpath.normpath(posixpath.join(d, inc)) for inc in RE_INCLUDE.findall(text)]
    out: list[tuple[str, str]] = []
    for name in dict.fromkeys(names):
        body = text if name == path else tree.read(name)
        if body is not None and not name.startswith(".."):
            out.append((name, body))
        if len(out) >= MAX_FILES:
            break
    return out


def _rewrite(line: str, plain: Callable[[str], str | None]) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The line with every atomic read/set of a plain member rewritten; (line, [(member, evidence)],
    problems)."""
    evidence: list[tuple[str, str]] = []
    problems: list[str] = []
    pos = 0
    while True:
        m = RE_ATOMIC.search(line, pos)
        if m is None:
            return line, evidence, problems
        scanned = scan_call(line, m.end() - 1)
        if scanned is None:
            return line, evidence, problems  # the call closes on another line
        args, end = scanned
        addr = [a for a in args if a.startswith("&") and RE_CHAIN.match(a[1:].strip())]
        ev = plain(addr[0][1:].strip()) if len(addr) == 1 else None
        if ev is None:
            pos = m.end()
            continue
        expr = addr[0][1:].strip()
        op = m.group(2)
        if op == "read" and len(args) == 1:
            line = line[:m.start()] + expr + line[end:]
            pos = m.start() + len(expr)
        elif op == "set" and len(args) == 2 and args[0] == addr[0] and not line[:m.start()].strip() \
                and line[end:].strip() == ";":
            line = f"{line[:m.start()]}{expr} = {args[1]};"
            pos = len(line)
        else:
            problems.append(f"{m.group(1)}() on {expr}, which the target declares plain ({ev})")
            pos = m.end()
            continue
        evidence.append((expr, ev))


class _Plain:
    """``expr -> evidence | None`` over one file set, memoised per chain key."""

    def __init__(self, files: Sequence[tuple[str, str]]) -> None:
        self.files = files
        self.keys: dict[str, str | None] = {}

    def __call__(self, expr: str) -> str | None:
        key = chain_key(expr)
        if key not in self.keys:
            self.keys[key] = plain_evidence(key, self.files)
        return self.keys[key]


def adapt_atomics(placements: list[Placement], tree: TargetTree,
                  added_rows: Callable[[Placement], list[int]]) -> tuple[list[Finding], set[int]]:
    """Rewrite atomic accessors of plain members in the added lines (in place); return the
    findings and the indexes of the placements changed."""
    findings: list[Finding] = []
    changed: set[int] = set()
    cache: dict[str, _Plain] = {}  # per file: its neighbours and the member answers found so far
    for i, p in enumerate(placements):
        if not p.applied or not p.path:
            continue
        rows = [k for k in added_rows(p) if RE_ATOMIC.search(p.target_new[k])]
        if not rows:
            continue
        if p.path not in cache:
            cache[p.path] = _Plain(neighbours(tree, p.path, tree.read(p.path) or ""))
        plain = cache[p.path]
        new_lines = list(p.target_new)
        adaptations: list[Adaptation] = []
        for k in rows:
            line, evidence, problems = _rewrite(new_lines[k], plain)
            for why in problems:
                findings.append(Finding(
                    "adaptation-failed", Severity.WARNING,
                    f"{p.path}:{p.start + k}: added line uses {why}: not rewritten",
                    p.hunk.ref, (f"{p.path}:{p.start + k}: +{new_lines[k].strip()}",),
                    "write the operation on the plain member by hand"))
            if line == new_lines[k]:
                continue
            exprs = ", ".join(dict.fromkeys(e for e, _ in evidence))
            adaptations.append(Adaptation(
                "token", f"use {exprs} directly as the target does: the member is no atomic_t there",
                (f"+{new_lines[k]}",), (f"+{line}",), tuple(dict.fromkeys(ev for _, ev in evidence)), p.path,
                p.start + k, p.hunk.ref))
            new_lines[k] = line
        if adaptations:
            placements[i] = replace(p, target_new=tuple(new_lines), adaptations=(*p.adaptations, *adaptations))
            changed.add(i)
    return findings, changed

