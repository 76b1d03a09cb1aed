"""The porting pipeline (stage: result): place every hunk of a series on a target tree.

Inputs: a Series (backport.series / backport.ingest), a TargetTree, PortOptions (thresholds,
the optional upstream base: a git repo or a plain directory holding the upstream tree).
Outputs: one PortResult per patch: placements (method, path, line, confidence, alternatives,
evidence), findings, the regenerated git diff against the target, the full new content of each
touched file, a leftovers text for what could not be placed, and a status.

Patches are ported in order against an in-memory overlay of the tree, so patch 2 sees patch 1.
Nothing here writes to the target: ``--apply`` is backport.apply's job.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from hunks.cascade import locate
from hunks.order import locate_unclaimed, overlaps
from hunks.score import absent_code, norm
from hunks.syntax import anchor_name, find_anchor, language_for
from hunks.types import HunkSpec, Match
from kb.api import load_api

from . import (
    apiadapt,
    apiarity,
    apiatomic,
    callarity,
    conditional,
    condscope,
    deps,
    kbcheck,
    prototype,
    seriesdeps,
)
from .adaptation import check_adaptations
from .apicontext import place_respelled
from .divergence import MAX_EVIDENCE, check_block_depth, check_divergence, check_identifiers, check_signature
from .model import (
    Adaptation,
    Alternative,
    FilePatch,
    Finding,
    Hunk,
    LineKind,
    Method,
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
from .portdiff import render_file_diff
from .portdiff import split_text as split_lines
from .relocate import find_function_files, find_moved_file, list_paths
from .respell import (
    ADAPTABLE,
    ADAPTED_CAP,
    Respelled,
    carry_across,
    known_names,
    respell,
    respell_preimage,
    taught,
)
from .restated import restate
from .safety import REFUSING_CODES, check_filepatch_safety, render_printable
from .upstream_base import find_base

# ---------------------------------------------------------------- the overlay


class Overlay:
    """A read-only TargetTree seen through the changes of the patches ported so far."""

    #: its file list changes as patches are ported (relocate.list_paths does not cache it)
    mutable = True

    def __init__(self, tree: TargetTree) -> None:
        self.tree = tree
        self.root = tree.root
        self.changes: dict[str, str | None] = {}

    def read(self, path: str) -> str | None:
        if path in self.changes:
            return self.changes[path]
        return self.tree.read(path)

    def exists(self, path: str) -> bool:
        if path in self.changes:
            return self.changes[path] is not None
        return self.tree.exists(path)

    def iter_paths(self) -> Iterator[str]:
        paths = set(list_paths(self.tree))
        for p, text in self.changes.items():
            (paths.add if text is not None else paths.discard)(p)
        return iter(sorted(paths))

    def is_symlink(self, path: str) -> bool:
        """Whether ``path`` is a symlink in the tree (what the patches wrote so far is never one),
        so backport.safety sees the target's links through the overlay."""
        if path in self.changes:
            return False
        check = getattr(self.tree, "is_symlink", None)
        return bool(check(path)) if check is not None else False

    def kernel_version(self) -> tuple[int, int, int] | None:
        return self.tree.kernel_version()

    def identity(self) -> str:
        return self.tree.identity() + f"+{len(self.changes)}"

    def update(self, new_files: Sequence[tuple[str, str | None]]) -> None:
        self.changes.update(dict(new_files))


# ---------------------------------------------------------------- lines of a file


@dataclass(slots=True)
class FileState:
    """One target file being edited: its original lines and the edits placed on them."""

    path: str
    lines: list[str]
    final_newline: bool
    existed: bool = True
    edits: list[tuple[int, int, tuple[str, ...], int]] = field(default_factory=list)  # start, end, new, pl
    new_final_newline: bool | None = None
    delete: bool = False
    rename_from: str | None = None
    modes: tuple[str | None, str | None] = (None, None)  # (old, new) git modes when the patch sets them


def join_lines(lines: Sequence[str], final_newline: bool) -> str:
    if not lines:
        return ""
    return "\n".join(lines) + ("\n" if final_newline else "")


def hunk_spec(h: Hunk) -> HunkSpec:
    return HunkSpec(kinds=tuple(ln.kind.value for ln in h.lines), lines=tuple(ln.text for ln in h.lines),
                    old_start=h.old_start, section=h.section)


def _hunk_final_newline(h: Hunk) -> bool | None:
    """What the hunk says about the file's last newline (None when it does not touch EOF)."""
    post = [ln for ln in h.lines if ln.kind is not LineKind.REMOVED]
    pre = [ln for ln in h.lines if ln.kind is not LineKind.ADDED]
    if post and post[-1].no_newline:
        return False
    if pre and pre[-1].no_newline:
        return True
    return None


# ---------------------------------------------------------------- placement of one hunk


@dataclass(frozen=True, slots=True)
class _Verdict:
    applied: bool
    findings: tuple[Finding, ...] = ()


def _ref(h: Hunk, fp: FilePatch, patch: Patch) -> SourceRef | None:
    return h.ref or fp.ref or patch.ref


def _hunk_label(fp: FilePatch, hi: int, h: Hunk) -> str:
    return f"{fp.path} hunk {hi + 1} ({h.header().strip()})"


def _removed_lines_present(h: Hunk, m: Match, lines: Sequence[str]) -> list[str]:
    """Lines ``h`` deletes that the matched target region does not give up (never delete blindly).

    Compared as multisets of whitespace-normalised lines: what the target region loses in the
    replacement must cover what the hunk removes net of what it adds back."""
    def norm(text: str) -> str:
        return " ".join(text.split())

    need = Counter(norm(ln.text) for ln in h.removed) - Counter(norm(ln.text) for ln in h.added)
    have = Counter(norm(ln) for ln in lines[m.start:m.end]) - Counter(norm(ln) for ln in m.replacement)
    short = need - have
    return [ln.text for ln in h.removed if short.get(norm(ln.text), 0) > 0]


def _judge(m: Match, h: Hunk, lines: Sequence[str], label: str, ref: SourceRef | None, path: str,
           options: PortOptions) -> _Verdict:
    """Apply the thresholds: a doubtful placement becomes a finding and is held back."""
    ev = tuple(m.evidence[:MAX_EVIDENCE])
    line = m.start + 1
    if m.method == Method.ALREADY_APPLIED.value and m.confidence < options.min_confidence:
        return _Verdict(False, (Finding(
            "low-confidence-placement", Severity.WARNING,
            f"{label} may already be present (perhaps adapted) at {path}:{line}, confidence "
            f"{m.confidence:.2f}: neither applied nor confirmed", ref, (f"{path}:{line}",) + ev,
            "compare the target with the hunk by hand"),))
    if m.method == Method.ALREADY_APPLIED.value:
        return _Verdict(False, (Finding("already-applied", Severity.NOTE,
                                        f"{label} is already present in {path}:{line}", ref,
                                        (f"{path}:{line}",) + ev, "nothing to do for this hunk"),))
    found: list[Finding] = []
    ok = True
    alts = [a for a in m.alternatives if a.start != m.start]
    if m.ambiguous:
        ok = False
        other = f"line {alts[0].start + 1} (score {alts[0].score:.2f})" if alts else "another place"
        found.append(Finding(
            "ambiguous-placement", Severity.WARNING,
            f"{label} fits {path}:{line} (confidence {m.confidence:.2f}) about as well as {other}", ref,
            (f"{path}:{line}",) + tuple(f"{path}:{a.start + 1}: candidate score {a.score:.2f} {a.note}".rstrip()
                                         for a in alts[:3]) + ev,
            "check which place is meant, then apply by hand"))
    # a 3-way placement is mapped through the upstream base: its "fuzz" counts diverged context
    # that the base already explains, so only its confidence gates it
    # (so is an anchored one: hunks.anchored found its differing context away from the change)
    heavy_fuzz = m.fuzz > options.max_fuzz and m.method != Method.THREEWAY.value and not m.anchored
    if m.confidence < options.min_confidence or heavy_fuzz:
        ok = False
        found.append(Finding(
            "low-confidence-placement", Severity.WARNING,
            f"{label} placed at {path}:{line} by {m.method} with confidence {m.confidence:.2f} "
            f"({_fuzz_words(m)}) below the bar {options.min_confidence:.2f}", ref, (f"{path}:{line}",) + ev,
            "review the placement; --min-confidence lowers the bar"))
    missing = _removed_lines_present(h, m, lines)
    if missing or m.unsafe:
        ok = False
        what = (f"{len(missing)} line(s) it deletes are not in the target" if missing
                else "the target's code differs where it changes lines")
        found.append(Finding(
            "removed-line-differs", Severity.WARNING, f"{label}: {what} at {path}:{line}", ref,
            tuple(f"patch deletes: {t}" for t in missing[:MAX_EVIDENCE]) + ev,
            "the target's code differs where upstream changes it; adapt the hunk by hand"))
    moved = check_block_depth(h, m, lines, label, ref, path) if ok else None
    if moved is not None:
        found.append(moved)
    if ok and m.diverged:
        split = m.method == Method.SPLIT.value  # its diverged entries name the parts themselves
        where = ("the hunk was split: each part placed on its own, the code around or between its parts differs"
                 if split
                 else "the lines next to the change match, but context further out differs" if m.anchored
                 else "context lines differ")
        found.append(Finding(
            "context-diverged", Severity.WARNING,
            f"{label}: applied at {path}:{line}; {where} in the target ({len(m.diverged)} line(s), kept as "
            "the target has them)", ref,
            (f"{path}:{line}",) + tuple(d if split else f"upstream context {d}"
                                         for d in m.diverged[:MAX_EVIDENCE]) + ev,
            "check the change still means the same next to the target's version of those lines"))
    return _Verdict(ok, tuple(found))


# fuzz 2: ignored 2 leading and 2 trailing context line(s); 1 of them differ ...   (hunks.fuzz)
RE_FUZZ_EVIDENCE = re.compile(r"^fuzz (\d+): ignored (\d+) leading and (\d+) trailing")


def _stated_fuzz(m: Match) -> tuple[int, int]:
    """(fuzz, leading context lines dropped) as the placement states them.

    For the ``fuzz`` method, Match.fuzz counts the dropped context lines that differ, while its
    evidence (and GNU patch) name the fuzz *level*: up to that many outer context lines ignored
    on each side. The placement reports the level the evidence states, and its start is where
    the kept pre-image (the core without the dropped lines) begins, so the offset is measured
    from upstream's line of that same first kept line. Other methods keep the Match's count."""
    if m.method == Method.FUZZ.value:
        for ev in m.evidence:
            fm = RE_FUZZ_EVIDENCE.match(ev)
            if fm:
                return int(fm.group(1)), int(fm.group(2))
    return m.fuzz, 0


def _fuzz_words(m: Match) -> str:
    level = _stated_fuzz(m)[0]
    if m.method == Method.FUZZ.value:
        return f"fuzz {level}, {m.fuzz} of the ignored context line(s) differ"
    return f"fuzz {level}"


def _place(lines: Sequence[str], h: Hunk, *, hint: int | None, base: Sequence[str] | None,
           language: str, options: PortOptions, known: Callable[[str], bool] | None = None,
           moving: frozenset[str] = frozenset()) -> Match | None:
    """The engine's best placement of ``h`` on ``lines`` (already-applied included), or None.
    ``known`` (the target tree's index) tells hunks.anchored which drifted names the target has;
    ``moving`` the lines the file's other hunks remove (hunks.cascade.locate)."""
    return locate(lines, hunk_spec(h), hint=hint, max_fuzz=options.max_fuzz, score_cutoff=0.6,
                  ambiguity_margin=options.ambiguity_margin, base=base, language=language, known=known,
                  moving=moving)


def _removed_elsewhere(fp: FilePatch, hi: int) -> frozenset[str]:
    """The lines (normalised) that the hunks of ``fp`` other than hunk ``hi`` remove."""
    return frozenset(norm(ln.text) for j, o in enumerate(fp.hunks) if j != hi
                     for ln in o.lines if ln.kind is LineKind.REMOVED)


def _to_placement(m: Match | None, h: Hunk, path: str | None, fi: int, hi: int, lines: Sequence[str],
                  applied: bool, extra_evidence: tuple[str, ...] = ()) -> Placement:
    if m is None:
        return Placement(hunk=h, method=Method.NONE, path=None, file_index=fi, hunk_index=hi, applied=False,
                         evidence=extra_evidence)
    try:
        method = Method(m.method)
    except ValueError:
        method = Method.FUZZY
    fuzz, dropped = _stated_fuzz(m)
    return Placement(
        hunk=h, method=method, path=path, start=m.start + 1, offset=m.start + 1 - (h.old_start + dropped), fuzz=fuzz,
        confidence=round(float(m.confidence), 4),
        alternatives=tuple(Alternative(path or "", a.start + 1, round(float(a.score), 4), a.note)
                           for a in m.alternatives[:5]),
        evidence=tuple(m.evidence) + extra_evidence, target_old=tuple(lines[m.start:m.end]),
        target_new=tuple(m.replacement), file_index=fi, hunk_index=hi, applied=applied)


# ---------------------------------------------------------------- one patch


@dataclass(slots=True)
class _Work:
    """Mutable state while porting one patch."""

    tree: TargetTree
    options: PortOptions
    patch: Patch
    files: dict[str, FileState] = field(default_factory=dict)
    placements: list[Placement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    def state(self, path: str) -> FileState | None:
        if path not in self.files:
            text = self.tree.read(path)
            if text is None:
                return None
            lines, final = split_lines(text)
            self.files[path] = FileState(path, lines, final)
        return self.files[path]


def _leftover(w: _Work, fp: FilePatch, hi: int, h: Hunk, reason: str, cands: Sequence[Alternative] = ()) -> None:
    text = [f"# {_hunk_label(fp, hi, h)}", f"# not applied: {reason}"]
    text += [f"# nearest candidate: {c.path}:{c.line} score {c.score:.2f} {c.note}".rstrip() for c in cands[:3]]
    w.leftovers.append("\n".join(text) + "\n" + h.render())


def _hold_split(w: _Work, fi: int, fp: FilePatch) -> None:
    """Hold back a hunk whose #if/#endif partner hunk of the file did not land (backport.conditional)."""
    edits = [e for st in w.files.values() for e in st.edits]
    held = conditional.hold_split(fp, fi, w.placements, edits, lambda hi, h: _hunk_label(fp, hi, h),
                                  lambda hi, h, why: _leftover(w, fp, hi, h, why))
    for st in w.files.values():
        st.edits = [e for e in st.edits if e in edits]
    gone = {_hunk_label(fp, hi, fp.hunks[hi]) + ": applied" for hi, _ in held}  # its context-diverged no longer holds
    w.findings[:] = [f for f in w.findings if not (f.code == "context-diverged" and f.message.startswith(tuple(gone)))]
    w.findings.extend(f for _, f in held)


def _port_new_file(w: _Work, fi: int, fp: FilePatch) -> None:
    path = fp.path
    post = [ln for h in fp.hunks for ln in h.lines if ln.kind is not LineKind.REMOVED]
    lines = [ln.text for ln in post]
    final = not (post and post[-1].no_newline)
    ref = fp.ref or w.patch.ref
    h = fp.hunks[0] if fp.hunks else Hunk(0, 0, 1, len(lines))
    existing = w.tree.read(path)
    if existing is not None:
        if existing == join_lines(lines, final):
            w.placements.append(Placement(h, Method.ALREADY_APPLIED, path, 1, confidence=1.0, file_index=fi,
                                          applied=False))
            w.findings.append(Finding("already-applied", Severity.NOTE, f"{path} already exists with this content",
                                      ref, (f"{path}:1",)))
        else:
            w.placements.append(Placement(h, Method.NONE, None, file_index=fi, applied=False))
            w.findings.append(Finding("unplaced-hunk", Severity.ERROR,
                                      f"the patch creates {path}, which the target already has with other content",
                                      ref, (f"{path}:1",), "merge the two files by hand"))
            _leftover(w, fp, 0, h, f"{path} already exists in the target")
        return
    st = FileState(path, [], True, existed=False, modes=(None, fp.new_mode))
    st.edits.append((0, 0, tuple(lines), len(w.placements)))
    st.new_final_newline = final
    w.files[path] = st
    w.placements.append(Placement(h, Method.EXACT, path, 1, confidence=1.0, target_new=tuple(lines),
                                  file_index=fi))


def _port_deleted_file(w: _Work, fi: int, fp: FilePatch) -> None:
    path = fp.old_path or ""
    ref = fp.ref or w.patch.ref
    h = fp.hunks[0] if fp.hunks else Hunk(1, 0, 0, 0)
    st = w.state(path)
    if st is None:
        w.placements.append(Placement(h, Method.ALREADY_APPLIED, path, confidence=1.0, file_index=fi,
                                      applied=False))
        w.findings.append(Finding("already-applied", Severity.NOTE, f"{path} is already absent", ref))
        return
    pre = [ln.text for hk in fp.hunks for ln in hk.lines if ln.kind is not LineKind.ADDED]
    if fp.hunks and [x.rstrip() for x in pre] != [x.rstrip() for x in st.lines]:
        w.placements.append(Placement(h, Method.NONE, None, file_index=fi, applied=False))
        w.findings.append(Finding("removed-line-differs", Severity.ERROR,
                                  f"the patch deletes {path}, whose content in the target differs", ref,
                                  (f"{path}:1",), "check what the target's version holds before deleting it"))
        _leftover(w, fp, 0, h, "the target's file differs from what upstream deletes")
        return
    st.delete = True
    st.modes = (fp.old_mode, None)
    w.placements.append(Placement(h, Method.EXACT, path, 1, confidence=1.0, target_old=tuple(st.lines),
                                  file_index=fi))


def _refuse_unsafe(w: _Work, fi: int, fp: FilePatch) -> bool:
    """Add the safety findings of ``fp`` (backport.safety); True when the file must not be placed:
    a hostile path, a symlink on the way, a dangerous mode. Its hunks are then recorded unplaced,
    so the patch is BLOCKED and nothing of that file reaches the ported text."""
    found = check_filepatch_safety(fp, w.tree)
    if fp.is_binary:  # reported below as an unplaced binary file
        found = tuple(f for f in found if f.code != "binary-unsupported")
    w.findings.extend(found)
    refusing = [f for f in found if f.code in REFUSING_CODES]
    if not refusing:
        return False
    for hi, h in enumerate(fp.hunks or (Hunk(0, 0, 0, 0),)):
        w.placements.append(Placement(h, Method.NONE, None, file_index=fi, hunk_index=hi, applied=False,
                                      evidence=(f"refused: {refusing[0].code}",)))
        if fp.hunks:
            _leftover(w, fp, hi, h, f"refused: {refusing[0].message}")
    return True


def _mode_change(fp: FilePatch) -> bool:
    return bool(fp.old_mode and fp.new_mode and fp.old_mode != fp.new_mode)


def _try_file(w: _Work, path: str, fp: FilePatch, base: Sequence[str] | None) -> list[Match | None]:
    st = w.state(path)
    if st is None:
        return [None] * len(fp.hunks)
    lang = language_for(path)
    return [_place(st.lines, h, hint=None, base=base, language=lang, options=w.options) for h in fp.hunks]


def _choose_target(w: _Work, fp: FilePatch, base: Sequence[str] | None) -> tuple[str | None, str]:
    """The target path for a modified file: itself, or where it moved (with a note why)."""
    old = fp.old_path or fp.path
    if w.tree.exists(old):
        return old, ""
    if fp.new_path and w.tree.exists(fp.new_path):
        return fp.new_path, ""
    names = [n for n in (anchor_name(h.section) for h in fp.hunks if h.section) if n]
    best, best_score = None, 0.0
    for cand in find_moved_file(w.tree, old, names, read=w.tree.read):
        matches = _try_file(w, cand, fp, base)
        score = sum(m.confidence for m in matches if m is not None)
        if score > best_score:
            best, best_score = cand, score
    if best is None:
        return None, f"{old} is not in the target and no moved copy was found"
    return best, f"{old} is not in the target; its hunks fit {best}"


def _relocate_hunk(w: _Work, path: str, h: Hunk, base: Sequence[str] | None) -> tuple[str, Match] | None:
    """A hunk that failed in ``path`` whose function lives in another file of the target."""
    name = anchor_name(h.section) if h.section else None
    st = w.state(path)
    if not name or st is None or find_anchor(st.lines, name, language=language_for(path)) is not None:
        return None
    for cand in find_function_files(w.tree, name, path, read=w.tree.read):
        cst = w.state(cand)
        if cst is None:
            continue
        m = _place(cst.lines, h, hint=None, base=None, language=language_for(cand), options=w.options)
        if m is not None and m.confidence >= w.options.min_confidence:
            return cand, m
    return None


def _settled(m: Match, options: PortOptions, claimed: Sequence[tuple[int, int]] = ()) -> bool:
    """A placement that passes the bar: confident, unambiguous, safe, and on no other hunk's lines."""
    return m.confidence >= options.min_confidence and not m.ambiguous and not m.unsafe and not overlaps(m, claimed)


def _placed_in(w: _Work, st: FileState, path: str) -> list[tuple[int, Placement, Match]]:
    """(edit index, placement, its Match) of each hunk applied to ``path`` so far."""
    return [(k, pl, Match(pl.method.value, e[0], e[1], e[2], pl.confidence)) for k, e in enumerate(st.edits)
            if (pl := w.placements[e[3]]).path == path]


def _second_try(w: _Work, st: FileState, h: Hunk, hint: int, base: Sequence[str] | None, lang: str,
                known: Callable[[str], bool] | None, moving: frozenset[str], claimed: list[tuple[int, int]],
                path: str, label: str, ref: SourceRef | None
                ) -> tuple[Match, Hunk, Respelled | None, _Verdict, tuple[Adaptation, ...]] | None:
    """For a hunk with no place or no settled one: placed again in the kb API table's spelling,
    restated onto a statement the target wraps otherwise, or with the spelling the file's other
    hunks taught, the first of these that is applied; else None."""
    args = (w, st, h, hint, base, lang, known, moving, claimed, path, label, ref)
    return _api_spelled(*args) or _restated(*args) or _learned_spelled(*args)


def _settle(w: _Work, st: FileState, h: Hunk, m: Match, *, base: Sequence[str] | None, path: str, label: str,
            ref: SourceRef | None) -> tuple[Match, Hunk, Respelled | None, _Verdict]:
    """Adapt a placed hunk to the target's spelling (backport.respell) and judge it: the Match,
    the hunk as ported, what respell said, and the verdict (held back with its reasons)."""
    rs = respell(st.lines, h, hunk_spec(h), m, base=base, path=path, label=label, ref=ref, options=w.options,
                 known=known_names(w.tree, w.options, path))
    m, ported = (rs.match, rs.hunk) if rs is not None else (m, h)
    verdict = _judge(m, ported, st.lines, label, ref, path, w.options)
    if rs is not None and rs.hold:  # what cannot be carried is held back, with its reason
        verdict = _Verdict(False, verdict.findings + rs.findings)
    return m, ported, rs, verdict


def _api_spelled(w: _Work, st: FileState, h: Hunk, hint: int, base: Sequence[str] | None, lang: str,
                 known: Callable[[str], bool] | None, moving: frozenset[str], claimed: list[tuple[int, int]],
                 path: str, label: str, ref: SourceRef | None
                 ) -> tuple[Match, Hunk, Respelled | None, _Verdict, tuple[Adaptation, ...]] | None:
    """The hunk placed and judged again with its kept and removed lines in the kb API table's old
    forms the target file uses (backport.apicontext), when that lands and is applied; else None."""
    opts = w.options
    if not opts.adapt:
        return None
    alt = place_respelled(
        h, st.lines, load_api(opts.kb_dirs),
        partial(_place, st.lines, hint=hint, base=base, language=lang, options=opts, known=known, moving=moving),
        lambda x: _settled(x, opts, claimed), path=path, ref=ref)
    if alt is None:
        return None
    m, hp, notes = alt
    m, ported, rs, verdict = _settle(w, st, hp, m, base=base, path=path, label=label, ref=ref)
    return (m, ported, rs, verdict, notes) if verdict.applied else None


def _restated(w: _Work, st: FileState, h: Hunk, hint: int, base: Sequence[str] | None, lang: str,
              known: Callable[[str], bool] | None, moving: frozenset[str], claimed: list[tuple[int, int]],
              path: str, label: str, ref: SourceRef | None
              ) -> tuple[Match, Hunk, Respelled | None, _Verdict, tuple[Adaptation, ...]] | None:
    """The hunk restated onto a target statement wrapped otherwise (backport.restated), placed
    and judged again, when that is applied; else None."""
    opts = w.options
    alt = restate(st.lines, h, hunk_spec(h), hint=hint, base=base, path=path, label=label, ref=ref, options=opts,
                  language=lang, known=known, moving=moving,
                  judge=lambda m, p: not overlaps(m, claimed) and _judge(m, p, st.lines, label, ref, path, opts).applied)
    if alt is None:
        return None
    m, rs = alt
    return m, rs.hunk, rs, _judge(m, rs.hunk, st.lines, label, ref, path, opts), ()


def _learned_spelled(w: _Work, st: FileState, h: Hunk, hint: int, base: Sequence[str] | None, lang: str,
                     known: Callable[[str], bool] | None, moving: frozenset[str], claimed: list[tuple[int, int]],
                     path: str, label: str, ref: SourceRef | None
                     ) -> tuple[Match, Hunk, Respelled | None, _Verdict, tuple[Adaptation, ...]] | None:
    """The hunk placed and judged again with its kept and removed lines respelled as the file's
    hunks already placed otherwise taught (backport.respell.respell_preimage), when that is
    applied; else None. A removed line so respelled is a ``removed`` Adaptation."""
    opts = w.options
    if not opts.adapt:
        return None
    done = [(pl.hunk, m) for _, pl, m in _placed_in(w, st, path) if pl.method.value in ADAPTABLE]
    got = respell_preimage(h, st.lines, taught(st.lines, done, base), path=path, known=known) if done else None
    if got is None:
        return None
    hp, ev = got
    m = _place(st.lines, hp, hint=hint, base=base, language=lang, options=opts, known=known, moving=moving)
    if m is None or not _settled(m, opts, claimed) or m.method == Method.ALREADY_APPLIED.value:
        return None
    m = replace(m, evidence=tuple(f"placed with the file's spelling: {x}" for x in ev) + tuple(m.evidence))
    m, ported, rs, verdict = _settle(w, st, hp, m, base=base, path=path, label=label, ref=ref)
    notes = tuple(Adaptation(
        "removed", f"remove the target's {b.text.strip()!r}, which upstream writes {a.text.strip()!r}",
        (f"-{a.text}",), (f"-{b.text}",), ev[:3], path, m.start + 1, h.ref or ref)
        for a, b in zip(h.lines, hp.lines, strict=True) if a.kind is LineKind.REMOVED and a.text != b.text)
    return (m, ported, rs, verdict, notes) if verdict.applied else None


def _carry_across(w: _Work, st: FileState, path: str, base: Sequence[str] | None, ref: SourceRef | None) -> None:
    """Carry what one hunk of the file learned about the target's spelling into the file's hunks
    placed verbatim (backport.respell.carry_across): their edits and placements are rewritten."""
    mine = _placed_in(w, st, path)
    if len(mine) < 2:
        return
    placed = [(pl.hunk, m, not pl.adaptations and pl.method in (Method.EXACT, Method.OFFSET)) for _, pl, m in mine]
    got = carry_across(st.lines, placed, base=base, path=path, options=w.options,
                       known=known_names(w.tree, w.options, path), ref=ref)
    for i, (replacement, notes) in got.items():
        k = mine[i][0]
        start, end, _, pi = st.edits[k]
        st.edits[k] = (start, end, replacement, pi)
        pl = w.placements[pi]
        w.placements[pi] = replace(pl, target_new=replacement, adaptations=notes,
                                   confidence=round(min(pl.confidence, ADAPTED_CAP), 4),
                                   evidence=tuple(f"adapted: {x.summary}" for x in notes) + pl.evidence)


def _port_modified_file(w: _Work, fi: int, fp: FilePatch) -> None:
    opts = w.options
    found = find_base(fp, opts.upstream, base_commit=w.patch.base_commit)
    base_text = found.text if found is not None else None
    if found is not None and found.note is not None:
        w.findings.append(found.note)
    base = split_lines(base_text)[0] if base_text is not None else None
    path, why = _choose_target(w, fp, base)
    ref = fp.ref or w.patch.ref
    if path is None:
        for hi, h in enumerate(fp.hunks):
            w.placements.append(_to_placement(None, h, None, fi, hi, [], False))
            _leftover(w, fp, hi, h, why)
        w.findings.append(Finding("unplaced-hunk", Severity.ERROR, why, ref,
                                  hint="find where this code lives in the target and port it by hand"))
        return
    if why:
        w.findings.append(Finding("relocated-file", Severity.WARNING, why, ref, (f"{path}:1",),
                                  "check that this file is the right home for the change"))
    st = w.state(path)
    assert st is not None
    lang = language_for(path)
    if path == fp.old_path and _mode_change(fp):
        st.modes = (fp.old_mode, fp.new_mode)
    delta = 0  # how far the target's lines run from upstream's, from the previous hunk
    for hi, h in enumerate(fp.hunks):
        label, href = _hunk_label(fp, hi, h), _ref(h, fp, w.patch)
        hint = max(0, h.old_start - 1 + delta)
        known, moving = known_names(w.tree, opts, path), _removed_elsewhere(fp, hi)
        m = _place(st.lines, h, hint=hint, base=base, language=lang, options=opts, known=known, moving=moving)
        claimed = [(e[0], e[1]) for e in st.edits]
        if m is not None and overlaps(m, claimed):  # another hunk's lines: its context recurs here
            m = locate_unclaimed(st.lines, hunk_spec(h), claimed, hint=hint, max_fuzz=opts.max_fuzz,
                                 score_cutoff=0.6, ambiguity_margin=opts.ambiguity_margin, base=base,
                                 language=lang, known=known, moving=moving) or m
        target, tst = path, st
        extra: tuple[str, ...] = ()
        moved_st: FileState | None
        doubtful = m is None or not _settled(m, opts)
        if doubtful:
            moved = _relocate_hunk(w, path, h, base)
            if moved is not None and (m is None or moved[1].confidence > m.confidence):
                target, m = moved
                moved_st = w.state(target)
                assert moved_st is not None
                tst = moved_st
                extra = (f"function '{anchor_name(h.section)}' is not in {path}; it is defined in {target}",)
                w.findings.append(Finding("relocated-hunk", Severity.WARNING,
                                          f"{label} moved to {target}:{m.start + 1}", href,
                                          (f"{target}:{m.start + 1}",) + extra,
                                          "check the function is the same one upstream changes"))
        # a second try (_second_try: the kb API spelling, a restated statement, the file's taught
        # spelling) when the hunk's own lines give no place, or no settled one
        retry = partial(_second_try, w, st, h, hint, base, lang, known, moving, claimed, path, label, href)
        second = retry() if m is None else None
        if m is None and second is None:
            w.placements.append(_to_placement(None, h, None, fi, hi, [], False))
            gone = absent_code(st.lines, h.old_lines, [x.text for x in h.lines if x.kind is LineKind.REMOVED])
            why = (f": {gone[0]} of its {gone[1]} code lines are nowhere in the file (it edits code this tree "
                   "does not have: newer upstream code or a missing prerequisite)") if gone else ""
            w.findings.append(Finding("unplaced-hunk", Severity.ERROR, f"{label} fits nowhere in {path}{why}", href,
                                      hint="port this hunk by hand (see the leftovers)"))
            _leftover(w, fp, hi, h, f"no place in {path} matches its context{why}")
            continue
        api_notes: tuple[Adaptation, ...] = ()
        if m is not None:
            m, ported, rs, verdict = _settle(w, tst, h, m, base=base if target == path else None, path=target,
                                             label=label, ref=href)
            if not verdict.applied and target == path and m.method != Method.ALREADY_APPLIED.value:
                second = retry()
        if second is not None:
            m, ported, rs, verdict, api_notes = second
        assert m is not None
        if target == path:
            delta = m.start - (h.old_start - 1)
        w.findings.extend(verdict.findings)
        pl = _to_placement(m, h, target, fi, hi, tst.lines, verdict.applied, extra)
        if api_notes or (rs is not None and rs.adaptations):
            pl = replace(pl, adaptations=api_notes + (rs.adaptations if rs is not None else ()))
        if verdict.applied:
            tst.edits.append((m.start, m.end, tuple(m.replacement), len(w.placements)))
            eof = _hunk_final_newline(h)
            if eof is not None and m.end >= len(tst.lines):
                tst.new_final_newline = eof
        elif m.method != Method.ALREADY_APPLIED.value:
            _leftover(w, fp, hi, h, "; ".join(f.message for f in verdict.findings) or "held back",
                      pl.alternatives)
        w.placements.append(pl)
        if base is not None and m.method != Method.ALREADY_APPLIED.value and target == path:
            f = check_divergence(base, tst.lines, h, m, path=target, language=lang, label=label, ref=href)
            if f is not None and not any(x.code == f.code for x in verdict.findings):
                w.findings.append(f)
        elif verdict.applied and m.method != Method.ALREADY_APPLIED.value:  # no base: its header line
            f = check_signature(tst.lines, h, m, path=target, language=lang, label=label, ref=href)
            w.findings.extend([f] if f is not None else [])
    _carry_across(w, st, path, base, ref)
    if fp.is_rename and path == fp.old_path and not w.tree.exists(fp.new_path or ""):
        st.rename_from = path
    if base_text is not None:
        f = check_identifiers(base_text, st.lines, fp, path=path, ref=ref)
        if f is not None:
            w.findings.append(f)


def _finish_files(w: _Work) -> tuple[list[str], list[tuple[str, str | None]]]:
    """Apply the edits bottom-up; return the diff text per file and the new contents."""
    diffs: list[str] = []
    new_files: list[tuple[str, str | None]] = []
    for fp_path, st in w.files.items():
        edits = sorted(st.edits, key=lambda e: (e[0], e[1]))
        kept: list[tuple[int, int, tuple[str, ...], int]] = []
        for e in edits:
            if kept and e[0] < kept[-1][1]:
                pl = w.placements[e[3]]
                w.placements[e[3]] = replace(pl, applied=False)
                w.findings.append(Finding(
                    "placement-conflict", Severity.ERROR,
                    f"{fp_path}: two hunks claim overlapping lines {e[0] + 1}..{e[1]} and "
                    f"{kept[-1][0] + 1}..{kept[-1][1]}", pl.hunk.ref,
                    (f"{fp_path}:{e[0] + 1}", f"{fp_path}:{kept[-1][0] + 1}"), "merge the two hunks by hand"))
                w.leftovers.append(f"# {fp_path}: hunk at line {e[0] + 1} overlaps another\n" + pl.hunk.render())
                continue
            kept.append(e)
        new_name = fp_path
        rename_target = None
        if st.rename_from is not None:
            fp = next((f for f in w.patch.files if f.old_path == st.rename_from and f.is_rename), None)
            if fp is not None and fp.new_path:
                rename_target = fp.new_path
                new_name = fp.new_path
        mode_changed = st.modes[0] is not None and st.modes[1] is not None and st.existed
        if not kept and not st.delete and rename_target is None and not mode_changed:
            continue
        lines = list(st.lines)
        for start, end, new, _ in reversed(kept):
            lines[start:end] = list(new)
        final = st.new_final_newline if st.new_final_newline is not None else st.final_newline
        old_text = join_lines(st.lines, st.final_newline) if st.existed else None
        new_text = None if st.delete else join_lines(lines, final)
        if old_text == new_text and rename_target is None and not mode_changed:
            continue
        diff = render_file_diff(fp_path if st.existed else None, None if st.delete else new_name,
                                old_text, new_text, old_mode=st.modes[0], new_mode=st.modes[1],
                                edits=[(s, e, new) for s, e, new, _ in kept])
        if diff:
            diffs.append(diff)
        if rename_target is not None:
            new_files.append((fp_path, None))
        new_files.append((new_name, new_text))
    return diffs, new_files


def is_settled(p: Placement, *, min_confidence: float) -> bool:
    """True when nothing is left to do for this hunk: applied, or confidently already present."""
    if p.method is Method.ALREADY_APPLIED:
        return p.confidence >= min_confidence
    return p.applied


def _status(placements: Sequence[Placement], findings: Sequence[Finding], options: PortOptions) -> Status:
    if any(not p.placed for p in placements) or any(f.severity is Severity.ERROR for f in findings):
        return Status.BLOCKED
    if any(not is_settled(p, min_confidence=options.min_confidence) for p in placements):
        return Status.REVIEW
    if any(f.severity >= Severity.WARNING for f in findings):
        return Status.REVIEW
    if any(p.applied and p.confidence < options.min_confidence for p in placements):
        return Status.REVIEW
    return Status.CLEAN


def port_patch(patch: Patch, tree: TargetTree, *, options: PortOptions | None = None,
               series: Series | None = None) -> PortResult:
    """Place every hunk of ``patch`` on ``tree`` and regenerate it against the target."""
    t0 = time.perf_counter()
    opts = options or PortOptions()
    w = _Work(tree, opts, patch)
    for fi, fp in enumerate(patch.files):
        if _refuse_unsafe(w, fi, fp):
            continue
        if fp.is_binary:
            h = fp.hunks[0] if fp.hunks else Hunk(0, 0, 0, 0)
            w.placements.append(Placement(h, Method.NONE, None, file_index=fi, applied=False))
            w.findings.append(Finding("unplaced-hunk", Severity.ERROR, f"{fp.path}: binary patches are not ported",
                                      fp.ref or patch.ref, hint="copy the binary file by hand"))
        elif fp.is_new:
            _port_new_file(w, fi, fp)
        elif fp.is_deleted:
            _port_deleted_file(w, fi, fp)
        elif fp.hunks or fp.is_rename or _mode_change(fp):
            _port_modified_file(w, fi, fp)
            _hold_split(w, fi, fp)
    if opts.adapt:  # kb API table: new API forms in added lines -> the target's spelling
        found, changed = apiadapt.adapt_placements(patch, w.placements, tree, opts, series=series)
        w.findings.extend(found)
        found, more = apiatomic.adapt_atomics(w.placements, tree, apiadapt.added_rows)
        w.findings.extend(found)
        changed |= more
        found, more = apiarity.adapt_added_calls(patch, w.placements, tree, opts, apiadapt.added_rows)
        w.findings.extend(found)
        changed |= more
        for st in w.files.values():
            st.edits = [(s, e, w.placements[i].target_new if i in changed else new, i) for s, e, new, i in st.edits]
    diffs, new_files = _finish_files(w)
    placements = tuple(w.placements)
    findings = list(w.findings)
    findings.extend(check_adaptations(placements))
    findings.extend(condscope.check_files(w.files, new_files, patch.ref))  # #if bounds moved around target lines
    if opts.checks:
        for checker in (deps.check_patch, kbcheck.check_patch, prototype.check_patch, callarity.check_patch):
            findings.extend(checker(patch, tree, placements=placements, series=series, options=opts))
    findings = kbcheck.fold_feature_kconfig(apiadapt.drop_covered([f for f in findings if f.code not in opts.ignore]))
    return PortResult(
        patch=patch, placements=placements, findings=tuple(findings), text="".join(diffs),
        status=_status(placements, findings, opts), new_files=tuple(new_files),
        leftovers="\n".join(w.leftovers), seconds=round(time.perf_counter() - t0, 4))


# Upstream ids and the mbox "From <sha> Mon Sep 17 00:00:00 2001" line (a decision, not an
# omission): that sha names the commit the patch was formatted from, which is upstream's only
# when the mbox came from upstream. backport.ingest therefore puts it into Patch.upstream_ids
# only for ``A..B`` ranges of an ``--upstream`` repo (formatted by ingest itself); for mbox files
# it keeps it out (a vendor or stable tree's format-patch would name a commit upstream never had,
# and deps/upstream would then treat the patch's own prerequisites as "already upstream").
# Ids stated in the message (``commit X upstream.``, ``[ Upstream commit X ]``, ``(cherry picked
# from commit X)``) and a DEP-3 ``Origin:`` still count. (ingest does take the ``commit <sha>``
# line of ``git show`` / ``git log -p`` text as an upstream id: that is ingest's call.) Nothing here re-adds the sha.
def port_series(series: Series, tree: TargetTree, *, options: PortOptions | None = None,
                progress: Callable[[int, int, Patch], None] | None = None) -> tuple[PortResult, ...]:
    """Port every patch of ``series`` in order; patch N sees the tree as patches 1..N-1 left it."""
    overlay = Overlay(tree)
    results: list[PortResult] = []
    patches = [p for p in series.patches if not p.is_cover]
    view = series  # the series as deps sees it: prerequisite patches inserted before their fix
    for i, patch in enumerate(patches):
        if progress is not None:
            progress(i, len(patches), patch)
        r = port_patch(patch, overlay, options=options, series=view)
        if options is not None and options.with_prereqs:  # missing helpers as patches before the fix
            from .prereq import port_with_prereqs

            pre, r, view = port_with_prereqs(r, overlay, options=options, view=view)
            results.extend(pre)
        overlay.update(r.new_files)
        results.append(r)
    return seriesdeps.link_held(results)  # a hunk resting on an earlier held-back hunk says so


def find_refusal(results: Sequence[PortResult]) -> tuple[Finding, int] | None:
    """The first finding that makes ``--apply`` refuse the whole series (a hostile path, a
    symlink, a dangerous mode: backport.safety.REFUSING_CODES) and how many there are; None
    when there is none."""
    refused = [f for r in results for f in r.findings if f.code in REFUSING_CODES]
    return (refused[0], len(refused)) if refused else None


def is_worktree_head(tree: TargetTree) -> bool:
    """True when ``tree`` shows what its work tree holds: a plain directory, or a git revision
    that resolves to the HEAD commit of a non-bare repository (so writing the result into the
    work tree changes the files that were read)."""
    commit = getattr(tree, "commit", None)
    repo = getattr(tree, "repo", None)
    if commit is None or repo is None:
        return True
    try:
        return not repo.bare and repo.head.commit.hexsha == commit.hexsha
    except ValueError:  # an unborn HEAD
        return False


def exit_code(results: Sequence[PortResult], *, fail_on: str = "error", min_confidence: float = 0.8) -> int:
    """0 when every hunk was settled with high confidence and no finding reaches ``fail_on``; else 1."""
    levels = {"error": Severity.ERROR, "warning": Severity.WARNING, "note": Severity.NOTE}
    bar = levels.get(fail_on)
    for r in results:
        if not all(is_settled(p, min_confidence=min_confidence) for p in r.placements):
            return 1
        if bar is not None and any(f.severity >= bar for f in r.findings):
            return 1
    return 0


def render_plain_summary(results: Sequence[PortResult]) -> str:
    """A plain summary: one line per patch, then each doubtful hunk and every finding."""
    out: list[str] = []
    for i, r in enumerate(results, 1):
        placed = sum(1 for p in r.placements if p.applied)
        out.append(f"[{i}/{len(results)}] {r.status.value.upper():7} {r.patch.subject} "
                   f"({placed}/{len(r.placements)} hunks applied, {r.seconds:.2f}s)")
        for p in r.placements:
            if p.applied and p.method in (Method.EXACT, Method.OFFSET):
                continue
            where = f"{p.path}:{p.start}" if p.placed else "nowhere"
            state = "applied" if p.applied else "not applied"
            out.append(f"    hunk {p.file_index + 1}.{p.hunk_index + 1}: {p.method.value} at {where}, "
                       f"confidence {p.confidence:.2f}, {state}")
        out.extend(f"    {f.severity}: {f.code}: {f.message}" for f in r.findings)
    return render_printable("\n".join(out))
