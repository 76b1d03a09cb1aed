"""Knowledge-base checks (stage: kb). Placeholder until the rule engine lands."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Finding, Patch, Placement, PortOptions, Series, TargetTree


def check_patch(patch: Patch, tree: TargetTree, *, placements: Sequence[Placement] = (),
                series: Series | None = None, options: PortOptions | None = None) -> tuple[Finding, ...]:
    """Findings raised by the kb rules that apply to ``patch`` on ``tree``."""
    return ()
