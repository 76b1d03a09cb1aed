"""The index cache on disk (stage: target): a size cap with least-recently-used eviction, in-use
protection, and what ``backport cache list|prune`` show and do.

Inputs: the cache directory (backport.index: ``$XDG_CACHE_HOME/backport``), a size cap: the
``--cache-max`` option, else ``$BACKPORT_CACHE_MAX``, else ``git config backport.cacheMax``,
else 4G (``unlimited`` turns it off). Outputs: ``CacheEntry`` rows, the files eviction and
pruning removed, and ``Hold`` objects that mark an index as in use.

Beside each index ``<id>.sqlite`` the cache keeps ``.<id>.sqlite.lock`` (one builder at a
time, backport.index) and ``.<id>.sqlite.use``: every process that has the index open holds a
shared flock on it for as long as it does, and its mtime says when the index was last opened.
Eviction takes that lock exclusively without waiting, so an index another process is using is
never removed; the least recently used of the others go first until the cache fits the cap.
Only index files count against the cap (other tools' subdirectories, e.g. build/, are theirs).
"""

from __future__ import annotations

import contextlib
import os
import re
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


def _side(index: Path, suffix: str) -> Path:
    return index.with_name(f".{index.name}{suffix}")


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
    """A shared lock on an index's ``.use`` file for as long as this object lives (or until
    ``release``): eviction and ``cache prune`` leave that index alone. Opening it stamps the
    index as used now."""

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
    tree: str = ""  # the tree the index was built from (kind:path), "" when unreadable
    key: str = ""  # the tree identity (git tree id, directory hash)
    schema: str = ""


def _files(cdir: Path) -> list[Path]:
    # not the workers' .scan-*.sqlite nor a builder's .tmp: those are hidden
    return sorted(cdir.glob("[!.]*.sqlite")) if cdir.is_dir() else []


def _size(index: Path) -> int:
    total = 0
    for p in (index, index.with_name(index.name + "-journal"), index.with_name(index.name + "-wal")):
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


def list_entries(cdir: Path) -> list[CacheEntry]:
    """Every index in ``cdir``, most recently used first."""
    out = []
    for f in _files(cdir):
        meta = _meta(f)
        out.append(CacheEntry(f, _size(f), _last_used(f), _in_use(f), meta.get("root", ""), meta.get("key", ""),
                              meta.get("schema", "")))
    out.sort(key=lambda e: -e.last_used)
    return out


# ---------------------------------------------------------------- eviction


def remove_index(index: Path) -> bool:
    """Delete ``index`` and its side files unless a process holds it; True when removed."""
    with _exclusive(index) as free:
        if not free:
            return False
        for p in (index, index.with_name(index.name + "-journal"), index.with_name(index.name + "-wal"),
                  _side(index, LOCK_SUFFIX), _side(index, USE_SUFFIX)):
            with contextlib.suppress(FileNotFoundError):
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
    """Evict the least recently used indexes not in use and not in ``keep`` until the cache
    plus ``reserve`` bytes (an index about to be built) fits ``max_bytes``; the removed paths."""
    if max_bytes is None:
        return []
    kept = {Path(k) for k in keep}
    files = [(f, _size(f), _last_used(f)) for f in _files(cdir)]
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
    """``backport cache prune``: drop indexes of another layout than ``schema`` or of a directory
    that is gone, builders' leftovers older than a day, side files whose index is gone, then
    evict to ``max_bytes``. Indexes in use are kept. Returns the removed paths and bytes freed."""
    removed: list[Path] = []
    freed = 0
    now = time.time()
    for f in _files(cdir):
        meta = _meta(f)
        kind, _, root = meta.get("root", "").partition(":")
        gone = kind == "DirTree" and root and not os.path.isdir(root)
        size = _size(f)
        if (meta.get("schema") != schema or gone) and remove_index(f):
            removed.append(f)
            freed += size
    for f in (*cdir.glob(".*.tmp"), *cdir.glob(".scan-*.sqlite")):
        with contextlib.suppress(OSError):
            if now - f.stat().st_mtime > STALE_SECONDS:
                freed += f.stat().st_size
                f.unlink()
                removed.append(f)
    for side in (*cdir.glob(f".*.sqlite{LOCK_SUFFIX}"), *cdir.glob(f".*.sqlite{USE_SUFFIX}")):
        if side.with_name(side.name[1:].rsplit(".", 1)[0]).exists():
            continue
        _unlink_unlocked(side)  # not a lock a builder or a user holds right now
    sizes = {f: _size(f) for f in _files(cdir)}
    for f in enforce_cap(cdir, max_bytes):
        removed.append(f)
        freed += sizes.get(f, 0)
    return removed, freed
