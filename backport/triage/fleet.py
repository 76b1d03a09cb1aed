"""The fleet file of ``backport triage`` (stage: triage input): YAML -> validated TreeSpec values.

Inputs: the path of a YAML file::

    trees:
      - name: debian-6.1
        path: /srv/trees/linux-6.1.190     # a directory, or a git repo with rev:
        rev: v6.1.190                      # optional
        arch: x86_64                       # optional, default x86_64
        config: /srv/configs/6.1.config    # optional
    upstream: /srv/linux.git               # optional, as port --upstream
    kb: [/srv/kb-extra]                    # optional, as port --kb

Outputs: a ``Fleet`` (trees in file order, the upstream repo, extra kb dirs), or a
``ParseError`` naming ``fleet.yaml:LINE`` of the first problem. The YAML is composed with
line marks and validated against ``backport/schema/fleet.schema.json`` with the same helpers
as the knowledge base (kb.loader), so an unknown key or a wrong type points at its line.
Relative paths are taken from the fleet file's directory. Nothing is read from the trees here
beyond checking that each path exists and, for ``rev``, is a git repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from ..errors import ParseError, RuleError
from ..model import SourceRef

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "fleet.schema.json"
MAX_FLEET_BYTES = 1 << 20

# ARCH -> the arch/ directory the kernel builds (top-level Makefile: SRCARCH := $(ARCH), with
# i386/x86_64 -> x86, sparc32/sparc64 -> sparc, parisc64 -> parisc, sh64 -> sh).
SRCARCH = {"i386": "x86", "x86_64": "x86", "sparc32": "sparc", "sparc64": "sparc", "parisc64": "parisc",
           "sh64": "sh"}


def srcarch(arch: str) -> str:
    """The directory under arch/ that a build for ``arch`` compiles."""
    return SRCARCH.get(arch, arch)


@dataclass(frozen=True, slots=True)
class TreeSpec:
    """One tree of the fleet, as the cells need it (picklable: it travels to the workers)."""

    name: str
    path: str  # absolute
    rev: str | None = None
    arch: str = "x86_64"
    config: str | None = None  # absolute
    ref: SourceRef | None = None  # the fleet file line of its ``name``


@dataclass(frozen=True, slots=True)
class Fleet:
    trees: tuple[TreeSpec, ...]
    upstream: str | None = None
    kb_dirs: tuple[str, ...] = ()
    origin: str = ""


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def _yaml_problems(text: str, origin: str) -> tuple[Any, dict[tuple[str | int, ...], int], list[tuple[int, str]]]:
    from kb.loader import _line_of, _schema_messages, parse_yaml_with_lines

    try:
        data, lines = parse_yaml_with_lines(text, origin)
    except RuleError as e:  # the YAML itself is broken; say it as a fleet error
        raise ParseError(e.message.replace("empty rule file", "empty fleet file"), e.ref) from None
    validator = jsonschema.Draft202012Validator(load_schema())
    problems: list[tuple[int, str]] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_schema_messages(err, lines))
    if isinstance(data, dict) and isinstance(data.get("trees"), list):
        seen: dict[str, int] = {}
        for i, t in enumerate(data["trees"]):
            name = t.get("name") if isinstance(t, dict) else None
            if isinstance(name, str):
                line = _line_of(lines, ("trees", i, "name"))
                if name in seen:
                    problems.append((line, f"tree name '{name}' is used twice (first at line {seen[name]})"))
                seen.setdefault(name, line)
    return data, lines, problems


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _check_tree(t: dict[str, Any], i: int, base: Path, lines: dict[tuple[str | int, ...], int],
                origin: str) -> TreeSpec:
    from kb.loader import _line_of

    def fail(key: str, message: str) -> ParseError:
        return ParseError(message, SourceRef(origin, _line_of(lines, ("trees", i, key))))

    path = _resolve(base, t["path"])
    if not path.is_dir():
        raise fail("path", f"tree '{t['name']}': {t['path']} is not a directory")
    rev = t.get("rev")
    if rev is not None and not ((path / ".git").exists() or (path / "objects").is_dir()):
        raise fail("rev", f"tree '{t['name']}': rev {rev!r} given but {t['path']} is not a git repository")
    arch = t.get("arch", "x86_64")
    if rev is None and (path / "arch").is_dir() and not (path / "arch" / srcarch(arch)).is_dir():
        have = sorted(p.name for p in (path / "arch").iterdir() if p.is_dir())[:12]
        raise fail("arch", f"tree '{t['name']}': arch {arch!r} builds arch/{srcarch(arch)}/, which the tree "
                           f"does not have (it has {', '.join(have)})")
    config = None
    if "config" in t:
        cp = _resolve(base, t["config"])
        if not cp.is_file():
            raise fail("config", f"tree '{t['name']}': config {t['config']} is not a file")
        config = str(cp.resolve())
    return TreeSpec(name=t["name"], path=str(path.resolve()), rev=rev, arch=arch, config=config,
                    ref=SourceRef(origin, _line_of(lines, ("trees", i, "name"))))


def parse_fleet(text: str, origin: str, *, base: Path | None = None) -> Fleet:
    """A Fleet from the text of a fleet file; ``base`` resolves relative paths (default: origin's dir)."""
    data, lines, problems = _yaml_problems(text, origin)
    if problems:
        line, msg = min(problems)
        raise ParseError(msg, SourceRef(origin, line))
    where = base if base is not None else Path(origin).resolve().parent
    trees = tuple(_check_tree(t, i, where, lines, origin) for i, t in enumerate(data["trees"]))
    upstream = str(_resolve(where, data["upstream"]).resolve()) if "upstream" in data else None
    if upstream is not None and not Path(upstream).exists():
        raise ParseError(f"upstream {data['upstream']} does not exist", SourceRef(origin, lines.get(("upstream",), 1)))
    kb_dirs = tuple(str(_resolve(where, d).resolve()) for d in data.get("kb", ()))
    return Fleet(trees=trees, upstream=upstream, kb_dirs=kb_dirs, origin=origin)


def load_fleet(path: str) -> Fleet:
    """Read and validate a fleet file (ParseError ``path:line: error: ...`` on any problem)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FLEET_BYTES:
            raise ParseError(f"fleet file larger than {MAX_FLEET_BYTES} bytes", SourceRef(path, 1))
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ParseError(f"cannot read fleet file: {getattr(e, 'strerror', None) or e}", SourceRef(path, 1)) from None
    return parse_fleet(text, path)
