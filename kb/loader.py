"""Rule files of the knowledge base (stage: kb): YAML on disk -> validated, frozen Rule values.

Inputs: the bundled ``kb/rules/*.yaml`` plus any user directories (``--kb DIR``).
Outputs: a tuple of ``Rule`` (one per rule, ``foreach`` tables expanded), or a
``RuleError`` naming ``file:line`` of the first problem (``load_rules``), or every problem
as ``file:line: error: ...`` lines (``check_rule_files``, what ``backport kb lint`` prints).

How: each file is composed with PyYAML into nodes, so every mapping key keeps its line;
the plain data is validated with jsonschema against ``kb/schema.json`` and each schema error
is mapped back to the line of the offending key (``kb/rules/x.yaml:12: unknown key
'severty'``). Regexes are compiled here, once, so a bad pattern is a lint error and not a
crash in the middle of a port. The vocabulary itself is documented in ``kb/README.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from backport.errors import RuleError
from backport.model import Severity, SourceRef

KB_DIR = Path(__file__).resolve().parent
RULES_DIR = KB_DIR / "rules"
SCHEMA_PATH = KB_DIR / "schema.json"

#: keys whose values are regular expressions (single or list), compiled at load time
REGEX_KEYS = frozenset({"added_matches", "removed_matches", "changed_matches", "added_captures", "pattern",
                        "within_ifdef"})
# {name}  (a placeholder of a foreach row or of a captured name)
RE_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# >=4.9   /   <5.5   /   ==4.19
RE_VERSION_TERM = re.compile(r"^\s*(<=|>=|<|>|==|!=)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$")

Path_ = tuple[str | int, ...]
_SCALARS = yaml.SafeLoader("")  # only its constructor is used, on scalar nodes


@dataclass(frozen=True, slots=True)
class Rule:
    """One knowledge-base rule, validated; ``when``/``unless``/``check`` keep the YAML's shape."""

    id: str
    family: str
    severity: Severity
    title: str
    message: str
    hint: str = ""
    checklist: str = ""
    references: tuple[str, ...] = ()
    when: Mapping[str, Any] = field(default_factory=dict)
    unless: Mapping[str, Any] = field(default_factory=dict)
    check: Mapping[str, Any] = field(default_factory=dict)
    rows: tuple[Mapping[str, str], ...] = ()  # the foreach table (empty: one plain rule)
    ref: SourceRef | None = None  # file:line of the rule's ``id``
    doc: str = ""  # longer explanation, shown by ``kb show``
    once: bool = False  # fire on the first patch of the series whose ``when`` holds, not on every one


# ---------------------------------------------------------------- YAML with line numbers


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int], origin: str) -> Any:
    """Plain Python data from a composed node, recording the 1-based line of every key."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise RuleError("mapping keys must be plain strings", SourceRef(origin, line))
            if key in out:
                raise RuleError(f"duplicate key '{key}'", SourceRef(origin, line))
            out[key] = _construct(value_node, (*path, key), lines, origin)
            lines[(*path, key)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(n, (*path, i), lines, origin) for i, n in enumerate(node.value)]
    # scalars: the composer already resolved the tag (str, int, bool, null)
    return _SCALARS.construct_object(node, deep=True)


def parse_yaml_with_lines(text: str, origin: str) -> tuple[Any, dict[Path_, int]]:
    """(data, {key path: line}) of one YAML document; YAML syntax errors become RuleError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise RuleError(f"YAML: {e.problem or e}", SourceRef(origin, line)) from e
    except yaml.YAMLError as e:
        raise RuleError(f"YAML: {e}", SourceRef(origin)) from e
    if node is None:
        raise RuleError("empty rule file", SourceRef(origin, 1))
    lines: dict[Path_, int] = {}
    return _construct(node, (), lines, origin), lines


# ---------------------------------------------------------------- schema


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def _line_of(lines: Mapping[Path_, int], path: Path_) -> int:
    p = tuple(path)
    while p and p not in lines:
        p = p[:-1]
    return lines.get(p, 1)


def _schema_messages(error: jsonschema.ValidationError, lines: Mapping[Path_, int]) -> Iterator[tuple[int, str]]:
    """(line, message) for one schema error, in words a rule author understands."""
    path: Path_ = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        for key in sorted(k for k in error.instance if k not in allowed):
            yield _line_of(lines, (*path, key)), f"unknown key '{key}'" + (f" in {where}" if path else "")
        return
    if error.validator == "required":
        yield _line_of(lines, path), f"{where}: {error.message}"
        return
    yield _line_of(lines, path), f"{where}: {error.message}"


def _regex_errors(data: Any, path: Path_, lines: Mapping[Path_, int]) -> Iterator[tuple[int, str]]:
    """Every regex value that does not compile (placeholders are filled with a word first)."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in REGEX_KEYS:
                for i, pat in enumerate(v if isinstance(v, list) else [v]):
                    if not isinstance(pat, str):
                        continue
                    try:
                        re.compile(RE_PLACEHOLDER.sub("x", pat))
                    except re.error as e:
                        sub = (*path, k, i) if isinstance(v, list) else (*path, k)
                        yield _line_of(lines, sub), f"bad regular expression {pat!r}: {e}"
            else:
                yield from _regex_errors(v, (*path, k), lines)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _regex_errors(v, (*path, i), lines)


def _version_errors(data: Any, path: Path_, lines: Mapping[Path_, int]) -> Iterator[tuple[int, str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "target_version" and isinstance(v, str):
                try:
                    parse_version_spec(v)
                except ValueError as e:
                    yield _line_of(lines, (*path, k)), str(e)
            else:
                yield from _version_errors(v, (*path, k), lines)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _version_errors(v, (*path, i), lines)


def parse_version_spec(spec: str) -> tuple[tuple[str, tuple[int, int, int]], ...]:
    """``">=4.9,<5.5"`` -> ((">=", (4, 9, 0)), ("<", (5, 5, 0))); ValueError when malformed."""
    terms = []
    for part in spec.split(","):
        m = RE_VERSION_TERM.match(part)
        if not m:
            raise ValueError(f"bad version range {spec!r} (write e.g. '>=4.9,<5.5')")
        op, a, b, c = m.groups()
        terms.append((op, (int(a), int(b or 0), int(c or 0))))
    return tuple(terms)


def version_matches(spec: str, version: tuple[int, int, int]) -> bool:
    ops = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y,
           ">=": lambda x, y: x >= y, "==": lambda x, y: x == y, "!=": lambda x, y: x != y}
    return all(ops[op](version, v) for op, v in parse_version_spec(spec))


def schema_problems(data: Any, lines: Mapping[Path_, int], schema: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(line, message) for every way ``data`` breaks ``schema`` (JSON Schema 2020-12), each at the
    line of the offending key (also used by kb.api for the API-evolution tables)."""
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[tuple[int, str]] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_schema_messages(err, lines))
    return problems


def line_of(lines: Mapping[Path_, int], path: Path_) -> int:
    """The 1-based line of the key at ``path`` (or of its nearest parent)."""
    return _line_of(lines, path)


def _problems(text: str, origin: str) -> tuple[list[tuple[int, str]], Any, dict[Path_, int]]:
    data, lines = parse_yaml_with_lines(text, origin)
    problems = schema_problems(data, lines, load_schema())
    if not problems:
        problems.extend(_regex_errors(data, (), lines))
        problems.extend(_version_errors(data, (), lines))
        for i, rule in enumerate(data.get("rules", [])):
            fields = set(RE_PLACEHOLDER.findall(json.dumps([rule.get("when"), rule.get("check")])))
            rows = rule.get("foreach") or []
            for j, row in enumerate(rows):
                missing = {f for f in fields if f not in row and f != "name"}
                if missing:
                    problems.append((_line_of(lines, ("rules", i, "foreach", j)),
                                     f"foreach row lacks {', '.join(sorted(missing))}"))
    problems.sort()
    return problems, data, lines


# ---------------------------------------------------------------- loading


def parse_rules(text: str, origin: str) -> tuple[Rule, ...]:
    """The rules of one rule file's text; RuleError at the first problem."""
    problems, data, lines = _problems(text, origin)
    if problems:
        line, msg = problems[0]
        raise RuleError(msg, SourceRef(origin, line))
    family = data["family"]
    out = []
    for i, r in enumerate(data["rules"]):
        out.append(Rule(
            id=r["id"], family=family, severity=Severity[r["severity"].upper()], title=r["title"],
            message=r["message"].strip(), hint=r.get("hint", "").strip(), checklist=r.get("checklist", "").strip(),
            references=tuple(r.get("references", ())), when=r.get("when", {}), unless=r.get("unless", {}),
            check=r.get("check", {}), rows=tuple(r.get("foreach", ())),
            ref=SourceRef(origin, _line_of(lines, ("rules", i, "id"))), doc=r.get("doc", "").strip(),
            once=bool(r.get("once", False))))
    return tuple(out)


def rule_files(dirs: Iterable[str] = (), *, bundled: bool = True) -> tuple[Path, ...]:
    """The bundled rule files, then every ``*.yaml``/``*.yml`` of each user directory, sorted."""
    files: list[Path] = sorted(RULES_DIR.glob("*.yaml")) if bundled else []
    for d in dirs:
        p = Path(d)
        if not p.is_dir():
            raise RuleError(f"{d}: not a rule directory")
        files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
    return tuple(files)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (for file:line errors)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_yaml_text(path: Path, what: str = "rule file") -> str:
    """The text of a kb YAML file; RuleError naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"cannot read {what}: {e}", SourceRef(display_path(path))) from e


def stamp_files(files: Iterable[Path], what: str = "rule file") -> tuple[tuple[Path, int, int], ...]:
    """(path, mtime, size) per file: the cache key under which parsed kb files are reused."""
    stamped = []
    for f in files:
        try:
            st = f.stat()
        except OSError as e:
            raise RuleError(f"cannot read {what}: {e}", SourceRef(display_path(f))) from e
        stamped.append((f, st.st_mtime_ns, st.st_size))
    return tuple(stamped)




def parse_files(files: Iterable[tuple[Path, int, int]], parse: Callable[[str, str], Iterable[Any]],
                what: str = "rule file", id_words: str = "rule id") -> tuple[Any, ...]:
    """Every item ``parse(text, origin)`` yields from these files, in order; RuleError when an
    id is defined twice (items carry ``id`` and ``ref``)."""
    out: list[Any] = []
    seen: dict[str, SourceRef | None] = {}
    for f, _mtime, _size in files:
        for item in parse(read_yaml_text(f, what), display_path(f)):
            if item.id in seen:
                raise RuleError(f"{id_words} {item.id} already defined at {seen[item.id]}", item.ref)
            seen[item.id] = item.ref
            out.append(item)
    return tuple(out)


@lru_cache(maxsize=16)
def _load_cached(files: tuple[tuple[Path, int, int], ...]) -> tuple[Rule, ...]:
    """The rules of these files; keyed by (path, mtime, size) so an edited file is read again."""
    return parse_files(files, parse_rules)


def load_rules(dirs: Sequence[str] = ()) -> tuple[Rule, ...]:
    """Every rule: bundled ones first, then the user directories'; RuleError on any bad file.

    Parsed and compiled once per set of files and their mtimes (a glob and a stat per file
    on later calls), so every patch of a series, and every call of a long-lived process, shares
    them until a rule file changes."""
    return _load_cached(stamp_files(rule_files(dirs)))


def find_rule(rule_id: str, dirs: Sequence[str] = ()) -> Rule | None:
    return next((r for r in load_rules(dirs) if r.id == rule_id), None)


def check_rule_files(dirs: Sequence[str] = (), *, bundled: bool = True) -> tuple[str, ...]:
    """Every problem of every rule file as ``file:line: error: ...`` (empty when all is well)."""
    out: list[str] = []
    seen: dict[str, str] = {}
    for f in rule_files(dirs, bundled=bundled):
        origin = display_path(f)
        try:
            problems, data, lines = _problems(read_yaml_text(f), origin)
        except RuleError as e:
            out.append(str(e))
            continue
        out.extend(f"{origin}:{line}: error: {msg}" for line, msg in problems)
        if problems:
            continue
        for i, r in enumerate(data["rules"]):
            where = f"{origin}:{_line_of(lines, ('rules', i, 'id'))}"
            if r["id"] in seen:
                out.append(f"{where}: error: rule id {r['id']} already defined at {seen[r['id']]}")
            seen.setdefault(r["id"], where)
    return tuple(out)


# ---------------------------------------------------------------- presenting


def render_rule_list(rules: Sequence[Rule]) -> str:
    width = max((len(r.id) for r in rules), default=0)
    return "".join(f"{r.id:<{width}}  {str(r.severity):<7}  {r.family:<14}  {r.title}\n" for r in rules)


def render_rule(rule: Rule) -> str:
    parts = [f"{rule.id} ({rule.severity}, family {rule.family}) - {rule.title}", f"defined at {rule.ref}", ""]
    if rule.doc:
        parts += [rule.doc, ""]
    parts += ["message:   " + rule.message]
    if rule.hint:
        parts.append("hint:      " + rule.hint)
    if rule.checklist:
        parts.append("checklist: " + rule.checklist)
    for ref in rule.references:
        parts.append("reference: " + ref)
    parts += ["", yaml.safe_dump({"when": dict(rule.when), "unless": dict(rule.unless),
                                  "check": dict(rule.check)}, sort_keys=False).rstrip()]
    if rule.rows:
        parts += [f"foreach: {len(rule.rows)} rows", yaml.safe_dump(list(map(dict, rule.rows)), sort_keys=False).rstrip()]
    return "\n".join(parts) + "\n"


def rule_as_dict(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "family": rule.family, "severity": str(rule.severity), "title": rule.title,
            "message": rule.message, "hint": rule.hint, "checklist": rule.checklist,
            "references": list(rule.references), "when": dict(rule.when), "unless": dict(rule.unless),
            "check": dict(rule.check), "foreach": [dict(r) for r in rule.rows], "defined_at": str(rule.ref),
            "doc": rule.doc}
