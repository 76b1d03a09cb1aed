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
that names no file. ``parse_diff_lenient`` recovers what it can from a damaged diff
(quoted replies that lost context prefixes or snipped hunks) and returns warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import unidiff
from unidiff.errors import UnidiffParseError

from .errors import ParseError
from .model import FilePatch, Hunk, HunkLine, LineKind, SourceRef

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
        cur: _Block | None = None
        while i < n:
            line = lines[i]
            if len(line) > MAX_LINE:
                raise ParseError(f"line of {len(line)} characters is too long for a diff", self.ref(i))
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
            raise ParseError("no file diff found (expected 'diff --git' or '---'/'+++' lines)", self.ref(0))

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
                self.partial = True
                line = " " + line
            elif line.startswith("@@ ") and RE_HUNK_HEADER.match(line):
                break
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
            if self.strict:
                raise ParseError(msg, self.ref(head))
            self.warn(head, msg + "; hunk kept as far as it goes")
            self.partial = True
            o_found, n_found = old_need - old_left, new_need - new_left
            ostart, nstart = m.group(1), m.group(3)
            body[0] = f"@@ -{ostart},{o_found} +{nstart},{n_found} @@" + (f" {m.group(5)}" if m.group(5) else "")
        cur.hunks.append((head, body))
        return i


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
    elif fo or fn:
        f = fo or fn
        assert f is not None
        strip = f[0] in ("a", "b", "i", "w", "c", "o", "1", "2")
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
    # the names are equal outside of renames: find the split where both halves match
    for k in range(1, len(parts)):
        a, b = " ".join(parts[:k]), " ".join(parts[k:])
        if "/" in a and "/" in b and a.split("/", 1)[1] == b.split("/", 1)[1]:
            return a, _unquote(b)
    if len(parts) == 2:
        return parts[0], _unquote(parts[1])
    return None


def _file_meta(block: _Block) -> dict[str, object]:
    """Paths, blob ids, modes and similarity from a block's header lines."""
    old: str | None = None
    new: str | None = None
    seen_old = seen_new = False
    meta: dict[str, object] = {}
    rename: dict[str, str] = {}
    for line in block.header:
        if m := RE_INDEX.match(line):
            meta["old_blob"], meta["new_blob"] = m.group(1), m.group(2)
            if m.group(3):
                meta.setdefault("old_mode", m.group(3))
                meta.setdefault("new_mode", m.group(3))
        elif m := RE_MODE.match(line):
            kind, mode = m.group(1), m.group(2)
            if kind in ("old", "deleted file"):
                meta["old_mode"] = mode
            else:
                meta["new_mode"] = mode
            if kind == "new file":
                meta["new_file"] = True
            if kind == "deleted file":
                meta["deleted_file"] = True
        elif m := RE_SIMILARITY.match(line):
            meta["similarity"] = int(m.group(1))
        elif m := RE_RENAME.match(line):
            rename[m.group(2)] = _unquote(m.group(3))
        elif (m := RE_OLD_FILE.match(line)) and not seen_old:
            old, seen_old = _unquote(m.group(1)), True
        elif (m := RE_NEW_FILE.match(line)) and not seen_new:
            new, seen_new = _unquote(m.group(1)), True
        elif m := RE_BINARY_FILES.match(line):
            old, new, seen_old, seen_new = _unquote(m.group(1)), _unquote(m.group(2)), True, True
    if not (seen_old and seen_new) and block.git:
        pair = _split_git_paths(RE_GIT_HEADER.match(block.header[0]).group(1))  # type: ignore[union-attr]
        if pair:
            old = old if seen_old else pair[0]
            new = new if seen_new else pair[1]
    old_path = None if old == DEV_NULL else old
    new_path = None if new == DEV_NULL else new
    old_path, new_path = _strip_prefix(old_path, new_path)
    if "from" in rename:
        old_path = rename["from"]
    if "to" in rename:
        new_path = rename["to"]
    if meta.get("new_file"):
        old_path = None
    if meta.get("deleted_file"):
        new_path = None
    meta["old_path"], meta["new_path"] = old_path, new_path
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
        old_path=meta["old_path"],  # type: ignore[arg-type]
        new_path=meta["new_path"],  # type: ignore[arg-type]
        hunks=_convert_hunks(block, origin, first_line) if not block.binary else (),
        old_blob=meta.get("old_blob"),  # type: ignore[arg-type]
        new_blob=meta.get("new_blob"),  # type: ignore[arg-type]
        old_mode=meta.get("old_mode"),  # type: ignore[arg-type]
        new_mode=meta.get("new_mode"),  # type: ignore[arg-type]
        is_binary=block.binary,
        similarity=meta.get("similarity"),  # type: ignore[arg-type]
        header_lines=tuple(block.header),
        ref=SourceRef(origin, first_line + block.start),
    )


def split_lines(text: str) -> list[str]:
    """Lines without their ``\\n`` (a ``\\r`` before it is kept: it is content)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_diff_lenient(text: str, *, origin: str = "<diff>", first_line: int = 1,
                       strict: bool = False) -> DiffParse:
    """Parse a diff, repairing short hunks (with warnings) unless ``strict``."""
    sc = _Scanner(split_lines(text), origin, first_line, strict=strict)
    sc.scan()
    files = tuple(_freeze(b, origin, first_line) for b in sc.blocks)
    return DiffParse(files, tuple(sc.warnings), sc.partial, sc.end)


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
