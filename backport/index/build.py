"""Target index, build (stage: target): filling an index database from a whole tree.

Inputs: a model.TargetTree (all its files, or the ``paths`` of a partial index), an empty or
earlier sqlite database. Outputs: the database filled (build_index_db, in up to 2 worker
processes merged in C) or brought up to date after the directory changed (update_index_db);
lazy_paths names what a partial index for a series needs.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

from ..model import TargetTree
from ..scan import file_class
from .rows import (
    _delete_files,
    _fork_worker,
    _insert_scanned,
    _partition,
    _scan_disk,
    _scan_source,
    _scan_tree_files,
    _scan_worker,
    _write_counts,
)
from .schema import _CLUSTERED_DEFS, _DDL, _FROM_HEAP, _INDEXES, SCHEMA, _dec, _enc


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


