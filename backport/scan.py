"""Index scanners (stage: target): definitions in one file's text, no I/O.

Inputs: the bytes of one C/assembly file, or the text of a Kconfig or Kbuild file. Outputs:
rows ``(name, kind, line, scope)`` for C and assembly, ``(name, type, line, depends, selects)``
for Kconfig, ``(line, variable, op, value)`` for Kbuild; ``file_class`` says which scanner
reads a path. backport.index runs them over a whole tree and stores the rows.

Why a line/regex scanner and not tree-sitter for the whole tree: see backport.index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

C_EXT = (".c", ".h")
ASM_EXT = (".S", ".s", ".inc")

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


def find_body_words(text: bytes, kind: str, tag: str) -> set[str] | None:
    """Every identifier inside the body of each ``struct/union tag { ... }`` of ``text``
    (comments stripped): a superset of its members, whatever macros the body uses. None when
    the text defines no such body."""
    rx = re.compile(rb"\b" + kind.encode() + rb"\s+(?:__\w+\s+)?" + re.escape(tag.encode()) + rb"\s*\{")
    out: set[str] | None = None
    for m in rx.finditer(text):
        close = _matching_brace(text, m.end() - 1)
        if close < 0:
            continue
        body = RE_COMMENT.sub(b" ", text[m.end(): close])
        out = (out or set()) | {w.decode() for w in RE_IDENT.findall(body)}
    return out
