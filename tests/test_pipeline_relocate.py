"""backport.relocate: where a moved file or function went, on miniature trees."""

from __future__ import annotations

from backport.relocate import find_function_files, find_moved_file, find_renamed, list_paths
from backport.target import MemoryTree

TREE = MemoryTree({
    "drivers/net/foo/core.c": "static int foo_probe(struct device *dev)\n{\n\treturn 0;\n}\n",
    "drivers/net/foo/helpers.h": "static inline int foo_check(int x)\n{\n\treturn x;\n}\n"
                                 "#define foo_reset(f) do { } while (0)\n",
    "drivers/net/bar/core.c": "int bar_probe(void);\nint call(void) { return foo_check(1); }\n",
    "drivers/staging/foo/legacy.c": "int legacy;\n",
    "Documentation/foo.rst": "foo_check(x) is documented here\n",
})


def test_list_paths_is_cached_per_tree() -> None:
    assert list_paths(TREE) is list_paths(TREE)
    assert "drivers/net/foo/core.c" in list_paths(TREE)


def test_find_renamed_prefers_the_nearest_directory() -> None:
    assert find_renamed(list_paths(TREE), "drivers/net/baz/core.c") == ("drivers/net/bar/core.c",
                                                                         "drivers/net/foo/core.c")
    assert find_renamed(list_paths(TREE), "drivers/net/foo/nothing.c") == ()


def test_find_function_files_finds_definitions_not_calls() -> None:
    # bar/core.c only calls foo_check; the .rst mentions it: neither defines it
    assert find_function_files(TREE, "foo_check", "drivers/net/foo/core.c") == ("drivers/net/foo/helpers.h",)
    assert find_function_files(TREE, "foo_reset", "drivers/net/foo/core.c") == ("drivers/net/foo/helpers.h",)
    assert find_function_files(TREE, "no_such_function", "drivers/net/foo/core.c") == ()
    assert find_function_files(TREE, "not a name", "drivers/net/foo/core.c") == ()


def test_find_moved_file_by_defined_functions() -> None:
    # main.c vanished; its functions now live in core.c next door
    assert find_moved_file(TREE, "drivers/net/foo/main.c", ["foo_probe"]) == ("drivers/net/foo/core.c",)
    assert find_moved_file(TREE, "drivers/net/foo/legacy.c", []) == ("drivers/staging/foo/legacy.c",)
