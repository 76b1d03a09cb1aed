"""``--verify build`` on a real Debian tree (stage: bench): prepare time, seconds per cell, and
how many human backports compile against how many of the tool's ports.

Inputs: the per-commit case set (``../shared/bench/percommit/public``: upstream.patch, pre/,
post/, meta.json), the Debian tree ``old_tree`` of each case, a .config (default: the arch's
defconfig; ``--config`` takes e.g. Debian's ``config.amd64_none_amd64`` from the
``linux-config-6.1`` package, which builds most drivers). Outputs: a Markdown table per case
and a summary.

Per case, three builds of the objects the case touches, each over the tree with ``pre/`` laid
under it (the case's 6.1 files): ``pre`` itself (the reference), ``post/`` (the human
backport: the control, it must compile) and the tool's port of ``upstream.patch``
(``port_patch`` onto the case tree, as bench/percommit.py does). A result *compiles* when it
raises no ``build-error``; warnings are counted when the reference does not give them.
``build-skipped`` (the config does not build the object) is shown as "not built".

    bench/verify_bench.py [--config FILE] [--only CASE ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SHARED = HERE.parents[1] / "shared" / "bench"
KBENCH = Path.home() / ".cache" / "kbench" / "trees"


def _arch_of(paths: list[str], default: str) -> str:
    for p in paths:
        parts = p.split("/")
        if len(parts) > 2 and parts[0] == "arch" and parts[1] in ("arm64", "arm", "riscv", "powerpc", "s390"):
            return parts[1]
    return default


def _summary(findings: list, ref_warnings: set[str]) -> tuple[str, int, list[str]]:
    errors = [f.message for f in findings if f.code == "build-error"]
    warnings = [f.message for f in findings if f.code == "build-warning" and _norm(f.message) not in ref_warnings]
    skipped = [f for f in findings if f.code == "build-skipped" and "not compiled" in f.message]
    state = "error" if errors else ("not built" if skipped and not [f for f in findings if f.code != "build-skipped"]
                                    else "ok")
    return state, len(warnings), errors[:2]


def _norm(message: str) -> str:
    import re

    return re.sub(r":\d+(:\d+)?", "", message)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", type=Path, default=SHARED / "percommit" / "public")
    ap.add_argument("--trees", type=Path, default=KBENCH)
    ap.add_argument("--arch", default="x86_64")
    ap.add_argument("--config", default=None, help=".config for x86_64 (default: defconfig)")
    ap.add_argument("--cache", default=None, help="build cache dir (default: the user's)")
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from percommit import _files, case_tree, load_cases

    from backport.ingest import load_series
    from backport.model import PortOptions
    from backport.pipeline import port_patch
    from backport.target import decode
    from backport.verify import prepare_build, verify_port

    builds = {}
    rows = []
    for case in load_cases(args.set, only=args.only):
        d = Path(case["dir"])
        tree_path = str(args.trees / case["old_tree"])
        pre = {p: decode(b) for p, b in _files(d / "pre").items()}
        post = {p: decode(b) for p, b in _files(d / "post").items()}
        human_touched = sorted(p for p in set(pre) | set(post) if pre.get(p) != post.get(p))
        arch = _arch_of(human_touched, args.arch)
        key = (tree_path, arch)
        if key not in builds:
            t0 = time.monotonic()
            builds[key] = prepare_build(tree_path, arch, args.config if arch == args.arch else None, args.cache)
            print(f"prepare {case['old_tree']} {arch}: {time.monotonic() - t0:.1f} s "
                  f"(cold {builds[key].seconds:.1f} s)", file=sys.stderr)
        bd = builds[key]
        row = {"case": case["id"], "label": case["label"], "arch": arch}
        t0 = time.monotonic()
        ref = verify_port(bd, tree_path, list(pre.items()), touched=human_touched)
        ref_warn = {_norm(f.message) for f in ref if f.code == "build-warning"}
        row["ref"] = _summary(ref, set())[0]
        human_files = {**pre, **post, **{p: None for p in pre if p not in post}}
        t1 = time.monotonic()
        row["human"], row["human_warnings"], row["human_errors"] = _summary(
            verify_port(bd, tree_path, list(human_files.items()), touched=human_touched), ref_warn)
        row["seconds_cell"] = round(time.monotonic() - t1, 2)
        series = load_series([str(d / "upstream.patch")])
        patch = series.patches[0]
        target, _ = case_tree(__import__("backport.target", fromlist=["DirTree"]).DirTree(tree_path), case, patch)
        r = port_patch(patch, target, options=PortOptions(upstream=str(d / "base") if (d / "base").is_dir() else None),
                       series=series)
        if not r.new_files or not r.text:
            row["tool"], row["tool_warnings"], row["tool_errors"] = "no port", 0, []
        else:
            tool_files = {**pre, **dict(r.new_files)}
            row["tool"], row["tool_warnings"], row["tool_errors"] = _summary(
                verify_port(bd, tree_path, list(tool_files.items()), result=r, touched=[p for p, _ in r.new_files]),
                ref_warn)
        row["tool_status"] = r.status.value
        row["seconds_total"] = round(time.monotonic() - t0, 2)
        rows.append(row)
        print(f"{case['id'][:50]:50} ref {row['ref']:9} human {row['human']:9} tool {row['tool']:9} "
              f"({row['seconds_total']:.1f} s)", file=sys.stderr)

    print("| case | label | arch | pre (reference) | human backport | tool's port | port status | s/cell |")
    print("|---|---|---|---|---|---|---|---:|")
    for r in rows:
        hw = f" (+{r['human_warnings']} warn)" if r["human_warnings"] else ""
        tw = f" (+{r['tool_warnings']} warn)" if r["tool_warnings"] else ""
        print(f"| {r['case'][:45]} | {r['label']} | {r['arch']} | {r['ref']} | {r['human']}{hw} | {r['tool']}{tw} "
              f"| {r['tool_status']} | {r['seconds_cell']:.1f} |")
    built = [r for r in rows if r["human"] != "not built"]
    print(f"\nhuman backports compiling: {sum(r['human'] == 'ok' for r in built)} of {len(built)} built "
          f"({len(rows) - len(built)} not built by the config)")
    tool_built = [r for r in rows if r["tool"] not in ("not built", "no port")]
    print(f"tool's ports compiling: {sum(r['tool'] == 'ok' for r in tool_built)} of {len(tool_built)} built "
          f"({sum(r['tool'] == 'no port' for r in rows)} no port, {sum(r['tool'] == 'not built' for r in rows)} not built)")
    secs = [r["seconds_cell"] for r in rows]
    if secs:
        print(f"seconds per cell (one verify_port): median {statistics.median(secs):.1f}, max {max(secs):.1f}")
    for k, bd in builds.items():
        print(f"build dir {k[1]} {bd.config}: prepare {bd.seconds:.1f} s (0 = cached)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
