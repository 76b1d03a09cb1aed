"""Enclosing scopes through tree-sitter: which struct a variable is, where deps checks a member."""

from __future__ import annotations

from backport.scope import find_declared_in_lines, find_variable_types, merge_types

SRC = """static struct widget *gw;
struct foo g_foo;
int f(struct foo *x, int y)
{
\tstruct bar *b = x->b, *c;
\tlist_for_each_entry(b, &x->l, node) {
\t\tstruct baz z;
\t}
\treturn 0;
}
int g(void)
{
\tstruct bar *x;
\tif (1) {
\t\tstruct qux *x;
\t}
\treturn 0;
}
"""


def test_types_of_the_enclosing_function_by_line_and_by_name():
    by_line = find_variable_types(SRC, 9)
    assert by_line == {"gw": "widget", "g_foo": "foo", "x": "foo", "b": "bar", "c": "bar", "z": "baz"}
    assert find_variable_types(SRC, function="f") == by_line
    # g declares x with two struct types: which one a line means is unknown, so x is left out
    assert find_variable_types(SRC, function="g") == {"gw": "widget", "g_foo": "foo"}
    assert find_variable_types(SRC, function="nope") == {"gw": "widget", "g_foo": "foo"}


def test_declarations_in_hunk_lines_and_merging():
    got = find_declared_in_lines(["\tstruct foo *a = NULL, *bb;", "static int f(struct widget *w, int n)",
                                  "\tconst struct bar x[3];", "\tstruct one *h;", "\tstruct two *h;"])
    assert got == {"a": "foo", "bb": "foo", "w": "widget", "x": "bar"}
    assert merge_types({"a": "foo", "w": "gadget", "k": "k"}, {"a": "foo", "w": "widget", "n": "n"}) == {
        "a": "foo", "k": "k", "n": "n"}
