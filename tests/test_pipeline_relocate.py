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


# 32-bit arm has module-plts.c and a helper the arm64 hunk's header names; the 4.4-like arm64 tree
# has neither (arm64 got module PLTs in v4.6): an arm64 hunk never moves into arch/arm/
ARCH_TREE = MemoryTree({
    "arch/arm/kernel/module-plts.c": "#include <linux/elf.h>\n#include <linux/kernel.h>\n"
                                     "#include <linux/module.h>\n\nint module_frob_arch_sections(void)\n{\n"
                                     "\treturn 0;\n}\n",
    "arch/arm64/kernel/module.c": "#include <linux/elf.h>\n\nint module_finalize(void)\n{\n\treturn 0;\n}\n",
    "arch/arm64/kernel/setup.c": "int setup_arch(void)\n{\n\treturn 0;\n}\n",
})

PLTS_FIX = """\
diff --git a/arch/arm64/kernel/module-plts.c b/arch/arm64/kernel/module-plts.c
--- a/arch/arm64/kernel/module-plts.c
+++ b/arch/arm64/kernel/module-plts.c
@@ -1,3 +1,4 @@
 #include <linux/elf.h>
+#include <linux/ftrace.h>
 #include <linux/kernel.h>
 #include <linux/module.h>
"""


def test_an_arch_file_never_relocates_into_another_arch() -> None:
    paths = list_paths(ARCH_TREE)
    assert find_renamed(paths, "arch/arm64/kernel/module-plts.c") == ()
    assert find_renamed(paths, "arch/arm/kernel/module.c") == ()
    assert find_function_files(ARCH_TREE, "module_frob_arch_sections", "arch/arm64/kernel/module.c") == ()
    assert find_moved_file(ARCH_TREE, "arch/arm64/kernel/module-plts.c", ["module_frob_arch_sections"]) == ()
    # within one arch, and outside arch/, relocation is as before
    assert find_renamed(paths + ("arch/arm64/kernel/plts/setup.c",), "arch/arm64/kernel/old/setup.c") == (
        "arch/arm64/kernel/setup.c", "arch/arm64/kernel/plts/setup.c")


def test_the_pipeline_leaves_the_arm64_hunk_unplaced_instead_of_patching_arm() -> None:
    from backport.model import Patch, PortOptions
    from backport.pipeline import port_patch
    from backport.series import parse_diff

    patch = Patch(subject="arm64: plts", files=parse_diff(PLTS_FIX, origin="p.patch"), diff_text=PLTS_FIX)
    r = port_patch(patch, ARCH_TREE, options=PortOptions(checks=False))
    assert not any(p.applied for p in r.placements)
    assert not r.new_files
    assert not [f for f in r.findings if f.code == "relocated-file"]
    assert [f for f in r.findings if f.code == "unplaced-hunk"]
