"""hunks.score.absent_code and the unplaced-hunk finding: a hunk whose code lines are nowhere in
the target file says it edits code the tree does not have; one whose lines are there but written
otherwise (an adaptation matter) does not."""

from __future__ import annotations

from backport.model import Patch, PortOptions
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree
from hunks.score import absent_code

OLD = ["int foo_finalize(struct module *me)", "{", "\tint i;", "\tfor (i = 0; i < n; i++)",
       "\t\tfoo_fixup(names[i]);", "\treturn 0;", "}"]


def test_absent_code_counts_informative_lines_missing_everywhere() -> None:
    newer = ["\tif (symindex != -1 && !strcmp(secname, \"__foo_loc\")) {", "\t\terr = apply_relocate(s);",
             "\t\tif (err)", "\t\t\treturn err;", "\t}"]
    assert absent_code(OLD, newer, [newer[1]]) == (4, 4)
    # written otherwise: most lines are in the file, or a removed line is there
    assert absent_code(OLD, ["\tint i;", "\tfor (i = 0; i < n; i++)", "\t\tfoo_fixup(names[i], 1);"], []) is None
    assert absent_code(OLD, ["\tnew_a();", "\tnew_b();", "\treturn 0;"], ["\treturn 0;"]) is None
    assert absent_code(OLD, ["}", "\tonly_one();"], []) is None  # one informative line says nothing


FIX = """\
diff --git a/arch/foo/kernel/module.c b/arch/foo/kernel/module.c
--- a/arch/foo/kernel/module.c
+++ b/arch/foo/kernel/module.c
@@ -20,5 +20,6 @@ int foo_finalize(struct module *me)
 \t\tif (symindex != -1 && !strcmp(secname, "__foo_loc")) {
-\t\t\terr = apply_relocate(sechdrs, strtab, symindex);
+\t\t\terr = apply_relocate_add(sechdrs, strtab, symindex);
+\t\t\tfoo_note(secname);
 \t\t\tif (err)
 \t\t\t\treturn err;
 \t\t}
"""


def test_the_unplaced_finding_says_the_code_is_not_in_the_tree() -> None:
    patch = Patch(subject="foo: relocate", files=parse_diff(FIX, origin="f.patch"), diff_text=FIX)
    r = port_patch(patch, MemoryTree({"arch/foo/kernel/module.c": "\n".join(OLD) + "\n"}),
                   options=PortOptions(checks=False))
    assert not r.placements[0].applied
    (f,) = [f for f in r.findings if f.code == "unplaced-hunk"]
    assert "nowhere in the file" in f.message and "does not have" in f.message
    assert "does not have" in r.leftovers
