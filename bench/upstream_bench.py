"""``--upstream`` on a kernel-size history (stage: bench): seconds per patch, cold and warm.

Inputs: a multi-release git history built from Debian kernel trees (one commit per release,
tagged ``v6.1.176`` ...: ``--build`` makes it from ``../shared/bench/get-tree.sh`` trees), the
target tree (Debian 6.1.187) and a sample of per-commit bench patches (``upstream.patch``).
Outputs: a Markdown table per patch (missing names, prerequisite findings, seconds without
``--upstream``, with it on a cold history cache, and warm, i.e. a new process with the on-disk
answers of the first run) and the medians.

    bench/upstream_bench.py --build              # once: ~6 min and ~1.2 GB for 4 releases
    bench/upstream_bench.py [--sample 12]                       # per-commit cases
    bench/upstream_bench.py --set ../shared/bench/public --label adapted --with-missing

The target's index comes from the usual cache (built once, not timed: the first timed column
is a port without --upstream). Cold = the history answers cache removed; every port runs in
this process, with the in-process caches of backport.upstream cleared between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "bench"
RELEASES = ("6.1.176-1", "6.1.187-1", "6.12.107-1~deb12u1", "6.12.117-1~deb12u1")
KBENCH = Path(os.path.expanduser("~/.cache/kbench"))
# built outside the checkout (1.2 GB), never committed
HISTORY = Path(os.environ.get("BACKPORT_HISTORY") or HERE.parents[1] / "scratch" / "linux-hist")


def build_history(repo: Path, releases: tuple[str, ...]) -> None:
    """One commit per Debian release, tagged ``v<upstream version>``, oldest first."""
    env = dict(os.environ, GIT_AUTHOR_NAME="kbench", GIT_AUTHOR_EMAIL="kbench@example.org",
               GIT_COMMITTER_NAME="kbench", GIT_COMMITTER_EMAIL="kbench@example.org")
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").is_dir():
        subprocess.run(["git", "init", "-q", "-b", "master", str(repo)], check=True)
    for i, version in enumerate(releases, 1):
        tag = "v" + version.split("-", 1)[0]
        if subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify", f"refs/tags/{tag}"],
                          capture_output=True).returncode == 0:
            continue
        tree = subprocess.run(["bash", str(SHARED / "get-tree.sh"), version], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
        start = time.monotonic()
        gitdir = str(repo / ".git")
        # -f: Debian's top-level .gitignore ignores everything but debian/
        subprocess.run(["git", f"--git-dir={gitdir}", "--work-tree=.", "add", "-A", "-f", "."], cwd=tree, check=True)
        subprocess.run(["git", f"--git-dir={gitdir}", "rm", "-q", "--cached", "--ignore-unmatch", ".kbench-complete"],
                       cwd=tree, check=True)
        date = f"2025-{i:02d}-01T00:00:00Z"
        e = dict(env, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", f"Linux {tag} (Debian {version})"], env=e, check=True)
        subprocess.run(["git", "-C", str(repo), "tag", "-a", "-m", f"Linux {tag}", tag], env=e, check=True)
        print(f"{tag}: committed in {time.monotonic() - start:.0f} s", file=sys.stderr)


def sample_cases(set_dir: Path, n: int, *, label: str = "") -> list[Path]:
    """Every case of ``set_dir`` (per-commit or file-level layout: ``<case>/upstream.patch``),
    of one ``label`` when given, C sources only for the file-level set; spread evenly."""
    cases = sorted(p for p in set_dir.iterdir() if (p / "upstream.patch").is_file())
    if label:
        cases = [c for c in cases if json.loads((c / "meta.json").read_text()).get("label") == label]
    cases = [c for c in cases if "__" not in c.name or c.name.endswith((".c", ".h"))]
    step = max(1, len(cases) // n) if n else 1
    return cases[::step] if n else cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, default=HISTORY, help="the history repo (default %(default)s)")
    ap.add_argument("--build", action="store_true", help="build the history repo first")
    ap.add_argument("--releases", default=",".join(RELEASES), help="Debian versions, oldest first")
    ap.add_argument("--tree", type=Path, default=KBENCH / "trees" / "6.1.187-1", help="target tree")
    ap.add_argument("--set", type=Path, default=SHARED / "percommit" / "public", help="per-commit case set")
    ap.add_argument("--sample", type=int, default=12, help="patches to time (0: all)")
    ap.add_argument("--label", default="", help="only cases of this label (identical, adapted)")
    ap.add_argument("--with-missing", action="store_true",
                    help="time only patches whose port without --upstream reports missing names")
    ap.add_argument("--cache", type=Path, default=None, help="index + history cache dir (default: the user's)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    if args.build:
        build_history(args.repo, tuple(args.releases.split(",")))
    if not (args.repo / ".git").is_dir():
        print(f"{args.repo}: no history repo; run with --build", file=sys.stderr)
        return 2

    from backport import upstream
    from backport.index import default_cache_dir
    from backport.ingest import load_series
    from backport.model import PortOptions
    from backport.pipeline import port_series
    from backport.target import DirTree

    cache = args.cache or default_cache_dir()
    tree = DirTree(args.tree)
    extra = {"index-cache": str(cache)}
    rows = []
    for case in sample_cases(args.set, args.sample, label=args.label):
        if args.sample and len(rows) >= args.sample:
            break
        try:
            series = load_series([str(case / "upstream.patch")])
        except Exception as e:  # noqa: BLE001 - a case the tool refuses is not timed
            print(f"{case.name}: skipped ({e})", file=sys.stderr)
            continue
        upstream._CACHES.clear()
        t0 = time.monotonic()
        plain = port_series(series, tree, options=PortOptions(extra=extra))
        t_plain = time.monotonic() - t0
        missing = sorted({f.message.split(":", 1)[0] for r in plain for f in r.findings
                          if f.code in ("missing-symbol", "missing-kconfig", "renamed-symbol")})
        if args.with_missing and not missing:
            continue
        times = []
        for warm in (False, True):
            upstream._CACHES.clear()
            if not warm:
                shutil.rmtree(Path(cache) / "upstream", ignore_errors=True)
            t0 = time.monotonic()
            res = port_series(series, tree, options=PortOptions(upstream=str(args.repo), extra=extra))
            times.append(time.monotonic() - t0)
        prereq = [f.message for r in res for f in r.findings if f.code == "prerequisite-commit"]
        rows.append({"case": case.name, "missing": missing, "prerequisites": prereq, "plain": round(t_plain, 2),
                     "cold": round(times[0], 2), "warm": round(times[1], 2)})
        print(f"{case.name[:50]:50} missing {len(missing):2} prereq {len(prereq):2} "
              f"plain {t_plain:6.2f} cold {times[0]:6.2f} warm {times[1]:6.2f}", file=sys.stderr)
    print("| case | missing names | prerequisite findings | s without --upstream | s cold | s warm |")
    print("|---|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case'][:45]} | {', '.join(r['missing'][:4])}{' ...' if len(r['missing']) > 4 else ''} "
              f"| {len(r['prerequisites'])} | {r['plain']:.2f} | {r['cold']:.2f} | {r['warm']:.2f} |")
    for key in ("plain", "cold", "warm"):
        vals = [r[key] for r in rows]
        print(f"\n{key}: median {statistics.median(vals):.2f} s, mean {statistics.mean(vals):.2f} s, "
              f"max {max(vals):.2f} s per patch ({len(vals)} patches)", end="")
    print()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
