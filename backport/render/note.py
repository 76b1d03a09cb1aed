"""Plain-words descriptions of a port (stage: render), shared by every renderer.

Inputs: model values (PortResult, Placement, Finding). Outputs: short strings saying, for a
human, where a hunk went and how (``describe_placement``), whether a placement needs a second
look (``is_doubtful``), which findings are about prerequisites, the bracketed backport
note that the annotated mbox carries before the porter's Signed-off-by (``render_note``), and
the stable-style one-line notes of every adaptation the port made to upstream's lines
(``find_adaptations``, ``render_adaptation_notes``: ``[ Name: use from_timer(), 6.1 has no
timer_container_of() ]``).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from functools import lru_cache

from .. import __version__
from ..errors import ParseError
from ..model import Adaptation, FilePatch, Finding, Hunk, Method, Patch, Placement, PortResult, Severity

#: placements below this confidence are doubtful (a human must compare both versions)
DOUBT_CONFIDENCE = 0.9
NOTE_WIDTH = 72

#: methods that move a hunk without changing its lines: never doubtful on their own
QUIET_METHODS = (Method.EXACT, Method.OFFSET)

# missing-symbol, missing-config, prerequisite-commit, needs-prerequisite
RE_PREREQ_CODE = re.compile(r"^(missing-|prereq)|prerequisite")
# sections that name a function: "static int foo(struct bar *b)" -> foo
RE_SECTION_FUNC = re.compile(r"([A-Za-z_]\w*)\s*\(")


def section_name(section: str) -> str:
    """The function a hunk header's section names (``foo()``), or the section as written."""
    m = RE_SECTION_FUNC.search(section)
    if m:
        return f"{m.group(1)}()"
    return section.strip()


def upstream_path(patch: Patch, placement: Placement) -> str:
    """The path the hunk touches upstream."""
    if 0 <= placement.file_index < len(patch.files):
        return patch.files[placement.file_index].path
    return placement.path or "?"


def hunk_label(patch: Patch, placement: Placement) -> str:
    """``mm/foo.c hunk 2 (foo())``: how every renderer names one hunk."""
    where = section_name(placement.hunk.section)
    inside = f" ({where})" if where else ""
    return f"{upstream_path(patch, placement)} hunk {placement.hunk_index + 1}{inside}"


def is_doubtful(placement: Placement) -> bool:
    """True when a human must compare upstream and target code for this hunk.

    Doubtful: any method other than exact/offset, confidence below DOUBT_CONFIDENCE, an
    ambiguous alternative, or a hunk that could not be placed at all.
    """
    if not placement.placed:
        return True
    if placement.method is Method.ALREADY_APPLIED:
        return placement.confidence < DOUBT_CONFIDENCE
    return (placement.method not in QUIET_METHODS or placement.confidence < DOUBT_CONFIDENCE
            or bool(placement.alternatives))


def _lines(n: int) -> str:
    return f"{n} line" if abs(n) == 1 else f"{n} lines"


def describe_placement(patch: Patch, placement: Placement) -> str:
    """One sentence: where a hunk went and how, e.g. ``applied 12 lines below upstream``."""
    text = _describe(patch, placement)
    if is_held_back(placement):
        text += "; held back: left out of the patch"
    return text


def is_held_back(placement: Placement) -> bool:
    """Placed, but not put in the ported patch (too doubtful to apply)."""
    return placement.placed and not placement.applied and placement.method is not Method.ALREADY_APPLIED


def is_left_out(placement: Placement) -> bool:
    """Not in the ported patch although the target needs it: unplaced or held back."""
    return not placement.placed or is_held_back(placement)


def _describe(patch: Patch, placement: Placement) -> str:
    label = hunk_label(patch, placement)
    p = placement
    if not p.placed:
        return f"{label}: could not be placed; left out of the patch"
    src = upstream_path(patch, p)
    at = f"{p.path}:{p.start}" if p.path != src else f"line {p.start}"
    moved = ""
    if p.offset:
        moved = f", {_lines(abs(p.offset))} {'below' if p.offset > 0 else 'above'} upstream"
    conf = f" (confidence {p.confidence:.2f})"
    if p.method is Method.EXACT:
        return f"{label}: applied as is at {at}"
    if p.method is Method.OFFSET:
        return f"{label}: applied at {at}{moved}"
    if p.method is Method.WHITESPACE:
        return f"{label}: applied at {at} ignoring whitespace differences{moved}"
    if p.method is Method.FUZZ:
        return f"{label}: applied at {at} with fuzz {p.fuzz} (up to {_lines(p.fuzz)} of context ignored at each end){moved}"
    if p.method is Method.ALREADY_APPLIED:
        return f"{label}: already present in the target at {at}; left out"
    if p.method is Method.THREEWAY:
        return f"{label}: merged 3-way against the upstream base at {at}{conf}"
    if p.method is Method.SPLIT:
        return f"{label}: applied in parts at {at} (its change groups lie apart in the target){conf}"
    how = "by syntax" if p.method is Method.SYNTAX else "by similarity"
    where = section_name(p.hunk.section)
    if p.path != src:
        frm = f"{where} in {src}" if where else src
        to = f"{where} in {p.path}" if where else p.path
        return f"{label}: relocated {how} from {frm} to {to} (line {p.start}){conf}"
    return f"{label}: relocated {how} to {at}{moved}{conf}"


def is_prerequisite(finding: Finding) -> bool:
    """Findings about something the patch needs (a symbol, option, flag or upstream commit)."""
    return bool(RE_PREREQ_CODE.search(finding.code))


def is_about(finding: Finding, placement: Placement) -> bool:
    """A placement finding (``ambiguous-placement``, ``unplaced-hunk``...) raised for this very hunk."""
    return (("placement" in finding.code or "unplaced" in finding.code) and finding.ref is not None
            and finding.ref == placement.hunk.ref)


def is_kb(finding: Finding) -> bool:
    return bool(finding.rule) or finding.code.startswith("kb-")


def describe_finding(finding: Finding, *, with_ref: bool = True) -> str:
    """``series.mbox:12: error: missing-symbol: foo() is not in the target``.

    ``with_ref=False`` leaves out where in the input it was raised (for commit messages,
    where a local file name means nothing).
    """
    where = f"{finding.ref}: " if finding.ref is not None and with_ref else ""
    text = f"{where}{finding.severity}: {finding.code}: {finding.message}"
    if finding.references:
        text += f" (introduced upstream by {', '.join(finding.references)})"
    return text


def left_out(result: PortResult) -> tuple[Placement, ...]:
    """Hunks missing from the ported patch: unplaced or held back."""
    return tuple(p for p in result.placements if is_left_out(p))


def _bullets(items: Iterable[str], indent: str = "  ") -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(textwrap.wrap(item, NOTE_WIDTH, initial_indent=f"{indent}- ",
                                 subsequent_indent=f"{indent}  ", break_on_hyphens=False,
                                 break_long_words=False))
    return out


def render_note(result: PortResult) -> str:
    """The bracketed backport note of one ported patch (no trailing newline).

    It says in plain words what was adapted: each hunk that was not applied exactly, each
    hunk left out, each finding at warning level or above, and the prerequisites.
    """
    patch = result.patch
    adapted = [describe_placement(patch, p) for p in result.placements
               if p.placed and p.method is not Method.EXACT and not is_held_back(p)]
    missing_hunks = [describe_placement(patch, p) for p in left_out(result)]
    prereq = [f for f in result.findings if is_prerequisite(f)]
    missing = [f for f in prereq if f.severity >= Severity.WARNING]
    present = [f for f in prereq if f.severity < Severity.WARNING]
    gone = left_out(result)  # their findings would repeat what "Left out" says
    # an ``adapted`` finding is said by the mail's ``[ Name: ... ]`` lines (render_adaptation_notes)
    checks = [f for f in result.findings if f.severity >= Severity.WARNING and not is_prerequisite(f)
              and not any(is_about(f, p) for p in gone) and f.code != "adapted"]

    lines = [f"[ backport {__version__}: {result.status.value}"]
    if not adapted and not missing_hunks and not result.findings and not patch.partial:
        lines[0] += "; every hunk applied as is, no findings ]"
        return lines[0]
    if adapted:
        lines.append("  Adapted:")
        lines += _bullets(adapted, "  ")
    if patch.partial:
        lines += _bullets(["the input was a quoted review with hunks snipped: this port is incomplete"], "  ")
    if missing_hunks:
        lines.append("  Left out (see leftovers):")
        lines += _bullets(missing_hunks, "  ")
    if checks:
        lines.append("  To check:")
        lines += _bullets((_with_hint(f) for f in checks), "  ")
    if missing:
        lines.append("  Prerequisites not found:")
        lines += _bullets((_with_hint(f) for f in missing), "  ")
    if present:
        lines.append("  Prerequisites found:")
        lines += _bullets((f.message for f in present), "  ")
    elif not missing:
        lines.append("  Prerequisites: none missing")
    lines.append("]")
    return "\n".join(lines)


def find_adaptations(result: PortResult) -> tuple[tuple[Placement, Adaptation], ...]:
    """Every adaptation of the hunks that are in the ported patch, in hunk order."""
    return tuple((p, a) for p in result.placements if p.applied and p.placed for a in p.adaptations)


def note_name(signoff: str | None) -> str:
    """Who a bracketed note speaks for: the porter's first name (``Porter Person <p@x>`` ->
    ``Porter``), as stable maintainers write ``[ Sasha: ... ]``; ``backport`` without one."""
    name = (signoff or "").split("<", 1)[0].strip().strip('"')
    return name.split()[0].rstrip(",") if name else "backport"


def render_adaptation_notes(result: PortResult, *, who: str = "backport") -> list[str]:
    """One stable-style bracketed note per distinct adaptation summary, wrapped at NOTE_WIDTH:
    ``[ who: use from_timer(), 6.1 has no timer_container_of() ]`` (a longer one continues on
    lines indented by two spaces, as stable's multi-line notes do)."""
    out: list[str] = []
    for summary in dict.fromkeys(a.summary.strip() for _, a in find_adaptations(result)):
        if not summary:
            continue
        lines = textwrap.wrap(f"[ {who}: {summary}", NOTE_WIDTH - 2, subsequent_indent="  ",
                              break_on_hyphens=False, break_long_words=False)
        lines[-1] += " ]"
        out.extend(lines)
    return out


def _with_hint(f: Finding) -> str:
    text = describe_finding(f, with_ref=False)
    return f"{text}; hint: {f.hint}" if f.hint else text


def render_leftovers(result: PortResult) -> str:
    """The hunks left out of one patch, as diff text with the reason above each.

    Uses the pipeline's ``leftovers`` text when it has one, else renders the unplaced hunks.
    """
    if result.leftovers.strip():
        return result.leftovers if result.leftovers.endswith("\n") else result.leftovers + "\n"
    out: list[str] = []
    for p in left_out(result):
        out.append(f"# {describe_placement(result.patch, p)}\n")
        out.extend(f"# {e}\n" for e in p.evidence)
        src = upstream_path(result.patch, p)
        out.append(f"--- a/{src}\n+++ b/{src}\n")
        out.append(p.hunk.render())
    return "".join(out)


@lru_cache(maxsize=64)
def _ported_files(text: str) -> tuple[FilePatch, ...]:
    from ..series import parse_diff  # the ingest stage's diff reader

    try:
        return parse_diff(text, origin="<ported>")
    except ParseError:
        return ()


def find_ported_hunk(result: PortResult, placement: Placement) -> Hunk | None:
    """The hunk of the ported diff (``result.text``) that carries ``placement``, or None.

    Its pre-image is the target code with full context, which is what a reviewer compares
    with the upstream pre-image.
    """
    if not placement.placed or not result.text.strip():
        return None
    best: tuple[int, Hunk] | None = None
    for fp in _ported_files(result.text):
        if fp.path != placement.path:
            continue
        for h in fp.hunks:
            end = h.old_start + max(h.old_count, 1)
            dist = 0 if h.old_start <= placement.start < end else min(abs(placement.start - h.old_start),
                                                                      abs(placement.start - end))
            if best is None or dist < best[0]:
                best = (dist, h)
    return best[1] if best is not None and best[0] <= 3 else None
