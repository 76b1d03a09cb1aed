#!/usr/bin/env python3
"""Build a kbench-format file-level case set from two other Debian stable intervals (stage: bench).

Inputs: four extracted Debian kernel trees (``../shared/bench/get-tree.sh``): the target series
before and after an interval (e.g. 6.1.190-1 -> 6.1.192-1) and the upstream series over the
interval that carries the same fixes (e.g. 6.12.111 -> 6.12.117), plus their Debian changelogs
(kept by get-tree.sh beside the trees).
Outputs: OUT/MANIFEST.json and OUT/<id>/{upstream.patch, expected.patch, meta.json}, the layout of
``../shared/bench/public`` (see its README), so ``run_bench.py --set OUT --tree OLD --base UPOLD``
and ``score.py`` run on it unchanged. The set is a held-out check for the project: it is built
the way the shared README describes (files changed in both intervals whose +/- lines are at least
50% similar, at most 300 changed lines, present in all four trees, text, not debian/ nor the top
Makefile), from intervals the public set does not cover. Kernel text stays out of the repository:
write OUT under /work/scratch or /tmp.

Usage::

    bench/build_interval_set.py --old 6.1.190-1 --new 6.1.192-1 \\
        --up-old 6.12.111-1~deb12u1 --up-new 6.12.117-1~deb12u1 --out /work/scratch/heldout-192

The file comparison uses ``diff -rq`` (one pass over each pair of trees); the per-file diffs are
``git diff --no-index`` with the paths rewritten to the tree root, as in the shared set.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

TREES = Path.home() / ".cache" / "kbench" / "trees"
CHANGELOGS = Path.home() / ".cache" / "kbench" / "changelogs"
MAX_CHANGED = 300
MIN_SIMILARITY = 0.5
RE_STABLE = re.compile(r"ChangeLog-(\d+\.\d+\.\d+)")


def changed_files(old: Path, new: Path) -> set[str]:
    """Paths (relative) whose content differs between two trees, or that exist in only one."""
    out = subprocess.run(["diff", "-rq", "--no-dereference", str(old), str(new)],
                         capture_output=True, text=True, errors="surrogateescape")
    paths: set[str] = set()
    for line in out.stdout.splitlines():
        m = re.match(r"Files (.+) and (.+) differ$", line)
        if m:
            paths.add(str(Path(m.group(1)).relative_to(old)))
            continue
        m = re.match(r"Only in (.+): (.+)$", line)
        if m:
            d = Path(m.group(1))
            root = old if str(d).startswith(str(old)) else new
            paths.add(str((d / m.group(2)).relative_to(root)))
    return paths


def file_diff(a: Path, b: Path, path: str) -> str:
    out = subprocess.run(["git", "diff", "--no-index", "--no-color", "-U3", str(a), str(b)],
                         capture_output=True)
    text = out.stdout.decode("utf-8", "surrogateescape")
    lines = text.splitlines(keepends=True)
    fixed = []
    for line in lines:
        if line.startswith("diff --git "):
            line = f"diff --git a/{path} b/{path}\n"
        elif line.startswith("--- "):
            line = f"--- a/{path}\n"
        elif line.startswith("+++ "):
            line = f"+++ b/{path}\n"
        fixed.append(line)
    return "".join(fixed)


def changed_lines(diff: str) -> tuple[list[str], int, int, int]:
    """Whitespace-normalised +/- lines (prefix kept, in order), and added/removed/hunk counts."""
    out, added, removed, hunks = [], 0, 0, 0
    body = False
    for line in diff.splitlines():
        if line.startswith("@@"):
            body, hunks = True, hunks + 1
            continue
        if not body or line.startswith(("--- ", "+++ ")):
            continue
        if line[:1] in "+-":
            out.append(line[0] + " ".join(line[1:].split()))
            added += line[0] == "+"
            removed += line[0] == "-"
    return out, added, removed, hunks


def frac_in(a: list[str], b: list[str]) -> float:
    if not a:
        return 1.0
    pool = list(b)
    hit = 0
    for x in a:
        if x in pool:
            pool.remove(x)
            hit += 1
    return hit / len(a)


def stable_releases(changelog: Path, old_ver: str) -> list[str]:
    """The stable releases a Debian changelog lists above the old tree's upstream version."""
    seen: list[str] = []
    if not changelog.exists():
        return seen
    old = tuple(int(x) for x in old_ver.split("."))
    for m in RE_STABLE.finditer(changelog.read_text(errors="replace")):
        v = m.group(1)
        if tuple(int(x) for x in v.split(".")) > old and v not in seen:
            seen.append(v)
    return sorted(seen, key=lambda v: tuple(int(x) for x in v.split(".")))


def subjects(changelog: Path, releases: list[str]) -> set[str]:
    if not changelog.exists():
        return set()
    out: set[str] = set()
    keep = False
    for line in changelog.read_text(errors="replace").splitlines():
        m = RE_STABLE.search(line)
        if m:
            keep = m.group(1) in releases
            continue
        if keep and line.startswith("    - "):
            out.add(re.sub(r"\s*\(CVE-[^)]*\)\s*$", "", line[6:]).strip())
        elif line.startswith("linux ("):
            keep = False
    return out


def upstream_version(debver: str) -> str:
    return debver.split("-")[0]


def is_text(p: Path) -> bool:
    try:
        return b"\0" not in p.read_bytes()[:65536]
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="target tree before the interval (Debian version)")
    ap.add_argument("--new", required=True, help="target tree after the interval (the human backports)")
    ap.add_argument("--up-old", required=True, help="upstream tree before its interval (the base)")
    ap.add_argument("--up-new", required=True, help="upstream tree after its interval")
    ap.add_argument("--trees", type=Path, default=TREES)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", default=None, help="set name (default: the out folder's name)")
    args = ap.parse_args(argv)
    t = {k: args.trees / getattr(args, k) for k in ("old", "new", "up_old", "up_new")}
    for p in t.values():
        if not (p / "Makefile").exists():
            print(f"{p}: error: not an extracted tree (run get-tree.sh)", file=sys.stderr)
            return 2
    name = args.name or args.out.name
    print("comparing trees ...", file=sys.stderr)
    ch_t = changed_files(t["old"], t["new"])
    ch_u = changed_files(t["up_old"], t["up_new"])
    both = sorted(ch_t & ch_u)
    rel_t = stable_releases(CHANGELOGS / f"{args.new}.changelog", upstream_version(args.old))
    rel_u = stable_releases(CHANGELOGS / f"{args.up_new}.changelog", upstream_version(args.up_old))
    sub_t = subjects(CHANGELOGS / f"{args.new}.changelog", rel_t)
    sub_u = subjects(CHANGELOGS / f"{args.up_new}.changelog", rel_u)
    dropped: dict[str, int] = {}
    cases = []
    counts: dict[str, int] = {}
    args.out.mkdir(parents=True, exist_ok=True)
    for path in both:
        def drop(why: str) -> None:
            dropped[why] = dropped.get(why, 0) + 1
        if path.startswith("debian/") or path == "Makefile":
            drop("excluded path (debian/, top Makefile)")
            continue
        files = [t[k] / path for k in ("old", "new", "up_old", "up_new")]
        if not all(f.is_file() and not f.is_symlink() for f in files):
            drop("added or deleted file")
            continue
        if not all(is_text(f) for f in files):
            drop("binary")
            continue
        up = file_diff(files[2], files[3], path)
        ex = file_diff(files[0], files[1], path)
        cu, ua, ur, uh = changed_lines(up)
        ce, ea, er, eh = changed_lines(ex)
        if len(cu) > MAX_CHANGED or len(ce) > MAX_CHANGED:
            drop(f"diff > {MAX_CHANGED} changed lines")
            continue
        ratio = difflib.SequenceMatcher(None, cu, ce, autojunk=False).ratio()
        if ratio < MIN_SIMILARITY:
            drop(f"similarity < {MIN_SIMILARITY}")
            continue
        fe, fu = frac_in(ce, cu), frac_in(cu, ce)
        label = "identical" if cu == ce else "adapted"
        scope = "same" if fe >= 0.5 and fu >= 0.5 else ("upstream-extra" if fu < 0.5 else "expected-extra")
        cid = path.replace("/", "__")
        d = args.out / cid
        d.mkdir(exist_ok=True)
        (d / "upstream.patch").write_text(up, errors="surrogateescape")
        (d / "expected.patch").write_text(ex, errors="surrogateescape")
        meta = {
            "id": cid, "set": name, "path": path, "label": label, "scope": scope,
            "target_version": upstream_version(args.old), "target_debian_version": args.old,
            "expected_version": upstream_version(args.new), "expected_debian_version": args.new,
            "upstream_versions": {"old": upstream_version(args.up_old), "new": upstream_version(args.up_new),
                                  "old_debian": args.up_old, "new_debian": args.up_new,
                                  "stable_releases": rel_u},
            "target_stable_releases": rel_t,
            "upstream_changed_lines": {"added": ua, "removed": ur, "hunks": uh},
            "expected_changed_lines": {"added": ea, "removed": er, "hunks": eh},
            "similarity": {"ratio": round(ratio, 4), "frac_expected_in_upstream": round(fe, 4),
                           "frac_upstream_in_expected": round(fu, 4)},
            "subjects": [],
        }
        (d / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        cases.append({"id": cid, "path": path, "label": label, "scope": scope,
                      "similarity": round(ratio, 4), "upstream_changed": len(cu), "expected_changed": len(ce)})
        counts[label] = counts.get(label, 0) + 1
        counts[f"{label}/{scope}"] = counts.get(f"{label}/{scope}", 0) + 1
    manifest = {
        "set": name,
        "target": {"old": args.old, "new": args.new, "stable_releases": rel_t},
        "upstream": {"old": args.up_old, "new": args.up_new, "stable_releases": rel_u},
        "alignment": {"subjects_target": len(sub_t), "subjects_upstream": len(sub_u),
                      "shared_subjects": len(sub_t & sub_u)},
        "selection": {"max_changed_lines": MAX_CHANGED, "min_similarity": MIN_SIMILARITY,
                      "changed_target": len(ch_t), "changed_upstream": len(ch_u), "changed_both": len(both),
                      "dropped": dropped},
        "counts": {"total": len(cases), **dict(sorted(counts.items()))},
        "cases": cases,
    }
    (args.out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps({k: manifest[k] for k in ("alignment", "selection", "counts")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
