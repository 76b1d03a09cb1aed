"""The ``git am`` hooks (stage: hook): install/uninstall the shims and run them.

Inputs: a target git repository (install/uninstall), or, when git runs a hook, the hook's
name and arguments, ``$GIT_DIR/rebase-apply/`` (the patch being applied, its message and
number), HEAD (the tree before the patch: the checks read the files the patch touches from
it, see ``pre_patch_tree``) and ``git config backport.*``. Outputs: shim files in the hooks directory, findings
on stderr, an exit status that lets ``git am`` go on or stops it, and an amended commit
message (``Backport-checked:`` trailer, optionally the backport note).

The shims are thin ``/bin/sh`` scripts calling ``<python> -m backport hook-impl NAME`` with
the interpreter that installed them, marked with ``# backport-hook-shim <hash>`` so that
``install`` upgrades them and ``uninstall`` recognises them; a foreign hook found in their
place is kept as ``NAME.legacy`` and still run first.

Configuration (``git config``, per repo or global):

- ``backport.hookMode`` warn | block (default warn; ``install --mode`` sets it): block stops
  ``git am`` when a patch raises a finding at or above ``backport.failOn``;
- ``backport.failOn`` error | warning | note (default error);
- ``backport.ignore`` CODE (repeatable): finding codes to silence;
- ``backport.kb`` DIR (repeatable), ``backport.config`` FILE (the vendor .config),
  ``backport.upstream`` REPO: passed to the checks;
- ``backport.hookAmend`` trailer | note | none (default trailer): what post-applypatch
  appends to each commit.

To get past a blocked patch: ``git -c backport.hookMode=warn am --continue``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from . import __version__
from .errors import ParseError, TreeError, UnsafePathError, UsageError

if TYPE_CHECKING:
    import git

    from .model import Finding, Patch, TargetTree

HOOK_NAMES = ("applypatch-msg", "pre-applypatch", "post-applypatch")
MARKER = "backport-hook-shim"
LEGACY_SUFFIX = ".legacy"
RECORD = "backport-check.json"  # in rebase-apply/: pre-applypatch -> post-applypatch
TRAILER_KEY = "Backport-checked"
MODES = ("warn", "block")
AMEND_STYLES = ("trailer", "note", "none")

SHIM_TEMPLATE = """\
#!/bin/sh
# {marker} {hash}
# Installed by `backport hook install`, removed by `backport hook uninstall`.
# Checks every patch `git am` applies; configure with `git config backport.*`.
here=$(dirname "$0")
if [ -x "$here/{name}{legacy}" ]; then
\t"$here/{name}{legacy}" "$@" || exit $?
fi
if [ ! -x {python} ]; then
	echo "backport hook: {python} is gone; run 'backport hook install' again or remove the hooks" >&2
	exit 1
fi
exec {python} -P -m backport hook-impl {name} "$@"
"""
#: identifies this shim template; a shim with another hash is ours too (an older or newer
#: version) and is replaced by ``install``
SHIM_HASH = hashlib.sha256(SHIM_TEMPLATE.encode()).hexdigest()[:16]

# # backport-hook-shim 0123456789abcdef
RE_SHIM_MARKER = re.compile(r"^# " + MARKER + r" ([0-9a-f]{16})$", re.M)
# backport.hookmode block        (git config --get-regexp output: key lowercased, value)
RE_CONFIG_LINE = re.compile(r"^backport\.(\S+)(?: (.*))?$")


# ---------------------------------------------------------------- install / uninstall


def _git(cwd: str) -> git.Git:
    import git  # lazy: GitPython is slow to import

    return git.Git(cwd)


def find_hooks_dir(repo: str) -> Path:
    """The hooks directory git uses for ``repo`` (honours core.hooksPath)."""
    import git

    top = Path(repo)
    if not top.exists():
        raise TreeError(f"{repo}: no such directory")
    try:
        rel = _git(str(top)).rev_parse("--git-path", "hooks").strip()
    except git.exc.GitCommandError as e:
        raise TreeError(f"{repo}: not a git repository") from e
    path = Path(rel)
    return path if path.is_absolute() else (top / path).resolve()


def render_shim(name: str, python: str | None = None) -> str:
    return SHIM_TEMPLATE.format(marker=MARKER, hash=SHIM_HASH, name=name, legacy=LEGACY_SUFFIX,
                                python=shlex.quote(python or sys.executable))


def is_shim(path: Path) -> bool:
    """True when ``path`` is a shim written by any version of ``backport hook install``."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:1000]
    except OSError:
        return False
    return RE_SHIM_MARKER.search(head) is not None


def is_current_shim(path: Path) -> bool:
    """True when ``path`` is a shim of this version's template (no upgrade needed)."""
    try:
        m = RE_SHIM_MARKER.search(path.read_text(encoding="utf-8", errors="replace")[:1000])
    except OSError:
        return False
    return m is not None and m.group(1) == SHIM_HASH


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o755)
    os.replace(tmp, path)


def install_hooks(repo: str, *, mode: str = "warn", python: str | None = None) -> tuple[str, ...]:
    """Install the three shims in ``repo``'s hooks dir and set ``backport.hookMode``.

    A foreign hook is kept as ``NAME.legacy`` (and still run); our own shims are upgraded in
    place. Raises UsageError when a foreign hook and a ``.legacy`` file would collide.
    """
    if mode not in MODES:
        raise UsageError(f"unknown hook mode {mode!r} (warn or block)")
    hooks = find_hooks_dir(repo)
    hooks.mkdir(parents=True, exist_ok=True)
    for name in HOOK_NAMES:
        hook, legacy = hooks / name, hooks / (name + LEGACY_SUFFIX)
        if (hook.exists() or hook.is_symlink()) and not is_shim(hook) and (legacy.exists() or legacy.is_symlink()):
            raise UsageError(f"{hook}: a foreign hook is there and {legacy.name} exists too; "
                             "move one of them away first")
    written = []
    for name in HOOK_NAMES:
        hook, legacy = hooks / name, hooks / (name + LEGACY_SUFFIX)
        if (hook.exists() or hook.is_symlink()) and not is_shim(hook):
            os.replace(hook, legacy)
        _write_executable(hook, render_shim(name, python))
        written.append(str(hook))
    _git(repo).config("--local", "backport.hookMode", mode)
    return tuple(written)


def uninstall_hooks(repo: str) -> tuple[str, ...]:
    """Remove our shims, put ``.legacy`` hooks back, unset ``backport.hookMode``; return what changed."""
    import git

    hooks = find_hooks_dir(repo)
    changed = []
    for name in HOOK_NAMES:
        hook, legacy = hooks / name, hooks / (name + LEGACY_SUFFIX)
        if not is_shim(hook):
            continue
        hook.unlink()
        changed.append(str(hook))
        if legacy.exists() or legacy.is_symlink():
            os.replace(legacy, hook)
    try:
        _git(repo).config("--local", "--unset", "backport.hookMode")
    except git.exc.GitCommandError:
        pass  # was not set
    return tuple(changed)


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class HookConfig:
    mode: str = "warn"
    fail_on: str = "error"
    ignore: tuple[str, ...] = ()
    kb_dirs: tuple[str, ...] = ()
    config: str | None = None
    upstream: str | None = None
    amend: str = "trailer"


def parse_hook_config(text: str) -> HookConfig:
    """``git config --get-regexp '^backport\\.'`` output to a HookConfig (bad values: ParseError)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {"ignore": [], "kb": []}
    for line in text.splitlines():
        m = RE_CONFIG_LINE.match(line)
        if not m:
            continue
        key, value = m.group(1).lower(), (m.group(2) or "").strip()
        if key in multi:
            multi[key].append(value)
        else:
            single[key] = value
    cfg = HookConfig(
        mode=single.get("hookmode", "warn").lower(), fail_on=single.get("failon", "error").lower(),
        ignore=tuple(multi["ignore"]), kb_dirs=tuple(multi["kb"]), config=single.get("config") or None,
        upstream=single.get("upstream") or None, amend=single.get("hookamend", "trailer").lower())
    for key, value, allowed in (("backport.hookMode", cfg.mode, MODES),
                                ("backport.failOn", cfg.fail_on, ("error", "warning", "note")),
                                ("backport.hookAmend", cfg.amend, AMEND_STYLES)):
        if value not in allowed:
            raise ParseError(f"{key} is {value!r}; expected one of {', '.join(allowed)}", None)
    return cfg


def load_hook_config(top: str) -> HookConfig:
    import git

    try:
        text = _git(top).config("--get-regexp", r"^backport\.")
    except git.exc.GitCommandError:
        text = ""  # no backport.* keys at all
    return parse_hook_config(text)


# ---------------------------------------------------------------- running the hooks


def _state_dir(top: str) -> Path:
    git_dir = os.environ.get("GIT_DIR") or _git(top).rev_parse("--git-dir").strip()
    p = Path(git_dir)
    return (p if p.is_absolute() else Path(top) / p) / "rebase-apply"


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def load_am_patch(state: Path, message_file: Path | None = None) -> Patch:
    """The patch ``git am`` is applying, from its rebase-apply directory."""
    from .model import Patch, SourceRef
    from .series import find_upstream_ids, parse_diff

    msg_path = message_file or state / "final-commit"
    message = _read(msg_path) if msg_path.exists() else ""
    patch_path = state / "patch"
    if not patch_path.exists():
        raise ParseError("git am left no patch file", SourceRef(str(patch_path)))
    files = parse_diff(_read(patch_path), origin=str(patch_path))
    subject = message.split("\n", 1)[0].strip()
    return Patch(subject=subject, files=files, body=message, upstream_ids=find_upstream_ids(message),
                 ref=SourceRef(str(patch_path), 1))


def pre_patch_tree(top: str, patch: Patch) -> TargetTree:
    """The target as it was before ``git am`` applied ``patch``: the work tree, with every file
    the patch touches read from HEAD (absent when HEAD has none, e.g. a file the patch creates).

    When pre-applypatch runs, git has already written the patch into the index and the work
    tree, so a check of the work tree sees everything the patch introduces as present (its
    calls name themselves). HEAD is the tree before the patch. The untouched files are read
    from the work tree so the cached index of the directory (backport.index, updated in place
    by one stat walk) serves every patch of a long ``git am`` run; an index per HEAD would be a
    whole-tree build per patch.
    """
    import git

    from .pipeline import Overlay
    from .target import DirTree, check_relpath, decode

    overlay = Overlay(DirTree(top))
    try:
        head = git.Repo(top).head.commit.tree
    except (ValueError, git.exc.GitError):  # no commit yet: nothing existed before
        head = None
    changes: list[tuple[str, str | None]] = []
    for fp in patch.files:
        for path in {p for p in (fp.old_path, fp.new_path) if p}:
            try:
                rel = check_relpath(path)
                blob = head / rel if head is not None else None
            except (KeyError, UnsafePathError):
                blob = None
            if blob is None or blob.type != "blob" or blob.mode == 0o120000:
                changes.append((path, None))
            else:
                changes.append((rel, decode(blob.data_stream.read())))
    overlay.update(changes)
    return overlay


def check_am_patch(top: str, state: Path, cfg: HookConfig) -> tuple[Finding, ...]:
    """deps + kb findings of the patch being applied, against the tree before the patch
    (``pre_patch_tree``: HEAD for the files it touches)."""
    from . import deps, kbcheck
    from .model import PortOptions

    patch = load_am_patch(state)
    tree = pre_patch_tree(top, patch)
    options = PortOptions(config=cfg.config, kb_dirs=cfg.kb_dirs, ignore=cfg.ignore, upstream=cfg.upstream)
    found = deps.check_patch(patch, tree, options=options) + kbcheck.check_patch(patch, tree, options=options)
    return tuple(f for f in found if f.code not in cfg.ignore)


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _current(state: Path) -> str:
    nxt = state / "next"
    return nxt.read_text().strip() if nxt.exists() else ""


def _pre_applypatch(top: str, cfg: HookConfig) -> int:
    from .model import Severity
    from .render.note import describe_finding
    from .render.report_json import render_finding

    state = _state_dir(top)
    findings = check_am_patch(top, state, cfg)
    subject = load_am_patch(state).subject
    record = {"next": _current(state), "subject": subject, "findings": [render_finding(f) for f in findings]}
    (state / RECORD).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8", errors="backslashreplace")
    for f in findings:
        _say(f"backport: {describe_finding(f)}" + (f" (hint: {f.hint})" if f.hint else ""))
    threshold = Severity[cfg.fail_on.upper()]
    blocking = [f for f in findings if f.severity >= threshold]
    if cfg.mode == "block" and blocking:
        _say(f"backport: stopping git am: {len(blocking)} finding(s) at or above {cfg.fail_on} in "
             f"'{subject}'")
        _say("backport: fix the tree, or go on anyway with: git -c backport.hookMode=warn am --continue")
        return 1
    return 0


def render_trailer(count: int) -> str:
    return f"{TRAILER_KEY}: backport {__version__} ({count} finding{'s' if count != 1 else ''})"


def _post_applypatch(top: str, cfg: HookConfig) -> int:
    state = _state_dir(top)
    path = state / RECORD
    if cfg.amend == "none" or not path.exists():
        return 0
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("next") != _current(state):
        return 0  # stale: this patch was not checked (hook skipped)
    g = _git(top)
    message = g.log("-1", "--format=%B", "HEAD", strip_newline_in_stdout=False).rstrip("\n") + "\n"
    findings = record.get("findings", [])
    if cfg.amend == "note" and findings:
        note = ["[ backport " + __version__ + ": checked by the git am hook"]
        for f in findings:
            where = f"{f['ref']['path']}:{f['ref']['line']}: " if f.get("ref") else ""
            note.append(f"  - {where}{f['severity']}: {f['code']}: {f['message']}")
        note.append("]")
        message = message.rstrip("\n") + "\n\n" + "\n".join(note) + "\n"
    message = g.interpret_trailers("--if-exists", "replace", "--trailer", render_trailer(len(findings)),
                                   istream=_stdin(message), strip_newline_in_stdout=False)
    g.commit("--amend", "--no-verify", "--cleanup=verbatim", "--allow-empty", "-F", "-", istream=_stdin(message))
    path.unlink()
    return 0


def _stdin(text: str) -> IO[bytes]:
    """A file holding ``text``, for a git command's stdin (GitPython wants a real file)."""
    f = tempfile.TemporaryFile()
    f.write(text.encode("utf-8", "surrogateescape"))
    f.seek(0)
    return f


def _applypatch_msg(top: str, cfg: HookConfig, args: list[str]) -> int:
    """Check that the patch being applied can be read; forget the record of the previous one."""
    state = _state_dir(top)
    (state / RECORD).unlink(missing_ok=True)
    try:
        load_am_patch(state, Path(args[0]) if args else None)
    except ParseError as e:
        _say(f"backport: {e}")
        return 1 if cfg.mode == "block" else 0
    return 0


def run_hook(name: str, args: list[str], *, top: str | None = None) -> int:
    """Run one hook as git invokes it (cwd = the work tree's top); return its exit status."""
    top = top or os.getcwd()
    cfg = load_hook_config(top)
    if name == "applypatch-msg":
        return _applypatch_msg(top, cfg, args)
    if name == "pre-applypatch":
        try:
            return _pre_applypatch(top, cfg)
        except (ParseError, TreeError) as e:
            _say(f"backport: cannot check this patch: {e}")
            return 1 if cfg.mode == "block" else 0
    if name == "post-applypatch":
        return _post_applypatch(top, cfg)
    raise UsageError(f"unknown hook {name!r} (one of {', '.join(HOOK_NAMES)})")
