#!/usr/bin/env python3
"""Mine the token-level adaptations humans made (stage: bench, reporting only).

Inputs: a kbench case set (``../shared/bench/public`` by default; ``--set`` another, e.g. the
per-commit set): each case's upstream.patch and expected.patch (the human backport).
Outputs: a table of the kinds of substitution humans made in the +/- lines of corresponding hunks
(identifier renamed, argument added or dropped, wrapper added or removed, field / macro / type /
literal swapped, ...), with counts and two examples each, printed and, with ``--out``, written as
Markdown (bench/ADAPTATIONS.md).

Method: hunks of the two diffs are paired when they touch the same file and their changed lines
are at least half similar (bench/ctokens.py ``pair_hunks``, one to one, best first); inside a pair
the removed lines and the added lines are aligned separately (difflib over whitespace-normalised
lines; a replaced block pairs its lines in order); every corresponding pair that differs is
token-diffed with tree-sitter-c tokens (``ctokens.tokens``: a diff line is a fragment, which
tree-sitter lexes with error recovery and exact strings, comments and operators; a regex lexer
backs it up when recovery drops text) and each differing span is classified by the rules in
``classify``. A pair more than ``--max-edit`` token edits apart is counted as "line rewritten"
(not a token adaptation). Removed lines show how the target spells code upstream deletes
(item 2 of issue 10); added lines show how the human rewrote upstream's new code (item 3).

Usage::

    bench/mine_adaptations.py                      # the table on stdout
    bench/mine_adaptations.py --out bench/ADAPTATIONS.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ctokens import hunk_changes, pair_hunks, pair_lines, token_edits, tokens  # noqa: E402

DEFAULT_SET = HERE.parent.parent / "shared" / "bench" / "public"
RE_IDENT = re.compile(r"^[A-Za-z_]\w*$")
RE_MACRO = re.compile(r"^[A-Z_][A-Z0-9_]*$")
RE_LITERAL = re.compile(r'^(?:\d[\w.]*|0[xX][0-9a-fA-F]+\w*|".*"|\'.*\')$')
TYPE_WORDS = frozenset("void int long short char unsigned signed bool u8 u16 u32 u64 s8 s16 s32 s64 size_t "
                       "ssize_t __u8 __u16 __u32 __u64 __le16 __le32 __le64 __be16 __be32 __be64 const static "
                       "inline struct union enum".split())
#: wrappers newer trees put around a plain read or write (READ_ONCE(x) for x)
ACCESS_WRAPPERS = frozenset("READ_ONCE WRITE_ONCE data_race rcu_dereference rcu_access_pointer "
                            "rcu_dereference_protected smp_load_acquire unlikely likely".split())


def _ident(t: str) -> bool:
    return bool(RE_IDENT.match(t))


def classify(a: tuple[str, ...], b: tuple[str, ...], op: str, before: str, after: str) -> str:
    """The kind of one differing span: upstream tokens ``a`` became ``b`` (``op`` from difflib),
    ``before`` / ``after`` the tokens around it in the upstream line."""
    if op == "replace" and len(a) == 1 and len(b) == 1:
        x, y = a[0], b[0]
        if x in TYPE_WORDS or y in TYPE_WORDS:
            return "type changed (e.g. void -> int)"
        if _ident(x) and _ident(y):
            if before in ("->", "."):
                return "field swapped"
            if after == "(":
                return "function renamed"
            if RE_MACRO.match(x) and RE_MACRO.match(y):
                return "macro/constant swapped"
            if before in ("struct", "union", "enum"):
                return "type changed (e.g. void -> int)"
            return "identifier renamed (local, variable, type)"
        if RE_LITERAL.match(x) and RE_LITERAL.match(y):
            return "literal changed"
        if not _ident(x) and not _ident(y):
            return "operator changed"
    if op == "insert" and len(b) == 2 and _ident(b[0]) and b[1] == "(":
        return "wrapper added (e.g. READ_ONCE(x))" if b[0] in ACCESS_WRAPPERS else "call wrapped around an expression"
    if op == "delete" and len(a) == 2 and _ident(a[0]) and a[1] == "(":
        return "wrapper removed (e.g. READ_ONCE(x) -> x)" if a[0] in ACCESS_WRAPPERS else "call unwrapped"
    if op == "insert" and b and (b[-1] == "," or b[0] == ","):
        return "argument added"
    if op == "delete" and a and (a[-1] == "," or a[0] == ","):
        return "argument dropped"
    if op in ("insert", "delete") and set(a + b) <= {")", "(", ";"}:
        return "parenthesis (part of a wrapper or call change)"
    if op in ("insert", "delete") and all(t in TYPE_WORDS for t in a + b):
        return "type changed (e.g. void -> int)"
    if op == "replace" and any(_ident(t) and t not in TYPE_WORDS for t in a) and \
            any(_ident(t) and t not in TYPE_WORDS for t in b) and abs(len(a) - len(b)) >= 1:
        return "expression respelled (call <-> field access, helper open-coded)"
    if any(t.startswith(("/*", "//")) for t in a + b):
        return "comment changed"
    if op in ("insert", "delete") and set(a + b) & {".", "->"} and all(_ident(t) or t in (".", "->") for t in a + b):
        return "member path changed (a.b.c -> a.c)"
    if op == "insert":
        return "tokens inserted (condition or expression extended)"
    if op == "delete":
        return "tokens deleted (condition or expression shortened)"
    return "other token change"


def mine(set_dir: Path, max_edit: int) -> tuple[dict[tuple[str, str], list[tuple[str, str, str]]], dict[str, int]]:
    """(role, kind) -> [(case, upstream line, expected line)] and overall counters."""
    man = json.loads((set_dir / "MANIFEST.json").read_text())
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    stats = {"cases": 0, "adapted": 0, "hunk pairs": 0, "differing line pairs": 0, "cases with a token change": 0}
    # a context line pair differing is paired only within a hunk pair; the diffs' own context
    # windows can start at other lines (a line more or fewer), which pair_lines absorbs
    for c in man["cases"]:
        cid = c.get("id") or c.get("case")
        d = set_dir / cid
        meta = json.loads((d / "meta.json").read_text())
        stats["cases"] += 1
        adapted = meta.get("label") == "adapted"
        stats["adapted"] += adapted
        up = hunk_changes((d / "upstream.patch").read_text(errors="replace"))
        ex = hunk_changes((d / "expected.patch").read_text(errors="replace"))
        hit = False
        for i, j in pair_hunks(up, ex):
            stats["hunk pairs"] += 1
            roles = [("context", up[i].context, ex[j].context)]
            if adapted:  # identical cases have equal +/- lines by definition
                roles += [("removed", up[i].removed, ex[j].removed), ("added", up[i].added, ex[j].added)]
            for role, xs, ys in roles:
                # context windows of the two diffs can start at other lines: only lines that are
                # clearly the same line count as corresponding there
                for x, y in pair_lines(xs, ys, min_ratio=0.6 if role == "context" else 0.0):
                    if x == y or tokens(x) == tokens(y):
                        continue
                    stats["differing line pairs"] += 1
                    edits = token_edits(x, y)
                    if sum(max(len(p), len(q)) for _, p, q in edits) > max_edit:
                        found[(role, "line rewritten (beyond a token change)")].append((cid, x, y))
                        continue
                    hit = True
                    ta = tokens(x)
                    kinds = set()
                    pos = 0
                    for op, p, q in edits:
                        # where the span sits in the upstream line: find its first token from pos
                        at = _find(ta, p, pos) if p else _anchor(ta, x, y, q)
                        before = ta[at - 1] if at > 0 else ""
                        after = ta[at + len(p)] if at + len(p) < len(ta) else ""
                        kinds.add(classify(p, q, op, before, after))
                        pos = at + len(p)
                    if "wrapper added (e.g. READ_ONCE(x))" in kinds or "call wrapped around an expression" in kinds \
                            or "wrapper removed (e.g. READ_ONCE(x) -> x)" in kinds or "call unwrapped" in kinds:
                        kinds.discard("parenthesis (part of a wrapper or call change)")
                    for k in kinds:
                        found[(role, k)].append((cid, x, y))
        stats["cases with a token change"] += hit
    return found, stats


def _find(ta: tuple[str, ...], p: tuple[str, ...], pos: int) -> int:
    for k in range(pos, len(ta) - len(p) + 1):
        if ta[k:k + len(p)] == p:
            return k
    return pos


def _anchor(ta: tuple[str, ...], x: str, y: str, q: tuple[str, ...]) -> int:
    """Where an insertion lands in the upstream line (its opcode position)."""
    import difflib

    for op, i1, _i2, _j1, _j2 in difflib.SequenceMatcher(None, ta, tokens(y), autojunk=False).get_opcodes():
        if op == "insert" and tokens(y)[_j1:_j2] == q:
            return i1
    return 0


def render(found: dict[tuple[str, str], list[tuple[str, str, str]]], stats: dict[str, int], set_dir: Path,
           max_edit: int) -> str:
    out = [f"Set: `{set_dir}`; " + ", ".join(f"{k}: {v}" for k, v in stats.items())
           + f"; a line pair more than {max_edit} token edits apart counts as rewritten.", ""]
    what = {"added": "upstream's new code as the human wrote it (adapted cases)",
            "removed": "upstream's deleted code as the target spells it (adapted cases)",
            "context": "upstream's context lines as the human's diff shows them (all cases, identical too)"}
    for role in ("added", "removed", "context"):
        rows = sorted(((k, v) for (r, k), v in found.items() if r == role), key=lambda kv: -len(kv[1]))
        out += [f"### {role} lines: {what[role]}",
                "", "| kind | line pairs | cases | example 1 (upstream -> human) | example 2 |", "|---|---|---|---|---|"]
        for kind, v in rows:
            cases = sorted({c for c, _, _ in v})
            ex = []
            seen = set()
            for c, x, y in v:
                if c in seen:
                    continue
                seen.add(c)
                ex.append(f"`{c}`: `{_cell(x)}` -> `{_cell(y)}`")
                if len(ex) == 2:
                    break
            ex += [""] * (2 - len(ex))
            out.append(f"| {kind} | {len(v)} | {len(cases)} | {ex[0]} | {ex[1]} |")
        out.append("")
    return "\n".join(out)


def _cell(s: str, width: int = 70) -> str:
    s = s.replace("|", "\\|").replace("`", "'")
    return s if len(s) <= width else s[:width - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, action="append", help="a case set (repeatable; default public)")
    ap.add_argument("--max-edit", type=int, default=8, help="token edits beyond which a line is rewritten")
    ap.add_argument("--out", type=Path, help="write the Markdown summary here (bench/ADAPTATIONS.md)")
    args = ap.parse_args(argv)
    parts = []
    for s in args.set or [DEFAULT_SET]:
        found, stats = mine(s, args.max_edit)
        parts.append(render(found, stats, s, args.max_edit))
    text = "\n".join(parts)
    print(text)
    if args.out:
        args.out.write_text(HEADER + text)
    return 0


HEADER = """# Adaptations humans made (mined from the benchmark sets)

Written by `bench/mine_adaptations.py --out bench/ADAPTATIONS.md` (read its docstring for the
method). Corresponding hunks of upstream.patch and expected.patch (the human 6.1 backport) are
paired, their removed and added lines aligned, and every corresponding line pair that differs is
token-diffed (tree-sitter-c tokens); each differing span is classified. A line pair can count
under several kinds (a renamed call that also gains an argument). Reporting only: backport never
reads expected patches. For hunks/adapt.py and the kb API table: the added-line kinds are what
token adaptation must carry into new code; the removed-line kinds are how the target spells
what upstream deletes.

"""


if __name__ == "__main__":
    sys.exit(main())
