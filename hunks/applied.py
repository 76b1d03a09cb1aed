"""Already-applied detection (stage: hunks): is the hunk's post-image already in the target?

Inputs: the target's lines, a HunkSpec, the expected line.
Outputs: a Match with method ``already-applied`` (its replacement equals the target lines,
so applying it changes nothing) or None. The post-image must be found (verbatim, or up to
blanks at a lower confidence) while the pre-image is not there: a change made before, or
the same fix arriving from another branch, is reported, never applied twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from .exact import WHITESPACE_QUALITY, find_runs, positional
from .score import informative_weight
from .types import HunkSpec, Match

#: post-images carrying less information than this (in weighted lines) prove nothing
MIN_INFORMATION = 2.0


def find_applied(target: Sequence[str], spec: HunkSpec, *, hint: int | None = None) -> Match | None:
    """The hunk's post-image present in ``target`` (and its pre-image absent), else None."""
    tgt = tuple(target)
    old, new = spec.old, spec.new
    if old == new or not new or "+" not in spec.kinds and "-" not in spec.kinds:
        return None
    if informative_weight(new) < MIN_INFORMATION:
        return None
    if hint is None:
        hint = max(0, spec.old_start - 1)
    if old and find_runs(tgt, old, hint):
        return None  # the pre-image is still there: not applied
    for ws in (False, True):
        starts = find_runs(tgt, new, hint, whitespace=ws)
        if not starts:
            continue
        quality = WHITESPACE_QUALITY if ws else 1.0
        if "+" not in spec.kinds:
            quality *= 0.9  # a deletion leaves only context behind: weaker evidence
        _, conf, amb, alts, ev = positional("already-applied", starts, hint, quality=quality,
                                            label="post-image" + (" (up to blanks)" if ws else ""))
        s = starts[0]
        ev.insert(0, "the hunk's result is already in the target and its pre-image is not: "
                     "applied before, or the same fix from another branch")
        return Match("already-applied", s, s + len(new), tgt[s:s + len(new)], round(conf, 4), 0,
                     alts, tuple(ev), amb)
    return None
