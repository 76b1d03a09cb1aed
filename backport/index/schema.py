"""Target index, schema (stage: target): the layout of an index database and its value types.

Inputs: none (constants). Outputs: SCHEMA (the layout version, hashed into every cache file
name), the kind codes, the path encoding to and from sqlite, the DDL the builders run, and the
rows a query returns (Definition, KconfigSymbol, MakeVar). Shared by rows, build, query, store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SCHEMA = 9  # 8: paths stored as UTF-8 BLOBs (surrogateescape), so any file name fits; 9: kinds as
# small integers, the macros of register-dump headers hashed into ``bulk`` (490 -> see below)

#: the kinds of definition, stored as their index here (a kind not listed is stored as text)
KINDS = ("function", "prototype", "macro", "fmacro", "struct", "union", "enum", "enumerator", "typedef",
         "variable", "export", "decl", "member", "asm-label", "asm-macro", "asm-offset")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
MEMBER = KIND_CODE["member"]
#: a file defining at least this many object-like macros is a register dump (amdgpu's
#: asic_reg/*_sh_mask.h hold 100k each: 4% of a kernel's files, 45% of its definitions). Its
#: macros are kept as (64-bit name hash, file, line), a third of the bytes of a full row: a lookup
#: by name still finds them; rapidfuzz's renamed-symbol hints (``similar``) and ``names`` do not.
BULK_MACROS = 2000


def _kind(code: int | str) -> str:
    return KINDS[code] if isinstance(code, int) and 0 <= code < len(KINDS) else str(code)


def name_hash(name: str) -> int:
    """A stable signed 64-bit hash of a name (the ``bulk`` table's key)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=8).digest(),
                          "big", signed=True)


def _enc(path: str) -> bytes:
    """A path as bound to sqlite: its bytes (a non-UTF-8 name arrives as surrogateescape str)."""
    return path.encode("utf-8", "surrogateescape")


def _dec(value: bytes | str) -> str:
    """A path read back from sqlite (the inverse of ``_enc``)."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


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


_DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files(id INTEGER PRIMARY KEY, path BLOB UNIQUE, size INT, mtime INT, cls TEXT);
CREATE TABLE defs(name TEXT, kind INT, file INT, line INT, scope TEXT);
CREATE TABLE kconfig(name TEXT, type TEXT, file INT, line INT, depends TEXT, selects TEXT);
CREATE TABLE makevars(file INT, line INT, name TEXT, op TEXT, value TEXT);
CREATE TABLE bulk(h INT, file INT, line INT);
"""
# the definitions, clustered by name (no rowid, no second index): half the size of a heap table
# with a name index, and a lookup is one B-tree descent. Deleting a file's rows scans (~0.5 s).
_CLUSTERED_DEFS = """
CREATE TABLE defs_c(name TEXT, kind INT, file INT, line INT, scope TEXT,
                    PRIMARY KEY (name, kind, file, line, scope)) WITHOUT ROWID;
CREATE TABLE bulk_c(h INT, file INT, line INT, PRIMARY KEY (h, file, line)) WITHOUT ROWID;
"""
_FROM_HEAP = """
INSERT OR IGNORE INTO defs_c SELECT name, kind, file, line, scope FROM defs ORDER BY name, kind, file, line, scope;
DROP TABLE defs;
ALTER TABLE defs_c RENAME TO defs;
INSERT OR IGNORE INTO bulk_c SELECT h, file, line FROM bulk ORDER BY 1, 2, 3;
DROP TABLE bulk;
ALTER TABLE bulk_c RENAME TO bulk;
"""
_INDEXES = """
CREATE INDEX kconfig_name ON kconfig(name);
CREATE INDEX makevars_name ON makevars(name);
"""

