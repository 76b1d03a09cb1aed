"""Prototype/definition agreement (stage: checks): a ported declaration the definition does not match.

Inputs: a model.Patch, the TargetTree it is ported onto (the pipeline's overlay of the earlier
patches), the patch's Placements, the Series (its other patches) and PortOptions (for the deps
index). Outputs: model.Finding values with the stable code ``prototype-mismatch`` (WARNING).

Kind of problem: upstream changed a function's parameters (or return type) in its header and in
its definition in one commit; a port that carries only the header (one file of a series, or a
definition the port left out) leaves declaration and definition disagreeing, which the port's
text does not show: the result looks clean but does not build.

Method: every prototype (a top-level declaration ``type name(params);`` starting in column 0, not
``static``/``typedef``/``#define``) with an added line in an applied hunk, whose normalised
signature differs from the one its removed lines declared, is looked up in the deps index
(backport.deps.get_index: where the target defines ``name`` as a function). Each defining file
is read as the port leaves it (target text with this patch's applied placements) and its
definitions of ``name`` (``name(params)`` followed by ``{``) are compared after normalisation
(comments, attributes, sparse annotations, ``const``, storage classes and parameter names
dropped). A mismatch that no added line of the series defines consistently is a finding naming
the definition ``path:line``. Names the index does not define as a C function (asm, macros,
generated) are left alone. Line scanning rather than tree-sitter: the inputs are hunk fragments
and a few target lines around one definition, where a statement-level scan is exact enough and
parses nothing else of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from .model import Finding, LineKind, Patch, Placement, PortOptions, Series, Severity, TargetTree

CODE = "prototype-mismatch"
HINT = "port the change to the definition too (its upstream commit changed both)"

RE_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
RE_ATTRIBUTE = re.compile(r"\b__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")
RE_TOKEN = re.compile(r"[A-Za-z_]\w*|\.\.\.|\S")
RE_WORD = re.compile(r"[A-Za-z_]\w*$")
#: words that do not change a signature: storage classes, inline, const/volatile (placement of
#: const is not compared), sparse/section/hint annotations the kernel puts on either side
IGNORED = frozenset({
    "static", "extern", "inline", "__inline", "__inline__", "__always_inline", "noinline", "notrace",
    "asmlinkage", "__visible", "__init", "__exit", "__ref", "__cold", "__hot", "__must_check",
    "__maybe_unused", "__always_unused", "__user", "__iomem", "__rcu", "__force", "__percpu",
    "__kernel", "__nocast", "__weak", "__noreturn", "__sched", "__pure", "const", "volatile",
    "register", "noinstr", "__cpuinit", "__devinit", "__meminit", "__initdata", "__flatten",
    "__printf", "__scanf", "__malloc", "__nonnull", "__no_kcsan", "__no_sanitize_address",
    "__used", "__latent_entropy", "__randomize_layout", "__acquires", "__releases",
    "__must_hold",
})
#: words that end a type without naming a parameter (``unsigned int``, ``struct foo``)
TYPE_END = frozenset({"void", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
                      "_Bool", "bool"})
TAGS = frozenset({"struct", "union", "enum"})
NOT_TYPES = frozenset({"return", "if", "while", "for", "switch", "sizeof", "typedef", "do", "else", "goto", "case"})


def _tokens(text: str) -> list[str]:
    text = RE_ATTRIBUTE.sub(" ", RE_COMMENT.sub(" ", text))
    toks = RE_TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ("__printf", "__scanf", "__acquires", "__releases", "__must_hold", "__nonnull") and \
                i + 1 < len(toks) and toks[i + 1] == "(":
            depth, i = 0, i + 1  # an annotation with arguments: skip them
            while i < len(toks):
                depth += {"(": 1, ")": -1}.get(toks[i], 0)
                i += 1
                if depth == 0:
                    break
            continue
        if t not in IGNORED:
            out.append(t)
        i += 1
    return out


def _split_params(toks: list[str]) -> list[list[str]]:
    params: list[list[str]] = [[]]
    depth = 0
    for t in toks:
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        if t == "," and depth == 0:
            params.append([])
        else:
            params[-1].append(t)
    return [p for p in params if p] if any(params) else []


def _drop_name(p: list[str]) -> str:
    """One parameter's type: ``struct inode *dir`` -> ``struct inode *``; ``int (*cb)(void)`` -> ``int ( * ) ( void )``."""
    if "(" in p:  # a function pointer: the name follows the first "(*"
        i = p.index("(")
        if i + 2 < len(p) and p[i + 1] == "*" and RE_WORD.match(p[i + 2]):
            p = p[:i + 2] + p[i + 3:]
        j = p.index("(", i + 1) if "(" in p[i + 1:] else -1
        if j > 0 and p[-1] == ")":  # the pointed-to function's parameters: names dropped too
            inner = ", ".join(_drop_name(q) for q in _split_params(p[j + 1:-1]))
            return " ".join([*p[:j], "(", inner, ")"])
        return " ".join(p)
    arr = "[" in p
    if arr:  # an array parameter is a pointer: char name[16] -> char *
        p = p[:p.index("[")]
    if len(p) >= 2 and RE_WORD.match(p[-1]) and p[-1] not in TYPE_END and p[-2] not in TAGS:
        p = p[:-1]  # a word after a complete type names the parameter
    return " ".join([*p, "*"] if arr else p)


def signature(ret: str, params: str) -> tuple[str, tuple[str, ...]]:
    """The normalised (return type, parameter types) of a declaration or definition."""
    ps = tuple(_drop_name(p) for p in _split_params(_tokens(params)))
    if ps == ("void",):
        ps = ()
    return " ".join(_tokens(ret)), ps


def _close(text: str, start: int) -> int:
    """The index just after the parenthesis matching the one at ``start`` (-1 if unclosed)."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


# ------------------------------------------------------------------ the patch's prototypes

def _statements(lines: Iterable[tuple[str, bool]]) -> Iterator[tuple[str, bool, int]]:
    """Top-level statements of a hunk side: (text, has an added line, index of the first line)."""
    buf: list[str] = []
    added, first = False, 0
    for i, (text, is_added) in enumerate(lines):
        s = text.strip()
        if not buf:
            if not text or text[0] in " \t#}/*" or not s or s.startswith(("static", "typedef", "#")):
                continue
            first, added = i, False
        buf.append(text)
        added = added or is_added
        if s.endswith((";", "{", "}")) or len(buf) > 12:
            yield "\n".join(buf), added, first
            buf = []


def _prototype(stmt: str) -> tuple[str, str, str] | None:
    """(name, return type, parameters) of ``stmt`` when it is a function prototype."""
    if not stmt.rstrip().endswith(";") or "=" in stmt or "{" in stmt:
        return None
    text = RE_ATTRIBUTE.sub(" ", RE_COMMENT.sub(" ", stmt))
    m = re.match(r"\s*((?:[A-Za-z_]\w*[\s*]+)+?)\**\s*([A-Za-z_]\w*)\s*\(", text)
    if not m or set(m.group(1).split()) & NOT_TYPES or m.group(1).split()[0] == "extern" and '"' in text:
        return None
    end = _close(text, m.end() - 1)
    if end < 0:
        return None
    ret = text[m.start(1):m.start(2)]
    if not _tokens(ret):
        return None
    return m.group(2), ret, text[m.end():end - 1]


def _side(lines, kind: LineKind) -> list[tuple[str, bool]]:  # noqa: ANN001
    return [(ln.text, ln.kind is kind) for ln in lines if ln.kind is LineKind.CONTEXT or ln.kind is kind]


def changed_prototypes(patch: Patch, placements: Sequence[Placement]) -> Iterator[tuple[str, tuple, Placement, str]]:
    """(name, new signature, placement, prototype text) for each prototype an applied hunk adds or changes."""
    for pl in placements:
        if not pl.applied or not pl.placed:
            continue
        fp = patch.files[pl.file_index] if pl.file_index < len(patch.files) else None
        if fp is None or not fp.path.endswith((".h", ".c")):
            continue
        old = {}
        for stmt, _, _ in _statements(_side(pl.hunk.lines, LineKind.REMOVED)):
            p = _prototype(stmt)
            if p:
                old.setdefault(p[0], set()).add(signature(p[1], p[2]))
        for stmt, added, _ in _statements(_side(pl.hunk.lines, LineKind.ADDED)):
            p = _prototype(stmt) if added else None
            if p is None:
                continue
            sig = signature(p[1], p[2])
            if sig in old.get(p[0], ()):
                continue  # reformatted or moved, not changed
            yield p[0], sig, pl, stmt


# ------------------------------------------------------------------ definitions

def definitions(text: str, name: str) -> Iterator[tuple[int, tuple, str]]:
    """(1-based line, signature, head text) of each definition of ``name`` in C ``text``."""
    for m in re.finditer(rf"\b{re.escape(name)}\s*\(", text):
        end = _close(text, m.end() - 1)
        if end < 0:
            continue
        after = RE_ATTRIBUTE.sub(" ", RE_COMMENT.sub(" ", text[end:end + 200])).lstrip()
        if not after.startswith("{"):
            continue
        start = max(text.rfind(c, 0, m.start()) for c in ";}\n#")
        # the return type may sit on the line(s) before: back to the previous statement's end
        while start >= 0 and text[start] == "\n":
            prev = text.rfind("\n", 0, start)
            line = text[prev + 1:start].strip()
            if not line or line.endswith((";", "}", "{", "*/", ")")) or line.startswith(("#", "//")):
                break
            start = prev
        ret = text[start + 1:m.start()]
        toks = _tokens(ret)
        if not toks or set(toks) & NOT_TYPES or "=" in toks or "(" in toks:
            continue  # a call, a macro argument, not a definition
        yield text.count("\n", 0, m.start()) + 1, signature(ret, text[m.end():end - 1]), text[start + 1:end]


def _ported_text(path: str, tree: TargetTree, placements: Sequence[Placement]) -> str | None:
    """``path`` as the port leaves it: the tree's text with the applied placements on it."""
    text = tree.read(path)
    mine = sorted((pl for pl in placements if pl.applied and pl.placed and pl.path == path),
                  key=lambda pl: pl.start, reverse=True)
    if not mine:
        return text
    lines = (text or "").split("\n")
    for pl in mine:
        s = max(pl.start - 1, 0)
        lines[s:s + len(pl.target_old)] = list(pl.target_new)
    return "\n".join(lines)


def _series_changes(series: Series | None, patch: Patch, path: str, name: str, sig: tuple, head: str) -> bool:
    """Another patch of the series defines ``name`` with ``sig``, or edits the lines of the
    definition head ``head`` in ``path`` (a later patch of the series ports the definition)."""
    mine = {ln.strip() for ln in head.split("\n") if len(ln.strip()) > 3}
    for p in (series.patches if series is not None else ()):
        if p is patch:
            continue
        for fp in p.files:
            for h in fp.hunks:
                if fp.path == path and any(ln.kind is LineKind.REMOVED and ln.text.strip() in mine for ln in h.lines):
                    return True
                if any(ln.kind is not LineKind.CONTEXT and name in ln.text for ln in h.lines) and \
                        any(s == sig for _, s, _ in definitions("\n".join(h.new_lines), name)):
                    return True
    return False


def _show(sig: tuple) -> str:
    return f"{sig[0]} ({', '.join(sig[1])})"


def check_patch(patch: Patch, tree: TargetTree, *, placements: Sequence[Placement] = (),
                series: Series | None = None, options: PortOptions | None = None) -> tuple[Finding, ...]:
    """``prototype-mismatch`` findings for ``patch`` ported with ``placements`` onto ``tree``."""
    protos = list(changed_prototypes(patch, placements))
    if not protos:
        return ()
    from .deps import get_index

    idx = get_index(tree, options, touched=[fp.path for fp in patch.files])
    findings: list[Finding] = []
    texts: dict[str, str | None] = {}
    seen: set[tuple[str, str]] = set()
    for name, sig, pl, stmt in protos:
        paths = sorted({d.path for d in idx.defines(name) if d.kind == "function"})
        for path in paths:
            if (name, path) in seen:
                continue
            if path not in texts:
                texts[path] = _ported_text(path, tree, placements)
            for line, dsig, head in definitions(texts[path] or "", name):
                if dsig == sig or _series_changes(series, patch, path, name, sig, head):
                    continue
                seen.add((name, path))
                ref = pl.hunk.ref or patch.ref
                findings.append(Finding(
                    CODE, Severity.WARNING,
                    f"{path}:{line}: the definition of {name}() does not match the prototype the port "
                    f"changes in {pl.path}: {_show(sig)} vs {_show(dsig)}",
                    ref, evidence=(f"{path}:{line}: {name}{_show(dsig)[len(dsig[0]):]}",
                                   f"{pl.path}:{pl.start}: {' '.join(stmt.split())}"),
                    hint=HINT))
                break
    return tuple(findings)


__all__ = ["CODE", "changed_prototypes", "check_patch", "definitions", "signature"]
