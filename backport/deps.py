"""Missing-dependency analysis (stage: deps). Placeholder until the analysis lands."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Finding, Patch, Placement, PortOptions, Series, TargetTree


def check_patch(patch: Patch, tree: TargetTree, *, placements: Sequence[Placement] = (),
                series: Series | None = None, options: PortOptions | None = None) -> tuple[Finding, ...]:
    """Findings for what ``patch`` needs that ``tree`` lacks."""
    return ()
