"""Writing a port into the target tree, atomically and reversibly (stage: apply).

Inputs: the root of the target tree and the ``PortResult``s of a series (their ``new_files``).
Outputs: the files written in place, and a *record* (directory) that ``revert_apply`` restores
from; ``write_file_atomic`` for every other file backport writes (``--out``).

How a series is applied (``apply_results``):

1. take the tree's lock (``<base>/lock``, O_EXCL, holds the pid; a dead holder's lock is taken
   over) and roll back any apply a SIGKILL interrupted (its journal says so, see 4);
2. refuse unless safe: every path passes ``safety.find_path_problem``, no refusing finding of
   ``safety.check_filepatch_safety`` on any file of the series, no symlink at or above a path
   (walked with ``O_NOFOLLOW`` directory fds, so nothing is ever written through a link);
   refuse a dirty git tree unless ``force`` (see ``check_clean``);
3. compute every new content first (later results win for the same path: the pipeline's
   ``new_files`` are cumulative over the series); unchanged files are skipped;
4. write the record *before touching the tree*: ``<base>/<id>/backup/NNNN`` hold the original
   bytes, ``<base>/<id>/journal.json`` the plan (path, action, temp name, backup, sha256 of the
   old and new bytes, modes, directories to create) and a state: staging -> committing -> done
   (or rolled-back; reverting -> reverted for ``revert_apply``);
5. stage: each new content goes to ``.bp-<id>-<n>.tmp`` in its destination's directory
   (O_CREAT|O_EXCL|O_NOFOLLOW, the mode of the file it replaces, fsync);
6. commit: ``os.replace`` each temp file onto its destination (deletions unlink), fsync dirs;
7. any exception, Ctrl-C (SIGINT) or SIGTERM during 5-6 rolls back from the journal in-process
   (SIGINT deferred while rolling back); SIGKILL cannot be caught, so the next ``apply_results``
   or ``revert_apply`` on the tree finds the unfinished journal and rolls it back first.

Where the record lives (``<base>``): ``<root>/.git/backport/`` when ``<root>/.git`` is a directory
(invisible to git status), else ``<root>/.backport-apply/`` (skipped by DirTree; a patch that
writes into either is refused as ``unsafe-path``). Records are kept until the user deletes them.

Dirty tree: tracked changes (staged or not) under the root make the tree dirty; untracked files
are ignored, except an untracked file the series would overwrite or delete (git could not
restore it). Plain directories (no git) have no notion of dirty; the record is their safety net.

Revert: ``revert_apply`` restores a record's files only when each still holds what apply wrote
(or already the original); otherwise it refuses unless ``force``. It is idempotent, so a revert
killed midway is finished by running it again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import ApplyError, TreeError, UnsafePathError
from .model import PortResult
from .safety import RECORD_DIRNAME, REFUSING_CODES, check_filepatch_safety, find_path_problem
from .target import DirTree, check_relpath, encode

JOURNAL = "journal.json"
POINTER = "apply-record.txt"  # in an --out directory: the path of the record of its --apply
RECORD_VERSION = 1
PAUSE_ENV = "BACKPORT_APPLY_TEST_PAUSE"  # seconds to sleep after each rename (kill tests)
UNFINISHED = ("staging", "committing", "reverting")
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_seq = 0  # orders records made within one second by one process
# 3fa9c2d1
RE_RECORD_ID = re.compile(r"^[0-9a-f]{8}$")
# .bp-3fa9c2d1-12.tmp
RE_TMP_NAME = re.compile(r"^\.bp-[0-9a-f]{8}-\d+\.tmp$")
# backup/00012
RE_BACKUP_NAME = re.compile(r"^backup/\d{5,}$")


# ---------------------------------------------------------------- small file helpers


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def write_file_atomic(path: str | os.PathLike[str], data: bytes | str, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temp file in the same directory and ``os.replace``.

    A reader sees the old file or the new one, never a half; a symlink at ``path`` is replaced,
    never written through. ``mode`` is subject to the umask.
    """
    dest = Path(path)
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    tmp = dest.parent / f".{dest.name[:200]}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(str(dest.parent))


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, _DIR_FLAGS)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _open_root(root: str) -> Iterator[int]:
    fd = os.open(root, _DIR_FLAGS)
    try:
        yield fd
    finally:
        os.close(fd)


def _refuse_component(dir_fd: int, name: str, rel: str) -> None:
    """Raise the right error for a path component that is not a plain directory."""
    try:
        st = os.lstat(name, dir_fd=dir_fd)
    except OSError as e:
        raise ApplyError(f"{rel}: cannot open: {e.strerror}") from e
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"{rel} is a symlink in the target; backport never writes through one")
    raise ApplyError(f"{rel} is not a directory in the target")


def _walk_dirs(root_fd: int, parts: Sequence[str], *, create: bool) -> tuple[int | None, int]:
    """Open the directory ``parts`` under ``root_fd`` without following any symlink.

    Returns (fd or None when a component is missing and ``create`` is false, index of the first
    missing component or len(parts)). The caller closes the fd.
    """
    fd = os.dup(root_fd)
    missing = len(parts)
    try:
        for i, part in enumerate(parts):
            try:
                nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    os.close(fd)
                    return None, i
                missing = min(missing, i)
                os.mkdir(part, 0o755, dir_fd=fd)
                nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    _refuse_component(fd, part, "/".join(parts[: i + 1]))
                raise
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd, missing


def _read_file(dir_fd: int, name: str, rel: str) -> tuple[bytes | None, int | None]:
    """(content, permission bits) of the regular file ``name``, (None, None) when absent."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, None
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            st = os.lstat(name, dir_fd=dir_fd)
            if stat.S_ISLNK(st.st_mode):
                raise UnsafePathError(f"{rel} is a symlink in the target; backport never writes through one") from e
            raise ApplyError(f"{rel} is not a regular file in the target") from e
        raise ApplyError(f"{rel}: cannot read: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ApplyError(f"{rel} is not a regular file in the target")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read(), stat.S_IMODE(st.st_mode)


def _split(rel: str) -> tuple[list[str], str]:
    parts = rel.split("/")
    return parts[:-1], parts[-1]


# ---------------------------------------------------------------- record and lock


def record_base(root: str) -> str:
    """The directory holding the apply records of the tree at ``root``."""
    git_dir = os.path.join(root, ".git")
    if os.path.isdir(git_dir) and not os.path.islink(git_dir):
        return os.path.join(git_dir, "backport")
    return os.path.join(root, RECORD_DIRNAME)


def _root_of_record(record: str) -> str:
    rec = Path(record).resolve()
    base = rec.parent
    if base.name == "backport" and base.parent.name == ".git":
        return str(base.parent.parent)
    if base.name == RECORD_DIRNAME:
        return str(base.parent)
    raise ApplyError(f"{record}: not inside a .git/backport or {RECORD_DIRNAME} directory")


def find_records(root: str) -> tuple[str, ...]:
    """Record directories of the tree at ``root``, oldest first (empty when none)."""
    base = record_base(os.path.realpath(root))
    if not os.path.isdir(base):
        return ()
    return tuple(os.path.join(base, n) for n in sorted(os.listdir(base))
                 if os.path.isfile(os.path.join(base, n, JOURNAL)))


def _load_journal(record: str) -> dict[str, Any]:
    path = os.path.join(record, JOURNAL)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ApplyError(f"{path}: unreadable apply record: {e}") from e
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION or not isinstance(data.get("entries"), list):
        raise ApplyError(f"{path}: not a backport apply record of version {RECORD_VERSION}")
    if not RE_RECORD_ID.match(str(data.get("id", ""))):
        raise ApplyError(f"{path}: malformed record id")
    for entry in data["entries"]:
        problem = _entry_problem(entry)
        if problem:
            raise ApplyError(f"{path}: refusing a record entry: {problem}")
    return data


def _entry_problem(e: object) -> str | None:
    """Why a journal entry cannot be trusted (the record sits in the tree: check it anyway)."""
    if not isinstance(e, dict) or not isinstance(e.get("path"), str):
        return "malformed entry"
    problem = find_path_problem(e["path"])
    if problem:
        return problem
    if e.get("tmp") is not None and not RE_TMP_NAME.match(str(e["tmp"])):
        return f"bad temp name {e['tmp']!r}"
    if e.get("backup") is not None and not RE_BACKUP_NAME.match(str(e["backup"])):
        return f"bad backup name {e['backup']!r}"
    dirs = e.get("dirs") or []
    if not isinstance(dirs, list) or any(not isinstance(d, str) or not e["path"].startswith(d + "/") for d in dirs):
        return f"bad directories for {e['path']}"
    for key in ("old_mode", "mode"):
        if e.get(key) is not None and not isinstance(e[key], int):
            return f"bad {key}"
    return None


def _save_journal(record: str, data: dict[str, Any], state: str) -> None:
    data["state"] = state
    data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_file_atomic(os.path.join(record, JOURNAL), json.dumps(data, indent=1, sort_keys=True) + "\n")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(root: str) -> Iterator[str]:
    """Hold ``<base>/lock`` while working on the tree; yields the record base."""
    base = record_base(root)
    if os.path.islink(base) or os.path.commonpath([os.path.realpath(base), root]) != root:
        raise UnsafePathError(f"{base} is a symlink or leaves the tree; refusing to keep a record there")
    os.makedirs(base, mode=0o755, exist_ok=True)
    lock = os.path.join(base, "lock")
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC, 0o644)
        except FileExistsError:
            try:
                pid = int(Path(lock).read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _pid_alive(pid):
                raise ApplyError(f"{root}: another backport (pid {pid}) is writing this tree; "
                                 f"if it is gone, delete {lock}") from None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)  # stale: its holder died
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        break
    else:
        raise ApplyError(f"{root}: cannot take the lock {lock}")
    try:
        yield base
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        with contextlib.suppress(OSError):
            os.rmdir(base)  # only when empty: a refused apply leaves no trace


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while the tree is being changed (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while rolling back; re-raise as KeyboardInterrupt afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: got.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if got:
        raise KeyboardInterrupt


# ---------------------------------------------------------------- the dirty-tree check


def check_clean(root: str, paths: Sequence[str] = ()) -> None:
    """Raise ApplyError when the git work tree holding ``root`` has tracked changes under it, or
    when one of ``paths`` exists untracked. Nothing to check outside git."""
    import git  # lazy: GitPython is slow to import

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        return
    if repo.bare or repo.working_tree_dir is None:
        return
    top = os.path.realpath(repo.working_tree_dir)
    prefix = os.path.relpath(root, top).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix + "/"
    try:
        out = repo.git.status("--porcelain", "-z", "--untracked-files=no", "--", f":(literal){prefix or '.'}")
        changed = [e[3:] for e in out.split("\0") if len(e) > 3 and e[2] == " "]
        if changed:
            shown = ", ".join(changed[:3]) + (", ..." if len(changed) > 3 else "")
            raise ApplyError(f"{root}: the git tree has uncommitted changes ({len(changed)}: {shown}); "
                             "commit or stash them, or pass --force")
        present = [p for p in paths if os.path.lexists(os.path.join(root, p))]
        if present:
            listed = repo.git.ls_files("-z", "--", *(f":(literal){prefix}{p}" for p in present))
            tracked = {t for t in listed.split("\0") if t}
            untracked = [p for p in present if prefix + p not in tracked]
            if untracked:
                raise ApplyError(f"{root}: the series would overwrite untracked files git cannot restore "
                                 f"({', '.join(untracked[:3])}); commit or move them, or pass --force")
    except git.exc.GitCommandError as e:
        raise ApplyError(f"{root}: git status failed: {e.stderr.strip() or e}") from e


# ---------------------------------------------------------------- planning


def _mode_hints(results: Sequence[PortResult]) -> dict[str, bool]:
    """path -> executable, from the series' explicit ``new mode``/``new file mode`` lines (the
    mode on an ``index`` line describes upstream's file and never changes the target's)."""
    hints: dict[str, bool] = {}
    for r in results:
        for fp in r.patch.files:
            changed = fp.is_new or (fp.old_mode is not None and fp.old_mode != fp.new_mode)
            if changed and fp.new_path and fp.new_mode in ("100755", "100644"):
                with contextlib.suppress(UnsafePathError):
                    hints[check_relpath(fp.new_path)] = fp.new_mode == "100755"
    return hints


def _check_series(results: Sequence[PortResult], root: str) -> dict[str, str | None]:
    """The final content per path, after every safety check; raises on the first refusal."""
    tree = DirTree(root)
    refused = [f for r in results for fp in r.patch.files for f in check_filepatch_safety(fp, tree)
               if f.code in REFUSING_CODES]
    if refused:
        f = refused[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise UnsafePathError(f"{f.code}: {f.message}{more}; nothing was written", f.ref)
    final: dict[str, str | None] = {}
    for r in results:
        for path, text in r.new_files:
            problem = find_path_problem(path)
            if problem:
                raise UnsafePathError(f"unsafe-path: {problem}; nothing was written", r.patch.ref)
            final[check_relpath(path)] = text
    # a path cannot be a file (written or deleted) and the directory of another one (``b`` and
    # ``b/a``): staging would create the directory and then fail on the file, mid-write
    for rel in final:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in final:
                raise ApplyError(f"{prefix}: the series writes it as a file and {rel} under it; "
                                 "nothing was written")
    return final


def _plan(root_fd: int, final: dict[str, str | None], hints: dict[str, bool],
          rid: str) -> tuple[list[dict[str, Any]], dict[str, bytes], dict[str, bytes]]:
    """Journal entries, new bytes and old bytes per path (only paths whose content changes)."""
    entries: list[dict[str, Any]] = []
    new_data: dict[str, bytes] = {}
    old_data: dict[str, bytes] = {}
    planned_dirs: set[str] = set()
    for n, rel in enumerate(sorted(final)):
        parents, name = _split(rel)
        fd, missing = _walk_dirs(root_fd, parents, create=False)
        old, old_mode = (None, None)
        if fd is not None:
            try:
                old, old_mode = _read_file(fd, name, rel)
            finally:
                os.close(fd)
        text = final[rel]
        new = None if text is None else encode(text)
        exe = hints.get(rel)
        if new is None and old is None:
            raise ApplyError(f"{rel}: the series deletes a file the tree does not have; nothing was written")
        if old is not None and old_mode is not None:
            mode = old_mode
            if exe is True and not mode & 0o111:
                mode |= (mode & 0o444) >> 2
            elif exe is False:
                mode &= ~0o111
        else:
            mode = 0o755 if exe else 0o644
        if new == old and mode == old_mode:
            continue
        dirs = ["/".join(parents[: i + 1]) for i in range(missing, len(parents))]
        dirs = [d for d in dirs if d not in planned_dirs]
        planned_dirs.update(dirs)
        entry = {
            "path": rel,
            "action": "delete" if new is None else ("create" if old is None else "write"),
            "tmp": None if new is None else f".bp-{rid}-{n}.tmp",
            "backup": None if old is None else f"backup/{n:05d}",
            "old_sha256": _sha(old), "new_sha256": _sha(new),
            "old_mode": old_mode, "mode": mode, "dirs": dirs,
        }
        entries.append(entry)
        if new is not None:
            new_data[rel] = new
        if old is not None:
            old_data[rel] = old
    return entries, new_data, old_data


# ---------------------------------------------------------------- apply


def apply_results(root: str, results: Sequence[PortResult], *, force: bool = False) -> str:
    """Write every result's ``new_files`` into the tree at ``root`` atomically; return the record.

    Raises UnsafePathError (nothing written) for a hostile path or symlink, ApplyError for a
    dirty tree (unless ``force``) or a failed write (the tree is rolled back), and re-raises
    KeyboardInterrupt after rolling back.
    """
    if not os.path.isdir(root):
        raise TreeError(f"{root}: not a directory")
    root = os.path.realpath(root)
    final = _check_series(results, root)
    with _locked(root) as base:
        _recover(root, base)
        if not force:
            check_clean(root, tuple(final))
        global _seq
        _seq += 1
        rid = secrets.token_hex(4)
        record = os.path.join(base, f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{_seq:04d}-{rid}")
        with _open_root(root) as root_fd:
            entries, new_data, old_data = _plan(root_fd, final, _mode_hints(results), rid)
            journal: dict[str, Any] = {"version": RECORD_VERSION, "id": rid, "root": root,
                                       "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                       "entries": entries}
            try:  # the tree is untouched until the journal is on disk
                os.makedirs(os.path.join(record, "backup"), mode=0o700)
                for e in entries:
                    if e["backup"]:
                        write_file_atomic(os.path.join(record, e["backup"]), old_data[e["path"]], mode=0o600)
                _save_journal(record, journal, "staging")
            except BaseException as exc:
                shutil.rmtree(record, ignore_errors=True)
                if isinstance(exc, OSError):
                    raise ApplyError(f"{record}: cannot write the apply record ({exc}); nothing was written") from exc
                raise
            try:
                with _signals_as_interrupt():
                    _stage(root_fd, entries, new_data)
                    _save_journal(record, journal, "committing")
                    _commit(root_fd, entries)
                    _save_journal(record, journal, "done")
            except BaseException as exc:
                with _signals_deferred():
                    _restore(root_fd, record, journal, strict=False)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                if isinstance(exc, OSError):
                    raise ApplyError(f"{root}: writing failed ({exc}); the tree was restored") from exc
                raise
    return record


def _stage(root_fd: int, entries: list[dict[str, Any]], new_data: dict[str, bytes]) -> None:
    for e in entries:
        if e["tmp"] is None:
            continue
        parents, _ = _split(e["path"])
        fd, _ = _walk_dirs(root_fd, parents, create=True)
        assert fd is not None
        try:
            tfd = os.open(e["tmp"], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC,
                          0o600, dir_fd=fd)
            with os.fdopen(tfd, "wb") as f:
                f.write(new_data[e["path"]])
                f.flush()
                if e["action"] == "create":
                    os.fchmod(f.fileno(), e["mode"] & ~_umask())
                else:
                    os.fchmod(f.fileno(), e["mode"])
                os.fsync(f.fileno())
        finally:
            os.close(fd)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _commit(root_fd: int, entries: list[dict[str, Any]]) -> None:
    pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
    for e in entries:
        parents, name = _split(e["path"])
        fd, _ = _walk_dirs(root_fd, parents, create=False)
        if fd is None:
            raise ApplyError(f"{e['path']}: its directory vanished during apply")
        try:
            if e["tmp"] is None:
                os.unlink(name, dir_fd=fd)
            else:
                os.replace(e["tmp"], name, src_dir_fd=fd, dst_dir_fd=fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        if pause:
            time.sleep(pause)


# ---------------------------------------------------------------- rollback and revert


def _restore(root_fd: int, record: str, journal: dict[str, Any], *, strict: bool, force: bool = False) -> tuple[str, ...]:
    """Put every entry of ``journal`` back to its original content; return the paths restored.

    A file must hold what apply wrote, or already the original (an unfinished apply leaves
    both kinds); anything else is a conflict, refused unless ``force``. ``strict`` only names
    the final state: reverted (undo of a finished apply) or rolled-back (of an unfinished one).
    """
    entries: list[dict[str, Any]] = journal["entries"]
    rid = journal.get("id", "x")
    todo: list[tuple[int, dict[str, Any], bytes | None]] = []
    conflicts: list[str] = []
    for n, e in enumerate(entries):
        parents, name = _split(e["path"])
        fd, _ = _walk_dirs(root_fd, parents, create=False)
        cur: bytes | None = None
        mode = None
        if fd is not None:
            try:
                for stale in (e["tmp"], f".bp-{rid}-{n}.rev"):  # staged, never renamed (killed)
                    if stale:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(stale, dir_fd=fd)
                cur, mode = _read_file(fd, name, e["path"])
            finally:
                os.close(fd)
        sha = _sha(cur)
        if sha == e["old_sha256"] and (cur is None or mode == e["old_mode"]):
            continue  # already original
        if sha != e["new_sha256"] and not force:
            conflicts.append(e["path"])
            continue
        old = None
        if e["backup"]:
            old = Path(record, e["backup"]).read_bytes()
            if _sha(old) != e["old_sha256"]:
                raise ApplyError(f"{record}: backup of {e['path']} is damaged; restore it from git")
        todo.append((n, e, old))
    if conflicts:
        raise ApplyError(f"{record}: {len(conflicts)} file(s) changed since the apply "
                         f"({', '.join(conflicts[:3])}); refusing to revert without --force")
    # stage every restored content first, then rename, like apply
    staged: list[tuple[dict[str, Any], str | None]] = []
    try:
        for n, e, old in todo:
            parents, _ = _split(e["path"])
            tmp = None
            if old is not None:
                tmp = f".bp-{rid}-{n}.rev"
                fd, _ = _walk_dirs(root_fd, parents, create=True)
                assert fd is not None
                try:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp, dir_fd=fd)  # left by a revert that was killed
                    tfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC,
                                  0o600, dir_fd=fd)
                    with os.fdopen(tfd, "wb") as f:
                        f.write(old)
                        os.fchmod(f.fileno(), e["old_mode"] if e["old_mode"] is not None else 0o644)
                        os.fsync(f.fileno())
                finally:
                    os.close(fd)
            staged.append((e, tmp))
        for e, tmp in staged:
            parents, name = _split(e["path"])
            fd, _ = _walk_dirs(root_fd, parents, create=tmp is not None)
            if fd is None:
                continue
            try:
                if tmp is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=fd)
                else:
                    os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
                os.fsync(fd)
            finally:
                os.close(fd)
    except BaseException:
        for e, tmp in staged:
            if tmp:
                parents, _ = _split(e["path"])
                with contextlib.suppress(OSError, ApplyError, UnsafePathError):
                    fd, _ = _walk_dirs(root_fd, parents, create=False)
                    if fd is not None:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(tmp, dir_fd=fd)
                        os.close(fd)
        raise
    for e in reversed(entries):
        for d in reversed(e.get("dirs") or []):
            with contextlib.suppress(OSError):
                os.rmdir(d, dir_fd=root_fd)  # only when empty: the user's files stay
    _save_journal(record, journal, "reverted" if strict else "rolled-back")
    return tuple(e["path"] for _, e, _ in todo)


def _recover(root: str, base: str) -> tuple[str, ...]:
    """Roll back every unfinished apply (and finish every unfinished revert) of the tree."""
    restored: list[str] = []
    for record in find_records(root):
        journal = _load_journal(record)
        if journal.get("state") not in UNFINISHED:
            continue
        strict = journal["state"] == "reverting"
        with _open_root(root) as root_fd, _signals_deferred():
            restored += _restore(root_fd, record, journal, strict=strict)
    return tuple(restored)


def recover_interrupted(root: str) -> tuple[str, ...]:
    """Roll back applies a crash or SIGKILL left unfinished; return the paths restored."""
    root = os.path.realpath(root)
    with _locked(root) as base:
        return _recover(root, base)


def write_apply_pointer(out_dir: str, record: str) -> str:
    """Write ``<out_dir>/apply-record.txt`` naming ``record``, so ``backport revert OUT`` works."""
    path = os.path.join(out_dir, POINTER)
    write_file_atomic(path, os.path.realpath(record) + "\n")
    return path


def revert_apply(root_or_record: str, *, force: bool = False) -> tuple[str, ...]:
    """Undo an apply: ``root_or_record`` is a record directory, an ``--out`` directory holding
    an ``apply-record.txt`` pointer, or a tree whose latest record (an unfinished one first) is
    undone. Returns the paths restored."""
    target = os.path.realpath(root_or_record)
    if not os.path.isdir(target):
        raise TreeError(f"{root_or_record}: no such directory")
    records: tuple[str, ...]
    pointer = os.path.join(target, POINTER)
    if not os.path.isfile(os.path.join(target, JOURNAL)) and os.path.isfile(pointer):
        with open(pointer, encoding="utf-8", errors="replace") as f:
            target = os.path.realpath(f.readline().strip())  # an --out dir: follow its pointer
        if not os.path.isfile(os.path.join(target, JOURNAL)):
            raise ApplyError(f"{pointer}: names no apply record ({target})")
    if os.path.isfile(os.path.join(target, JOURNAL)):
        root, records = _root_of_record(target), (target,)
    else:
        root, records = target, find_records(target)
    with _locked(root) as base:
        unfinished = _recover(root, base)
        if unfinished:
            return unfinished
        for record in reversed(records):
            journal = _load_journal(record)
            if journal.get("state") == "done":
                _save_journal(record, journal, "reverting")
                try:
                    with _open_root(root) as root_fd, _signals_deferred():
                        return _restore(root_fd, record, journal, strict=True, force=force)
                except ApplyError:
                    _save_journal(record, journal, "done")
                    raise
    raise ApplyError(f"{root_or_record}: no apply record to revert")
