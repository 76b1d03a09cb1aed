"""Diff parsing (stage: series): unified / git diff text -> model.FilePatch, Hunk, HunkLine.

Inputs: the text of a diff (``git diff``, ``git format-patch`` body, ``diff -u``, quilt),
with the name of its origin and the line number its first line had there.
Outputs: a tuple of frozen ``FilePatch`` values whose every hunk and line carries a
``SourceRef(origin, line)``; ``FilePatch.render()`` gives the file's diff text back.

How: a small scanner cuts the text into file blocks (it knows git's extended headers,
``GIT binary patch`` and where a hunk ends by its counts, so a mail signature or a
removed line reading ``-- `` never confuses it); each block's hunks are then read by
unidiff and converted to the frozen model at this boundary. Malformed input raises
``ParseError`` with the exact line: a hunk whose counts do not match its lines, a diff
that names no file, an ed script or a normal/context diff (named as such, at its first
line). Text whose lines end in a lone CR is split there. Suspect but readable shapes (lines
after a complete hunk that look like more of it, a misplaced ``\\ No newline at end of
file``) become warnings in both modes. ``parse_diff_lenient`` recovers what it can from a
damaged diff (quoted replies that lost context prefixes or snipped hunks) and returns warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import unidiff
from unidiff.errors import UnidiffParseError

from .errors import ParseError
from .model import FilePatch, Hunk, HunkLine, LineKind, Patch, SourceRef, Trailer

# @@ -55,6 +55,7 @@ config ARM
RE_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
# diff --git a/arch/arm/Kconfig b/arch/arm/Kconfig
RE_GIT_HEADER = re.compile(r"^diff --git (.+)$")
# index fda6a46..877df5b 100644
RE_INDEX = re.compile(r"^index ([0-9a-fA-F]+)\.\.([0-9a-fA-F]+)(?: (\d{6}))?\s*$")
# similarity index 97%
RE_SIMILARITY = re.compile(r"^(?:dis)?similarity index (\d+)%\s*$")
# rename from drivers/old.c   /   copy to drivers/new.c
RE_RENAME = re.compile(r"^(rename|copy) (from|to) (.+)$")
# new file mode 100644   /   deleted file mode 100644   /   old mode 100644
RE_MODE = re.compile(r"^(new file|deleted file|old|new) mode (\d{6})\s*$")
# --- a/arch/arm/Kconfig	2017-02-24 10:00:00
RE_OLD_FILE = re.compile(r"^--- (.+?)(?:\t.*)?$")
# +++ b/arch/arm/Kconfig
RE_NEW_FILE = re.compile(r"^\+\+\+ (.+?)(?:\t.*)?$")
# Binary files a/logo.png and b/logo.png differ
RE_BINARY_FILES = re.compile(r"^Binary files (.+?) and (.+?) differ\s*$")
# diff -urN linux-4.9.orig/Makefile linux-4.9/Makefile   /   Index: drivers/foo.c   /   =====
RE_PLAIN_PREAMBLE = re.compile(r"^(?:diff |Index: |={20,}$)")

#: extended header lines git writes between ``diff --git`` and ``---`` (a prefix each)
GIT_EXTENDED = (
    "index ", "old mode ", "new mode ", "deleted file mode ", "new file mode ",
    "similarity index ", "dissimilarity index ", "rename from ", "rename to ",
    "copy from ", "copy to ", "--- ", "+++ ",
)
DEV_NULL = "/dev/null"
MAX_LINE = 4 * 1024 * 1024
NO_DIFF = "no file diff found (expected 'diff --git' or '---'/'+++' lines)"
#: safety finding codes of diff dialects that are reported as the input's error
REFUSED_DIALECTS = ("ed-diff-refused", "normal-diff-unsupported", "context-diff-unsupported")


class _RefusedDialect(ParseError):
    """The input is an ed script, a normal or a context diff (said at its first such line)."""


@dataclass
class _Block:
    """One file's lines while scanning: header lines, then hunks (header index + body)."""

    start: int  # 0-based index of the first header line
    header: list[str] = field(default_factory=list)
    hunks: list[tuple[int, list[str]]] = field(default_factory=list)  # (index of @@ line, lines)
    binary: bool = False
    git: bool = False


@dataclass
class DiffParse:
    """What ``parse_diff_lenient`` recovered: files, warnings, whether hunks were damaged."""

    files: tuple[FilePatch, ...]
    warnings: tuple[str, ...] = ()
    partial: bool = False
    end: int = 0  # 0-based index just past the last diff line consumed


def _is_hunk_line(line: str) -> bool:
    return line[:1] in (" ", "-", "+", "\\")


def _needs(line: str) -> tuple[int, int]:
    """How many (old, new) lines a hunk body line consumes."""
    c = line[:1]
    if c == "+":
        return 0, 1
    if c == "-":
        return 1, 0
    if c == "\\":
        return 0, 0
    return 1, 1  # " " or an empty line (trailing whitespace eaten by a mailer)


class _Scanner:
    """Cuts diff lines into file blocks; strict mode raises, lenient mode repairs and warns."""

    def __init__(self, lines: list[str], origin: str, first_line: int, *, strict: bool) -> None:
        self.lines = lines
        self.origin = origin
        self.first_line = first_line
        self.strict = strict
        self.warnings: list[str] = []
        self.partial = False
        self.blocks: list[_Block] = []
        self.end = 0

    def ref(self, i: int) -> SourceRef:
        return SourceRef(self.origin, self.first_line + i)

    def warn(self, i: int, message: str) -> None:
        self.warnings.append(f"{self.ref(i)}: warning: {message}")

    def scan(self) -> None:
        lines, i, n = self.lines, 0, len(self.lines)
        for k, line in enumerate(lines):  # every line, hunk bodies and binary payloads too
            if len(line) > MAX_LINE:
                raise ParseError(f"line of {len(line)} characters is too long for a diff", self.ref(k))
        cur: _Block | None = None
        while i < n:
            line = lines[i]
            if RE_GIT_HEADER.match(line):
                cur = _Block(start=i, header=[line], git=True)
                self.blocks.append(cur)
                i += 1
                i = self._git_header(cur, i)
                continue
            if line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
                # a plain unified diff: take along "diff -u ..." / "Index:" lines just above
                j = i
                while j > 0 and RE_PLAIN_PREAMBLE.match(lines[j - 1]) and not self._claimed(j - 1):
                    j -= 1
                cur = _Block(start=j, header=lines[j : i + 2])
                self.blocks.append(cur)
                i += 2
                continue
            if RE_BINARY_FILES.match(line):  # from plain "diff -r": a file block of one line
                cur = None
                self.blocks.append(_Block(start=i, header=[line], binary=True))
                i += 1
                self.end = i
                continue
            if line.startswith("@@ ") and self.blocks:
                m = RE_HUNK_HEADER.match(line)
                problem = ""
                if m is None:
                    problem = f"malformed hunk header {line[:60]!r}"
                elif cur is None or cur.binary:
                    problem = "hunk outside of any file diff"
                else:
                    i = self._hunk(cur, i, m)
                    self.end = i
                    continue
                if self.strict:
                    raise ParseError(problem, self.ref(i))
                self.warn(i, problem + "; skipped")
                self.partial = True
            cur = None  # foreign text (a signature, prose) ends the current file
            i += 1
        if not self.blocks:
            _refuse_dialect(self.lines, self.origin, self.first_line)
            raise ParseError(NO_DIFF, self.ref(0))

    def _claimed(self, i: int) -> bool:
        """Whether line ``i`` already belongs to a block (so it is no preamble)."""
        if not self.blocks:
            return False
        last = self.blocks[-1]
        if last.hunks:
            hi, body = last.hunks[-1]
            return i <= hi + len(body)
        return i < last.start + len(last.header)

    def _git_header(self, cur: _Block, i: int) -> int:
        lines, n = self.lines, len(self.lines)
        while i < n:
            line = lines[i]
            if line.startswith("\\"):
                self.warn(i, f"{line[:40]!r} inside a file header; ignored")
                i += 1
                continue
            if line.startswith(GIT_EXTENDED) or RE_BINARY_FILES.match(line):
                cur.header.append(line)
                if line.startswith("Binary files "):
                    cur.binary = True
                    self.end = i + 1
                    return i + 1
                i += 1
                self.end = i
                continue
            if line == "GIT binary patch":
                cur.binary = True
                # the base85 payload runs up to the next file or the mail signature
                while i < n and not RE_GIT_HEADER.match(lines[i]) and lines[i] != "-- ":
                    cur.header.append(lines[i])
                    i += 1
                self.end = i
                return i
            return i
        return i

    def _hunk(self, cur: _Block, i: int, m: re.Match[str]) -> int:
        lines, n = self.lines, len(self.lines)
        old_need = int(m.group(2)) if m.group(2) is not None else 1
        new_need = int(m.group(4)) if m.group(4) is not None else 1
        head, body = i, [lines[i]]
        lost_prefix = False
        old_left, new_left = old_need, new_need
        i += 1
        while i < n and (old_left > 0 or new_left > 0):
            line = lines[i]
            if line == "":
                if old_left == 0 or new_left == 0:
                    break
            elif RE_GIT_HEADER.match(line):
                break
            elif not _is_hunk_line(line):
                if self.strict or not (old_left and new_left) or line.startswith("@@"):
                    break
                # a context line whose leading space a mailer or archive ate
                if not lost_prefix:
                    self.warn(i, "context line without its leading space; read as context")
                lost_prefix = True
                line = " " + line
            elif line.startswith("@@ ") and RE_HUNK_HEADER.match(line):
                break
            if line.startswith("\\") and len(body) == 1:
                self.warn(i, f"{line[:40]!r} before the hunk's first line; ignored")
            o, w = _needs(line)
            if o > old_left or w > new_left:
                break
            old_left -= o
            new_left -= w
            body.append(line)
            i += 1
        if i < n and lines[i].startswith("\\"):
            body.append(lines[i])  # "\ No newline at end of file" after the last line
            i += 1
        if old_left or new_left:
            short_old = old_left > 0
            need = old_need if short_old else new_need
            found = need - (old_left if short_old else new_left)
            msg = f"hunk header says {need} lines, found {found}"
            if i < n and lines[i].strip() and not _is_hunk_line(lines[i]) and not lines[i].startswith(
                    ("diff ", "@@ ")):
                msg += f" (line {self.first_line + i} has no ' ', '+' or '-': wrapped by a mailer?)"
            if self.strict:
                raise ParseError(msg, self.ref(head))
            self.warn(head, msg + "; hunk kept as far as it goes")
            self.partial = True
            o_found, n_found = old_need - old_left, new_need - new_left
            ostart, nstart = m.group(1), m.group(3)
            body[0] = f"@@ -{ostart},{o_found} +{nstart},{n_found} @@" + (f" {m.group(5)}" if m.group(5) else "")
        else:
            self._check_overflow(i)
        cur.hunks.append((head, body))
        return i

    def _check_overflow(self, i: int) -> None:
        """Warn when lines right after a complete hunk read as more of it (counts too small)."""
        lines, n, j = self.lines, len(self.lines), i
        changes = 0
        # a signature ("-- ", its blank eaten: "--") or a "---" separator ends the diff, not a hunk
        while j < n and lines[j][:1] in ("+", "-", " ") and lines[j].rstrip() not in ("--", "---") \
                and not lines[j].startswith("@@ "):
            if lines[j].startswith("--- ") and j + 1 < n and lines[j + 1].startswith("+++ "):
                break  # the next file's header
            changes += lines[j][:1] != " "
            j += 1
        if changes:
            self.warn(i, f"{j - i} lines after the hunk look like hunk lines; its header counts may be wrong")


def _refuse_dialect(lines: list[str], origin: str, first_line: int) -> None:
    """Raise at the first line of a diff dialect backport refuses (ed script, normal or
    context diff), if ``lines`` hold one; the safety module knows their shapes."""
    from .safety import check_diff_text

    for f in check_diff_text("\n".join(lines), origin=origin, first_line=first_line):
        if f.code in REFUSED_DIALECTS:
            raise _RefusedDialect(f.message, f.ref)


def _unquote(name: str) -> str:
    """A path as git writes it: maybe C-quoted, maybe with a timestamp after a tab."""
    name = name.split("\t", 1)[0].rstrip()
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        raw = name[1:-1].encode("utf-8", "surrogateescape")
        try:
            name = raw.decode("unicode_escape").encode("latin-1").decode("utf-8", "surrogateescape")
        except (UnicodeDecodeError, UnicodeEncodeError):
            name = name[1:-1]
    return name


def _strip_prefix(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Drop the ``a/`` ``b/`` (or ``linux.orig/`` ``linux/``) component, like ``patch -p1``."""

    def first(p: str | None) -> tuple[str, str] | None:
        if p is None or "/" not in p:
            return None
        head, rest = p.split("/", 1)
        return head, rest

    fo, fn = first(old), first(new)
    strip = False
    if fo and fn:
        strip = fo[0] != fn[0] or fo[0] in ("a", "b")
    elif one := fo or fn:  # the other side is /dev/null: only git's own prefixes are stripped
        strip = one[0] in ("a", "b", "i", "w", "c", "o", "1", "2")
    if not strip:
        return old, new
    return (fo[1] if fo else old), (fn[1] if fn else new)


def _split_git_paths(spec: str) -> tuple[str, str] | None:
    """``a/x b/x`` from a ``diff --git`` line (quoted names too); None when ambiguous."""
    if spec.startswith('"'):
        end = spec.find('" ', 1)
        if end > 0:
            return _unquote(spec[: end + 1]), _unquote(spec[end + 2 :])
        return None
    parts = spec.split(" ")
    if len(parts) > 64:
        return None
    # the names are equal outside of renames: find the split where both halves match
    for k in range(1, len(parts)):
        a, b = " ".join(parts[:k]), " ".join(parts[k:])
        if "/" in a and "/" in b and a.split("/", 1)[1] == b.split("/", 1)[1]:
            return a, _unquote(b)
    if len(parts) == 2:
        return parts[0], _unquote(parts[1])
    return None


@dataclass
class _Meta:
    """What a file block's header lines say."""

    old_path: str | None = None
    new_path: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    new_file: bool = False
    deleted_file: bool = False


def _file_meta(block: _Block) -> _Meta:
    """Paths, blob ids, modes and similarity from a block's header lines."""
    old: str | None = None
    new: str | None = None
    seen_old = seen_new = False
    meta = _Meta()
    rename: dict[str, str] = {}
    for line in block.header:
        if m := RE_INDEX.match(line):
            meta.old_blob, meta.new_blob = m.group(1), m.group(2)
            if m.group(3):
                meta.old_mode = meta.old_mode or m.group(3)
                meta.new_mode = meta.new_mode or m.group(3)
        elif m := RE_MODE.match(line):
            kind, mode = m.group(1), m.group(2)
            if kind in ("old", "deleted file"):
                meta.old_mode = mode
            else:
                meta.new_mode = mode
            meta.new_file = meta.new_file or kind == "new file"
            meta.deleted_file = meta.deleted_file or kind == "deleted file"
        elif m := RE_SIMILARITY.match(line):
            meta.similarity = int(m.group(1))
        elif m := RE_RENAME.match(line):
            rename[m.group(2)] = _unquote(m.group(3))
        elif (m := RE_OLD_FILE.match(line)) and not seen_old:
            old, seen_old = _unquote(m.group(1)), True
        elif (m := RE_NEW_FILE.match(line)) and not seen_new:
            new, seen_new = _unquote(m.group(1)), True
        elif m := RE_BINARY_FILES.match(line):
            old, new, seen_old, seen_new = _unquote(m.group(1)), _unquote(m.group(2)), True, True
    git_line = RE_GIT_HEADER.match(block.header[0]) if block.git else None
    if not (seen_old and seen_new) and git_line:
        pair = _split_git_paths(git_line.group(1))
        if pair:
            old = old if seen_old else pair[0]
            new = new if seen_new else pair[1]
    old_path, new_path = _strip_prefix(None if old == DEV_NULL else old, None if new == DEV_NULL else new)
    old_path = rename.get("from", old_path)
    new_path = rename.get("to", new_path)
    meta.old_path = None if meta.new_file else old_path
    meta.new_path = None if meta.deleted_file else new_path
    return meta


def _convert_hunks(block: _Block, origin: str, first_line: int) -> tuple[Hunk, ...]:
    """Let unidiff read the hunks of one block, then freeze them with their origin lines."""
    if not block.hunks:
        return ()
    text = "--- a/x\n+++ b/x\n" + "".join("\n".join(body) + "\n" for _, body in block.hunks)
    where = SourceRef(origin, first_line + block.hunks[0][0])
    try:
        pset = unidiff.PatchSet(text)
    except UnidiffParseError as e:
        raise ParseError(f"unreadable hunk: {e}", where) from None
    if len(pset) != 1 or len(pset[0]) != len(block.hunks):
        raise ParseError("unreadable hunks", where)
    out: list[Hunk] = []
    for (head, _body), uh in zip(block.hunks, pset[0], strict=True):
        hlines: list[HunkLine] = []
        k = head + 1
        for ul in uh:
            if ul.line_type == "\\":
                if hlines:
                    last = hlines[-1]
                    hlines[-1] = HunkLine(last.kind, last.text, True, last.ref)
                k += 1
                continue
            kind = {"+": LineKind.ADDED, "-": LineKind.REMOVED}.get(ul.line_type, LineKind.CONTEXT)
            value = ul.value[:-1] if ul.value.endswith("\n") else ul.value
            hlines.append(HunkLine(kind, value, False, SourceRef(origin, first_line + k)))
            k += 1
        out.append(Hunk(
            old_start=uh.source_start, old_count=uh.source_length,
            new_start=uh.target_start, new_count=uh.target_length,
            section=uh.section_header, lines=tuple(hlines),
            ref=SourceRef(origin, first_line + head),
        ))
    return tuple(out)


def _freeze(block: _Block, origin: str, first_line: int) -> FilePatch:
    meta = _file_meta(block)
    return FilePatch(
        old_path=meta.old_path,
        new_path=meta.new_path,
        hunks=_convert_hunks(block, origin, first_line) if not block.binary else (),
        old_blob=meta.old_blob,
        new_blob=meta.new_blob,
        old_mode=meta.old_mode,
        new_mode=meta.new_mode,
        is_binary=block.binary,
        similarity=meta.similarity,
        header_lines=tuple(block.header),
        ref=SourceRef(origin, first_line + block.start),
    )


def split_lines(text: str) -> list[str]:
    """Lines without their ``\\n`` (a ``\\r`` before it is kept: it is content).

    Text with no ``\\n`` at all but some ``\\r`` (old Mac line ends) is split on ``\\r``."""
    lines = text.split("\r" if "\n" not in text and "\r" in text else "\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_diff_lenient(text: str, *, origin: str = "<diff>", first_line: int = 1,
                       strict: bool = False) -> DiffParse:
    """Parse a diff, repairing short hunks (with warnings) unless ``strict``."""
    sc = _Scanner(split_lines(text), origin, first_line, strict=strict)
    sc.scan()
    files: list[FilePatch] = []
    for block in sc.blocks:
        fp = _freeze(block, origin, first_line)
        if fp.old_path is None and fp.new_path is None:
            if strict:
                raise ParseError("a file diff names no file", fp.ref)
            sc.warn(block.start, "a file diff names no file; skipped")
            sc.partial = True
            continue
        files.append(fp)
    if not files:
        raise ParseError(NO_DIFF, sc.ref(sc.blocks[0].start))
    return DiffParse(tuple(files), tuple(sc.warnings), sc.partial, sc.end)


def parse_diff(text: str, *, origin: str = "<diff>", first_line: int = 1) -> tuple[FilePatch, ...]:
    """Parse a git/unified diff into FilePatches; raise ParseError on malformed input.

    Text before the first file header (a commit message) and after the last hunk
    (a mail signature) is ignored; ``"".join(f.render() for f in files)`` gives back
    the diff itself.
    """
    return parse_diff_lenient(text, origin=origin, first_line=first_line, strict=True).files


def render_diff(files: tuple[FilePatch, ...]) -> str:
    """The diff text of several files (the inverse of ``parse_diff``)."""
    return "".join(f.render() for f in files)


# ---------------------------------------------------------------- patch messages

# Re: [RFC PATCH bpf-next v2 1/4] arm64: ftrace: Add ftrace direct call support
RE_REPLY = re.compile(r"^\s*(?:(?:re|aw|sv|fwd?)\s*(?:\[\d+\])?:\s*)+", re.I)
# [PATCH v2 3/4]   /   [PATCHv4]
RE_BRACKET = re.compile(r"^\s*\[([^\]]*)\]\s*")
# v2   /   V10
RE_VERSION = re.compile(r"^[vV](\d{1,4})$")
# PATCHv4   /   RFCv2
RE_GLUED_VERSION = re.compile(r"^([A-Za-z]+)[vV](\d{1,4})$")
# 3/4   /   03/14
RE_NUMBER = re.compile(r"^(\d{1,5})/(\d{1,5})$")
# Signed-off-by: Abel Vesa <abelvesa@linux.com>
RE_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*):[ \t]*(\S.*)?$")
# [ rostedt: fixed the comment ]   /   (cherry picked from commit 0123abcd)
RE_TRAILER_NOTE = re.compile(r"^\s*[\[(].*[\])]\s*$")
# commit 80d6b0c2eed2 upstream.
RE_UPSTREAM_COMMIT = re.compile(r"^\s*commit ([0-9a-f]{7,40}) upstream\b", re.I | re.M)
# [ Upstream commit 80d6b0c2eed2a8a1a6ee46cb6a41e4a0fd4e8a3c ]
RE_UPSTREAM_BRACKET = re.compile(r"\[\s*upstream commit ([0-9a-f]{7,40})\s*\]", re.I)
# (cherry picked from commit 80d6b0c2eed2a8a1a6ee46cb6a41e4a0fd4e8a3c)
RE_CHERRY_PICK = re.compile(r"\(cherry[ -]picked from commit ([0-9a-f]{7,40})", re.I)
# base-commit: 80d6b0c2eed2a8a1a6ee46cb6a41e4a0fd4e8a3c
RE_BASE_COMMIT = re.compile(r"^base-commit: ([0-9a-f]{7,40})\s*$", re.M)
# prerequisite-patch-id: 1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e
RE_PREREQ = re.compile(r"^prerequisite-patch-id: ([0-9a-f]{7,40})\s*$", re.M)
# From: Xu Kuohai <xukuohai@huawei.com>   (an in-body header that overrides the mail's)
RE_INBODY = re.compile(r"^(From|Date|Subject): (.+)$")
#: keys that make a paragraph a trailer block even when it holds other lines
KNOWN_TRAILERS = frozenset(k.lower() for k in (
    "Signed-off-by", "Reviewed-by", "Acked-by", "Tested-by", "Reported-by", "Suggested-by",
    "Co-developed-by", "Fixes", "Cc", "Link", "Closes", "Stable-dep-of", "Reported-and-tested-by",
    "Message-Id", "Requested-by", "Debugged-by", "Originally-by", "Change-Id",
))


@dataclass(frozen=True, slots=True)
class Subject:
    """What a ``[PATCH ...]`` subject says."""

    text: str  # without prefixes
    raw: str
    prefixes: tuple[str, ...] = ()
    version: int = 1
    number: int | None = None
    total: int | None = None
    is_reply: bool = False


def parse_subject(raw: str) -> Subject:
    """Split ``Re: [RFC PATCH bpf-next v2 1/4] text`` into its parts (never fails)."""
    raw = " ".join(raw.split())
    rest = raw
    is_reply = False
    prefixes: list[str] = []
    version, number, total = 1, None, None
    while True:
        if m := RE_REPLY.match(rest):
            is_reply = True
            rest = rest[m.end():]
            continue
        m = RE_BRACKET.match(rest)
        if not m:
            break
        rest = rest[m.end():]
        for tok in m.group(1).replace(",", " ").split():
            if v := RE_VERSION.match(tok):
                version = int(v.group(1))
            elif g := RE_GLUED_VERSION.match(tok):
                prefixes.append(g.group(1))
                version = int(g.group(2))
            elif nm := RE_NUMBER.match(tok):
                number, total = int(nm.group(1)), int(nm.group(2))
            else:
                prefixes.append(tok)
    return Subject(rest.strip(), raw, tuple(prefixes), version, number, total, is_reply)


def parse_trailers(lines: list[str], *, origin: str = "<mail>", first_line: int = 1) -> tuple[Trailer, ...]:
    """Trailers of a commit message: its last paragraph, when that reads as a trailer block."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    block = range(start, end)
    out: list[tuple[str, str, int]] = []
    known = other = 0
    for i in block:
        line = lines[i]
        m = RE_TRAILER.match(line)
        if m and not line.startswith((" ", "\t")) and "://" not in m.group(1):
            out.append((m.group(1), (m.group(2) or "").strip(), i))
            known += m.group(1).lower() in KNOWN_TRAILERS or m.group(1).lower().endswith("-by")
        elif line.startswith((" ", "\t")) and out and out[-1][2] == i - 1:
            key, value, _ = out[-1]
            out[-1] = (key, f"{value} {line.strip()}", i)  # a folded trailer
        elif not RE_TRAILER_NOTE.match(line):
            other += 1
    if not out or not known or other * 3 > len(out):
        return ()
    return tuple(Trailer(k, v, SourceRef(origin, first_line + i)) for k, v, i in out)


def find_upstream_ids(text: str) -> tuple[str, ...]:
    """Upstream commit ids a stable/vendor commit message names, in order, unique."""
    seen: dict[str, None] = {}
    hits: list[tuple[int, str]] = []
    for rx in (RE_UPSTREAM_COMMIT, RE_UPSTREAM_BRACKET, RE_CHERRY_PICK):
        hits.extend((m.start(), m.group(1).lower()) for m in rx.finditer(text))
    for _, sha in sorted(hits):
        seen.setdefault(sha, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class MailHeaders:
    """The headers of one message that matter to a Patch (decoded)."""

    subject: str = ""
    author: str = ""
    date: str = ""
    message_id: str = ""
    in_reply_to: str = ""


def _first_diff_line(lines: list[str], start: int) -> int:
    """Index of the first line that opens a file diff (len(lines) when none)."""
    for i in range(start, len(lines)):
        line = lines[i]
        if RE_GIT_HEADER.match(line) or RE_BINARY_FILES.match(line):
            return i
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            j = i
            while j > start and RE_PLAIN_PREAMBLE.match(lines[j - 1]):
                j -= 1
            return j
    return len(lines)


def _find_separator(lines: list[str], stop: int) -> int | None:
    """Index of the ``---`` line that ends the commit message, if any before ``stop``."""
    for i in range(min(stop, len(lines))):
        if lines[i].rstrip() == "---":
            return i
    return None


def parse_patch_text(text: str, headers: MailHeaders, *, origin: str, first_line: int = 1,
                     lenient: bool = False, need_diff: bool = True) -> tuple[Patch, tuple[str, ...]]:
    """One patch mail body (commit message, ``---``, diffstat, diff, signature) to a Patch.

    ``first_line`` is the line of ``text``'s first line in ``origin``. Returns the Patch and
    the warnings raised while reading it. Raises ParseError when ``need_diff`` and no diff.
    """
    lines = split_lines(text)
    author, date, subj_raw = headers.author, headers.date, headers.subject
    body_start = 0
    # in-body From:/Date:/Subject: lines (git am honours them) before the first blank line
    while body_start < len(lines) and (m := RE_INBODY.match(lines[body_start])):
        key, value = m.group(1), m.group(2).strip()
        if key == "From":
            author = value
        elif key == "Date":
            date = value
        else:
            subj_raw = value
        body_start += 1
    if body_start and body_start < len(lines) and not lines[body_start].strip():
        body_start += 1
    first_diff = _first_diff_line(lines, body_start)
    sep = _find_separator(lines, first_diff)
    dstart = sep + 1 if sep is not None else body_start
    files: tuple[FilePatch, ...] = ()
    warnings: tuple[str, ...] = ()
    partial = False
    diff_text = ""
    try:
        parsed = parse_diff_lenient("\n".join(lines[dstart:]) + "\n", origin=origin,
                                    first_line=first_line + dstart, strict=not lenient)
    except ParseError as e:
        # a reply quoting an ed script / old-style diff is no patch of its own: no error for it
        is_reply = parse_subject(subj_raw).is_reply
        if e.message != NO_DIFF and not (isinstance(e, _RefusedDialect) and is_reply):
            raise
        if not is_reply:  # the dialect may sit above a "---" line read as the message's end
            _refuse_dialect(lines[body_start:], origin, first_line + body_start)
        if need_diff:
            raise ParseError("no diff in this message", SourceRef(origin, first_line)) from None
    else:
        files, warnings, partial = parsed.files, parsed.warnings, parsed.partial
        diff_first = (files[0].ref.line if files[0].ref else first_line + dstart) - first_line
        diff_text = "\n".join(lines[diff_first:dstart + parsed.end]) + "\n"
    msg_end = sep if sep is not None else min(first_diff, len(lines))
    signature = next((i for i in range(body_start, msg_end) if lines[i] == "-- "), None)
    if signature is not None:
        msg_end = signature
    message = lines[body_start:msg_end]
    while message and (not message[-1].strip() or RE_BASE_COMMIT.match(message[-1])
                       or RE_PREREQ.match(message[-1])):
        message.pop()
    body = "\n".join(message) + ("\n" if message else "")
    tail = "\n".join(lines[body_start:])
    if not subj_raw.strip() and message:
        subj_raw = next(ln for ln in message if ln.strip())  # a quilt patch without headers
    subject = parse_subject(subj_raw)
    patch = Patch(
        subject=subject.text or _subject_from_files(files),
        files=files,
        raw_subject=subject.raw,
        prefixes=subject.prefixes,
        version=subject.version,
        number=subject.number,
        total=subject.total,
        author=author,
        date=date,
        message_id=headers.message_id,
        in_reply_to=headers.in_reply_to,
        body=body,
        trailers=parse_trailers(message, origin=origin, first_line=first_line + body_start),
        upstream_ids=find_upstream_ids(body),
        base_commit=(m.group(1) if (m := RE_BASE_COMMIT.search(tail)) else None),
        prerequisite_patch_ids=tuple(RE_PREREQ.findall(tail)),
        partial=partial,
        ref=SourceRef(origin, first_line),
        diff_text=diff_text if files else "",
    )
    return patch, warnings


def _subject_from_files(files: tuple[FilePatch, ...]) -> str:
    """``Update drivers/foo/bar.c`` (and N more files) for a diff that came without a subject."""
    if not files:
        return "(no subject)"
    first = files[0].path
    if len(files) == 1:
        return f"Update {first}"
    more = len(files) - 1
    return f"Update {first} and {more} more file{'s' if more > 1 else ''}"


def render_subject_prefix(patch: Patch) -> str:
    """``[RFC PATCH v2 3/4]`` for a Patch (the inverse of ``parse_subject``'s split)."""
    words = list(patch.prefixes) or ["PATCH"]
    if patch.version > 1:
        words.append(f"v{patch.version}")
    if patch.number is not None and patch.total is not None:
        words.append(f"{patch.number}/{patch.total}")
    return "[" + " ".join(words) + "]"
