"""Index and deps benchmark (stage: target + deps) on a real kernel tree and the shared bench.

Inputs: a kernel tree (default the Debian 6.1.187 tree of ../shared/bench/get-tree.sh), the
bench cases (default both sets: ``../shared/bench/public/*/upstream.patch``, the file-level
twins, and ``../shared/bench/percommit/public/*``, one stable commit each, whose ``pre/`` files
are laid over the tree as the pipeline's overlay). Outputs (stdout, JSON with ``--json``): tree
identity time, whole-index build time (wall and CPU of all processes), cached load time in a
fresh process, per-patch deps time (warm), and per set the false-alarm rate of deps on the
cases labelled ``identical`` (the human backport changed the same lines, so a warning or error
there needs a reason: in the file-level set a fix's other files are separate cases, so a name a
sibling file of the same fix adds is truly missing from the one file; see --show).

    python bench/index_bench.py [--tree DIR] [--cache DIR] [--rebuild] [--cases N] [--json F]
                                [--bench DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_TREE = os.path.expanduser("~/.cache/kbench/trees/6.1.187-1")
SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
DEFAULT_BENCH = [str(SHARED_BENCH / "public"), str(SHARED_BENCH / "percommit" / "public")]


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=DEFAULT_TREE)
    ap.add_argument("--cache", default=None, help="index cache dir (default ~/.cache/backport)")
    ap.add_argument("--bench", action="append", default=None,
                    help="a case directory set (repeatable; default: the public and percommit sets)")
    ap.add_argument("--rebuild", action="store_true", help="build the index even if cached")
    ap.add_argument("--cases", type=int, default=0, help="only the first N cases (0 = all)")
    ap.add_argument("--json", default=None, help="write per-case findings here")
    ap.add_argument("--show", type=int, default=20, help="print this many false alarms")
    ap.add_argument("--upstream", default=None, help="upstream tree or git repo (e.g. the 6.12.107 tree)")
    ap.add_argument("--index", choices=("whole", "lazy"), default="whole",
                    help="deps on the whole cached index, or on a lazy partial one grown case after case")
    args = ap.parse_args(argv)

    from backport.deps import check_patch
    from backport.index import load_index, tree_key
    from backport.ingest import parse_series_bytes
    from backport.model import PortOptions
    from backport.target import DirTree

    tree = DirTree(args.tree)
    t0 = time.perf_counter()
    tree_key(tree)
    key_s = time.perf_counter() - t0
    print(f"tree identity (directory mtimes): {key_s:.3f} s")

    cpu0, t0 = _cpu(), time.perf_counter()
    idx = load_index(tree, cache_dir=args.cache, rebuild=args.rebuild)
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    print(f"index {'loaded from cache' if idx.cached else 'built'}: {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"(all processes; /2 = {cpu / 2:.1f} s on 2 idle cores) {idx.stats_cached()}")

    code = ("import time,sys; t=time.perf_counter(); from backport.index import load_index; "
            "from backport.target import DirTree; i=load_index(DirTree(sys.argv[1]), cache_dir=sys.argv[2] or None); "
            "i.has('kmalloc'); print(time.perf_counter()-t, i.cached)")
    out = subprocess.run([sys.executable, "-c", code, args.tree, args.cache or ""], capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"cached index load in a fresh process (identity + open + first query): {float(out[0]):.3f} s ({out[1]})")

    extra = {"deps-index": args.index}
    if args.cache:
        extra["index-cache"] = args.cache
    opts = PortOptions(upstream=args.upstream, extra=extra)
    rows, times, alarms = [], [], []
    per_set: dict[str, list[int]] = {}  # set -> [identical cases, flagged, findings]
    for bench in args.bench or DEFAULT_BENCH:
        cases = sorted(p for p in Path(bench).iterdir() if (p / "upstream.patch").exists())
        if args.cases:
            cases = cases[: args.cases]
        counts = per_set.setdefault(bench, [0, 0, 0])
        for case in cases:
            meta = json.loads((case / "meta.json").read_text())
            series = parse_series_bytes((case / "upstream.patch").read_bytes(), origin=str(case / "upstream.patch"))
            view = _with_pre(tree, case / "pre") if (case / "pre").is_dir() else tree
            t0 = time.perf_counter()
            found = []
            for patch in series.patches:
                found.extend(check_patch(patch, view, series=series, options=opts))
            times.append(time.perf_counter() - t0)
            serious = [f for f in found if f.severity.name in ("WARNING", "ERROR")]
            if meta["label"] == "identical":
                counts[0] += 1
                if serious:
                    counts[1] += 1
                    counts[2] += len(serious)
                    alarms.extend((case.name, f) for f in serious)
            rows.append({"set": bench, "case": case.name, "label": meta["label"], "seconds": round(times[-1], 4),
                         "findings": [{"code": f.code, "severity": str(f.severity), "message": f.message,
                                       "ref": str(f.ref), "evidence": list(f.evidence)} for f in found]})
    if times and args.index == "lazy":
        print(f"lazy: first case (partial index of include/, arch/*/include, Kconfig, Kbuild, its dirs) "
              f"{times[0]:.2f} s")
    times.sort()
    if times:
        print(f"deps per patch (warm): median {times[len(times) // 2] * 1000:.1f} ms, "
              f"p95 {times[int(len(times) * 0.95)] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms over {len(times)} cases")
    missing = [f for r in rows for f in r["findings"] if f["code"] in ("missing-symbol", "missing-kconfig",
                                                                        "renamed-symbol")]
    if args.upstream and missing:
        located = sum(1 for f in missing if any(e.startswith("upstream ") for e in f["evidence"]))
        print(f"upstream: {located}/{len(missing)} missing pieces located in {args.upstream}")
    for bench, (n_ident, ident_flagged, n_found) in per_set.items():
        if n_ident:
            print(f"{bench}: 'identical' cases with a warning/error: {ident_flagged}/{n_ident} "
                  f"({100 * ident_flagged / n_ident:.1f}%), {n_found} findings")
    for name, f in alarms[: args.show]:
        print(f"  {name}: {f.code}: {f.message} [{f.evidence[0] if f.evidence else ''}]")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def _with_pre(tree, pre: Path):  # noqa: ANN001, ANN202
    """The tree with a percommit case's ``pre/`` files laid over it (the pipeline's overlay, so
    deps indexes the tree once and reads the case's files through the overlay)."""
    from backport.pipeline import Overlay

    view = Overlay(tree)
    for f in pre.rglob("*"):
        if f.is_file():
            view.changes[f.relative_to(pre).as_posix()] = f.read_text(encoding="utf-8", errors="surrogateescape")
    return view


if __name__ == "__main__":
    sys.exit(main())
