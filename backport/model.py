"""Core types of backport (every stage): frozen dataclasses and enums, stdlib only.

Inputs: none (this module is the vocabulary of the pipeline).
Outputs: SourceRef, HunkLine, Hunk, FilePatch, Trailer, ReviewComment, Patch, Series,
TargetTree (protocol), Adaptation, Placement, Finding, PortResult and their enums.

Conventions:
- paths are POSIX, relative to the tree root, without the ``a/`` ``b/`` prefixes;
- line numbers are 1-based (0 means unknown);
- text lines are stored without their line terminator and without the diff prefix;
- tuples, never lists; converted from unidiff's mutable objects at the boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where something came from: ``path:line`` (line 1-based, 0 when unknown)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class LineKind(enum.Enum):
    CONTEXT = " "
    ADDED = "+"
    REMOVED = "-"


@dataclass(frozen=True, slots=True)
class HunkLine:
    kind: LineKind
    text: str
    #: the line is followed by ``\ No newline at end of file``
    no_newline: bool = False
    ref: SourceRef | None = None

    def render(self) -> str:
        out = self.kind.value + self.text + "\n"
        if self.no_newline:
            out += "\\ No newline at end of file\n"
        return out


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """A reviewer's words found after a quoted hunk in a review reply."""

    author: str
    text: str
    ref: SourceRef | None = None
    depth: int = 0


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str = ""  # text after the second "@@" (the enclosing function, often)
    lines: tuple[HunkLine, ...] = ()
    ref: SourceRef | None = None
    comments: tuple[ReviewComment, ...] = ()

    @property
    def old_lines(self) -> tuple[str, ...]:
        """The pre-image: context and removed lines, in order."""
        return tuple(ln.text for ln in self.lines if ln.kind is not LineKind.ADDED)

    @property
    def new_lines(self) -> tuple[str, ...]:
        """The post-image: context and added lines, in order."""
        return tuple(ln.text for ln in self.lines if ln.kind is not LineKind.REMOVED)

    @property
    def added(self) -> tuple[HunkLine, ...]:
        return tuple(ln for ln in self.lines if ln.kind is LineKind.ADDED)

    @property
    def removed(self) -> tuple[HunkLine, ...]:
        return tuple(ln for ln in self.lines if ln.kind is LineKind.REMOVED)

    def header(self) -> str:
        def rng(start: int, count: int) -> str:
            return str(start) if count == 1 else f"{start},{count}"

        sec = f" {self.section}" if self.section else ""
        return f"@@ -{rng(self.old_start, self.old_count)} +{rng(self.new_start, self.new_count)} @@{sec}\n"

    def render(self) -> str:
        return self.header() + "".join(ln.render() for ln in self.lines)


@dataclass(frozen=True, slots=True)
class FilePatch:
    """One file's diff. ``old_path`` is None for a new file, ``new_path`` None for a deletion."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...] = ()
    old_blob: str | None = None  # abbreviated blob id from the ``index`` line
    new_blob: str | None = None
    old_mode: str | None = None
    new_mode: str | None = None
    is_binary: bool = False
    similarity: int | None = None  # rename/copy similarity index, percent
    header_lines: tuple[str, ...] = ()  # raw lines from ``diff --git`` up to the first ``@@``
    ref: SourceRef | None = None

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def is_new(self) -> bool:
        return self.old_path is None

    @property
    def is_deleted(self) -> bool:
        return self.new_path is None

    @property
    def is_rename(self) -> bool:
        return self.old_path is not None and self.new_path is not None and self.old_path != self.new_path

    def render(self) -> str:
        """The diff text of this file (header lines as parsed, then the hunks)."""
        head = "".join(h if h.endswith("\n") else h + "\n" for h in self.header_lines)
        if not head:
            old = f"a/{self.old_path}" if self.old_path else "/dev/null"
            new = f"b/{self.new_path}" if self.new_path else "/dev/null"
            head = f"diff --git a/{self.path} b/{self.path}\n--- {old}\n+++ {new}\n"
        return head + "".join(h.render() for h in self.hunks)


@dataclass(frozen=True, slots=True)
class Trailer:
    key: str  # as written: "Signed-off-by", "Cc", "Fixes", ...
    value: str
    ref: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class Patch:
    subject: str  # without the [PATCH ...] prefix
    files: tuple[FilePatch, ...] = ()
    raw_subject: str = ""
    prefixes: tuple[str, ...] = ()  # e.g. ("RFC", "PATCH", "bpf-next")
    version: int = 1
    number: int | None = None  # n of n/N
    total: int | None = None  # N of n/N
    author: str = ""  # "Name <mail>"
    date: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    body: str = ""  # commit message, trailers included, without the diff
    trailers: tuple[Trailer, ...] = ()
    upstream_ids: tuple[str, ...] = ()
    base_commit: str | None = None
    prerequisite_patch_ids: tuple[str, ...] = ()
    partial: bool = False  # hunks were snipped (quoted review reply)
    comments: tuple[ReviewComment, ...] = ()  # review comments not tied to a hunk
    ref: SourceRef | None = None
    diff_text: str = ""  # the diff as received (after unquoting)

    @property
    def is_cover(self) -> bool:
        return self.number == 0

    def trailer_values(self, key: str) -> tuple[str, ...]:
        k = key.lower()
        return tuple(t.value for t in self.trailers if t.key.lower() == k)


@dataclass(frozen=True, slots=True)
class Series:
    patches: tuple[Patch, ...]
    cover: Patch | None = None
    version: int = 1
    origin: tuple[str, ...] = ()  # the inputs it was read from
    warnings: tuple[str, ...] = ()  # "path:line: warning: ..." lines

    def __iter__(self) -> Iterator[Patch]:
        return iter(self.patches)


@runtime_checkable
class TargetTree(Protocol):
    """The tree a series is ported onto. Read-only: writing is apply.py's job."""

    root: str

    def read(self, path: str) -> str | None:
        """Text of ``path`` (surrogateescape-decoded UTF-8), or None when absent/unsafe."""

    def exists(self, path: str) -> bool: ...

    def iter_paths(self) -> Iterator[str]:
        """Every regular file path, relative, sorted."""

    def kernel_version(self) -> tuple[int, int, int] | None:
        """VERSION.PATCHLEVEL.SUBLEVEL from the top Makefile, if any."""

    def identity(self) -> str:
        """A key that changes whenever the tree's content changes (for caches)."""


class Method(enum.Enum):
    EXACT = "exact"
    OFFSET = "offset"
    WHITESPACE = "whitespace"
    FUZZ = "fuzz"
    FUZZY = "fuzzy"
    SYNTAX = "syntax"
    THREEWAY = "3way"
    SPLIT = "split"  # in parts, each change group on its own (hunks.split)
    ALREADY_APPLIED = "already-applied"
    NONE = "unplaced"


@dataclass(frozen=True, slots=True)
class Alternative:
    path: str
    line: int
    score: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Adaptation:
    """One change the port made to upstream's lines so that they fit the target (stage: adapt).

    Every Adaptation on a placement is reported as an ``adapted`` finding (backport.adaptation),
    a bracketed stable-style note in the ported mail, a checklist item and a side-by-side row in
    report.html. ``kind``: ``token`` (a substitution learned from the aligned base/target lines),
    ``api`` (the kb API-evolution table), ``context`` / ``removed`` (a kept or removed line acted
    on in the target's spelling), ``prereq`` (a helper emitted as its own patch)."""

    kind: str
    summary: str  # stable-style words: "use from_timer(), 6.1 has no timer_container_of()"
    upstream: tuple[str, ...] = ()  # the hunk lines as upstream wrote them, with their +/-/space prefix
    port: tuple[str, ...] = ()  # the same lines as ported, with their prefix
    evidence: tuple[str, ...] = ()  # "path:line: text" of the target line each change was learned from
    path: str = ""  # target path
    line: int = 0  # 1-based target line of the first changed line
    ref: SourceRef | None = None  # the hunk in the patch
    references: tuple[str, ...] = ()  # upstream commits that made the change being undone
    rule: str = ""  # kb API-table entry id, when the table gave it


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one hunk lands in the target, how it was found and how sure we are."""

    hunk: Hunk
    method: Method
    path: str | None  # target path (None when unplaced)
    start: int = 0  # 1-based line in the target where the hunk's pre-image starts
    offset: int = 0  # start - hunk.old_start
    fuzz: int = 0  # context lines dropped/ignored
    confidence: float = 0.0
    alternatives: tuple[Alternative, ...] = ()
    evidence: tuple[str, ...] = ()
    #: the target lines the hunk replaces (its pre-image as found in the target)
    target_old: tuple[str, ...] = ()
    #: what they become (target context kept, upstream +/- applied)
    target_new: tuple[str, ...] = ()
    file_index: int = 0  # which FilePatch of the patch
    hunk_index: int = 0  # which hunk of that FilePatch
    applied: bool = True  # False when held back (doubtful) or already applied
    #: what the port changed in upstream's lines to fit the target (empty: upstream's text as is)
    adaptations: tuple[Adaptation, ...] = ()

    @property
    def placed(self) -> bool:
        return self.method is not Method.NONE and self.path is not None


class Severity(enum.IntEnum):
    NOTE = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # stable kebab-case: missing-symbol, ambiguous-placement, kb-ftrace-cflags-remove-pg
    severity: Severity
    message: str
    ref: SourceRef | None = None  # where in the patch
    evidence: tuple[str, ...] = ()  # "path:line: text" in the target and the patch
    hint: str = ""
    rule: str = ""  # kb rule id, when a kb rule raised it
    references: tuple[str, ...] = ()  # upstream commits, threads
    checklist: str = ""  # what a reviewer should tick


class Status(enum.Enum):
    CLEAN = "clean"  # every hunk placed with high confidence, no warning or error
    REVIEW = "review"  # placed, but findings ask a human to look
    BLOCKED = "blocked"  # hunks unplaced or error findings


@dataclass(frozen=True, slots=True)
class PortResult:
    patch: Patch
    placements: tuple[Placement, ...] = ()
    findings: tuple[Finding, ...] = ()
    text: str = ""  # the ported patch (diff against the target), "" when nothing placed
    status: Status = Status.CLEAN
    #: full new content per touched target path (what --apply writes); None = delete
    new_files: tuple[tuple[str, str | None], ...] = ()
    leftovers: str = ""  # human-readable rejected hunks with reasons
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class PortOptions:
    """Knobs of the pipeline; thresholds are keyword-only everywhere else too."""

    min_confidence: float = 0.8  # below: not applied, low-confidence-placement
    ambiguity_margin: float = 0.1  # best - second best below this: ambiguous-placement
    max_fuzz: int = 2
    upstream: str | None = None  # path of an upstream git repo
    config: str | None = None  # vendor .config
    kb_dirs: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # finding codes silenced
    checks: bool = True  # run deps + kb checks
    adapt: bool = True  # rewrite hunks into the target's spelling (token substitutions, kb API table)
    with_prereqs: bool = False  # emit missing helpers the upstream base defines as patches of their own
    extra: dict[str, str] = field(default_factory=dict)
