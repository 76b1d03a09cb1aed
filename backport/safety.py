"""Safety checks on what a patch asks to write (stage: series/target, before apply).

Inputs: a ``FilePatch`` and the ``TargetTree`` it is ported onto, or the raw text of a diff.
Outputs: ``Finding`` tuples (severity ERROR for anything that must never be written).

A patch read from a mailing list comes from a stranger. GNU patch had a CVE for each trick
checked here, so every one is refused with a finding, never "handled":

- ``unsafe-path``: absolute paths, ``..`` components (``a/../../x``), NUL/control/bidi
  characters, overlong names, paths into ``.git`` (any case) or into the apply record;
- ``symlink-escape``: a component of the path is a symlink in the target pointing outside it;
- ``symlink-write``: a component of the path is a symlink in the target (even pointing inside):
  the write would land somewhere else than the patch says;
- ``symlink-create``: the patch makes a symlink (mode 120000) or turns a file into one;
- ``setuid-mode`` / ``unsafe-mode``: setuid/setgid/sticky bits, world-writable or unknown modes;
- ``gitlink-unsupported``: submodule entries (mode 160000);
- ``not-regular-file``: the target path is a directory, device or fifo;
- ``binary-unsupported``: ``GIT binary patch`` and ``Binary files ... differ``;
- ``ed-diff-refused``: ed scripts are never executed; ``normal-diff-unsupported`` and
  ``context-diff-unsupported`` for the other diff dialects when they reach the checks as text.

``check_filepatch_safety`` is what the pipeline calls per file before placing; apply.py calls
the same checks again (``find_path_problem``) right before writing.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .errors import UnsafePathError
from .model import FilePatch, Finding, Patch, Severity, SourceRef, TargetTree
from .target import check_relpath

#: where apply.py keeps its record in a tree that is not a git work tree
RECORD_DIRNAME = ".backport-apply"

#: directories deep (a kernel path has about 10; this only stops a tree of junk directories)
MAX_DEPTH = 64

#: codes that make apply refuse a whole series
REFUSING_CODES = frozenset({
    "unsafe-path", "symlink-escape", "symlink-write", "symlink-create", "setuid-mode",
    "unsafe-mode", "gitlink-unsupported", "not-regular-file", "ed-diff-refused",
})

MODE_SYMLINK = 0o120000
MODE_GITLINK = 0o160000

# 1,3c   /   12a   /   7d      (an ed command line; also the head of a "normal" diff hunk)
RE_ED_COMMAND = re.compile(r"^\d+(?:,\d+)?[acd]$")
# 3,4c3,5   (a "normal" diff hunk header: ranges on both sides)
RE_NORMAL_HUNK = re.compile(r"^\d+(?:,\d+)?[acd]\d+(?:,\d+)?$")
# ***************    (separates hunks of a context diff)
RE_CONTEXT_SEP = re.compile(r"^\*{15}\s*$")
# *** 1,5 ****        (old range of a context diff hunk)
RE_CONTEXT_RANGE = re.compile(r"^\*\*\* \d+(?:,\d+)? \*\*\*\*\s*$")
# GIT binary patch
RE_GIT_BINARY = re.compile(r"^GIT binary patch\s*$")
# Binary files a/fw.bin and b/fw.bin differ
RE_BINARY_DIFFER = re.compile(r"^Binary files .* differ\s*$")
# rename from drivers/a.c   /   copy to drivers/b.c
RE_HEADER_PATH = re.compile(r"^(?:rename|copy) (?:from|to) (.*)$")
# --- a/drivers/a.c   /   +++ b/drivers/a.c\t2024-01-01
RE_MINUS_PLUS_PATH = re.compile(r"^(?:---|\+\+\+) (?:[ab]/)?([^\t]*)")
# old mode 100644   /   new file mode 100755   /   deleted file mode 100644
RE_MODE_LINE = re.compile(r"^(?:old mode|new mode|new file mode|deleted file mode) ([0-7]+)\s*$")

# ESC, BEL, CR, C1 controls, zero-width and bidi overrides, lone surrogates (invalid UTF-8 bytes)
RE_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")

#: unicode categories that have no business in a kernel path (controls, format/bidi, separators,
#: surrogates = invalid UTF-8 bytes after surrogateescape, private use)
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def find_path_problem(path: str) -> str | None:
    """Why ``path`` (relative, from a patch) must not be written, or None when it is fine."""
    try:
        norm = check_relpath(path)
    except UnsafePathError as e:
        return e.message
    for ch in path:
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            return f"path {path!r} holds the invisible or invalid character U+{ord(ch):04X}"
    parts = norm.split("/")
    if len(parts) > MAX_DEPTH:
        return f"path of {len(parts)} components is deeper than {MAX_DEPTH}"
    for part in parts:
        if len(part.encode("utf-8", "surrogateescape")) > 255:  # NAME_MAX counts bytes
            return f"path component of {len(part.encode('utf-8', 'surrogateescape'))} bytes is too long"
        # ".GIT", ".git." and ".git " name .git on case-insensitive or Windows filesystems
        if part.lower().rstrip(". ") == ".git":
            return f"path {path!r} writes into .git"
        if part == RECORD_DIRNAME:
            return f"path {path!r} writes into backport's apply record"
    return None


def _mode_findings(fp: FilePatch, ref: SourceRef | None) -> Iterator[Finding]:
    modes = [m for m in (fp.old_mode, fp.new_mode) if m]
    for line in fp.header_lines:
        m = RE_MODE_LINE.match(line.rstrip("\n"))
        if m:
            modes.append(m.group(1))
    for text in dict.fromkeys(modes):
        try:
            mode = int(text, 8)
        except ValueError:
            yield Finding("unsafe-mode", Severity.ERROR, f"{fp.path}: unreadable file mode {text!r}", ref)
            continue
        if mode == MODE_SYMLINK:
            yield Finding("symlink-create", Severity.ERROR,
                          f"{fp.path}: the patch makes a symlink (mode {text}); backport never writes one",
                          ref, hint="create the link by hand after checking where it points")
        elif mode == MODE_GITLINK:
            yield Finding("gitlink-unsupported", Severity.ERROR,
                          f"{fp.path}: the patch changes a submodule (mode {text})", ref)
        elif mode & 0o7000:
            yield Finding("setuid-mode", Severity.ERROR,
                          f"{fp.path}: mode {text} sets setuid/setgid/sticky bits; refused", ref,
                          hint="a kernel source file never needs these bits")
        elif mode & 0o002 or (mode & 0o170000) not in (0o100000, 0):
            yield Finding("unsafe-mode", Severity.ERROR,
                          f"{fp.path}: mode {text} is world-writable or not a regular file", ref)


def _binary(fp: FilePatch) -> bool:
    return fp.is_binary or any(RE_GIT_BINARY.match(h) or RE_BINARY_DIFFER.match(h) for h in fp.header_lines)


def _header_paths(fp: FilePatch) -> Iterator[str]:
    """Paths named in the raw header, so a parser that normalised them cannot hide a trick."""
    for line in fp.header_lines:
        line = line.rstrip("\n")
        m = RE_HEADER_PATH.match(line) or RE_MINUS_PLUS_PATH.match(line)
        if m and m.group(1).strip() and m.group(1).strip() != "/dev/null":
            yield m.group(1).rstrip()


def _symlink_escapes(tree: TargetTree, prefix: str) -> bool | None:
    """True when the symlink ``prefix`` of a directory tree points outside it; None if unknown."""
    root = getattr(tree, "root", None)
    if not isinstance(root, str) or not os.path.isdir(root):
        return None
    rootp = Path(root).resolve()
    try:
        real = (rootp / prefix).resolve()
    except (OSError, RuntimeError):
        return True
    return real != rootp and rootp not in real.parents


def _symlink_findings(fp: FilePatch, path: str, tree: TargetTree, ref: SourceRef | None) -> Iterator[Finding]:
    is_symlink = getattr(tree, "is_symlink", None)
    if is_symlink is None:
        return
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if not is_symlink(prefix):
            continue
        escapes = _symlink_escapes(tree, prefix)
        if escapes:
            yield Finding("symlink-escape", Severity.ERROR,
                          f"{path}: {prefix} is a symlink in the target that points outside it",
                          ref, evidence=(f"{prefix}: symlink",),
                          hint="writing through it would change a file outside the tree")
        else:
            yield Finding("symlink-write", Severity.ERROR,
                          f"{path}: {prefix} is a symlink in the target; backport never writes through one",
                          ref, evidence=(f"{prefix}: symlink",),
                          hint="port onto the real path the link points to")
        return


def _not_regular(path: str, tree: TargetTree) -> str | None:
    """A description when ``path`` exists in a directory tree but is not a regular file."""
    root = getattr(tree, "root", None)
    if not isinstance(root, str) or not os.path.isdir(root):
        return None
    try:
        st = os.lstat(os.path.join(root, path))
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
        return None
    return "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"


def check_filepatch_safety(fp: FilePatch, tree: TargetTree) -> tuple[Finding, ...]:
    """Every reason not to write ``fp`` into ``tree`` (empty when it is safe to place)."""
    ref = fp.ref
    findings: list[Finding] = []
    paths = [p for p in (fp.old_path, fp.new_path) if p is not None]
    if not paths:
        findings.append(Finding("unsafe-path", Severity.ERROR, "file patch names no path", ref))
    safe_paths: list[str] = []
    # the raw header too, so a parser that normalised a path cannot hide a trick (one finding)
    for group in (paths, [p for p in _header_paths(fp) if p not in paths]):
        for p in group:
            problem = find_path_problem(p)
            if problem:
                findings.append(Finding("unsafe-path", Severity.ERROR, problem, ref,
                                        hint="a path from a patch must stay inside the tree"))
                break
            if group is paths:
                safe_paths.append(check_relpath(p))
        if findings:
            break
    for p in dict.fromkeys(safe_paths):
        link = list(_symlink_findings(fp, p, tree, ref))
        findings.extend(link)
        what = None if link else _not_regular(p, tree)
        if what:
            findings.append(Finding("not-regular-file", Severity.ERROR,
                                    f"{p}: the target path is {what}", ref))
    findings.extend(_mode_findings(fp, ref))
    if _binary(fp):
        findings.append(Finding("binary-unsupported", Severity.ERROR,
                                f"{fp.path}: binary patches are not supported; port this file by hand", ref,
                                hint="copy the binary from upstream and check its provenance"))
    elif any(RE_ED_COMMAND.match(h.rstrip("\n")) for h in fp.header_lines):
        findings.append(Finding("ed-diff-refused", Severity.ERROR,
                                f"{fp.path}: the header holds ed commands; ed scripts are never run", ref))
    return tuple(findings)


def check_patch_safety(patch: Patch, tree: TargetTree) -> tuple[Finding, ...]:
    """``check_filepatch_safety`` over every file of ``patch`` plus its diff text's dialect."""
    out: list[Finding] = []
    for fp in patch.files:
        out.extend(check_filepatch_safety(fp, tree))
    if patch.diff_text:
        ref = patch.ref
        out.extend(check_diff_text(patch.diff_text, origin=ref.path if ref else "<patch>",
                                   first_line=ref.line if ref and ref.line else 1))
    return tuple(out)


def check_diff_text(text: str, *, origin: str, first_line: int = 1) -> tuple[Finding, ...]:
    """Findings for diff dialects backport refuses, from raw text: ed scripts, normal diffs,
    context diffs and binary patches (at most one finding per dialect, at its first line)."""
    found: dict[str, Finding] = {}
    lines = text.splitlines()
    in_unified = False
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r")
        ref = SourceRef(origin, first_line + i)
        if line.startswith(("@@ ", "diff --git ")):
            in_unified = line.startswith("@@ ")
            continue
        if in_unified and line[:1] in (" ", "+", "-", "\\", ""):
            continue
        in_unified = False
        if RE_GIT_BINARY.match(line) or RE_BINARY_DIFFER.match(line):
            found.setdefault("binary-unsupported", Finding(
                "binary-unsupported", Severity.ERROR, "binary patch: not supported, port it by hand", ref))
        elif RE_NORMAL_HUNK.match(line) and i + 1 < len(lines) and lines[i + 1][:2] in ("< ", "> "):
            found.setdefault("normal-diff-unsupported", Finding(
                "normal-diff-unsupported", Severity.ERROR,
                "normal (non-unified) diff: regenerate it with `diff -u` or `git diff`", ref))
        elif RE_ED_COMMAND.match(line) and _ed_block_follows(lines, i):
            found.setdefault("ed-diff-refused", Finding(
                "ed-diff-refused", Severity.ERROR,
                "ed script: backport never runs ed commands; send a unified diff", ref,
                hint="GNU patch ran ed on such input (CVE-2018-1000156)"))
        elif RE_CONTEXT_SEP.match(line) and i + 1 < len(lines) and RE_CONTEXT_RANGE.match(lines[i + 1].rstrip("\r")):
            found.setdefault("context-diff-unsupported", Finding(
                "context-diff-unsupported", Severity.ERROR,
                "context diff (diff -c): regenerate it with `diff -u` or `git diff`", ref))
    return tuple(found.values())


def _ed_block_follows(lines: list[str], i: int) -> bool:
    """An ed command is ``Nd`` alone, or ``Na``/``Nc`` followed by text and a lone ``.``."""
    if lines[i].rstrip("\r").endswith("d"):
        return i + 1 >= len(lines) or RE_ED_COMMAND.match(lines[i + 1].rstrip("\r")) is not None \
            or lines[i + 1].rstrip("\r") in ("w", "q", ".")
    for j in range(i + 1, min(len(lines), i + 10_000)):
        if lines[j].rstrip("\r") == ".":
            return True
    return False


def _escape_char(m: re.Match[str]) -> str:
    c = m.group(0)
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def render_printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (ESC sequences that retitle or
    clear the terminal, CR that overwrites a line), bidi overrides and undecodable bytes become
    visible ``\\x1b`` / ``\\u202e`` escapes. Tabs and newlines are kept."""
    return RE_UNPRINTABLE.sub(_escape_char, text)
