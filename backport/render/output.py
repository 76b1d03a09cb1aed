"""Writing a port's outputs (stage: render). Placeholder: the ported diffs only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..model import PortResult, Series


def write_outputs(results: Sequence[PortResult], series: Series, out_dir: str, *,
                  signoff: str | None = None) -> tuple[str, ...]:
    """Write NNNN-subject.patch (and later report.json, checklist.md, report.html) into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, r in enumerate(results, 1):
        slug = re.sub(r"[^A-Za-z0-9]+", "-", r.patch.subject).strip("-")[:52] or "patch"
        p = out / f"{i:04d}-{slug}.patch"
        p.write_text(r.text)
        written.append(str(p))
    return tuple(written)
