"""Upstream history queries (stage: deps): which upstream commits a patch depends on.

Inputs: a git repository holding the upstream history (``--upstream REPO``), a model.Patch,
the target tree and the missing names deps found. Outputs: UpstreamCommit values and
``prerequisite-commit`` findings, ordered oldest first (the order to port them in).

Two sources of prerequisites:
- the commit that introduced each missing name: a pickaxe search (``git log -S``) limited to the
  files that define the name at the patch's base revision;
- the commits that last changed the lines the patch's hunks rest on (context and removed lines),
  from ``git blame`` of the pre-image (the git-deps idea).
A candidate already in the target is dropped: the target is checked by subject (``git log
--grep``) and patch-id when it is a git repository, and by content (the commit's added lines are
all present in the target's files) always, because cherry-picks change SHAs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import TreeError
from .model import Finding, Patch, Severity, SourceRef, TargetTree

MAX_BLAME_COMMITS = 8
# def9876 (or a full 40-hex id)
RE_SHA = re.compile(r"^[0-9a-f]{7,40}$")
# foo_helper: function or macro defined neither ...   (the name deps' findings open with)
RE_FINDING_NAME = re.compile(r"^([A-Za-z_]\w*): ")
# +++ b/x
RE_DIFF_FILE = re.compile(r"^\+\+\+ b/(.*)$")


@dataclass(frozen=True, slots=True)
class UpstreamCommit:
    sha: str
    subject: str
    time: int  # committer time (seconds), for ordering
    reason: str  # "introduces foo_helper", "last changed context of drivers/x.c:120"
    paths: tuple[str, ...] = ()


@lru_cache(maxsize=8)
def _repo(path: str):  # -> git.Repo (GitPython imported lazily)
    import git

    try:
        return git.Repo(path, search_parent_directories=False)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError) as e:
        raise TreeError(f"{path}: not a git repository") from e


def is_git_repo(path: str) -> bool:
    """True for a git work tree or a bare repository (not for a plain upstream directory)."""
    p = Path(path)
    return (p / ".git").exists() or ((p / "objects").is_dir() and (p / "HEAD").is_file())


def _git(repo_path: str, *args: str) -> str:
    import git

    try:
        return _repo(repo_path).git.execute(["git", *args], strip_newline_in_stdout=False)
    except git.exc.GitCommandError:
        return ""


def find_base_rev(repo_path: str, patch: Patch) -> str:
    """The upstream revision the patch's pre-image comes from: the parent of its upstream
    commit when the repo has it, else its ``base-commit``, else the newest commit that
    introduced one of the pre-image blobs its ``index`` lines name, else HEAD."""
    for sha in (*patch.upstream_ids, patch.base_commit or ""):
        if sha and RE_SHA.match(sha) and _git(repo_path, "cat-file", "-t", sha).strip() == "commit":
            if sha in patch.upstream_ids:
                return sha + "^"
            return sha
    best: tuple[int, str] | None = None
    for fp in patch.files:
        if not fp.old_blob or fp.old_path is None or not RE_SHA.match(fp.old_blob) or set(fp.old_blob) == {"0"}:
            continue
        blob = _git(repo_path, "rev-parse", "--verify", "-q", fp.old_blob + "^{blob}").strip()
        if not blob:
            continue
        out = _git(repo_path, "log", "--all", "--reverse", "--format=%H %ct", f"--find-object={blob}", "--",
                   fp.old_path).split("\n")[0].split()
        if len(out) == 2 and (best is None or int(out[1]) > best[0]):
            best = (int(out[1]), out[0])
    return best[1] if best else "HEAD"


def _commit_info(repo_path: str, sha: str) -> tuple[str, str, int] | None:
    out = _git(repo_path, "show", "-s", "--format=%H%x00%s%x00%ct", sha).strip()
    if not out:
        return None
    full, subject, t = out.split("\0")
    return full, subject, int(t)


def find_introducing_commit(repo_path: str, name: str, *, rev: str = "HEAD",
                            paths: Sequence[str] = (), since: str = "") -> UpstreamCommit | None:
    """The oldest commit reachable from ``rev`` whose diff changes the number of occurrences of
    ``name`` (pickaxe), within ``paths`` or, by default, the files that mention it at ``rev``."""
    needle = name
    if name.startswith("CONFIG_") and not paths:  # a Kconfig symbol: where its entry is
        needle = name[len("CONFIG_"):]
        grep = _git(repo_path, "grep", "-l", "-E", "-e", rf"^\s*(menu)?config\s+{re.escape(needle)}\s*$", rev, "--",
                    "*Kconfig*")
        paths = [ln.split(":", 1)[1] for ln in grep.splitlines() if ":" in ln][:50]
    if not paths:
        grep = _git(repo_path, "grep", "-l", "-w", "-F", "-e", name, rev, "--",
                    "*.c", "*.h", "*.S", "Kconfig*", "*Makefile*", "Kbuild*")
        paths = [ln.split(":", 1)[1] for ln in grep.splitlines() if ":" in ln][:50]
        # a definition site first: headers and Kconfig before users
        paths = sorted(paths, key=lambda p: (not p.endswith((".h", "Kconfig")), p))
    if not paths:
        return None
    span = f"{since}..{rev}" if since else rev
    out = _git(repo_path, "log", "--reverse", "--format=%H%x00%s%x00%ct", "-S", needle, span, "--", *paths)
    for line in out.splitlines():
        if line.count("\0") == 2:
            sha, subject, t = line.split("\0")
            touched = tuple(p for p in _git(repo_path, "show", "--format=", "--name-only", sha).split() if p)
            return UpstreamCommit(sha, subject, int(t), f"introduces {name}", touched)
    return None


def find_context_commits(repo_path: str, patch: Patch, *, rev: str, since: str = "") -> list[UpstreamCommit]:
    """Commits that last changed the context and removed lines of the patch's hunks at ``rev``."""
    counts: dict[str, list] = {}
    for fp in patch.files:
        if fp.is_new or fp.old_path is None:
            continue
        for h in fp.hunks:
            if h.old_count <= 0:
                continue
            span = f"{since}..{rev}" if since else rev
            out = _git(repo_path, "blame", "--porcelain", "-L", f"{h.old_start},+{h.old_count}", span, "--", fp.old_path)
            boundary = {ln.split()[0] for ln in _porcelain_boundaries(out)} if since else set()
            for line in out.splitlines():
                parts = line.split()
                if len(parts) >= 3 and RE_SHA.match(parts[0]) and len(parts[0]) == 40 and parts[1].isdigit() \
                        and parts[0] not in boundary:
                    entry = counts.setdefault(parts[0], [0, fp.old_path, int(parts[1])])
                    entry[0] += 1
    commits = []
    for sha, (n, path, line) in sorted(counts.items(), key=lambda kv: -kv[1][0])[:MAX_BLAME_COMMITS]:
        info = _commit_info(repo_path, sha)
        if info is None or sha.startswith("0000000"):
            continue
        commits.append(UpstreamCommit(info[0], info[1], info[2],
                                      f"last changed {n} context/removed line(s) of {path} (near line {line})", (path,)))
    return commits


def _porcelain_boundaries(out: str) -> list[str]:
    """Header lines of blame entries marked ``boundary`` (older than the ``since`` limit)."""
    found, header = [], ""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and len(parts[0]) == 40 and RE_SHA.match(parts[0]):
            header = line
        elif line == "boundary" and header:
            found.append(header)
    return found


def find_since(repo_path: str, target: TargetTree) -> str:
    """The upstream tag the target's branch grew from (``v6.1`` for a 6.1.187 tree), when the
    repo has it: older commits are in the target by construction, so searches stop there."""
    version = target.kernel_version()
    if not version:
        return ""
    tag = f"v{version[0]}.{version[1]}"
    ok = _git(repo_path, "rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}").strip()
    return tag if ok else ""


def _added_lines_by_file(repo_path: str, sha: str) -> dict[str, list[str]]:
    out = _git(repo_path, "show", "--format=", "-U0", "--no-renames", sha)
    files: dict[str, list[str]] = {}
    cur: list[str] | None = None
    for line in out.splitlines():
        m = RE_DIFF_FILE.match(line)
        if m:
            cur = files.setdefault(m.group(1), [])
        elif line.startswith("+++ "):
            cur = None
        elif cur is not None and line.startswith("+") and len(line.strip()) > 3:
            cur.append(line[1:].strip())
    return files


def target_has_commit(target: TargetTree, repo_path: str, commit: UpstreamCommit) -> str | None:
    """How the target already holds ``commit`` ("subject", "patch-id", "content"), or None."""
    root = getattr(target, "root", "")
    if root and (Path(root) / ".git").exists():
        found = _git(root, "log", "-n", "1", "--format=%H", "-F", f"--grep={commit.subject}", "HEAD")
        if found.strip():
            return f"subject (target commit {found.strip()[:12]})"
        pid = _patch_id(repo_path, commit.sha)
        if pid:
            for sha in _git(root, "log", "-n", "200", "--format=%H", "HEAD", "--", *commit.paths).split():
                if _patch_id(root, sha) == pid:
                    return f"patch-id (target commit {sha[:12]})"
    added = _added_lines_by_file(repo_path, commit.sha)
    total = present = 0
    for path, lines in added.items():
        text = target.read(path)
        have = {ln.strip() for ln in text.splitlines()} if text else set()
        total += len(lines)
        present += sum(1 for ln in lines if ln in have)
    if total and present / total >= 0.9:
        return f"content ({present}/{total} added lines present)"
    return None


def _patch_id(repo_path: str, sha: str) -> str:
    import subprocess

    diff = _git(repo_path, "show", sha)
    if not diff:
        return ""
    r = subprocess.run(["git", "patch-id", "--stable"], input=diff, capture_output=True, text=True, cwd=repo_path)
    return r.stdout.split()[0] if r.stdout.split() else ""


def find_prerequisites(patch: Patch, target: TargetTree, repo_path: str, *, names: Iterable[str] = (),
                       context: bool = True) -> list[tuple[UpstreamCommit, str]]:
    """Prerequisite upstream commits the target lacks, oldest first, each with its reason."""
    rev = find_base_rev(repo_path, patch)
    # names are searched in the whole history up to the patch (or HEAD): a helper can arrive
    # after the commit that last changed the patched file
    search = rev if rev.endswith("^") else "HEAD"
    since = find_since(repo_path, target)
    cands: dict[str, UpstreamCommit] = {}
    for name in dict.fromkeys(names):
        c = find_introducing_commit(repo_path, name, rev=search, since=since)
        if c is not None:
            old = cands.get(c.sha)
            cands[c.sha] = c if old is None else UpstreamCommit(c.sha, c.subject, c.time,
                                                               old.reason + ", " + c.reason.split(" ", 1)[1], c.paths)
    if context:
        for c in find_context_commits(repo_path, patch, rev=rev, since=since):
            cands.setdefault(c.sha, c)
    own = {s for s in patch.upstream_ids}
    out = []
    for c in sorted(cands.values(), key=lambda c: (c.time, c.sha)):
        if any(c.sha.startswith(s) or s.startswith(c.sha) for s in own if s) or c.subject == patch.subject:
            continue  # the patch itself
        out.append((c, target_has_commit(target, repo_path, c) or ""))
    return out


def check_prerequisites(patch: Patch, target: TargetTree, repo_path: str, *,
                        missing: Sequence[Finding] = ()) -> list[Finding]:
    """``prerequisite-commit`` findings for the missing names deps found (and the hunks' context)."""
    names = []
    by_name: dict[str, Finding] = {}
    for f in missing:
        m = RE_FINDING_NAME.match(f.message)
        if m:
            name = m.group(1)
            names.append(name)
            by_name[name] = f
    findings = []
    for c, held in find_prerequisites(patch, target, repo_path, names=names):
        if held:
            continue
        needed_by = [by_name[n] for n in by_name if f"introduces {n}" in c.reason or f", {n}" in c.reason]
        ref = needed_by[0].ref if needed_by else patch.ref
        sev = Severity.WARNING if c.reason.startswith("introduces") else Severity.NOTE
        evidence = [f"{repo_path}: {c.sha[:12]} (\"{c.subject}\"): {c.reason}"]
        evidence += [e for f in needed_by for e in f.evidence[:1]]
        findings.append(Finding(
            "prerequisite-commit", sev, f"upstream commit {c.sha[:12]} (\"{c.subject}\") {c.reason}; the target lacks it",
            ref if isinstance(ref, SourceRef) else None, tuple(evidence),
            f"port {c.sha[:12]} before this patch" if sev is Severity.WARNING else
            f"{c.sha[:12]} shaped the lines this patch changes; port it first if the hunks do not fit",
            references=(c.sha,)))
    return findings
