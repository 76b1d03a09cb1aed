"""hunks: the placement engine. Works on lists of lines; knows no git, files, CLI or kernel.

Public API (0-based line indices throughout):

- ``hunks.cascade.locate(target, spec, *, hint, max_fuzz, score_cutoff, ambiguity_margin, base,
  language) -> Match | None``: one hunk, the cascade exact -> offset -> whitespace ->
  already-applied -> 3-way (with ``base``) -> fuzz -> fuzzy -> syntax -> removed lines alone,
  and, when nothing reaches the bar, the hunk in parts at the context between its change groups
  (hunks.split, method ``split``);
- ``hunks.cascade.find_applied(target, spec, *, hint=None) -> Match | None``;
- ``hunks.order.locate_file(target, specs, **same options) -> list[Match | None]``: all hunks of
  one file, each expected at the previous one's offset, overlaps resolved by order and spacing;
- ``hunks.syntax.language_for(path)``, ``anchor_name(section)``, ``find_anchor(lines, name, *,
  language)``, ``find_anchors(...)``, ``find_enclosing(lines, line, *, language)``.

Modules: types (HunkSpec, Match, Candidate), score (similarity, confidence), align (line
alignment, replacement keeping the target's context), exact, applied, fuzz, fuzzy, syntax,
threeway, removed, split, cascade, order.
"""
