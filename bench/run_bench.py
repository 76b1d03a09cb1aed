#!/usr/bin/env python3
"""The real-backport benchmark (stage: all): backport and the baselines on shared/bench cases.

Inputs: a kbench case set (``../shared/bench/public``: MANIFEST.json, <id>/upstream.patch,
meta.json), the old 6.1 target tree and, optionally, the upstream 6.12 base tree.
Outputs: one output folder per tool (<id>.patch | <id>.file | <id>.refused [+ <id>.flagged],
timings.json), score.py's table, time per case (median, p90) and, with --results, a Markdown
RESULTS.md.

``--sets public,percommit`` (default both) also runs the per-commit set
(``../shared/bench/percommit/public``, bench/percommit.py: multi-file cases, the Debian tree with
each case's pre/ laid over it, base/ as the upstream base). ``--no-base`` runs backport without
the upstream base on both sets. The public table gains an ``adapted/token`` row (bench/ctokens.py:
adapted cases whose +/- lines differ from upstream's only in a few tokens per corresponding line;
derived from expected.patch, for reporting only). ``--results FILE`` replaces only this run's
sections of FILE (public or percommit, with or without the base) and keeps the others.

backport runs in-process on one loaded tree (file reads are lazy; nothing hashes the tree per
case). Baselines: ``git apply``, ``patch -p1 --fuzz=2``, ``wiggle --replace`` (when installed)
and ``git merge-file`` with the upstream base.

backport's answer per case: a ``.patch`` (the regenerated diff) when every hunk was applied, or
when the only hunks left out fit nowhere in the target (dropped as not applicable there, which
raises an ERROR finding); ``.flagged`` beside it when any WARNING or ERROR finding was raised
(what ``--fail-on warning`` turns into exit 1); ``.refused`` when a hunk was placed but held back
as doubtful (ambiguous, low confidence, deleting lines the target does not have). Usage::

    bench/run_bench.py                       # everything, ~minutes
    bench/run_bench.py --no-base --no-baselines --results bench/RESULTS.md
    bench/run_bench.py --sets percommit -v
    bench/run_bench.py --cases 100 --no-baselines
    bench/run_bench.py --only drivers__usb__core__hub.c -v
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SET = ROOT.parent / "shared" / "bench" / "public"
DEFAULT_PERCOMMIT = ROOT.parent / "shared" / "bench" / "percommit" / "public"
CACHE = Path(os.path.expanduser("~/.cache/kbench"))
DEFAULT_TREE = CACHE / "trees" / "6.1.187-1"
DEFAULT_BASE = CACHE / "trees" / "6.12.107-1~deb12u1"
BASELINES = ("git-apply", "patch-fuzz2", "wiggle", "merge-file")


# ---------------------------------------------------------------- cases


def load_cases(set_dir: Path, *, only: list[str], limit: int | None) -> list[dict]:
    man = json.loads((set_dir / "MANIFEST.json").read_text())
    cases = []
    for c in man["cases"]:
        if only and c["id"] not in only:
            continue
        meta = json.loads((set_dir / c["id"] / "meta.json").read_text())
        cases.append({"id": c["id"], "path": meta["path"], "dir": str(set_dir / c["id"]),
                      "label": meta["label"], "base_version": meta["upstream_versions"]["old_debian"]})
    if limit is not None:
        step = max(1, len(cases) // limit)  # a spread sample, not the first N alphabetically
        cases = cases[::step][:limit]
    return cases


# ---------------------------------------------------------------- backport, in-process


_STATE: dict[str, object] = {}


def _init_tool(tree: str, base: str | None, checks: bool, policy: str = "drop-unplaced",
               min_confidence: float = 0.8) -> None:
    from backport.model import PortOptions
    from backport.target import DirTree

    _STATE["tree"] = DirTree(tree)
    _STATE["options"] = PortOptions(upstream=base, checks=checks, min_confidence=min_confidence)
    _STATE["policy"] = policy


def _load_patch(case: dict):
    from backport.model import Patch, Series
    from backport.series import parse_diff

    path = Path(case["dir"]) / "upstream.patch"
    try:
        from backport.ingest import load_series

        series = load_series([str(path)])
        if series.patches:
            return series.patches[0], series
    except ImportError:
        pass
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    files = parse_diff(text, origin=str(path))
    patch = Patch(subject="update " + ", ".join(f.path for f in files), files=files, diff_text=text)
    return patch, Series(patches=(patch,), origin=(str(path),))


def run_tool_case(case: dict, out: str) -> tuple[str, float, str]:
    """Port one case; write its output; return (id, seconds, outcome word)."""
    from backport.model import Severity
    from backport.pipeline import is_settled, port_patch

    cid, o = case["id"], Path(out)
    t0 = time.perf_counter()
    try:
        patch, series = _load_patch(case)
        r = port_patch(patch, _STATE["tree"], options=_STATE["options"], series=series)  # type: ignore[arg-type]
    except Exception as e:  # noqa: BLE001 - a crash is recorded as a refusal, and shown
        secs = time.perf_counter() - t0
        (o / f"{cid}.refused").write_text(f"crash: {type(e).__name__}: {e}\n{traceback.format_exc()}")
        return cid, secs, "crash"
    secs = time.perf_counter() - t0
    opts = _STATE["options"]
    held = [p for p in r.placements if not is_settled(p, min_confidence=opts.min_confidence)]  # type: ignore[attr-defined]
    report = "\n".join(f"{f.severity}: {f.code}: {f.message}" + "".join(f"\n    {e}" for e in f.evidence)
                       for f in r.findings)
    pl = "\n".join(f"hunk {p.file_index}.{p.hunk_index}: {p.method.value} {p.path}:{p.start} "
                   f"conf {p.confidence:.2f} applied={p.applied}" for p in r.placements)
    policy = _STATE.get("policy", "drop-unplaced")
    doubtful = [p for p in held if p.placed]  # placed somewhere, but held back as doubtful
    refuse = {"strict": bool(held), "drop-unplaced": bool(doubtful), "partial": False}[str(policy)]
    if refuse or not r.text:
        why = "hunks not applied" if held else "nothing to apply"
        (o / f"{cid}.refused").write_text(f"{why}\n{pl}\n{report}\n{r.leftovers}")
        return cid, secs, "refused"
    (o / f"{cid}.patch").write_text(r.text, encoding="utf-8", errors="surrogateescape")
    if held or any(f.severity >= Severity.WARNING for f in r.findings):
        (o / f"{cid}.flagged").write_text(f"{pl}\n{report}\n")
        return cid, secs, "flagged"
    return cid, secs, "patch"


# ---------------------------------------------------------------- baselines


def _run(cmd: list[str], cwd: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, check=False,
                          env={**os.environ, "GIT_CEILING_DIRECTORIES": str(Path(cwd).parent)})


def run_baseline_case(args: tuple[str, dict, str, str, str | None]) -> tuple[str, str, float]:
    tool, case, out, tree, base = args
    cid, rel = case["id"], case["path"]
    o = Path(out)
    patch = (Path(case["dir"]) / "upstream.patch").read_bytes()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"kb-{tool}-") as td:
        f = Path(td) / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tree) / rel, f)
        pf = Path(td) / "upstream.patch"
        pf.write_bytes(patch)
        if tool == "git-apply":
            p = _run(["git", "apply", "--whitespace=nowarn", f"--include={rel}", str(pf)], td)
            ok = p.returncode == 0
        elif tool == "patch-fuzz2":
            p = _run(["patch", "-p1", "--fuzz=2", "--no-backup-if-mismatch", "-N", "-s", "-r", "-", "-i",
                      str(pf)], td)
            ok = p.returncode == 0
        elif tool == "wiggle":
            p = _run(["wiggle", "--replace", str(f), str(pf)], td)
            ok = p.returncode == 0
        else:  # merge-file: ours = old 6.1, base = old 6.12, theirs = new 6.12
            if base is None or not (Path(base) / rel).is_file():
                (o / f"{cid}.refused").write_text("no upstream base")
                return tool, cid, time.perf_counter() - t0
            b = Path(td) / "base"
            b.mkdir()
            bf = b / rel
            bf.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(base) / rel, bf)
            ap = _run(["git", "apply", "--whitespace=nowarn", str(pf)], str(b))
            theirs = Path(td) / "theirs"
            if ap.returncode != 0:
                ok = False
            else:
                shutil.copyfile(bf, theirs)
                shutil.copyfile(Path(base) / rel, bf)
                p = _run(["git", "merge-file", str(f), str(bf), str(theirs)], td)
                ok = p.returncode == 0
        secs = time.perf_counter() - t0
        if ok and f.exists():
            (o / f"{cid}.file").write_bytes(f.read_bytes())
        else:
            (o / f"{cid}.refused").write_text("failed")
    return tool, cid, secs


# ---------------------------------------------------------------- scoring and the table


def p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))] if xs else 0.0


def _scorer(set_dir: Path) -> Path:
    """The set's score.py, or the shared one for a set built by bench/build_interval_set.py."""
    own = set_dir.parent / "score.py"
    return own if own.exists() else DEFAULT_SET.parent / "score.py"


def score(set_dir: Path, outs: dict[str, Path], cases: list[dict], work: Path) -> tuple[str, dict]:
    ids = work / "cases.txt"
    ids.write_text("\n".join(c["id"] for c in cases) + "\n")
    js = work / "score.json"
    scorer = _scorer(set_dir)
    cmd = [sys.executable, str(scorer), "--set", str(set_dir), "--markdown",
           "--cases", str(ids), "--json", str(js), "--trees", str(CACHE)]
    for name, d in outs.items():
        cmd += ["--outputs", f"{name}={d}"]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"score.py failed:\n{p.stderr}")
    return p.stdout, json.loads(js.read_text())


def timing_table(outs: dict[str, Path]) -> str:
    lines = ["| tool | cases timed | median s/case | p90 s/case | max s/case | total s |", "|---|---|---|---|---|---|"]
    for name, d in outs.items():
        tf = d / "timings.json"
        if not tf.exists():
            continue
        xs = list(json.loads(tf.read_text()).values())
        if xs:
            lines.append(f"| {name} | {len(xs)} | {statistics.median(xs):.3f} | {p90(xs):.3f} | "
                         f"{max(xs):.3f} | {sum(xs):.1f} |")
    return "\n".join(lines)


def silent_wrongs(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows if r["outcome"] == "wrong" and not r.get("flagged")]


def render_analysis(rows: dict[str, list[dict]], tool_out: Path) -> str:
    """Markdown: every silent wrong (what each baseline did there, why backport was sure) and the
    warnings raised on results that were correct anyway (the price of flagging)."""
    mine = rows["backport"]
    by_id = {name: {r["id"]: r for r in rs} for name, rs in rows.items()}
    others = [n for n in rows if n != "backport"]
    out = ["| case | scope | " + " | ".join(others) + " |", "|---|---|" + "---|" * len(others)]
    for cid in silent_wrongs(mine):
        r = by_id["backport"][cid]
        out.append(f"| {cid} | {r['scope']}{' (pure)' if r.get('pure') else ''} | "
                   + " | ".join(by_id[n][cid]["outcome"] for n in others) + " |")
    ident = [r for r in mine if r["label"] == "identical" and r["outcome"] == "correct"]
    flagged = [r for r in ident if r.get("flagged")]
    codes: dict[str, int] = {}
    for r in flagged:
        text = (tool_out / f"{r['id']}.flagged").read_text(errors="replace")
        for code in {ln.split(":")[1].strip() for ln in text.splitlines() if ln.startswith(("warning:", "error:"))}:
            codes[code] = codes.get(code, 0) + 1
    price = ", ".join(f"{c} {n}" for c, n in sorted(codes.items(), key=lambda x: -x[1]))
    return ("## Reading it\n\nbackport writes a result when every hunk was placed with confidence, or when "
            "the only hunks left out fit nowhere in the target (dropped, with an error finding); it refuses "
            "a case when a hunk was placed but held back as doubtful. `.flagged` = a warning or error "
            "finding (e.g. `context-diverged`: the code around a hunk differs between the upstream base and "
            "the target, which is where humans adapt).\n\n## Silent wrongs\n\nEach row: a result backport produced without a warning that differs from "
            "the human backport, and what each baseline produced on the same case.\n\n" + "\n".join(out)
            + f"\n\n## The price of flagging\n\n{len(flagged)} of {len(ident)} correct results on "
            f"`identical` cases carried a warning (cases per finding code: {price or 'none'}).\n")


# ---------------------------------------------------------------- the adapted/token row


def unmarked_changes(set_dir: Path, out: Path, cases: list[dict]) -> list[str]:
    """Cases whose ported patch has a non-blank +/- line that upstream's patch lacks (the port
    changed upstream's lines; blanks inside a line do not count) while its findings carry no
    ``adapted``: what the issue forbids
    ("no adapted result written without an adapted finding"). Lines upstream has and the port
    lacks (a refused hunk) do not count."""
    def changed(p: Path) -> Counter:
        return Counter(x[0] + " ".join(x[1:].split()) for x in p.read_text(errors="replace").splitlines()
                       if x[:1] in "+-" and not x.startswith(("+++", "---")) and x[1:].strip())
    bad = []
    for c in cases:
        cid = c["id"]
        port = out / f"{cid}.patch"
        if not port.exists():
            continue
        if changed(port) - changed(set_dir / cid / "upstream.patch"):
            flagged = out / f"{cid}.flagged"
            if "adapted" not in (flagged.read_text(errors="replace") if flagged.exists() else ""):
                bad.append(cid)
    return bad


def token_row(set_dir: Path, cases: list[dict], rows: dict[str, list[dict]]) -> tuple[str, list[str]]:
    """Markdown rows ``adapted/token`` for every tool (score.py's columns) and the case ids."""
    import importlib.util

    from ctokens import token_level

    ids = []
    for c in cases:
        if c["label"] != "adapted":
            continue
        d = Path(c["dir"])
        if token_level((d / "upstream.patch").read_text(errors="replace"),
                       (d / "expected.patch").read_text(errors="replace")):
            ids.append(c["id"])
    spec = importlib.util.spec_from_file_location("kbench_score", _scorer(set_dir))
    sc = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(sc)  # type: ignore[union-attr]
    out = []
    for tool, rs in rows.items():
        sub = [r for r in rs if r["id"] in set(ids)]
        s = sc.summarize(sub)
        t = "-" if s["mean_ms"] is None else f"{s['mean_ms']:.1f} / {s['median_ms']:.1f}"
        out.append(f"| {set_dir.name} | {tool} | adapted/token | {s['n']} | {sc.pct(s['correct'], s['n'])} | "
                   f"{sc.pct(s['ws_correct'], s['n'])} | {sc.pct(s['wrong'], s['n'])} | "
                   f"{sc.pct(s['silent_wrong'], s['n'])} | {sc.pct(s['refused'], s['n'])} | {t} |")
    return "\n".join(out), ids


# ---------------------------------------------------------------- RESULTS.md sections


def replace_section(path: Path, key: str, body: str) -> None:
    """Write ``body`` between ``<!-- bench:KEY -->`` and ``<!-- /bench:KEY -->`` in ``path``
    (appended when absent); every other part of the file is kept."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def run_percommit(args: argparse.Namespace, base: str | None, command: str) -> None:
    import percommit

    t0 = time.perf_counter()
    rows = percommit.run_set(args.percommit, CACHE / "trees", with_base=base is not None,
                             checks=not args.no_checks, only=args.only, min_confidence=args.min_confidence)
    mode = "base/" if base is not None else "none"
    tab = percommit.table(rows, set_name="percommit", base=mode)
    print(f"percommit: {len(rows)} cases in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    print(tab)
    print(percommit.failures(rows))
    silent = [r["id"] for r in rows if r["outcome"] == "wrong" and not r["flagged"]]
    print(f"percommit silent wrongs: {len(silent)}")
    if args.verbose:
        for r in rows:
            if r["outcome"] != "correct":
                print(f"--- {r['id']}: {r['outcome']}\n{r['detail']}")
    _write_section(args, "percommit", base, "base/ of each case", (
        f"Set: `{args.percommit}` ({len(rows)} cases; target = `old_tree` with pre/ laid over it). "
        f"Command: `{command}`.\n\n{tab}\n\nNot correct, or correct with a warning:\n\n"
        f"{percommit.failures(rows)}\n"))


def _write_section(args: argparse.Namespace, name: str, base: str | None, base_name: str, body: str) -> None:
    """This run's section of --results (none for a run of chosen cases)."""
    if args.results and not args.only:
        replace_section(args.results, f"{name}-{'base' if base is not None else 'nobase'}",
                        f"## {name}, upstream base {base_name if base is not None else 'none'}\n\n{body}")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--percommit", type=Path, default=DEFAULT_PERCOMMIT, help="the per-commit case set")
    ap.add_argument("--sets", default="public,percommit", help="which sets to run (default public,percommit)")
    ap.add_argument("--tree", type=Path, default=DEFAULT_TREE, help="the old target tree (6.1.187)")
    ap.add_argument("--base", type=Path, default=DEFAULT_BASE, help="upstream base tree (6.12.107)")
    ap.add_argument("--no-base", action="store_true", help="run backport without the upstream base")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "backport-bench")
    ap.add_argument("--cases", type=int, help="a spread sample of N cases")
    ap.add_argument("--only", action="append", default=[], metavar="ID", help="just this case (repeatable)")
    ap.add_argument("--no-baselines", action="store_true", help="skip the baselines (reuse earlier outputs)")
    ap.add_argument("--no-checks", action="store_true", help="skip the deps and kb checks")
    ap.add_argument("--policy", choices=("strict", "drop-unplaced", "partial"), default="drop-unplaced",
                    help="when hunks are not applied: refuse (strict); write the rest, flagged, only when "
                         "the missing hunks fit nowhere in the target (drop-unplaced, default); always "
                         "write the rest, flagged (partial)")
    ap.add_argument("--min-confidence", type=float, default=0.8, help="backport's bar (default 0.8)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--results", type=Path, help="write the tables as Markdown here (e.g. bench/RESULTS.md)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every silent wrong and crash")
    args = ap.parse_args(argv)

    command = " ".join(["bench/run_bench.py", *(sys.argv[1:] if argv is None else argv)])
    for tree in (args.tree,) + (() if args.no_base else (args.base,)):
        if not tree.is_dir():
            print(f"fetching {tree.name} with get-tree.sh ...", file=sys.stderr)
            subprocess.run(["bash", str(DEFAULT_SET.parent / "get-tree.sh"), tree.name, str(CACHE)], check=True)
    base = None if args.no_base else str(args.base)
    sets = {s.strip() for s in args.sets.split(",")}
    if "public" in sets:
        run_public(args, base, command)
    if "percommit" in sets:
        run_percommit(args, base, command)
    return 0


def run_public(args: argparse.Namespace, base: str | None, command: str) -> None:
    cases = load_cases(args.set, only=args.only, limit=args.cases)
    args.work.mkdir(parents=True, exist_ok=True)
    outs: dict[str, Path] = {}

    # backport
    d = args.work / "backport"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    jobs = max(1, min(args.jobs, len(cases)))
    with ctx.Pool(jobs, initializer=_init_tool, initargs=(str(args.tree), base, not args.no_checks, args.policy,
                                                                 args.min_confidence)) as pool:
        res = pool.starmap(run_tool_case, [(c, str(d)) for c in cases], chunksize=4)
    timings = {cid: round(s, 4) for cid, s, _ in res}
    (d / "timings.json").write_text(json.dumps(timings, indent=1))
    crashes = [cid for cid, _, what in res if what == "crash"]
    print(f"backport: {len(cases)} cases in {time.perf_counter() - t0:.1f}s wall ({jobs} jobs), "
          f"{len(crashes)} crash(es)", file=sys.stderr)
    outs["backport"] = d

    # baselines
    avail = [t for t in BASELINES if t != "wiggle" or shutil.which("wiggle")]
    if not args.no_baselines:
        for t in avail:
            shutil.rmtree(args.work / t, ignore_errors=True)
            (args.work / t).mkdir()
        t0 = time.perf_counter()
        work = [(t, c, str(args.work / t), str(args.tree), str(args.base)) for t in avail for c in cases]
        with ctx.Pool(max(1, args.jobs)) as pool:
            bres = pool.map(run_baseline_case, work, chunksize=8)
        for t in avail:
            tim = {cid: round(s, 4) for tool, cid, s in bres if tool == t}
            (args.work / t / "timings.json").write_text(json.dumps(tim, indent=1))
        print(f"baselines: {len(work)} runs in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    for t in avail:
        if (args.work / t).is_dir():
            outs[t] = args.work / t

    table, rows = score(args.set, outs, cases, args.work)
    trow, token_ids = token_row(args.set, cases, rows)
    table = table.rstrip("\n") + "\n" + trow
    tt = timing_table(outs)
    print(table)
    print()
    print(tt)
    sw = silent_wrongs(rows["backport"])
    print(f"\nbackport silent wrongs: {len(sw)}" + ("".join(f"\n  {x}" for x in sw) if args.verbose else ""))
    if crashes:
        print(f"backport crashes: {len(crashes)}" + ("".join(f"\n  {x}" for x in crashes) if args.verbose else ""))
    unmarked = unmarked_changes(args.set, outs["backport"], cases)
    print(f"backport outputs with +/- lines upstream's patch lacks and no `adapted` finding: {len(unmarked)}"
          + ("".join(f"\n  {x}" for x in unmarked) if args.verbose else ""))
    wrong_ident = [r["id"] for r in rows["backport"] if r["label"] == "identical" and r["outcome"] != "correct"]
    print(f"backport identical-case failures: {len(wrong_ident)}"
          + ("".join(f"\n  {x}" for x in wrong_ident) if args.verbose else ""))
    set_name = "public" if args.set.resolve() == DEFAULT_SET.resolve() else args.set.name
    _write_section(args, set_name, base, args.base.name, (
        f"Set: `{args.set}` ({len(cases)} cases), target `{args.tree.name}`, checks "
        f"{'off' if args.no_checks else 'on'}. Command: `{command}`.\n\n### Correctness (score.py)\n\n{table}\n\n"
        f"`adapted/token` cases: {', '.join(token_ids) or 'none'}.\n\n"
        f"### Time per case\n\n{tt}\n\nbackport silent wrongs: {len(sw)}; crashes: {len(crashes)}; "
        f"outputs with +/- lines upstream's patch lacks and no `adapted` finding: {len(unmarked)}; "
        f"identical-case failures: {len(wrong_ident)}"
        + (f" ({', '.join(wrong_ident)})" if wrong_ident else "") + ".\n\n"
        + render_analysis(rows, outs["backport"]).replace("## ", "### ")))


if __name__ == "__main__":
    sys.exit(main())
