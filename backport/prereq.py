"""Prerequisite patches (stage: adapt -> result): small upstream definitions a fix needs.

Inputs: the PortResult of one patch (deps' ``missing-symbol`` and ``renamed-symbol`` findings name
what it uses and the target lacks), the tree as the series left it (the pipeline's overlay), the Series seen so far
and PortOptions (``upstream``: a git repository or a plain directory holding the upstream tree;
``with_prereqs``). Outputs (``port_with_prereqs``, the pipeline's hook): one PortResult per helper, macro, type or struct
member taken from the upstream base, each its own ``git am``-able patch placed before the fix,
marked as stable marks a prerequisite pull (``Stable-dep-of: <fix> ("subject")``, the
``[ Upstream commit <sha> ]`` line when backport.upstream finds the commit that introduced the
name, else a note naming the upstream file:line), an ``Adaptation(kind="prereq")`` on its hunk
and a ``prerequisite-patch`` note; the fix ported again after them (so deps sees the new
definitions through the series); and a
``prerequisite-not-extracted`` finding for every name that is too big (over MAX_LINES), too deep
(a definition needing more than MAX_DEPTH levels of others), not small (a non-static function
in a header), a global function no upstream header declares, or has no definition or no home in
the target. A global function of a .c file comes with its prototype from the upstream header (and
its ``EXPORT_SYMBOL*()`` line) in the same patch; a static one counts only in a file the fix
touches.

Where a definition goes: the same upstream file in the target, next to its nearest upstream
neighbour (the item before it, else the one after) that the target file also has; a struct
member next to its neighbouring member. The new lines are placed by the normal pipeline
(port_patch), so they are checked like any patch. Definitions are found with tree-sitter-c
(hunks.syntax.items: functions, structs, typedefs; a struct's fields here) and by a line scan
for ``#define`` (a macro's continuation lines are not C to tree-sitter).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace

from hunks.syntax import c_tree, items

from .model import (
    Adaptation,
    FilePatch,
    Finding,
    Patch,
    Placement,
    PortOptions,
    PortResult,
    Series,
    Severity,
    SourceRef,
    Status,
    TargetTree,
)
from .upstream import UpstreamCommit, find_base_rev, find_introducing_commit, is_git_repo

MAX_LINES = 40  # a definition longer than this is not a "small" prerequisite
MAX_DEPTH = 2  # the fix needs A (1), A needs B (2); B needing C is a finding
MAX_CANDIDATE_FILES = 12

# foo_b: function or macro defined neither ...   /   flags2: struct member not in struct foo_dev of ...
RE_MISSING = re.compile(r"^([A-Za-z_]\w*): (function or macro|type|identifier|struct member)\b")
# backport.apiadapt's api-missing for an entry without an old form on a target without the new one
RE_OPEN_CODE = re.compile(r"^([A-Za-z_]\w*): .* the target lacks; .*must be open-coded on this target$")
# flags2: struct member not in struct foo_dev of the target
RE_MEMBER_OF = re.compile(r"^\w+: struct member not in struct (\w+) ")
# /* ...   * ...   */   // ...
RE_COMMENT_LINE = re.compile(r"^\s*(/\*|\*|//)")
# #include <linux/foo.h>
RE_INCLUDE = re.compile(r"^\s*#\s*include\b")
# #endif /* _LINUX_FOO_H */
RE_ENDIF = re.compile(r"^\s*#\s*endif\b")
# a C file or header
RE_C_PATH = re.compile(r"\.[ch]$")


@dataclass(frozen=True, slots=True)
class Wanted:
    """A name the fix (or another prerequisite) uses that the target lacks."""

    name: str
    kind: str  # name | member | tag
    struct: str = ""  # for a member: its struct, when deps knew it
    ref: SourceRef | None = None
    needed_by: str = ""  # the prerequisite that uses it ("" = the fix)
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Definition:
    """Lines of the upstream base that define one name (a leading comment included)."""

    name: str
    kind: str  # macro | function | struct | typedef | member
    path: str  # upstream path (the same path in the target)
    start: int  # 0-based first line in the upstream file
    lines: tuple[str, ...]
    struct: str = ""  # member: its struct tag
    line: int = 0  # 1-based line of the name itself (after the comment)
    is_global: bool = False  # a function of a .c file other files call (it needs its prototype too)

    @property
    def display(self) -> str:
        if self.kind == "function":
            return f"{self.name}()"
        if self.kind == "prototype":
            return f"the declaration of {self.name}()"
        if self.kind == "member":
            return f"struct {self.struct} member {self.name}"
        return self.name


@dataclass(frozen=True, slots=True)
class Prereq:
    wanted: Wanted
    definition: Definition
    commit: UpstreamCommit | None


class Refused(Exception):
    """A name that cannot become a prerequisite patch, and why."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


# ---------------------------------------------------------------- the upstream base


class UpstreamBase:
    """The upstream tree the fix was written against: a git repo at the fix's base revision
    (backport.upstream.find_base_rev) or a plain directory."""

    def __init__(self, location: str, patch: Patch, options: PortOptions | None = None) -> None:
        from .target import DirTree, GitTree

        self.location = location
        self.options = options
        self.is_git = is_git_repo(location)
        self.rev = find_base_rev(location, patch) if self.is_git else ""
        self.tree: TargetTree = GitTree(location, self.rev) if self.is_git else DirTree(location)

    def read(self, path: str) -> str | None:
        return self.tree.read(path)

    def candidates(self, name: str, kind: str, struct: str = "") -> list[str]:
        """Files that may define ``name`` (or hold ``struct``'s body), headers first."""
        key = struct if kind == "member" and struct else name
        if self.is_git:
            import git

            try:
                out = git.Repo(self.location).git.grep("-l", "-w", "-F", "-e", key, self.rev, "--", "*.h", "*.c")
            except git.exc.GitCommandError:
                out = ""
            paths = [ln.split(":", 1)[1] for ln in out.splitlines() if ":" in ln]
        else:
            from .deps import upstream_index

            idx = upstream_index(self.location, self.options)
            defs = idx.members(name) if kind == "member" and not struct else idx.defines(key)
            paths = list(dict.fromkeys(d.path for d in defs))
        return sorted(paths, key=lambda p: (not p.endswith(".h"), p.startswith(("tools/", "arch/um/")), p))

    def introducing(self, d: Definition) -> UpstreamCommit | None:
        if not self.is_git:
            return None
        return find_introducing_commit(self.location, d.name, rev=self.rev, paths=(d.path,))

    def added_lines(self, sha: str) -> int:
        """How many lines an upstream commit adds (all files)."""
        import git

        out = git.Repo(self.location).git.show("--format=", "--numstat", sha)
        return sum(int(ln.split()[0]) for ln in out.splitlines() if ln.split() and ln.split()[0].isdigit())

    def commit_message(self, sha: str) -> tuple[str, str, str]:
        """(author "Name <mail>", date, message) of an upstream commit."""
        import git

        out = git.Repo(self.location).git.show("-s", "--format=%an <%ae>%x00%aD%x00%B", sha)
        author, date, message = (out.split("\0", 2) + ["", ""])[:3]
        return author, date, message.strip("\n")


# ---------------------------------------------------------------- definitions in a file


def _with_comment(lines: Sequence[str], start: int) -> int:
    """``start`` moved up over the comment block that ends right above it."""
    i = start
    if i > 0 and (lines[i - 1].rstrip().endswith("*/") or lines[i - 1].lstrip().startswith("//")):
        while i > 0 and RE_COMMENT_LINE.match(lines[i - 1]):
            i -= 1
            if lines[i].lstrip().startswith("/*"):
                break
    return i


def find_macro(lines: Sequence[str], name: str) -> tuple[int, int] | None:
    """[start, end) of ``#define name`` with its continuation lines (a line scan: a macro body is
    not C to tree-sitter)."""
    rx = re.compile(rf"^\s*#\s*define\s+{re.escape(name)}(?:\(|\s|$)")
    for i, line in enumerate(lines):
        if rx.match(line):
            j = i
            while j + 1 < len(lines) and lines[j].rstrip().endswith("\\"):
                j += 1
            return i, j + 1
    return None


def find_definition(text: str, name: str, *, kind: str, path: str, struct: str = "") -> Definition | None:
    """The definition of ``name`` in ``text`` (an upstream file), or None when it holds none.

    Raises Refused for a definition that is there but cannot be a small prerequisite."""
    lines = text.split("\n")
    if kind == "member":
        return _find_member(text, lines, name, struct, path)
    span = find_macro(lines, name)
    what = "macro"
    if span is None:
        wanted = ("struct",) if kind == "tag" else ("function", "typedef", "struct")
        found = [it for it in items(tuple(lines), "c") if it.name == name and it.kind in wanted]
        if not found:
            return None
        it = found[0]
        span, what = (it.start, it.end), it.kind
        head = " ".join(lines[it.start:min(it.end, it.start + 2)])
        if what == "function" and not re.search(r"\bstatic\b", head):
            if not path.endswith(".c"):
                raise Refused(f"{name}() is defined in {path} without static: not a small helper",
                              f"{path}:{it.start + 1}")
            end = _with_export(lines, it.end, name)
            start = _with_comment(lines, it.start)
            return Definition(name, what, path, start, tuple(lines[start:end]), line=it.start + 1, is_global=True)
    start = _with_comment(lines, span[0])
    return Definition(name, what, path, start, tuple(lines[start:span[1]]), line=span[0] + 1)


# EXPORT_SYMBOL_GPL(aarch64_insn_gen_move_reg);
RE_EXPORT = re.compile(r"^\s*EXPORT_SYMBOL\w*\(\s*(\w+)")


def _with_export(lines: Sequence[str], end: int, name: str) -> int:
    """``end`` moved past the ``EXPORT_SYMBOL*(name);`` line that follows a function (blank lines
    between them included), as modules calling it need it."""
    j = end
    while j < len(lines) and not lines[j].strip():
        j += 1
    m = RE_EXPORT.match(lines[j]) if j < len(lines) else None
    return j + 1 if m and m.group(1) == name else end


def find_prototype(text: str, name: str, path: str) -> Definition | None:
    """The declaration of function ``name`` in a header (tree-sitter: a declaration whose
    declarator is a function), with its comment; None when the header declares none."""
    lines = text.split("\n")
    for it in items(tuple(lines), "c"):
        if it.name == name and it.kind == "prototype":
            start = _with_comment(lines, it.start)
            return Definition(name, "prototype", path, start, tuple(lines[start:it.end]), line=it.start + 1)
    return None


def _ts_text(src: bytes, node) -> str:  # noqa: ANN001 - tree_sitter.Node
    return src[node.start_byte:node.end_byte].decode("utf-8", "surrogateescape")


def _field_name(src: bytes, node) -> str | None:  # noqa: ANN001
    """The field a declarator names, through pointers, arrays and bit-fields."""
    while node is not None:
        if node.type == "field_identifier":
            return _ts_text(src, node)
        if node.type == "function_declarator":
            node = node.child_by_field_name("declarator")
            continue
        nxt = node.child_by_field_name("declarator")
        if nxt is None:
            named = [c for c in node.named_children if c.type in ("field_identifier", "pointer_declarator",
                                                                   "array_declarator", "parenthesized_declarator")]
            nxt = named[0] if named else None
        node = nxt
    return None


def struct_fields(text: str, tag: str) -> tuple[tuple[int, int], list[tuple[str, int, int]]] | None:
    """For ``struct tag { ... }`` in ``text``: the 0-based lines of its ``{`` and ``}``, and
    (field name, first line, one past the last line) for every field, nested ``#ifdef`` blocks
    included. None when the text holds no body of that struct."""
    src = text.encode("utf-8", "surrogateescape")
    stack = [c_tree(text).root_node]
    while stack:
        node = stack.pop()
        if node.type in ("struct_specifier", "union_specifier"):
            nm, body = node.child_by_field_name("name"), node.child_by_field_name("body")
            if nm is not None and body is not None and _ts_text(src, nm) == tag:
                fields: list[tuple[str, int, int]] = []
                todo = list(body.named_children)
                while todo:
                    ch = todo.pop(0)
                    if ch.type == "field_declaration":
                        for d in ch.children_by_field_name("declarator"):
                            name = _field_name(src, d)
                            if name:
                                fields.append((name, ch.start_point.row, ch.end_point.row + 1))
                    elif ch.type.startswith("preproc_"):
                        todo[:0] = list(ch.named_children)
                return (body.start_point.row, body.end_point.row), fields
        stack.extend(reversed(node.children))
    return None


def _find_member(text: str, lines: Sequence[str], name: str, struct: str, path: str) -> Definition | None:
    tags = [struct] if struct else sorted({m.group(1) for m in re.finditer(r"\bstruct\s+(\w+)\s*\{", text)})
    for tag in tags:
        found = struct_fields(text, tag)
        if found is None:
            continue
        for fname, s, e in found[1]:
            if fname == name:
                start = _with_comment(lines, s)
                return Definition(name, "member", path, start, tuple(lines[start:e]), struct=tag, line=s + 1)
    return None


# ---------------------------------------------------------------- where it goes in the target


def find_insertion(target_text: str, upstream_text: str, d: Definition) -> tuple[int, tuple[str, ...], str]:
    """(0-based target line to insert before, the lines to insert, the anchor as evidence).

    Next to the nearest upstream neighbour the target also has: after the one before the
    definition, else before the one after it; a member among its struct's fields. Raises
    Refused when the target file offers no anchor."""
    t_lines = target_text.split("\n")
    u_lines = upstream_text.split("\n")
    if target_text.endswith("\n"):
        t_lines.pop()
    body = d.lines
    if d.kind == "member":
        return _member_insertion(target_text, upstream_text, d, t_lines)
    u_items = sorted((it for it in items(tuple(u_lines), "c") if it.name != d.name), key=lambda it: it.start)
    t_items: dict[str, tuple[int, int]] = {}
    for it in items(tuple(t_lines), "c"):
        t_items.setdefault(it.name, (it.start, it.end))
    end = d.start + len(d.lines)
    before = [it for it in u_items if it.end <= d.start]
    after = [it for it in u_items if it.start >= end]
    for it in reversed(before):
        if it.name in t_items:
            at = t_items[it.name][1]
            blank = any(not ln.strip() for ln in u_lines[it.end:d.start])
            return at, (("",) if blank else ()) + body, f"after {it.name} ({_where(t_lines, at - 1)})"
    for it in after:
        if it.name in t_items:
            at = _with_comment(t_lines, t_items[it.name][0])
            blank = any(not ln.strip() for ln in u_lines[end:it.start])
            return at, body + (("",) if blank else ()), f"before {it.name} ({_where(t_lines, at)})"
    if d.path.endswith(".h"):
        ends = [i for i, ln in enumerate(t_lines) if RE_ENDIF.match(ln)]
        if ends:
            return ends[-1], body + ("",), f"before the closing #endif ({_where(t_lines, ends[-1])})"
    incs = [i for i, ln in enumerate(t_lines) if RE_INCLUDE.match(ln)]
    if incs:
        return incs[-1] + 1, ("",) + body, f"after the last #include ({_where(t_lines, incs[-1])})"
    raise Refused(f"no neighbour of {d.display} upstream exists in the target's {d.path}")


def _where(lines: Sequence[str], i: int) -> str:
    i = max(0, min(i, len(lines) - 1))
    return f"line {i + 1}: {lines[i].strip()}" if lines else "line 1"


def _member_insertion(target_text: str, upstream_text: str, d: Definition,
                      t_lines: list[str]) -> tuple[int, tuple[str, ...], str]:
    up = struct_fields(upstream_text, d.struct)
    tg = struct_fields(target_text, d.struct)
    if up is None or tg is None:
        raise Refused(f"struct {d.struct} is not defined in the target's {d.path}")
    t_fields = {name: (s, e) for name, s, e in tg[1]}
    order = [name for name, _, _ in up[1]]
    k = order.index(d.name) if d.name in order else len(order)
    for name in reversed(order[:k]):
        if name in t_fields:
            at = t_fields[name][1]
            return at, d.lines, f"after member {name} ({_where(t_lines, at - 1)})"
    for name in order[k + 1:]:
        if name in t_fields:
            at = _with_comment(t_lines, t_fields[name][0])
            return at, d.lines, f"before member {name} ({_where(t_lines, at)})"
    return tg[0][1], d.lines, f"at the end of struct {d.struct} ({_where(t_lines, tg[0][1])})"


# ---------------------------------------------------------------- planning


def _wanted_from(findings: Sequence[Finding], *, needed_by: str = "", depth: int = 1) -> list[Wanted]:
    out = []
    for f in findings:
        # renamed-symbol: deps found a similar target name, but the upstream base defining this
        # very name decides (an API rename the kb table knows was already rewritten by then)
        if f.code == "api-missing" and (m := RE_OPEN_CODE.match(f.message)):
            # a kb API entry with no older spelling (list_count_nodes() before v6.3): the name
            # is as missing as deps would say, and upstream's definition is the prerequisite
            out.append(Wanted(m.group(1), "name", "", f.ref, needed_by, depth))
            continue
        if f.code not in ("missing-symbol", "renamed-symbol"):
            continue
        m = RE_MISSING.match(f.message)
        if not m:
            continue
        kind = {"struct member": "member", "type": "tag"}.get(m.group(2), "name")
        mm = RE_MEMBER_OF.match(f.message)
        out.append(Wanted(m.group(1), kind, mm.group(1) if mm else "", f.ref, needed_by, depth))
    return out


def _locate(w: Wanted, base: UpstreamBase, fix: Patch) -> list[Definition]:
    """The upstream definition of ``w`` (a static one of a .c file only in a file the fix
    touches: nothing else sees it) and, for a global function, its prototype in a header."""
    touched = [fp.old_path for fp in fix.files if fp.old_path and RE_C_PATH.search(fp.old_path)]
    paths = list(dict.fromkeys(touched + base.candidates(w.name, w.kind, w.struct)))[:MAX_CANDIDATE_FILES]
    for path in paths:
        text = base.read(path)
        if text is None or (w.kind != "member" and w.name not in text):
            continue
        d = find_definition(text, w.name, kind=w.kind, path=path, struct=w.struct)
        if d is None or (path.endswith(".c") and not d.is_global and path not in touched):
            continue
        if not d.is_global:
            return [d]
        for hpath in (p for p in paths if p.endswith(".h")):
            proto = find_prototype(base.read(hpath) or "", w.name, hpath)
            if proto is not None:
                return [proto, d]
        raise Refused(f"{w.name}() is a global function of {path} and no upstream header declares it",
                      f"upstream {path}:{d.line}")
    raise Refused(f"no definition of {w.name} found in the upstream base {base.location}")


def _needs_of(d: Definition, patch: Patch, tree: TargetTree, view: Series, fix: Patch, options: PortOptions,
              w: Wanted) -> list[Wanted]:
    """What the definition's own lines use that the target lacks (deps on the prereq patch, as
    the series would hold it: just before the fix)."""
    from . import deps

    checked = deps.check_patch(patch, tree, series=_insert_before(view, fix, [patch]),
                               options=replace(options, upstream=None, with_prereqs=False))
    return [replace(x, ref=w.ref) for x in _wanted_from(checked, needed_by=w.name, depth=w.depth + 1)
            if x.name != d.name]


def build_file_patch(defs: Sequence[Definition], tree: TargetTree,
                     base: UpstreamBase) -> tuple[tuple[FilePatch, ...], dict[str, str]]:
    """The diff that adds every definition of ``defs`` to the target's copy of its file, and
    the anchor each used ({"path:name": "after foo (line 12: ...)"})."""
    from .pipeline import render_file_diff
    from .series import parse_diff

    texts: dict[str, tuple[str, str]] = {}  # path -> (original, with the definitions so far)
    anchors: dict[str, str] = {}
    for d in defs:
        if d.path not in texts:
            original = tree.read(d.path)
            if original is None:
                raise Refused(f"{d.path} is not in the target: the whole file would be a prerequisite")
            texts[d.path] = (original, original)
        original, current = texts[d.path]
        at, new, anchors[f"{d.path}:{d.name}"] = find_insertion(current, base.read(d.path) or "", d)
        lines = current.split("\n")
        final = current.endswith("\n")
        if final:
            lines.pop()
        lines[at:at] = list(new)
        texts[d.path] = (original, "\n".join(lines) + ("\n" if final else ""))
    diff = "".join(render_file_diff(path, path, old, new) for path, (old, new) in texts.items())
    return parse_diff(diff, origin="prereq:" + "+".join(d.name for d in defs)), anchors


def _message(prs: Sequence[Prereq], fix: Patch, base: UpstreamBase,
             version: str) -> tuple[str, str, str, str, tuple[str, ...]]:
    """(subject, author, date, body, upstream ids) of one prerequisite patch."""
    shown = ", ".join(pr.definition.display for pr in prs if pr.definition.kind != "prototype") \
        or ", ".join(pr.definition.display for pr in prs)
    fix_id = fix.upstream_ids[0][:12] + " " if fix.upstream_ids else (f"{fix.message_id} " if fix.message_id else "")
    dep = f'Stable-dep-of: {fix_id}("{fix.subject}")'
    commit = prs[0].commit
    if commit is not None:
        from .render.mbox import split_trailers

        author, date, message = base.commit_message(commit.sha)
        text, trailers = split_trailers(message)
        rest = text.split("\n", 1)[1].strip("\n") if "\n" in text else ""
        body = "\n\n".join(x for x in (rest, "\n".join(x for x in (trailers, dep) if x)) if x)
        return commit.subject, author, date, body + "\n", (commit.sha,)
    d = prs[0].definition
    prefix = _subject_prefix(fix, d.path)
    why = "the git history gave no introducing commit" if base.is_git else "the upstream base is a plain tree"
    body = textwrap.fill(f"Upstream defines {shown} at {d.path}:{d.line} ({base.location}); the commit that "
                         f"added it is not known ({why}). \"{fix.subject}\" uses it and {version} lacks it, so "
                         "this patch adds it as upstream has it.", 72, break_on_hyphens=False,
                         break_long_words=False) + f"\n\n{dep}\n"
    return f"{prefix}: add {shown}", "", "", body, ()


def _subject_prefix(fix: Patch, path: str) -> str:
    """``list`` for include/linux/list.h (a shared header is its own subsystem), else the fix's
    own prefix (``foo: do x`` -> ``foo``) when the definition lives in a file the fix touches or
    in its subsystem, else the file's directory."""
    own = fix.subject.rsplit(": ", 1)[0] if ": " in fix.subject else ""
    touched = {fp.path for fp in fix.files}
    if path.startswith("include/linux/") and path not in touched:
        return path.removeprefix("include/linux/").removesuffix(".h")
    return own or path.rsplit("/", 1)[0]


def _version(tree: TargetTree) -> str:
    v = tree.kernel_version()
    return f"{v[0]}.{v[1]}" if v else "the target"


def _refusal(w: Wanted, reason: str, where: str, refs: tuple[str, ...] = ()) -> Finding:
    via = f" (needed by {w.needed_by})" if w.needed_by else ""
    return Finding("prerequisite-not-extracted", Severity.WARNING,
                   f"{w.name}{via}: not emitted as a prerequisite patch: {reason}", w.ref,
                   (where,) if where else (), "port the upstream commit that introduces it by hand first",
                   references=refs)


def plan_prereqs(result: PortResult, tree: TargetTree, view: Series,
                 options: PortOptions) -> tuple[list[list[Prereq]], list[Finding]]:
    """The prerequisite patches to emit, in order (each a group of definitions one upstream
    commit introduced, or a single definition), and findings for what cannot be taken."""
    fix = result.patch
    queue = _wanted_from(result.findings)
    if not queue or not options.upstream:
        return [], []
    try:
        base = UpstreamBase(options.upstream, fix, options)
    except Exception as e:  # noqa: BLE001 - an unreadable base (bad rev, no repo) is a finding, not a crash
        return [], [_refusal(w, f"the upstream base {options.upstream} cannot be read ({e})", "") for w in queue]
    chosen: dict[str, tuple[Prereq, list[str]]] = {}
    failed: dict[str, str] = {}
    findings: list[Finding] = []
    while queue:
        w = queue.pop(0)
        if w.name in chosen or w.name in failed:
            continue
        try:
            found = _locate(w, base, fix)
            d = found[-1]
            where = f"upstream {d.path}:{d.line}: {d.lines[d.line - 1 - d.start].strip()}"
            if len(d.lines) > MAX_LINES:
                raise Refused(f"{d.display} is {len(d.lines)} lines upstream (more than {MAX_LINES})", where)
            files, _ = build_file_patch(found, tree, base)
            subs = _needs_of(d, Patch(subject=f"add {d.name}", files=files), tree, view, fix, options, w)
            if subs and w.depth >= MAX_DEPTH:
                names = ", ".join(x.name for x in subs)
                raise Refused(f"{d.display} needs {names} too: more than {MAX_DEPTH} levels of prerequisites", where)
        except Refused as r:
            failed[w.name] = r.reason
            findings.append(_refusal(w, r.reason, r.where))
            continue
        commit = base.introducing(d)
        chosen[w.name] = (Prereq(w, d, commit), [x.name for x in subs])
        for extra in found[:-1]:  # a global function's prototype goes into the same patch
            chosen[f"{w.name}:{extra.kind}"] = (Prereq(w, extra, commit), [])
        queue.extend(subs)
    changed = True
    while changed:  # a definition whose own prerequisite failed would not build: drop it too
        changed = False
        for name, (pr, subs) in list(chosen.items()):
            bad = [x for x in subs if x in failed]
            if name.endswith(":prototype") and pr.wanted.name not in chosen:
                del chosen[name]  # its function was dropped
                changed = True
            elif bad:
                failed[name] = f"it needs {bad[0]}, which cannot be taken ({failed[bad[0]]})"
                findings.append(_refusal(pr.wanted, failed[name], f"upstream {pr.definition.path}:{pr.definition.line}",
                                         (pr.commit.sha,) if pr.commit else ()))
                del chosen[name]
                changed = True
    groups: dict[str, list[Prereq]] = {}
    for pr, _ in sorted(chosen.values(), key=lambda c: -c[0].wanted.depth):  # deepest first
        groups.setdefault(pr.commit.sha if pr.commit else pr.wanted.name, []).append(pr)
    return list(groups.values()), findings


# ---------------------------------------------------------------- porting them


def port_prereqs(result: PortResult, overlay: TargetTree, *, options: PortOptions,
                 view: Series) -> tuple[list[PortResult], list[Finding], Series]:
    """Emit and port the prerequisite patches of ``result``'s patch onto ``overlay`` (updated in
    place as each lands). Returns their results, the findings to add to the fix, and the series
    as the fix now sees it (the prerequisites inserted before it)."""
    from .adaptation import check_adaptations
    from .pipeline import port_patch

    fix = result.patch
    base_view = view if any(p is fix for p in view.patches) else replace(view, patches=(*view.patches, fix))
    planned, findings = plan_prereqs(result, overlay, base_view, options)
    if not planned:
        return [], findings, base_view
    base = UpstreamBase(options.upstream or "", fix, options)  # plan_prereqs read it already
    version = _version(overlay)
    results: list[PortResult] = []
    emitted: list[Patch] = []
    for prs in planned:
        defs = [pr.definition for pr in prs]
        try:  # built again: the overlay now holds the earlier prerequisites
            files, anchors = build_file_patch(defs, overlay, base)
        except Refused as r:
            findings += [_refusal(pr.wanted, r.reason, r.where) for pr in prs]
            continue
        subject, author, date, body, ids = _message(prs, fix, base, version)
        patch = Patch(subject=subject, files=files, author=author, date=date, body=body, upstream_ids=ids,
                      ref=SourceRef(f"{options.upstream}/{defs[0].path}", defs[0].line))
        # written against the target (not the upstream base): no 3-way base, no upstream history
        r = port_patch(patch, overlay, options=replace(options, upstream=None, with_prereqs=False),
                       series=_insert_before(base_view, fix, [*emitted, patch]))
        whole = prs[0].commit is None or base.added_lines(prs[0].commit.sha) <= sum(len(d.lines) + 1 for d in defs)
        placements = tuple(_mark(p, prs, anchors, version, whole) for p in r.placements)
        notes = [Finding("prerequisite-patch", Severity.NOTE,
                         f"{pr.definition.display}: taken from upstream {pr.definition.path}:{pr.definition.line} "
                         f"for \"{fix.subject}\"" + _introduced(pr), pr.wanted.ref,
                         (f"upstream {pr.definition.path}:{pr.definition.line}",
                          f"target {pr.definition.path}: {anchors.get(f'{pr.definition.path}:{pr.definition.name}', '?')}"),
                         "check it is the definition the fix expects (upstream may have changed it since)",
                         references=(pr.commit.sha,) if pr.commit else ()) for pr in prs]
        extra = [f for f in (*check_adaptations(placements), *notes) if f.code not in options.ignore]
        status = Status.REVIEW if r.status is Status.CLEAN else r.status
        r = replace(r, placements=placements, findings=(*r.findings, *extra), status=status)
        results.append(r)
        update = getattr(overlay, "update", None)
        if update is not None:
            update(r.new_files)
        emitted.append(patch)
        findings += [Finding("prerequisite-patch", Severity.NOTE,
                             f"{pr.definition.display}: added by the prerequisite patch \"{subject}\" before this one",
                             pr.wanted.ref, (f"upstream {pr.definition.path}:{pr.definition.line}",),
                             references=(pr.commit.sha,) if pr.commit else ()) for pr in prs]
    return results, findings, _insert_before(base_view, fix, emitted)


def _introduced(pr: Prereq) -> str:
    if pr.commit is None:
        return "; the commit that introduced it is not known"
    return f", introduced upstream by {pr.commit.sha[:12]} (\"{pr.commit.subject}\")"


def _mark(p: Placement, prs: Sequence[Prereq], anchors: dict[str, str], version: str, whole: bool) -> Placement:
    """An applied hunk of a prerequisite patch with one ``prereq`` Adaptation per definition it
    adds (``whole``: the upstream commit adds nothing else)."""
    if not p.applied or not p.placed:
        return p
    added = [ln.text for ln in p.hunk.added]
    marks = []
    for pr in prs:
        d = pr.definition
        head = d.lines[d.line - 1 - d.start]
        if head not in added:
            continue
        k = added.index(head) - (d.line - 1 - d.start)
        summary = f"{d.display} from upstream {d.path}:{d.line}; {version} lacks it"
        if pr.commit is not None:
            rest = "" if whole else ", not the rest of it"
            summary = f"take {d.display} from this commit ({d.path}:{d.line}){rest}"
        marks.append(Adaptation(
            "prereq", summary, upstream=tuple("+" + ln for ln in d.lines),
            port=tuple("+" + ln for ln in added[max(0, k):max(0, k) + len(d.lines)]),
            evidence=(f"upstream {d.path}:{d.line}: {head.strip()}", f"{p.path}: placed {anchors.get(f'{d.path}:{d.name}', '?')}"),
            path=p.path or d.path, line=p.start, ref=p.hunk.ref,
            references=(pr.commit.sha,) if pr.commit else ()))
    return replace(p, adaptations=tuple(marks)) if marks else p


def _insert_before(view: Series, fix: Patch, prereqs: Sequence[Patch]) -> Series:
    """``view`` with ``prereqs`` just before ``fix`` (the series as deps should see it)."""
    out: list[Patch] = []
    for p in view.patches:
        if p is fix:
            out.extend(prereqs)
        out.append(p)
    return replace(view, patches=tuple(out))


def port_with_prereqs(result: PortResult, overlay: TargetTree, *, options: PortOptions,
                      view: Series) -> tuple[list[PortResult], PortResult, Series]:
    """The pipeline's --with-prereqs step for one ported patch: (the prerequisite patches' results,
    the fix ported again on top of them with notes of what was added or refused, the series
    view with the prerequisites inserted before the fix)."""
    from .pipeline import port_patch

    pre, notes, view = port_prereqs(result, overlay, options=options, view=view)
    r = port_patch(result.patch, overlay, options=options, series=view) if pre else result
    notes = [f for f in notes if f.code not in options.ignore]
    if notes:
        status = r.status
        if status is Status.CLEAN and any(f.severity >= Severity.WARNING for f in notes):
            status = Status.REVIEW
        r = replace(r, findings=(*r.findings, *notes), status=status)
    return pre, r, view
