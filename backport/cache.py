"""The cache on disk (stage: target): a size cap with least-recently-used eviction, in-use
protection, and what ``backport cache list|prune`` show and do.

Inputs: the cache directory (backport.index: ``$XDG_CACHE_HOME/backport``), a size cap: the
``--cache-max`` option, else ``$BACKPORT_CACHE_MAX``, else ``git config backport.cacheMax``,
else 4G (``unlimited`` turns it off). Outputs: ``CacheEntry`` rows, the files eviction and
pruning removed, and ``Hold`` objects that mark an entry as in use.

Three kinds of entries share the cap: ``index`` (``<cache>/<id>.sqlite``, backport.index),
``build`` (``<cache>/build/<key>/``, a prepared out-of-tree build directory of
backport.verify, with its scratch slots) and ``upstream`` (``<cache>/upstream/<id>.sqlite``,
the history answers of backport.upstream). Each is protected, stamped and evicted the same way.

Beside each entry ``NAME`` the cache keeps ``.NAME.lock`` (one builder at a time: the index
builder, ``prepare_build``) and ``.NAME.use``: every process that has the entry open (an index
loaded, a build directory prepared or building, a history cache open) holds a shared flock on
it for as long as it does, and its mtime says when the entry was last used. Eviction takes
that lock exclusively without waiting, so an entry another process is using is never removed;
the least recently used of the others, whatever their kind, go first until the cache fits the
cap. Anything else in the cache directory is not counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import UsageError

DEFAULT_MAX = 4 << 30
ENV_MAX = "BACKPORT_CACHE_MAX"
USE_SUFFIX = ".use"
LOCK_SUFFIX = ".lock"
STALE_SECONDS = 86400  # a builder's leftover older than this is dead
# 4G   /   512M   /   1.5GiB   /   300000000   /   unlimited
RE_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)
UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
BUILD_DIR = "build"  # <cache>/build/<key>/: backport.verify's prepared build directories
UPSTREAM_DIR = "upstream"  # <cache>/upstream/<id>.sqlite: backport.upstream's history answers
SQLITE_SIDES = ("-journal", "-wal", "-shm")

_configured: list[int | None] = []  # set by configure(): the --cache-max of this process


def parse_size(text: str, *, what: str = "size") -> int | None:
    """``4G`` -> 4294967296 (binary units, a trailing ``B``/``iB`` allowed); ``unlimited``,
    ``none`` or ``off`` -> None (no cap). UsageError on anything else."""
    if text.strip().lower() in ("unlimited", "none", "off"):
        return None
    m = RE_SIZE.match(text)
    if not m:
        raise UsageError(f"{what} {text!r} is not a size (e.g. 4G, 500M, unlimited)")
    return int(float(m.group(1)) * UNITS[m.group(2).lower()])


def format_size(n: int) -> str:
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return f"{n}B"


def configure(max_size: str | None) -> None:
    """Set this process's cap (the CLI's ``--cache-max``); None forgets it."""
    _configured.clear()
    if max_size is not None:
        _configured.append(parse_size(max_size, what="--cache-max"))


def cache_max() -> int | None:
    """The cap in force (see the module docstring for the order); None means no cap."""
    if _configured:
        return _configured[0]
    env = os.environ.get(ENV_MAX)
    if env:
        return parse_size(env, what=f"${ENV_MAX}")
    try:
        out = subprocess.run(["git", "config", "--get", "backport.cacheMax"], capture_output=True, text=True,
                             timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return DEFAULT_MAX
    value = out.stdout.strip()
    return parse_size(value, what="git config backport.cacheMax") if out.returncode == 0 and value else DEFAULT_MAX


# ---------------------------------------------------------------- in use


def side_file(entry: Path, suffix: str) -> Path:
    """``.NAME.lock`` / ``.NAME.use`` beside the entry ``NAME`` (a file or a directory)."""
    return entry.with_name(f".{entry.name}{suffix}")


_side = side_file


def _flock(fh: IO[str], flags: int) -> bool:
    try:
        import fcntl
    except ImportError:  # not POSIX: no protection, the cap still holds
        return True
    try:
        fcntl.flock(fh, flags)
        return True
    except BlockingIOError:
        return False


class Hold:
    """A shared lock on an entry's ``.use`` file for as long as this object lives (or until
    ``release``): eviction and ``cache prune`` leave that entry alone. Opening it stamps the
    entry as used now."""

    def __init__(self, index: Path) -> None:
        import fcntl

        self.path = _side(index, USE_SUFFIX)
        self._fh: IO[str] | None = None
        for _ in range(5):  # the file may be replaced by an evictor between open and lock
            fh = open(self.path, "a+")  # noqa: SIM115 - held for the object's life
            _flock(fh, fcntl.LOCK_SH)
            try:
                same = os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fh = fh
                os.utime(self.path)
                return
            fh.close()

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __del__(self) -> None:
        self.release()


def hold(index: Path) -> Hold | None:
    """``Hold(index)``, or None where the cache directory is not writable."""
    try:
        return Hold(index)
    except (OSError, ImportError):
        return None


@contextlib.contextmanager
def holding(entry: Path):  # -> Iterator[Hold | None]
    """``hold(entry)`` for the duration of a ``with`` block."""
    h = hold(entry)
    try:
        yield h
    finally:
        if h is not None:
            h.release()


def _unlink_unlocked(path: Path) -> None:
    import fcntl

    try:
        with open(path, "a+") as fh:
            if _flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB):
                path.unlink()
    except OSError:
        pass


@contextlib.contextmanager
def _exclusive(index: Path):  # -> Iterator[bool]: True when nobody holds the index
    import fcntl

    path = _side(index, USE_SUFFIX)
    try:
        fh = open(path, "a+")  # noqa: SIM115
    except OSError:
        yield False
        return
    try:
        yield _flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        fh.close()


# ---------------------------------------------------------------- listing


@dataclass(frozen=True, slots=True)
class CacheEntry:
    path: Path
    size: int
    last_used: float  # seconds since the epoch
    in_use: bool
    tree: str = ""  # what the entry was made from (kind:path), "" when unreadable
    key: str = ""  # the tree identity (git tree id, directory hash); a build's arch and config
    schema: str = ""
    kind: str = "index"  # index | build | upstream


def _files(cdir: Path) -> list[Path]:
    # not the workers' .scan-*.sqlite nor a builder's .tmp: those are hidden
    return sorted(cdir.glob("[!.]*.sqlite")) if cdir.is_dir() else []


def _entries(cdir: Path) -> list[tuple[str, Path]]:
    """(kind, path) of every entry the cap counts."""
    out = [("index", f) for f in _files(cdir)]
    out += [("upstream", f) for f in _files(cdir / UPSTREAM_DIR)]
    builds = cdir / BUILD_DIR
    if builds.is_dir():
        out += [("build", d) for d in sorted(builds.iterdir())
                if not d.name.startswith(".") and d.is_dir() and not d.is_symlink()]
    return out


def _dir_size(path: Path) -> int:
    """Bytes under ``path``, symlinks not followed (a build farm links to the whole tree)."""
    total = 0
    with contextlib.suppress(OSError), os.scandir(path) as it:
        for e in it:
            with contextlib.suppress(OSError):
                if e.is_dir(follow_symlinks=False):
                    total += _dir_size(Path(e.path))
                else:
                    total += e.stat(follow_symlinks=False).st_size
    return total


def _size(entry: Path) -> int:
    if entry.is_dir() and not entry.is_symlink():
        return _dir_size(entry)
    total = 0
    for p in (entry, *(entry.with_name(entry.name + s) for s in SQLITE_SIDES)):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


def _last_used(index: Path) -> float:
    for p in (_side(index, USE_SUFFIX), index):
        with contextlib.suppress(OSError):
            return p.stat().st_mtime
    return 0.0


def _in_use(index: Path) -> bool:
    if not _side(index, USE_SUFFIX).exists():
        return False
    with _exclusive(index) as free:
        return not free


def _meta(index: Path) -> dict[str, str]:
    try:
        con = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT key, value FROM meta WHERE key IN ('root', 'key', 'schema')").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return {}
    return {k: (v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else str(v)) for k, v in rows}


def _build_meta(build: Path) -> dict[str, str]:
    """What backport.verify wrote in a prepared build directory's ``prepared.json``."""
    try:
        data = json.loads((build / "prepared.json").read_text())
    except (OSError, ValueError):
        return {}
    return {"root": f"tree:{data.get('tree', '')}",
            "key": f"ARCH={data.get('arch', '?')} {data.get('config', '?')}"} if isinstance(data, dict) else {}


def list_entries(cdir: Path) -> list[CacheEntry]:
    """Every entry in ``cdir`` (indexes, build directories, upstream caches), most recently
    used first."""
    out = []
    for kind, f in _entries(cdir):
        meta = _build_meta(f) if kind == "build" else _meta(f)
        out.append(CacheEntry(f, _size(f), _last_used(f), _in_use(f), meta.get("root", ""), meta.get("key", ""),
                              meta.get("schema", ""), kind))
    out.sort(key=lambda e: -e.last_used)
    return out


# ---------------------------------------------------------------- eviction


def remove_index(index: Path) -> bool:
    """Delete the entry ``index`` (a file and its SQLite side files, or a build directory) and
    its lock and use files unless a process holds it; True when removed."""
    with _exclusive(index) as free:
        if not free:
            return False
        if index.is_dir() and not index.is_symlink():
            shutil.rmtree(index, ignore_errors=True)
        for p in (index, *(index.with_name(index.name + s) for s in SQLITE_SIDES),
                  _side(index, LOCK_SUFFIX), _side(index, USE_SUFFIX)):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                p.unlink()
    return True


def take_over(index: Path, dest: Path) -> bool:
    """Move ``index`` to ``dest`` (to be updated into another index), or copy it when another
    process has it open (its reader keeps a file that does not change under it). False when
    it is gone."""
    import shutil

    with _exclusive(index) as free:
        try:
            if not free:
                shutil.copyfile(index, dest)
                return True
            os.replace(index, dest)
        except FileNotFoundError:
            return False
        for p in (_side(index, LOCK_SUFFIX), _side(index, USE_SUFFIX)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    return True


def enforce_cap(cdir: Path, max_bytes: int | None, *, keep: Iterable[Path] = (), reserve: int = 0) -> list[Path]:
    """Evict the least recently used entries (of any kind) not in use and not in ``keep`` until
    the cache plus ``reserve`` bytes (an index about to be built) fits ``max_bytes``; the
    removed paths."""
    if max_bytes is None:
        return []
    kept = {Path(k) for k in keep}
    files = [(f, _size(f), _last_used(f)) for _, f in _entries(cdir)]
    total = sum(size for _, size, _ in files)
    removed = []
    for f, size, _ in sorted(files, key=lambda t: t[2]):
        if total + reserve <= max_bytes:
            break
        if f in kept:
            continue
        if remove_index(f):
            total -= size
            removed.append(f)
    return removed


def expected_size(cdir: Path) -> int:
    """What the next index may take: the largest one already there (0 in an empty cache)."""
    return max((_size(f) for f in _files(cdir)), default=0)


def prune(cdir: Path, max_bytes: int | None, *, schema: str) -> tuple[list[Path], int]:
    """``backport cache prune``: drop indexes of another layout than ``schema``, indexes and
    build directories of a directory that is gone, build directories whose prepare never
    finished and builders' leftovers older than a day, side files whose entry is gone, then
    evict to ``max_bytes``. Entries in use are kept. Returns the removed paths and bytes freed."""
    removed: list[Path] = []
    freed = 0
    now = time.time()
    for what, f in _entries(cdir):
        meta = _build_meta(f) if what == "build" else _meta(f)
        kind, _, root = meta.get("root", "").partition(":")
        gone = kind in ("DirTree", "tree") and root and not os.path.isdir(root)
        if what == "index":
            drop = meta.get("schema") != schema or gone
        elif what == "build":  # no prepared.json: a prepare that failed or was killed
            drop = gone or (not meta and now - _last_used(f) > STALE_SECONDS)
        else:
            drop = False
        size = _size(f) if drop else 0
        if drop and remove_index(f):
            removed.append(f)
            freed += size
    for f in (*cdir.glob(".*.tmp"), *cdir.glob(".scan-*.sqlite")):
        with contextlib.suppress(OSError):
            if now - f.stat().st_mtime > STALE_SECONDS:
                freed += f.stat().st_size
                f.unlink()
                removed.append(f)
    sides = [*cdir.glob(f".*.sqlite{LOCK_SUFFIX}"), *cdir.glob(f".*.sqlite{USE_SUFFIX}")]
    for sub in (cdir / BUILD_DIR, cdir / UPSTREAM_DIR):
        sides += [*sub.glob(f".*{LOCK_SUFFIX}"), *sub.glob(f".*{USE_SUFFIX}")]
    for side in sides:
        if side.with_name(side.name[1:].rsplit(".", 1)[0]).exists():
            continue
        _unlink_unlocked(side)  # not a lock a builder or a user holds right now
    sizes = {f: _size(f) for _, f in _entries(cdir)}
    for f in enforce_cap(cdir, max_bytes):
        removed.append(f)
        freed += sizes.get(f, 0)
    return removed, freed
