"""The per-commit benchmark (stage: bench): backport on shared/bench/percommit cases.

Inputs: a per-commit case set (``../shared/bench/percommit/public``: MANIFEST.json, <case>/
upstream.patch, meta.json, pre/, post/, base/), the Debian tree ``old_tree`` of each case.
Outputs: per case an outcome (correct | wrong | refused, flagged or not), a Markdown table per
label (identical, adapted, all) and time per case.

The target of a case is the Debian tree with the case's ``pre/`` files laid over it, seen through
a ``CaseTree`` (the pipeline's Overlay: nothing is copied from the 1.4 GB tree, and the deps
index is the tree's cached one). Files upstream's patch names that ``pre/`` lacks are absent
(pre/ holds every file on the 6.1 side that either patch touches). The upstream base, unless
``--no-base``, is the case's ``base/`` directory (the 6.12 files before the upstream patch).

Scoring (the README's rules): correct when every ``post/`` file is byte-equal in the result and
no file is left where ``post/`` has none (among the files of pre/, post/ and the result); wrong
when a result was produced but differs (silent when no WARNING or ERROR finding was raised);
refused when backport held a placed hunk back or produced nothing. The tool reads only
``upstream.patch``, ``pre/`` and ``base/``; ``post/`` is read by the scorer.
"""

from __future__ import annotations

import json
import statistics
import time
import traceback
from collections.abc import Iterator
from pathlib import Path


def load_cases(set_dir: Path, *, only: list[str]) -> list[dict]:
    man = json.loads((set_dir / "MANIFEST.json").read_text())
    out = []
    for c in man["cases"]:
        cid = c["case"]
        if only and cid not in only:
            continue
        meta = json.loads((set_dir / cid / "meta.json").read_text())
        out.append({"id": cid, "dir": str(set_dir / cid), "label": meta["label"], "old_tree": meta["old_tree"]})
    return out


def _files(d: Path) -> dict[str, bytes]:
    if not d.is_dir():
        return {}
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _patch_paths(patch) -> Iterator[str]:
    for fp in patch.files:
        for p in (fp.old_path, fp.new_path, fp.path):
            if p:
                yield p


def case_tree(tree, case: dict, patch):
    """The case's target: ``tree`` with pre/ laid over it and the files the patch names that
    pre/ lacks made absent."""
    from backport.pipeline import Overlay
    from backport.target import decode

    ov = Overlay(tree)
    pre = _files(Path(case["dir"]) / "pre")
    for p in _patch_paths(patch):
        ov.changes.setdefault(p, None)
    ov.changes.update({p: decode(b) for p, b in pre.items()})
    return ov, pre


def run_case(case: dict, tree, *, with_base: bool, checks: bool, min_confidence: float = 0.8) -> dict:
    """Port one case in-process; return its row (outcome, flagged, seconds, codes, detail)."""
    from backport.ingest import load_series
    from backport.model import PortOptions, Severity
    from backport.pipeline import is_settled, port_patch
    from backport.target import encode

    d = Path(case["dir"])
    row = {"id": case["id"], "label": case["label"], "flagged": False, "codes": [], "detail": ""}
    t0 = time.perf_counter()
    try:
        series = load_series([str(d / "upstream.patch")])
        patch = series.patches[0]
        target, pre = case_tree(tree, case, patch)
        base = str(d / "base") if with_base and (d / "base").is_dir() else None
        opts = PortOptions(upstream=base, checks=checks, min_confidence=min_confidence)
        r = port_patch(patch, target, options=opts, series=series)
    except Exception as e:  # noqa: BLE001 - a crash is a refusal, shown in the detail
        row.update(outcome="refused", seconds=time.perf_counter() - t0,
                   detail=f"crash: {type(e).__name__}: {e}\n{traceback.format_exc()}")
        return row
    row["seconds"] = time.perf_counter() - t0
    held = [p for p in r.placements if not is_settled(p, min_confidence=min_confidence)]
    row["codes"] = sorted({f.code for f in r.findings if f.severity >= Severity.WARNING})
    row["flagged"] = bool(held) or bool(row["codes"])
    row["detail"] = "\n".join(f"hunk {p.file_index}.{p.hunk_index}: {p.method.value} {p.path}:{p.start} "
                              f"conf {p.confidence:.2f} applied={p.applied}" for p in r.placements)
    if any(p.placed for p in held) or not r.text:
        row["outcome"] = "refused"
        return row
    post = _files(d / "post")
    result: dict[str, bytes | None] = {p: b for p, b in pre.items()}
    for path, text in r.new_files:
        result[path] = None if text is None else encode(text)
    paths = set(post) | set(result)
    row["outcome"] = "correct" if all(result.get(p) == post.get(p) for p in paths) else "wrong"
    return row


def run_set(set_dir: Path, tree_cache: Path, *, with_base: bool, checks: bool, only: list[str],
            min_confidence: float = 0.8) -> list[dict]:
    from backport.target import DirTree

    trees: dict[str, DirTree] = {}
    rows = []
    for case in load_cases(set_dir, only=only):
        t = trees.get(case["old_tree"])
        if t is None:
            t = trees[case["old_tree"]] = DirTree(tree_cache / case["old_tree"])
        rows.append(run_case(case, t, with_base=with_base, checks=checks, min_confidence=min_confidence))
    return rows


def _pct(a: int, n: int) -> str:
    return f"{a} ({100.0 * a / n:.1f}%)" if n else "0"


def table(rows: list[dict], *, set_name: str, base: str) -> str:
    head = ["set", "base", "label", "n", "correct", "wrong", "silent wrong", "refused", "flagged correct",
            "ms/case (median / p90)"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in ("identical", "adapted", "all"):
        sub = rows if label == "all" else [r for r in rows if r["label"] == label]
        n = len(sub)
        cnt = {k: sum(1 for r in sub if r["outcome"] == k) for k in ("correct", "wrong", "refused")}
        silent = sum(1 for r in sub if r["outcome"] == "wrong" and not r["flagged"])
        flagged_ok = sum(1 for r in sub if r["outcome"] == "correct" and r["flagged"])
        secs = sorted(r["seconds"] for r in sub)
        t = (f"{1000 * statistics.median(secs):.1f} / {1000 * secs[min(len(secs) - 1, round(0.9 * (len(secs) - 1)))]:.1f}"
             if secs else "-")
        out.append(f"| {set_name} | {base} | {label} | {n} | {_pct(cnt['correct'], n)} | {_pct(cnt['wrong'], n)} | "
                   f"{_pct(silent, n)} | {_pct(cnt['refused'], n)} | {flagged_ok} | {t} |")
    return "\n".join(out)


def failures(rows: list[dict]) -> str:
    """One line per case that is not correct, or correct with a warning (what and why)."""
    lines = []
    for r in rows:
        if r["outcome"] != "correct" or r["flagged"]:
            lines.append(f"- {r['id']} ({r['label']}): {r['outcome']}"
                         + (f", flagged ({', '.join(r['codes']) or 'held hunk'})" if r["flagged"] else ""))
    return "\n".join(lines) or "- none"
