"""Definitions the port leaves under another preprocessor condition than their uses (stage:
pipeline, after the ported files are written in memory).

Inputs: each touched file's original lines (the target's) and its ported text. Outputs: one
ERROR ``definition-out-of-scope`` finding per macro whose definition the port moved under a
condition that no longer covers a use of it that the target already had.

A patch that reshapes ``#ifdef`` blocks (splits one in two, moves an ``#endif``, wraps old code
in an ``#else`` branch) was written for upstream's file, where the lines between its hunks are
upstream's. An older tree can have its own lines there. 3b23e4991fb6 ("arm64: implement ftrace
with regs") closes the old ``CONFIG_FUNCTION_GRAPH_TRACER`` block of entry-ftrace.S right after
``ftrace_graph_caller`` and opens a new one before ``return_to_handler``, all of it now inside
``#else /* CONFIG_DYNAMIC_FTRACE_WITH_REGS */``; 4.x trees define the ``save_return_regs`` /
``restore_return_regs`` assembler macros between the two, and ``return_to_handler`` uses them.
Every hunk lands exactly, and the file no longer assembles with the new option on: the macros
now exist only when it is off.

The fact checked is visibility, on the file alone: a macro (``#define NAME`` or an assembler
``.macro NAME``) defined once in the file is visible to a later use when every conditional
branch enclosing the definition also encloses the use (same directive text, same branch). When
that held for a use in the target's file and no longer holds for the same use line in the
ported file, the port changed what the use sees. A file whose ``#if``/``#endif`` do not balance
is not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .model import Finding, Severity, SourceRef
from .needs import RE_PP_ELSE, RE_PP_END, RE_PP_OPEN, RE_WORD

# #define NAME   .macro NAME
RE_DEF = re.compile(r"^\s*(?:#\s*define\s+|\.macro\s+)([A-Za-z_]\w*)")
#: uses reported per macro
MAX_USES = 3
#: judged macros looked for in a line's text before its words are split (see _uses)
MAX_PREFILTER = 16

Frame = tuple[str, int]  # (the opening directive, normalised; branch number: 0 if, 1+ elif/else)


def _stacks(lines: Sequence[str]) -> list[tuple[Frame, ...]] | None:
    """The enclosing conditional branches of each line; None when the directives do not balance.
    Lines without a ``#`` share the current stack's tuple (no directive can start there)."""
    out: list[tuple[Frame, ...]] = []
    stack: list[Frame] = []
    cur: tuple[Frame, ...] = ()
    for line in lines:
        if "#" not in line:
            out.append(cur)
            continue
        if RE_PP_OPEN.match(line):
            out.append(cur)
            stack.append((" ".join(line.split()), 0))
            cur = tuple(stack)
            continue
        if RE_PP_ELSE.match(line):
            if not stack:
                return None
            stack[-1] = (stack[-1][0], stack[-1][1] + 1)
            cur = tuple(stack)
        elif RE_PP_END.match(line):
            if not stack:
                return None
            stack.pop()
            cur = tuple(stack)
        out.append(cur)
    return out if not stack else None


def _visible(defined: tuple[Frame, ...], used: tuple[Frame, ...]) -> bool:
    return all(f in used for f in defined)


def _uses(lines: Sequence[str], stacks: list[tuple[Frame, ...]],
          names: set[str] | None = None) -> dict[str, dict[str, bool]]:
    """For each macro defined once (of ``names``, when given): {use line (stripped): visible
    there} over the lines after it. A macro defined under no condition is visible everywhere
    after it and is left out unless named. The lines after the first judged definition are
    indexed by word once, for the judged names only (a file has hundreds of #defines: a regex
    per macro over every line was the pipeline's slowest check), and not at all when no
    definition is judged (most files)."""
    defs: dict[str, list[int]] = {}
    for k, line in enumerate(lines):
        m = _def(line)
        if m:
            defs.setdefault(m.group(1), []).append(k)
    judged = {name: at[0] for name, at in defs.items()
              if len(at) == 1 and (name in names if names is not None else bool(stacks[at[0]]))}
    if not judged:  # defined per branch (#ifdef ... #else ...) or redefined: not judged
        return {}
    at_words: dict[str, list[int]] = {}
    # a line without any judged name in its text has none among its words (a regex of a few
    # names skips most lines; of many, it is slower than the words themselves)
    has_name = re.compile("|".join(map(re.escape, judged))).search if len(judged) <= MAX_PREFILTER else bool
    for k in range(min(judged.values()) + 1, len(lines)):
        line = lines[k]
        if has_name(line) and not _def(line) and not line.lstrip().startswith(("#", "/*", "*", "//")):
            for w in judged.keys() & RE_WORD.findall(line):
                at_words.setdefault(w, []).append(k)
    out: dict[str, dict[str, bool]] = {}
    for name, d in judged.items():
        seen: dict[str, bool] = {}
        for k in at_words.get(name, ()):
            if k > d:
                key = lines[k].strip()
                seen[key] = seen.get(key, True) and _visible(stacks[d], stacks[k])
        if seen:
            out[name] = seen
    return out


def _def(line: str) -> re.Match[str] | None:
    """RE_DEF's match, tried only on lines that can hold one."""
    return RE_DEF.match(line) if "define" in line or ".macro" in line else None


def check_file(path: str, old: Sequence[str], new: Sequence[str], ref: SourceRef | None = None) -> list[Finding]:
    """``definition-out-of-scope`` findings for ``path`` (see the module docstring)."""
    if old == new or not any(RE_DEF.match(x) for x in new):
        return []
    so, sn = _stacks(old), _stacks(new)
    if so is None or sn is None:
        return []
    after = _uses(new, sn)
    before = _uses(old, so, set(after)) if after else {}
    found: list[Finding] = []
    for name, uses in after.items():
        lost = [u for u, ok in uses.items() if not ok and before.get(name, {}).get(u)]
        if not lost:
            continue
        d = next(k for k, x in enumerate(new) if (m := RE_DEF.match(x)) and m.group(1) == name)
        conds = " / ".join(f"the #else of {t}" if b else t for t, b in sn[d]) or "no condition"
        found.append(Finding(
            "definition-out-of-scope", Severity.ERROR,
            f"{path}: after the port, {name} (defined at {path}:{d + 1} under {conds}) is no longer visible "
            f"where the target already used it: {lost[0]!r}" + (f" and {len(lost) - 1} more" if len(lost) > 1 else ""),
            ref, (f"{path}:{d + 1}",) + tuple(f"use: {u}" for u in lost[:MAX_USES]),
            "the patch moves conditional bounds around lines the target has and upstream does not: "
            "move the definition (or the new #if/#endif) so both sides see it"))
    return found


def check_files(states: Mapping[str, Any], new_files: Iterable[tuple[str, str | None]],
                ref: SourceRef | None = None) -> list[Finding]:
    """check_file over the pipeline's touched files: ``states`` maps a path to its FileState
    (``lines``, ``existed``), ``new_files`` gives the ported texts (None: deleted)."""
    found: list[Finding] = []
    for path, text in new_files:
        st = states.get(path)
        if text is None or st is None or not st.existed:
            continue
        found.extend(check_file(path, st.lines, text.splitlines(), ref))
    return found
