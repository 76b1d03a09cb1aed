"""The kernel API-evolution table (stage: kb): YAML on disk -> validated ApiEntry values, and
the line-level rewrite of a new API form into an older tree's form.

Inputs: the bundled ``kb/api/*.yaml`` plus ``DIR/api/*.yaml`` of user directories (``--kb DIR``).
Outputs: a tuple of ``ApiEntry`` (``load_api``), every problem as ``file:line: error: ...``
(``check_api_files``, what ``backport kb lint`` prints), and for one source line
``find_uses(entry, line)`` / ``rewrite_line(entry, line, old_index)``: where the new form is
used and the line(s) that spell it the old way, or why they cannot.

Files are read with kb.loader's machinery (PyYAML nodes keep every key's line, jsonschema
validates against ``kb/api.schema.json``), so a bad table is ``kb/api/x.yaml:12: ...``.

Forms. A form is a plain name (``timer_delete_sync``: every whole-word use is renamed), a literal
token sequence (``fallthrough;``), or a call pattern ``name(arg, ...)`` whose arguments are
placeholders ``{x}``, placeholders inside literal text (``"{ns}"``), literal arguments, or a
trailing ``{...}`` (the remaining arguments). An old form renders the captured arguments with
``{x}`` (as written), ``{x:p}`` (parenthesised unless a primary expression) or ``{x->}`` (as a
member-access prefix: ``&a->t`` gives ``a->t.``, ``t`` gives ``t->``). An old form with a newline
is a statement sequence; it replaces a call that is a whole statement on its line. ``{?}`` in
an old form is an argument the older spelling has and the new form's line does not show
(``__assign_str({dst}, {?})``): such a form never rewrites a line (CannotRewrite), it only
recognises the target's own lines (``old_line_pattern``, what backport.apicontext matches).

Why hand-written call matching and not tree-sitter: the input is one added line, often not a
complete C construct (a call split over lines, a struct initialiser fragment); balanced-paren
scanning with string and character literals is exact for what a line holds and says plainly
when the call does not close on that line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from backport.errors import RuleError
from backport.model import SourceRef

from .loader import (
    KB_DIR,
    display_path,
    line_of,
    parse_files,
    parse_yaml_with_lines,
    read_yaml_text,
    schema_problems,
    stamp_files,
)

API_DIR = KB_DIR / "api"
API_SCHEMA_PATH = KB_DIR / "api.schema.json"

RE_IDENT = re.compile(r"[A-Za-z_]\w*")
# name(args)   (the whole form)
RE_CALL_FORM = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.S)
# {x}  {x:p}  {x->}  {...}
RE_SLOT = re.compile(r"\{(\.\.\.|[a-z_][a-z0-9_]*)(:p|->)?\}")
#: an argument only the target's line has (recognition only; see the module docstring)
ANY_ARG = "{?}"
#: the slot ``{?}`` becomes once a companion form names its text (``companion_arg``)
ANY_SLOT = "anyarg_"
ANY_SLOT_FORM = "{anyarg_}"
# one C argument: no top-level comma, parentheses nested two deep, string literals
RE_ONE_ARG = r'(?:[^(),"]|"(?:[^"\\]|\\.)*"|\((?:[^()"]|"(?:[^"\\]|\\.)*"|\([^()]*\))*\))+'
# a primary expression: a name, member chain, call or literal, optionally behind & or *
RE_PRIMARY = re.compile(r"^[&*]?\s*(?:[A-Za-z_]\w*|\d\w*|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
                        r"(?:\s*(?:->|\.)\s*[A-Za-z_]\w*|\s*\[[^\[\]]*\]|\s*\((?:[^()]|\([^()]*\))*\))*$")


@dataclass(frozen=True, slots=True)
class Example:
    upstream: str
    target: tuple[str, ...] | None  # None: detected, must be open-coded by hand


@dataclass(frozen=True, slots=True)
class ApiEntry:
    """One API change: the new form, the older spellings, the commit that changed it."""

    id: str
    family: str
    kind: str
    new: str
    old: tuple[str, ...]
    needs: tuple[str, ...]  # what the old form needs in the target
    marker: tuple[str, ...]  # names that mean the target has the new form
    marker_grep: tuple[tuple[str, ...], str] | None  # (paths, pattern)
    marker_lacks: tuple[str, ...]  # names whose absence means the target has the new form
    match: str  # regex finding the new form, when the form alone cannot ("" otherwise)
    since: str
    commit: str
    subject: str
    also: tuple[str, ...]
    older: str
    examples: tuple[Example, ...]
    ref: SourceRef | None = None
    #: kind callback-return: {struct, member, header (paths), param, returns, value, void_member}
    #: (backport.apicallback rewrites the callback from it); None for other kinds
    callback: dict[str, Any] | None = None
    #: a call form naming what an old form's ``{?}`` stands for (``__string({dst}, {?})``): the
    #: argument of its nearest use above the line whose other slots bind as the line's do
    companion: str = ""

    @property
    def name(self) -> str:
        """The identifier that names the new form (what an added line is searched for)."""
        return form_name(self.new)

    @property
    def reference(self) -> str:
        return f'{self.commit[:12]} ("{self.subject}")'

    @property
    def references(self) -> tuple[str, ...]:
        return (self.reference, *self.also)

    @property
    def rewritable(self) -> bool:
        return bool(self.old)


def form_name(form: str) -> str:
    m = RE_IDENT.search(form)
    return m.group(0) if m else ""


def _old_needs(form: str) -> tuple[str, ...]:
    """What an old form calls: its call's name, or its one name; nothing for an expression."""
    first = form.split("\n", 1)[0].strip().rstrip(";").strip()
    m = RE_CALL_FORM.match(first)
    if m:
        return (m.group(1),)
    return (first,) if RE_IDENT.fullmatch(first) else ()


# ---------------------------------------------------------------- C argument scanning


def code_chars(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """(index, char) of every character of ``text`` from ``start`` that is code: outside
    string and character literals (the quotes themselves are not yielded)."""
    i, quote = start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        else:
            yield i, c
        i += 1


def scan_call(text: str, open_at: int) -> tuple[list[str], int] | None:
    """The top-level arguments of the call whose '(' is at ``open_at`` and the index after
    its ')'; None when it does not close in ``text``."""
    depth, start, args = 0, open_at + 1, []
    for i, c in code_chars(text, open_at):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(text[start:i])
                stripped = [a.strip() for a in args]
                return ([] if stripped == [""] else stripped), i + 1
        elif c == "," and depth == 1:
            args.append(text[start:i])
            start = i + 1
    return None


# a call, an increment or decrement, an assignment (not a comparison)
RE_SIDE_EFFECT = re.compile(r"[A-Za-z_]\w*\s*\(|\+\+|--|(?<![=!<>])=(?!=)")


def has_side_effects(expr: str) -> bool:
    """Whether evaluating ``expr`` twice could differ from once (conservative: any call)."""
    return bool(RE_SIDE_EFFECT.search(expr))


def is_primary(expr: str) -> bool:
    return bool(RE_PRIMARY.match(expr.strip()))


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed call pattern: the name and, per argument, (literal prefix, slot, literal suffix)."""

    name: str
    args: tuple[tuple[str, str, str], ...]  # slot "" = a literal argument; "..." = the rest

    @staticmethod
    def parse(form: str) -> Pattern | None:
        m = RE_CALL_FORM.match(form)
        if not m:
            return None
        scanned = scan_call(form, form.index("(", m.start(1)))
        if scanned is None:
            return None
        out = []
        for a in scanned[0]:
            s = RE_SLOT.search(a)
            out.append((a[:s.start()], s.group(1), a[s.end():]) if s else (a, "", ""))
        return Pattern(m.group(1), tuple(out))

    def bind(self, args: Sequence[str]) -> dict[str, str] | None:
        """{slot: argument text} when ``args`` fit this pattern, else None."""
        variadic = bool(self.args) and self.args[-1][1] == "..."
        fixed = self.args[:-1] if variadic else self.args
        if len(args) < len(fixed) or (not variadic and len(args) != len(fixed)):
            return None
        out: dict[str, str] = {}
        for (pre, slot, post), arg in zip(fixed, args, strict=False):
            if not slot:
                if " ".join(pre.split()) != " ".join(arg.split()):
                    return None
                continue
            if not (arg.startswith(pre) and arg.endswith(post)) or len(arg) < len(pre) + len(post):
                return None
            out[slot] = arg[len(pre):len(arg) - len(post)] if post else arg[len(pre):]
        if variadic:
            out["..."] = ", ".join(args[len(fixed):])
        return out


def _member_prefix(arg: str) -> str:
    a = arg.strip()
    if a.startswith("&") and is_primary(a[1:]):
        return a[1:].strip() + "."
    return (a if is_primary(a) else f"({a})") + "->"


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with its slots filled; KeyError when a slot has no value."""
    def one(m: re.Match[str]) -> str:
        v = values[m.group(1)]
        if m.group(2) == ":p":
            return v if is_primary(v) else f"({v})"
        if m.group(2) == "->":
            return _member_prefix(v)
        return v
    out = RE_SLOT.sub(one, template)
    return re.sub(r",\s*\)", ")", out) if values.get("...") == "" else out


# ---------------------------------------------------------------- uses in a line


@dataclass(frozen=True, slots=True)
class Use:
    """One use of an entry's new form in a line: the span it covers and its bound arguments."""

    start: int
    end: int  # -1: a call that does not close on this line
    values: dict[str, str]


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Spans of ``line`` outside comments and string literals (where names are code)."""
    spans, i, start, quote = [], 0, 0, ""
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
                start = i + 1
        elif c in "\"'":
            spans.append((start, i))
            quote = c
        elif line.startswith("/*", i):
            spans.append((start, i))
            j = line.find("*/", i + 2)
            i = len(line) if j < 0 else j + 2
            start = i
            continue
        elif line.startswith("//", i):
            spans.append((start, i))
            return spans
        i += 1
    if not quote:
        spans.append((start, len(line)))
    return spans


def find_uses(entry: ApiEntry, line: str) -> list[Use]:
    """Every use of the entry's new form in ``line`` (code only, not comments or strings)."""
    code = _code_spans(line)

    def in_code(i: int) -> bool:
        return any(a <= i < b for a, b in code)

    if entry.match:
        return [Use(m.start(), m.end(), {k: v for k, v in m.groupdict().items() if v is not None})
                for m in re.finditer(entry.match, line) if in_code(m.start())]
    pat = Pattern.parse(entry.new)
    uses: list[Use] = []
    if pat is None:  # a name (used as a call or macro: a local of that name is not the API) or tokens
        name = RE_IDENT.fullmatch(entry.new) is not None
        rx = (r"(?<![\w.>])" if entry.new[0].isalnum() or entry.new[0] == "_" else "") + re.escape(entry.new) + \
            (r"(?=\s*\()" if name else r"(?!\w)" if entry.new[-1].isalnum() or entry.new[-1] == "_" else "")
        return [Use(m.start(), m.end(), {}) for m in re.finditer(rx, line) if in_code(m.start())]
    for m in re.finditer(r"(?<![\w.>])" + re.escape(pat.name) + r"\s*\(", line):
        if not in_code(m.start()):
            continue
        scanned = scan_call(line, m.end() - 1)
        if scanned is None:
            uses.append(Use(m.start(), -1, {}))
            continue
        values = pat.bind(scanned[0])
        if values is not None:
            uses.append(Use(m.start(), scanned[1], values))
    return uses


class CannotRewrite(Exception):
    """The new form is used in a way the old form cannot express on this line."""


# a type spelled in several words ('unsigned int' for __poll_t): never an expression to parenthesise
RE_TYPE_WORDS = re.compile(r"[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)+")
# return x;   x = y;   (  f(a,   , x)   : where an expression needs no parentheses
RE_OPEN_LEFT = re.compile(r"(?:^|[(,=;{]|\breturn)\s*$")
RE_OPEN_RIGHT = re.compile(r"^\s*(?:$|[),;}])")


def rewrite_line(entry: ApiEntry, line: str, old_index: int = 0,
                 fill: Callable[[dict[str, str]], str | None] | None = None) -> list[str]:
    """``line`` with every use of the new form spelled as old form ``old_index``.

    ``fill`` gives, from a use's bound arguments, the text of the old form's ``{?}`` (see
    ``companion_arg``); without it, or when it returns None, such a form cannot be written.
    Raises CannotRewrite (with the reason) when the entry has no old form, a call does not close
    on this line, or a statement sequence is not a whole statement of its own; returns
    ``[line]`` unchanged when the new form is not used."""
    uses = find_uses(entry, line)
    if not uses:
        return [line]
    if not entry.old:
        raise CannotRewrite(f"{entry.name}() must be open-coded")
    template = entry.old[old_index]
    if ANY_ARG in template:
        if fill is None or "\n" in template:
            raise CannotRewrite(f"{entry.name}()'s older form takes an argument this line does not show")
        filled = []
        for u in uses:
            v = fill(u.values) if u.end >= 0 else None
            if v is None:
                how = f" and no {form_name(entry.companion)}() above it names it" if entry.companion else ""
                raise CannotRewrite(f"{entry.name}()'s older form takes an argument this line does not show{how}")
            filled.append(Use(u.start, u.end, {**u.values, ANY_SLOT: v}))
        uses, template = filled, template.replace(ANY_ARG, ANY_SLOT_FORM)
    if any(u.end < 0 for u in uses):
        raise CannotRewrite(f"the {entry.name}() call continues on the next line")
    twice = [m.group(1) for m in RE_SLOT.finditer(template)]
    for u in uses:
        for slot in {x for x in twice if twice.count(x) > 1}:
            if has_side_effects(u.values.get(slot, "")):
                raise CannotRewrite(f"the old form evaluates `{u.values[slot]}` more than once")
    if "\n" in template:
        u = uses[0]
        indent = line[:len(line) - len(line.lstrip())]
        if len(uses) > 1 or line[:u.start].strip() or line[u.end:].strip() != ";":
            raise CannotRewrite(f"{entry.name}() becomes several statements and is not a statement of its own")
        return [indent + render(t, u.values) for t in template.split("\n")]
    out = line
    for u in reversed(uses):
        text = render(template, u.values)
        start, end = u.start, u.end
        if not text and end < len(out) and out[end] in " \t":  # a removed attribute: and the space after it
            while end < len(out) and out[end] in " \t":
                end += 1
        elif not text:  # a removed attribute before ";" or ")": and the space before it
            while start > 0 and out[start - 1] in " \t":
                start -= 1
        elif not is_primary(text) and RE_CALL_FORM.match(text) is None and not RE_TYPE_WORDS.fullmatch(text) and not (
                RE_OPEN_LEFT.search(out[:start]) and RE_OPEN_RIGHT.match(out[u.end:])):
            text = f"({text})"
        out = out[:start] + text + out[end:]
    return [out]


def companion_arg(entry: ApiEntry, values: dict[str, str], lines: Sequence[str]) -> tuple[int, str] | None:
    """What the old form's ``{?}`` is for one use: the ``{?}`` argument of the last use of
    ``entry.companion`` in ``lines`` (the code above the line, nearest last) whose other slots
    hold the same text as ``values`` (``__string(name, dev_name(dev))`` for
    ``__assign_str(name)``). Returns (index into ``lines``, the argument) or None."""
    pat = Pattern.parse(entry.companion.replace(ANY_ARG, ANY_SLOT_FORM)) if entry.companion else None
    if pat is None:
        return None
    call = re.compile(rf"\b{re.escape(pat.name)}\s*\(")
    for i in range(len(lines) - 1, -1, -1):
        code = _code_spans(lines[i])
        for m in call.finditer(lines[i]):
            if not any(a <= m.start() < b for a, b in code):
                continue
            scanned = scan_call(lines[i], m.end() - 1)
            bound = pat.bind(scanned[0]) if scanned else None
            if bound and bound.get(ANY_SLOT) and all(
                    " ".join(v.split()) == " ".join(values.get(k, "").split()) for k, v in bound.items() if k != ANY_SLOT):
                return i, bound[ANY_SLOT].strip()
    return None


def old_line_pattern(entry: ApiEntry, line: str, old_index: int = 0) -> re.Pattern[str] | None:
    """A regex that fully matches ``line`` (whitespace runs as one space, the way
    backport.apicontext keys lines) spelled with old form ``old_index``, each ``{?}`` standing
    for any one argument; None when the line does not use the new form, a call does not close
    on it, or the form is a statement sequence."""
    template = entry.old[old_index]
    uses = find_uses(entry, line)
    if not uses or any(u.end < 0 for u in uses) or "\n" in template:
        return None

    def lit(text: str) -> str:
        return r"\s?".join(re.escape(w) for w in " ".join(text.split()).split(" ")) if text.strip() else ""

    parts, at = [], 0
    for u in uses:
        head = line[at:u.start]
        parts.append(lit(head) + (r"\s?" if head[-1:].isspace() and head.strip() else ""))
        pieces = [lit(render(x, u.values)) for x in template.split(ANY_ARG)]
        parts.append(r"\s?".join(("" if i == 0 else RE_ONE_ARG) + p for i, p in enumerate(pieces)))
        at = u.end
    tail = line[at:]
    parts.append((r"\s?" if tail[:1].isspace() and tail.strip() else "") + lit(tail))
    return re.compile("".join(parts))


# ---------------------------------------------------------------- files


@lru_cache(maxsize=1)
def load_api_schema() -> dict[str, Any]:
    import json

    return json.loads(API_SCHEMA_PATH.read_text())


def _entry_problems(data: Any, lines: dict) -> list[tuple[int, str]]:
    """Checks the schema cannot express: regexes compile, forms parse, examples behave."""
    out: list[tuple[int, str]] = []
    for i, e in enumerate(data.get("entries", [])):
        at = (lambda *k, i=i: line_of(lines, ("entries", i, *k)))  # noqa: E731
        for key in ("match",):
            if key in e:
                try:
                    re.compile(e[key])
                except re.error as err:
                    out.append((at(key), f"bad regular expression {e[key]!r}: {err}"))
        if "marker_grep" in e:
            try:
                re.compile(e["marker_grep"]["pattern"])
            except re.error as err:
                out.append((at("marker_grep", "pattern"), f"bad regular expression: {err}"))
        if not form_name(e["new"]):
            out.append((at("new"), f"new form {e['new']!r} names nothing"))
        pat = Pattern.parse(e["new"])
        slots = {s for _, s, _ in pat.args if s} if pat else set()
        for j, old in enumerate(e.get("old", [])):
            missing = {m.group(1) for m in RE_SLOT.finditer(old)} - slots
            if missing and "match" not in e:
                out.append((at("old", j), f"old form uses {', '.join(sorted(missing))}, which the new form does not bind"))
        if pat is None and "(" in e["new"] and "match" not in e:
            out.append((at("new"), f"new form {e['new']!r} is not a call pattern name(args)"))
        same_name = any(form_name(o) == form_name(e["new"]) for o in e.get("old", []))
        if same_name and not {"marker", "marker_grep", "marker_lacks"} & set(e):
            out.append((at("id"), "the old form has the new form's name: give marker or marker_grep "
                        "(what says the target has the new form)"))
    return out


def _entry(e: dict[str, Any], family: str, ref: SourceRef) -> ApiEntry:
    old = tuple(e.get("old", ()))
    needs = tuple(e.get("needs", ())) or tuple(dict.fromkeys(n for o in old[:1] for n in _old_needs(o) if n))
    mg = e.get("marker_grep")
    return ApiEntry(
        id=e["id"], family=family, kind=e["kind"], new=e["new"], old=old, needs=needs,
        marker=tuple(e.get("marker", ())) or (form_name(e["new"]),),
        marker_grep=(tuple(mg["paths"]), mg["pattern"]) if mg else None, match=e.get("match", ""),
        marker_lacks=tuple(e.get("marker_lacks", ())),
        since=e["since"], commit=e["commit"], subject=e["subject"], also=tuple(e.get("also", ())),
        older=" ".join(e["older"].split()),
        examples=tuple(Example(x["upstream"], None if x["target"] is None else
                               ((x["target"],) if isinstance(x["target"], str) else tuple(x["target"])))
                       for x in e["examples"]),
        ref=ref, callback=_callback(e.get("callback")), companion=e.get("companion", ""))


def _callback(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    out = dict(spec)
    out["header"] = tuple([spec["header"]] if isinstance(spec["header"], str) else spec["header"])
    out.setdefault("returns", "int")
    out.setdefault("value", "0")
    return out


def _problems(text: str, origin: str) -> tuple[list[tuple[int, str]], Any, dict]:
    data, lines = parse_yaml_with_lines(text, origin)
    problems = schema_problems(data, lines, load_api_schema())
    if not problems:
        problems = _entry_problems(data, lines)
    if not problems:
        for i, e in enumerate(data["entries"]):
            entry = _entry(e, data["family"], SourceRef(origin))
            for j, msg in enumerate(example_failures(entry)):
                problems.append((line_of(lines, ("entries", i, "examples", j)), msg))
    problems.sort()
    return problems, data, lines


def example_failures(entry: ApiEntry) -> list[str]:
    """What each example of ``entry`` gets wrong ("" when it behaves); empty list: all behave."""
    out = []
    for ex in entry.examples:
        if not find_uses(entry, ex.upstream):
            out.append(f"example {ex.upstream.strip()!r} does not use {entry.new}")
            continue
        try:
            got: tuple[str, ...] | None = tuple(rewrite_line(entry, ex.upstream))
        except CannotRewrite:
            got = None
        if got != ex.target:
            out.append(f"example {ex.upstream.strip()!r} gives {got!r}, not {ex.target!r}")
    return out


def parse_api(text: str, origin: str) -> tuple[ApiEntry, ...]:
    problems, data, lines = _problems(text, origin)
    if problems:
        line, msg = problems[0]
        raise RuleError(msg, SourceRef(origin, line))
    return tuple(_entry(e, data["family"], SourceRef(origin, line_of(lines, ("entries", i, "id"))))
                 for i, e in enumerate(data["entries"]))


def api_files(dirs: Iterable[str] = (), *, bundled: bool = True) -> tuple[Path, ...]:
    files: list[Path] = sorted(API_DIR.glob("*.yaml")) if bundled else []
    for d in dirs:
        p = Path(d) / "api"
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
    return tuple(files)


def _read(path: Path) -> str:
    return read_yaml_text(path, "API table")


@lru_cache(maxsize=8)
def _load_cached(files: tuple[tuple[Path, int, int], ...]) -> tuple[ApiEntry, ...]:
    return parse_files(files, parse_api, "API table", "API entry")


def load_api(dirs: Sequence[str] = ()) -> tuple[ApiEntry, ...]:
    """Every API entry (bundled, then ``DIR/api/`` of the user directories); RuleError on a bad
    file. Cached per set of files and their mtimes, like the rules."""
    return _load_cached(stamp_files(api_files(dirs), "API table"))


def check_api_files(dirs: Sequence[str] = (), *, bundled: bool = True) -> tuple[str, ...]:
    """Every problem of every API table as ``file:line: error: ...`` (empty when all is well)."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for f in api_files(dirs, bundled=bundled):
        origin = display_path(f)
        try:
            problems, data, lines = _problems(_read(f), origin)
        except RuleError as e:
            out.append(str(e) if ": error: " in str(e) else _as_error(e))
            continue
        out.extend(f"{origin}:{line}: error: {msg}" for line, msg in problems)
        if problems:
            continue
        for i, e in enumerate(data["entries"]):
            where = f"{origin}:{line_of(lines, ('entries', i, 'id'))}"
            if e["id"] in seen:
                out.append(f"{where}: error: API entry {e['id']} already defined at {seen[e['id']]}")
            seen.setdefault(e["id"], where)
    return tuple(out)


def _as_error(e: RuleError) -> str:
    return f"{e.ref}: error: {e.message}" if getattr(e, "ref", None) else f"error: {e}"


# ---------------------------------------------------------------- presenting


def render_api_list(entries: Sequence[ApiEntry]) -> str:
    width = max((len(e.id) for e in entries), default=0)
    return "".join(f"{e.id:<{width}}  {e.kind:<15}  {e.since:<6}  {e.new}  <-  "
                   f"{' | '.join(o.replace(chr(10), ' ') for o in e.old) or '(open-code)'}\n" for e in entries)


def render_api_entry(e: ApiEntry) -> str:
    parts = [f"{e.id} ({e.kind}, family {e.family}) - {e.new}", f"defined at {e.ref}", "",
             f"new form:   {e.new}   (since {e.since})"]
    parts += [f"old form:   {o}".replace("\n", "\n            ") for o in e.old] or ["old form:   none that a line can hold: open-code it"]
    parts += [f"commit:     {e.reference}", *(f"also:       {a}" for a in e.also),
              f"target has the new form when {_marker_words(e)}",
              f"old form needs: {', '.join(e.needs) or '-'}", "", e.older, "", "examples:"]
    for ex in e.examples:
        parts.append(f"  + {ex.upstream.strip()}")
        parts += [f"  > {t.strip()}" for t in ex.target] if ex.target is not None else ["  > (open-code by hand)"]
    return "\n".join(parts) + "\n"


def _marker_words(e: ApiEntry) -> str:
    if e.marker_grep:
        return f"{', '.join(e.marker_grep[0])} matches {e.marker_grep[1]!r}"
    if e.marker_lacks:
        return f"it defines none of: {', '.join(e.marker_lacks)}"
    return f"it defines: {', '.join(e.marker)}"


def api_entry_as_dict(e: ApiEntry) -> dict[str, Any]:
    return {"id": e.id, "family": e.family, "kind": e.kind, "new": e.new, "old": list(e.old),
            "needs": list(e.needs), "marker": list(e.marker),
            "marker_grep": {"paths": list(e.marker_grep[0]), "pattern": e.marker_grep[1]} if e.marker_grep else None,
            "marker_lacks": list(e.marker_lacks),
            "since": e.since, "commit": e.commit, "subject": e.subject, "also": list(e.also), "older": e.older,
            "callback": ({k: list(v) if isinstance(v, tuple) else v for k, v in e.callback.items()}
                         if e.callback else None),
            "examples": [{"upstream": x.upstream, "target": list(x.target) if x.target is not None else None}
                         for x in e.examples], "defined_at": str(e.ref)}


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)
