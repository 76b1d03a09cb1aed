"""Upstream history queries (stage: deps): which upstream commits a patch depends on.

Inputs: a git repository holding the upstream history (``--upstream REPO``), a model.Patch,
the target tree and the missing names deps found. Outputs: UpstreamCommit values and
``prerequisite-commit`` findings, ordered oldest first (the order to port them in).

Two sources of prerequisites:
- the commit that introduced each missing name, searched as a kernel engineer does on a
  kernel-size history: the first release tag on the first-parent line where the files that
  define the name at the patch's base revision have it (``git grep -w -q`` at the tags,
  bisected: ~10 greps over linux.git's ~900 tags), then the first commit of that one release
  range whose diff of those files adds the word (``git log -G``). Pickaxe over the whole
  history is minutes per name on linux.git; this is a second or two;
- the commits that last changed the lines the patch's hunks rest on (context and removed lines),
  from ``git blame`` of the pre-image (the git-deps idea).
A candidate already in the target is dropped: the target is checked by subject (``git log
--grep``) and patch-id when it is a git repository, and by content (the commit's added lines are
all present in the target's files) always, because cherry-picks change SHAs. Only path-limited
diffs are read (``git show SHA -- PATHS``), never a whole commit: on a history with one commit
per release a whole diff is hundreds of MB. Every answer is cached on disk per repository and
refs state (HistoryCache), so a second port of the same series asks git almost nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import TreeError
from .model import Finding, Patch, Severity, SourceRef, TargetTree

MAX_BLAME_COMMITS = 8
WHOLE_COMMIT_FILES = 40  # a commit touching more is read only where it matters (commit_scope)
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


def _git_rc(repo_path: str, *args: str) -> int:
    """The exit status of a quiet git command (``git grep -q``: 0 found, 1 not found)."""
    import subprocess

    return subprocess.run(["git", "-C", repo_path, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          check=False).returncode


def _rev_sha(repo_path: str, rev: str) -> str:
    return _git(repo_path, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}").strip()


# ------------------------------------------------------------------ the answer cache

MISS = object()  # HistoryCache.get when nothing is stored (None is a stored answer)


class HistoryCache:
    """Answers of history searches, one SQLite file per repository under
    ``<cache>/upstream/<hash of the git dir>.sqlite``, in a namespace named by the repository's
    refs (a hash of ``git for-each-ref``): an answer is reused while no ref moved, and a fetch
    starts a fresh namespace (old ones are dropped). Safe for concurrent processes (WAL). It is
    an ``upstream`` entry of backport.cache: counted in the cap, held while open, shown by
    ``backport cache list``."""

    def __init__(self, repo_path: str, cache_dir: str | None = None) -> None:
        import hashlib

        from .cache import hold
        from .index import default_cache_dir

        gitdir = _git(repo_path, "rev-parse", "--absolute-git-dir").strip() or str(Path(repo_path).resolve())
        refs = _git(repo_path, "for-each-ref", "--format=%(objectname) %(refname)")
        self.namespace = hashlib.sha1(refs.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        cdir = Path(cache_dir) if cache_dir else default_cache_dir()
        path = cdir / "upstream" / (hashlib.sha1(gitdir.encode("utf-8", "surrogateescape")).hexdigest()[:16] + ".sqlite")
        self.db = None
        self._hold = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._hold = hold(path)  # an ``upstream`` entry of the cache: not evicted while open
            self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS answers(ns TEXT, kind TEXT, key TEXT, value TEXT, "
                            "PRIMARY KEY(ns, kind, key))")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('root', ?)", (f"git:{gitdir}",))
            self.db.execute("DELETE FROM answers WHERE ns != ?", (self.namespace,))
        except (OSError, sqlite3.Error):
            self.db = None  # a read-only or broken cache: search without it

    def get(self, kind: str, key: str) -> object:
        if self.db is None:
            return MISS
        try:
            row = self.db.execute("SELECT value FROM answers WHERE ns=? AND kind=? AND key=?",
                                  (self.namespace, kind, key)).fetchone()
        except sqlite3.Error:
            return MISS
        return MISS if row is None else json.loads(row[0])

    def put(self, kind: str, key: str, value: object) -> None:
        if self.db is None:
            return
        try:
            self.db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                            (self.namespace, kind, key, json.dumps(value)))
        except sqlite3.Error:
            pass


_CACHES: dict[tuple[str, str | None], HistoryCache] = {}


def history_cache(repo_path: str, cache_dir: str | None = None) -> HistoryCache:
    """The HistoryCache of ``repo_path`` (one per process and repository; refs read once)."""
    key = (str(Path(repo_path).resolve()), cache_dir)
    if key not in _CACHES:
        _CACHES[key] = HistoryCache(repo_path, cache_dir)
    return _CACHES[key]


def release_chain(repo_path: str, rev: str, cache: HistoryCache | None = None) -> list[tuple[str, str]]:
    """The tagged commits on ``rev``'s first-parent line, oldest first, as (tag, commit sha):
    linux.git's v2.6.12 ... v6.12 (rc tags included), or a stable branch's v6.1.1 ... v6.1.190
    after them. Each is an ancestor of the next, so a name's presence along it is monotonic
    (until it is removed) and can be bisected."""
    cache = cache or history_cache(repo_path)
    rev_sha = _rev_sha(repo_path, rev)
    hit = cache.get("chain", rev_sha)
    if hit is not MISS:
        return [(t, sha) for t, sha in hit]  # type: ignore[union-attr]
    out = _git(repo_path, "log", "--first-parent", "--simplify-by-decoration", "--decorate-refs=refs/tags/",
               "--format=%H%x00%D", rev_sha)
    chain = []
    for line in out.splitlines():
        sha, _, deco = line.partition("\0")
        tags = [d.strip()[len("tag: "):] for d in deco.split(",") if d.strip().startswith("tag: ")]
        if tags:
            chain.append((sorted(tags)[0], sha))
    chain.reverse()
    cache.put("chain", rev_sha, chain)
    return chain


def find_base_rev(repo_path: str, patch: Patch, *, cache_dir: str | None = None) -> str:
    """The upstream revision the patch's pre-image comes from: the parent of its upstream
    commit when the repo has it, else its ``base-commit``, else the newest commit that
    introduced one of the pre-image blobs its ``index`` lines name, else HEAD."""
    for sha in (*patch.upstream_ids, patch.base_commit or ""):
        if sha and RE_SHA.match(sha) and _git(repo_path, "cat-file", "-t", sha).strip() == "commit":
            if sha in patch.upstream_ids:
                return sha + "^"
            return sha
    cache = history_cache(repo_path, cache_dir)
    key = "\0".join(f"{fp.old_path}:{fp.old_blob}" for fp in patch.files)
    hit = cache.get("base", key)
    if isinstance(hit, str):
        return hit
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
    cache.put("base", key, best[1] if best else "HEAD")
    return best[1] if best else "HEAD"


def _commit_info(repo_path: str, sha: str) -> tuple[str, str, int] | None:
    # git log, not git show -s: show still diffs the commit (rename detection over a whole tree)
    out = _git(repo_path, "log", "-1", "--format=%H%x00%s%x00%ct", sha).strip()
    if not out:
        return None
    full, subject, t = out.split("\0")
    return full, subject, int(t)


def find_introducing_commit(repo_path: str, name: str, *, rev: str = "HEAD", paths: Sequence[str] = (),
                            since: str = "", cache_dir: str | None = None,
                            near: Sequence[str] = ()) -> UpstreamCommit | None:
    """The commit reachable from ``rev`` that introduced ``name``, found as a kernel engineer
    would: the paths that define it at ``rev`` (``paths``, or the files that mention it, headers
    and Kconfig first, looked for near the patch's files ``near`` first), the first release tag on ``rev``'s first-parent line where it is present
    there (``git grep -w -q`` at the tags, bisected), then the first commit of that one release
    range whose diff adds a line with the word in those paths (``git log -G``). A name present
    at ``since`` (the tag the target grew from) is older than the target: None. Answers are
    cached per repository (see HistoryCache)."""
    cache = history_cache(repo_path, cache_dir)
    rev_sha = _rev_sha(repo_path, rev)
    if not rev_sha:
        return None
    key = "\0".join((rev_sha, name, since, *paths, "near", *near))
    hit = cache.get("intro", key)
    if hit is not MISS:
        return UpstreamCommit(hit[0], hit[1], hit[2], f"introduces {name}", tuple(hit[3])) if hit else None
    found = _search_introducing(repo_path, name, rev_sha, paths, since, cache, near)
    cache.put("intro", key, [found.sha, found.subject, found.time, list(found.paths)] if found else None)
    return found


SOURCE_GLOBS = ("*.c", "*.h", "*.S", "Kconfig*", "*Makefile*", "Kbuild*")


def _mention_paths(repo_path: str, name: str, rev_sha: str, near: Sequence[str]) -> list[str]:
    """The files that mention ``name`` at ``rev_sha``, headers and Kconfig first (at most 50).
    The shared headers (``include/``, ``arch/*/include/``) and the directories ``near`` (the
    patch's) are searched first: a fraction of the tree, where nearly every name a patch needs
    is declared. Only when those show nothing but the ``near`` files themselves (users, not a
    definition) is the whole tree searched (seconds on a kernel tree)."""
    dirs = [f"{d}/*" if d else "*" for d in dict.fromkeys(str(Path(p).parent) if Path(p).parent != Path(".") else ""
                                                          for p in near)]
    found: list[str] = []
    if near:
        globs = ["include/*", "arch/*/include/*", *(d for d in dirs if d != "*")]
        grep = _git(repo_path, "grep", "-n", "-w", "-F", "-e", name, rev_sha, "--", *globs)
        hits: dict[str, bool] = {}  # path -> has a line that looks like a definition
        for ln in grep.splitlines():
            parts = ln.split(":", 3)
            if len(parts) == 4:
                hits[parts[1]] = hits.get(parts[1], False) or _looks_like_definition(parts[3], name)
        found = list(hits) if any(hits.values()) else []
    if not found:
        grep = _git(repo_path, "grep", "-l", "-w", "-F", "-e", name, rev_sha, "--", *SOURCE_GLOBS)
        found = [ln.split(":", 1)[1] for ln in grep.splitlines() if ":" in ln]
    found = [p for p in found if p.endswith((".c", ".h", ".S")) or "Kconfig" in p or "Makefile" in p or "Kbuild" in p]
    # a definition site first: headers and Kconfig before users
    return sorted(found, key=lambda p: (not p.endswith((".h", "Kconfig")), p))[:50]


def _looks_like_definition(line: str, name: str) -> bool:
    """Kernel coding style: a definition or declaration starts in column 0 (function headers,
    prototypes, ``struct x {``, ``DEFINE_MUTEX(x)``) or is a ``#define`` or an enumerator;
    uses sit indented inside function bodies."""
    if re.match(rf"\s*#\s*define\s+{re.escape(name)}\b", line):
        return True
    if re.match(rf"\s+{re.escape(name)}\s*(=[^=]|,|$)", line):
        return True  # an enumerator or a struct initialiser member
    return bool(line) and not line[0].isspace() and not line.startswith(("}", "//", "/*", "*"))


def _word_regex(word: str) -> str:
    """A POSIX extended regex matching ``word`` as a whole word (git -G has no -w)."""
    return rf"(^|[^A-Za-z0-9_]){re.escape(word)}([^A-Za-z0-9_]|$)"


def _search_introducing(repo_path: str, name: str, rev_sha: str, paths: Sequence[str], since: str,
                        cache: HistoryCache, near: Sequence[str] = ()) -> UpstreamCommit | None:
    if name.startswith("CONFIG_") and not paths:  # a Kconfig symbol: where its entry is
        needle = name[len("CONFIG_"):]
        entry = rf"^\s*(menu)?config\s+{re.escape(needle)}\s*$"
        grep = _git(repo_path, "grep", "-l", "-E", "-e", entry, rev_sha, "--", "*Kconfig*")
        paths = [ln.split(":", 1)[1] for ln in grep.splitlines() if ":" in ln][:50]
        present = ["-E", "-e", entry]
        added = rf"^[[:space:]]*(menu)?config[[:space:]]+{re.escape(needle)}[[:space:]]*$"
    else:
        if not paths:
            paths = _mention_paths(repo_path, name, rev_sha, near)
        present = ["-w", "-F", "-e", name]
        added = _word_regex(name)
    if not paths:
        return None
    points = [sha for _tag, sha in release_chain(repo_path, rev_sha, cache)]
    if since:
        since_sha = _rev_sha(repo_path, since)
        if since_sha in points:
            points = points[points.index(since_sha):]
        elif since_sha:
            points = [since_sha]
    if not points or points[-1] != rev_sha:
        points.append(rev_sha)

    def has(sha: str) -> bool:
        r = _git_rc(repo_path, "grep", "-q", *present, sha, "--", *paths)
        return r == 0

    lo, hi = -1, len(points) - 1  # invariant: absent at points[lo] (or before history), present at points[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if has(points[mid]):
            hi = mid
        else:
            lo = mid
    if since and hi == 0:
        return None  # present where the target's branch began
    span = f"{points[lo]}..{points[hi]}" if lo >= 0 else points[hi]
    found = _first_change(repo_path, added, span, paths)
    if found is None and lo >= 0:  # not monotonic (moved, removed and re-added): the whole line
        found = _first_change(repo_path, added, f"{since}..{rev_sha}" if since else rev_sha, paths)
    if found is None:
        return None
    sha, subject, t, touched = found
    return UpstreamCommit(sha, subject, t, f"introduces {name}", commit_scope(repo_path, sha, touched, cache))


def commit_scope(repo_path: str, sha: str, paths: Sequence[str], cache: HistoryCache) -> tuple[str, ...]:
    """The files of ``sha`` to read when checking whether a target holds it: all it touches for
    an ordinary commit (up to WHOLE_COMMIT_FILES), else only ``paths`` (a merge of a subsystem
    or a whole release squashed into one commit: its full diff would be hundreds of MB)."""
    hit = cache.get("files", sha)
    if isinstance(hit, list):
        files = hit
    else:
        files = [n for n in _git(repo_path, "diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "--no-renames",
                                 sha).split("\n") if n]
        cache.put("files", sha, files)
    if len(files) <= WHOLE_COMMIT_FILES:
        return tuple(files)
    touched = set(files)
    return tuple(p for p in paths if p in touched) or tuple(paths)


def _first_change(repo_path: str, regex: str, span: str, paths: Sequence[str]) -> tuple[str, str, int, tuple[str, ...]] | None:
    """The oldest commit of ``span`` whose diff of ``paths`` adds or removes a line matching
    ``regex``, with the paths (of ``paths``) it touched."""
    out = _git(repo_path, "log", "--reverse", "--format=%x01%H%x00%s%x00%ct", "--name-only", "-G", regex, span,
               "--", *paths)
    for record in out.split("\x01")[1:]:
        head, _, names = record.partition("\n")
        if head.count("\0") == 2:
            sha, subject, t = head.split("\0")
            return sha, subject, int(t), tuple(n for n in names.split("\n") if n.strip())
    return None


def _blame(repo_path: str, path: str, start: int, count: int, rev: str, since: str,
           cache: HistoryCache) -> list[tuple[str, int]]:
    """(commit, original line) of each line ``start..start+count-1`` of ``path`` at ``rev`` that
    changed after ``since``; cached by the resolved revisions."""
    rev_sha = _rev_sha(repo_path, rev)
    key = "\0".join((rev_sha or rev, _rev_sha(repo_path, since) if since else "", path, str(start), str(count)))
    hit = cache.get("blame", key)
    if hit is not MISS:
        return [(sha, n) for sha, n in hit]  # type: ignore[union-attr]
    span = f"{since}..{rev}" if since else rev
    out = _git(repo_path, "blame", "--porcelain", "-L", f"{start},+{count}", span, "--", path)
    boundary = {ln.split()[0] for ln in _porcelain_boundaries(out)} if since else set()
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and RE_SHA.match(parts[0]) and len(parts[0]) == 40 and parts[1].isdigit() \
                and parts[0] not in boundary:
            found.append((parts[0], int(parts[1])))
    cache.put("blame", key, found)
    return found


def find_context_commits(repo_path: str, patch: Patch, *, rev: str, since: str = "",
                         cache_dir: str | None = None) -> list[UpstreamCommit]:
    """Commits that last changed the context and removed lines of the patch's hunks at ``rev``."""
    cache = history_cache(repo_path, cache_dir)
    counts: dict[str, list] = {}
    for fp in patch.files:
        if fp.is_new or fp.old_path is None:
            continue
        for h in fp.hunks:
            if h.old_count <= 0:
                continue
            for sha, line_no in _blame(repo_path, fp.old_path, h.old_start, h.old_count, rev, since, cache):
                entry = counts.setdefault(sha, [0, fp.old_path, line_no])
                entry[0] += 1
    commits = []
    for sha, (n, path, line) in sorted(counts.items(), key=lambda kv: -kv[1][0])[:MAX_BLAME_COMMITS]:
        info = _commit_info(repo_path, sha)
        if info is None or sha.startswith("0000000"):
            continue
        commits.append(UpstreamCommit(info[0], info[1], info[2],
                                      f"last changed {n} context/removed line(s) of {path} (near line {line})",
                                      commit_scope(repo_path, info[0], (path,), cache)))
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


def _added_lines_by_file(repo_path: str, sha: str, paths: Sequence[str] = (), *,
                         cache_dir: str | None = None) -> dict[str, list[str]]:
    """The lines ``sha`` adds, per file, limited to ``paths`` (a release-sized commit's whole
    diff is never read: only the files that define what was asked for)."""
    cache = history_cache(repo_path, cache_dir)
    key = "\0".join((sha, *paths))
    hit = cache.get("added", key)
    if isinstance(hit, dict):
        return hit
    out = _git(repo_path, "show", "--format=", "-U0", "--no-renames", sha, "--", *paths)
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
    cache.put("added", key, files)
    return files


def target_has_commit(target: TargetTree, repo_path: str, commit: UpstreamCommit, *,
                      cache_dir: str | None = None) -> str | None:
    """How the target already holds ``commit`` ("subject", "patch-id", "content"), or None."""
    root = getattr(target, "root", "")
    if root and (Path(root) / ".git").exists():
        found = _git(root, "log", "-n", "1", "--format=%H", "-F", f"--grep={commit.subject}", "HEAD")
        if found.strip():
            return f"subject (target commit {found.strip()[:12]})"
        pid = _patch_id(repo_path, commit.sha, commit.paths)
        if pid:
            for sha in _git(root, "log", "-n", "200", "--format=%H", "HEAD", "--", *commit.paths).split():
                if _patch_id(root, sha, commit.paths) == pid:
                    return f"patch-id (target commit {sha[:12]})"
    added = _added_lines_by_file(repo_path, commit.sha, commit.paths, cache_dir=cache_dir)
    total = present = 0
    for path, lines in added.items():
        text = target.read(path)
        have = {ln.strip() for ln in text.splitlines()} if text else set()
        total += len(lines)
        present += sum(1 for ln in lines if ln in have)
    if total and present / total >= 0.9:
        return f"content ({present}/{total} added lines present)"
    return None


def _patch_id(repo_path: str, sha: str, paths: Sequence[str] = ()) -> str:
    """The stable patch-id of ``sha``'s diff of ``paths`` (both sides limited alike)."""
    import subprocess

    diff = _git(repo_path, "show", "--no-renames", sha, "--", *paths)
    if not diff:
        return ""
    r = subprocess.run(["git", "patch-id", "--stable"], input=diff, capture_output=True, text=True, cwd=repo_path)
    return r.stdout.split()[0] if r.stdout.split() else ""


def find_prerequisites(patch: Patch, target: TargetTree, repo_path: str, *, names: Iterable[str] = (),
                       context: bool = True, cache_dir: str | None = None) -> list[tuple[UpstreamCommit, str]]:
    """Prerequisite upstream commits the target lacks, oldest first, each with its reason."""
    rev = find_base_rev(repo_path, patch, cache_dir=cache_dir)
    # names are searched in the whole history up to the patch (or HEAD): a helper can arrive
    # after the commit that last changed the patched file
    search = rev if rev.endswith("^") else "HEAD"
    since = find_since(repo_path, target)
    cands: dict[str, UpstreamCommit] = {}
    near = tuple(dict.fromkeys(p for fp in patch.files for p in (fp.old_path, fp.new_path) if p))
    for name in dict.fromkeys(names):
        c = find_introducing_commit(repo_path, name, rev=search, since=since, cache_dir=cache_dir, near=near)
        if c is not None:
            old = cands.get(c.sha)
            cands[c.sha] = c if old is None else UpstreamCommit(
                c.sha, c.subject, c.time, old.reason + ", " + c.reason.split(" ", 1)[1],
                tuple(dict.fromkeys((*old.paths, *c.paths))))
    if context:
        for c in find_context_commits(repo_path, patch, rev=rev, since=since, cache_dir=cache_dir):
            cands.setdefault(c.sha, c)
    own = {s for s in patch.upstream_ids}
    out = []
    for c in sorted(cands.values(), key=lambda c: (c.time, c.sha)):
        if any(c.sha.startswith(s) or s.startswith(c.sha) for s in own if s) or c.subject == patch.subject:
            continue  # the patch itself
        out.append((c, target_has_commit(target, repo_path, c, cache_dir=cache_dir) or ""))
    return out


def check_prerequisites(patch: Patch, target: TargetTree, repo_path: str, *,
                        missing: Sequence[Finding] = (), cache_dir: str | None = None) -> list[Finding]:
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
    for c, held in find_prerequisites(patch, target, repo_path, names=names, cache_dir=cache_dir):
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
