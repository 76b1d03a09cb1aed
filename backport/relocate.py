"""Cross-file search for hunks whose file or function moved (stage: hunks, tree side).

Inputs: a TargetTree (or the pipeline's overlay of it), a path named by a patch, the function
named in a hunk's ``@@`` section. Outputs: candidate target paths, best first.

Two situations are covered:

- the patched file is absent from the target: it was renamed or moved (same basename elsewhere,
  or a file in the same directory that defines the hunks' functions);
- the file exists but the function named in the ``@@`` header lives in another file of the target
  (code moved between files): the files near the original path are searched for its definition.

Neither crosses an architecture: a path under ``arch/X/`` only relocates under ``arch/X/``. The
top-level Makefile builds ``arch/$(SRCARCH)`` alone, so a file of one arch that the target lacks
(arm64's module-plts.c, added in v4.6 by fd045f6cd98e "arm64: add support for module PLTs", is
absent from a 4.4 tree) is a missing prerequisite, never a rename into another arch's file of the
same name (32-bit arm's arch/arm/kernel/module-plts.c, which the arm64 kernel never builds).

The tree's file list is read once per tree object and cached (a kernel tree has ~70k files);
file contents are read lazily, only for the few candidates that survive a cheap name filter.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from collections.abc import Callable, Iterable, Sequence

from .model import TargetTree

#: at most this many files are opened when looking for a moved function
MAX_SCAN_FILES = 400
#: at most this many candidate paths are returned
MAX_CANDIDATES = 5

_PATHS: weakref.WeakKeyDictionary[object, tuple[str, ...]] = weakref.WeakKeyDictionary()


def list_paths(tree: TargetTree) -> tuple[str, ...]:
    """Every file path of ``tree``, sorted; cached per tree object (trees are read-only; an
    object with a true ``mutable`` attribute, like the pipeline's overlay, is listed afresh)."""
    if getattr(tree, "mutable", False):
        return tuple(tree.iter_paths())
    try:
        cached = _PATHS.get(tree)
    except TypeError:  # not weak-referenceable
        return tuple(tree.iter_paths())
    if cached is None:
        cached = tuple(tree.iter_paths())
        _PATHS[tree] = cached
    return cached


def _common_prefix_len(a: str, b: str) -> int:
    pa, pb = a.split("/"), b.split("/")
    n = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        n += 1
    return n


def arch_of(path: str) -> str | None:
    """``X`` for a path under ``arch/X/``, else None."""
    parts = path.split("/", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "arch" else None


def same_arch(path: str, other: str) -> bool:
    """Whether ``other`` may hold ``path``'s code: not under another arch's directory."""
    mine = arch_of(path)
    return mine is None or arch_of(other) == mine


def find_renamed(paths: Iterable[str], path: str) -> tuple[str, ...]:
    """Paths with the same basename as ``path`` (a moved file), nearest directory first; never
    under another arch's directory (see the module docstring)."""
    base = posixpath.basename(path)
    same = [p for p in paths if posixpath.basename(p) == base and p != path and same_arch(path, p)]
    same.sort(key=lambda p: (-_common_prefix_len(p, path), len(p), p))
    return tuple(same[:MAX_CANDIDATES])


def _neighbourhood(paths: Sequence[str], path: str) -> list[str]:
    """Files of the same kind near ``path``: its directory, then its parent's subtree.

    C sources and headers count as one kind (inline functions move into headers)."""
    ext = posixpath.splitext(path)[1]
    exts = (".c", ".h") if ext in (".c", ".h") else (ext,)
    d = posixpath.dirname(path)
    near: dict[str, None] = {}  # ordered set: the directory's files first
    for scope in (d, posixpath.dirname(d)):
        prefix = scope + "/" if scope else ""
        for p in paths:
            if p.startswith(prefix) and p.endswith(exts) and p != path:
                near.setdefault(p)
                if len(near) >= MAX_SCAN_FILES:
                    return list(near)
    return list(near)


# static int foo(struct bar *b)      (a line that may define ``foo``; the name is substituted)
RE_DEFINITION_TEMPLATE = r"^[A-Za-z_][^;=(]*\b{name}\s*\("


def find_function_files(tree: TargetTree, name: str, near: str, *,
                        read: Callable[[str], str | None] | None = None) -> tuple[str, ...]:
    """Files near ``near`` that define a function (or macro) called ``name``, nearest first.

    ``read`` reads a path (the pipeline passes its overlay so earlier patches are seen).
    """
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        return ()
    reader = read or tree.read
    rx = re.compile(RE_DEFINITION_TEMPLATE.format(name=re.escape(name)), re.M)
    # #define foo(x)
    rx_macro = re.compile(rf"^#\s*define\s+{re.escape(name)}\b", re.M)
    found: list[str] = []
    for p in _neighbourhood(list_paths(tree), near):
        if not same_arch(near, p):
            continue
        text = reader(p)
        if not text or name not in text:
            continue
        if rx.search(text) or rx_macro.search(text):
            found.append(p)
            if len(found) >= MAX_CANDIDATES:
                break
    found.sort(key=lambda p: (-_common_prefix_len(p, near), len(p), p))
    return tuple(found)


def find_moved_file(tree: TargetTree, path: str, names: Sequence[str], *,
                    read: Callable[[str], str | None] | None = None) -> tuple[str, ...]:
    """Where the absent file ``path`` went: same basename elsewhere, else files near it that
    define the functions ``names`` named in its hunks' ``@@`` sections (most hits first)."""
    renamed = find_renamed(list_paths(tree), path)
    if renamed:
        return renamed
    hits: dict[str, int] = {}
    for name in dict.fromkeys(names):
        for p in find_function_files(tree, name, path, read=read):
            hits[p] = hits.get(p, 0) + 1
    return tuple(sorted(hits, key=lambda p: (-hits[p], p))[:MAX_CANDIDATES])
