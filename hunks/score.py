"""Scoring of placements (stage: hunks): line normalisation, similarity, confidence, ambiguity.

Inputs: lines of text, distances between a candidate and the expected line, candidate scores.
Outputs: floats in [0, 1] and evidence strings. Every method of the cascade scores through
these functions so confidences are comparable across methods and monotone:

- exact at the expected line is 1.0; an exact match further away slowly loses confidence
  (0.99 at one line, about 0.97 at a hundred, 0.95 at ten thousand);
- a second candidate that is nearly as close (or nearly as similar) makes the placement
  ambiguous and halves what it is worth;
- dropped or differing context costs in proportion to how much of the context it was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

# "\tint  x ;  " -> collapses runs of blanks
RE_BLANKS = re.compile(r"\s+")
# "d->field_1 = compute(d, 0x10);" -> d, ->, field_1, =, compute, (, d, ",", 0x10, ), ;
RE_TOKEN = re.compile(r"[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+|->|<<|>>|[<>=!]=|&&|\|\||\+\+|--|\S")
# foo_bar1   (an identifier token; also matches C keywords, which is harmless here)
RE_WORD = re.compile(r"^[A-Za-z_]\w*$")

# /* a comment */   or   // a comment   (stripped by code_part)
RE_COMMENT = re.compile(r"/\*.*?(?:\*/|$)|//.*$")
# " * continued comment"   /   "/* opening"   /   "*/"
RE_COMMENT_LINE = re.compile(r"^\s*(?:\*|/\*|\*/)")

#: words that say nothing about an API: keywords, basic types, common constants
KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int "
    "long register restrict return short signed sizeof static struct switch typedef union unsigned void "
    "volatile while bool true false NULL u8 u16 u32 u64 s8 s16 s32 s64 __u8 __u16 __u32 __u64 size_t "
    "ssize_t err ret rc".split())

#: confidence of a placement whose only flaw is its distance from the expected line
EXACT_AT_HINT = 1.0
#: weight of a line that carries almost no information ("}", "", "{", "*/")
TRIVIAL_WEIGHT = 0.25
#: above this ratio of distances (nearest / second nearest) two exact candidates are a tie
TIE_RATIO = 0.5
#: cap on the confidence of a placement that would delete or overwrite diverged target code
UNSAFE_CAP = 0.3
#: cap on the confidence of a placement whose new lines use what the target spells otherwise
DRIFT_CAP = 0.55


@lru_cache(maxsize=65536)
def norm(line: str) -> str:
    """Whitespace-insensitive form of a line: blanks collapsed, ends stripped."""
    return RE_BLANKS.sub(" ", line).strip()


def squash(line: str) -> str:
    """A line with every blank removed (``a = b`` and ``a=b`` compare equal)."""
    return RE_BLANKS.sub("", line)


@lru_cache(maxsize=65536)
def is_trivial(line: str) -> bool:
    """True for lines that say nothing about where they are: blank, a brace, ``*/``, ``#endif``."""
    s = squash(line)
    return len(s) <= 2 or s in ("};", "});", "break;", "#else", "#endif", "else", "return;", "*/", "/*")


def code_part(line: str) -> str:
    """The code of a line without its comments ("" for a comment line)."""
    if RE_COMMENT_LINE.match(line):
        return ""
    return RE_COMMENT.sub(" ", line)


def api_words(line: str) -> set[str]:
    """Identifiers of a line's code that could name an API (no keywords, no comment words)."""
    return {w for w in tokens(code_part(line)) if RE_WORD.match(w) and w not in KEYWORDS and len(w) > 2}


def weight(line: str) -> float:
    return TRIVIAL_WEIGHT if is_trivial(line) else 1.0


@lru_cache(maxsize=65536)
def tokens(line: str) -> tuple[str, ...]:
    """C-ish tokens of a line: identifiers, numbers and operators, blanks dropped."""
    return tuple(RE_TOKEN.findall(line))


@lru_cache(maxsize=262144)
def similarity(a: str, b: str) -> float:
    """Similarity of two lines in [0, 1]; 1.0 when equal after whitespace normalisation.

    Token-based (an identifier or number that differs costs a whole token, so ``field_1``
    and ``field_10`` are told apart), blended with a character ratio for long tokens.
    """
    if a == b:
        return 1.0
    na, nb = norm(a), norm(b)
    if na == nb or squash(na) == squash(nb):
        return 1.0
    if not na or not nb:
        return 0.0
    by_char = fuzz.ratio(na, nb, score_cutoff=30) / 100.0
    if by_char == 0.0:
        return 0.0  # unrelated lines: skip the token comparison
    by_token = Indel.normalized_similarity(tokens(na), tokens(nb))
    return min(by_char, 0.75 * by_token + 0.25 * by_char)


def distance_prior(distance: int) -> float:
    """Confidence of an otherwise perfect match ``distance`` lines from where it was expected."""
    d = abs(distance)
    if d == 0:
        return EXACT_AT_HINT
    return 0.99 - 0.04 * min(1.0, math.log10(1 + d) / 4)


def tie_ratio(best_distance: int, second_distance: int) -> float:
    """How close the runner-up is compared to the winner: 0 (far behind) .. 1 (as near)."""
    return (abs(best_distance) + 1) / (abs(second_distance) + 1)


def tie_factor(best_distance: int, second_distance: int) -> float:
    """Multiplier for a positional winner that has an equally good runner-up further away."""
    return 1.0 - 0.5 * min(1.0, tie_ratio(best_distance, second_distance))


def context_factor(dropped: float, context: int) -> float:
    """Multiplier for a match that ignored ``dropped`` of ``context`` context lines.

    Losing all context halves the confidence; losing one line of six costs about 8%.
    """
    if dropped <= 0:
        return 1.0
    if context <= 0:
        return 0.5
    return 1.0 - 0.5 * min(1.0, dropped / context)


def ambiguous_by_margin(best: float, second: float | None, margin: float) -> bool:
    """RapidFuzz-style ambiguity: the runner-up's score is within ``margin`` of the winner's."""
    return second is not None and best - second < margin


def informative_weight(lines: Sequence[str]) -> float:
    """Total weight of lines: how much they can pin a place down."""
    return sum(weight(x) for x in lines)


def describe_line(index: int, line: str, width: int = 60) -> str:
    """``line 12 'static int foo(void)'`` for evidence strings (1-based, shortened)."""
    text = line.strip()
    if len(text) > width:
        text = text[: width - 3] + "..."
    return f"line {index + 1} {text!r}"


#: share of a hunk's informative pre-image lines that must be missing from the whole target file
#: before an unplaced hunk is said to edit code the file does not have
ABSENT_SHARE = 2 / 3


def absent_code(target: Sequence[str], spec_old: Sequence[str], removed: Sequence[str]) -> tuple[int, int] | None:
    """(missing, informative) when the pre-image's informative lines (weight 1: not braces or
    blanks) are mostly nowhere in ``target``, compared up to blanks: at least two of them, at
    least ABSENT_SHARE missing and every informative removed line missing. The hunk then edits
    code the file never had (newer upstream code, or code that lives elsewhere), not code the
    file writes a little otherwise; None otherwise."""
    have = {norm(x) for x in target}
    lines = [norm(x) for x in spec_old if weight(x) >= 1]
    if len(lines) < 2:
        return None
    missing = [x for x in lines if x not in have]
    if len(missing) < ABSENT_SHARE * len(lines) or any(norm(x) in have for x in removed if weight(x) >= 1):
        return None
    return len(missing), len(lines)
