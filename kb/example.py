"""The bundled example (stage: demo): find examples/ftrace-with-regs and port it.

Where: the working directory's examples/, the package data installed with the tool
(``backport.examples``, read through importlib.resources), or a source checkout.

Inputs: an output directory (or None for a temporary one). Outputs: the series, the
PortResults of porting examples/ftrace-with-regs/series.mbox onto
examples/ftrace-with-regs/tree, and the paths written by render.output.write_outputs.
The example is a miniature 4.9-era arm64 tree and a 4.20-era "ftrace with regs" series; its
findings (kb hazards, a missing helper) are the point of the demo, not a failure.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backport.errors import TreeError
from backport.model import PortOptions, PortResult, Series

EXAMPLE = Path("examples") / "ftrace-with-regs"


@dataclass(frozen=True, slots=True)
class DemoRun:
    series: Series
    results: tuple[PortResult, ...]
    example: str  # the example directory used
    out_dir: str
    written: tuple[str, ...]


def packaged_example() -> Path | None:
    """The example installed with the tool: ``examples/`` ships as the data-only package
    ``backport.examples`` (pyproject maps it), found through importlib.resources; None in a
    source checkout or an editable install, which have it at the top of the checkout."""
    from importlib.resources import files

    try:
        d = files("backport").joinpath("examples", EXAMPLE.name)
    except (ModuleNotFoundError, TypeError):
        return None
    # an installed package on disk is a pathlib.Path; a zipped one cannot be a tree to port
    if isinstance(d, Path) and (d / "series.mbox").is_file() and (d / "tree").is_dir():
        return d
    return None


def find_example(start: str | None = None) -> Path | None:
    """examples/ftrace-with-regs under ``start`` (default: the working directory), else the copy
    installed with the tool (``packaged_example``), else next to the sources (a checkout or an
    editable install); None when none has it."""
    candidates = [Path(start or os.getcwd()) / EXAMPLE, packaged_example(),
                  Path(__file__).resolve().parent.parent / EXAMPLE]
    for d in candidates:
        if d is not None and (d / "series.mbox").is_file() and (d / "tree").is_dir():
            return d
    return None


def run_demo(out_dir: str | None = None, *, example: str | None = None,
             options: PortOptions | None = None) -> DemoRun:
    """Port the bundled example and write its outputs (patches, checklist, report) to out_dir."""
    from backport.ingest import load_series
    from backport.pipeline import port_series
    from backport.render.output import write_outputs
    from backport.target import load_tree

    d = Path(example) if example else find_example()
    if d is None:
        raise TreeError(f"the bundled example {EXAMPLE} was not found (neither installed with backport nor in the "
                        "working directory); reinstall backport or run from its source directory")
    series = load_series([str(d / "series.mbox")])
    tree = load_tree(str(d / "tree"))
    results = port_series(series, tree, options=options or PortOptions())
    out = out_dir or tempfile.mkdtemp(prefix="backport-demo-")
    written = write_outputs(results, series, out)
    return DemoRun(series=series, results=results, example=str(d), out_dir=out, written=tuple(written))


def render_demo(run: DemoRun, *, color: bool = False) -> str:
    """The demo's report: the summary table, then every finding with its evidence and hint."""
    from backport.pipeline import render_plain_summary

    try:
        from backport.render.summary import render_summary

        parts = [render_summary(run.results, color=color)]
    except ImportError:
        parts = [render_plain_summary(run.results)]
    total = len(run.results)
    for i, r in enumerate(run.results, 1):
        for f in r.findings:
            lines = [f"[{i}/{total}] {f.severity}: {f.code}: {f.message}"]
            lines += [f"    {ev}" for ev in f.evidence]
            if f.hint:
                lines.append(f"    hint: {f.hint}")
            parts.append("\n".join(lines))
    parts.append(f"wrote {len(run.written)} files to {run.out_dir} (checklist.md, report.html, ported patches)")
    return "\n\n".join(parts)
