"""Which hunks of a series land in the target (stage: deps), so only those provide names.

Inputs: the patches deps looks at (the one checked and the ones before it), the tree deps was
given (the pipeline's overlay, or the target itself), the placements of the checked patch when
the pipeline made them. Outputs: ``Landing.landed(pi, fi, hi) -> bool`` for hunk ``hi`` of file
``fi`` of patch ``pi``: a struct member, macro or function that only an unplaced hunk would
have added is not provided by the series (deps then reports it like any missing name).

How each hunk is judged, cheapest first:
- the checked patch with placements: placed somewhere (held back as doubtful counts: the
  reviewer sees it; only a hunk that fits nowhere provides nothing);
- an earlier patch seen through the pipeline's overlay (which holds what earlier patches
  wrote): every added line of the hunk is in the overlay's file;
- otherwise (``backport deps``, the git am hook): the placement engine's own answer on the
  file as deps sees it (hunks.cascade.locate finds a place at all), lenient where the series itself
  makes the context (a file an earlier patch creates or changes).
Answers are computed on demand (deps asks only for names nothing else provides) and cached.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import LineKind, Patch, Placement, TargetTree


class Landing:
    """Lazy, cached answers to "does this hunk of the series land in the target?"."""

    def __init__(self, patches: Sequence[Patch], current: int, tree: TargetTree, base: TargetTree,
                 placements: Sequence[Placement] = ()) -> None:
        self.patches = patches
        self.current = current
        self.tree = tree
        self.base = base
        self.placements = {(p.file_index, p.hunk_index): p for p in placements}
        self.overlay = hasattr(tree, "changes") and tree is not base
        self._cache: dict[tuple[int, int, int], bool] = {}
        self._lines: dict[tuple[int, str], frozenset[str] | None] = {}

    def landed(self, pi: int, fi: int, hi: int) -> bool:
        key = (pi, fi, hi)
        if key not in self._cache:
            self._cache[key] = self._judge(pi, fi, hi)
        return self._cache[key]

    def any_landed(self, origins: set[tuple[int, int, int]] | None, own: tuple[int, int] | None = None) -> bool:
        """True when no origin is known (a name not from a hunk), when the asking hunk ``own``
        (file, hunk of the checked patch) defines the name itself (its own lines go or stay
        together), or when one of the origins landed."""
        if not origins or (own is not None and (self.current, *own) in origins):
            return True
        return any(self.landed(*o) for o in origins)

    def _judge(self, pi: int, fi: int, hi: int) -> bool:
        patch = self.patches[pi]
        fp = patch.files[fi]
        h = fp.hunks[hi]
        if pi == self.current and self.placements:
            p = self.placements.get((fi, hi))
            return p is not None and p.placed
        added = [ln.text.strip() for ln in h.lines if ln.kind is LineKind.ADDED and ln.text.strip()]
        if pi < self.current and self.overlay:
            have = self._stripped(self.tree, fp.path)
            return have is not None and all(a in have for a in added)
        if self._series_shapes(pi, fp.old_path or fp.path):
            return True  # the context comes from the series itself: no cheap answer, assume it lands
        if fp.is_new or fp.old_path is None:
            return not self.tree.exists(fp.path)
        text = self.tree.read(fp.old_path)
        if text is None:
            return False
        from hunks.cascade import locate
        from hunks.types import HunkSpec

        spec = HunkSpec(kinds=tuple(ln.kind.value for ln in h.lines), lines=tuple(ln.text for ln in h.lines),
                        old_start=h.old_start, section=h.section)
        return locate(text.splitlines(), spec) is not None

    def _series_shapes(self, pi: int, path: str) -> bool:
        """An earlier patch of the series creates or changes ``path``."""
        return any(fp.path == path or fp.new_path == path for p in self.patches[:pi] for fp in p.files)

    def _stripped(self, tree: TargetTree, path: str) -> frozenset[str] | None:
        key = (id(tree), path)
        if key not in self._lines:
            text = tree.read(path)
            self._lines[key] = None if text is None else frozenset(ln.strip() for ln in text.splitlines())
        return self._lines[key]
