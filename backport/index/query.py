"""Target index, queries (stage: target): TreeIndex, what an open index database answers.

Inputs: an open sqlite database (backport.index.store loads or builds it), the tree it
describes, optionally a vendor .config. Outputs: definitions, struct members, Kconfig symbols,
Makefile assignments, build gating, renamed-name hints (rapidfuzz); files edited since the
build are rescanned on demand (refresh) and a partial index grows with extend.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sqlite3
from collections.abc import Iterable

from ..model import TargetTree
from ..scan import file_class, find_body_words
from .rows import _delete_files, _insert_scanned, _scan_disk, _scan_tree_files
from .schema import MEMBER, Definition, KconfigSymbol, MakeVar, _dec, _enc, _kind, name_hash


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
        self.lazy_dirs: set[str] = set()  # directories a partial (lazy) index has scanned
        self._members_of: dict[str, set[str] | None] = {}
        self._refreshed: set[str] = set()
        meta = dict(db.execute("SELECT key, value FROM meta"))
        v = meta.get("version", "")
        self.version: tuple[int, int, int] | None = tuple(int(x) for x in v.split(".")) if v else None  # type: ignore[assignment]
        self.partial = meta.get("partial") == "1"
        self.hold: object | None = None  # backport.cache.Hold: the cache file is in use while this lives

    # ---- definitions
    def _defs(self, sql: str, args: tuple) -> list[Definition]:
        return [Definition(n, _kind(k), _dec(p), ln, s) for n, k, p, ln, s in self.db.execute(
            "SELECT d.name, d.kind, f.path, d.line, d.scope FROM defs d JOIN files f ON f.id = d.file " + sql, args)]

    def _bulk(self, name: str) -> list[Definition]:
        """The register-dump macros named ``name`` (see BULK_MACROS)."""
        return [Definition(name, "macro", _dec(p), ln) for p, ln in self.db.execute(
            "SELECT f.path, b.line FROM bulk b JOIN files f ON f.id = b.file WHERE b.h = ?", (name_hash(name),))]

    def defines(self, name: str) -> list[Definition]:
        """Where ``name`` is defined or declared (functions, macros, types, globals, asm ...)."""
        found = self._defs("WHERE d.name = ? AND d.kind != ?", (name, MEMBER)) + self._bulk(name)
        return sorted(found, key=lambda d: (d.path, d.line))

    def members(self, name: str) -> list[Definition]:
        return self._defs("WHERE d.name = ? AND d.kind = ? ORDER BY f.path, d.line", (name, MEMBER))

    def has(self, name: str, *, members: bool = False) -> bool:
        sql = "SELECT 1 FROM defs WHERE name = ?" + ("" if members else " AND kind != ?") + " LIMIT 1"
        if self.db.execute(sql, (name,) if members else (name, MEMBER)).fetchone() is not None:
            return True
        return self.db.execute("SELECT 1 FROM bulk WHERE h = ? LIMIT 1", (name_hash(name),)).fetchone() is not None

    def file_definitions(self, path: str) -> list[Definition]:
        """What the index names in ``path`` (a register dump's hashed macros have no name here)."""
        return self._defs("WHERE f.path = ? ORDER BY d.line", (_enc(path),))

    def has_file(self, path: str) -> bool:
        return self.db.execute("SELECT 1 FROM files WHERE path = ?", (_enc(path),)).fetchone() is not None

    def paths_named(self, basename: str) -> list[str]:
        """Indexed files whose basename is ``basename`` (moved files)."""
        name = _enc(basename)
        return [_dec(p) for (p,) in self.db.execute(
            "SELECT path FROM files WHERE path = ? OR substr(path, -?) = ?", (name, len(name) + 1, b"/" + name))]

    def members_of(self, tag: str) -> set[str] | None:
        """A superset of the members of ``struct/union tag``: every word of every body that
        defines it, read again from the defining files; None when the index knows none."""
        if tag in self._members_of:
            return self._members_of[tag]
        found: set[str] | None = None
        for d in self.defines(tag):
            if d.kind not in ("struct", "union"):
                continue
            text = self.tree.read(d.path)
            if text is None:
                continue
            words = find_body_words(text.encode("utf-8", "surrogateescape"), d.kind, tag)
            if words is not None:
                found = (found or set()) | words
        self._members_of[tag] = found
        return found

    def names(self) -> list[str]:
        """Every distinct defined name (members excluded), sorted; loaded once on demand."""
        if self._names is None:
            self._names = [n for (n,) in self.db.execute(
                "SELECT DISTINCT name FROM defs WHERE kind != ? ORDER BY name", (MEMBER,))]
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
                    "SELECT DISTINCT name FROM defs WHERE name >= ? AND name < ? AND kind != ? LIMIT 20000",
                    (prefix, prefix + "\x7f", MEMBER)):
                pool.add(n)
            if len(pool) > 50:
                break
        pool.discard(name)
        # sorted: rapidfuzz keeps the input order among equal scores, and a set's order changes
        # with the hash seed (context_set_present and context_clear_entry both score 85)
        got = process.extract(name, sorted(pool), scorer=fuzz.ratio, limit=limit, score_cutoff=score_cutoff)
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
        return KconfigSymbol(n, t, _dec(p), ln, tuple(x for x in d.split(" && ") if x), tuple(s.split()))

    def similar_kconfig(self, name: str, *, score_cutoff: float = 85.0) -> KconfigSymbol | None:
        """The Kconfig symbol closest to ``name`` (renamed options), or None."""
        from rapidfuzz import fuzz, process

        words = name.split("_")
        pool = {n for (n,) in self.db.execute(
            "SELECT DISTINCT name FROM kconfig WHERE name >= ? AND name < ? LIMIT 5000", (words[0], words[0] + "\x7f"))}
        pool.discard(name)
        got = process.extractOne(name, sorted(pool), scorer=fuzz.ratio, score_cutoff=score_cutoff)
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
        return [MakeVar(_dec(p), *r) for p, *r in rows]

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
        return [MakeVar(_dec(p), *r) for p, *r in self.db.execute(
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
                        "WHERE f.path = ?", (_enc(mpath),)):
                    mv = MakeVar(_dec(v[0]), *v[1:])
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
            row = self.db.execute("SELECT id, size, mtime FROM files WHERE path = ?", (_enc(p),)).fetchone()
            try:
                st = os.stat(full)
            except OSError:
                continue
            if row and row[1] == st.st_size and row[2] == st.st_mtime_ns:
                continue
            if row:
                _delete_files(self.db, [row[0]])
            fid = row[0] if row else self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()[0]
            _insert_scanned(self.db, _scan_disk(root, [(fid, p)]))
            changed.append(p)
        if changed:
            self._names = None
            self.db.commit()
        return changed

    def extend(self, paths: Iterable[str]) -> int:
        """Scan ``paths`` not yet indexed into a partial index (lazy mode); returns how many."""
        new = [p for p in paths if file_class(p) and not self.has_file(p)]
        if not new:
            return 0
        first = self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()[0]
        _insert_scanned(self.db, _scan_tree_files(self.tree, list(enumerate(new, first))))
        self.db.commit()
        self._names = None
        return len(new)

    def stats_cached(self) -> dict[str, int]:
        """Row counts recorded when the index was built (no table scan)."""
        meta = dict(self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'count-%'"))
        if len(meta) < 5:
            return self.stats()
        return {k[6:]: int(v) for k, v in meta.items()}

    def stats(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("files", "defs", "bulk", "kconfig", "makevars")}

