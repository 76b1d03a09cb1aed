"""Kernel API adaptation (stage: adapt): added lines that use an API the target spells the old way.

Inputs: one patch's placements (after placement, before the files are finished), the target
tree (its TreeIndex, as backport.deps builds it), PortOptions (``adapt``, ``kb_dirs``).
Callback return types (entries with a ``callback`` spec) are backport.apicallback's; this
module runs it first and reports what it could not decide.

Outputs: the placements with rewritten ``target_new`` lines and one ``model.Adaptation``
(kind ``api``) per rewritten line, and ``api-missing`` findings for uses that cannot be
rewritten (the target has no old form either, or the old form must be open-coded).

How: for each entry of the kb API table (kb/api/*.yaml, kb.api) whose new form an added line
uses, the target is asked whether it has the new form (``marker`` definitions in a header or
the patched file, or ``marker_grep``), whether the series defines it itself, and whether it
has what the old form needs (its definitions become the evidence). Lines are rewritten with
kb.api.rewrite_line; the added lines of a placement are the lines of ``target_new`` that are not
kept from ``target_old`` (difflib), so target context is never touched.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from hunks.clex import RE_COMMENT_LINE
from kb.api import (
    RE_IDENT,
    ApiEntry,
    CannotRewrite,
    companion_arg,
    find_uses,
    form_name,
    load_api,
    render,
    rewrite_line,
)

from .apicallback import RE_BARE_RETURN, adapt_callbacks
from .apistatement import join_statement, statement_rows, wrap_statement
from .apistatement import width as _width
from .model import Adaptation, Finding, LineKind, Patch, Placement, PortOptions, Series, Severity, TargetTree
from .needs import RE_WORD, find_series_defs

#: the finding code of a new API form the target lacks and that could not be rewritten
MISSING_CODE = "api-missing"


def added_rows(p: Placement) -> list[int]:
    """Indexes into ``p.target_new`` of the lines the port adds (not kept from the target):
    the hunk's own ``+`` rows when ``target_new`` has one row per kept or added hunk line
    (exact: difflib may pair an added ``}`` with a kept one), else a diff of ``target_old``
    and ``target_new``."""
    kept = [ln.kind for ln in p.hunk.lines if ln.kind is not LineKind.REMOVED]
    if len(kept) == len(p.target_new) and len(p.target_old) == len(p.hunk.old_lines) and all(
            (k is LineKind.ADDED) or x in p.target_old for k, x in zip(kept, p.target_new, strict=True)):
        return [j for j, k in enumerate(kept) if k is LineKind.ADDED]
    sm = difflib.SequenceMatcher(None, p.target_old, p.target_new, autojunk=False)
    return [j for tag, _, _, j1, j2 in sm.get_opcodes() if tag in ("insert", "replace") for j in range(j1, j2)]


def _is_global(path: str, patched: str) -> bool:
    """A definition every file of the target sees (a header under include/), or one in the
    patched file itself; a driver-local helper of the same name elsewhere does not count."""
    return path == patched or path.startswith("include/") or bool(re.match(r"arch/[^/]+/include/", path))


class _Target:
    """What the target has, asked once per name (index look-ups and greps)."""

    def __init__(self, tree: TargetTree, options: PortOptions, patch: Patch, series: Series | None) -> None:
        from . import deps

        self.tree = tree
        self.idx = deps.get_index(tree, options, touched=[fp.path for fp in patch.files])
        earlier = list(series.patches[:series.patches.index(patch) + 1]) if series and patch in series.patches else []
        self.series_names = find_series_defs(earlier or [patch]).names
        self.grep_cache: dict[tuple[tuple[str, ...], str], str | None] = {}
        self.spelling_cache: dict[tuple[str, str], str | None] = {}
        self.text_cache: dict[str, str] = {}
        # the lines each file's hunks remove: the file keeps none of them (not its spelling)
        self.removed: dict[str, set[str]] = {}
        for fp in patch.files:
            for path in {fp.old_path, fp.new_path} - {None}:
                self.removed.setdefault(path, set()).update(
                    ln.text.strip() for h in fp.hunks for ln in h.lines if ln.kind is LineKind.REMOVED)

    def has_new(self, e: ApiEntry, patched: str) -> bool:
        if any(m in self.series_names for m in e.marker):
            return True
        if e.marker_grep is not None:
            return self.grep(*e.marker_grep) is not None
        if e.marker_lacks:
            return not any(_is_global(d.path, patched) for m in e.marker_lacks for d in self.idx.defines(m))
        return any(_is_global(d.path, patched) for m in e.marker
                   for d in (*self.idx.defines(m), *self.idx.members(m)))

    def grep(self, paths: tuple[str, ...], pattern: str) -> str | None:
        key = (paths, pattern)
        if key not in self.grep_cache:
            rx, hit = re.compile(pattern), None
            for path in paths:
                for n, line in enumerate((self.tree.read(path) or "").splitlines(), 1):
                    if rx.search(line):
                        hit = f"{path}:{n}: {line.strip()}"
                        break
                if hit:
                    break
            self.grep_cache[key] = hit
        return self.grep_cache[key]

    def text(self, path: str) -> str:
        """The target file's text ("" when absent), read once."""
        if path not in self.text_cache:
            self.text_cache[path] = self.tree.read(path) or ""
        return self.text_cache[path]

    def file_spelling(self, e: ApiEntry, path: str) -> str | None:
        """For a pure rename the target has both names of (the old kept as a wrapper, as stable
        trees get renames backported): the file's own call of the old name ("path:n: line") when
        the file calls the old name and never the new one; stable maintainers keep a file in one
        spelling (net/sched/sch_generic.c in 6.1.y calls del_timer(), so a port writes it too).
        Lines the patch removes from the file do not count: a patch that converts the file's own
        calls (the rename itself) is ported as written."""
        if e.kind != "rename" or not e.old or any(m in self.series_names for m in e.marker) or \
                not re.match(r"\s*[A-Za-z_]\w*\s*\(", e.old[0]) and not RE_IDENT.fullmatch(e.old[0].strip()):
            return None
        key = (path, e.id)
        if key not in self.spelling_cache:
            old = form_name(e.old[0])
            text = self.text(path)
            hit = None
            if not re.search(rf"\b{re.escape(e.name)}\s*\(", text):
                gone = self.removed.get(path, set())
                for n, ln in enumerate(text.splitlines(), 1):
                    if re.search(rf"\b{re.escape(old)}\s*\(", ln.split("//")[0]) and not RE_COMMENT_LINE.match(ln) \
                            and ln.strip() not in gone:
                        hit = f"{path}:{n}: {ln.strip()}"
                        break
            self.spelling_cache[key] = hit
        return self.spelling_cache[key]

    def old_evidence(self, e: ApiEntry) -> tuple[str, ...] | None:
        """Where the target defines what the old form needs; None when something is missing."""
        out = []
        for n in e.needs:
            defs = [*self.idx.defines(n), *self.idx.members(n)]
            if not defs:
                return None
            defs.sort(key=lambda d: (not d.path.startswith("include/"), d.path.startswith(("tools/", "scripts/")),
                                     d.kind in ("decl", "export"), d.path))
            out.append(str(defs[0]))
        return tuple(out)


def _candidates(entries: Sequence[ApiEntry], placements: Sequence[Placement]) -> list[ApiEntry]:
    """Entries whose new-form name occurs in some added line (a cheap word test first)."""
    added = [p.target_new[j] for p in placements if p.applied and p.path for j in added_rows(p)]
    words = {w for line in added for w in RE_WORD.findall(line)}
    return [e for e in entries if (e.name in words if not e.match else any(re.search(e.match, x) for x in added))]


def _callback_candidates(table: Sequence[ApiEntry], placements: Sequence[Placement]) -> list[ApiEntry]:
    """Callback-return entries some added line may concern: a definition or initialiser they
    match, or a bare ``return;`` (the body of an existing callback)."""
    added = [p.target_new[j] for p in placements if p.applied and p.path for j in added_rows(p)]
    if not added:
        return []
    bare = any(RE_BARE_RETURN.match(x) for x in added)
    out = []
    for e in table:
        if not e.callback:
            continue
        members = "|".join(m for m in (e.callback["member"], e.callback.get("void_member"), e.callback.get("twin"))
                            if m)
        if bare or any(re.search(e.match, x) or re.match(rf"\s*\.(?:{members})\s*=", x) for x in added):
            out.append(e)
    return out


def _words(lines: Sequence[str]) -> set[str]:
    return {w for ln in lines for w in RE_WORD.findall(ln)}


def adapt_placements(patch: Patch, placements: list[Placement], tree: TargetTree, options: PortOptions, *,
                     series: Series | None = None) -> tuple[list[Finding], set[int]]:
    """Rewrite new API forms in the added lines of the applied placements (in place) into the
    target's spelling; return the findings and the indexes of the placements changed."""
    if not options.adapt:
        return [], set()
    table = load_api(options.kb_dirs)
    entries = [e for e in _candidates(table, placements) if not e.callback]
    callbacks = _callback_candidates(table, placements)
    if not entries and not callbacks:
        return [], set()
    findings: list[Finding] = []
    changed: set[int] = set()
    reported: set[tuple[str, str]] = set()
    if callbacks:
        for e, i, k, why in adapt_callbacks(callbacks, placements, tree, added_rows, changed):
            p = placements[i]
            if (e.id, p.target_new[k]) not in reported:
                reported.add((e.id, p.target_new[k]))
                findings.append(_missing(e, p, k, p.target_new[k], why))
    if not entries:
        return findings, changed
    target = _Target(tree, options, patch, series)
    for i, p in enumerate(placements):
        if not p.applied or not p.path:
            continue
        new_lines = list(p.target_new)
        adaptations: list[Adaptation] = []
        offset = 0  # extra lines inserted by statement-sequence rewrites so far
        for unit in _units(p.target_new, added_rows(p), entries, target, p.path):
            k = unit[0] + offset
            orig = new_lines[k:k + len(unit)]
            line = orig[0] if len(orig) == 1 else join_statement(orig)
            out = [line]
            for e in entries:
                if not any(find_uses(e, x) for x in out):
                    continue
                spelled = None
                if target.has_new(e, p.path):
                    spelled = target.file_spelling(e, p.path)
                    if spelled is None:
                        continue
                evidence = (spelled,) if spelled else target.old_evidence(e) if e.old else None
                why = ""
                if evidence is None:
                    why = (f"the target has neither {e.name}() nor {', '.join(n + '()' for n in e.needs)}"
                           if e.old else f"{e.new if e.match else e.name + '()'} must be open-coded on this target")
                else:
                    learned: list[str] = []
                    fill = _companion_fill(e, p, placements, target, k, learned) if e.companion else None
                    try:
                        out = [r for x in out for r in rewrite_line(e, x, fill=fill)]
                    except CannotRewrite as err:
                        why = str(err)
                    else:
                        evidence = (*learned, *evidence)
                if why and spelled:  # the target has upstream's name too: keep it
                    continue
                if why:
                    if (e.id, orig[0]) not in reported:
                        reported.add((e.id, orig[0]))
                        findings.append(_missing(e, p, k, orig[0], why))
                    continue
                if len(orig) > 1:  # a statement over several lines: back into lines of the original width
                    width = max(80, *(_width(x) for x in orig))
                    port = [w for x in out for w in wrap_statement(x, width)]
                else:
                    port = out
                summary = (f"use {form_name(e.old[0])}() as {p.path} does; the target has both it and {e.name}()"
                           if spelled else _summary(e, tree, out, line))
                adaptations.append(Adaptation(
                    kind="api", summary=summary, upstream=tuple("+" + x for x in orig),
                    port=tuple("+" + x for x in port), evidence=evidence or (), path=p.path,
                    line=p.start + k, ref=p.hunk.ref, references=e.references, rule=e.id))
            if out != [line]:
                if len(orig) > 1:
                    width = max(80, *(_width(x) for x in orig))
                    out = [w for x in out for w in wrap_statement(x, width)]
                new_lines[k:k + len(orig)] = out
                offset += len(out) - len(orig)
        if adaptations:
            placements[i] = replace(p, target_new=tuple(new_lines), adaptations=(*p.adaptations, *adaptations))
            changed.add(i)
    return findings, changed


# a line in column 0 that starts a top-level item (TRACE_EVENT(..., a function, a struct)
RE_ITEM_START = re.compile(r"^[A-Za-z_]")


def _companion_fill(e: ApiEntry, p: Placement, placements: Sequence[Placement], target: _Target, k: int,
                    learned: list[str]) -> Callable[[dict[str, str]], str | None]:
    """For an old form with ``{?}``: the text its companion form gives it in the code above
    the added row ``k`` of ``p`` (the target file as the port leaves it, back to the start of
    the top-level item: one TRACE_EVENT's TP_STRUCT__entry for ``__assign_str``); each line a
    value is taken from is appended to ``learned`` as evidence."""
    scope: list[tuple[str, str]] = []  # (where, line), built on the first call

    def above() -> list[tuple[str, str]]:
        file_lines = target.text(p.path).splitlines()
        before: list[tuple[str, str]] = []
        n = 0
        for q in sorted((q for q in placements if q.applied and q.path == p.path and q.start < p.start),
                        key=lambda q: q.start):
            before += [(f"{p.path}:{i}", file_lines[i - 1]) for i in range(n + 1, min(q.start, len(file_lines) + 1))]
            before += [(f"{p.path}:{q.start} (hunk {q.hunk.ref})", x) for x in q.target_new]
            n = q.start - 1 + len(q.target_old)
        before += [(f"{p.path}:{i}", file_lines[i - 1]) for i in range(n + 1, min(p.start, len(file_lines) + 1))]
        before += [(f"{p.path}:{p.start + j}", x) for j, x in enumerate(p.target_new[:k])]
        top = max((i for i, (_, x) in enumerate(before) if RE_ITEM_START.match(x)), default=0)
        return before[top:]

    def fill(values: dict[str, str]) -> str | None:
        if not scope:
            scope.extend(above())
        hit = companion_arg(e, values, [x for _, x in scope])
        if hit is None:
            return None
        where, line = scope[hit[0]]
        learned.append(f"{where}: {line.strip()}")
        return hit[1]
    return fill


def _units(lines: Sequence[str], rows: Sequence[int], entries: Sequence[ApiEntry], target: _Target,
           path: str) -> list[list[int]]:
    """The added rows in rewrite units: one row each, except a statement whose parentheses span
    several consecutive added rows and that holds a call of a table entry (for a target without
    the new form) not closing on its first line: that statement is one unit."""
    out: list[list[int]] = []
    added, i = set(rows), 0
    while i < len(rows):
        j = rows[i]
        if RE_COMMENT_LINE.match(lines[j]):  # " * ... timer_delete_sync() ..." inside a block comment
            i += 1
            continue
        unit = statement_rows(lines, j, added)
        if len(unit) > 1 and any(u.end < 0 and not target.has_new(e, path) for e in entries
                                 for u in (u for r in unit for u in find_uses(e, lines[r]))):
            out.append(unit)
            i += len(unit)
        else:
            out.append([j])
            i += 1
    return out


def _summary(e: ApiEntry, tree: TargetTree, port: Sequence[str], upstream: str = "") -> str:
    """Stable-style words: "use from_timer(), 6.1 has no timer_container_of()"; an open-coded
    expression inside a longer statement is shown alone ("write `on ? "on" : "off"`, ...")."""
    v = tree.kernel_version()
    where = f"{v[0]}.{v[1]}" if v else "the target"
    called = form_name(e.old[0]) if e.old and re.match(r"\s*[A-Za-z_]\w*\s*\(", e.old[0]) else ""
    if e.old and RE_IDENT.fullmatch(e.old[0].strip()):
        called = e.old[0].strip()
    shown = " ".join(x.strip() for x in port)
    uses = find_uses(e, upstream) if upstream and e.old and "\n" not in e.old[0] and not called else []
    if uses and uses[0].end >= 0 and (upstream[:uses[0].start].strip() or upstream[uses[0].end:].strip() != ";"):
        shown = render(e.old[0], uses[0].values)
    shown = shown if len(shown) <= 72 else shown[:69] + "..."
    # a name, type or qualifier a regex finds (system_wq, ITER_DEST, __poll_t) is no call
    plain = bool(e.match) and "(" not in e.new
    what = e.new if plain else f"{e.name}()"
    if e.old and not e.old[0].strip():  # an attribute, flag or qualifier older trees lack
        return f"drop {e.name}, {where} has no {what}"
    if called and called != e.name:
        return f"use {called}{'' if plain else '()'}, {where} has no {what}"
    if called:  # same name, older arguments
        return f"write `{shown}`, {where}'s {e.name}() predates {e.commit[:12]}"
    return f"write `{shown}`, {where} has no {what}"


def _missing(e: ApiEntry, p: Placement, k: int, line: str, why: str) -> Finding:
    where = f"{p.path}:{p.start + k}"
    return Finding(
        MISSING_CODE, Severity.ERROR,
        f"{e.name}: {e.new} is {e.kind} API of {e.since} ({e.commit[:12]}) the target lacks; {why}",
        p.hunk.ref, (f"{where}: +{line.strip()}", f"kb API table: {e.id} ({e.ref})"),
        e.older, e.id, e.references,
        f"{where}: {e.name}() written the way the target spells it ({e.id})")


def drop_covered(findings: Sequence[Finding]) -> list[Finding]:
    """Without deps' ``missing-symbol`` / ``renamed-symbol`` for a name an ``api-missing``
    finding already explains (one finding per cause, the one that names the commit)."""
    names = {f.message.split(":", 1)[0] for f in findings if f.code == MISSING_CODE}
    return [f for f in findings if not (f.code in ("missing-symbol", "renamed-symbol")
                                        and f.message.split(":", 1)[0] in names)]


def rewritten_names(placements: Sequence[Placement]) -> set[str]:
    """Names an API adaptation took out of the port (upstream's words no longer in its lines)."""
    out: set[str] = set()
    for p in placements:
        for a in p.adaptations:
            if a.kind == "api":
                out |= _words(a.upstream) - _words(a.port)
    return out
