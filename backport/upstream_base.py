"""The upstream base of a file patch (stage: place): the pre-image the 3-way merge starts from.

Inputs: a model.FilePatch (``old_path``, the abbreviated ``index`` blob id, its hunks), the
``--upstream`` path (a git repository, or a plain directory: an extracted upstream tree or
release tarball), the patch's ``base-commit``. Outputs: a ``Base`` (the text, whether it is
exactly the patch's pre-image) and, when a plain directory's file is not the pre-image, a note
finding ``upstream-base`` saying so and whether the base was used.

A git repository answers by object id (the ``index`` blob, else ``old_path`` at
``base-commit``). A plain directory has no object ids, so the file ``old_path`` names is hashed
on demand the way git names a blob (``sha1("blob <size>\\0" + bytes)``) and compared with the
abbreviated id: equal, it is the exact base; different (another release, a vendor tree), it is
kept as an *approximate* base only when every hunk's pre-image (context and removed lines) is in
it verbatim, otherwise it is not used, since a wrong base would invent divergences.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import TreeError, UnsafePathError
from .model import FilePatch, Finding, LineKind, Severity
from .target import DirTree, check_relpath, decode

# 1a2b3c4 ... (an abbreviated or full blob id; all zeros names no blob)
RE_BLOB = re.compile(r"^[0-9a-f]{4,40}$")


@dataclass(frozen=True, slots=True)
class Base:
    """``text`` None: the upstream file was looked at and not used (``note`` says why)."""

    text: str | None
    exact: bool
    note: Finding | None = None


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob of these bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@lru_cache(maxsize=4)
def _upstream_repo(path: str) -> object | None:
    if not (Path(path) / ".git").exists() and not (Path(path) / "objects").is_dir():
        return None
    import git  # lazy: slow to import

    try:
        return git.Repo(path)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        return None


@lru_cache(maxsize=4)
def _upstream_dir(path: str) -> DirTree | None:
    try:
        return DirTree(path)
    except TreeError:
        return None


def _from_repo(repo: object, fp: FilePatch, rel: str, base_commit: str | None) -> Base | None:
    import git

    specs = []
    if fp.old_blob and RE_BLOB.match(fp.old_blob) and set(fp.old_blob) != {"0"}:
        specs.append(f"{fp.old_blob}^{{blob}}")
    if base_commit and re.fullmatch(r"[0-9a-f]{7,40}", base_commit):
        specs.append(f"{base_commit}:{rel}")
    for spec in specs:
        try:
            sha = repo.git.rev_parse("--verify", "--quiet", spec)  # type: ignore[attr-defined]
            return Base(decode(repo.odb.stream(bytes.fromhex(sha)).read()), exact=True)  # type: ignore[attr-defined]
        except (git.exc.GitCommandError, ValueError):
            continue
    return None


def _pre_images_fit(fp: FilePatch, lines: list[str]) -> bool:
    """Every hunk's context and removed lines appear, in one run each, in ``lines``."""
    whole = "\n" + "\n".join(lines) + "\n"
    for h in fp.hunks:
        pre = [ln.text for ln in h.lines if ln.kind is not LineKind.ADDED]
        if pre and "\n" + "\n".join(pre) + "\n" not in whole:
            return False
    return True


def _from_dir(tree: DirTree, upstream: str, fp: FilePatch, rel: str) -> Base | None:
    from .series import split_lines

    data = tree.read_bytes(rel)
    blob = fp.old_blob if fp.old_blob and RE_BLOB.match(fp.old_blob) and set(fp.old_blob) != {"0"} else None
    where = f"{upstream.rstrip('/')}/{rel}"
    hint = "point --upstream at the release the patch was made from, or at a git repository that holds its blobs"
    if data is None:
        msg = f"{rel}: not in the --upstream directory; no 3-way base"
        return Base(None, exact=False, note=Finding("upstream-base", Severity.NOTE, msg, fp.ref, (where,), hint))
    have = git_blob_id(data)
    if blob is not None and have.startswith(blob):
        return Base(decode(data), exact=True)
    text = decode(data)
    fits = _pre_images_fit(fp, split_lines(text))
    said = (f"blob {have[:12]}, the patch's index line names {blob}" if blob
            else "the patch names no blob (no index line), so it cannot be checked")
    used = ("approximate 3-way base: every hunk's pre-image is in it" if fits
            else "not used as a 3-way base: the hunks' pre-images are not all in it")
    evidence = (f"{where}: blob {have[:12]}",) + ((f"patch: index {blob}",) if blob else ())
    note = Finding("upstream-base", Severity.NOTE, f"{rel}: the --upstream file is {said}; {used}", fp.ref,
                   evidence, hint)
    return Base(text if fits else None, exact=False, note=note)


def find_base(fp: FilePatch, upstream: str | None, *, base_commit: str | None = None) -> Base | None:
    """The upstream pre-image of ``fp`` (see the module docstring); None when there is no
    upstream, the file is new, its path is unsafe, or a git repository does not have it."""
    if not upstream or fp.old_path is None:
        return None
    try:
        rel = check_relpath(fp.old_path)
    except UnsafePathError:
        return None
    repo = _upstream_repo(upstream)
    if repo is not None:
        return _from_repo(repo, fp, rel, base_commit)
    tree = _upstream_dir(upstream)
    return _from_dir(tree, upstream, fp, rel) if tree is not None else None


def load_base(fp: FilePatch, upstream: str | None, *, base_commit: str | None = None) -> str | None:
    """The text of ``find_base`` when it is usable (exact, or an approximate base that holds
    every hunk's pre-image); None otherwise."""
    base = find_base(fp, upstream, base_commit=base_commit)
    return base.text if base is not None else None


def read_upstream(upstream: str | None, rel: str, *, base_commit: str | None = None) -> str | None:
    """Any file of the upstream base by its path (a definition the hunk's own file does not
    hold): the plain directory's file, or the repository's at ``base_commit``; None otherwise."""
    if not upstream:
        return None
    try:
        rel = check_relpath(rel)
    except UnsafePathError:
        return None
    repo = _upstream_repo(upstream)
    if repo is not None:
        if not base_commit or not re.fullmatch(r"[0-9a-f]{7,40}", base_commit):
            return None
        import git

        try:
            return str(repo.git.show(f"{base_commit}:{rel}"))  # type: ignore[attr-defined]
        except git.exc.GitCommandError:
            return None
    tree = _upstream_dir(upstream)
    data = tree.read_bytes(rel) if tree is not None else None
    return decode(data) if data is not None else None
