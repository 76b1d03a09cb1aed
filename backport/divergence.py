"""Divergence checks (stage: deps, per hunk): where the target differs from the upstream base.

Inputs: the upstream base's lines of a file (its exact pre-image), the target's lines, a hunk and
the engine's Match for it. Outputs: Findings (``context-diverged``, ``function-diverged``,
``base-mismatch``, ``missing-identifier``, and without the base ``signature-diverged``) or None: a clean apply is not proof of the same meaning,
and these name the lines a human adapts a backport around.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from hunks.align import indent_width
from hunks.cascade import file_words
from hunks.syntax import anchor_name, find_anchor, find_enclosing
from hunks.types import Match

from .model import FilePatch, Finding, Hunk, LineKind, Severity, SourceRef

# kmalloc_array  (an identifier worth checking: 3+ characters)
RE_IDENT = re.compile(r"\b[A-Za-z_]\w{2,}\b")
#: lines around a hunk compared between the upstream base and the target when no function is known
DIVERGENCE_WINDOW = 3
#: functions longer than this are compared only around the hunk
MAX_FUNCTION_LINES = 400
MAX_EVIDENCE = 8
#: names too common to tie a distant difference to a hunk
COMMON_WORDS = frozenset("""
    if else for while return int unsigned long char void struct static const sizeof goto break
    continue switch case default bool true false NULL u8 u16 u32 u64 s32 size_t ret err rc dev data
    inline extern enum union signed short define include endif ifdef ifndef
""".split())


def _region(lines: Sequence[str], start: int, end: int, section: str, language: str) -> tuple[int, int]:
    """The enclosing function of lines[start:end] when the section names it, else a small window."""
    name = anchor_name(section) if section else None
    if name:
        span = find_anchor(list(lines), name, language=language)
        if span is not None:
            s, e = span
            if s <= start and e >= end and e - s <= MAX_FUNCTION_LINES:
                return s, e
    return max(0, start - DIVERGENCE_WINDOW), min(len(lines), end + DIVERGENCE_WINDOW)


# * a comment line   /   /* a comment */   /   // a comment
RE_COMMENT_LINE = re.compile(r"^\s*(?:/?\*|//)")


def _code_lines(lines: Sequence[str], start: int, end: int) -> list[tuple[int, str]]:
    """(index, whitespace-normalised text) of the lines that carry code: blank lines and
    comment-only lines are left out, so a reworded comment is not a divergence."""
    out = []
    for i in range(start, end):
        text = " ".join(lines[i].split())
        if text and not RE_COMMENT_LINE.match(text):
            out.append((i, text))
    return out


def _find_preimage(base: Sequence[str], h: Hunk) -> int | None:
    pre = list(h.old_lines)
    guess = max(0, h.old_start - 1) if h.old_count else h.old_start
    if list(base[guess:guess + len(pre)]) == pre:
        return guess
    if not pre:
        return None
    for i in range(len(base) - len(pre) + 1):
        if base[i] == pre[0] and list(base[i:i + len(pre)]) == pre:
            return i
    return None


def check_divergence(base: Sequence[str], lines: Sequence[str], h: Hunk, m: Match, *, path: str,
                     language: str, label: str, ref: SourceRef | None) -> Finding | None:
    """A WARNING when the code the hunk touches differs between the upstream base and the target:
    exactly where a human adapts a backport, even if the hunk itself applied cleanly."""
    b0 = _find_preimage(base, h)
    if b0 is None:
        return Finding("base-mismatch", Severity.WARNING,
                       f"{label}: its pre-image is not in the upstream base; 3-way evidence unavailable", ref,
                       hint="check that --upstream holds the tree the patch was made against")
    bs, be = _region(base, b0, b0 + len(h.old_lines), h.section, language)
    ts, te = _region(lines, m.start, m.end, h.section, language)
    a, b = _code_lines(base, bs, be), _code_lines(lines, ts, te)
    if [t for _, t in a] == [t for _, t in b]:
        return None
    # relevant: next to the hunk, or sharing a name with the lines the hunk changes
    near_b = range(b0 - DIVERGENCE_WINDOW, b0 + len(h.old_lines) + DIVERGENCE_WINDOW)
    near_t = range(m.start - DIVERGENCE_WINDOW, m.end + DIVERGENCE_WINDOW)
    names = {w for ln in h.lines if ln.kind is not LineKind.CONTEXT for w in RE_IDENT.findall(ln.text)}
    names -= COMMON_WORDS
    near: list[str] = []
    far: list[str] = []
    sm = difflib.SequenceMatcher(None, [t for _, t in a], [t for _, t in b], autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        olds, news = [a[i][0] for i in range(i1, i2)], [b[j][0] for j in range(j1, j2)]
        texts = [base[i] for i in olds] + [lines[j] for j in news]
        relevant = (any(i in near_b for i in olds) or any(j in near_t for j in news)
                    or any(names.intersection(RE_IDENT.findall(t)) for t in texts))
        (near if relevant else far).extend(
            [f"upstream base:{i + 1}: {base[i]}" for i in olds] + [f"{path}:{j + 1}: {lines[j]}" for j in news])
    if near:
        return Finding(
            "context-diverged", Severity.WARNING,
            f"{label}: the code next to it, or using what it changes, differs between upstream and "
            f"{path}:{m.start + 1}", ref, _clip(near + far),
            "this is where a backport is adapted by hand: check the hunk still means the same here")
    if not far:
        return None
    return Finding(
        "function-diverged", Severity.WARNING,
        f"{label}: the function around it differs between upstream and {path}:{m.start + 1} "
        "(away from the hunk)", ref, _clip(far),
        "other upstream changes to this function are missing or different in the target: check "
        "the hunk does not depend on them (--ignore function-diverged silences this)")


#: git cuts a hunk header's function line at this many bytes (xdiff's func_line buffer)
SECTION_CUT = 80


def check_signature(lines: Sequence[str], h: Hunk, m: Match, *, path: str, language: str, label: str,
                    ref: SourceRef | None) -> Finding | None:
    """A WARNING when the function the hunk's ``@@`` header names starts differently in the target.

    The header is upstream's own first line of the enclosing definition (git's funcname line):
    the one line of the upstream base a patch carries outside its hunks. When the hunk lands
    inside a function of that name whose line differs (a parameter added or dropped, another
    return type), upstream's function is not the target's, which ``function-diverged`` reports
    from the base; this says it from the patch and the target alone."""
    if language != "c" or not h.section.strip():
        return None
    name = anchor_name(h.section)
    item = find_enclosing(lines, min(m.start + _first_change(h), max(len(lines) - 1, 0)), language=language)
    if not name or item is None or item.name != name or item.kind != "function":
        return None
    call = re.compile(rf"\b{re.escape(name)}\s*\(")
    head = next((i for i in range(item.start, min(item.end, item.start + 4)) if call.search(lines[i])), None)
    if head is None:
        return None
    want, have = " ".join(h.section.split()), " ".join(lines[head].split())
    if have == want or (len(h.section.rstrip()) >= SECTION_CUT - 2 and have.startswith(want)):
        return None
    # only a parameter of upstream's that the target's function never names and the changed lines
    # use: a return type, an annotation or a parameter the hunk does not name is noise
    cut = len(h.section.rstrip()) >= SECTION_CUT - 2
    lacking = _param_names(want, name, cut) - set(RE_IDENT.findall("\n".join(lines[item.start:item.end])))
    used = {w for ln in h.lines if ln.kind is not LineKind.CONTEXT for w in RE_IDENT.findall(ln.text)}
    if not lacking & used:
        return None
    return Finding(
        "signature-diverged", Severity.WARNING,
        f"{label}: it uses {', '.join(sorted(lacking & used))}, a parameter of upstream's {name}() that "
        f"the target's, {path}:{head + 1}, neither declares nor names", ref,
        (f"upstream (hunk header): {h.section.strip()}", f"{path}:{head + 1}: {lines[head].strip()}"),
        "upstream's function gained that parameter: pass the value the target's way, or port the "
        "commit that added it (--ignore signature-diverged silences this)")


def _param_names(line: str, name: str, cut: bool) -> set[str]:
    """The parameter names a definition's first line declares (each parameter's last word);
    ``cut``: the line may be cut short, so its last, maybe partial, parameter is left out."""
    i = line.find("(", line.find(name))
    if i < 0:
        return set()
    parts = line[i + 1:].split(")")[0].split(",")
    if cut or not line.rstrip().endswith(("{", ")")):
        parts = parts[:-1]  # continues on the next line (or was cut): its last word is not known
    return {ws[-1] for p in parts if (ws := RE_IDENT.findall(p)) and len(ws) > 1}


def _first_change(h: Hunk) -> int:
    """The pre-image index of the hunk's first removed or added line (its leading context skipped)."""
    n = 0
    for ln in h.lines:
        if ln.kind is not LineKind.CONTEXT:
            return n
        n += 1
    return 0


def _clip(evidence: list[str]) -> tuple[str, ...]:
    return tuple(evidence[:MAX_EVIDENCE]) + (("...",) if len(evidence) > MAX_EVIDENCE else ())


def check_identifiers(base_text: str, lines: Sequence[str], fp: FilePatch, *, path: str,
                      ref: SourceRef | None) -> Finding | None:
    """Identifiers the patch adds that upstream's file (``base_text``) knows but the target's
    file (its ``lines``) does not."""
    removed = {w for h in fp.hunks for ln in h.removed for w in RE_IDENT.findall(ln.text)}
    # an identifier of upstream's file is somewhere in its text: only those are tokenised for
    added = {w for h in fp.hunks for ln in h.added for w in RE_IDENT.findall(ln.text)
             if w not in removed and w in base_text}
    if not added:
        return None
    base_ids = set(RE_IDENT.findall(base_text))
    target_ids = file_words(tuple(lines))
    missing = sorted(w for w in added if w in base_ids and w not in target_ids)
    if not missing:
        return None
    return Finding("missing-identifier", Severity.WARNING,
                   f"{path}: the patch uses {', '.join(missing[:6])} which upstream's file has and the "
                   "target's file lacks", ref, tuple(f"{path}: no '{w}'" for w in missing[:MAX_EVIDENCE]),
                   "the target may lack a prerequisite or name it differently; check its definition")


def check_block_depth(h: Hunk, m: Match, lines: Sequence[str], label: str, ref: SourceRef | None,
                      path: str) -> Finding | None:
    """A removed line the target has at another indentation: the statement sits in another block.

    Placement compares removed lines with whitespace normalised, so upstream's
    ``\\t\\tgfp_mask = ...`` inside ``if (!va) {`` matches the target's ``\\tgfp_mask = ...`` at
    function level; deleting it there (and adding upstream's new lines around it) moves a statement
    across a block boundary, which the lines next to the change cannot show. Named, not refused:
    the move may be what the target needs."""
    region = [(i, lines[i]) for i in range(m.start, min(m.end, len(lines)))]
    pre = [ln for ln in h.lines if ln.kind is not LineKind.ADDED]
    moved: list[str] = []
    for k, ln in enumerate(pre):
        if ln.kind is not LineKind.REMOVED or not ln.text.strip():
            continue
        same = [(i, t) for i, t in region if t.split() == ln.text.split()]
        if not same or any(indent_width(t) == indent_width(ln.text) for _, t in same):
            continue
        i, t = same[0]
        opener = next((o.text.strip() for o in reversed(pre[:k])
                       if o.text.strip() and indent_width(o.text) < indent_width(ln.text)), "")
        inside = f" inside `{opener}`" if opener.endswith("{") else ""
        lacks = (" (not in the target there)" if inside and not any(t2.split() == opener.split() for _, t2 in region)
                 else "")
        where = "further in" if indent_width(t) > indent_width(ln.text) else "further out"
        moved.append(f"upstream removes `{ln.text.strip()}`{inside}{lacks}; {path}:{i + 1} has it {where} "
                     f"(indent {indent_width(t)} against {indent_width(ln.text)})")
    if not moved:
        return None
    return Finding(
        "block-diverged", Severity.WARNING,
        f"{label}: {len(moved)} removed line(s) sit in another block of the target than upstream's: "
        + moved[0], ref, tuple(moved[:MAX_EVIDENCE]),
        "the change moves a statement across a block boundary; check it means the same there",
        checklist="the removed statement is in another block of the target: does the change still hold?")
