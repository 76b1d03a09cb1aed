"""Preprocessor conditionals split over hunks (stage: pipeline, after one file's placements).

Inputs: one FilePatch, the placements made for its hunks (applied, held back, unplaced, already
applied), the target FileState. Outputs: the applied placements that must be held back, each with
an ERROR ``split-conditional`` finding and a leftover entry; the FileState loses their edits.

A diff that wraps code in ``#ifdef CONFIG_X`` ... ``#endif``, or unwraps it, often puts the
opening and the closing directive in different hunks when the code between them is long (2019's
a1326b17ac03 "module/ftrace: handle patchable-function-entry", opens ``#ifdef
CONFIG_DYNAMIC_FTRACE`` in one hunk of arch/parisc/kernel/module.c and closes it in the next;
"arm64: ftrace: minimize ifdeffery" of the same v5.5 series removes an ``#ifdef`` in one hunk of
arch/arm64/kernel/ftrace.c and its ``#else``/``#endif`` in another). Each hunk alone unbalances
the file's ``#if``/``#endif``: it is right only together with its partner. When the partner does
not land (the old tree lacks the code it wraps) but the other half fits somewhere (a lone
``#endif`` next to two closing braces fits many places), applying it writes a file that does not
preprocess, or, worse, one whose conditional now spans other code.

So: a hunk's conditional balance is its added lines' ``#if``/``#ifdef``/``#ifndef`` minus their
``#endif``, less the same count over its removed lines. When the hunks of a file diff balance
together but some unbalanced hunk is neither applied nor already in the target, every applied
unbalanced hunk of that file is held back with a finding naming the partner that did not land.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .model import FilePatch, Finding, Hunk, LineKind, Method, Placement, Severity
from .needs import RE_PP_END, RE_PP_OPEN  # #elif and #else keep the depth


def balance(h: Hunk) -> int:
    """Conditionals the hunk opens (+) or closes (-) in the file, net of what it removes."""
    net = 0
    for ln in h.lines:
        d = 1 if RE_PP_OPEN.match(ln.text) else -1 if RE_PP_END.match(ln.text) else 0
        if ln.kind is LineKind.ADDED:
            net += d
        elif ln.kind is LineKind.REMOVED:
            net -= d
    return net


def hold_split(fp: FilePatch, fi: int, placements: list[Placement], edits: list[tuple[int, int, tuple[str, ...], int]],
               label: Callable[[int, Hunk], str],
               leftover: Callable[[int, Hunk, str], None]) -> list[tuple[int, Finding]]:
    """Hold back the applied hunks of ``fp`` whose conditional partner did not land (see the module
    docstring): their placements become not applied, their edits leave ``edits`` (in place), each
    gets a leftover; returns (hunk index, finding) per hunk held. ``placements`` is the whole
    patch's list (this file's are those with ``file_index == fi``)."""
    nets = [balance(h) for h in fp.hunks]
    if not any(nets) or sum(nets) != 0:
        return []
    mine = {p.hunk_index: k for k, p in enumerate(placements) if p.file_index == fi}
    landed = {hi for hi, k in mine.items()
              if placements[k].applied or placements[k].method is Method.ALREADY_APPLIED}
    missing = [hi for hi, n in enumerate(nets) if n and hi not in landed]
    if not missing:
        return []
    names = ", ".join(label(hi, fp.hunks[hi]) for hi in missing[:3])
    found: list[tuple[int, Finding]] = []
    for hi, n in enumerate(nets):
        k = mine.get(hi)
        if not n or k is None or not placements[k].applied:
            continue
        pl = placements[k]
        placements[k] = replace(pl, applied=False)
        edits[:] = [e for e in edits if e[3] != k]
        what = "opens" if n > 0 else "closes"
        msg = (f"{label(hi, pl.hunk)} {what} a preprocessor conditional that another hunk of the same file "
               f"{'closes' if n > 0 else 'opens'}, and that hunk did not land ({names}): held back, applying it "
               "alone would unbalance #if/#endif")
        found.append((hi, Finding("split-conditional", Severity.ERROR, msg, pl.hunk.ref,
                                  (f"{pl.path}:{pl.start}",) if pl.path else (),
                                  "port the conditional's two halves together, or neither")))
        leftover(hi, pl.hunk, msg)
    return found


def nets_of(hunks: Sequence[Hunk]) -> list[int]:
    """The conditional balance of each hunk (for reports and tests)."""
    return [balance(h) for h in hunks]
