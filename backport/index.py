"""Target index (stage: target): what a kernel tree defines and how it is built, cached on disk.

Inputs: a model.TargetTree (plain directory, git revision or memory), optionally a vendor
``.config``. Outputs: a TreeIndex answering "does the target define symbol X / Kconfig option Y /
Makefile variable Z", backed by one sqlite file per tree identity under
``$XDG_CACHE_HOME/backport`` (or ``~/.cache/backport``), kept under a size cap with
least-recently-used eviction that never removes an index a process has open (backport.cache).

Why a line/regex scanner and not tree-sitter for the whole tree: a full kernel holds ~55k C files
(1.3 GB); a tree-sitter parse plus a Python walk of every node costs minutes on two cores, while
the definitions deps needs (functions, prototypes, macros, tags, members, enumerators, typedefs,
globals, exports, asm labels, Kconfig symbols, Kbuild variables) sit in a few regular shapes of
kernel style (column-0 declarations, ``#define``, ``struct x {``). The scanner over-approximates
(a false definition only hides an alarm; a missed one raises a false alarm) and runs on 2 worker
processes (the scanners live in backport.scan). Precision where it matters is recovered in deps,
which reads the few target files a patch touches in full.

Lazy mode: ``lazy_paths(tree, touched)`` names what a series needs (include/, arch/*/include,
the touched directories, every Kconfig and Kbuild file): a partial in-memory index of those
builds in seconds and grows with ``TreeIndex.extend`` as later patches touch other places.

Public API (for deps, kb rules and the pipeline)::

    load_index(tree, *, cache_dir=None, config=None, paths=None, rebuild=False) -> TreeIndex
        (a changed directory updates its previous index in place: one stat walk, changed files rescanned)
    find_cached_index(tree, *, cache_dir=None) -> Path | None
    lazy_paths(tree, touched) -> list[str];  TreeIndex.extend(paths) -> int
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

import contextlib
import fnmatch
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import cache
from .errors import ParseError
from .model import SourceRef, TargetTree
from .scan import (  # re-exported: the scanners are part of the index's public surface
    C_WORDS,
    file_class,
    find_body_words,
    scan_asm,
    scan_asm_offsets,
    scan_c,
    scan_file,
    scan_kbuild,
    scan_kconfig,
)

__all__ = ["C_WORDS", "Definition", "KconfigSymbol", "MakeVar", "TreeIndex", "file_class", "load_dotconfig",
           "load_index", "scan_asm", "scan_asm_offsets", "scan_c", "scan_file", "scan_kbuild", "scan_kconfig",
           "tree_key"]

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


def _scan_tree_files(tree: TargetTree, items: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, int, int, str, list]]:
    """Like _scan_disk, through ``tree.read`` (git revisions, memory, overlays)."""
    root = getattr(tree, "root", "")
    if type(tree).__name__ == "DirTree" and os.path.isdir(root):
        yield from _scan_disk(root, items)
        return
    for fid, p in items:
        text = tree.read(p)
        if text is None:
            continue
        data = text.encode("utf-8", "surrogateescape")
        cls, rows = scan_file(p, data)
        yield fid, p, len(data), 0, cls, rows


def _scan_git(root: str, blobs: dict[str, tuple[str, int]], items: Iterable[tuple[int, str]],
              ) -> Iterator[tuple[int, str, int, int, str, list]]:
    """Like _scan_disk for a git revision: blobs streamed by one ``git cat-file --batch``."""
    import subprocess

    proc = subprocess.Popen(["git", "-C", root, "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for fid, p in items:
            entry = blobs.get(p)
            if entry is None or entry[1] == 0o120000:
                continue
            proc.stdin.write(entry[0].encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                continue
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            cls, rows = scan_file(p, data)
            yield fid, p, len(data), 0, cls, rows
    finally:
        proc.stdin.close()
        proc.wait()


def _scan_source(source: tuple, items: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, int, int, str, list]]:
    """``source`` is ("dir", root) or ("git", repo root, {path: (blob, mode)})."""
    if source[0] == "git":
        return _scan_git(source[1], source[2], items)
    return _scan_disk(source[1], items)


def _fork_worker(source: tuple, items: list[tuple[int, str]], dbpath: str) -> int:
    """Fork a child that runs _scan_worker and exits without running the parent's cleanup."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            _scan_worker(source, items, dbpath)
            code = 0
        finally:
            os._exit(code)
    return pid


def _scan_worker(source: tuple, items: list[tuple[int, str]], dbpath: str) -> None:
    """Worker process: scan ``items`` into its own sqlite file (merged by the parent in C)."""
    db = sqlite3.connect(dbpath)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(_DDL)
    _insert_scanned(db, _scan_source(source, items))
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
        h = hashlib.sha1(_enc(root))
        stack = [root]
        while stack:
            d = stack.pop()
            try:
                st = os.stat(d)
                h.update(_enc(f"{d}\0{st.st_mtime_ns}\n"))
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


def _insert_scanned(db: sqlite3.Connection, results: Iterable[tuple[int, str, int, int, str, list]]) -> None:
    cur = db.cursor()
    for fid, path, size, mtime, cls, rows in results:
        cur.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)", (fid, _enc(path), size, mtime, cls))
        if cls in ("c", "asm", "asm-offsets"):
            if len(rows) >= BULK_MACROS and sum(1 for r in rows if r[1] == "macro") >= BULK_MACROS:
                cur.executemany("INSERT OR IGNORE INTO bulk VALUES (?,?,?)",
                                [(name_hash(n), fid, ln) for n, k, ln, _ in rows if k == "macro"])
                rows = [r for r in rows if r[1] != "macro"]
            cur.executemany("INSERT OR IGNORE INTO defs VALUES (?,?,?,?,?)",
                            [(n, KIND_CODE.get(k, k), fid, ln, s) for n, k, ln, s in rows])
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

    A plain directory (or a git revision, through ``git cat-file --batch``) is scanned by
    ``jobs`` processes (default: up to 2, the parent being one), each writing its own sqlite
    file in ``workdir``; the parent merges them with INSERT ... SELECT, the definitions sorted
    once into their clustered table, so no Python object crosses a process boundary.
    """
    db.executescript(_DDL)
    wanted = list(enumerate((p for p in (paths if paths is not None else tree.iter_paths()) if file_class(p)), 1))
    root = getattr(tree, "root", "")
    on_disk = type(tree).__name__ == "DirTree" and os.path.isdir(root)
    source: tuple | None = ("dir", root) if on_disk else None
    if type(tree).__name__ == "GitTree":
        source = ("git", root, tree._blobs)  # type: ignore[attr-defined]
    jobs = jobs or min(2, os.cpu_count() or 1)
    on_disk_parallel = source is not None and jobs > 1 and len(wanted) > 2000 and bool(workdir) and hasattr(os, "fork")
    if on_disk_parallel and source is not None and workdir:
        parts = _partition(root, wanted, jobs) if on_disk else [wanted[i::jobs] for i in range(jobs)]
        dbs = [os.path.join(workdir, f".scan-{os.getpid()}-{i}.sqlite") for i in range(jobs)]
        for d in dbs:
            if os.path.exists(d):
                os.unlink(d)
        # plain fork, not multiprocessing: a daemonic pool worker (a bench's) may not have children
        pids = [_fork_worker(source, part, d) for part, d in zip(parts[1:], dbs[1:], strict=True)]
        _scan_worker(source, parts[0], dbs[0])  # the parent is worker 0, into its own file too
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"index worker failed with status {os.waitstatus_to_exitcode(status)}")
        # merge in C; the definitions go straight into their clustered table (sorted once), so
        # the cache file holds no heap copy and no freed pages
        for i, d in enumerate(dbs):
            db.execute(f"ATTACH DATABASE ? AS w{i}", (d,))
            for table in ("files", "kconfig", "makevars"):
                db.execute(f"INSERT INTO main.{table} SELECT * FROM w{i}.{table}")
        db.execute("DROP TABLE main.defs")
        db.execute("DROP TABLE main.bulk")
        union = " UNION ALL ".join(f"SELECT name, kind, file, line, scope FROM w{i}.defs" for i in range(len(dbs)))
        db.executescript(_CLUSTERED_DEFS.replace("defs_c", "defs").replace("bulk_c", "bulk"))
        db.execute(f"INSERT OR IGNORE INTO main.defs SELECT * FROM ({union}) ORDER BY 1, 2, 3, 4, 5")
        union = " UNION ALL ".join(f"SELECT h, file, line FROM w{i}.bulk" for i in range(len(dbs)))
        db.execute(f"INSERT OR IGNORE INTO main.bulk SELECT * FROM ({union}) ORDER BY 1, 2, 3")
        db.commit()
        for i, d in enumerate(dbs):
            db.execute(f"DETACH DATABASE w{i}")
            os.unlink(d)
        db.executescript(_INDEXES)
    elif source is not None:
        _insert_scanned(db, _scan_source(source, wanted))
    else:
        _insert_scanned(db, _scan_tree_files(tree, wanted))
    if not on_disk_parallel:
        db.executescript(_CLUSTERED_DEFS + _FROM_HEAP + _INDEXES)
    version = tree.kernel_version()
    db.execute("INSERT INTO meta VALUES ('version', ?)", (".".join(map(str, version)) if version else "",))
    db.execute("INSERT INTO meta VALUES ('partial', ?)", ("1" if paths is not None else "0",))
    db.execute("INSERT INTO meta VALUES ('root', ?)", (_enc(f"{type(tree).__name__}:{root}"),))
    db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
    _write_counts(db)


def _write_counts(db: sqlite3.Connection) -> None:
    for table in ("files", "defs", "bulk", "kconfig", "makevars"):
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, (SELECT count(*) FROM " + table + "))", ("count-" + table,))
    db.commit()


def _previous_index(cdir: Path, tree: TargetTree) -> Path | None:
    """The newest cache file built for the same directory (before it changed), if any.
    On the way, cache files of an older layout or of directories that no longer exist, and
    builders' leftovers older than a day, are removed, so the cache does not grow without bound."""
    want = f"{type(tree).__name__}:{getattr(tree, 'root', '')}"
    best: tuple[float, Path] | None = None
    now = time.time()
    for f in cdir.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if now - f.stat().st_mtime > 86400:
                f.unlink()
    for f in cdir.glob("[!.]*.sqlite"):  # not the workers' .scan-*.sqlite of a build under way
        try:
            con = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
            meta = dict(con.execute("SELECT key, value FROM meta WHERE key IN ('root', 'schema')"))
            con.close()
            mtime = f.stat().st_mtime
        except (sqlite3.DatabaseError, OSError):
            continue
        # an older layout is never read again (the file name hashes SCHEMA), nor is the index of
        # a directory that is gone
        meta["root"] = _dec(meta.get("root", ""))
        kind, _, root = meta["root"].partition(":")
        if meta.get("schema") != str(SCHEMA) or (kind == "DirTree" and root and not os.path.isdir(root)):
            with contextlib.suppress(OSError):
                f.unlink()
            continue
        if meta["root"] == want and (best is None or mtime > best[0]):
            best = (mtime, f)
    return best[1] if best else None


def _delete_files(db: sqlite3.Connection, fids: Sequence[int]) -> None:
    """Drop the rows of these files: one scan of each table per 500 files (defs has no file index)."""
    for i in range(0, len(fids), 500):
        chunk = list(fids[i: i + 500])
        marks = ",".join("?" * len(chunk))
        for table in ("defs", "bulk", "kconfig", "makevars"):
            db.execute(f"DELETE FROM {table} WHERE file IN ({marks})", chunk)
        db.execute(f"DELETE FROM files WHERE id IN ({marks})", chunk)


def update_index_db(db: sqlite3.Connection, tree: TargetTree, *, max_changed: float = 0.2) -> int | None:
    """Bring an index of an earlier state of the same directory up to date: rescan files whose
    size or mtime changed, add new ones, drop deleted ones (one stat walk, ~1 s on a kernel).
    Returns how many files changed, or None when too many did (a full build is cheaper)."""
    known = {_dec(p): (fid, size, mtime) for p, fid, size, mtime in db.execute("SELECT path, id, size, mtime FROM files")}
    seen: set[str] = set()
    todo: list[str] = []
    for path, size, mtime in tree.stat_listing():  # type: ignore[attr-defined]
        if not file_class(path):
            continue
        seen.add(path)
        row = known.get(path)
        if row is None or row[1] != size or row[2] != mtime:
            todo.append(path)
    gone = [p for p in known if p not in seen]
    if len(todo) + len(gone) > max_changed * max(1, len(known)):
        return None
    _delete_files(db, [known[p][0] for p in (*gone, *todo) if p in known])
    first = db.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()[0]
    items = [(known[p][0] if p in known else first + i, p) for i, p in enumerate(todo)]
    _insert_scanned(db, _scan_disk(getattr(tree, "root", ""), items))
    version = tree.kernel_version()
    db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (".".join(map(str, version)) if version else "",))
    _write_counts(db)
    return len(todo) + len(gone)


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
        return KconfigSymbol(n, t, _dec(p), ln, tuple(x for x in d.split(" && ") if x), tuple(s.split()))

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


def _cache_file(cdir: Path, key: str) -> Path:
    return cdir / (hashlib.sha1(_enc(f"{SCHEMA}\0{key}")).hexdigest()[:24] + ".sqlite")


def find_cached_index(tree: TargetTree, *, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The cache file of ``tree``'s current identity, if one was built."""
    if type(tree).__name__ not in ("DirTree", "GitTree"):
        return None
    f = _cache_file(Path(cache_dir) if cache_dir is not None else default_cache_dir(), tree_key(tree))
    return f if f.exists() else None


def lazy_paths(tree: TargetTree, touched: Iterable[str]) -> list[str]:
    """What a partial index for patches touching ``touched`` should scan: every header under
    include/ and arch/*/include/, the touched files' directories and their parents (not
    recursively), and every Kconfig and Kbuild file of the tree."""
    dirs: set[str] = set()
    for t in touched:
        d = t.rsplit("/", 1)[0] if "/" in t else ""
        dirs.add(d)
        dirs.add(d.rsplit("/", 1)[0] if "/" in d else "")
    out = []
    for p in tree.iter_paths():
        cls = file_class(p)
        if cls is None:
            continue
        d = p.rsplit("/", 1)[0] if "/" in p else ""
        if cls in ("kconfig", "kbuild") or d in dirs or p.startswith("include/") or (
                p.startswith("arch/") and "/include/" in p):
            out.append(p)
    return out


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
    target = _cache_file(cdir, key)
    fname = target.name
    if target.exists() and not rebuild:
        in_use = cache.hold(target)  # before opening: eviction now leaves it alone
        try:
            db = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
            db.execute("SELECT 1 FROM meta").fetchone()
            idx = TreeIndex(db, tree, key, dotconfig, time.perf_counter() - t0, cached=True)
            idx.db = _writable_copy_on_refresh(idx.db, target)
            idx.hold = in_use
            with contextlib.suppress(OSError):  # a cap lowered since the last build applies now
                cache.enforce_cap(cdir, cache.cache_max(), keep=(target,))
            return idx
        except sqlite3.DatabaseError:  # damaged, or evicted between the check and the open
            target.unlink(missing_ok=True)
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        with _build_lock(cdir / f".{fname}.lock"):
            if target.exists() and not rebuild:  # another process built it while we waited
                in_use = cache.hold(target)
                idx = TreeIndex(sqlite3.connect(target), tree, key, dotconfig, time.perf_counter() - t0, cached=True)
                idx.hold = in_use
                return idx
            return _build_cached(tree, cdir, target, key, dotconfig, t0, rebuild=rebuild, jobs=jobs)
    except OSError:  # no writable cache: keep it in memory
        db = sqlite3.connect(":memory:")
        build_index_db(tree, db, jobs=jobs)
    return TreeIndex(db, tree, key, dotconfig, time.perf_counter() - t0)


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One builder per cache file across processes (a pool of workers porting one tree)."""
    with open(path, "a+") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no lock, at worst two builders
            pass
        yield


def _build_cached(tree: TargetTree, cdir: Path, target: Path, key: str, dotconfig: dict[str, str] | None,
                  t0: float, *, rebuild: bool, jobs: int | None) -> TreeIndex:
    """Update the directory's previous index, or build a new one, into ``target`` (under lock)."""
    fname = target.name
    tmp = cdir / f".{fname}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    cap = cache.cache_max()
    prev = _previous_index(cdir, tree) if type(tree).__name__ == "DirTree" and not rebuild else None
    # the directory changed (an --apply, an edit): update its previous index, do not rebuild
    if prev is not None and cache.take_over(prev, tmp):
        db = sqlite3.connect(tmp)
        if update_index_db(db, tree) is not None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('key', ?)", (_enc(key),))
            db.commit()
            db.close()
            return _installed(tmp, target, cdir, cap, tree, key, dotconfig, t0)
        db.close()
        tmp.unlink()
    cache.enforce_cap(cdir, cap, reserve=cache.expected_size(cdir))  # room for what is built now
    db = sqlite3.connect(tmp)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    build_index_db(tree, db, jobs=jobs, workdir=str(cdir))
    db.execute("INSERT OR REPLACE INTO meta VALUES ('key', ?)", (_enc(key),))
    db.commit()
    db.close()
    return _installed(tmp, target, cdir, cap, tree, key, dotconfig, t0)


def _installed(tmp: Path, target: Path, cdir: Path, cap: int | None, tree: TargetTree, key: str,
               dotconfig: dict[str, str] | None, t0: float) -> TreeIndex:
    """Move a finished build into place, mark it in use, and evict to the cap (never it)."""
    os.replace(tmp, target)
    in_use = cache.hold(target)
    cache.enforce_cap(cdir, cap, keep=(target,))
    idx = TreeIndex(sqlite3.connect(target), tree, key, dotconfig, time.perf_counter() - t0)
    idx.hold = in_use
    return idx


def _writable_copy_on_refresh(db: sqlite3.Connection, path: Path) -> sqlite3.Connection:
    """Open the cache read-write when possible (refresh writes to it), else keep read-only."""
    if os.access(path, os.W_OK):
        db.close()
        return sqlite3.connect(path)
    return db
