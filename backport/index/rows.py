"""Target index, rows (stage: target): scanning a tree's files into rows of an index database.

Inputs: a tree's files, read from a directory, a git revision (one ``git cat-file --batch``) or
a model.TargetTree, and file ids to store them under. Outputs: rows inserted into (or deleted
from) a sqlite database of the schema in backport.index.schema; the scanners themselves live in
backport.scan. Used by build (whole trees, in worker processes) and query (refresh, extend).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from ..model import TargetTree
from ..scan import scan_file
from .schema import _DDL, BULK_MACROS, KIND_CODE, _enc, name_hash


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



def _write_counts(db: sqlite3.Connection) -> None:
    for table in ("files", "defs", "bulk", "kconfig", "makevars"):
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, (SELECT count(*) FROM " + table + "))", ("count-" + table,))
    db.commit()



def _delete_files(db: sqlite3.Connection, fids: Sequence[int]) -> None:
    """Drop the rows of these files: one scan of each table per 500 files (defs has no file index)."""
    for i in range(0, len(fids), 500):
        chunk = list(fids[i: i + 500])
        marks = ",".join("?" * len(chunk))
        for table in ("defs", "bulk", "kconfig", "makevars"):
            db.execute(f"DELETE FROM {table} WHERE file IN ({marks})", chunk)
        db.execute(f"DELETE FROM files WHERE id IN ({marks})", chunk)


