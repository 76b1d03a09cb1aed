"""Knowledge-base checks (stage: kb): kb rules x (patch, target tree) -> Findings.

Inputs: a ``model.Patch`` (its files, added and removed lines), the ``model.TargetTree`` it
is ported onto, the whole ``Series`` (for ``unless`` conditions: "the series already does
it") and ``PortOptions`` (``kb_dirs`` adds user rule directories, ``ignore`` silences codes,
``extra["arch"]`` / ``extra["compiler"]`` give what the tree cannot tell).
Outputs: a tuple of ``model.Finding`` with ``code == rule == <rule id>``, the rule's severity,
message (placeholders filled with the evidence), hint, checklist item, references and the
evidence lines (``series.mbox:12: +line`` in the patch, ``path:line: text`` in the target).

A rule fires when its ``when`` holds on the patch, its ``unless`` does not hold on the series,
and every check of its ``check`` block fires on the tree (a rule without checks fires on
``when`` alone). The vocabulary is documented in kb/README.md; rules are data in kb/rules/.
"""

from __future__ import annotations

import fnmatch
import os
import re
import weakref
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .model import FilePatch, Finding, HunkLine, Patch, Placement, PortOptions, Series, SourceRef, TargetTree

# #ifdef CONFIG_OLD_MCOUNT   /   # if defined(CONFIG_X)   /   #endif
RE_CPP = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")
# config STRICT_KERNEL_RWX   /   menuconfig FTRACE
RE_KCONFIG_DEF = re.compile(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$")
# 4.9.0 or 6.1.187
RE_COMPILER = re.compile(r"^\s*(gcc|clang)\s*[- ]?\s*(\d+(?:\.\d+){0,2})\s*$", re.I)
#: how many evidence lines of one kind a finding carries at most (the message gives the count)
MAX_EVIDENCE = 40
#: how many patch lines are quoted as evidence
MAX_PATCH_EVIDENCE = 3


# ---------------------------------------------------------------- target tree scanning


class TreeScan:
    """Lazy, cached reads of a target tree: path list, globbing, grep, Kconfig definitions."""

    def __init__(self, tree: TargetTree) -> None:
        self.tree = tree
        self._paths: tuple[str, ...] | None = None
        self._lines: dict[str, tuple[str, ...] | None] = {}
        self._globs: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._kconfig: dict[str, list[tuple[str, int]]] | None = None
        self._arches: tuple[str, ...] | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        if self._paths is None:
            self._paths = tuple(self.tree.iter_paths())
        return self._paths

    def glob(self, patterns: Sequence[str], arches: Collection[str] = ()) -> tuple[str, ...]:
        """Tree paths matching any glob (``*`` and ``**`` both cross ``/``), in tree order;
        with ``arches``, paths under another ``arch/<name>/`` are left out."""
        found = self._glob(patterns)
        return tuple(p for p in found if in_arches(p, arches)) if arches else found

    def _glob(self, patterns: Sequence[str]) -> tuple[str, ...]:
        key = tuple(patterns)
        if key not in self._globs:
            exact = [p for p in patterns if not any(c in p for c in "*?[")]
            wild = [p for p in patterns if p not in exact]
            found = {p for p in exact if self.tree.exists(p)}
            for pat in wild:
                prefix = re.split(r"[*?\[]", pat, maxsplit=1)[0]
                found.update(p for p in self.paths if p.startswith(prefix) and fnmatch.fnmatchcase(p, pat))
            self._globs[key] = tuple(sorted(found))
        return self._globs[key]

    def lines(self, path: str) -> tuple[str, ...]:
        if path not in self._lines:
            text = self.tree.read(path)
            self._lines[path] = None if text is None else tuple(text.splitlines())
        return self._lines[path] or ()

    def grep(self, patterns: Sequence[str], regex: re.Pattern[str], *, within_ifdef: re.Pattern[str] | None = None,
             arches: Collection[str] = ()) -> list[tuple[str, int, str, str]]:
        """(path, line, text, enclosing directive) of every matching line."""
        hits = []
        for path in self.glob(patterns, arches):
            stack: list[tuple[str, int]] = []
            for n, text in enumerate(self.lines(path), 1):
                m = RE_CPP.match(text)
                if m:
                    kind = m.group(1)
                    if kind in ("if", "ifdef", "ifndef"):
                        stack.append((text.strip(), n))
                    elif kind in ("elif", "else") and stack:
                        stack[-1] = (f"#{kind} (of {stack[-1][0]})", n) if kind == "else" else (text.strip(), n)
                    elif kind == "endif" and stack:
                        stack.pop()
                if not regex.search(text):
                    continue
                if within_ifdef is not None:
                    inside = [s for s in stack if within_ifdef.search(s[0])]
                    if not inside:
                        continue
                    hits.append((path, n, text.strip(), f"{inside[-1][0]} at line {inside[-1][1]}"))
                else:
                    hits.append((path, n, text.strip(), ""))
        return hits

    def kconfig(self) -> dict[str, list[tuple[str, int]]]:
        """Kconfig symbol -> every (file, line) defining it, over every Kconfig* file."""
        if self._kconfig is None:
            defs: dict[str, list[tuple[str, int]]] = {}
            for path in self.paths:
                if not path.rsplit("/", 1)[-1].startswith("Kconfig"):
                    continue
                for n, text in enumerate(self.lines(path), 1):
                    m = RE_KCONFIG_DEF.match(text)
                    if m:
                        defs.setdefault(m.group(1), []).append((path, n))
            self._kconfig = defs
        return self._kconfig

    def kconfig_defs(self, symbol: str, arches: Collection[str] = ()) -> list[tuple[str, int]]:
        return [d for d in self.kconfig().get(symbol, ()) if not arches or in_arches(d[0], arches)]

    def arches(self) -> tuple[str, ...]:
        """The architectures under ``arch/`` (a directory holding at least one file there);
        computed once per scan and shared by every scan of the same tree identity."""
        if self._arches is None:
            key = _arch_key(self.tree)
            cached = _ARCHES.get(key) if key is not None else None
            if cached is None:
                cached = _dir_arches(self.tree) if key is not None and key[0] == "dir" else None
                if cached is None:
                    cached = tuple(sorted({p.split("/")[1] for p in self.paths
                                           if p.startswith("arch/") and p.count("/") >= 2}))
                if key is not None:
                    _ARCHES[key] = cached
            self._arches = cached
        return self._arches


#: arches per tree identity (see _arch_key): a new tree object of the same tree reuses them
_ARCHES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _arch_key(tree: TargetTree) -> tuple[str, ...] | None:
    """A cheap identity under which a tree's arches may be cached: a git tree id, or a plain
    directory's root with the mtimes of it and its ``arch/`` (adding or removing an
    architecture changes them); None for other trees (memory, overlays)."""
    kind = type(tree).__name__
    root = getattr(tree, "root", None)
    if kind == "GitTree":
        return ("git", tree.identity())
    if kind == "DirTree" and isinstance(root, str):
        stamps = []
        for d in (root, os.path.join(root, "arch")):
            try:
                stamps.append(str(os.stat(d).st_mtime_ns))
            except OSError:
                stamps.append("-")
        return ("dir", os.path.realpath(root), *stamps)
    return None


def _dir_arches(tree: TargetTree) -> tuple[str, ...] | None:
    """The arches of a plain directory from one listing of ``arch/`` (no walk of the tree)."""
    top = os.path.join(str(getattr(tree, "root", "")), "arch")
    try:
        with os.scandir(top) as it:
            dirs = [e for e in it if e.is_dir(follow_symlinks=False)]
        names = []
        for e in dirs:
            with os.scandir(e.path) as sub:
                if next(iter(sub), None) is not None:
                    names.append(e.name)
    except FileNotFoundError:
        return ()
    except OSError:
        return None
    return tuple(sorted(names))


class OverlayScan(TreeScan):
    """A TreeScan of a base tree seen through pending changes (the pipeline's Overlay):
    the base's reads and globs stay cached, only the changed paths are looked at again."""

    def __init__(self, tree: TargetTree, base: TreeScan, changes: Mapping[str, str | None]) -> None:
        super().__init__(tree)
        self.base = base
        self.changes = dict(changes)

    @property
    def paths(self) -> tuple[str, ...]:
        if self._paths is None:
            paths = set(self.base.paths)
            for p, text in self.changes.items():
                (paths.add if text is not None else paths.discard)(p)
            self._paths = tuple(sorted(paths))
        return self._paths

    def _glob(self, patterns: Sequence[str]) -> tuple[str, ...]:
        key = tuple(patterns)
        if key not in self._globs:
            found = set(self.base._glob(patterns))
            for p, text in self.changes.items():
                if _match_any(patterns, p):
                    (found.add if text is not None else found.discard)(p)
            self._globs[key] = tuple(sorted(found))
        return self._globs[key]

    def lines(self, path: str) -> tuple[str, ...]:
        if path in self.changes:
            if path not in self._lines:  # split when first asked (most rules read none of them)
                text = self.changes[path]
                self._lines[path] = None if text is None else tuple(text.splitlines())
            return self._lines[path] or ()
        return self.base.lines(path)

    def arches(self) -> tuple[str, ...]:
        if not any(p.startswith("arch/") for p in self.changes):
            return self.base.arches()
        return super().arches()

    def kconfig(self) -> dict[str, list[tuple[str, int]]]:
        if not any(p.rsplit("/", 1)[-1].startswith("Kconfig") for p in self.changes):
            return self.base.kconfig()
        return super().kconfig()


def in_arches(path: str, arches: Collection[str]) -> bool:
    """False only for a path under ``arch/<name>/`` with a name not in ``arches``."""
    if not path.startswith("arch/"):
        return True
    parts = path.split("/", 2)
    return len(parts) < 3 or parts[1] in arches


_SCANS: weakref.WeakKeyDictionary[Any, TreeScan] = weakref.WeakKeyDictionary()


def find_scan(tree: TargetTree) -> TreeScan:
    """The cached TreeScan of ``tree`` (one per tree object); a tree seen through pending
    changes (an object with ``tree`` and ``changes``, like pipeline.Overlay) shares the
    base tree's cache."""
    changes = getattr(tree, "changes", None)
    base_tree = getattr(tree, "tree", None)
    if isinstance(changes, dict) and base_tree is not None:
        return OverlayScan(tree, find_scan(base_tree), changes)
    try:
        scan = _SCANS.get(tree)
        if scan is None:
            scan = _SCANS[tree] = TreeScan(tree)
        return scan
    except TypeError:  # not weak-referenceable
        return TreeScan(tree)


# ---------------------------------------------------------------- patch side


@dataclass
class _Outcome:
    """What evaluating one rule gathered."""

    patch_evidence: list[str] = field(default_factory=list)
    tree_evidence: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # captured names the tree lacks
    captured: list[str] = field(default_factory=list)
    ref: SourceRef | None = None
    count: int = 0
    files: set[str] = field(default_factory=set)
    shown: list[str] = field(default_factory=list)  # tree_show lines (evidence, not {count})


def _match_any(globs: Sequence[str], path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in globs)


def _touched(fp: FilePatch) -> tuple[str, ...]:
    return tuple(p for p in (fp.old_path, fp.new_path) if p)


def _lines(patches: Iterable[Patch], added: bool, globs: Sequence[str] | None) -> Iterator[tuple[FilePatch, HunkLine]]:
    for patch in patches:
        for fp in patch.files:
            if globs and not any(_match_any(globs, p) for p in _touched(fp)):
                continue
            for hunk in fp.hunks:
                for ln in hunk.added if added else hunk.removed:
                    yield fp, ln


def _quote(fp: FilePatch, ln: HunkLine) -> str:
    where = str(ln.ref) if ln.ref is not None else fp.path
    return f"{where}: {ln.kind.value}{ln.text.strip()} ({fp.path})"


def _arches(patch: Patch, series: Series | None, scan: TreeScan, options: PortOptions | None) -> set[str]:
    def of(patches: Iterable[Patch]) -> set[str]:
        return {p.split("/")[1] for pt in patches for fp in pt.files for p in _touched(fp)
                if p.startswith("arch/") and p.count("/") >= 2}

    found = of([patch]) or (of(series.patches) if series is not None else set())
    if found:
        return found
    if options is not None and options.extra.get("arch"):
        return {options.extra["arch"]}
    tree_arches = scan.arches()
    return set(tree_arches) if len(tree_arches) == 1 else set()


def _condition(cond: Mapping[str, Any], patches: Sequence[Patch], out: _Outcome | None, *,
               arches: set[str] | None = None, version: tuple[int, int, int] | None = None) -> bool:
    """Does ``cond`` hold on ``patches``? Gathers patch evidence and captures into ``out``."""
    from kb.loader import version_matches

    if "arch" in cond and arches is not None and not arches & set(cond["arch"]):
        return False
    if "target_version" in cond and version is not None and not version_matches(cond["target_version"], version):
        return False
    if "paths" in cond:
        hit = [fp for pt in patches for fp in pt.files if any(_match_any(cond["paths"], p) for p in _touched(fp))]
        if not hit:
            return False
        if out is not None and out.ref is None:
            out.ref = hit[0].ref
    scope = cond.get("added_in")
    line_conditions = (
        ("added_matches", (True,), lambda p: re.compile(p)),
        ("removed_matches", (False,), lambda p: re.compile(p)),
        ("changed_matches", (True, False), lambda p: re.compile(p)),
        ("adds_config", (True,), lambda s: re.compile(rf"\b(?:CONFIG_)?{re.escape(s)}\b")),
    )
    for key, sides, make in line_conditions:
        if key not in cond:
            continue
        regs = [make(p) for p in cond[key]]
        hits = [(fp, ln) for added in sides for fp, ln in _lines(patches, added, scope)
                if any(r.search(ln.text) for r in regs)]
        if not hits:
            return False
        if out is not None:
            out.patch_evidence.extend(_quote(fp, ln) for fp, ln in hits[:MAX_PATCH_EVIDENCE])
            out.ref = out.ref or hits[0][1].ref or hits[0][0].ref
    if "added_captures" in cond:
        reg = re.compile(cond["added_captures"])
        names: list[str] = []
        for _fp, ln in _lines(patches, True, scope):
            for m in reg.finditer(ln.text):
                if m.group("name") not in names:
                    names.append(m.group("name"))
        if not names:
            return False
        if out is not None:
            out.captured = names
    return True


# ---------------------------------------------------------------- tree side


def _series_adds(series_patches: Sequence[Patch], globs: Sequence[str], regex: re.Pattern[str]) -> bool:
    return any(regex.search(ln.text) for _fp, ln in _lines(series_patches, True, globs))


def _compiler_ok(spec: Mapping[str, str], given: str | None) -> bool | None:
    """True/False when the compiler named in options satisfies ``spec``; None when unknown."""
    if not given:
        return None
    m = RE_COMPILER.match(given)
    if not m:
        return None
    kind, ver = m.group(1).lower(), tuple(int(x) for x in m.group(2).split("."))
    need = spec.get(kind)
    if need is None:
        return False
    return ver >= tuple(int(x) for x in need.split("."))


def _grep_check(key: str, spec: Mapping[str, Any], scan: TreeScan, out: _Outcome, arches: Collection[str]) -> bool:
    inside = re.compile(spec["within_ifdef"]) if spec.get("within_ifdef") else None
    hits = scan.grep(spec["paths"], re.compile(spec["pattern"]), within_ifdef=inside, arches=arches)
    if key == "tree_grep":
        if not hits:
            return False
        out.count += len(hits)
        out.files.update(h[0] for h in hits)
        out.tree_evidence.extend(f"{p}:{n}: {t}" + (f"  [{d}]" if d else "") for p, n, t, d in hits)
        return True
    files = scan.glob(spec["paths"], arches)
    if hits or not files:
        return False
    out.tree_evidence.extend(f"{p}: no line matches /{spec['pattern']}/" for p in files[:5])
    return True


# CONFIG_GCC_VERSION=90100   /   CONFIG_CLANG_VERSION=100001
RE_CONFIG_CC = re.compile(r"^CONFIG_(GCC|CLANG)_VERSION=(\d+)\s*$", re.M)


def find_compiler(options: PortOptions | None) -> str | None:
    """The target's compiler as "gcc 9.1.0": PortOptions.extra["compiler"], else the
    CONFIG_GCC_VERSION / CONFIG_CLANG_VERSION of the --config .config; None when unknown."""
    if options is None:
        return None
    if options.extra.get("compiler"):
        return options.extra["compiler"]
    if not options.config:
        return None
    try:
        with open(options.config, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    for kind, num in RE_CONFIG_CC.findall(text):
        n = int(num)
        if n:
            return f"{kind.lower()} {n // 10000}.{n // 100 % 100}.{n % 100}"
    return None


def _checks(check: Mapping[str, Any], scan: TreeScan, out: _Outcome, series_patches: Sequence[Patch],
            options: PortOptions | None, arches: Collection[str] = ()) -> bool:
    """Run every check of a rule on the tree; True when all of them fire. With ``arches``, files
    under another architecture's ``arch/<name>/`` are not looked at."""
    for key, spec in check.items():
        if key == "tree_show":  # evidence only: what the target does there, never a condition
            for one in spec if isinstance(spec, list) else [spec]:
                hits = scan.grep(one["paths"], re.compile(one["pattern"]), arches=arches)
                out.shown.extend(f"{p}:{n}: {t}" for p, n, t, _d in hits[:MAX_PATCH_EVIDENCE])
            continue
        if key in ("tree_grep", "tree_lacks"):
            for one in spec if isinstance(spec, list) else [spec]:
                if not _grep_check(key, one, scan, out, arches):
                    return False
        elif key in ("tree_has_file", "tree_lacks_file"):
            files = scan.glob(spec, arches)
            if key == "tree_has_file":
                if not files:
                    return False
                out.tree_evidence.extend(f"{p}: present" for p in files[:5])
            else:
                if files:
                    return False
                out.tree_evidence.extend(f"{g}: no such file in the target" for g in spec)
        elif key == "tree_lacks_each":
            files = scan.glob(spec["paths"], arches)
            missing = []
            for name in out.captured:
                reg = re.compile(spec["pattern"].replace("{name}", re.escape(name)))
                if scan.grep(files, reg) or _series_adds(series_patches, spec["paths"], reg):
                    continue
                missing.append(name)
            if not missing or not files:
                return False
            out.names = missing
            where = ", ".join(files[:3])
            out.tree_evidence.extend(f"{where}: no definition of {n}" for n in missing)
        elif key in ("tree_has_kconfig", "tree_lacks_kconfig"):
            defs = {s: scan.kconfig_defs(s, arches) for s in spec}
            present = [s for s in spec if defs[s]]
            if key == "tree_has_kconfig":
                if not present:
                    return False
                out.tree_evidence.extend(f"{defs[s][0][0]}:{defs[s][0][1]}: config {s}" for s in present)
            else:
                unset = [s for s in spec if not defs[s]]
                if not unset:
                    return False
                out.tree_evidence.extend(f"Kconfig: no 'config {s}' in the target" for s in unset)
        elif key in ("tree_has_symbol", "tree_lacks_symbol"):
            globs = spec.get("paths") or ["**/*.[chS]"]
            found: list[tuple[str, list[tuple[str, int, str, str]]]] = []
            absent: list[tuple[str, list[tuple[str, int, str, str]]]] = []
            for name in spec["names"]:
                hits = scan.grep(globs, re.compile(rf"\b{re.escape(name)}\b"), arches=arches)
                (found if hits else absent).append((name, hits[:1]))
            if key == "tree_has_symbol":
                if not found:
                    return False
                out.tree_evidence.extend(f"{h[0][0]}:{h[0][1]}: {h[0][2]}" for _n, h in found)
            else:
                if not absent:
                    return False
                out.names.extend(n for n, _h in absent)
                out.tree_evidence.extend(f"{n}: not found in {', '.join(globs)}" for n, _h in absent)
        elif key == "compiler":
            given = find_compiler(options)
            ok = _compiler_ok(spec, given)
            if ok:
                return False
            need = " or ".join(f"{k.upper() if k == 'gcc' else 'Clang'} >= {spec[k]}" for k in ("gcc", "clang") if k in spec)
            said = f"the target is built with {given}" if given else "the target's compiler is not known (give --config with CONFIG_GCC_VERSION)"
            out.tree_evidence.append(f"compiler: {spec['feature']} needs {need}; {said}")
    return True


# ---------------------------------------------------------------- rules -> findings


# {count}  (a placeholder; anything else in braces, like {r0-r11, lr}, is left alone)
RE_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _fill(text: str, values: Mapping[str, str]) -> str:
    return RE_PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _substitute(value: Any, row: Mapping[str, str]) -> Any:
    if not row:
        return value
    if isinstance(value, str):
        return _fill(value, row)
    if isinstance(value, list):
        return [_substitute(v, row) for v in value]
    if isinstance(value, Mapping):
        return {k: _substitute(v, row) for k, v in value.items()}
    return value


def _version_str(v: tuple[int, int, int] | None) -> str:
    return ".".join(map(str, v)) if v else "unknown"


#: check_rule's ``version`` when the caller did not read it
_UNREAD: Any = object()


def check_rule(rule: Any, patch: Patch, tree: TargetTree, *, series: Series | None = None,
               options: PortOptions | None = None, scan: TreeScan | None = None,
               version: tuple[int, int, int] | None = _UNREAD) -> tuple[Finding, ...]:
    """The findings one rule (every row of its ``foreach`` table) raises on ``patch``; ``scan``
    (find_scan(tree)) and ``version`` (tree.kernel_version()) are passed by check_patch, which
    reads them once for all its rules."""
    scan = find_scan(tree) if scan is None else scan
    version = tree.kernel_version() if version is _UNREAD else version
    arches = _arches(patch, series, scan, options)
    series_patches: Sequence[Patch] = series.patches if series is not None else (patch,)
    if patch not in series_patches:
        series_patches = (*series_patches, patch)
    out_findings = []
    row: Mapping[str, str]
    at = next((i for i, p in enumerate(series_patches) if p is patch), 0)
    before = series_patches[:at] if rule.once else ()
    for row in rule.rows or ({},):
        out = _Outcome()
        if not _condition(_substitute(rule.when, row), (patch,), out, arches=arches, version=version):
            continue
        if any(_condition(_substitute(rule.when, row), (p,), None, arches=arches, version=version) for p in before):
            continue  # ``once``: an earlier patch of the series already raised it
        if rule.unless and _condition(_substitute(rule.unless, row), series_patches, None, arches=arches, version=version):
            continue
        if not _checks(_substitute(rule.check, row), scan, out, series_patches, options, arches):
            continue
        values = dict(row)
        values.update(count=str(out.count or len(out.tree_evidence)), files=str(len(out.files)),
                      names=", ".join(out.names or out.captured), version=_version_str(version),
                      evidence="; ".join(out.tree_evidence[:3]), arch=", ".join(sorted(arches)) or "unknown")
        evidence = tuple(out.patch_evidence) + tuple(out.tree_evidence[:MAX_EVIDENCE]) + tuple(out.shown)
        if len(out.tree_evidence) > MAX_EVIDENCE:
            evidence += (f"... and {len(out.tree_evidence) - MAX_EVIDENCE} more",)
        out_findings.append(Finding(
            code=rule.id, severity=rule.severity, message=" ".join(_fill(rule.message, values).split()),
            ref=out.ref or patch.ref, evidence=evidence, hint=" ".join(_fill(rule.hint, values).split()),
            rule=rule.id, references=tuple(_fill(r, values) for r in rule.references),
            checklist=" ".join(_fill(rule.checklist, values).split())))
    return tuple(out_findings)


def check_patch(patch: Patch, tree: TargetTree, *, placements: Sequence[Placement] = (),
                series: Series | None = None, options: PortOptions | None = None) -> tuple[Finding, ...]:
    """Findings raised by the kb rules that apply to ``patch`` on ``tree``."""
    from kb.loader import load_rules

    if options is not None and not options.checks:
        return ()
    ignore = set(options.ignore) if options is not None else set()
    rules = load_rules(options.kb_dirs if options is not None else ())
    findings: list[Finding] = []
    scan, version = find_scan(tree), tree.kernel_version()
    for rule in rules:
        if rule.id in ignore:
            continue
        findings.extend(check_rule(rule, patch, tree, series=series, options=options, scan=scan, version=version))
    return tuple(findings)


# ... does not have the feature at all: no Kconfig file defines ARM64_BTI_KERNEL. Whatever ...
RE_FEATURE_ABSENT = re.compile(r"no Kconfig file defines ([A-Za-z0-9_]+)")


def fold_feature_kconfig(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per absent feature: deps' ``missing-kconfig`` for a symbol that a
    ``kb-feature-absent`` finding already names (with the feature and its upstream commit) is
    folded into that finding as evidence instead of being said twice."""
    absent = {m.group(1): i for i, f in enumerate(findings) if f.rule == "kb-feature-absent"
              for m in [RE_FEATURE_ABSENT.search(f.message)] if m}
    if not absent:
        return list(findings)
    out = list(findings)
    drop: set[int] = set()
    for i, f in enumerate(findings):
        sym = f.message.split(":", 1)[0].removeprefix("CONFIG_")
        if f.code == "missing-kconfig" and sym in absent:
            k = absent[sym]
            out[k] = replace(out[k], evidence=out[k].evidence + tuple(e for e in f.evidence if e not in out[k].evidence))
            drop.add(i)
    return [f for i, f in enumerate(out) if i not in drop]
