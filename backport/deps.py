"""Missing-dependency analysis (stage: deps): what a patch needs that the target lacks.

Inputs: a model.Patch, the TargetTree (possibly the pipeline's overlay), the Series it belongs
to, PortOptions (``upstream`` repo, vendor ``config``). Outputs: model.Finding values with the
stable codes ``missing-symbol``, ``renamed-symbol``, ``missing-kconfig``, ``missing-file``,
``not-built`` and, with an upstream repo, ``prerequisite-commit`` (see backport.upstream).

Method: the identifiers that added lines use (calls, macros, types, struct members, asm labels
and asm-offsets, CONFIG_ symbols, Makefile variables) minus what the target index defines where
the patched file can see it (a header, the file itself, a non-static definition of another .c
file: another .c file's macro or static name is missing, at WARNING severity), minus
what this and earlier patches of the series define, minus names any line of the patched target
file already uses (locals, parameters, labels), minus C keywords, compiler builtins and the C
library's names, is what is missing. Each missing name becomes a finding pointing at the patch
line that needs it, with a similar target name (rapidfuzz) when one exists.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from .apiadapt import rewritten_names
from .index import Definition, TreeIndex, file_class, find_cached_index, lazy_paths, load_index, scan_c
from .landing import Landing
from .model import Finding, LineKind, Patch, Placement, PortOptions, Series, Severity, TargetTree
from .needs import (  # re-exported: deps' public extraction API lives in backport.needs
    BUILTINS,
    C_KEYWORDS,
    LIBC,
    MAKE_BUILTINS,
    RE_WORD,
    Need,
    SeriesDefs,
    find_context_needs,
    find_edited_functions,
    find_needs,
    find_series_defs,
    strip_c,
)

__all__ = ["Need", "SeriesDefs", "base_tree", "check_patch", "check_series", "exit_status", "find_known_words",
           "find_needs", "find_series_defs", "get_index", "render_deps_json", "render_deps_text"]

# ------------------------------------------------------------------ the index in use

# one index per tree object (the pipeline keeps one tree for a whole series) and .config
_INDEXES: weakref.WeakKeyDictionary[object, dict[tuple[str, str], TreeIndex]] = weakref.WeakKeyDictionary()


def base_tree(tree: TargetTree) -> TargetTree:
    """The real tree under the pipeline's overlay."""
    seen = 0
    while hasattr(tree, "changes") and hasattr(tree, "tree") and seen < 5:
        tree = tree.tree  # type: ignore[attr-defined]
        seen += 1
    return tree


def get_index(tree: TargetTree, options: PortOptions | None = None, *, cache_dir: str | None = None,
              touched: Sequence[str] = ()) -> TreeIndex:
    """The (process-wide memoised) index of ``tree``.

    ``options.extra["deps-index"]``: ``whole`` (default) loads the cached whole-tree index or
    builds it once (~35 CPU-seconds on a kernel, one builder at a time across processes); every
    later run loads it in well under a second. ``lazy`` builds a partial in-memory index of what
    the ``touched`` paths need (include/, arch/*/include, their directories, Kconfig, Kbuild: a
    few seconds) and grows it patch after patch; its findings say "partial index" and are one
    severity lower. ``auto`` goes lazy only on a big tree that has no cached index yet.
    """
    base = base_tree(tree)
    config = options.config if options else None
    extra = options.extra if options else {}
    cache = cache_dir or extra.get("index-cache")
    mode = extra.get("deps-index", "whole")
    try:
        per_tree = _INDEXES.setdefault(base, {})
    except TypeError:  # not weak-referenceable: no memo
        per_tree = {}
    key = (config or "", cache or "")
    idx = per_tree.get(key)
    if idx is not None and idx.partial:
        idx.extend(lazy_paths_for(idx, touched))
        return idx
    if idx is None:
        if mode == "auto":
            big = type(base).__name__ in ("DirTree", "GitTree") and _is_big(base)
            mode = "lazy" if big and find_cached_index(base, cache_dir=cache) is None else "whole"
        if mode == "lazy":
            idx = load_index(base, config=config, paths=lazy_paths(base, touched))
            idx.lazy_dirs = set(_dirs_of(touched))
        else:
            idx = load_index(base, cache_dir=cache, config=config)
        per_tree[key] = idx
    return idx


def _is_big(tree: TargetTree, limit: int = 1500) -> bool:
    """More than ``limit`` directories (a kernel has ~5000) without listing files."""
    import os

    root = getattr(tree, "root", "")
    if type(tree).__name__ != "DirTree" or not os.path.isdir(root):
        return sum(1 for _ in tree.iter_paths()) > limit * 10
    n, stack = 0, [root]
    while stack and n <= limit:
        d = stack.pop()
        n += 1
        try:
            with os.scandir(d) as it:
                stack.extend(e.path for e in it if e.is_dir(follow_symlinks=False) and e.name != ".git")
        except OSError:
            continue
    return n > limit


def _dirs_of(paths: Iterable[str]) -> Iterator[str]:
    for t in paths:
        d = t.rsplit("/", 1)[0] if "/" in t else ""
        yield d
        yield d.rsplit("/", 1)[0] if "/" in d else ""


def lazy_paths_for(idx: TreeIndex, touched: Sequence[str]) -> list[str]:
    """Files of the touched directories a partial index has not seen yet."""
    seen = idx.lazy_dirs
    new = set(_dirs_of(touched)) - seen
    if not new:
        return []
    seen |= new
    by_dir = _PATHS_BY_DIR.get(idx)
    if by_dir is None:  # one walk of the tree per partial index
        by_dir = {}
        for p in idx.tree.iter_paths():
            if file_class(p):
                by_dir.setdefault(p.rsplit("/", 1)[0] if "/" in p else "", []).append(p)
        _PATHS_BY_DIR[idx] = by_dir
    return [p for d in new for p in by_dir.get(d, ())]


_PATHS_BY_DIR: weakref.WeakKeyDictionary[TreeIndex, dict[str, list[str]]] = weakref.WeakKeyDictionary()


# ------------------------------------------------------------------ checks


def find_known_words(patch: Patch, tree: TargetTree, placements: Sequence[Placement] = (),
                     moved: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Per patched path, every word the target file already uses (its locals, parameters,
    labels, includes' names). The words of the hunks' context and removed lines count only
    when the target file could not be read (a moved or missing file, already reported): a name
    the pre-image uses and the target's file does not is missing like any other, since that
    pre-image is not the target's."""
    placed = {p.file_index: p.path for p in placements if p.placed and p.path}
    out: dict[str, set[str]] = {}
    for fi, fp in enumerate(patch.files):
        words = out.setdefault(fp.path, set())
        read = False
        for path in (placed.get(fi), fp.old_path, (moved or {}).get(fp.path)):
            text = tree.read(path) if path else None
            if text:
                words.update(RE_WORD.findall(strip_c(text) if file_class(path or "") else text))
                read = True
                break
        if not read:
            for h in fp.hunks:
                for ln in h.lines:
                    if ln.kind is not LineKind.ADDED:
                        words.update(RE_WORD.findall(ln.text))
    return out


def _evidence_patch(need: Need) -> str:
    where = str(need.ref) if need.ref else need.path
    return f"{where}: +{need.text.strip()}"


def _is_userspace(path: str) -> bool:
    return path.startswith(("tools/", "scripts/", "samples/", "usr/", "Documentation/"))


def _known(idx: TreeIndex, need: Need, sdefs: SeriesDefs, words: set[str], has_c: bool,
           landing: Landing | None = None) -> bool:
    n = need.name
    own = (need.file_index, need.hunk_index)
    if n in C_KEYWORDS or n in BUILTINS or n.startswith("__builtin") or n.startswith("__UNIQUE_ID"):
        return True
    if _is_userspace(need.path) and (n in LIBC or not has_c):
        return True
    if need.kind == "member":
        return idx.has(n, members=True) or _provided(n, sdefs, landing, members=True, own=own)
    if n in words or not has_c:
        return True
    return _visible(idx, n, need.path) or need.kind == "name" and bool(idx.members(n)) or _generated(idx, n) or \
        _provided(n, sdefs, landing, own=own)


def _visible(idx: TreeIndex, name: str, path: str) -> bool:
    """The target defines ``name`` where ``path`` can see it: in a header (or any file not C
    source), in ``path`` itself, or non-static in another .c file. A macro of another .c file
    and a ``static`` function or variable there are that file's own (lib/iov_iter.c's static
    pipe_buf() in v6.1 is not the pipe_buf() of <linux/pipe_fs_i.h> that v6.5 added)."""
    if not idx.has(name):
        return False
    defs = idx.defines(name)
    return not defs or any(d.path == path or not d.path.endswith(".c") or
                           d.kind not in ("macro", "fmacro") and not _static(idx, d) for d in defs)


def _static(idx: TreeIndex, d: Definition) -> bool:
    """The definition at ``d`` is declared ``static`` (its line or the one before it says so)."""
    text = idx.tree.read(d.path) or ""
    lines = text.split("\n")[max(d.line - 2, 0):d.line]
    return bool(lines) and (re.match(r"\s*static\b", lines[-1]) is not None or
                            len(lines) > 1 and re.match(r"static\b", lines[0]) is not None and
                            not lines[0].rstrip().endswith((";", "}", "{")))


def _provided(name: str, sdefs: SeriesDefs, landing: Landing | None, *, members: bool = False,
              own: tuple[int, int] | None = None) -> bool:
    """The series defines ``name`` in a hunk that lands (every hunk counts without a Landing)."""
    if name not in sdefs.names and not (members and name in sdefs.members):
        return False
    return landing is None or landing.any_landed(sdefs.origins.get(name), own)


def _generated(idx: TreeIndex, name: str) -> bool:
    """``btrfs_root_ref_name_len`` made by ``BTRFS_SETGET_FUNCS(root_ref_name_len, ...)``: a
    file-level macro invocation declared the tail of the name (token pasting adds the head)."""
    parts = name.split("_")
    for k in range(1, min(4, len(parts))):
        tail = "_".join(parts[k:])
        if len(tail) >= 8 and "_" in tail and any(d.kind == "decl" and RE_ACCESSOR_MACRO.search(d.scope)
                                                  for d in idx.defines(tail)):
            return True
    return False


# BTRFS_SETGET_FUNCS   /   BTRFS_SETGET_STACK_FUNCS   /   DEFINE_ACCESSORS  (macros that paste names)
RE_ACCESSOR_MACRO = re.compile(r"SETGET|GETSET|FUNCS|ACCESSOR")


def _similar_hint(idx: TreeIndex, name: str) -> tuple[str, list[str]]:
    cands = idx.similar(name, limit=3, score_cutoff=85.0)
    if not cands:
        return "", []
    best = cands[0][0]
    where = [str(d) for d in idx.defines(best)[:2]]
    return best, where


def check_patch(patch: Patch, tree: TargetTree, *, placements: Sequence[Placement] = (),
                series: Series | None = None, options: PortOptions | None = None) -> tuple[Finding, ...]:
    """Findings for what ``patch`` needs that ``tree`` lacks."""
    idx = get_index(tree, options, touched=[fp.path for fp in patch.files])
    base = base_tree(tree)
    earlier: list[Patch] = []
    if series is not None:
        for p in series.patches:
            earlier.append(p)
            if p is patch:
                break
    if patch not in earlier:
        earlier.append(patch)
    sdefs = find_series_defs(earlier)
    landing = Landing(earlier, len(earlier) - 1, tree, base, placements)
    stats = idx.stats_cached()
    has_c, has_kconfig = stats["defs"] > 0, stats["kconfig"] > 0
    idx.refresh(fp.path for fp in patch.files if fp.old_path)
    findings: list[Finding] = []
    moved: dict[str, str] = {}
    findings.extend(_check_files(patch, tree, idx, placements, moved))
    findings.extend(_check_built(patch, idx))
    words_cache = find_known_words(patch, tree, placements, moved)
    reported: set[tuple[str, str]] = set()
    findings.extend(_check_edited(patch, idx, sdefs, landing, words_cache, has_c, reported))
    lines_with_missing_call: set[object] = set()
    types_cache: dict[tuple[int, int], dict[str, str]] = {}
    rewritten = rewritten_names(placements)  # names the API pass took out of the port
    for need in [*find_needs(patch), *_context_needs(patch)]:
        if need.name in rewritten:
            continue
        key = (need.kind if need.kind in ("kconfig", "makevar", "object", "header") else "c", need.name)
        if key in reported:
            continue
        if need.kind == "name" and need.ref in lines_with_missing_call:
            continue  # an argument of a missing macro (it may paste it): the call is the finding
        f = _check_need(need, idx, sdefs, tree, base, words_cache, has_c, has_kconfig, landing)
        if f is None and need.kind == "member" and has_c:
            f = _check_typed_member(need, patch, idx, sdefs, tree, placements, moved, types_cache)
        if f is not None and idx.partial and f.code in ("missing-symbol", "renamed-symbol"):
            f = _weakened(f, need)
        if f is not None:
            reported.add(key)
            findings.append(f)
            if need.kind == "call":
                lines_with_missing_call.add(need.ref)
    if options is not None and options.upstream and any(f.code in MISSING_CODES for f in findings):
        from .upstream import check_prerequisites, is_git_repo

        if is_git_repo(options.upstream):
            missing = [f for f in findings if f.code in MISSING_CODES]
            prereqs = check_prerequisites(patch, base, options.upstream, missing=missing,
                                          cache_dir=(options.extra or {}).get("index-cache"))
            findings = [_kconfig_upstream_git(f, patch, options.upstream, prereqs,
                                              cache_dir=(options.extra or {}).get("index-cache"))
                        if f.code == "missing-kconfig" else f for f in findings]
            findings.extend(prereqs)
        else:  # a plain upstream tree: say where it defines what the target lacks
            findings = [locate_upstream(f, options) if f.code in MISSING_CODES else f for f in findings]
    return tuple(findings)


def _context_needs(patch: Patch) -> Iterator[Need]:
    """CONFIG_ tests of the hunks' context that enclose added lines (needs.find_context_needs)."""
    for fi, fp in enumerate(patch.files):
        if fp.is_deleted or fp.is_binary:
            continue
        for hi, h in enumerate(fp.hunks):
            for n in find_context_needs(fp.path, h.lines):
                yield replace(n, file_index=fi, hunk_index=hi)


def _check_edited(patch: Patch, idx: TreeIndex, sdefs: SeriesDefs, landing: Landing, words: dict[str, set[str]],
                  has_c: bool, reported: set[tuple[str, str]]) -> Iterator[Finding]:
    """The function an unplaced hunk edits (named by its ``@@`` header or defined by a context
    line) that the target does not have at all, and no landing hunk of the series defines: the
    hunk has nothing to edit there, so the commit that adds the function is a prerequisite
    (a placed hunk found its code, whatever name the header gives)."""
    if not has_c:
        return
    for fi, fp in enumerate(patch.files):
        if fp.is_new or fp.is_deleted or _is_userspace(fp.path):
            continue
        for hi, h in enumerate(fp.hunks):
            for name, line in find_edited_functions(fp.path, h):
                key = ("c", name)
                if key in reported or name in words.get(fp.path, ()) or idx.has(name) or _generated(idx, name) \
                        or _provided(name, sdefs, landing, own=(fi, hi)):
                    continue
                if landing.landed(landing.current, fi, hi):
                    break  # the pre-image fits the target: whatever the header says, there is code to edit
                reported.add(key)
                ref = (line.ref if line is not None else None) or h.ref or fp.ref or patch.ref
                shown = line.text.strip() if line is not None else f"@@ {h.section.strip()}"
                ev = (f"{ref}: {shown}" if ref else shown, f"{fp.path}: the hunk edits {name}()")
                best, where = _similar_hint(idx, name)
                if best:
                    yield Finding("renamed-symbol", Severity.WARNING,
                                  f"{name}: function the hunk edits is not in the target; it has {best}",
                                  ref, (*ev, *where), f"upstream renamed or added {name}? port the hunk into {best}, "
                                  "or port the commit that introduces it first")
                    continue
                yield Finding("missing-symbol", Severity.ERROR,
                              f"{name}: function the hunk edits is defined neither in the target nor in the series",
                              ref, ev, f"port the commit that introduces {name} first (try --upstream REPO); "
                              "the hunk has nothing to edit until then")


def _kconfig_upstream_git(f: Finding, patch: Patch, repo: str, prereqs: Sequence[Finding], *,
                          cache_dir: str | None = None) -> Finding:
    """A missing-kconfig finding with where the upstream base's Kconfig defines the symbol
    (``git grep`` at the patch's base revision) and the commit that introduced it, when
    backport.upstream found one. ``cache_dir``: the cache the rest of the port uses."""
    import subprocess

    from .upstream import find_base_rev

    m = RE_FINDING_NAME.match(f.message)
    if not m:
        return f
    name = m.group(1)
    rev = find_base_rev(repo, patch, cache_dir=cache_dir)
    r = subprocess.run(["git", "-C", repo, "grep", "-n", "-E", rf"^\s*(menu)?config\s+{re.escape(name)}\s*$", rev,
                        "--", "*Kconfig*"], capture_output=True, text=True, check=False)
    where = [ln.split(":", 1)[1].rsplit(":", 1)[0] for ln in r.stdout.splitlines() if ln.count(":") >= 3][:2]
    evidence = [f"upstream {w}: config {name}" for w in where]
    refs: list[str] = []
    for p in prereqs:
        if f"introduces CONFIG_{name}" in p.message and p.references:
            commit = p.message.removeprefix("upstream commit ").split(" introduces ", 1)[0]
            evidence.append(f"introduced upstream by {commit}")
            refs.append(p.references[0])
    if not evidence:
        return f
    hint = f"upstream defines it at {where[0]}; " + f.hint if where else f.hint
    return replace(f, evidence=(*f.evidence, *evidence), hint=hint, references=(*f.references, *refs))


MISSING_CODES = ("missing-symbol", "missing-kconfig", "renamed-symbol")
# foo_helper: function or macro defined neither ...   /   CONFIG_FOO: Kconfig symbol ...
RE_FINDING_NAME = re.compile(r"^(?:CONFIG_)?([A-Za-z_]\w*): ")
_UPSTREAM_TREES: dict[str, TargetTree] = {}


def upstream_index(path: str, options: PortOptions | None = None) -> TreeIndex:
    """The index of a plain upstream tree (``--upstream DIR``): one tree object per path, so
    every stage that asks (deps, prereq) shares one memoised, cached index."""
    from .target import DirTree

    if path not in _UPSTREAM_TREES:
        _UPSTREAM_TREES[path] = DirTree(path)
    extra = options.extra if options else {}
    return get_index(_UPSTREAM_TREES[path], PortOptions(extra={k: v for k, v in extra.items()
                                                              if k == "index-cache"}))


def locate_upstream(f: Finding, options: PortOptions) -> Finding:
    """Add where a plain upstream tree (``--upstream DIR``) defines the missing name."""
    m = RE_FINDING_NAME.match(f.message)
    up = options.upstream or ""
    if not m or not up:
        return f
    uidx = upstream_index(up, options)
    name = m.group(1)
    if f.code == "missing-kconfig":
        k = uidx.kconfig(name)
        where = [f"{k.path}:{k.line}: config {k.name}"] if k else []
    else:
        defs = uidx.defines(name) or uidx.members(name)
        defs.sort(key=lambda d: (d.kind in ("decl", "export", "member"), d.path.startswith(("tools/", "arch/")), d.path))
        where = [str(d) for d in defs[:2]]
    if not where:
        return f
    first = where[0].split(": ", 1)[0]
    return replace(f, evidence=(*f.evidence, *(f"upstream {w}" for w in where)),
                   hint=f"upstream defines it at {first}; " + f.hint)


def _weakened(f: Finding, need: Need) -> Finding:
    """A finding from a partial (lazy) index: the name may live in a file it did not scan, so
    one severity lower and said so (a call to an undeclared function stays a warning)."""
    sev = Severity.WARNING if f.severity is Severity.ERROR or need.kind in ("call", "tag") else Severity.NOTE
    return replace(f, severity=sev, message=f.message + " (partial index)",
                   hint=f.hint + "; confirm with `backport deps`, which indexes the whole tree")


def _check_need(need: Need, idx: TreeIndex, sdefs: SeriesDefs, tree: TargetTree, base: TargetTree,
                words_cache: dict[str, set[str]], has_c: bool, has_kconfig: bool,
                landing: Landing | None = None) -> Finding | None:
    ev = _evidence_patch(need)
    if need.kind == "kconfig":
        name = need.name.removesuffix("_MODULE") if need.name.endswith("_MODULE") else need.name
        if not has_kconfig or name in sdefs.kconfig or need.name in sdefs.kconfig:
            return None
        if idx.kconfig(name) or idx.kconfig(need.name) or idx.has("CONFIG_" + need.name):
            return None
        if _is_userspace(need.path):
            return None
        near = idx.similar_kconfig(name)
        hint = f"the target has CONFIG_{near.name} ({near.path}:{near.line}); renamed?" if near else \
            "port the Kconfig entry that introduces it first, or drop the code it guards"
        msg = f"CONFIG_{name}: Kconfig symbol defined by no Kconfig file of the target"
        if need.guards is not None:  # a test in the hunk's context that encloses added lines
            ev = f"{need.ref or need.path}: {need.text.strip()} (context)"
            gl = need.guards
            msg += (f": the lines this hunk adds under `{need.text.strip()}` (its context) are never built there, "
                    "or always built under a negated test")
            return Finding("missing-kconfig", Severity.WARNING, msg, gl.ref or need.ref,
                           (ev, f"{gl.ref or need.path}: +{gl.text.strip()}"), hint)
        if file_class(need.path) in ("c", "asm-offsets", "asm", "kbuild"):
            msg += ": the code it guards is never built there (or always built, when the test is negated)"
        return Finding("missing-kconfig", Severity.WARNING, msg, need.ref, (ev,), hint)
    if need.kind == "makevar":
        n = need.name
        if n in MAKE_BUILTINS or n in sdefs.makevars or n.lower() == n or idx.makefile_vars(n) \
                or idx.makefile_vars(n + "*") or not has_kconfig:
            return None
        sev = Severity.NOTE if _is_userspace(need.path) else Severity.WARNING  # tools/: often set by the caller
        return Finding("missing-symbol", sev, f"{n}: Makefile variable set by no Makefile of the target",
                       need.ref, (ev,), "port the change that defines it (often in the top or arch Makefile)")
    if need.kind == "header":
        return _check_header(need, idx, sdefs, has_kconfig)
    if need.kind == "object":
        stem = need.name[:-2]
        exts = (".c", ".S", ".s", ".rs")
        if any(base.exists(stem + e) or stem + e in sdefs.files for e in exts) or base.exists(need.name) \
                or not has_kconfig or stem.rsplit("/", 1)[-1] in sdefs.makevars or \
                any(v.startswith(stem.rsplit("/", 1)[-1] + "-") for v in sdefs.makevars):
            return None
        if idx.makefile_vars(stem.rsplit("/", 1)[-1] + "-*"):  # composite object
            return None
        return Finding("missing-file", Severity.WARNING, f"{need.name}: no source for this object in the target or the series",
                       need.ref, (ev,), "port the patch that adds the source file first")
    words = words_cache.get(need.path, set())
    if _known(idx, need, sdefs, words, has_c, landing):
        return None
    what = {"call": "function or macro", "member": "struct member", "tag": "type", "asm": "assembly symbol",
            "name": "identifier"}[need.kind]
    if idx.has(need.name) and idx.defines(need.name):  # defined, but only in other files' scope
        where = [f"{d}{' (static)' if d.kind not in ('macro', 'fmacro') else ''}" for d in idx.defines(need.name)][:3]
        return Finding("missing-symbol", Severity.WARNING,
                       f"{need.name}: {what} the target defines only inside other .c files, out of "
                       f"{need.path}'s reach", need.ref, (ev, *where),
                       f"upstream made {need.name} visible later (a header): port that, or open-code it")
    best, where = _similar_hint(idx, need.name) if need.kind in ("call", "tag", "asm") else ("", [])
    what = {"call": "function or macro", "member": "struct member", "tag": "type", "asm": "assembly symbol",
            "name": "identifier"}[need.kind]
    if best:
        return Finding("renamed-symbol", Severity.WARNING,
                       f"{need.name}: {what} not defined in the target; it has {best}",
                       need.ref, (ev, *(f"{w}" for w in where)),
                       f"upstream renamed or added {need.name}? adapt the call to {best}, or port its introduction")
    sev = Severity.ERROR if need.kind in ("call", "tag") else Severity.WARNING
    if landing is not None and sdefs.origins.get(need.name):  # only unplaced hunks define it
        where = [_hunk_where(landing, o) for o in sorted(sdefs.origins[need.name])][:2]
        return Finding("missing-symbol", sev, f"{need.name}: {what} defined neither in the target nor in a placed "
                       f"hunk of the series (only {' and '.join(where)}, which fits nowhere in the target, defines it)",
                       need.ref, (ev, *(f"{w}: defines {need.name}, not placed" for w in where)),
                       f"place that hunk by hand, or port the commit that introduces {need.name} first")
    return Finding("missing-symbol", sev, f"{need.name}: {what} defined neither in the target nor in the series",
                   need.ref, (ev,), f"port the commit that introduces {need.name} first (try --upstream REPO)")


def _hunk_where(landing: Landing, origin: tuple[int, int, int]) -> str:
    """``series.mbox:40 (hunk 2 of drivers/x.c)`` for an origin of SeriesDefs."""
    pi, fi, hi = origin
    fp = landing.patches[pi].files[fi]
    h = fp.hunks[hi]
    return f"{h.ref or fp.ref or fp.path} (hunk {hi + 1} of {fp.path})"


def _hunk_types(patch: Patch, fi: int, hi: int, tree: TargetTree, placements: Sequence[Placement],
                moved: dict[str, str]) -> dict[str, str]:
    """{variable: struct tag} for hunk ``hi`` of file ``fi``: the enclosing target function (by
    the hunk header's function name, else the placement line) through tree-sitter, then the
    declarations the hunk's own post-image writes."""
    from .scope import find_declared_in_lines, find_variable_types, merge_types

    fp = patch.files[fi]
    h = fp.hunks[hi]
    placed = next((p for p in placements if p.file_index == fi and p.hunk_index == hi and p.placed), None)
    path = (placed.path if placed else None) or (fp.old_path if fp.old_path and tree.exists(fp.old_path) else None) \
        or moved.get(fp.path)
    types: dict[str, str] = {}
    m = RE_SECTION_FUNC.search(h.section or "")
    if path and (m or placed):
        text = tree.read(path) or ""
        if text:
            fn = m.group(1) if m else ""
            if fn and placed and not re.search(rf"\b{re.escape(fn)}\s*\(", text):
                fn = ""  # the target's function is named otherwise: the one the hunk landed in
            line = placed.start + len(h.old_lines) // 2 if placed else 0
            types = find_variable_types(text, line, function=fn)
    return merge_types(types, find_declared_in_lines(list(h.new_lines)))


def _check_typed_member(need: Need, patch: Patch, idx: TreeIndex, sdefs: SeriesDefs, tree: TargetTree,
                        placements: Sequence[Placement], moved: dict[str, str],
                        cache: dict[tuple[int, int], dict[str, str]]) -> Finding | None:
    """``var->member`` where ``var``'s struct is known: the member must be in that struct (a
    member the series adds somewhere is left to _known, which asks whether its hunk landed)."""
    if need.name in sdefs.members or need.file_index < 0 or file_class(need.path) not in ("c", "asm-offsets"):
        return None
    rx = re.compile(r"(?:^|[^\w.>\])])\s*([A-Za-z_]\w*)\s*(?:->|\.)\s*(?:([A-Za-z_]\w*)\s*(?:->|\.)\s*)?"
                    + re.escape(need.name) + r"\b")
    m = rx.search(strip_c(need.text))
    if not m:
        return None
    key = (need.file_index, need.hunk_index)
    if key not in cache:
        cache[key] = _hunk_types(patch, need.file_index, need.hunk_index, tree, placements, moved)
    tag = cache[key].get(m.group(1))
    who = m.group(1)
    if tag and m.group(2):  # var->inner.member: the struct the inner member is, declared in var's struct
        tag, who = _member_tag(idx, tag, m.group(2)), m.group(0).strip(" \t(!*&=,;")
        who = who[:who.rfind(need.name)].rstrip(" \t.->") if need.name in who else who
    if not tag:
        return None
    members = idx.members_of(tag)
    if not members or need.name in members or _macro_member(idx, members, need.name) or any(
            d.kind in ("macro", "fmacro") and (d.path == need.path or not d.path.endswith(".c"))
            for d in idx.defines(need.name)):
        return None  # unknown struct, a member, a macro aliasing one (#define sk_state ...), or one
        # a macro of the body declares (__SIGINFO); a function named so (the mlock() syscall) or
        # another .c file's macro aliases no member
    where = [str(d) for d in idx.defines(tag) if d.kind in ("struct", "union")][:2]
    return Finding("missing-symbol", Severity.WARNING,
                   f"{need.name}: struct member not in struct {tag} of the target ({who} is a struct {tag})",
                   need.ref, (_evidence_patch(need), *where),
                   f"port the commit that adds {need.name} to struct {tag} first")


def _member_tag(idx: TreeIndex, tag: str, member: str) -> str | None:
    """The struct/union tag of member ``member`` of ``struct tag`` (``struct pstate_data pstate;``
    in struct cpudata -> pstate_data), read from its declaration in the struct's body; None when
    unknown or declared more than one way."""
    rx = re.compile(rf"\b(?:struct|union)\s+([A-Za-z_]\w*)\s*\**\s*{re.escape(member)}\s*[;,\[]")
    found = set()
    for d in idx.members(member):
        if d.scope != tag:
            continue
        lines = (idx.tree.read(d.path) or "").split("\n")
        for ln in lines[max(0, d.line - 1):d.line + 400]:  # the member's line or its struct's, to "};"
            if mm := rx.search(ln):
                found.add(mm.group(1))
                break
            if ln.startswith("}"):
                break
    return found.pop() if len(found) == 1 else None


def _macro_member(idx: TreeIndex, words: set[str], member: str) -> bool:
    """A macro the struct body names (``struct kernel_siginfo { __SIGINFO; }``) spells ``member``."""
    rx = re.compile(rf"\b{re.escape(member)}\b")
    for w in words:
        for d in idx.defines(w) if re.fullmatch(r"_*[A-Z][A-Z0-9_]*", w) else ():
            if d.kind not in ("macro", "fmacro"):
                continue
            lines = (idx.tree.read(d.path) or "").split("\n")[d.line - 1:]
            end = next((i for i, ln in enumerate(lines) if not ln.rstrip().endswith("\\")), len(lines) - 1)
            if rx.search("\n".join(lines[:end + 1])):
                return True
    return False


def _header_known(idx: TreeIndex, need: Need, sdefs: SeriesDefs) -> bool:
    spec, inner = need.name, need.name[1:-1]
    if spec.startswith("<"):
        if "/" not in inner or inner.startswith(("generated/", "config/")) or _is_userspace(need.path):
            return True  # compiler/libc headers, generated ones
        cands = [f"include/{inner}", f"include/uapi/{inner}"]
        if any(idx.has_file(c) or c in sdefs.files for c in cands):
            return True
        base = inner.rsplit("/", 1)[-1]
        if inner.startswith("asm/") and (idx.has_file(f"include/asm-generic/{base}") or idx.makefile_vars("generic-y")
                                         and any(base in v.value.split() for v in idx.makefile_vars("generic-y"))):
            return True  # arch headers that Kbuild generates from asm-generic
        return any(p.endswith("/include/" + inner) or p.endswith("/include/uapi/" + inner) or p.endswith("/" + inner)
                   for p in [*idx.paths_named(base), *sdefs.files])
    d = need.path.rsplit("/", 1)[0] if "/" in need.path else ""
    rel = posixpath.normpath(posixpath.join(d, inner))
    if idx.has_file(rel) or rel in sdefs.files:
        return True
    base = inner.rsplit("/", 1)[-1]  # found through -I: anywhere with that tail
    return any(p.endswith("/" + inner) or p == inner for p in [*idx.paths_named(base), *sdefs.files])


def _check_header(need: Need, idx: TreeIndex, sdefs: SeriesDefs, has_kconfig: bool) -> Finding | None:
    """An added ``#include`` of a header the target lacks: moved (same name elsewhere) or new."""
    if not has_kconfig or _header_known(idx, need, sdefs):
        return None
    base = need.name[1:-1].rsplit("/", 1)[-1]
    elsewhere = idx.paths_named(base)[:3]
    ev = (_evidence_patch(need), *(f"{p}: a header of that name" for p in elsewhere))
    if elsewhere:
        return Finding("missing-file", Severity.WARNING, f"{need.name}: header not found where the include points; "
                       f"the target has {elsewhere[0]}", need.ref, ev,
                       f"the header moved? include {elsewhere[0].removeprefix('include/')} instead, or port the move")
    return Finding("missing-file", Severity.ERROR, f"{need.name}: header the target does not have", need.ref, ev,
                   "port the commit that adds the header first")


def _check_files(patch: Patch, tree: TargetTree, idx: TreeIndex, placements: Sequence[Placement],
                 moved_to: dict[str, str]) -> Iterator[Finding]:
    """missing-file for modified files the target lacks; ``moved_to`` gets {patch path: guess}."""
    placed_paths = {p.file_index: p.path for p in placements if p.placed and p.path}
    for fi, fp in enumerate(patch.files):
        if fp.is_new or fp.old_path is None:
            continue
        if tree.exists(fp.old_path):
            continue
        moved = placed_paths.get(fi)
        cands = [p for p in idx.paths_named(fp.old_path.rsplit("/", 1)[-1]) if p != fp.old_path]
        generic = file_class(fp.old_path) in ("kconfig", "kbuild") or len(cands) > 3  # Makefile, core.c ...
        near = [] if generic else [p for p in cands if _nearby(fp.old_path, p)]
        holders: dict[str, int] = {}
        for name in _names_held(fp):
            places = {d.path for d in idx.defines(name) if d.kind in HELD_KINDS}
            if len(places) <= 3:  # distinctive: a name defined everywhere says nothing
                for path in places:
                    holders[path] = holders.get(path, 0) + 1
        need = 2 if len(holders) > 1 or sum(holders.values()) > 1 else 1  # one shared name is no evidence
        by_funcs = [p for p in sorted(holders, key=lambda p: -holders[p])[:2] if holders[p] >= need]
        evidence = [f"{fp.ref or patch.ref}: modifies {fp.old_path}"]
        if moved:
            evidence.append(f"{moved}: the hunks were placed here")
        evidence += [f"{c}: same file name" for c in cands[:3]]
        evidence += [f"{c}: defines {holders[c]} of the names the hunks' pre-image holds" for c in by_funcs]
        guess = moved or (by_funcs[0] if by_funcs else (near[0] if len(near) == 1 else ""))
        if guess:
            moved_to[fp.path] = guess
            msg = f"{fp.old_path} does not exist in the target; it seems moved or renamed to {guess}"
            hint = f"port the hunks to {guess}"
        else:
            msg = f"{fp.old_path} does not exist in the target: the whole file is a prerequisite"
            hint = "port the commit that adds this file first, or drop the change"
        yield Finding("missing-file", Severity.WARNING, msg, fp.ref or patch.ref, tuple(evidence), hint)


RE_SECTION_FUNC = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def _nearby(old: str, new: str) -> bool:
    """A same-named file is a likely move when it stays in the same top directory and one
    directory contains the other (kernel/x.c -> kernel/sub/x.c), or keeps its parent's name."""
    od, nd = posixpath.dirname(old), posixpath.dirname(new)
    if od.split("/")[0] != nd.split("/")[0]:
        return False
    return od.startswith(nd + "/") or nd.startswith(od + "/") or od == nd or \
        posixpath.basename(od) == posixpath.basename(nd)


HELD_KINDS = frozenset({"function", "struct", "union", "enum", "macro", "fmacro", "variable", "typedef"})


def _names_held(fp) -> list[str]:  # noqa: ANN001
    """What a patched file holds, as far as its hunks show: the functions the hunk headers
    name and what the pre-image lines define (functions, types, macros, globals)."""
    names = []
    for h in fp.hunks:
        m = RE_SECTION_FUNC.search(h.section or "")
        if m:
            names.append(m.group(1))
        if file_class(fp.old_path or "") in ("c", "asm-offsets"):
            pre = ("\n" + "\n".join(h.old_lines) + "\n").encode("utf-8", "surrogateescape")
            names.extend(n for n, kind, _, _ in scan_c(pre) if kind in HELD_KINDS)
    return list(dict.fromkeys(names))


def _check_built(patch: Patch, idx: TreeIndex) -> Iterator[Finding]:
    if idx.config is None:
        return
    for fp in patch.files:
        if fp.is_deleted or file_class(fp.path) not in ("c", "asm", "asm-offsets") or fp.path.endswith(".h"):
            continue
        chain = idx.gating_configs(fp.path)
        if not chain:
            continue
        off = [(c, mv) for c, mv in chain if idx.config.get(c, "n") not in ("y", "m")]
        if off:
            c, mv = off[0]
            yield Finding("not-built", Severity.NOTE,
                          f"{fp.path} is not built with the vendor .config: CONFIG_{c} is {idx.config.get(c, 'not set')}",
                          fp.ref or patch.ref, (f"{mv.path}:{mv.line}: {mv.name} {mv.op} {mv.value}",),
                          "the change cannot be tested in this build; check whether it is needed at all")


# ------------------------------------------------------------------ series entry and rendering


def check_series(series: Series, tree: TargetTree, *, options: PortOptions | None = None,
                 ) -> tuple[tuple[Patch, tuple[Finding, ...]], ...]:
    """deps findings for every patch of ``series`` (what ``backport deps`` prints)."""
    ignore = set(options.ignore) if options else set()
    out = []
    for patch in series.patches:
        if patch.is_cover:
            continue
        found = check_patch(patch, tree, series=series, options=options)
        out.append((patch, tuple(f for f in found if f.code not in ignore)))
    return tuple(out)


def render_deps_text(results: Sequence[tuple[Patch, Sequence[Finding]]]) -> str:
    """One block per patch: ``path:line: severity: code: message`` then evidence and hint."""
    lines = []
    for patch, findings in results:
        n = f"[{patch.number}/{patch.total}] " if patch.number and patch.total else ""
        lines.append(f"{n}{patch.subject}: {len(findings) or 'no'} finding(s)")
        for f in findings:
            where = f"{f.ref}: " if f.ref else ""
            lines.append(f"  {where}{f.severity}: {f.code}: {f.message}")
            lines.extend(f"      {e}" for e in f.evidence)
            if f.hint:
                lines.append(f"      hint: {f.hint}")
    prereq = [f for _, fs in results for f in fs if f.code == "prerequisite-commit"]
    if prereq:
        lines.append("prerequisite commits, in order:")
        seen: set[str] = set()
        for f in prereq:
            sha = f.references[0] if f.references else ""
            if sha not in seen:
                seen.add(sha)
                lines.append(f"  {f.message}")
    return "\n".join(lines) + "\n"


def render_deps_json(results: Sequence[tuple[Patch, Sequence[Finding]]]) -> str:
    import json

    from .model import SCHEMA_VERSION

    doc = {"schema_version": SCHEMA_VERSION, "patches": [
        {"subject": p.subject, "number": p.number, "findings": [
            {"code": f.code, "severity": str(f.severity), "message": f.message,
             "ref": str(f.ref) if f.ref else None, "evidence": list(f.evidence), "hint": f.hint,
             "references": list(f.references)} for f in fs]} for p, fs in results]}
    return json.dumps(doc, indent=2) + "\n"


def exit_status(results: Sequence[tuple[Patch, Sequence[Finding]]], *, fail_on: str = "error") -> int:
    """1 when a finding is at or above ``fail_on`` (error|warning|note), else 0; never -> 0."""
    if fail_on == "never":
        return 0
    floor = {"error": Severity.ERROR, "warning": Severity.WARNING, "note": Severity.NOTE}[fail_on]
    return 1 if any(f.severity >= floor for _, fs in results for f in fs) else 0
