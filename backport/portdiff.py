"""Ported diff rendering (stage: result): the git diff of one file of the port.

Inputs: the file's path(s), its text before and after the port (None = absent), git modes, and
optionally the edits the placements made (``(start, end, new_lines)`` over the old lines, sorted,
not overlapping).
Outputs: git-style diff text (``diff --git`` header, ``@@`` hunks with the target's own context and
git's default funcname section), which ``git am`` / ``git apply`` accept.

The diff is libgit2's (Myers with git's indent heuristic), the shape git and so upstream give. When
the edits are known and libgit2's pairing crosses an edit's edge (two applied hunks next to each other:
an inserted ``gfp_mask = ...`` above ``might_sleep();`` and the old ``gfp_mask = ...`` below it
removed reads, re-diffed, as ``-might_sleep();`` ... ``+might_sleep();``), the diff is rendered
from the edits themselves, so each applied hunk keeps its own +/- lines and no line the port
leaves alone is shown removed and added again.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

import pygit2
from pygit2.enums import DiffOption

# static int foo(struct bar *b)      (git's default funcname: a line starting a definition)
RE_FUNCNAME = re.compile(r"^[A-Za-z_$]")
# @@ -12,7 +12,8 @@
RE_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")

Edit = tuple[int, int, Sequence[str]]
Op = tuple[str, str, int, int]  # (origin ' ', '-', '+'; text; old index; new index), indices 0-based


def split_text(text: str) -> tuple[list[str], bool]:
    """Lines without terminators, and whether the text ends with a newline."""
    if not text:
        return [], True
    final = text.endswith("\n")
    lines = text.split("\n")
    if final:
        lines.pop()
    return lines, final


def _funcname(lines: Sequence[str], start: int) -> str:
    for i in range(min(start, len(lines)) - 1, -1, -1):
        if RE_FUNCNAME.match(lines[i]):
            return lines[i].rstrip()[:80]
    return ""


def _keepends(lines: Sequence[str], final_newline: bool) -> list[str]:
    out = [ln + "\n" for ln in lines]
    if out and not final_newline:
        out[-1] = out[-1][:-1]
    return out


def _encode(lines: Sequence[str], final: bool = True) -> bytes:
    return "".join(_keepends(lines, final)).encode("utf-8", "surrogateescape")


def _git_patch(old: bytes | None, new: bytes | None, context: int) -> pygit2.Patch:
    """libgit2's diff of two buffers; the caller keeps both alive while it reads the patch (the
    patch's lines point into them)."""
    return pygit2.Patch.create_from(old, new, context_lines=context, flag=DiffOption.INDENT_HEURISTIC)


def _keeps_edges(patch: pygit2.Patch, edits: Sequence[Edit]) -> bool:
    """Whether the diff's alignment passes through both ends of every edit (old start/end to
    new start/end): then no line is paired across two edits or across an edit's edge.

    The alignment passes through (o, n) when the old lines kept before o are as many as the new
    lines kept before n."""
    removed: list[int] = []  # ascending: the hunks and their lines come in file order
    added: list[int] = []
    for h in patch.hunks:
        for ln in h.lines:
            if ln.origin == "-":
                removed.append(ln.old_lineno - 1)
            elif ln.origin == "+":
                added.append(ln.new_lineno - 1)
    shift = 0  # new index minus old index at the current edge
    for start, end, new in edits:
        for o, n in ((start, start + shift), (end, start + shift + len(new))):
            if o - bisect_left(removed, o) != n - bisect_left(added, n):
                return False
        shift += len(new) - (end - start)
    return True


def edit_ops(old_lines: Sequence[str], edits: Sequence[Edit]) -> list[Op]:
    """Every line of the file as kept, removed or added, each edit diffed on its own.

    Within one edit (a placed hunk's region: its context, removed and added lines) libgit2 pairs
    the lines as the hunk does; lines outside every edit are kept."""
    ops: list[Op] = []
    i = j = 0  # next old / new index

    def keep_to(old_stop: int) -> None:
        nonlocal i, j
        while i < old_stop:
            ops.append((" ", old_lines[i], i, j))
            i += 1
            j += 1

    for start, end, new in edits:
        keep_to(start)
        old_part = list(old_lines[start:end])
        base_i, base_j = i, j
        old_bytes, new_bytes = _encode(old_part), _encode(new)
        local = _git_patch(old_bytes, new_bytes, 0)
        for h in local.hunks:
            for ln in h.lines:
                if ln.origin == "-":
                    keep_to(base_i + ln.old_lineno - 1)
                    ops.append(("-", old_part[ln.old_lineno - 1], i, j))
                    i += 1
                elif ln.origin == "+":
                    while j < base_j + ln.new_lineno - 1:  # context before it: equal on both sides
                        ops.append((" ", old_lines[i], i, j))
                        i += 1
                        j += 1
                    ops.append(("+", new[ln.new_lineno - 1], i, j))
                    j += 1
        keep_to(end)
    keep_to(len(old_lines))
    return ops


def _range(start: int, count: int) -> str:
    return f"{start}" if count == 1 else f"{start},{count}"


def render_ops(old_lines: Sequence[str], ops: Sequence[Op], context: int = 3) -> list[str]:
    """``@@`` hunks (git's grouping: changes closer than 2*context share a hunk) of an op list."""
    changed = [k for k, op in enumerate(ops) if op[0] != " "]
    if not changed:
        return []
    groups: list[list[int]] = [[changed[0], changed[0]]]
    for k in changed[1:]:
        if k - groups[-1][1] - 1 <= 2 * context:
            groups[-1][1] = k
        else:
            groups.append([k, k])
    out: list[str] = []
    for first, last in groups:
        lo, hi = max(0, first - context), min(len(ops), last + context + 1)
        part = ops[lo:hi]
        n_old = sum(op[0] != "+" for op in part)
        n_new = sum(op[0] != "-" for op in part)
        o_start = part[0][2] + 1 if n_old else part[0][2]
        n_start = part[0][3] + 1 if n_new else part[0][3]
        sec = _funcname(old_lines, o_start - 1 if n_old else o_start)
        out.append(f"@@ -{_range(o_start, n_old)} +{_range(n_start, n_new)} @@" + (f" {sec}" if sec else "") + "\n")
        out += [f"{op[0]}{op[1]}\n" for op in part]
    return out


def render_file_diff(old_path: str | None, new_path: str | None, old_text: str | None,
                     new_text: str | None, *, context: int = 3, old_mode: str | None = None,
                     new_mode: str | None = None, edits: Sequence[Edit] | None = None) -> str:
    """A git-style diff of one file (None text = absent), with the target's own context.

    ``edits``, when given, are the changes that turned old into new: a libgit2 pairing that
    crosses an edit's edge (pairs a line of one edit with a line of another or of the lines
    between) gives way to the edits' own lines."""
    old_lines, old_final = split_text(old_text or "")
    new_lines, new_final = split_text(new_text or "")
    a = old_path if old_path is not None else new_path
    b = new_path if new_path is not None else old_path
    head = [f"diff --git a/{a} b/{b}\n"]
    if old_text is None:
        head.append(f"new file mode {new_mode or '100644'}\n")
    elif new_text is None:
        head.append(f"deleted file mode {old_mode or '100644'}\n")
    else:
        if old_mode and new_mode and old_mode != new_mode:
            head += [f"old mode {old_mode}\n", f"new mode {new_mode}\n"]
        if old_path != new_path:
            head += [f"rename from {old_path}\n", f"rename to {new_path}\n"]
    if old_text == new_text:
        return "".join(head) if len(head) > 1 else ""
    fromfile = f"a/{a}" if old_text is not None else "/dev/null"
    tofile = f"b/{b}" if new_text is not None else "/dev/null"
    body = [f"--- {fromfile}\n", f"+++ {tofile}\n"]
    # libgit2's diff (Myers with git's indent heuristic): the port's hunks take the shape git gives
    # them, the shape of upstream's own patch, where difflib pairs moved or repeated lines otherwise
    old_bytes = _encode(old_lines, old_final) if old_text is not None else None
    new_bytes = _encode(new_lines, new_final) if new_text is not None else None
    patch = _git_patch(old_bytes, new_bytes, context)
    if edits and old_text is not None and new_text is not None and old_final and new_final \
            and not _keeps_edges(patch, edits):
        ops = edit_ops(old_lines, edits)
        if [op[1] for op in ops if op[0] != "-"] == new_lines:
            hunks = render_ops(old_lines, ops, context)
            return "".join(head + body + hunks) if hunks else ""
    for h in patch.hunks:
        hm = RE_HUNK_HEADER.match(h.header)
        frame = h.header[:h.header.index(" @@") + 3] if hm else h.header.rstrip("\n")
        sec = _funcname(old_lines, h.old_start - 1 if h.old_lines else h.old_start)
        body.append(frame + (f" {sec}" if sec else "") + "\n")
        for ln in h.lines:
            text = ln.raw_content.decode("utf-8", "surrogateescape")
            body.append(ln.origin + text if ln.origin in " +-" else text)
    return "".join(head + body) if patch.hunks else ""
