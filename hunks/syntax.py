"""Syntax-aware anchors and placement (stage: hunks): functions, structs, labels, config blocks.

Inputs: a file's lines and its language (``language_for(path)``: "c", "asm", "kconfig",
"make", "dts" or "text"), a name, or a hunk's ``@@ ... @@`` section header.
Outputs: the 0-based [start, end) extent of the named item (``find_anchor``), the name in
a section header (``anchor_name``), and a Match (method ``syntax``) that aligns a hunk
inside the item its section header names even when the item moved within the file
(``find_syntax``). The caller relocates across files with ``find_anchor``.

C and headers use tree-sitter-c (function definitions, struct/union/enum, initialised
variables, typedefs, #define, ``SYSCALL_DEFINEn(name, ...)``-style macro functions), with a
kernel-style regex fallback for code tree-sitter cannot parse. Assembler uses
ENTRY/ENDPROC, SYM_*_START/END, ``.macro`` and plain labels; Kconfig ``config FOO`` blocks;
Makefiles variables (``obj-$(CONFIG_X)``, ``ccflags-y``), ``ifdef CONFIG_X`` blocks and rules;
device trees labelled or named nodes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .align import Alignment
from .fuzzy import find_alignments, score_alignment
from .score import TIE_RATIO
from .types import HunkSpec, Match

LANGUAGES = ("c", "asm", "kconfig", "make", "dts", "text")

# SYM_FUNC_START_LOCAL(__pi_memcpy)   /   ENTRY(ftrace_caller)
RE_ASM_START = re.compile(
    r"^\s*(?:ENTRY|GLOBAL|WEAK|SYM_(?:FUNC|CODE|DATA|TYPED_FUNC)_START(?:_[A-Z]+)*|SYM_INNER_LABEL(?:_ALIGN)?|"
    r"SYM_DATA|SYM_FUNC_ALIAS(?:_[A-Z]+)*|_GLOBAL(?:_TOC)?|FUNC_START|LEAF|NESTED|FEXPORT)\s*\(\s*([\w.$]+)")
# ENDPROC(ftrace_caller)   /   SYM_FUNC_END(__pi_memcpy)
RE_ASM_END = re.compile(r"^\s*(?:ENDPROC|END|SYM_(?:FUNC|CODE|DATA)_END(?:_[A-Z]+)*|FUNC_END)\s*\(\s*([\w.$]+)")
# ftrace_stub:      /   .Lfoo:
RE_ASM_LABEL = re.compile(r"^([A-Za-z_.$][\w.$]*):")
# 	.macro mcount_enter, arg
RE_ASM_MACRO = re.compile(r"^\s*\.macro\s+([\w.$]+)")
# 	.endm
RE_ASM_ENDM = re.compile(r"^\s*\.endm\b")
# config DYNAMIC_FTRACE   /   menuconfig ARM64
RE_KCONFIG_ENTRY = re.compile(r"^\s*(?:menu)?config\s+(\w+)")
# choice / endmenu / if ARM / source "arch/Kconfig"
RE_KCONFIG_TOP = re.compile(r"^\s*(?:(?:menu)?config|choice|endchoice|menu|endmenu|if|endif|source|comment|mainmenu)\b")
# obj-$(CONFIG_FTRACE) += ftrace.o   /   CFLAGS_REMOVE_ftrace.o = $(CC_FLAGS_FTRACE)
RE_MAKE_ASSIGN = re.compile(r"^\s*(?:override\s+|export\s+)?([\w.$(){}/%-]+)\s*(?::=|::=|\+=|\?=|!=|=)")
# ifdef CONFIG_FUNCTION_TRACER   /   ifeq ($(CONFIG_X),y)   /   ifneq ($(CONFIG_Y),)
RE_MAKE_COND = re.compile(r"^\s*(?:ifdef|ifndef|ifeq|ifneq)\b.*?\b(CONFIG_\w+|\w+)")
# endif
RE_MAKE_ENDIF = re.compile(r"^\s*endif\b")
# ifdef / ifeq (opening a conditional)
RE_MAKE_IF = re.compile(r"^\s*(?:ifdef|ifndef|ifeq|ifneq)\b")
# $(obj)/vmlinux.lds: FORCE   /   clean-files:  (a rule, not ":=")
RE_MAKE_RULE = re.compile(r"^([\w.$(){}/%-][^:=\s]*)\s*:(?!=)")
# static int __init foo_init(struct bar *b)   -> the identifier before the first "("
RE_CALL_NAME = re.compile(r"([A-Za-z_]\w*)\s*\($")
# struct foo {   /   union bar   /   enum baz {
RE_TAG = re.compile(r"\b(?:struct|union|enum)\s+([A-Za-z_]\w*)\s*(?:\{|$)")
# static void (*handler)(int);   (a function pointer: its name, not "void")
RE_FUNC_POINTER = re.compile(r"^[^(]*\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(")
# static const struct of_device_id foo_of_match[] = {
RE_INIT = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*=\s*\{?\s*$")
# #define FOO(x)   /   #define BAR 1
RE_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)")
# SYSCALL_DEFINE3(open, ...)   /   COMPAT_SYSCALL_DEFINE2(x, ...)   (a macro that names a function)
RE_DEFINER = re.compile(r"^(?:COMPAT_)?SYSCALL_DEFINE\d|^(?:__)?[A-Z][A-Z0-9_]*DEFINE\w*$")
# EXPORT_SYMBOL_GPL(foo);  late_initcall(foo_init);  module_exit(foo_exit);  (a macro naming a function)
RE_NAMER = re.compile(r"^(?:EXPORT_SYMBOL\w*|\w*_initcall(?:_sync)?|module_init|module_exit|__setup|early_param|"
                      r"core_param|module_param\w*|subsys_initcall|fs_initcall|device_initcall|arch_initcall|"
                      r"postcore_initcall|pure_initcall|console_initcall|security_initcall)$")
# open   /   const   (identifiers, e.g. the arguments of a macro)
RE_IDENT = re.compile(r"[A-Za-z_]\w*")
# if   /   sizeof   (a keyword that looks like a call in a section header)
RE_KEYWORD = re.compile(r"^(?:if|for|while|switch|return|sizeof)$")
# MODULE_DEVICE_TABLE(of, foo_of_match);   (the table is its second argument)
RE_TABLE_NAMER = re.compile(r"^MODULE_DEVICE_TABLE$")
# &uart0 {   /   serial@1000 {   /   cpus: cpus {
RE_DTS_NODE = re.compile(r"^\s*(?:([\w-]+)\s*:\s*)?(&?[\w@,.+-]+)\s*\{")


def language_for(path: str) -> str:
    """The anchor language of a path: c, asm, kconfig, make, dts or text."""
    name = path.rsplit("/", 1)[-1]
    low = name.lower()
    if low.endswith((".c", ".h")):
        return "c"
    if name.endswith((".S", ".s")):
        return "asm"
    if name.startswith("Kconfig"):
        return "kconfig"
    if name in ("Makefile", "Kbuild", "GNUmakefile") or name.startswith(("Makefile.", "Kbuild.")) \
            or low.endswith(".mk"):
        return "make"
    if low.endswith((".dts", ".dtsi")):
        return "dts"
    return "text"


def anchor_name(section: str) -> str | None:
    """The item named by a ``@@ ... @@`` section header, or None.

    "static int foo(struct bar *b)" -> "foo"; "config ARM" -> "ARM";
    "ENTRY(ftrace_caller)" -> "ftrace_caller"; "struct foo {" -> "foo";
    "static const struct of_device_id ids[] = {" -> "ids"; "SYSCALL_DEFINE3(open, ...)" -> "open";
    "obj-$(CONFIG_X) += x.o" -> "obj-$(CONFIG_X)"; "ifdef CONFIG_X" -> "CONFIG_X".
    """
    s = section.strip()
    if not s:
        return None
    name = _first_group(s, (RE_KCONFIG_ENTRY, RE_ASM_START, RE_ASM_END, RE_ASM_MACRO, RE_DEFINE, RE_MAKE_COND,
                            RE_FUNC_POINTER))
    if name:
        return name
    if "(" in s:
        m = RE_CALL_NAME.search(s[: s.index("(") + 1])
        if m:
            name = m.group(1)
            args: list[str] = RE_IDENT.findall(s[s.index("(") + 1:].split(")")[0])
            if (RE_NAMER.match(name) or RE_DEFINER.match(name)) and args:
                return args[0]
            if RE_TABLE_NAMER.match(name) and len(args) > 1:
                return args[1]
            if not RE_KEYWORD.match(name):
                return name
    m = RE_DTS_NODE.match(s)
    if m and not RE_TAG.search(s) and not RE_INIT.search(s):
        return m.group(1) or m.group(2)
    return _first_group(s, (RE_TAG, RE_INIT, RE_MAKE_ASSIGN, RE_ASM_LABEL))


def _first_group(s: str, regexes: Sequence[re.Pattern[str]]) -> str | None:
    """Group 1 of the first regex that finds something in ``s``."""
    for rx in regexes:
        m = rx.search(s) if rx in (RE_FUNC_POINTER, RE_TAG, RE_INIT) else rx.match(s)
        if m:
            return m.group(1)
    return None


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    start: int  # 0-based first line
    end: int  # one past the last line
    kind: str  # function, struct, initializer, macro, label, config, variable, rule, node, ...


def find_anchors(lines: Sequence[str], name: str, *, language: str) -> list[tuple[int, int]]:
    """Every [start, end) extent of an item called ``name``, in file order."""
    tup = tuple(lines)
    # C: the regex fallback only adds names tree-sitter did not find, so a name tree-sitter
    # found has exactly its items (and the fallback is not run)
    out = [(it.start, it.end) for it in _c_tree_items(tup) if it.name == name] if language == "c" else []
    out = out or [(it.start, it.end) for it in items(tup, language) if it.name == name]
    if not out and language == "make" and name.startswith("CONFIG_"):
        out = [(it.start, it.end) for it in items(tup, language) if f"$({name})" in it.name]
    return sorted(set(out))


def find_bodies(lines: Sequence[str], name: str, *, language: str) -> list[tuple[int, int]]:
    """find_anchors without the extents that hold no ``{`` (a function's prototype, a forward
    declaration): they name the item but hold none of its lines, so a hunk's context is never in
    them. All extents when none has a body."""
    spans = find_anchors(lines, name, language=language)
    bodies = [sp for sp in spans if any("{" in lines[k] for k in range(sp[0], sp[1]))]
    return bodies or spans


def find_anchor(lines: Sequence[str], name: str, *, language: str) -> tuple[int, int] | None:
    """The 0-based [start, end) extent of the item called ``name``, or None (largest if several)."""
    spans = find_anchors(lines, name, language=language)
    if not spans:
        return None
    return max(spans, key=lambda se: (se[1] - se[0], -se[0]))


def find_enclosing(lines: Sequence[str], line: int, *, language: str) -> Item | None:
    """The innermost named item whose extent holds the 0-based ``line``, or None."""
    best: Item | None = None
    for it in items(tuple(lines), language):
        if it.start <= line < it.end and (best is None or it.end - it.start < best.end - best.start):
            best = it
    return best


@lru_cache(maxsize=16)
def items(lines: tuple[str, ...], language: str) -> tuple[Item, ...]:
    """Every named item of a file (cached per content)."""
    if language == "c":
        found = _c_tree_items(lines)
        names = {f.name for f in found}
        return found + tuple(it for it in _c_regex_items(lines) if it.name not in names)
    if language == "asm":
        return tuple(_asm_items(lines) + _c_regex_items(lines, defines_only=True))
    if language == "kconfig":
        return tuple(_kconfig_items(lines))
    if language == "make":
        return tuple(_make_items(lines))
    if language == "dts":
        return tuple(_dts_items(lines))
    return ()


# --- C ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter_c
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_c.language()))


#: the trees c_tree parsed last, by text (most recent last)
_TREES: dict[str, Any] = {}
#: how many trees c_tree keeps (a patch's files, upstream and target, with room to spare)
MAX_TREES = 16


def c_tree(text: str) -> Any:
    """tree-sitter-c's tree of ``text``, parsed once per content: items() here and backport's
    scope and prereq modules ask for the same files. ``text`` that is the text of a tree
    already kept plus a final newline (a file read whole, where items() parsed its lines
    joined) is parsed incrementally from that tree, which tree-sitter keeps equal to a fresh
    parse of ``text`` and does in a fraction of the time."""
    tree = _TREES.pop(text, None)
    if tree is None:
        src = text.encode("utf-8", "surrogateescape")
        prev = _TREES.get(text[:-1]) if text.endswith("\n") else None
        if prev is not None:
            old = len(src) - 1
            row = src.count(b"\n", 0, old)
            col = old - (src.rfind(b"\n", 0, old) + 1)
            prev = prev.copy()
            prev.edit(start_byte=old, old_end_byte=old, new_end_byte=old + 1, start_point=(row, col),
                      old_end_point=(row, col), new_end_point=(row + 1, 0))
        tree = _parser().parse(src, prev) if prev is not None else _parser().parse(src)
        while len(_TREES) >= MAX_TREES:
            _TREES.pop(next(iter(_TREES)), None)
    _TREES[text] = tree
    return tree


def _text(src: bytes, node: Any) -> str:
    return src[node.start_byte:node.end_byte].decode("utf-8", "surrogateescape")


def _declarator_name(src: bytes, node: Any) -> str | None:
    while node is not None:
        if node.type in ("identifier", "field_identifier", "type_identifier"):
            return _text(src, node)
        nxt = node.child_by_field_name("declarator")
        if nxt is None:
            named = [c for c in node.named_children if c.type not in ("attribute_specifier", "ms_declspec_modifier")]
            nxt = named[0] if named else None
        node = nxt
    return None


def _has_function(node: Any) -> bool:
    while node is not None:
        if node.type == "function_declarator":
            return True
        node = node.child_by_field_name("declarator")
    return False


@lru_cache(maxsize=16)
def _c_tree_items(lines: tuple[str, ...]) -> tuple[Item, ...]:
    """The items tree-sitter finds in C ``lines`` (cached per content)."""
    return tuple(_c_items(lines))


def _c_items(lines: tuple[str, ...]) -> list[Item]:
    text = "\n".join(lines)
    src = text.encode("utf-8", "surrogateescape")
    tree = c_tree(text)
    out: list[Item] = []

    def add(name: str | None, start: Any, end: Any, kind: str) -> None:
        if name:
            row, col = end.end_point.row, end.end_point.column
            last = row if col == 0 and row > start.start_point.row else row + 1  # ends at a line start
            out.append(Item(name, start.start_point.row, last, kind))

    def tag(node: Any, whole: Any) -> None:
        if node is not None and node.type in ("struct_specifier", "union_specifier", "enum_specifier") \
                and node.child_by_field_name("body") is not None:
            nm = node.child_by_field_name("name")
            add(_text(src, nm) if nm is not None else None, whole, whole, "struct")

    def walk(node: Any) -> None:
        kids = node.children
        for k, ch in enumerate(kids):
            t = ch.type
            if t in ("preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "preproc_elifdef",
                     "ERROR", "linkage_specification", "declaration_list"):
                walk(ch)
            elif t == "function_definition":
                add(_declarator_name(src, ch.child_by_field_name("declarator")), ch, ch, "function")
            elif t in ("struct_specifier", "union_specifier", "enum_specifier"):
                tag(ch, ch)
            elif t in ("declaration", "type_definition"):
                tag(ch.child_by_field_name("type"), ch)
                for d in ch.children_by_field_name("declarator"):
                    if t == "type_definition":
                        kind = "typedef"
                    elif d.type == "init_declarator":
                        kind = "initializer"
                    else:  # a prototype (headers) or a plain variable
                        kind = "prototype" if _has_function(d) else "variable"
                    add(_declarator_name(src, d), ch, ch, kind)
            elif t in ("preproc_def", "preproc_function_def"):
                nm = ch.child_by_field_name("name")
                add(_text(src, nm) if nm is not None else None, ch, ch, "macro")
            elif t == "expression_statement" and k + 1 < len(kids) and kids[k + 1].type == "compound_statement":
                call = ch.named_children[0] if ch.named_children else None
                if call is not None and call.type == "call_expression":
                    fn = _text(src, call.child_by_field_name("function"))
                    args = call.child_by_field_name("arguments")
                    first = args.named_children[0] if args is not None and args.named_children else None
                    name = _text(src, first) if first is not None and RE_DEFINER.match(fn) else fn
                    add(name, ch, kids[k + 1], "function")

    walk(tree.root_node)
    return out


# static int foo(struct bar *b)   (a definition starts in column 0 and is not a prototype)
RE_C_DEF = re.compile(r"^[A-Za-z_][^;=]*?\b([A-Za-z_]\w*)\s*\([^;]*$")


def _c_regex_items(lines: tuple[str, ...], *, defines_only: bool = False) -> list[Item]:
    """Kernel-style fallback: definitions start in column 0 and end at a column-0 ``}``."""
    out: list[Item] = []
    n = len(lines)
    # every regex below is tried only on lines holding a text it needs ("define", "(", "=", a tag
    # keyword): the same items, without matching every line of a file against each of them
    for i, line in enumerate(lines):
        m = RE_DEFINE.match(line) if "define" in line else None
        if m:
            j = i
            while j + 1 < n and lines[j].endswith("\\"):
                j += 1
            out.append(Item(m.group(1), i, j + 1, "macro"))
            continue
        if defines_only or not line[:1].isalpha() and line[:1] != "_":
            continue
        name = None
        m = RE_C_DEF.match(line) if "(" in line else None
        if m and not line.rstrip().endswith(";"):
            name = anchor_name(line)
        elif ("struct" in line or "union" in line or "enum" in line) and RE_TAG.search(line) \
                or "=" in line and RE_INIT.search(line):
            name = anchor_name(line)
        if not name:
            continue
        j = i + 1
        while j < n and not lines[j].startswith("}") and not (j > i + 1 and not lines[j - 1].strip()
                                                              and RE_C_DEF.match(lines[j])):
            j += 1
        out.append(Item(name, i, min(n, j + 1), "function"))
    return out


# --- assembler, Kconfig, Makefile, device tree --------------------------------------------------

def _asm_items(lines: tuple[str, ...]) -> list[Item]:
    out: list[Item] = []
    starts: list[tuple[str, int]] = []
    n = len(lines)
    for i, line in enumerate(lines):
        m = RE_ASM_START.match(line) or RE_ASM_LABEL.match(line)
        if m:
            starts.append((m.group(1), i))
        m = RE_ASM_MACRO.match(line)
        if m:
            j = i
            while j < n and not RE_ASM_ENDM.match(lines[j]):
                j += 1
            out.append(Item(m.group(1), i, min(n, j + 1), "macro"))
    for k, (name, i) in enumerate(starts):
        end = None
        for j in range(i + 1, n):
            m = RE_ASM_END.match(lines[j])
            if m and m.group(1) == name:
                end = j + 1
                break
        if end is None:  # up to the next label that is not a local one
            nxt = [s for nm, s in starts[k + 1:] if not nm.startswith((".L", "."))]
            end = nxt[0] if nxt else n
        out.append(Item(name, i, end, "label"))
    return out


def _kconfig_items(lines: tuple[str, ...]) -> list[Item]:
    out: list[Item] = []
    n = len(lines)
    for i, line in enumerate(lines):
        m = RE_KCONFIG_ENTRY.match(line)
        if not m:
            continue
        j = i + 1
        while j < n and not RE_KCONFIG_TOP.match(lines[j]):
            j += 1
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1
        out.append(Item(m.group(1), i, j, "config"))
    return out


def _make_items(lines: tuple[str, ...]) -> list[Item]:
    out: list[Item] = []
    n = len(lines)
    for i, line in enumerate(lines):
        if line.startswith("\t"):
            continue
        j = i
        while j + 1 < n and lines[j].endswith("\\"):
            j += 1
        m = RE_MAKE_ASSIGN.match(line)
        if m:
            out.append(Item(m.group(1), i, j + 1, "variable"))
            continue
        if RE_MAKE_IF.match(line):
            depth, k = 0, i
            while k < n:
                if RE_MAKE_IF.match(lines[k]):
                    depth += 1
                elif RE_MAKE_ENDIF.match(lines[k]):
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            c = RE_MAKE_COND.match(line)
            if c:
                out.append(Item(c.group(1), i, min(n, k + 1), "conditional"))
            continue
        m = RE_MAKE_RULE.match(line)
        if m:
            k = j + 1
            while k < n and lines[k].startswith("\t"):
                k += 1
            out.append(Item(m.group(1), i, k, "rule"))
    return out


def _dts_items(lines: tuple[str, ...]) -> list[Item]:
    out: list[Item] = []
    stack: list[tuple[list[str], int]] = []
    for i, line in enumerate(lines):
        m = RE_DTS_NODE.match(line)
        opens, closes = line.count("{"), line.count("}")
        if m and opens:
            names = [x for x in (m.group(1), m.group(2)) if x]
            stack.append((names, i))
            opens -= 1
        for _ in range(opens):
            stack.append(([], i))
        for _ in range(closes):
            if stack:
                names, s = stack.pop()
                for nm in names:
                    out.append(Item(nm, s, i + 1, "node"))
    return out


# --- placement ---------------------------------------------------------------------------------

def hunk_anchor(spec: HunkSpec, language: str) -> str | None:
    """The item a hunk belongs to: its section header, else a definition among its context."""
    name = anchor_name(spec.section) if language != "text" else None
    if name:
        return name
    if language == "text":
        return None
    for line in spec.old:
        if language == "c" and not (RE_C_DEF.match(line) or RE_TAG.search(line)):
            continue
        if line[:1].isspace() and language in ("c", "make", "dts"):
            continue
        name = anchor_name(line)
        if name:
            return name
    return None


def find_syntax(target: tuple[str, ...], spec: HunkSpec, hint: int, *, language: str,
                score_cutoff: float = 0.6, ambiguity_margin: float = 0.1) -> Match | None:
    """Align the hunk inside the item its section header (or context) names, wherever it is."""
    name = hunk_anchor(spec, language)
    if not name:
        return None
    spans = find_anchors(target, name, language=language)
    if not spans:
        return None
    old = spec.old
    cands: list[Alignment] = []
    for a, b in spans:
        lo, hi = max(0, a - 3), min(len(target), b + len(old) + 3)
        cands.extend(find_alignments(target, old, hint, lo=lo, hi=hi))
    if not cands:
        return None
    cands.sort(key=lambda al: (-round(al.quality, 3), abs(al.start - hint)))
    uniq: list[Alignment] = []
    for al in cands:
        if all(al.start != u.start for u in uniq):
            uniq.append(al)
    best = uniq[0]
    if best.quality < score_cutoff:
        return None
    second = uniq[1] if len(uniq) > 1 else None
    base_conf = 0.95 if best.quality >= 0.999 else 0.93
    where = ", ".join(f"{a + 1}-{b}" for a, b in spans[:3])
    m = score_alignment(target, spec, best, second, hint, ambiguity_margin=ambiguity_margin,
                        method="syntax", base_conf=base_conf, others=uniq[1:6],
                        note=f"inside {name!r} ({language} item at target lines {where})")
    if m.method == "syntax" and not m.ambiguous and len(spans) > 1:
        # the same name more than once (#ifdef variants): nearer is better, a close tie is ambiguous
        d = [abs(a - hint) for a, _ in spans]
        d.sort()
        if (d[0] + 1) / (d[1] + 1) > TIE_RATIO and second is not None and second.quality > best.quality - 0.2:
            return Match(m.method, m.start, m.end, m.replacement, round(m.confidence * 0.7, 4), m.fuzz,
                         m.alternatives, m.evidence + (f"{name!r} is defined {len(spans)} times",), True, m.unsafe)
    return m
