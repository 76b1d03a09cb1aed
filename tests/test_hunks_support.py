"""Helpers for the hunks tests: build HunkSpecs and miniature kernel-like files from text."""

from __future__ import annotations

import re

from hunks.types import HunkSpec

# @@ -12,7 +12,8 @@ static int foo(void)
RE_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$")


def spec(text: str, old_start: int | None = None, section: str | None = None) -> HunkSpec:
    """A HunkSpec from unified-hunk text (an optional ``@@`` header line first)."""
    kinds: list[str] = []
    lines: list[str] = []
    start, sec = 1, ""
    for raw in text.splitlines():
        m = RE_HEADER.match(raw)
        if m:
            start, sec = int(m.group(1)), m.group(2)
            continue
        if raw and raw[0] in "+- ":
            kinds.append(raw[0])
            lines.append(raw[1:])
        else:  # a bare line (blank lines lose their " " in editors) is context
            kinds.append(" ")
            lines.append(raw)
    return HunkSpec(tuple(kinds), tuple(lines), start if old_start is None else old_start,
                    sec if section is None else section)


def apply(target: list[str] | tuple[str, ...], match) -> list[str]:
    """The target with a Match applied."""
    return list(target[: match.start]) + list(match.replacement) + list(target[match.end:])


def c_file(n_funcs: int = 30, body: int = 6, prefix: str = "fn") -> list[str]:
    """A C file of ``n_funcs`` distinct functions, each ``body`` statements long."""
    out = ["// SPDX-License-Identifier: GPL-2.0", "#include <linux/kernel.h>", ""]
    for f in range(n_funcs):
        out.append(f"static int {prefix}_{f}(struct dev_{f} *d)")
        out.append("{")
        for k in range(body):
            out.append(f"\td->field_{f}_{k} = compute_{k}(d, {f * 10 + k});")
        out.append("\treturn 0;")
        out.append("}")
        out.append("")
    return out
