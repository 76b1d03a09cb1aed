"""Writing a port into the target tree (stage: apply). Placeholder until the atomic version lands."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ApplyError
from .model import PortResult


def apply_results(root: str, results: Sequence[PortResult], *, force: bool = False) -> str:
    """Write every result's new_files into the tree at ``root`` atomically; return the record path."""
    raise ApplyError("--apply is not implemented yet")
