"""Enclosing scopes of a patched C file (stage: deps), through tree-sitter-c.

Inputs: the text of a target C file (or a hunk's post-image) and a 1-based line. Outputs: which
struct or union each visible variable has (parameters and locals of the enclosing function,
then file-scope declarations), so deps can check ``var->member`` against that one struct
instead of against every struct of the tree. Only the few files a patch touches are parsed;
the whole-tree index is built by a line scanner (see backport.index for why).
"""

from __future__ import annotations

import re

from hunks.syntax import c_tree

# struct foo *bar = ...   /   const struct foo bar;   /   struct foo *a, *b;
RE_STRUCT_DECL = re.compile(r"\b(?:struct|union)\s+([A-Za-z_]\w*)\s*((?:\**\s*(?:const\s+)?[A-Za-z_]\w*\s*(?:\[[^\]]*\])?\s*"
                            r"(?:=[^,;]*)?,\s*)*\**\s*(?:const\s+)?[A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)?(?=[=;,)])")
RE_DECL_NAME = re.compile(r"\**\s*(?:const\s+)?([A-Za-z_]\w*)")

_AGGREGATES = ("struct_specifier", "union_specifier")


def _declarator_name(node) -> str | None:  # noqa: ANN001 - tree_sitter.Node
    """The identifier a declarator declares (through pointers, arrays, initialisers)."""
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return node.text.decode("utf-8", "replace")
        if node.type in ("function_declarator", "parenthesized_declarator"):
            return None
        node = node.child_by_field_name("declarator")
    return None


def _collect(node, out: dict[str, set[str]]) -> None:  # noqa: ANN001
    """name -> tags declared by the declaration/parameter ``node``."""
    t = node.child_by_field_name("type")
    if t is None or t.type not in _AGGREGATES:
        return
    tag_node = t.child_by_field_name("name")
    if tag_node is None:
        return
    tag = tag_node.text.decode("utf-8", "replace")
    for child in node.children_by_field_name("declarator"):
        name = _declarator_name(child)
        if name:
            out.setdefault(name, set()).add(tag)


def _walk_decls(node, out: dict[str, set[str]], *, descend: bool) -> None:  # noqa: ANN001
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in ("declaration", "parameter_declaration"):
            _collect(n, out)
        if descend or n is node:
            stack.extend(c for c in n.children if c.type != "function_definition" or descend)


def _function_name(node) -> str | None:  # noqa: ANN001
    d = node.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    if d is None:
        return None
    name = d.child_by_field_name("declarator")
    return name.text.decode("utf-8", "replace") if name is not None and name.type == "identifier" else None


def find_variable_types(source: str, line: int = 0, *, function: str = "") -> dict[str, str]:
    """``{variable: struct tag}`` visible in the function named ``function`` (else the one
    enclosing 1-based ``line``) of C ``source``: its parameters and locals first, then
    file-scope declarations. A name declared with two different tags (shadowing, #ifdef
    branches) is left out: the caller cannot know."""
    root = c_tree(source).root_node
    row = line - 1
    local: dict[str, set[str]] = {}
    glob: dict[str, set[str]] = {}
    for top in root.children:
        if top.type != "function_definition":
            if top.type == "declaration":
                _collect(top, glob)
            continue
        hit = _function_name(top) == function if function else top.start_point[0] <= row <= top.end_point[0]
        if hit:
            _walk_decls(top, local, descend=True)
    out = {n: next(iter(tags)) for n, tags in glob.items() if len(tags) == 1}
    for n, tags in local.items():
        if len(tags) == 1:
            out[n] = next(iter(tags))
        else:
            out.pop(n, None)
    return out


def find_declared_in_lines(lines: list[str]) -> dict[str, str]:
    """``{variable: struct tag}`` from declarations written in ``lines`` (a hunk's post-image,
    which tree-sitter may not parse on its own)."""
    seen: dict[str, set[str]] = {}
    for text in lines:
        for m in RE_STRUCT_DECL.finditer(text):
            for part in m.group(2).split(","):
                d = RE_DECL_NAME.match(part.split("=")[0].strip())
                if d:
                    seen.setdefault(d.group(1), set()).add(m.group(1))
    return {n: next(iter(tags)) for n, tags in seen.items() if len(tags) == 1}


def merge_types(outer: dict[str, str], inner: dict[str, str]) -> dict[str, str]:
    """``inner`` declarations win over ``outer`` ones, unless they disagree (a name of two
    struct types in one function: which one a line means is unknown, so it is left out)."""
    out = dict(outer)
    for n, tag in inner.items():
        if n in out and out[n] != tag:
            del out[n]
        else:
            out[n] = tag
    return out
