"""backport.conditional: a hunk that opens or closes a preprocessor conditional whose partner hunk
of the same file did not land is held back (split-conditional), with the pipeline and through
the CLI on a git work tree; both halves landing, or a balanced hunk, change nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backport.cli import main
from backport.conditional import nets_of
from backport.model import Patch, PortOptions, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

PATH = "arch/foo/kernel/module.c"

# upstream: module_finalize() relocates a callsite section; the fix wraps that block in
# #ifdef CONFIG_DYNAMIC_FOO, opening it in one hunk and closing it in the next
WRAP = """\
diff --git a/arch/foo/kernel/module.c b/arch/foo/kernel/module.c
--- a/arch/foo/kernel/module.c
+++ b/arch/foo/kernel/module.c
@@ -10,8 +10,9 @@ int module_finalize(struct module *me)
 \t\t/* patch the alternatives */
 \t\tapply_alternatives(seg, me->name);
\x20
+#ifdef CONFIG_DYNAMIC_FOO
 \t\t/* relocate the callsite section */
 \t\tif (symindex != -1 && !strcmp(secname, "__foo_loc")) {
 \t\t\terr = apply_relocate(sechdrs, strtab, symindex);
 \t\t\tif (err)
 \t\t\t\treturn err;
@@ -20,6 +21,7 @@ int module_finalize(struct module *me)
 \t\t\tif (err)
 \t\t\t\treturn err;
 \t\t}
+#endif
 \t}
 \treturn 0;
 }
"""

UPSTREAM = """\
int module_finalize(struct module *me)
{
\tint err, symindex = -1;
\tfor (i = 0; i < n; i++) {
\t\tconst char *secname = names[i];
\t\tfoo_fixup(secname);
\t\tif (!strcmp(secname, ".alt"))
\t\t\tcontinue;
\t\tseg = sechdrs[i];
\t\t/* patch the alternatives */
\t\tapply_alternatives(seg, me->name);

\t\t/* relocate the callsite section */
\t\tif (symindex != -1 && !strcmp(secname, "__foo_loc")) {
\t\t\terr = apply_relocate(sechdrs, strtab, symindex);
\t\t\tif (err)
\t\t\t\treturn err;
\t\t\terr = foo_check(secname);
\t\t\tfoo_note(secname);
\t\t\tif (err)
\t\t\t\treturn err;
\t\t}
\t}
\treturn 0;
}
"""

# an old tree: no callsite relocation in module_finalize(), but another function ends the same
# way ("if (err) ... }" then "}" "return 0;" "}"), where a lone #endif would fit with fuzz
OLD = """\
static int apply_relocate_all(struct module *me)
{
\tint err;
\tfor (i = 0; i < n; i++) {
\t\tif (rel[i].type == R_FOO_64) {
\t\t\terr = apply_one(me, &rel[i]);
\t\t\tif (err)
\t\t\t\treturn err;
\t\t}
\t}
\treturn 0;
}

int module_finalize(struct module *me)
{
\tint i;
\tfor (i = 0; i < n; i++)
\t\tfoo_fixup(names[i]);
\treturn 0;
}
"""


def _port(target: str):
    patch = Patch(subject="foo: wrap the callsite relocation", files=parse_diff(WRAP, origin="wrap.patch"),
                  diff_text=WRAP)
    return port_patch(patch, MemoryTree({PATH: target}), options=PortOptions(checks=False))


def test_a_lone_endif_whose_ifdef_hunk_did_not_land_is_held_back() -> None:
    r = _port(OLD)
    first, second = r.placements
    assert not first.applied and not second.applied
    split = [f for f in r.findings if f.code == "split-conditional"]
    assert len(split) == 1 and split[0].severity is Severity.ERROR and "closes" in split[0].message
    assert not [f for f in r.findings if f.code == "context-diverged"]  # it was held, not applied
    assert not r.new_files or all("#endif" not in (text or "") for _, text in r.new_files)
    assert "unbalance #if/#endif" in r.leftovers and "+#endif" in r.leftovers


def test_both_halves_landing_apply_without_a_finding() -> None:
    r = _port(UPSTREAM)
    assert all(p.applied for p in r.placements)
    assert not [f for f in r.findings if f.code == "split-conditional"]
    text = dict(r.new_files)[PATH] or ""
    assert text.count("#ifdef CONFIG_DYNAMIC_FOO") == 1 and text.count("#endif") == 1


def test_balance_counts_added_and_removed_directives() -> None:
    unwrap = parse_diff("""\
diff --git a/f.c b/f.c
--- a/f.c
+++ b/f.c
@@ -1,4 +1,3 @@ int f(void)
 {
-#ifdef CONFIG_A
 \tint a = 1;
 \tint b = 2;
@@ -9,5 +8,2 @@ int f(void)
 \treturn a;
-#else
-\treturn 0;
-#endif
 }
@@ -20,2 +16,4 @@ int g(void)
 {
+#if defined(CONFIG_B)
+#endif
 }
""", origin="x.patch")[0]
    assert nets_of(unwrap.hunks) == [-1, 1, 0]


def test_cli_on_a_git_work_tree_holds_the_lone_half_and_exits_non_zero(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "arch/foo/kernel").mkdir(parents=True)
    (tree / PATH).write_text(OLD)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(tree)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "old"], check=True)
    mail = tmp_path / "wrap.patch"
    mail.write_text("From: A <a@example.org>\nSubject: [PATCH] foo: wrap the callsite relocation\n"
                    "Date: Tue, 29 Oct 2019 16:58:26 +0000\n\nWrap it.\n---\n" + WRAP)
    out = tmp_path / "out"
    assert main(["port", str(mail), "--onto", str(tree), "--out", str(out), "-q"]) == 1
    assert "split-conditional" in (out / "report.json").read_text()
    assert "#endif" in (out / "leftovers.txt").read_text()
    assert (tree / PATH).read_text() == OLD
