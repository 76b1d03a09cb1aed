"""One cell of the triage matrix (stage: triage): one patch of the queue ported onto one tree.

Inputs: a ``CellSpec`` (the patch, the patches before it when the queue is a series ported in
order, the TreeSpec, PortOptions, the cell key, whether to ``--verify build``).
Outputs: ``run_cell`` returns a ``CellOutcome`` (the PortResult, its rendering inputs and the
matrix record: status, reason, findings counts, seconds per phase) without writing anything;
``write_cell`` writes what ``port --out`` writes plus ``cell.json`` into the cell's directory
atomically (a temp directory renamed into place), so a killed run never leaves half a cell;
``do_cell`` is both, the task an engine runs; ``adopt_cell`` copies a finished cell whose patch
moved in the queue to its new place.

The port is ``pipeline.port_series`` semantics: an independent patch is ported alone onto the
tree; patch N of a series ported in order is ported onto the tree as patches 1..N-1 left it
(an in-memory overlay: their placements only, checks off, which do not change what is written),
with the whole series given to deps as ``port`` gives it. Trees, their indexes and overlays are
kept per worker thread (the index's SQLite handle belongs to the thread that opened it), so a
worker indexes a tree once, not once per cell.

Statuses (first that holds wins; ``reason`` says why in words):
``error`` the cell raised; ``not-applicable`` every hunk is already in the tree, or every file
the patch changes is absent, or lies under another arch's ``arch/`` directory, or (with a
config) is a C/asm file the config does not build; ``needs-prereq`` a hunk is unplaced and an
upstream prerequisite commit is named, or deps reports something missing at error severity;
``conflict`` a hunk is unplaced or held back as doubtful; ``build-failed`` ``--verify build``
raised an error; ``adapted`` every hunk applied, some by fuzz, 3-way, fuzzy, syntax, whitespace,
relocation or with recorded adaptations; ``clean`` every hunk applied exactly or at an offset.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..model import Finding, Method, Patch, PortOptions, PortResult, Series, Severity, TargetTree
from .fleet import TreeSpec, srcarch

STATUSES = ("clean", "adapted", "needs-prereq", "conflict", "not-applicable", "build-failed", "error")
MISSING_CODES = frozenset({"missing-symbol", "missing-kconfig", "renamed-symbol", "missing-file"})
RELOCATED_CODES = frozenset({"relocated-hunk", "relocated-file"})
PLAIN_METHODS = frozenset({Method.EXACT, Method.OFFSET, Method.ALREADY_APPLIED})
CELL_FILE = "cell.json"
CELL_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class CellSpec:
    """Everything a worker needs for one cell (picklable; the tree itself is opened there)."""

    key: str  # resume key: patch id, tree identity, options, tool version
    index: int  # 1-based position of the patch in the queue
    patch_id: str
    tree: TreeSpec
    patches: tuple[Patch, ...]  # in order: the patches ported before (stacked queue), then this one
    series: Series  # what deps sees as "the series" (port_series passes the whole series)
    options: PortOptions
    dirname: str  # cells/<tree>/<NNNN-subject>, relative to the output directory
    verify: str | None = None  # "build" or None
    prefix_ids: tuple[str, ...] = ()  # patch ids of patches[:-1]
    identity: str = ""  # the tree identity the key was made with
    tool: str = ""  # the driver's tool version (a worker running other code refuses the cell)

    @property
    def patch(self) -> Patch:
        return self.patches[-1]


@dataclass(slots=True)
class CellOutcome:
    record: dict[str, Any]
    result: PortResult | None = None
    series: Series | None = None
    extra_findings: tuple[Finding, ...] = ()


# ---------------------------------------------------------------- per worker thread state


class _State(threading.local):
    def __init__(self) -> None:
        self.trees: dict[tuple[str, str | None], tuple[str, TargetTree]] = {}
        self.prefixes: dict[tuple[str, tuple[str, ...]], dict[str, str | None]] = {}
        self.builds: dict[tuple[str, str | None, str], Any] = {}


_STATE = _State()
MAX_PREFIXES = 64


def open_tree(spec: TreeSpec, identity: str = "") -> TargetTree:
    """The tree of ``spec``, opened once per worker thread (its index memo hangs on the object)
    and opened afresh when the driver saw another ``identity`` (the tree changed on disk)."""
    from ..target import load_tree

    k = (spec.path, spec.rev)
    held = _STATE.trees.get(k)
    if held is None or held[0] != identity:
        held = _STATE.trees[k] = (identity, load_tree(spec.path, spec.rev))
    return held[1]


def _overlay_after(spec: CellSpec, tree: TargetTree) -> Any:
    """An overlay of ``tree`` holding what patches ``spec.patches[:-1]`` wrote (cached per prefix)."""
    from ..pipeline import Overlay, port_patch

    overlay = Overlay(tree)
    before = spec.patches[:-1]
    if not before:
        return overlay
    tkey = f"{spec.tree.path}@{spec.tree.rev}@{spec.identity}"
    ids = spec.prefix_ids
    n = len(before)
    while n > 0 and (tkey, tuple(ids[:n])) not in _STATE.prefixes:
        n -= 1
    if n:
        overlay.changes.update(_STATE.prefixes[(tkey, tuple(ids[:n]))])
    quiet = replace(spec.options, checks=False)
    for i in range(n, len(before)):
        r = port_patch(before[i], overlay, options=quiet, series=spec.series)
        overlay.update(r.new_files)
        if len(_STATE.prefixes) >= MAX_PREFIXES:
            _STATE.prefixes.pop(next(iter(_STATE.prefixes)))
        _STATE.prefixes[(tkey, tuple(ids[:i + 1]))] = dict(overlay.changes)
    return overlay


def _prepare_build(spec: CellSpec) -> Any:
    """The tree's prepared out-of-tree build (backport.verify caches it on disk by tree identity,
    arch, config and compiler); memoised per worker thread so a worker asks once per tree."""
    from ..verify import prepare_build

    k = (spec.tree.path, spec.tree.config, spec.tree.arch)
    if k not in _STATE.builds:
        _STATE.builds[k] = prepare_build(spec.tree.path, spec.tree.arch, spec.tree.config)
    return _STATE.builds[k]


def _verify(spec: CellSpec, overlay: Any, result: PortResult, timing: dict[str, float]) -> tuple[Finding, ...]:
    """Compile what the port touches over a scratch overlay of the tree (never the tree itself):
    the files of this patch, plus those the patches before it wrote when the queue is a series."""
    from ..verify import verify_port

    t = time.perf_counter()
    build = _prepare_build(spec)
    timing["prepare"] = time.perf_counter() - t
    t = time.perf_counter()
    files = dict(getattr(overlay, "changes", {}))
    files.update(dict(result.new_files))
    found = tuple(verify_port(build, spec.tree.path, tuple(files.items()), result=result,
                              touched=[p for p, _ in result.new_files], jobs=1))
    timing["verify"] = time.perf_counter() - t
    return found


# ---------------------------------------------------------------- classification


def _absent_everywhere(patch: Patch, tree: TargetTree) -> str | None:
    changed = [fp.old_path for fp in patch.files if fp.old_path is not None]
    if changed and not any(tree.exists(p) for p in changed):
        return f"{changed[0]} is absent from the tree" + (f" (and {len(changed) - 1} more files)" if len(changed) > 1 else "")
    return None


def _other_arch(patch: Patch, arch: str) -> str | None:
    """Every file under arch/X/ with X not the directory this tree's ARCH builds."""
    mine = srcarch(arch)
    dirs = set()
    for fp in patch.files:
        parts = fp.path.split("/")
        if len(parts) < 3 or parts[0] != "arch" or parts[1] == mine:
            return None
        dirs.add(parts[1])
    return f"only arch/{', arch/'.join(sorted(dirs))} changes; ARCH={arch} builds arch/{mine}" if dirs else None


def _not_built(patch: Patch, findings: Sequence[Finding]) -> str | None:
    off = {f.message.split(" is not built", 1)[0] for f in findings if f.code == "not-built"}
    paths = [fp.path for fp in patch.files]
    if off and paths and all(p in off for p in paths):
        first = next(f for f in findings if f.code == "not-built")
        return f"not built with this config: {first.message}"
    return None


def classify(result: PortResult, tree: TargetTree, spec: TreeSpec, *, min_confidence: float,
             build_findings: Sequence[Finding] = ()) -> tuple[str, str]:
    """(status, reason) of a ported patch on one tree; see the module docstring for the order."""
    pl = result.placements
    findings = result.findings
    if pl and all(p.method is Method.ALREADY_APPLIED and p.confidence >= min_confidence for p in pl):
        return "not-applicable", "already present in the tree"
    unplaced = [p for p in pl if not p.placed]
    held = [p for p in pl if p.placed and not p.applied and p.method is not Method.ALREADY_APPLIED]
    if not any(p.applied for p in pl):
        why = _absent_everywhere(result.patch, tree) or _other_arch(result.patch, spec.arch)
        if why:
            return "not-applicable", why
    why = _other_arch(result.patch, spec.arch) or _not_built(result.patch, findings)
    if why:
        return "not-applicable", why
    prereq = [f for f in findings if f.code == "prerequisite-commit"]
    missing = [f for f in findings if f.code in MISSING_CODES and f.severity is Severity.ERROR]
    if (unplaced or held) and prereq:
        return "needs-prereq", prereq[0].message
    if unplaced or held:
        return "conflict", (f"{len(unplaced)} of {len(pl)} hunks unplaced" if unplaced else
                            f"{len(held)} of {len(pl)} hunks held back as doubtful")
    if missing or prereq:
        return "needs-prereq", (missing or prereq)[0].message
    errors = [f for f in build_findings if f.severity is Severity.ERROR]
    if errors:
        return "build-failed", errors[0].message
    changed = [p for p in pl if p.applied and (p.method not in PLAIN_METHODS or p.adaptations)]
    if changed or any(f.code in RELOCATED_CODES for f in findings):
        methods = sorted({p.method.value for p in changed} | ({"adapted"} if any(p.adaptations for p in changed) else set()))
        return "adapted", f"{len(changed)} of {len(pl)} hunks changed to fit ({', '.join(methods) or 'relocated'})"
    if not pl:
        return "clean", "nothing to place"
    return "clean", f"{len(pl)} hunks applied as they are"


# ---------------------------------------------------------------- running and writing


def _counts(findings: Sequence[Finding]) -> dict[str, Any]:
    sev = Counter(str(f.severity) for f in findings)
    return {"error": sev.get("error", 0), "warning": sev.get("warning", 0), "note": sev.get("note", 0),
            "codes": dict(sorted(Counter(f.code for f in findings).items()))}


def _links(dirname: str, result: PortResult | None) -> dict[str, str]:
    links = {"dir": dirname, "report": f"{dirname}/report.html", "json": f"{dirname}/report.json",
             "checklist": f"{dirname}/checklist.md"}
    if result is not None and result.text:
        links["patch"] = f"{dirname}/series.mbox"
    return links


def base_record(spec: CellSpec) -> dict[str, Any]:
    return {"patch": spec.index, "patch_id": spec.patch_id, "subject": spec.patch.subject, "tree": spec.tree.name,
            "key": spec.key}


def run_cell(spec: CellSpec) -> CellOutcome:
    """Port one patch onto one tree and classify it. Pure: reads the tree, writes nothing."""
    from .. import deps
    from ..pipeline import port_patch

    t0 = time.perf_counter()
    timing = {"open": 0.0, "index": 0.0, "port": 0.0, "prepare": 0.0, "verify": 0.0}
    record = base_record(spec)
    try:
        from .run import tool_version

        if spec.tool and spec.tool != tool_version():
            raise RuntimeError(f"this worker runs backport {tool_version()}, the driver {spec.tool}: "
                               "install the same version on every worker")
        tree = open_tree(spec.tree, spec.identity)
        timing["open"] = time.perf_counter() - t0
        if spec.options.checks:
            t = time.perf_counter()
            deps.get_index(tree, spec.options)
            timing["index"] = time.perf_counter() - t
        t = time.perf_counter()
        overlay = _overlay_after(spec, tree)
        result = port_patch(spec.patch, overlay, options=spec.options, series=spec.series)
        timing["port"] = time.perf_counter() - t
        build: tuple[Finding, ...] = ()
        if spec.verify == "build":
            build = _verify(spec, overlay, result, timing)
            result = replace(result, findings=result.findings + build)
        status, reason = classify(result, tree, spec.tree, min_confidence=spec.options.min_confidence,
                                  build_findings=build)
    except Exception as e:  # noqa: BLE001 - a cell that raises is an "error" cell, the run goes on
        record.update(status="error", reason=f"{type(e).__name__}: {e}", port_status="",
                      findings=_counts(()), hunks={"total": 0, "applied": 0},
                      seconds=round(time.perf_counter() - t0, 4),
                      timing={k: round(v, 4) for k, v in timing.items()},
                      links={"dir": spec.dirname}, traceback=traceback.format_exc(limit=8))
        return CellOutcome(record)
    record.update(
        status=status, reason=reason, port_status=result.status.value, findings=_counts(result.findings),
        hunks={"total": len(result.placements), "applied": sum(1 for p in result.placements if p.applied)},
        seconds=round(time.perf_counter() - t0, 4), timing={k: round(v, 4) for k, v in timing.items()},
        links=_links(spec.dirname, result))
    return CellOutcome(record, result, Series(patches=(spec.patch,), origin=spec.series.origin))


def _commit(tmp: Path, final: Path) -> None:
    """Put the finished temp directory ``tmp`` in place of ``final`` (renames only)."""
    os.chmod(tmp, 0o755)
    trash = None
    if final.exists():
        trash = final.with_name(f".old-{final.name}.{os.getpid()}")
        os.rename(final, trash)
    os.rename(tmp, final)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _cell_json(record: dict[str, Any]) -> str:
    return json.dumps({"schema_version": CELL_SCHEMA_VERSION, **record}, indent=1, sort_keys=True) + "\n"


def write_cell(out_dir: str, spec: CellSpec, outcome: CellOutcome) -> dict[str, Any]:
    """Write the cell's files into ``out_dir/spec.dirname`` all at once; return its record."""
    from ..render.output import write_atomic, write_outputs

    final = Path(out_dir) / spec.dirname
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}.", dir=final.parent))
    try:
        t = time.perf_counter()
        if outcome.result is not None and outcome.series is not None:
            write_outputs((outcome.result,), outcome.series, str(tmp))
        outcome.record.setdefault("timing", {})["render"] = round(time.perf_counter() - t, 4)
        write_atomic(tmp / CELL_FILE, _cell_json(outcome.record))
        _commit(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outcome.record


def adopt_cell(out_dir: str, spec: CellSpec, src: Path) -> dict[str, Any] | None:
    """Reuse a finished cell with ``spec``'s key found under another directory (the patch moved
    in the queue): copy it to ``spec.dirname`` with its record renumbered; None if unreadable."""
    from ..render.output import write_atomic

    record = read_cell(src)
    if record is None or record.get("key") != spec.key:
        return None
    final = Path(out_dir) / spec.dirname
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}.", dir=final.parent))
    try:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        old = record.get("links", {}).get("dir", "")
        record["links"] = {k: spec.dirname + v[len(old):] if old and v.startswith(old) else v
                           for k, v in record.get("links", {}).items()}
        record["links"]["dir"] = spec.dirname
        record.update(patch=spec.index, subject=spec.patch.subject)
        write_atomic(tmp / CELL_FILE, _cell_json(record))
        _commit(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return record


def do_cell(spec: CellSpec, out_dir: str) -> dict[str, Any]:
    """The engine task: run the cell and commit it to disk; the record goes back to the driver.
    Idempotent: a cell already committed with this key is returned as it is (Dask runs a task
    again when the worker holding its result died before the driver fetched it)."""
    done = read_cell(Path(out_dir) / spec.dirname)
    if done is not None and done.get("key") == spec.key and done.get("status") != "error":
        return done
    return write_cell(out_dir, spec, run_cell(spec))


def read_cell(path: Path) -> dict[str, Any] | None:
    """The record of a finished cell directory, or None when it holds none (or a broken one)."""
    try:
        doc = json.loads((path / CELL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema_version") != CELL_SCHEMA_VERSION:
        return None
    doc.pop("schema_version", None)
    return doc


