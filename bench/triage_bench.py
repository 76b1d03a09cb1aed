#!/usr/bin/env python3
"""Triage benchmark (stage: triage): cells per second, local pool vs a Dask LocalCluster.

Inputs: the per-commit queue (every ``upstream.patch`` of ``../shared/bench/percommit/public``,
an independent stable queue) and two real trees (default: the Debian 6.1.187 and 6.12.107
trees of ``~/.cache/kbench/trees``). Outputs: a Markdown table on stdout: for each engine the
wall time, cells per second, and the share of the summed cell time spent opening the tree,
loading or building its index, placing hunks, running the checks (deps, kb), preparing the
tree's build directory and compiling the port (``--verify build``) and writing the cell; then the status matrix summary.

How the shares are measured: each cell records its own phases (open, index, port, verify,
render; see matrix.schema.json ``timing``). ``port`` is placement plus checks; to split them,
the same cells are ported once more in this process with checks off (placement only, warm
index) and ``checks = port - placement`` per cell. Every engine run starts from an empty output
directory (no cell reused). The index cache is the bench's own (``--cache``, default
``~/.cache/backport-triage-bench``: other runs on the machine prune the shared one), so the
first run pays the whole-tree index builds (~45 CPU-seconds per tree) and is marked ``cold``;
the default engine list starts with a local run for that reason. Usage::

    nice bench/triage_bench.py                        # local (cold or warm), local, dask x2
    nice bench/triage_bench.py --engines local --jobs 1
    nice bench/triage_bench.py --verify --limit 4     # with --verify build (make prepare once per tree)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

QUEUE = ROOT.parent / "shared" / "bench" / "percommit" / "public"
TREES = Path.home() / ".cache" / "kbench" / "trees"
DEFAULT_TREES = ("6.1.187-1", "6.12.107-1~deb12u1")


def _fleet(names: list[str], tmp: Path) -> Path:
    f = tmp / "fleet.yaml"
    lines = ["trees:"]
    for n in names:
        lines += [f"  - name: {n.replace('~', '_')}", f"    path: {TREES / n}", "    arch: x86_64"]
    f.write_text("\n".join(lines) + "\n")
    return f


def _placement_seconds(series, fleet, records) -> dict[tuple[int, str], float]:  # noqa: ANN001
    """Placement alone (checks off, warm), per cell, in this process."""
    from backport.model import PortOptions
    from backport.pipeline import port_patch
    from backport.target import load_tree

    patches = [p for p in series.patches if not p.is_cover]
    out = {}
    for t in fleet.trees:
        tree = load_tree(t.path, t.rev)
        opts = PortOptions(config=t.config, checks=False)
        for r in records:
            if r["tree"] != t.name:
                continue
            t0 = time.perf_counter()
            port_patch(patches[r["patch"] - 1], tree, options=opts)
            out[r["patch"], t.name] = time.perf_counter() - t0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queue", default=str(QUEUE), help="a percommit case directory (default shared/bench/percommit/public)")
    ap.add_argument("--trees", nargs="+", default=list(DEFAULT_TREES), help="names under ~/.cache/kbench/trees")
    ap.add_argument("--engines", default="local,local,dask", help="comma list of local, dask")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N patches")
    ap.add_argument("--verify", action="store_true", help="--verify build (compiles each port; slow)")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "backport-triage-bench"),
                    help="XDG_CACHE_HOME for the run: index and build caches (a fresh dir pays the builds)")
    args = ap.parse_args()

    import os

    from backport.ingest import load_series
    from backport.triage import DaskEngine, LocalEngine, load_fleet, run_triage

    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    os.environ["XDG_CACHE_HOME"] = args.cache
    cases = sorted(p for p in Path(args.queue).glob("*/upstream.patch"))
    if args.limit:
        cases = cases[:args.limit]
    series = load_series([str(p) for p in cases])
    fleet = load_fleet(str(_fleet(args.trees, tmp)))
    ncells = len(series.patches) * len(fleet.trees)
    print(f"queue: {len(series.patches)} patches ({args.queue}); trees: {', '.join(args.trees)}; "
          f"{ncells} cells; jobs {args.jobs}; verify {'build' if args.verify else 'none'}\n")
    rows = []
    last = None
    for i, name in enumerate(args.engines.split(",")):
        engine = LocalEngine(jobs=args.jobs) if name == "local" else DaskEngine(jobs=args.jobs, processes=True)
        t0 = time.perf_counter()
        run = run_triage(series, fleet, str(tmp / f"out-{i}-{name}"), engine=engine,
                         verify="build" if args.verify else None)
        wall = time.perf_counter() - t0
        phases = Counter()
        for r in run.records:
            for k, v in r.get("timing", {}).items():
                phases[k] += v
        cold = any(r.get("timing", {}).get("index", 0) > 5 for r in run.records)
        rows.append((f"{name} ({'cold' if cold else 'warm'} index)", wall, run, phases))
        last = run
    place = _placement_seconds(series, fleet, last.records) if last else {}
    placement = sum(place.values())
    print("| engine | workers | wall s | cells/s | summed cell s | open | index | placement | checks | prepare | build "
          "| write | per cell median s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, wall, run, ph in rows:
        total = sum(ph.values()) or 1.0
        checks = max(ph["port"] - placement, 0.0)
        pl = min(placement, ph["port"])
        share = {k: 100 * v / total for k, v in (("open", ph["open"]), ("index", ph["index"]), ("placement", pl),
                                                 ("checks", checks), ("prepare", ph["prepare"]), ("build", ph["verify"]),
                                                 ("write", ph["render"]))}
        med = statistics.median(r["seconds"] for r in run.records) if run.records else 0.0
        print(f"| {name} | {run.workers} | {wall:.1f} | {len(run.records) / wall:.2f} | {total:.1f} | "
              + " | ".join(f"{share[k]:.0f}%" for k in ("open", "index", "placement", "checks", "prepare", "build",
                                                        "write"))
              + f" | {med:.3f} |")
    if last is not None:
        print("\nstatuses per tree:")
        for t in fleet.trees:
            c = Counter(r["status"] for r in last.records if r["tree"] == t.name)
            print(f"- {t.name}: " + ", ".join(f"{n} {s}" for s, n in c.most_common()))
        same = all(replace_timing(a) == replace_timing(b) for a, b in zip(rows[0][2].records, rows[-1][2].records, strict=True))
        print(f"\nmatrix identical across engines: {same}")
    print(f"\noutputs in {tmp}")
    return 0


def replace_timing(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("seconds", "timing")}


if __name__ == "__main__":
    sys.exit(main())
