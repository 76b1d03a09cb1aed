"""The triage matrix (stage: triage render): cell records -> matrix.json, matrix.csv, matrix.html.

Inputs: a TriageRun (records in patch, tree order), the queue Series, the Fleet, the options.
Outputs: ``build_matrix`` (the document, schema ``backport/schema/matrix.schema.json``),
``render_csv`` (one row per cell), ``render_matrix_html`` (one self-contained page: patch rows
x tree columns, one status per cell linking to that cell's report.html, filters by status and
by tree made of checkboxes and CSS alone: no script, no external resource) and ``write_matrix``
(all three, atomically). ``comparable`` strips what depends on the run (timings, how many cells
were reused, which engine), which is what must be equal whichever engine ran.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..model import PortOptions, Series
from ..render.output import write_atomic
from ..safety import render_printable
from .cell import STATUSES
from .fleet import Fleet

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "matrix.schema.json"
RUN_FIELDS = ("seconds", "timing")
COLORS = {"clean": "#2e7d32", "adapted": "#0277bd", "needs-prereq": "#6a1b9a", "conflict": "#c62828",
          "not-applicable": "#757575", "build-failed": "#ad1457", "error": "#212121"}


def build_matrix(run: Any, series: Series, fleet: Fleet, options: PortOptions, *, verify: str | None = None
                 ) -> dict[str, Any]:
    from .run import tool_version

    patches = [p for p in series.patches if not p.is_cover]
    ids = {r["patch"]: r["patch_id"] for r in run.records}
    summary = {s: 0 for s in STATUSES}
    summary.update(Counter(r["status"] for r in run.records))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "backport", "version": tool_version()},
        "queue": {"origin": list(series.origin), "order": run.order,
                  "patches": [{"index": i, "patch_id": ids.get(i, ""), "subject": render_printable(p.subject),
                               "author": render_printable(p.author)} for i, p in enumerate(patches, 1)]},
        "trees": [{"name": t.name, "path": t.path, "rev": t.rev, "arch": t.arch, "config": t.config,
                   "identity": run.tree_identities.get(t.name, "")} for t in fleet.trees],
        "options": {"min_confidence": options.min_confidence, "ignore": list(options.ignore),
                    "upstream": fleet.upstream or options.upstream, "verify": verify or "none"},
        "run": {"engine": run.engine, "workers": run.workers, "computed": run.computed, "reused": run.reused,
                "seconds": run.seconds},
        "summary": summary,
        "cells": run.records,
    }


def comparable(matrix: dict[str, Any]) -> dict[str, Any]:
    """The matrix without what depends on the run (for comparing engines and reruns)."""
    cells = [{k: v for k, v in c.items() if k not in RUN_FIELDS} for c in matrix["cells"]]
    return {**{k: v for k, v in matrix.items() if k not in ("run", "cells")}, "cells": cells}


CSV_FIELDS = ("patch", "patch_id", "subject", "tree", "status", "reason", "errors", "warnings", "notes",
              "hunks_applied", "hunks_total", "seconds", "report")


def render_csv(matrix: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for c in matrix["cells"]:
        f, h = c.get("findings", {}), c.get("hunks", {})
        w.writerow([c["patch"], c["patch_id"], render_printable(c["subject"]), c["tree"], c["status"],
                    render_printable(c.get("reason", "")), f.get("error", 0), f.get("warning", 0), f.get("note", 0),
                    h.get("applied", 0), h.get("total", 0), c.get("seconds", 0),
                    c.get("links", {}).get("report", "")])
    return buf.getvalue()


CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1em 2em;color:#1d1d1f}
h1{font-size:1.5em;margin:.2em 0}.meta{color:#555}
b.fl{display:inline-block;width:4em;margin:.5em 0}input.f+label{margin-right:.9em;white-space:nowrap;cursor:pointer}
table.m{border-collapse:collapse;margin-top:1em}table.m td,table.m th{border:1px solid #ddd;padding:.2em .45em}
table.m th{background:#f3f3f3;position:sticky;top:0}td.subj{max-width:38em;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}td.cell{text-align:center;white-space:nowrap}
td.cell a{display:inline-block;min-width:7.5em;padding:0 .5em;border-radius:.6em;color:#fff;text-decoration:none;
font-size:.85em;font-weight:600}small.n{color:#555;margin-left:.3em}tr.tot td{background:#fafafa;font-size:.85em}
.legend span{display:inline-block;padding:0 .5em;border-radius:.6em;color:#fff;font-size:.85em;margin-right:.4em}
footer{margin-top:2em;color:#777;font-size:.85em}
"""


def _filter_css(statuses: Sequence[str], ntrees: int) -> str:
    rules = [f"td.s-{s} a{{background:{COLORS[s]}}}" for s in STATUSES]
    rules += [f".legend .s-{s}{{background:{COLORS[s]}}}" for s in STATUSES]
    rules += [f"#fs-{s}:not(:checked)~table td.s-{s} a{{visibility:hidden}}" for s in statuses]
    # rows with no cell of a checked status disappear where :has() is known (else they stay)
    rows = ["table.m tr.row{display:none}"]
    rows += [f"#fs-{s}:checked~table tr.row:has(td.s-{s}){{display:table-row}}" for s in statuses]
    rules.append("@supports selector(tr:has(td)){" + "\n".join(rows) + "}")
    rules += [f"#ft-{i}:not(:checked)~table .t-{i}{{display:none}}" for i in range(ntrees)]
    return "\n".join(rules)


def render_matrix_html(matrix: dict[str, Any]) -> str:
    """The whole page; every text from patches or trees is escaped."""
    trees = [t["name"] for t in matrix["trees"]]
    col = {name: i for i, name in enumerate(trees)}
    by_cell = {(c["patch"], c["tree"]): c for c in matrix["cells"]}
    summary = matrix["summary"]
    present = [s for s in STATUSES if summary.get(s)]
    inputs = []
    for s in STATUSES:
        inputs.append(f'<input class="f" type="checkbox" id="fs-{s}" checked>'
                      f'<label for="fs-{s}">{s} ({summary.get(s, 0)})</label>')
    tree_inputs = [f'<input class="f" type="checkbox" id="ft-{i}" checked><label for="ft-{i}">{escape(n)}</label>'
                   for i, n in enumerate(trees)]
    head = ("<tr><th>#</th><th>patch</th>"
            + "".join(f'<th class="t-{i}" title="{escape(t["path"])}">{escape(t["name"])}<br>'
                      f'<small>{escape(t["arch"])}</small></th>' for i, t in enumerate(matrix["trees"])) + "</tr>")
    rows = []
    for p in matrix["queue"]["patches"]:
        tds = []
        for name in trees:
            c = by_cell.get((p["index"], name))
            if c is None:
                tds.append(f'<td class="cell t-{col[name]}">-</td>')
                continue
            f = c.get("findings", {})
            counts = " ".join(f"{k[0].upper()}{f[k]}" for k in ("error", "warning") if f.get(k))
            link = escape(c.get("links", {}).get("report") or c.get("links", {}).get("dir", ""))
            title = escape(render_printable(c.get("reason", "")))
            tds.append(f'<td class="cell s-{c["status"]} t-{col[name]}"><a href="{link}" title="{title}">'
                       f'{c["status"]}</a>' + (f'<small class="n">{counts}</small>' if counts else "") + "</td>")
        subject = escape(p["subject"])
        rows.append(f'<tr class="row"><td>{p["index"]}</td><td class="subj" title="{subject}">{subject}</td>'
                    + "".join(tds) + "</tr>")
    totals = []
    for name in trees:
        n = Counter(c["status"] for c in matrix["cells"] if c["tree"] == name)
        totals.append(f'<td class="t-{col[name]}">' + "<br>".join(f"{s} {n[s]}" for s in STATUSES if n[s]) + "</td>")
    rows.append('<tr class="tot"><td></td><td>per tree</td>' + "".join(totals) + "</tr>")
    run = matrix["run"]
    legend = "".join(f'<span class="s-{s}">{s}</span>' for s in STATUSES)
    origin = escape(", ".join(matrix["queue"]["origin"]))
    body = (f"<h1>backport triage: {len(matrix['queue']['patches'])} patches x {len(trees)} trees</h1>\n"
            f'<p class="meta">queue <code>{origin}</code> ({escape(matrix["queue"]["order"])}); '
            f'{run["computed"]} cells computed, {run["reused"]} reused, engine {escape(run["engine"])} '
            f'x {run["workers"]}, {run["seconds"]:.1f} s; verify: {escape(matrix["options"]["verify"])}</p>\n'
            f'<p class="legend">{legend}</p>\n'
            # the checkboxes are siblings before the table: the CSS filters select with "~"
            f'<b class="fl">status</b>{"".join(inputs)}<br>\n'
            f'<b class="fl">tree</b>{"".join(tree_inputs)}\n')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>backport triage matrix</title>\n<style>{CSS}\n{_filter_css(present or STATUSES, len(trees))}"
            "</style>\n</head>\n<body>\n" + body
            + '<table class="m">' + head + "".join(rows) + "</table>\n"
            + f"<footer>generated by backport {escape(matrix['tool']['version'])}</footer>\n</body>\n</html>\n")


def write_matrix(out: Path, run: Any, series: Series, fleet: Fleet, options: PortOptions, *,
                 verify: str | None = None) -> dict[str, Any]:
    matrix = build_matrix(run, series, fleet, options, verify=verify)
    write_atomic(out / "matrix.json", json.dumps(matrix, indent=1, sort_keys=False) + "\n", errors="backslashreplace")
    write_atomic(out / "matrix.csv", render_csv(matrix), errors="backslashreplace")
    write_atomic(out / "matrix.html", render_matrix_html(matrix), errors="backslashreplace")
    return matrix
