"""Value types of the placement engine (stage: hunks). Stdlib only; no git, files or kernel.

A HunkSpec is one hunk as lists of lines; ``locate`` (hunks.cascade) returns a Match saying
which target lines the hunk replaces, with what, how it was found and how sure it is.
Indices are 0-based into the target's list of lines (the caller converts to 1-based).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HunkSpec:
    kinds: tuple[str, ...]  # one of " ", "-", "+" per line of the unified hunk
    lines: tuple[str, ...]  # the text of each line, without prefix or newline
    old_start: int = 1  # 1-based line the hunk claims in the old file (0 for a new file)
    section: str = ""  # the text after "@@ ... @@" (usually the enclosing function)

    @property
    def old(self) -> tuple[str, ...]:
        """Pre-image: context and removed lines."""
        return tuple(t for k, t in zip(self.kinds, self.lines, strict=True) if k != "+")

    @property
    def new(self) -> tuple[str, ...]:
        """Post-image: context and added lines."""
        return tuple(t for k, t in zip(self.kinds, self.lines, strict=True) if k != "-")


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int  # 0-based target index
    score: float  # similarity in [0, 1]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """Where a hunk lands: ``target[start:end]`` becomes ``replacement``.

    ``fuzz`` counts context lines that differ in (or are absent from) the target: dropped by
    ``fuzz``, or kept as the target has them by ``fuzzy``/``syntax``/``3way``. Alternatives
    are scored on the method's own scale (distance prior for verbatim copies, similarity
    for aligned candidates). ``already-applied`` matches replace the lines with themselves.
    """

    method: str  # exact | offset | whitespace | fuzz | fuzzy | syntax | 3way | already-applied
    start: int
    end: int
    replacement: tuple[str, ...]
    confidence: float
    fuzz: int = 0  # context lines that were dropped or did not match
    alternatives: tuple[Candidate, ...] = ()  # the candidates it beat, best first
    evidence: tuple[str, ...] = ()  # plain-words reasons ("context line 3 differs: ...")
    #: another candidate is (nearly) as good: the placement must become a finding
    ambiguous: bool = False
    #: a removed line did not match its target line, or the target changed where the hunk
    #: changes (3-way conflict): applying would delete or overwrite the target's own code
    unsafe: bool = False
    #: context lines the target has otherwise (hunks.anchored): an applied placement with any is a
    #: context-diverged warning naming them
    diverged: tuple[str, ...] = ()
    #: the removed lines and the lines next to each change are in the target verbatim, only context
    #: away from the change differs (hunks.anchored): trusted up to ANCHORED_CONFIDENCE
    anchored: bool = False
