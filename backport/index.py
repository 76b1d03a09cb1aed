"""Target index (stage: target): what a kernel tree defines and how it is built, cached on disk.

Inputs: a model.TargetTree (plain directory, git revision or memory), optionally a vendor
``.config``. Outputs: a TreeIndex answering "does the target define symbol X / Kconfig option Y /
Makefile variable Z", backed by one sqlite file per tree identity under
``$XDG_CACHE_HOME/backport`` (or ``~/.cache/backport``).

Why a line/regex scanner and not tree-sitter for the whole tree: a full kernel holds ~55k C files
(1.3 GB); a tree-sitter parse plus a Python walk of every node costs minutes on two cores, while
the definitions deps needs (functions, prototypes, macros, tags, members, enumerators, typedefs,
globals, exports, asm labels, Kconfig symbols, Kbuild variables) sit in a few regular shapes of
kernel style (column-0 declarations, ``#define``, ``struct x {``). The scanner over-approximates
(a false definition only hides an alarm; a missed one raises a false alarm) and runs on 2 worker
processes. tree-sitter is used by deps only on the few files a patch touches.

Public API (for deps, kb rules and the pipeline)::

    load_index(tree, *, cache_dir=None, config=None, paths=None, rebuild=False) -> TreeIndex
    TreeIndex.defines(name) -> list[Definition]        # not struct members
    TreeIndex.members(name) -> list[Definition]        # struct/union members of that name
    TreeIndex.has(name) -> bool
    TreeIndex.kconfig(name) -> KconfigSymbol | None    # "FOO" or "CONFIG_FOO"
    TreeIndex.makefile_vars(glob="*") / .makefile_flags() / .cflags_remove(obj_glob="*")
    TreeIndex.cc_options() -> list[MakeVar]            # assignments testing $(call cc-option,...)
    TreeIndex.gating_configs(path) / .is_built(path) / .config_value(name)
    TreeIndex.similar(name, limit=3, score_cutoff=80.0) -> list[tuple[str, float]]
    TreeIndex.version -> (VERSION, PATCHLEVEL, SUBLEVEL) | None
"""

from __future__ import annotations

import fnmatch
import hashlib
import multiprocessing
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import ParseError
from .model import SourceRef, TargetTree

SCHEMA = 6
C_EXT = (".c", ".h")
ASM_EXT = (".S", ".s", ".inc")

# ------------------------------------------------------------------ value types


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str  # function, prototype, macro, fmacro, struct, union, enum, enumerator, typedef,
    # variable, export, decl (named by a DEFINE_*/DECLARE_* style macro), member, asm-label,
    # asm-macro, asm-offset
    path: str
    line: int
    scope: str = ""  # the struct of a member, the enum of an enumerator

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class KconfigSymbol:
    name: str
    type: str  # bool, tristate, int, hex, string, "" when unknown
    path: str
    line: int
    depends: tuple[str, ...] = ()
    selects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MakeVar:
    """One Makefile/Kbuild assignment (continuation lines joined)."""

    path: str
    line: int
    name: str  # obj-$(CONFIG_FOO), CFLAGS_REMOVE_ftrace.o, ccflags-y, CC_FLAGS_FTRACE ...
    op: str  # = += := ?=
    value: str


# ------------------------------------------------------------------ scanners (pure, per file)

# #define FOO(x) ...   /   # define BAR 1   (found by its "#", then checked to open its line)
RE_DEFINE = re.compile(rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)(\()?")
# a line that starts in column 0 with a word or "}": "static int foo(void)", "} foo_t;"
RE_COL0 = re.compile(rb"\n([A-Za-z_}][^\n]*)")
# struct foo {   /   enum {   /   union __packed bar\n{   (nested in a body)
RE_TAG = re.compile(rb"\b(struct|union|enum)\s+(?:__\w+\s+(?=[A-Za-z_]\w*\s*\{))?([A-Za-z_]\w*)?\s*\{")
# typedef struct foo {   /   struct bar   (brace on the next line)   /   static struct ctx {
RE_TOPTAG = re.compile(rb"(?:(?:typedef|static|const|extern)\s+)*(struct|union|enum)\s*(?:__\w+\s+(?=[A-Za-z_]))?([A-Za-z_]\w*)?\s*(?:__\w+\s*)*(\{.*)?$")
# static int __init foo(void)   /   foo(struct bar *b)   /   __printf(1, 2) void baz(const char *f, ...)
RE_TOPCALL = re.compile(
    rb"(?!(?:typedef|return|if|else|do|while|for|switch|case|goto)\b)"
    rb"((?:__\w+\s*\((?:[^()\n]|\([^()\n]*\))*\)\s*)*[A-Za-z_][^;{}()=#\n]*?)?\b([A-Za-z_]\w*)\s*\((.*)$")
# static unsigned long foo_count __read_mostly = 1;   /   extern struct bus_type pci_bus_type;
RE_TOPVAR = re.compile(
    rb"(?!(?:typedef|return|goto|case)\b)[A-Za-z_][\w \t\*]*?[\s\*]\**([A-Za-z_]\w*)\s*"
    rb"(?:\[[^\]\n]*\]\s*)*(?:__\w+(?:\([^)\n]*\))?\s*)*(?:=|;|$)")
# int (*foo_hook)(int);  (a global function pointer)
RE_TOPFNPTR = re.compile(rb"[A-Za-z_][\w \t\*]*\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(")
# } foo_t;   /   } __packed bar;
RE_CLOSE_NAME = re.compile(rb"\}\s*(?:__\w+\s+)*\**([A-Za-z_]\w*)\s*(?:\[[^\]\n]*\])?\s*[;=,]")
# typedef unsigned long pgdval_t;   /   typedef int (*cb_t)(int);
RE_TYPEDEF = re.compile(rb"typedef\b([^;{]*);")
# static __always_inline __alloc_size(1) void *kmalloc(   (the attribute call, then a word)
RE_ATTR_CALL = re.compile(rb"\b__\w+\s*\((?:[^()\n]|\([^()\n]*\))*\)(?=\s*[A-Za-z_*])")
# (*name)
RE_FNPTR_NAME = re.compile(rb"\(\s*\*\s*(?:const\s+)?([A-Za-z_]\w*)\s*\)")
# EXPORT_SYMBOL_GPL(foo);
RE_EXPORT = re.compile(rb"EXPORT_(?:SYMBOL|PER_CPU_SYMBOL)\w*\(\s*([A-Za-z_]\w*)")
# SYSCALL_DEFINE3(openat, ...   /   COMPAT_SYSCALL_DEFINE2(foo, ...
RE_SYSCALL = re.compile(rb"(COMPAT_)?SYSCALL_DEFINE\d\(\s*(\w+)")
RE_IDENT = re.compile(rb"[A-Za-z_]\w*")
RE_COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)
RE_PREPROC_LINE = re.compile(rb"^[ \t]*#[^\n]*(?:\\\n[^\n]*)*", re.M)
RE_PARENS = re.compile(rb"\([^()]*\)")
# DECLARE_BITMAP(bits, 64
RE_MACRO_START = re.compile(rb"^[A-Za-z_]\w*\s*\(")
# u64 x __aligned(8);   ->  x
RE_MEMBER_TAIL = re.compile(
    rb"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:__\w+\s*(?:\((?:[^()]|\([^()]*\))*\))?\s*)*(?::\s*[\w ()+*-]+)?\s*$")
# DEFINE(S_FP, offsetof(...));   /   OFFSET(TI_FLAGS, thread_info, flags);
RE_ASM_OFFSET = re.compile(rb"^\s*(?:DEFINE|OFFSET)\(\s*([A-Za-z_]\w*)\s*,", re.M)
# foo_entry:   /   .Lbar:
RE_ASM_LABEL = re.compile(rb"^\s*([A-Za-z_.$][\w.$]*):", re.M)
# SYM_FUNC_START(foo)   /   ENTRY(bar)   /   GLOBAL(baz)
RE_ASM_SYM = re.compile(rb"^\s*(?:SYM_[A-Z_]*START[A-Z_]*|SYM_INNER_LABEL\w*|SYM_[A-Z_]*ALIAS\w*|ENTRY|GLOBAL|WEAK)"
                        rb"\s*\(\s*([A-Za-z_]\w*)", re.M)
# .macro kernel_entry, el   /   .globl foo   /   .set FOO, 1
RE_ASM_DIRECTIVE = re.compile(rb"^\s*\.(macro|globl|global|weak|set|equ)\s+([A-Za-z_.$][\w.$]*)", re.M)

C_WORDS = frozenset(
    b"auto break case char const continue default do double else enum extern float for goto if inline "
    b"int long register restrict return short signed sizeof static struct switch typedef union unsigned "
    b"void volatile while bool _Bool asm typeof".split())


def _line_of(text: bytes, pos: int, cache: list[int]) -> int:
    """1-based line of byte offset ``pos`` (``cache`` = [last_pos, last_line], monotone scans)."""
    if pos < cache[0]:
        cache[0], cache[1] = 0, 1
    cache[1] += text.count(b"\n", cache[0], pos)
    cache[0] = pos
    return cache[1]


def _matching_brace(text: bytes, open_pos: int, limit: int = 400_000) -> int:
    """Offset of the ``}`` closing the ``{`` at ``open_pos`` (or -1)."""
    depth = 0
    i = open_pos
    end = min(len(text), open_pos + limit)
    while i < end:
        a = text.find(b"{", i, end)
        b = text.find(b"}", i, end)
        if b < 0:
            return -1
        if 0 <= a < b:
            depth += 1
            i = a + 1
        else:
            depth -= 1
            if depth == 0:
                return b
            i = b + 1
    return -1


def _clean_body(body: bytes) -> bytes:
    return RE_PREPROC_LINE.sub(b"", RE_COMMENT.sub(b" ", body))


def _member_names(body: bytes) -> Iterator[bytes]:
    """Member names declared in a struct/union body (nested anonymous aggregates included)."""
    body = _clean_body(body).replace(b"{", b";").replace(b"}", b";")
    for piece in body.split(b";"):
        piece = piece.strip()
        if not piece:
            continue
        m = RE_FNPTR_NAME.search(piece)
        if m:
            yield m.group(1)
            continue
        if RE_MACRO_START.match(piece):  # DECLARE_BITMAP(bits, 64), struct_group(x, ...): every word may be a name
            for w in RE_IDENT.findall(piece):
                if w not in C_WORDS:
                    yield w
            continue
        for part in piece.split(b","):
            m = RE_MEMBER_TAIL.search(part.strip())
            if m and m.group(1) not in C_WORDS:
                yield m.group(1)


def _enumerators(body: bytes) -> Iterator[bytes]:
    body = _clean_body(body)
    for _ in range(3):
        body = RE_PARENS.sub(b"", body)
    for part in body.split(b","):
        m = RE_IDENT.search(part)
        if m and part[: m.start()].strip() == b"":
            yield m.group(0)


Row = tuple[str, str, int, str]  # name, kind, line, scope


def _opens_line(text: bytes, pos: int) -> bool:
    """Only blanks between the start of the line and ``pos``."""
    start = text.rfind(b"\n", 0, pos) + 1
    return not text[start:pos].strip()


def scan_c(text: bytes) -> list[Row]:
    """Definitions in one C source or header (see the module docstring for the method).

    Two cheap C-speed passes find ``#define`` lines and column-0 lines; only those lines are
    matched by the declaration patterns, and struct/union/enum bodies are read from there.
    """
    rows: list[Row] = []
    add = rows.append
    lc = [0, 1]
    for m in RE_DEFINE.finditer(text):
        if _opens_line(text, m.start()):
            add((m.group(1).decode(), "fmacro" if m.group(2) else "macro", _line_of(text, m.start(), lc), ""))
    if b";" not in text and b"{" not in text:
        return rows  # a header of register #defines
    lc = [0, 1]
    for m in RE_EXPORT.finditer(text):
        add((m.group(1).decode(), "export", _line_of(text, m.start(), lc), ""))
    lc = [0, 1]
    for m in RE_COL0.finditer(b"\n" + text):
        line_text = m.group(1)
        pos = m.start(1) - 1
        line = _line_of(text, pos, lc)
        _scan_top_line(text, pos, line_text, line, add)
    return rows


def _scan_top_line(text: bytes, pos: int, lt: bytes, line: int, add) -> None:  # noqa: ANN001
    c = lt[:1]
    if c == b"}":
        m = RE_CLOSE_NAME.match(lt)
        if m and m.group(1) not in C_WORDS:
            add((m.group(1).decode(), "typedef", line, ""))
        return
    m = RE_TOPTAG.match(lt)
    if m:
        kind, name = m.group(1).decode(), (m.group(2) or b"").decode()
        brace = text.find(b"{", pos, pos + len(lt) + 200) if m.group(3) else -1
        if brace < 0:  # "struct foo" then "{" alone on the next line
            nxt = text[pos + len(lt): pos + len(lt) + 4].lstrip()
            brace = text.find(b"{", pos + len(lt)) if nxt.startswith(b"{") else -1
        if brace >= 0:
            if name:
                add((name, kind, line, ""))
            close = _scan_body(text, brace, kind, name, line, add)
            if close > 0 and lt.startswith(b"typedef"):  # typedef struct { ... } foo_t;
                t = RE_CLOSE_NAME.match(text, close, close + 200)
                if t and t.group(1) not in C_WORDS and text.rfind(b"\n", 0, close) < pos + len(lt):
                    add((t.group(1).decode(), "typedef", line, ""))
            return
    if lt.startswith(b"typedef"):
        end = text.find(b";", pos, pos + 2000)
        decl = text[pos:end] if end > 0 else lt
        f = RE_FNPTR_NAME.search(decl)
        names = [f.group(1)] if f else RE_IDENT.findall(RE_PARENS.sub(b"", decl))[-1:]
        for n in names:
            if n not in C_WORDS:
                add((n.decode(), "typedef", line, ""))
        return
    m = RE_SYSCALL.match(lt)
    if m:
        base = m.group(2).decode()
        pre = "compat_sys_" if m.group(1) else "sys_"
        add((pre + base, "function", line, ""))
        add(("__do_" + pre + base, "function", line, ""))
        return
    m = RE_TOPFNPTR.match(lt)
    if m:
        add((m.group(1).decode(), "variable", line, ""))
        return
    if b"__" in lt:
        lt = RE_ATTR_CALL.sub(b" ", lt).lstrip()
    m = RE_TOPCALL.match(lt)
    if m:
        name = m.group(2)
        prefix = (m.group(1) or b"").strip()
        rest = m.group(3)
        if name.upper() == name and (not prefix or prefix in (b"static", b"extern")):
            # a macro invocation at file level: DEFINE_MUTEX(lock); DEFINE_PER_CPU(int, x);
            for w in RE_IDENT.findall(rest):
                if w not in C_WORDS:
                    add((w.decode(), "decl", line, name.decode()))
            return
        elif not prefix and rest.rstrip().endswith(b";"):  # module_init(foo_init);
            return
        elif name not in C_WORDS and not name.startswith(b"__attribute"):
            head = rest.rstrip()
            kind = "prototype" if head.endswith(b";") else "function"
            add((name.decode(), kind, line, ""))
            return
    m = RE_TOPVAR.match(lt)
    if m and m.group(1) not in C_WORDS:
        add((m.group(1).decode(), "variable", line, ""))


def _scan_body(text: bytes, brace: int, kind: str, name: str, line: int, add) -> int:  # noqa: ANN001
    """Members or enumerators of the body opening at ``brace``; returns the closing offset."""
    close = _matching_brace(text, brace)
    if close < 0:
        return -1
    body = text[brace + 1: close]
    if kind == "enum":
        for e in _enumerators(body):
            add((e.decode(), "enumerator", line, name))
        return close
    for mem in set(_member_names(body)):
        add((mem.decode(), "member", line, name))
    for m in RE_TAG.finditer(body):  # named aggregates declared inside: struct foo { struct bar { ...
        if m.group(2):
            add((m.group(2).decode(), m.group(1).decode(), line, ""))
    return close


def scan_asm(text: bytes, path: str) -> list[Row]:
    """Labels, SYM_*/ENTRY symbols, .macro/.globl/.set names and #defines of an assembly file."""
    rows: list[Row] = []
    for rx, kind in ((RE_ASM_SYM, "asm-label"), (RE_ASM_LABEL, "asm-label")):
        lc = [0, 1]
        for m in rx.finditer(text):
            rows.append((m.group(1).decode(), kind, _line_of(text, m.start(), lc), ""))
    lc = [0, 1]
    for m in RE_ASM_DIRECTIVE.finditer(text):
        kind = "asm-macro" if m.group(1) == b"macro" else "asm-label"
        rows.append((m.group(2).decode(), kind, _line_of(text, m.start(), lc), ""))
    lc = [0, 1]
    for m in RE_DEFINE.finditer(text):
        rows.append((m.group(1).decode(), "fmacro" if m.group(2) else "macro", _line_of(text, m.start(), lc), ""))
    return rows


def scan_asm_offsets(text: bytes) -> list[Row]:
    lc = [0, 1]
    return [(m.group(1).decode(), "asm-offset", _line_of(text, m.start(), lc), "")
            for m in RE_ASM_OFFSET.finditer(text)]


# config FOO   /   menuconfig BAR
RE_KCONFIG_ENTRY = re.compile(r"^\s*(config|menuconfig)\s+([A-Za-z0-9_]+)\s*$")
# bool "prompt"   /   def_tristate y   /   hex
RE_KCONFIG_TYPE = re.compile(r"^\s*(bool|tristate|int|hex|string|def_bool|def_tristate)\b")
# depends on FOO && !BAR
RE_KCONFIG_DEPENDS = re.compile(r"^\s*depends\s+on\s+(.*)$")
# select FOO if BAR   /   imply BAZ
RE_KCONFIG_SELECT = re.compile(r"^\s*(?:select|imply)\s+([A-Za-z0-9_]+)")
# choice / endmenu / menu "x" / if FOO / source "..."  (ends an entry)
RE_KCONFIG_END = re.compile(r"^\s*(?:config|menuconfig|choice|endchoice|menu|endmenu|if|endif|source|comment|mainmenu)\b")


def scan_kconfig(text: str) -> list[tuple[str, str, int, str, str]]:
    """(name, type, line, depends joined by ' && ', selects joined by ' ') per config entry.

    A line scanner rather than Kconfiglib: Kconfiglib needs the whole tree with its arch
    environment (SRCARCH, srctree) and stops at the first construct a vendor tree bends; this
    never fails, and deps only needs names, locations, types and the depends/select lists.
    """
    out: list[tuple[str, str, int, str, str]] = []
    cur: list = []
    for i, line in enumerate(text.splitlines(), 1):
        m = RE_KCONFIG_ENTRY.match(line)
        if m:
            if cur:
                out.append((cur[0], cur[1], cur[2], " && ".join(cur[3]), " ".join(cur[4])))
            cur = [m.group(2), "", i, [], []]
            continue
        if not cur:
            continue
        if RE_KCONFIG_END.match(line):
            out.append((cur[0], cur[1], cur[2], " && ".join(cur[3]), " ".join(cur[4])))
            cur = []
            continue
        m = RE_KCONFIG_TYPE.match(line)
        if m and not cur[1]:
            cur[1] = m.group(1).replace("def_", "")
        m = RE_KCONFIG_DEPENDS.match(line)
        if m:
            cur[3].append(m.group(1).strip())
        m = RE_KCONFIG_SELECT.match(line)
        if m:
            cur[4].append(m.group(1))
    if cur:
        out.append((cur[0], cur[1], cur[2], " && ".join(cur[3]), " ".join(cur[4])))
    return out


# obj-$(CONFIG_FTRACE) += ftrace.o   /   CFLAGS_REMOVE_ftrace.o = $(CC_FLAGS_FTRACE)
RE_MAKE_ASSIGN = re.compile(r"^[ \t]*(?:export[ \t]+|override[ \t]+)?([A-Za-z0-9_.\-$(){}/,]+?)[ \t]*(\+=|:=|\?=|=)[ \t]*(.*)$")


def scan_kbuild(text: str) -> list[tuple[int, str, str, str]]:
    """(line, variable, op, value) of every assignment, continuation lines joined."""
    out: list[tuple[int, str, str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        if line.lstrip().startswith("#"):
            continue
        m = RE_MAKE_ASSIGN.match(line)
        if m:
            value = line[m.end(2):].split("#", 1)[0].strip() if "#" in line[m.end(2):] else m.group(3).strip()
            out.append((start + 1, m.group(1), m.group(2), value))
    return out


# ------------------------------------------------------------------ file classification


def file_class(path: str) -> str | None:
    """Which scanner reads ``path``: c, asm, asm-offsets, kconfig, kbuild, or None."""
    base = path.rsplit("/", 1)[-1]
    if base.endswith(C_EXT):
        if "asm-offsets" in base or base == "bounds.c":
            return "asm-offsets"
        return "c"
    if base.endswith(ASM_EXT):
        return "asm"
    if base.startswith("Kconfig"):
        return "kconfig"
    if base in ("Makefile", "Kbuild", "Platform") or base.startswith(("Makefile.", "Kbuild.")) or base.endswith(".mk"):
        return "kbuild"
    return None


def scan_file(path: str, data: bytes) -> tuple[str, list]:
    cls = file_class(path)
    if cls == "c":
        return cls, scan_c(data)
    if cls == "asm-offsets":
        return cls, scan_c(data) + scan_asm_offsets(data)
    if cls == "asm":
        return cls, scan_asm(data, path)
    if cls == "kconfig":
        return cls, scan_kconfig(data.decode("utf-8", "replace"))
    if cls == "kbuild":
        return cls, scan_kbuild(data.decode("utf-8", "replace"))
    return "", []


def _scan_disk(root: str, items: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, int, int, str, list]]:
    for fid, p in items:
        full = os.path.join(root, p)
        try:
            st = os.stat(full)
            with open(full, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        cls, rows = scan_file(p, data)
        yield fid, p, st.st_size, st.st_mtime_ns, cls, rows


def _scan_worker(root: str, items: list[tuple[int, str]], dbpath: str) -> None:
    """Worker process: scan ``items`` into its own sqlite file (merged by the parent in C)."""
    db = sqlite3.connect(dbpath)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(_DDL)
    _insert_scanned(db, _scan_disk(root, items))
    db.commit()
    db.close()


# ------------------------------------------------------------------ identity and cache


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "backport"


def tree_key(tree: TargetTree) -> str:
    """A cheap identity: the git tree id, or for a plain directory a hash of every directory's
    path and mtime (adding, removing or renaming a file changes it); files edited in place are
    caught later by TreeIndex.refresh, which compares sizes and mtimes of the files deps reads."""
    root = getattr(tree, "root", "")
    if type(tree).__name__ == "DirTree" and os.path.isdir(root):
        h = hashlib.sha1(root.encode())
        stack = [root]
        while stack:
            d = stack.pop()
            try:
                st = os.stat(d)
                h.update(f"{d}\0{st.st_mtime_ns}\n".encode())
                with os.scandir(d) as it:
                    for e in it:
                        if e.name not in (".git", ".hg", ".svn", ".pc") and e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
            except OSError:
                continue
        return "dirs:" + h.hexdigest()
    return tree.identity()


_DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT UNIQUE, size INT, mtime INT, cls TEXT);
CREATE TABLE defs(name TEXT, kind TEXT, file INT, line INT, scope TEXT);
CREATE TABLE kconfig(name TEXT, type TEXT, file INT, line INT, depends TEXT, selects TEXT);
CREATE TABLE makevars(file INT, line INT, name TEXT, op TEXT, value TEXT);
"""
_INDEXES = """
CREATE INDEX defs_name ON defs(name);
CREATE INDEX defs_file ON defs(file);
CREATE INDEX kconfig_name ON kconfig(name);
CREATE INDEX makevars_name ON makevars(name);
"""


def _insert_scanned(db: sqlite3.Connection, results: Iterable[tuple[int, str, int, int, str, list]]) -> None:
    cur = db.cursor()
    for fid, path, size, mtime, cls, rows in results:
        cur.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", (fid, path, size, mtime, cls))
        if cls in ("c", "asm", "asm-offsets"):
            cur.executemany("INSERT INTO defs VALUES (?,?,?,?,?)", [(n, k, fid, ln, s) for n, k, ln, s in rows])
        elif cls == "kconfig":
            cur.executemany("INSERT INTO kconfig VALUES (?,?,?,?,?,?)",
                            [(n, t, fid, ln, d, s) for n, t, ln, d, s in rows])
        elif cls == "kbuild":
            cur.executemany("INSERT INTO makevars VALUES (?,?,?,?,?)", [(fid, ln, n, o, v) for ln, n, o, v in rows])


def _partition(root: str, items: list[tuple[int, str]], jobs: int) -> list[list[tuple[int, str]]]:
    """Split files into ``jobs`` lists of about equal total size (largest first, greedy)."""
    sized = []
    for fid, p in items:
        try:
            sized.append((os.path.getsize(os.path.join(root, p)), fid, p))
        except OSError:
            continue
    sized.sort(reverse=True)
    parts: list[list[tuple[int, str]]] = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for size, fid, p in sized:
        i = loads.index(min(loads))
        parts[i].append((fid, p))
        loads[i] += size + 2000
    return parts


def build_index_db(tree: TargetTree, db: sqlite3.Connection, *, paths: Iterable[str] | None = None,
                   jobs: int | None = None, workdir: str | None = None) -> None:
    """Scan ``paths`` (default: every file of the tree) into the empty database ``db``.

    A plain directory is scanned by ``jobs`` processes (default: up to 2), each writing its own
    sqlite file in ``workdir``; the parent merges them with INSERT ... SELECT and builds the
    lookup indexes, so no Python object crosses a process boundary.
    """
    db.executescript(_DDL)
    wanted = list(enumerate((p for p in (paths if paths is not None else tree.iter_paths()) if file_class(p)), 1))
    root = getattr(tree, "root", "")
    on_disk = type(tree).__name__ == "DirTree" and os.path.isdir(root)
    jobs = jobs or min(2, os.cpu_count() or 1)
    if on_disk and jobs > 1 and len(wanted) > 2000 and workdir and hasattr(os, "fork"):
        ctx = multiprocessing.get_context("fork")
        parts = _partition(root, wanted, jobs)
        dbs = [os.path.join(workdir, f".scan-{os.getpid()}-{i}.sqlite") for i in range(jobs)]
        for d in dbs:
            if os.path.exists(d):
                os.unlink(d)
        procs = [ctx.Process(target=_scan_worker, args=(root, part, d)) for part, d in zip(parts, dbs, strict=True)]
        for pr in procs[1:]:
            pr.start()
        _insert_scanned(db, _scan_disk(root, parts[0]))  # the parent is worker 0
        db.commit()
        for pr in procs[1:]:
            pr.join()
            if pr.exitcode != 0:
                raise RuntimeError(f"index worker failed with exit code {pr.exitcode}")
        for d in dbs[1:]:
            db.execute("ATTACH DATABASE ? AS w", (d,))
            for table in ("files", "defs", "kconfig", "makevars"):
                db.execute(f"INSERT INTO main.{table} SELECT * FROM w.{table}")
            db.commit()
            db.execute("DETACH DATABASE w")
            os.unlink(d)
    elif on_disk:
        _insert_scanned(db, _scan_disk(root, wanted))
    else:
        res = []
        for fid, p in wanted:
            text = tree.read(p)
            if text is None:
                continue
            data = text.encode("utf-8", "surrogateescape")
            cls, rows = scan_file(p, data)
            res.append((fid, p, len(data), 0, cls, rows))
        _insert_scanned(db, res)
    db.executescript(_INDEXES)
    version = tree.kernel_version()
    db.execute("INSERT INTO meta VALUES ('version', ?)", (".".join(map(str, version)) if version else "",))
    db.execute("INSERT INTO meta VALUES ('partial', ?)", ("1" if paths is not None else "0",))
    for table in ("files", "defs", "kconfig", "makevars"):
        db.execute("INSERT INTO meta VALUES (?, (SELECT count(*) FROM " + table + "))", ("count-" + table,))
    db.commit()


# ------------------------------------------------------------------ .config


# CONFIG_FOO=y   /   # CONFIG_BAR is not set
RE_DOTCONFIG = re.compile(r"^(?:(CONFIG_\w+)=(.*)|# (CONFIG_\w+) is not set)\s*$")


def load_dotconfig(path: str) -> dict[str, str]:
    """``{"FOO": "y", "BAR": "n", ...}`` from a .config; ParseError on a line that is neither."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise ParseError(f"cannot read config: {e.strerror}", SourceRef(path)) from e
    out: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or (s.startswith("#") and not RE_DOTCONFIG.match(s)):
            continue
        m = RE_DOTCONFIG.match(s)
        if not m:
            raise ParseError(f"not a .config line: {line[:60]!r}", SourceRef(path, i))
        if m.group(1):
            out[m.group(1)[7:]] = m.group(2).strip('"')
        else:
            out[m.group(3)[7:]] = "n"
    return out


# ------------------------------------------------------------------ the index


class TreeIndex:
    """Queries over one tree's sqlite index. Cheap to open; every query is an indexed lookup."""

    def __init__(self, db: sqlite3.Connection, tree: TargetTree, key: str,
                 config: dict[str, str] | None = None, seconds: float = 0.0, cached: bool = False) -> None:
        self.db = db
        self.tree = tree
        self.key = key
        self.config = config
        self.seconds = seconds  # time to build or load
        self.cached = cached
        self._names: list[str] | None = None
        self._refreshed: set[str] = set()
        meta = dict(db.execute("SELECT key, value FROM meta"))
        v = meta.get("version", "")
        self.version: tuple[int, int, int] | None = tuple(int(x) for x in v.split(".")) if v else None  # type: ignore[assignment]
        self.partial = meta.get("partial") == "1"

    # ---- definitions
    def _defs(self, sql: str, args: tuple) -> list[Definition]:
        return [Definition(n, k, p, ln, s) for n, k, p, ln, s in self.db.execute(
            "SELECT d.name, d.kind, f.path, d.line, d.scope FROM defs d JOIN files f ON f.id = d.file " + sql, args)]

    def defines(self, name: str) -> list[Definition]:
        """Where ``name`` is defined or declared (functions, macros, types, globals, asm ...)."""
        return self._defs("WHERE d.name = ? AND d.kind != 'member' ORDER BY f.path, d.line", (name,))

    def members(self, name: str) -> list[Definition]:
        return self._defs("WHERE d.name = ? AND d.kind = 'member' ORDER BY f.path, d.line", (name,))

    def has(self, name: str, *, members: bool = False) -> bool:
        sql = "SELECT 1 FROM defs WHERE name = ?" + ("" if members else " AND kind != 'member'") + " LIMIT 1"
        return self.db.execute(sql, (name,)).fetchone() is not None

    def file_definitions(self, path: str) -> list[Definition]:
        return self._defs("WHERE f.path = ? ORDER BY d.line", (path,))

    def has_file(self, path: str) -> bool:
        return self.db.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() is not None

    def paths_named(self, basename: str) -> list[str]:
        """Indexed files whose basename is ``basename`` (moved files)."""
        return [p for (p,) in self.db.execute(
            "SELECT path FROM files WHERE path = ? OR path LIKE ?", (basename, "%/" + basename))
            if p.rsplit("/", 1)[-1] == basename]

    def names(self) -> list[str]:
        """Every distinct defined name (members excluded), sorted; loaded once on demand."""
        if self._names is None:
            self._names = [n for (n,) in self.db.execute(
                "SELECT DISTINCT name FROM defs WHERE kind != 'member' ORDER BY name")]
        return self._names

    def similar(self, name: str, *, limit: int = 3, score_cutoff: float = 80.0) -> list[tuple[str, float]]:
        """Names close to ``name`` (a renamed API): rapidfuzz over the names sharing its first or
        last ``_`` word, so a lookup reads thousands of names, not millions."""
        from rapidfuzz import fuzz, process

        words = [w for w in name.split("_") if w]
        if not words:
            return []
        pool: set[str] = set()
        for prefix in (name[: name.index(words[0]) + len(words[0])], name[:3]):
            for (n,) in self.db.execute(
                    "SELECT DISTINCT name FROM defs WHERE name >= ? AND name < ? AND kind != 'member' LIMIT 20000",
                    (prefix, prefix + "\x7f")):
                pool.add(n)
            if len(pool) > 50:
                break
        pool.discard(name)
        got = process.extract(name, pool, scorer=fuzz.ratio, limit=limit, score_cutoff=score_cutoff)
        return [(n, float(s)) for n, s, _ in got]

    # ---- Kconfig
    def kconfig(self, name: str) -> KconfigSymbol | None:
        name = name.removeprefix("CONFIG_")
        row = self.db.execute(
            "SELECT k.name, k.type, f.path, k.line, k.depends, k.selects FROM kconfig k JOIN files f ON f.id = k.file "
            "WHERE k.name = ? ORDER BY (k.type = ''), f.path LIMIT 1", (name,)).fetchone()
        if row is None:
            return None
        n, t, p, ln, d, s = row
        return KconfigSymbol(n, t, p, ln, tuple(x for x in d.split(" && ") if x), tuple(s.split()))

    def similar_kconfig(self, name: str, *, score_cutoff: float = 85.0) -> KconfigSymbol | None:
        """The Kconfig symbol closest to ``name`` (renamed options), or None."""
        from rapidfuzz import fuzz, process

        words = name.split("_")
        pool = {n for (n,) in self.db.execute(
            "SELECT DISTINCT name FROM kconfig WHERE name >= ? AND name < ? LIMIT 5000", (words[0], words[0] + "\x7f"))}
        pool.discard(name)
        got = process.extractOne(name, pool, scorer=fuzz.ratio, score_cutoff=score_cutoff)
        return self.kconfig(got[0]) if got else None

    def config_value(self, name: str) -> str | None:
        """Value in the vendor .config ("y", "m", "n", a number/string) or None without one."""
        if self.config is None:
            return None
        return self.config.get(name.removeprefix("CONFIG_"), "n")

    # ---- Kbuild
    def makefile_vars(self, glob: str = "*") -> list[MakeVar]:
        rows = self.db.execute(
            "SELECT f.path, m.line, m.name, m.op, m.value FROM makevars m JOIN files f ON f.id = m.file "
            "WHERE m.name GLOB ? ORDER BY f.path, m.line", (glob,))
        return [MakeVar(*r) for r in rows]

    def makefile_flags(self) -> list[MakeVar]:
        """Assignments to flag variables: CFLAGS_*, CFLAGS_REMOVE_*, ccflags-*, asflags-*,
        KBUILD_*FLAGS*, CC_FLAGS_*, *-flags-*, ldflags-*."""
        rx = re.compile(r"(?:CFLAGS|AFLAGS|ccflags|asflags|ldflags|cflags|KBUILD_\w*FLAGS|CC_FLAGS_|\w*FLAGS)", re.I)
        return [v for v in self.makefile_vars() if rx.match(v.name) or "flags" in v.name.lower()]

    def cflags_remove(self, obj_glob: str = "*") -> list[MakeVar]:
        """``CFLAGS_REMOVE_<obj> = ...`` assignments whose object matches ``obj_glob``."""
        return [v for v in self.makefile_vars("CFLAGS_REMOVE_*")
                if fnmatch.fnmatchcase(v.name[len("CFLAGS_REMOVE_"):], obj_glob)]

    def cc_options(self) -> list[MakeVar]:
        """Assignments whose value tests a compiler flag ($(call cc-option,...) and friends)."""
        return [MakeVar(*r) for r in self.db.execute(
            "SELECT f.path, m.line, m.name, m.op, m.value FROM makevars m JOIN files f ON f.id = m.file "
            "WHERE m.value LIKE '%cc-option%' OR m.value LIKE '%cc-flag%' OR m.value LIKE '%as-option%' "
            "ORDER BY f.path, m.line")]

    def gating_configs(self, path: str) -> list[tuple[str, MakeVar]] | None:
        """The CONFIG_ symbols that must be on for ``path`` (a .c/.S file) to be built: its object,
        the composite objects holding it and the directories above it. None when no Makefile
        names it (a header, or an unknown build)."""
        from posixpath import basename, dirname

        rx = re.compile(r"^(?:obj|lib|core|([\w-]+?))-(?:\$\(CONFIG_(\w+)\)|(y|m|objs))$")
        chain: list[tuple[str, MakeVar]] = []
        target = path.rsplit(".", 1)[0] + ".o"
        found_any = False
        for _ in range(12):  # object -> composite -> directory -> parent directory ...
            is_dir = target.endswith("/")
            d, base = dirname(target.rstrip("/")), basename(target.rstrip("/")) + ("/" if is_dir else "")
            hit = None
            for mf in ("Makefile", "Kbuild"):
                mpath = f"{d}/{mf}" if d else mf
                for v in self.db.execute(
                        "SELECT f.path, m.line, m.name, m.op, m.value FROM makevars m JOIN files f ON f.id = m.file "
                        "WHERE f.path = ?", (mpath,)):
                    mv = MakeVar(*v)
                    if base not in mv.value.split():
                        continue
                    m = rx.match(mv.name)
                    if m:
                        hit = (m, mv)
                        break
                if hit:
                    break
            if hit is None:
                break
            found_any = True
            m, mv = hit
            if m.group(2):
                chain.append((m.group(2), mv))
            if m.group(1) and m.group(1) not in ("obj", "lib", "core"):  # composite: foo-y += bar.o
                target = f"{d}/{m.group(1)}.o" if d else f"{m.group(1)}.o"
            else:
                if not d:
                    break
                target = d + "/"
        return chain if found_any else None

    def is_built(self, path: str) -> bool | None:
        """False when the vendor .config turns off a config gating ``path``; None when unknown."""
        if self.config is None:
            return None
        chain = self.gating_configs(path)
        if chain is None:
            return None
        return all(self.config.get(c, "n") in ("y", "m") for c, _ in chain)

    # ---- freshness
    def refresh(self, paths: Iterable[str]) -> list[str]:
        """Rescan ``paths`` whose size or mtime changed since the index was built (lazy validation
        of the coarse directory key). Returns the paths rescanned."""
        root = getattr(self.tree, "root", "")
        if type(self.tree).__name__ != "DirTree":
            return []
        changed = []
        for p in paths:
            if p in self._refreshed or not file_class(p):
                continue
            self._refreshed.add(p)
            full = os.path.join(root, p)
            row = self.db.execute("SELECT id, size, mtime FROM files WHERE path = ?", (p,)).fetchone()
            try:
                st = os.stat(full)
            except OSError:
                continue
            if row and row[1] == st.st_size and row[2] == st.st_mtime_ns:
                continue
            if row:
                for table in ("defs", "kconfig", "makevars"):
                    self.db.execute(f"DELETE FROM {table} WHERE file = ?", (row[0],))
            fid = row[0] if row else self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()[0]
            _insert_scanned(self.db, _scan_disk(root, [(fid, p)]))
            changed.append(p)
        if changed:
            self._names = None
            self.db.commit()
        return changed

    def stats_cached(self) -> dict[str, int]:
        """Row counts recorded when the index was built (no table scan)."""
        meta = dict(self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'count-%'"))
        if len(meta) < 4:
            return self.stats()
        return {k[6:]: int(v) for k, v in meta.items()}

    def stats(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("files", "defs", "kconfig", "makevars")}


def load_index(tree: TargetTree, *, cache_dir: str | os.PathLike[str] | None = None, config: str | None = None,
               paths: Iterable[str] | None = None, rebuild: bool = False, jobs: int | None = None) -> TreeIndex:
    """The index of ``tree``: loaded from the cache when its identity is unchanged, else built.

    ``paths`` builds a partial index of just those files (lazy mode, not cached); ``config``
    is a vendor .config whose values answer ``is_built``/``config_value``.
    """
    t0 = time.perf_counter()
    dotconfig = load_dotconfig(config) if config else None
    key = tree_key(tree)
    if paths is not None or type(tree).__name__ not in ("DirTree", "GitTree"):
        # a partial index, or a tree in memory (tests, overlays): small, never cached on disk
        db = sqlite3.connect(":memory:")
        build_index_db(tree, db, paths=sorted(set(paths)) if paths is not None else None, jobs=1)
        return TreeIndex(db, tree, key, dotconfig, time.perf_counter() - t0)
    cdir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    fname = hashlib.sha1(f"{SCHEMA}\0{key}".encode()).hexdigest()[:24] + ".sqlite"
    target = cdir / fname
    if target.exists() and not rebuild:
        try:
            db = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
            db.execute("SELECT 1 FROM meta").fetchone()
            idx = TreeIndex(db, tree, key, dotconfig, time.perf_counter() - t0, cached=True)
            idx.db = _writable_copy_on_refresh(idx.db, target)
            return idx
        except sqlite3.DatabaseError:
            target.unlink(missing_ok=True)
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        tmp = cdir / f".{fname}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        build_index_db(tree, db, jobs=jobs, workdir=str(cdir))
        db.close()
        os.replace(tmp, target)
        db = sqlite3.connect(target)
    except OSError:  # no writable cache: keep it in memory
        db = sqlite3.connect(":memory:")
        build_index_db(tree, db, jobs=jobs)
    return TreeIndex(db, tree, key, dotconfig, time.perf_counter() - t0)


def _writable_copy_on_refresh(db: sqlite3.Connection, path: Path) -> sqlite3.Connection:
    """Open the cache read-write when possible (refresh writes to it), else keep read-only."""
    if os.access(path, os.W_OK):
        db.close()
        return sqlite3.connect(path)
    return db
