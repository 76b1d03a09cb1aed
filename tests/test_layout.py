"""Architecture boundaries of DESIGN.md §2, checked by walking the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    pkg = path.relative_to(ROOT).parts[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import stays in its own package
                names.add(pkg + ("." + node.module if node.module else ""))
            elif node.module:
                names.add(node.module)
    return names


def _modules(pkg: str) -> list[Path]:
    return sorted((ROOT / pkg).rglob("*.py"))


def test_hunks_knows_no_git_files_cli_or_kernel():
    for mod in _modules("hunks"):
        for name in _imports(mod):
            top = name.split(".")[0]
            assert top not in {"backport", "git", "kb"}, f"{mod.name} imports {name}"


def test_model_is_stdlib_only():
    allowed = {"__future__", "enum", "dataclasses", "typing", "collections"}
    for name in _imports(ROOT / "backport" / "model.py"):
        assert name.split(".")[0] in allowed, name


def test_only_cli_calls_sys_exit_or_sees_namespace():
    for mod in _modules("backport") + _modules("hunks") + _modules("kb"):
        if mod.name in {"cli.py", "__main__.py"}:
            continue
        text = mod.read_text()
        assert "sys.exit(" not in text, f"{mod} calls sys.exit"
        assert "argparse.Namespace" not in text, f"{mod} sees an argparse.Namespace"


def test_nothing_below_cli_imports_cli():
    for mod in _modules("backport") + _modules("hunks") + _modules("kb"):
        if mod.name in {"cli.py", "__main__.py"}:
            continue
        assert not any(n in {"backport.cli"} for n in _imports(mod)), f"{mod} imports backport.cli"


def test_every_module_opens_with_a_docstring():
    for mod in _modules("backport") + _modules("hunks") + _modules("kb"):
        if mod.stat().st_size == 0:
            continue
        assert ast.get_docstring(ast.parse(mod.read_text())), f"{mod} has no module docstring"
