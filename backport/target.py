"""Target trees (stage: target): a plain directory, a git repo pinned to a revision, or memory.

Inputs: a path (and optionally a revision). Outputs: objects satisfying model.TargetTree.
Every read goes through ``check_relpath`` so a path from a patch can never leave the tree,
and a symlink that points outside the tree is treated as absent.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path

from .errors import TreeError, UnsafePathError

# VERSION = 4
RE_MAKE_VERSION = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+)\s*$", re.M)
MAX_PATH = 4096
MAX_COMPONENT = 255
SKIP_DIRS = {".git", ".hg", ".svn", ".pc", ".backport-apply"}  # the last: apply.py's record


def check_relpath(path: str) -> str:
    """Return ``path`` normalised, or raise UnsafePathError if it could escape a tree.

    Refused: empty, absolute, ``..`` components, NUL/control bytes, overlong names.
    """
    if not path:
        raise UnsafePathError("empty path")
    if len(path) > MAX_PATH:
        raise UnsafePathError(f"path of {len(path)} characters is too long")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise UnsafePathError(f"path {path!r} holds control characters")
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path) or path.startswith("\\"):
        raise UnsafePathError(f"absolute path {path!r}")
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"path {path!r} names no file")
    for p in parts:
        if p == "..":
            raise UnsafePathError(f"path {path!r} climbs out of the tree")
        if len(p) > MAX_COMPONENT:
            raise UnsafePathError(f"path component of {len(p)} characters is too long")
        if p == ".git":
            raise UnsafePathError(f"path {path!r} writes into .git")
    return "/".join(parts)


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def parse_kernel_version(makefile: str | None) -> tuple[int, int, int] | None:
    if not makefile:
        return None
    found = dict(RE_MAKE_VERSION.findall(makefile[:4000]))
    if "VERSION" not in found or "PATCHLEVEL" not in found:
        return None
    return int(found["VERSION"]), int(found["PATCHLEVEL"]), int(found.get("SUBLEVEL", 0))


class DirTree:
    """A plain directory (an extracted vendor or Debian kernel source)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        p = Path(root)
        if not p.is_dir():
            raise TreeError(f"{root}: not a directory")
        self.root = str(p.resolve())
        self._root_path = Path(self.root)

    def resolve(self, path: str) -> Path | None:
        """The real file for ``path`` if it stays inside the tree, else None."""
        rel = check_relpath(path)
        full = self._root_path / rel
        try:
            real = full.resolve()
        except (OSError, RuntimeError):
            return None
        if real != self._root_path and self._root_path not in real.parents:
            return None
        return full

    def read_bytes(self, path: str) -> bytes | None:
        try:
            full = self.resolve(path)
        except UnsafePathError:
            return None
        if full is None or not full.is_file():
            return None
        try:
            return full.read_bytes()
        except OSError:
            return None

    def read(self, path: str) -> str | None:
        data = self.read_bytes(path)
        return None if data is None else decode(data)

    def exists(self, path: str) -> bool:
        try:
            full = self.resolve(path)
        except UnsafePathError:
            return False
        return full is not None and full.is_file()

    def is_symlink(self, path: str) -> bool:
        try:
            rel = check_relpath(path)
        except UnsafePathError:
            return False
        return (self._root_path / rel).is_symlink()

    def iter_paths(self) -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            rel = os.path.relpath(dirpath, self.root)
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                if os.path.islink(full):
                    continue
                yield f if rel == "." else f"{rel}/{f}".replace(os.sep, "/")

    def stat_listing(self) -> Iterator[tuple[str, int, int]]:
        """(path, size, mtime_ns) of every file, for cache identities."""
        for path in self.iter_paths():
            try:
                st = os.stat(os.path.join(self.root, path))
            except OSError:
                continue
            yield path, st.st_size, st.st_mtime_ns

    def kernel_version(self) -> tuple[int, int, int] | None:
        return parse_kernel_version(self.read("Makefile"))

    def identity(self) -> str:
        h = hashlib.sha1(encode(self.root))
        for path, size, mtime in self.stat_listing():
            h.update(encode(f"{path}\0{size}\0{mtime}\n"))
        return "dir:" + h.hexdigest()

    @property
    def is_git(self) -> bool:
        return (self._root_path / ".git").exists()


class GitTree:
    """A git repository read at a revision (default HEAD), through GitPython; no work tree needed."""

    def __init__(self, root: str | os.PathLike[str], rev: str = "HEAD") -> None:
        import git  # lazy: GitPython is slow to import

        try:
            self.repo = git.Repo(str(root), search_parent_directories=False)
            self.commit = self.repo.commit(rev)
        except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError) as e:
            raise TreeError(f"{root}: not a git repository") from e
        except (git.exc.BadName, ValueError) as e:
            raise TreeError(f"{root}: unknown revision {rev!r}") from e
        self.root = str(Path(root).resolve())
        self.rev = rev

    @cached_property
    def _blobs(self) -> dict[str, tuple[str, int]]:
        """path -> (blob sha, mode) for regular files at the revision, from one ls-tree call."""
        out = self.repo.git.ls_tree("-r", "-z", "--full-tree", self.commit.hexsha)
        blobs: dict[str, tuple[str, int]] = {}
        for entry in out.split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            mode, kind, sha = meta.split()
            if kind == "blob":
                blobs[path] = (sha, int(mode, 8))
        return blobs

    def read_bytes(self, path: str) -> bytes | None:
        try:
            rel = check_relpath(path)
        except UnsafePathError:
            return None
        entry = self._blobs.get(rel)
        if entry is None or entry[1] == 0o120000:  # absent, or a symlink
            return None
        return self.repo.odb.stream(bytes.fromhex(entry[0])).read()

    def read(self, path: str) -> str | None:
        data = self.read_bytes(path)
        return None if data is None else decode(data)

    def exists(self, path: str) -> bool:
        try:
            rel = check_relpath(path)
        except UnsafePathError:
            return False
        entry = self._blobs.get(rel)
        return entry is not None and entry[1] != 0o120000

    def is_symlink(self, path: str) -> bool:
        entry = self._blobs.get(path)
        return entry is not None and entry[1] == 0o120000

    def iter_paths(self) -> Iterator[str]:
        return iter(sorted(p for p, (_, mode) in self._blobs.items() if mode != 0o120000))

    def blob_id(self, path: str) -> str | None:
        entry = self._blobs.get(path)
        return entry[0] if entry else None

    def kernel_version(self) -> tuple[int, int, int] | None:
        return parse_kernel_version(self.read("Makefile"))

    def identity(self) -> str:
        return "git:" + self.commit.tree.hexsha


class MemoryTree:
    """An in-memory tree for tests: {path: text}."""

    def __init__(self, files: Mapping[str, str], root: str = "<memory>") -> None:
        self.files = dict(files)
        self.root = root

    def read(self, path: str) -> str | None:
        try:
            return self.files.get(check_relpath(path))
        except UnsafePathError:
            return None

    def exists(self, path: str) -> bool:
        return self.read(path) is not None

    def is_symlink(self, path: str) -> bool:
        return False

    def iter_paths(self) -> Iterator[str]:
        return iter(sorted(self.files))

    def kernel_version(self) -> tuple[int, int, int] | None:
        return parse_kernel_version(self.files.get("Makefile"))

    def identity(self) -> str:
        h = hashlib.sha1()
        for p in sorted(self.files):
            h.update(encode(p) + b"\0" + encode(self.files[p]) + b"\0")
        return "mem:" + h.hexdigest()


def load_tree(path: str, rev: str | None = None) -> DirTree | GitTree:
    """A TargetTree for ``path``: a plain directory (the work tree, even of a git repo) unless
    ``rev`` pins a git revision."""
    p = Path(path)
    if not p.exists():
        raise TreeError(f"{path}: no such directory")
    if rev is not None:
        return GitTree(path, rev)
    return DirTree(path)
