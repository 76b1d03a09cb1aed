"""Compile check of a port (stage: verify, ``--verify build``).

Inputs: a kernel source tree on disk, its arch and .config (the arch's defconfig when none is
given), and a port's full new file contents (``PortResult.new_files``). Outputs: ``build-error``
(ERROR) and ``build-warning`` (WARNING) findings tied to the ported line, ``build-skipped``
(NOTE) for what could not be compiled.

API (stable; ``backport triage`` calls it per tree and per cell):

    prepare_build(tree_path, arch="x86_64", config=None, cache_dir=None, *, jobs=None) -> BuildDir
    verify_port(build_dir, tree_path, new_files, *, result=None, touched=None, jobs=None) -> list[Finding]
    verify_results(results, tree_path, build_dir, *, options=None) -> list[PortResult]  (a series)
    objects_for(tree_path, new_files) -> (objects, notes)

How the target tree stays untouched (the overlay). ``prepare_build`` makes a *farm*: a
directory whose entries are symlinks to the tree's top-level entries, and runs ``make
O=<farm>/.bp-o defconfig|olddefconfig prepare`` from it once, cached under
``<cache_dir>/build/<key>/`` (key: tree identity, arch, config bytes, compiler version).
Because the output directory is a direct subdirectory of the source directory, Kbuild (5.x and
later: "building in a subdirectory of the source tree") uses the relative ``srctree := ..``,
so every recorded command line and dependency is relative. ``verify_port`` then builds a fresh
farm in a scratch directory: the directories on the way to each ported file become real
directories of symlinks, the ported files real files, everything else stays one symlink to
the tree; it copies the prepared output directory into it and runs ``make O=.bp-o -k
path/file.o ...``. Kbuild sees the same relative commands, so nothing of ``prepare`` is
rebuilt, and the ported files, newer than every output, are compiled. This was chosen over
the VPATH trick (putting ported sources into the output directory): that only works while
Kbuild finds sources through VPATH (until 6.9; 6.10 made ``$(src)`` absolute), and a header
put there is never seen by ``#include "x.h"`` from a source next to the original header.
Trees older than the relative-srctree change (4.x) still work, but record absolute paths,
so their host tools are rebuilt in each scratch farm (slower, same results).

The build directory is a ``build`` entry of backport.cache: it counts against the cache cap
and is evicted least recently used first, but never while a process holds it. ``prepare_build``
holds it (a shared flock on ``build/.<key>.use``) from before it looks at it until the process
ends, and every scratch build holds it again for its duration, so ``cache prune`` or another
process's eviction never removes a build directory in use; preparing is serialised by
``build/.<key>.lock``.

Limit: ``#include "../x.h"`` from an unported directory reached through a symlink resolves
in the real tree, so a ported ``x.h`` one level up is not seen by it.

New warnings: the same objects are built once from the unported tree (cached per object in
the build directory); a diagnostic (file, kind, message, without line numbers) the port adds
is new. Errors the unported tree also has are not the port's.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from . import cache
from .errors import TreeError, UsageError
from .model import Finding, PortOptions, PortResult, Severity, SourceRef

OBJ_DIR = ".bp-o"  # the output directory's name inside a farm
MAX_HEADER_USERS = 2  # objects compiled for a ported header that no ported source includes
PREPARE_TIMEOUT = 3600
BUILD_TIMEOUT = 900
SCHEMA = 1  # bump when the layout of a prepared build directory changes

# arch name (fleet file, uname -m or Kbuild ARCH) -> (make ARCH, cross prefix, Debian package)
ARCHES: dict[str, tuple[str, str, str]] = {
    "x86_64": ("x86_64", "x86_64-linux-gnu-", "gcc-x86-64-linux-gnu"),
    "amd64": ("x86_64", "x86_64-linux-gnu-", "gcc-x86-64-linux-gnu"),
    "i386": ("i386", "i686-linux-gnu-", "gcc-i686-linux-gnu"),
    "arm64": ("arm64", "aarch64-linux-gnu-", "gcc-aarch64-linux-gnu"),
    "aarch64": ("arm64", "aarch64-linux-gnu-", "gcc-aarch64-linux-gnu"),
    "arm": ("arm", "arm-linux-gnueabihf-", "gcc-arm-linux-gnueabihf"),
    "riscv": ("riscv", "riscv64-linux-gnu-", "gcc-riscv64-linux-gnu"),
    "riscv64": ("riscv", "riscv64-linux-gnu-", "gcc-riscv64-linux-gnu"),
    "powerpc": ("powerpc", "powerpc64le-linux-gnu-", "gcc-powerpc64le-linux-gnu"),
    "ppc64le": ("powerpc", "powerpc64le-linux-gnu-", "gcc-powerpc64le-linux-gnu"),
    "s390": ("s390", "s390x-linux-gnu-", "gcc-s390x-linux-gnu"),
    "s390x": ("s390", "s390x-linux-gnu-", "gcc-s390x-linux-gnu"),
    "mips": ("mips", "mips-linux-gnu-", "gcc-mips-linux-gnu"),
    "loongarch": ("loongarch", "loongarch64-linux-gnu-", "gcc-loongarch64-linux-gnu"),
}
_HOLDS: dict[str, cache.Hold | None] = {}  # build directories this process prepared: held until it ends
# make ARCH -> the host machines (uname -m) that build it without a cross compiler
NATIVE = {"x86_64": ("x86_64",), "i386": ("x86_64", "i686"), "arm64": ("aarch64",), "arm": ("armv7l",),
          "riscv": ("riscv64",), "powerpc": ("ppc64le",), "s390": ("s390x",), "mips": ("mips",)}

# ../drivers/net/foo.c:123:45: error: 'x' undeclared (first use in this function)
RE_DIAG = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? "
                     r"(?P<kind>error|fatal error|warning): (?P<msg>.*)$")
# make[3]: *** No rule to make target 'drivers/foo/bar.o'.  Stop.
RE_NO_RULE = re.compile(r"No rule to make target '(?P<target>[^']+)'")
# '#include "foo.h"' (a local include of the ported header)
RE_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](?P<name>[^">]+)[">]', re.M)


@dataclass(frozen=True, slots=True)
class BuildDir:
    """A prepared out-of-tree build directory (what ``prepare_build`` returns)."""

    root: str  # <cache>/build/<key>: holds farm/ (symlinks to the tree) and baseline/
    tree: str  # the source tree it was prepared from (absolute)
    arch: str  # make ARCH
    cross_compile: str  # "" for a native build
    config: str  # the .config given, or "defconfig"
    key: str
    seconds: float = 0.0  # time prepare took (0 when it came from the cache)

    @property
    def farm(self) -> str:
        return os.path.join(self.root, "farm")

    @property
    def objdir(self) -> str:
        return os.path.join(self.root, "farm", OBJ_DIR)

    def make_args(self) -> list[str]:
        args = [f"ARCH={self.arch}"]
        if self.cross_compile:
            args.append(f"CROSS_COMPILE={self.cross_compile}")
        return args


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str  # relative to the tree
    line: int
    kind: str  # error | warning
    message: str

    def key(self) -> tuple[str, str, str]:
        return self.path, self.kind, _norm_message(self.message)


# ------------------------------------------------------------------ toolchain and identity


def resolve_arch(arch: str | None) -> tuple[str, str, str]:
    """(make ARCH, CROSS_COMPILE, Debian package) for ``arch``; CROSS_COMPILE is "" when the host
    builds it natively. Raises UsageError for an arch this module does not know."""
    name = (arch or platform.machine()).strip()
    if name not in ARCHES:
        raise UsageError(f"--verify build: unknown arch {name!r} (known: {', '.join(sorted(ARCHES))})")
    make_arch, cross, pkg = ARCHES[name]
    if platform.machine() in NATIVE.get(make_arch, ()):
        cross = ""
    return make_arch, cross, pkg


def _compiler(cross: str, pkg: str) -> str:
    cc = f"{cross}gcc"
    if shutil.which(cc) is None:
        raise UsageError(f"--verify build: no {cc} on PATH; install it (Debian: apt-get install {pkg})")
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else cc


def _tree_identity(tree_path: str) -> str:
    from .index import tree_key
    from .target import load_tree

    return tree_key(load_tree(tree_path))


def _build_key(tree_path: str, make_arch: str, config: str | None, compiler: str) -> str:
    h = hashlib.sha1()
    h.update(f"{SCHEMA}\0{_tree_identity(tree_path)}\0{make_arch}\0{compiler}\0".encode())
    if config:
        try:
            h.update(Path(config).read_bytes())
        except OSError as e:
            raise UsageError(f"{config}: cannot read the config: {e.strerror}") from e
    else:
        h.update(b"defconfig")
    return h.hexdigest()[:20]


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _make(cwd: str, args: Sequence[str], *, timeout: int) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C", LANG="C", KBUILD_BUILD_TIMESTAMP="backport", KBUILD_BUILD_USER="backport",
               KBUILD_BUILD_HOST="backport")
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    try:
        return subprocess.run(["make", *args], cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return subprocess.CompletedProcess(e.cmd, -1, out, f"timed out after {timeout} s")


# ------------------------------------------------------------------ the farm (overlay)


def _link_entries(src: Path, dest: Path, skip: set[str]) -> None:
    with os.scandir(src) as it:
        for e in it:
            if e.name in skip or e.name == OBJ_DIR:
                continue
            os.symlink(e.path, dest / e.name)


def make_farm(tree: str, dest: str, new_files: Sequence[tuple[str, str | None]] = ()) -> None:
    """Make ``dest`` read as ``tree`` with ``new_files`` laid over it: real directories down to
    each changed path (their other entries symlinks into the tree), the changed files real files,
    deleted ones absent. ``tree`` is only read."""
    from .target import check_relpath

    root = Path(tree)
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    # a tree built in place refuses O= builds ("source tree is not clean"): hide its products
    _link_entries(root, out, {".config", ".git", ".pc"})
    real_dirs = {Path(".")}
    for path, text in new_files:
        rel = Path(check_relpath(path))
        cur = Path(".")
        for part in rel.parts[:-1]:
            cur = cur / part
            if cur in real_dirs:
                continue
            real_dirs.add(cur)
            d = out / cur
            if d.is_symlink():
                d.unlink()
            d.mkdir(exist_ok=True)
            if (root / cur).is_dir() and not (root / cur).is_symlink():
                _link_entries(root / cur, d, set())
        f = out / rel
        if f.is_symlink() or f.exists():
            f.unlink()
        if text is not None:
            f.write_text(text, encoding="utf-8", errors="surrogateescape")


# ------------------------------------------------------------------ prepare


def prepare_build(tree_path: str, arch: str | None = "x86_64", config: str | None = None,
                  cache_dir: str | os.PathLike[str] | None = None, *, jobs: int | None = None,
                  timeout: int = PREPARE_TIMEOUT) -> BuildDir:
    """Configure and ``make prepare`` an out-of-tree build directory for ``tree_path``, once per
    (tree identity, arch, config, compiler); later calls return the cached one. Raises TreeError
    when the tree does not configure or prepare (the make output's last lines in the message)."""
    from .index import default_cache_dir

    tree = str(Path(tree_path).resolve())
    if not (Path(tree) / "Makefile").is_file():
        raise TreeError(f"{tree_path}: no top-level Makefile, not a kernel tree")
    make_arch, cross, pkg = resolve_arch(arch)
    compiler = _compiler(cross, pkg)
    key = _build_key(tree, make_arch, config, compiler)
    cdir = Path(cache_dir or default_cache_dir())
    root = cdir / cache.BUILD_DIR / key
    root.parent.mkdir(parents=True, exist_ok=True)
    if _HOLDS.get(str(root)) is None:
        _HOLDS[str(root)] = cache.hold(root)  # before looking: eviction now leaves it alone
    try:
        return _prepare(root, tree_path, tree, make_arch, cross, config, compiler, key, jobs, timeout)
    finally:
        cache.enforce_cap(cdir, cache.cache_max(), keep=(root,))


def _prepare(root: Path, tree_path: str, tree: str, make_arch: str, cross: str, config: str | None, compiler: str,
             key: str, jobs: int | None, timeout: int) -> BuildDir:
    done = root / "prepared.json"
    with _lock(cache.side_file(root, cache.LOCK_SUFFIX)):
        if done.is_file():
            meta = json.loads(done.read_text())
            return BuildDir(str(root), tree, make_arch, cross, meta.get("config", "defconfig"), key)
        start = time.monotonic()
        if root.exists():
            shutil.rmtree(root)
        farm = root / "farm"
        make_farm(tree, str(farm))
        obj = farm / OBJ_DIR
        obj.mkdir()
        bd = BuildDir(str(root), tree, make_arch, cross, config or "defconfig", key)
        if config:
            shutil.copyfile(config, obj / ".config")
            steps = ["olddefconfig"]
        else:
            steps = ["defconfig"]
        j = f"-j{jobs or os.cpu_count() or 1}"
        for step in (steps, ["prepare"]):
            r = _make(str(farm), [j, f"O={OBJ_DIR}", *bd.make_args(), *step], timeout=timeout)
            if r.returncode != 0:
                tail = " | ".join((r.stdout + r.stderr).strip().splitlines()[-6:])
                raise TreeError(f"{tree_path}: make {' '.join(step)} failed for ARCH={make_arch}: {tail}")
        seconds = time.monotonic() - start
        (root / "baseline").mkdir()
        done.write_text(json.dumps({"tree": tree, "arch": make_arch, "cross_compile": cross, "compiler": compiler,
                                    "config": config or "defconfig", "seconds": round(seconds, 1)}, indent=1))
        return BuildDir(str(root), tree, make_arch, cross, config or "defconfig", key, seconds)


# ------------------------------------------------------------------ which objects


def _kbuild_dir(tree: Path, rel: Path) -> bool:
    d = tree / rel.parent
    return (d / "Makefile").is_file() or (d / "Kbuild").is_file()


def objects_for(tree_path: str, new_files: Sequence[tuple[str, str | None]]) -> tuple[list[str], list[str]]:
    """The objects to build for a port (``drivers/x/y.o``) and notes on what is not compiled:
    each ported .c/.S of a Kbuild directory; for a ported header that none of those includes, up
    to MAX_HEADER_USERS sources of its own directory that include it."""
    tree = Path(tree_path)
    objects: list[str] = []
    notes: list[str] = []
    headers: list[str] = []
    sources: dict[str, str] = {}
    for path, text in new_files:
        rel = Path(path)
        if text is None or rel.parts[0] in ("tools", "scripts", "Documentation", "usr"):
            continue
        if rel.suffix in (".c", ".S"):
            if _kbuild_dir(tree, rel):
                objects.append(str(rel.with_suffix(".o")))
                sources[path] = text
            else:
                notes.append(f"{path}: not in a Kbuild directory, not compiled")
        elif rel.suffix == ".h":
            headers.append(path)
    for h in headers:
        base = Path(h).name
        included = any(re.search(rf'#\s*include\s*[<"](?:[\w./-]*/)?{re.escape(base)}[">]', t) for t in sources.values())
        if included:
            continue
        users = []
        d = tree / Path(h).parent
        if _kbuild_dir(tree, Path(h)):
            for c in sorted(d.glob("*.c")):
                try:
                    text = c.read_text(errors="replace")
                except OSError:
                    continue
                if any(m.group("name") == base for m in RE_INCLUDE.finditer(text)):
                    users.append(str(Path(h).parent / (c.stem + ".o")))
                if len(users) >= MAX_HEADER_USERS:
                    break
        if users:
            objects.extend(u for u in users if u not in objects)
        else:
            notes.append(f"{h}: no ported or neighbouring source includes it; the header change was not compiled")
    return objects, notes


# ------------------------------------------------------------------ build and compare


def _norm_message(msg: str) -> str:
    """A message without line/column numbers and quoted line references, for comparison."""
    return re.sub(r":\d+(:\d+)?", "", msg).strip()


def parse_diagnostics(output: str, farm: str) -> list[Diagnostic]:
    """Compiler errors and warnings of a make run in ``farm`` (paths made tree-relative)."""
    found = []
    prefixes = (os.path.join(farm, ""), "../", "./")
    for line in output.splitlines():
        m = RE_DIAG.match(line.strip())
        if not m:
            continue
        path = m.group("path")
        for p in prefixes:
            if path.startswith(p):
                path = path[len(p):]
        kind = "error" if "error" in m.group("kind") else "warning"
        found.append(Diagnostic(path, int(m.group("line")), kind, m.group("msg")))
    return list(dict.fromkeys(found))


@contextlib.contextmanager
def _slot(bd: BuildDir) -> Iterator[Path]:
    """A scratch slot of ``bd`` no other process uses now (``<root>/slots/N``, flock-held).

    Kbuild's tools (objtool) record absolute paths, so a slot keeps the tools it built and the
    next cell in it, at the same path, finds them up to date; everything else is reset."""
    slots = Path(bd.root) / "slots"
    slots.mkdir(exist_ok=True)
    n = 0
    while True:
        lock = slots / f"{n}.lock"
        fh = open(lock, "a+b")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            n += 1
            continue
        try:
            yield slots / str(n)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
        return


def _build(bd: BuildDir, tree: str, new_files: Sequence[tuple[str, str | None]], objects: Sequence[str],
           *, jobs: int | None, timeout: int) -> tuple[list[Diagnostic], set[str], str]:
    """Build ``objects`` in a scratch farm: (diagnostics, objects make had no rule for, output)."""
    with cache.holding(Path(bd.root)), _slot(bd) as slot:
        farm = slot / "farm"
        saved_tools = slot / "tools"
        if farm.exists():
            shutil.rmtree(farm)
        make_farm(tree, str(farm), new_files)
        obj = farm / OBJ_DIR
        subprocess.run(["cp", "-a", "--reflink=auto", bd.objdir, str(obj)], check=True)
        if saved_tools.is_dir():
            shutil.rmtree(obj / "tools", ignore_errors=True)
            os.replace(saved_tools, obj / "tools")
        r = _make(str(farm), ["-k", f"-j{jobs or 1}", f"O={OBJ_DIR}", *bd.make_args(), *objects], timeout=timeout)
        # tools built from ported tools/ sources are not kept for the next cell
        if (obj / "tools").is_dir() and not any(p.startswith("tools/") for p, _ in new_files):
            os.replace(obj / "tools", saved_tools)
        shutil.rmtree(farm, ignore_errors=True)
        out = r.stdout + "\n" + r.stderr
        norule = {m.group("target") for m in RE_NO_RULE.finditer(out)}
        diags = parse_diagnostics(out, str(farm))
        if r.returncode != 0 and not diags and not norule:
            diags = [Diagnostic(objects[0].rsplit(".", 1)[0] + ".c", 0, "error",
                                "make failed: " + " | ".join(out.strip().splitlines()[-4:]))]
        return diags, norule, out


def _baseline(bd: BuildDir, tree: str, objects: Sequence[str], *, jobs: int | None,
              timeout: int) -> tuple[list[Diagnostic], set[str]]:
    """Diagnostics of ``objects`` built from the unported tree, cached per object set."""
    stamp = []
    for o in sorted(objects):
        src = Path(tree) / o
        for suffix in (".c", ".S"):
            s = src.with_suffix(suffix)
            if s.is_file():
                st = s.stat()
                stamp.append(f"{o}:{st.st_size}:{st.st_mtime_ns}")
    key = hashlib.sha1("\n".join(stamp or sorted(objects)).encode()).hexdigest()[:20]
    cache = Path(bd.root) / "baseline" / f"{key}.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        return [Diagnostic(**d) for d in data["diags"]], set(data["norule"])
    diags, norule, _ = _build(bd, tree, (), objects, jobs=jobs, timeout=timeout)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"diags": [asdict(d) for d in diags], "norule": sorted(norule)}))
    os.replace(tmp, cache)
    return diags, norule


def _added_lines(old: str | None, new: str) -> set[int]:
    """1-based lines of ``new`` that the port added or changed (relative to ``old``)."""
    a = (old or "").splitlines()
    b = new.splitlines()
    added: set[int] = set()
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            added.update(range(j1 + 1, j2 + 1))
    return added


def _patch_ref(result: PortResult | None, path: str, line: int, new_text: str, old_text: str | None) -> SourceRef | None:
    """The patch line that produced ``line`` of the ported ``path``: the added hunk line with the
    same text in the hunk whose placement covers it, else that hunk's header."""
    if result is None:
        return None
    target = new_text.splitlines()[line - 1].strip() if 0 < line <= len(new_text.splitlines()) else ""
    shift = 0
    for pl in sorted((p for p in result.placements if p.path == path and p.applied and p.placed), key=lambda p: p.start):
        start = pl.start + shift
        end = start + len(pl.target_new)
        if start <= line < max(end, start + 1):
            for hl in pl.hunk.lines:
                if hl.kind.name == "ADDED" and hl.text.strip() == target and hl.ref is not None:
                    return hl.ref
            return pl.hunk.ref
        shift += len(pl.target_new) - len(pl.target_old)
    return result.patch.ref if old_text is None else None


def verify_port(build_dir: BuildDir, tree_path: str, new_files: Sequence[tuple[str, str | None]], *,
                result: PortResult | None = None, touched: Sequence[str] | None = None,
                jobs: int | None = None, timeout: int = BUILD_TIMEOUT) -> list[Finding]:
    """Build the objects a port touches over a scratch overlay of ``tree_path`` (never written)
    and return findings: ``build-error`` for each compiler error, ``build-warning`` for each
    warning the unported tree does not have, ``build-skipped`` for objects this config does not
    build and ported files not compiled. ``result`` (the PortResult) ties them to patch lines."""
    tree = str(Path(tree_path).resolve())
    objects, notes = objects_for(tree, new_files)
    findings = [Finding("build-skipped", Severity.NOTE, n) for n in notes]
    if not objects:
        return findings
    diags, norule, _out = _build(build_dir, tree, new_files, objects, jobs=jobs, timeout=timeout)
    base_diags: list[Diagnostic] = []
    base_norule: set[str] = set()
    if diags or norule:
        base_diags, base_norule = _baseline(build_dir, tree, objects, jobs=jobs, timeout=timeout)
    for target in sorted(norule):
        why = "this config does not build it" if target in base_norule else "the ported Makefile does not build it"
        findings.append(Finding("build-skipped", Severity.NOTE, f"{target}: not compiled: {why}",
                                hint=f"build with a config that enables {target}, or check it by hand"))
    old_counts = Counter(d.key() for d in base_diags)
    texts = dict(new_files)
    for d in diags:
        if old_counts[d.key()] > 0:
            old_counts[d.key()] -= 1
            continue
        new_text = texts.get(d.path)
        old_text = _read(tree, d.path) if new_text is not None else None
        ported = new_text is not None and d.line in _added_lines(old_text, new_text)
        src = _line(new_text, d.line) if new_text is not None else _line(_read(tree, d.path), d.line)
        where = "a ported line" if ported else ("a line the port left as it was" if new_text is not None
                                                 else "a file the port does not change")
        ref = _patch_ref(result, d.path, d.line, new_text, old_text) if ported and new_text is not None else None
        error = d.kind == "error"
        if not error and not ported and any(x.kind == "error" for x in diags):
            continue  # a warning after an error elsewhere is the error's echo (e.g. -Wreturn-type)
        findings.append(Finding(
            "build-error" if error else "build-warning", Severity.ERROR if error else Severity.WARNING,
            f"{d.path}:{d.line}: {d.kind}: {d.message} ({where})", ref,
            (f"{d.path}:{d.line}: {src}",),
            "the port does not compile in this tree: adapt the line to the target's API" if error else
            "the unported tree builds this object without this warning: check the ported line"))
    return findings


def _read(tree: str, path: str) -> str | None:
    try:
        return (Path(tree) / path).read_text(errors="surrogateescape")
    except OSError:
        return None


def _line(text: str | None, n: int) -> str:
    lines = (text or "").splitlines()
    return lines[n - 1].strip() if 0 < n <= len(lines) else ""


def verify_results(results: Sequence[PortResult], tree_path: str, build_dir: BuildDir, *,
                   options: PortOptions | None = None, jobs: int | None = None,
                   progress: Callable[[int, int, object], None] | None = None) -> list[PortResult]:
    """``verify_port`` for each result of a series, in order, each built over the ports before
    it; the build findings are added to each result and its status recomputed."""
    from dataclasses import replace

    from .pipeline import _status

    opts = options or PortOptions()
    laid: dict[str, str | None] = {}
    out = []
    for i, r in enumerate(results):
        if progress is not None:
            progress(i, len(results), r.patch.subject)
        laid.update(dict(r.new_files))
        if not r.new_files:
            out.append(r)
            continue
        found = verify_port(build_dir, tree_path, list(laid.items()), result=r, touched=[p for p, _ in r.new_files],
                            jobs=jobs)
        found = [f for f in found if f.code not in opts.ignore]
        findings = (*r.findings, *found)
        out.append(replace(r, findings=findings, status=_status(r.placements, findings, opts)))
    return out
