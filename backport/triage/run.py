"""The triage driver (stage: triage): a queue x a fleet -> cells -> an engine -> the matrix.

Inputs: the queue (a Series read by backport.ingest, anything ``port`` reads), a Fleet,
options (min confidence, ignored codes, ``--verify build``, the queue order), an engine and an
output directory. Outputs: every cell directory under ``OUT/cells/<tree>/``, then
``matrix.json``, ``matrix.csv`` and ``matrix.html`` (backport.triage.matrix); returns the run.

Resuming: each cell has a key, the SHA-256 of its patch id (``git patch-id --stable``: the
same change whatever the mail around it), a digest of the patch as received (text, line
numbers, message: the port depends on them too), the ids of the patches ported before it when
the queue is a series, the tree identity (backport.target: git tree id, or the stat listing
of a directory), the tree's arch and config, the options and the tool version (package
version plus a digest of backport/, hunks/ and kb/ sources and rules). A cell directory whose
``cell.json`` carries the same key is reused (from another directory too, when the patch moved
in the queue: copied to its new place); anything else is computed again. Cells are
committed by the worker that computed them (backport.triage.cell.write_cell), so a killed run
keeps every cell it finished. A lock file keeps two runs out of one output directory.

Queue order (``order``): ``series`` ports patch N onto the tree as patches 1..N-1 left it (what
``port`` does and what a kernel engineer expects of a numbered series); ``independent`` ports
each patch alone onto the pristine tree (a stable queue or a list of CVE fixes: each row answers
"does this fix port on its own"). ``auto`` picks ``series`` when every patch is numbered n/N of
one series and no subject prefix names a kernel release (``[PATCH 6.1 042/104]`` is a stable
review queue), else ``independent``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import UsageError
from ..model import Patch, PortOptions, Series
from ..render.output import patch_file_name
from .cell import CellSpec, adopt_cell, read_cell
from .fleet import Fleet, TreeSpec

ROOT = Path(__file__).resolve().parent.parent.parent
# [PATCH 6.1 042/104]   /   [PATCH 5.10.y]   (a stable review queue names the release it targets)
RE_RELEASE_PREFIX = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:\.y)?$")
# 2b4d8f1c...(40 hex) 000...0001   (git patch-id output: patch id, then the commit id we fed it)
RE_PATCH_ID_LINE = re.compile(r"^([0-9a-f]{40}) ([0-9a-f]{40})$")


@dataclass(slots=True)
class TriageRun:
    """What one run did: the records of every cell (in patch, tree order) and how they came."""

    records: list[dict[str, Any]]
    computed: int = 0
    reused: int = 0
    seconds: float = 0.0
    engine: str = "local"
    workers: int = 1
    order: str = "independent"
    tree_identities: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- identities and keys


@lru_cache(maxsize=1)
def tool_version() -> str:
    """``backport VERSION+SRC`` where SRC digests the code and rules that decide a cell."""
    h = hashlib.sha256()
    for pkg, exts in (("backport", (".py", ".json", ".html")), ("hunks", (".py",)), ("kb", (".py", ".yaml", ".json"))):
        base = ROOT / pkg
        for p in sorted(base.rglob("*")):
            if p.suffix in exts and p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return f"{__version__}+{h.hexdigest()[:12]}"


def _fallback_patch_id(patch: Patch) -> str:
    h = hashlib.sha1()
    for fp in patch.files:
        h.update(f"{fp.old_path}\0{fp.new_path}\0".encode("utf-8", "surrogateescape"))
        for hunk in fp.hunks:
            for ln in hunk.lines:
                if ln.kind.value != " ":
                    h.update((ln.kind.value + "".join(ln.text.split())).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def patch_ids(patches: Sequence[Patch]) -> list[str]:
    """``git patch-id --stable`` of every patch (one git call for the queue); a hash of the
    changed lines without whitespace where git gives none (binary or mode-only patches)."""
    feed = []
    for i, p in enumerate(patches):
        feed.append(f"From {i + 1:040x} Mon Sep 17 00:00:00 2001\nSubject: x\n\n---\n")
        feed.append("".join(fp.render() for fp in p.files))
    found: dict[int, str] = {}
    try:
        out = subprocess.run(["git", "patch-id", "--stable"], input="".join(feed).encode("utf-8", "surrogateescape"),
                             capture_output=True, timeout=300, check=False).stdout.decode("ascii", "replace")
        for line in out.splitlines():
            m = RE_PATCH_ID_LINE.match(line.strip())
            if m:
                found[int(m.group(2), 16) - 1] = m.group(1)
    except (OSError, subprocess.SubprocessError):
        pass
    return [found.get(i) or _fallback_patch_id(p) for i, p in enumerate(patches)]


def _text_digest(patch: Patch) -> str:
    h = hashlib.sha256()
    for part in (patch.subject, patch.author, patch.date, patch.body, *patch.upstream_ids,
                 "".join(fp.render() for fp in patch.files)):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def _file_digest(path: str | None) -> str:
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def _dir_digest(paths: Sequence[str]) -> str:
    h = hashlib.sha256()
    for d in paths:
        for p in sorted(Path(d).rglob("*.yaml")) if Path(d).is_dir() else ():
            h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def tree_identity(spec: TreeSpec) -> str:
    from ..target import load_tree

    return load_tree(spec.path, spec.rev).identity()


def options_fingerprint(options: PortOptions, verify: str | None) -> dict[str, Any]:
    """The options as they enter the key (files by their content, not their path)."""
    d = asdict(options)
    d["config"] = _file_digest(options.config)
    d["kb_dirs"] = _dir_digest(options.kb_dirs)
    d["verify"] = verify or ""
    return d


def cell_key(*, patch_id: str, digest: str, before: Sequence[str], identity: str, tree: TreeSpec,
             options: PortOptions, verify: str | None) -> str:
    doc = {"patch_id": patch_id, "digest": digest, "before": list(before), "tree": identity, "arch": tree.arch,
           "options": options_fingerprint(options, verify), "tool": tool_version()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- the cells of a run


def queue_order(series: Series, order: str = "auto") -> str:
    """``series`` or ``independent`` (see the module docstring)."""
    if order in ("series", "independent"):
        return order
    if order != "auto":
        raise UsageError(f"unknown queue order {order!r} (auto, series, independent)")
    patches = [p for p in series.patches if not p.is_cover]
    if len(patches) < 2:
        return "independent"
    numbered = all(p.number is not None and (p.total or 0) > 1 for p in patches)
    same = len({p.total for p in patches}) == 1
    release = any(RE_RELEASE_PREFIX.match(x) for p in patches for x in p.prefixes)
    return "series" if numbered and same and not release else "independent"


def tree_options(base: PortOptions, fleet: Fleet, tree: TreeSpec) -> PortOptions:
    from dataclasses import replace

    return replace(base, config=tree.config or base.config, upstream=fleet.upstream or base.upstream,
                   kb_dirs=tuple(base.kb_dirs) + tuple(d for d in fleet.kb_dirs if d not in base.kb_dirs))


def plan_cells(series: Series, fleet: Fleet, base: PortOptions, *, order: str, verify: str | None,
               identities: dict[str, str]) -> list[CellSpec]:
    """Every cell of the matrix, patch-major (the order rows are shown)."""
    patches = [p for p in series.patches if not p.is_cover]
    ids = patch_ids(patches)
    digests = [_text_digest(p) for p in patches]
    specs = []
    for i, patch in enumerate(patches):
        stacked = order == "series"
        before = ids[:i] if stacked else []
        one = series if stacked else Series(patches=(patch,), origin=series.origin)
        for tree in fleet.trees:
            opts = tree_options(base, fleet, tree)
            key = cell_key(patch_id=ids[i], digest=digests[i], before=[*before, *digests[:i]] if stacked else [],
                           identity=identities[tree.name], tree=tree, options=opts, verify=verify)
            dirname = f"cells/{tree.name}/{patch_file_name(i + 1, patch.subject)[:-len('.patch')]}"
            specs.append(CellSpec(
                key=key, index=i + 1, patch_id=ids[i], tree=tree,
                patches=tuple(patches[:i + 1]) if stacked else (patch,), series=one, options=opts,
                dirname=dirname, verify=verify, prefix_ids=tuple(before), identity=identities[tree.name],
                tool=tool_version()))
    return specs


def _clean_temps(out: Path) -> None:
    """Remove what killed writers left: ``.tmp-*`` (unfinished) and ``.old-*`` (replaced) cell dirs."""
    cells = out / "cells"
    if cells.is_dir():
        for tree_dir in cells.iterdir():
            if tree_dir.is_dir():
                for stale in [*tree_dir.glob(".tmp-*"), *tree_dir.glob(".old-*")]:
                    shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def locked_out(out_dir: str) -> Iterator[Path]:
    """The output directory, held by this run alone; temp dirs of killed writers removed on the
    way in and out (a worker killed mid-cell leaves one)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".triage.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"{out_dir}: another backport triage is writing here") from None
        _clean_temps(out)
        yield out
        _clean_temps(out)
    finally:
        os.close(fd)


def _finished_by_key(out: Path) -> dict[str, Path]:
    """Every finished (non-error) cell under ``out/cells`` by key."""
    found: dict[str, Path] = {}
    for f in sorted(out.glob("cells/*/*/cell.json")):
        if f.parent.name.startswith("."):
            continue
        rec = read_cell(f.parent)
        if rec is not None and rec.get("status") != "error" and isinstance(rec.get("key"), str):
            found.setdefault(rec["key"], f.parent)
    return found


def run_triage(series: Series, fleet: Fleet, out_dir: str, *, options: PortOptions | None = None,
               engine: Any = None, order: str = "auto", verify: str | None = None,
               progress: Callable[[int, int, dict[str, Any] | None], None] | None = None) -> TriageRun:
    """Triage ``series`` on every tree of ``fleet`` into ``out_dir``; reuse finished cells."""
    from .engine import LocalEngine
    from .matrix import write_matrix

    t0 = time.perf_counter()
    base = options or PortOptions()
    eng = engine or LocalEngine(jobs=1)
    if verify == "build":
        import importlib.util

        if importlib.util.find_spec("backport.verify") is None:
            raise UsageError("--verify build needs backport.verify, which this version does not have yet")
        for t in fleet.trees:
            if t.rev is not None:
                raise UsageError(f"--verify build compiles a tree on disk; tree '{t.name}' is read at "
                                 f"rev {t.rev} (check it out and drop rev:)", t.ref)
    chosen = queue_order(series, order)
    with ThreadPoolExecutor(max_workers=min(8, len(fleet.trees))) as pool:
        identities = dict(zip((t.name for t in fleet.trees), pool.map(tree_identity, fleet.trees), strict=True))
    specs = plan_cells(series, fleet, base, order=chosen, verify=verify, identities=identities)
    with locked_out(out_dir) as out:
        records: dict[str, dict[str, Any]] = {}  # by cell directory (a patch may come twice)
        todo: list[CellSpec] = []
        moved: dict[str, Path] | None = None  # key -> finished cell dir, read on the first miss
        for spec in specs:
            old = read_cell(out / spec.dirname)
            if old is not None and old.get("key") == spec.key and old.get("status") != "error":
                records[spec.dirname] = old
                continue
            if moved is None:
                moved = _finished_by_key(out)
            src = moved.get(spec.key)
            adopted = adopt_cell(str(out), spec, src) if src is not None else None
            if adopted is not None:
                records[spec.dirname] = adopted
            else:
                todo.append(spec)
        reused = len(records)
        if progress is not None:
            progress(reused, len(specs), None)

        def done(record: dict[str, Any]) -> None:
            records[record["links"]["dir"]] = record
            if progress is not None:
                progress(len(records), len(specs), record)

        eng.run(todo, str(out), done)
        run = TriageRun(records=[records[s.dirname] for s in specs if s.dirname in records], computed=len(todo),
                        reused=reused, engine=eng.name, workers=eng.workers, order=chosen,
                        tree_identities=identities)
        run.seconds = round(time.perf_counter() - t0, 3)
        write_matrix(out, run, series, fleet, base, verify=verify)
    return run
