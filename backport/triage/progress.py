"""The triage progress bar (stage: triage render): cells done, cells per second, time left.

Inputs: calls ``(done, total, record)`` from backport.triage.run as cells finish (the first
call counts the cells reused from an earlier run). Outputs: a rich bar on ``stream`` when it is
a terminal; nothing at all when it is not (piped, redirected, CI), so logs stay clean.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class TriageProgress:
    """A context manager and callback; the rate counts only cells computed by this run."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._bar: Any = None
        self._task: Any = None
        self._start = time.monotonic()
        self._first: int | None = None

    def __enter__(self) -> TriageProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("triage"), BarColumn(), MofNCompleteColumn(), TextColumn("cells"),
                                 TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                 TextColumn("{task.fields[last]}"),
                                 console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("triage", total=None, rate="", last="")
        return self

    def __call__(self, done: int, total: int, record: dict[str, Any] | None) -> None:
        if self._first is None:
            self._first, self._start = done, time.monotonic()
        if self._bar is None:
            return
        elapsed = max(time.monotonic() - self._start, 1e-6)
        computed = done - (self._first or 0)
        rate = f"{computed / elapsed:.2f}/s" if computed else ""
        last = f"{record['tree']} #{record['patch']} {record['status']}" if record else ""
        self._bar.update(self._task, completed=done, total=total, rate=rate, last=last[:50])

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
