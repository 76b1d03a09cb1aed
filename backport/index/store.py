"""Target index, store (stage: target): the on-disk cache of indexes, found, loaded or built.

Inputs: a model.TargetTree, a cache directory (default ``$XDG_CACHE_HOME/backport``), options
of load_index. Outputs: a TreeIndex over the cache file of the tree's identity (tree_key),
loaded when it exists, else updated from the directory's previous index or built, under a
per-file lock and the cache's size cap (backport.cache); in memory when nothing can be cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import cache
from ..model import TargetTree
from .build import build_index_db, update_index_db
from .dotconfig import load_dotconfig
from .query import TreeIndex
from .schema import SCHEMA, _dec, _enc

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



def _cache_file(cdir: Path, key: str) -> Path:
    return cdir / (hashlib.sha1(_enc(f"{SCHEMA}\0{key}")).hexdigest()[:24] + ".sqlite")


def find_cached_index(tree: TargetTree, *, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The cache file of ``tree``'s current identity, if one was built."""
    if type(tree).__name__ not in ("DirTree", "GitTree"):
        return None
    f = _cache_file(Path(cache_dir) if cache_dir is not None else default_cache_dir(), tree_key(tree))
    return f if f.exists() else None



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
