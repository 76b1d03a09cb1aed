"""The terminal summary and progress bar (stage: render).

Inputs: the PortResults of a series (or any iterable of work, for the progress bar).
Outputs: ``render_summary`` (a compact rich table, one row per patch, one line per adaptation
the port made to upstream's lines with where it landed, and a totals line;
ANSI colour only when asked, so callers pass ``color=stream.isatty()``; the subjects, which
come from strangers, go through ``backport.safety.render_printable``) and ``track`` (yields
the items of an iterable, showing a rich progress bar on stderr only when it is a terminal and
the work has already taken more than ``delay`` seconds).
"""

from __future__ import annotations

import io
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO, TypeVar

from ..model import Method, PortResult, Severity, Status
from ..safety import render_printable
from .note import find_adaptations, is_doubtful

T = TypeVar("T")

STATUS_STYLE = {Status.CLEAN: "green", Status.REVIEW: "yellow", Status.BLOCKED: "bold red"}
SUMMARY_WIDTH = 100
MAX_ADAPTATION_LINES = 20  # the rest are counted; report.html and checklist.md list them all


def _methods(result: PortResult) -> str:
    counts = Counter(p.method for p in result.placements)
    order = list(Method)
    return ", ".join(f"{n} {m.value}" for m, n in sorted(counts.items(), key=lambda kv: order.index(kv[0])))


def _findings(result: PortResult) -> tuple[int, int, int]:
    c = Counter(f.severity for f in result.findings)
    return c[Severity.ERROR], c[Severity.WARNING], c[Severity.NOTE]


def render_summary(results: Sequence[PortResult], *, color: bool, width: int = SUMMARY_WIDTH) -> str:
    """One row per patch (status, hunks placed, methods, doubtful, adapted, findings E/W/N), a line
    per adaptation (``adapted [1/2] path:line: summary``) and a totals line."""
    from rich.console import Console  # lazy: rich is slow to import
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold" if color else "")
    table.add_column("#", justify="right")
    table.add_column("patch", overflow="ellipsis", no_wrap=True, max_width=28)
    table.add_column("status", min_width=7, no_wrap=True)
    table.add_column("hunks", justify="right", min_width=5, no_wrap=True)
    table.add_column("methods", no_wrap=True, overflow="ellipsis", max_width=22)
    table.add_column("doubtful", justify="right", min_width=8)
    table.add_column("adapted", justify="right", min_width=7)
    table.add_column("E/W/N", justify="right", no_wrap=True, min_width=5)
    for i, r in enumerate(results, 1):
        placed = sum(1 for p in r.placements if p.placed)
        e, w, n = _findings(r)
        table.add_row(str(i), Text(render_printable(r.patch.subject)), Text(r.status.value, style=STATUS_STYLE[r.status]),
                      f"{placed}/{len(r.placements)}", _methods(r) or "-",
                      str(sum(1 for p in r.placements if is_doubtful(p))),
                      str(sum(1 for p in r.placements if p.applied and p.adaptations)), f"{e}/{w}/{n}")
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, color_system="standard" if color else None,
                      width=width, highlight=False, emoji=False, legacy_windows=False)
    console.print(table)
    adaptations = [(i, p, a) for i, r in enumerate(results, 1) for p, a in find_adaptations(r)]
    for i, p, a in adaptations[:MAX_ADAPTATION_LINES]:
        line = Text("  adapted", style="magenta")
        line.append(render_printable(f" [{i}/{len(results)}] {a.path or p.path}:{a.line or p.start}: {a.summary}"))
        console.print(line, overflow="ellipsis", no_wrap=True)
    if len(adaptations) > MAX_ADAPTATION_LINES:
        console.print(f"  and {len(adaptations) - MAX_ADAPTATION_LINES} more adaptations (checklist.md, report.html)")
    statuses = Counter(r.status for r in results)
    hunks = sum(len(r.placements) for r in results)
    unplaced = sum(1 for r in results for p in r.placements if not p.placed)
    e = sum(_findings(r)[0] for r in results)
    w = sum(_findings(r)[1] for r in results)
    total = Text(f"{len(results)} patch{'es' if len(results) != 1 else ''}: ")
    for s in Status:
        total.append(f"{statuses[s]} {s.value}", style=STATUS_STYLE[s] if statuses[s] else "")
        total.append(", " if s is not Status.BLOCKED else "; ")
    adapted = sum(1 for r in results for p in r.placements if p.applied and p.adaptations)
    total.append(f"{hunks - unplaced}/{hunks} hunks placed, " + (f"{adapted} adapted, " if adapted else "")
                 + f"{e} error{'s' if e != 1 else ''}, "
                 f"{w} warning{'s' if w != 1 else ''}")
    console.print(total)
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


def track(items: Iterable[T], *, total: int | None = None, description: str = "porting",
          stream: TextIO | None = None, delay: float = 1.0) -> Iterator[T]:
    """Yield ``items``; on a terminal, show a progress bar once the work has taken ``delay`` seconds."""
    out = stream if stream is not None else sys.stderr
    if total is None and isinstance(items, Sequence):
        total = len(items)
    if not out.isatty():
        yield from items
        return
    start = time.monotonic()
    progress = None
    task = None
    done = 0
    try:
        for item in items:
            if progress is None and time.monotonic() - start > delay:
                from rich.console import Console
                from rich.progress import Progress

                progress = Progress(console=Console(file=out), transient=True)
                progress.start()
                task = progress.add_task(description, total=total, completed=done)
            yield item
            done += 1
            if progress is not None and task is not None:
                progress.update(task, completed=done)
    finally:
        if progress is not None:
            progress.stop()


class DelayedProgress:
    """A progress callback ``(done, total, label)`` for loops that report their own progress.

    Used as a context manager; draws a rich bar on ``stream`` only when it is a terminal and
    the work has taken more than ``delay`` seconds; silent otherwise (and when piped).
    """

    def __init__(self, description: str = "porting", *, stream: TextIO | None = None, delay: float = 1.0) -> None:
        self.description = description
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self._start = time.monotonic()
        self._progress: Any = None  # rich.progress.Progress once shown
        self._task: Any = None

    def __enter__(self) -> DelayedProgress:
        self._start = time.monotonic()
        return self

    def __call__(self, done: int, total: int, label: object = "") -> None:
        if not self.stream.isatty():
            return
        if self._progress is None:
            if time.monotonic() - self._start <= self.delay:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(file=self.stream), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=total)
        text = getattr(label, "subject", label)
        self._progress.update(self._task, completed=done, total=total,
                              description=f"{self.description} {str(text)[:40]}".rstrip())

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
