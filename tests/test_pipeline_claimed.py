"""pipeline: a hunk whose context recurs verbatim in another function that an earlier hunk of the
same file already changes is placed again without those lines (no placement-conflict), and a
patch that moves a line is not mistaken for one already applied; real port_patch, MemoryTree."""

from __future__ import annotations

from pathlib import Path

from backport.model import Patch, PortOptions
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

PATH = "drivers/pwm/pwm-foo.c"


def _fn(name: str, var: str, op: str) -> str:
    return (f"static void {name}(struct foo_chip *{var})\n{{\n\tunsigned long flags;\n\tu32 tcon;\n\n"
            f"\tspin_lock_irqsave(&foo_lock, flags);\n\n\ttcon = readl({var}->base + REG_TCON);\n\tif (!tcon)\n\t\tgoto out;\n"
            f"\ttcon {op};\n\twritel(tcon, {var}->base + REG_TCON);\n\n"
            f"out:\n\tspin_unlock_irqrestore(&foo_lock, flags);\n}}\n\n")


UPSTREAM = "#include <linux/pwm.h>\n\n" + _fn("foo_enable", "our_chip", "|= 1") + _fn("foo_invert", "our_chip", "&= ~2")
# the target names the second function's parameter "chip", and has more code between the two
TARGET = ("#include <linux/pwm.h>\n\n" + _fn("foo_enable", "our_chip", "|= 1")
          + "".join(f"static int foo_helper{i}(void)\n{{\n\treturn {i};\n}}\n\n" for i in range(8))
          + _fn("foo_invert", "chip", "&= ~2"))



def _blank_context(text: str) -> str:
    """Diff text whose "." lines are blank context lines (a lone space, which editors strip)."""
    return "\n".join(" " if line == "." else line for line in text.split("\n"))


def _raw_lock_hunk(start: int, fn: str) -> str:
    return (f"@@ -{start},7 +{start},7 @@ static void {fn}(struct foo_chip *our_chip)\n"
            " \tunsigned long flags;\n \tu32 tcon;\n.\n-\tspin_lock_irqsave(&foo_lock, flags);\n"
            "+\traw_spin_lock_irqsave(&foo_lock, flags);\n.\n \ttcon = readl(our_chip->base + REG_TCON);\n"
            " \tif (!tcon)\n")


FIX = _blank_context("diff --git a/drivers/pwm/pwm-foo.c b/drivers/pwm/pwm-foo.c\n--- a/drivers/pwm/pwm-foo.c\n"
                     "+++ b/drivers/pwm/pwm-foo.c\n" + _raw_lock_hunk(5, "foo_enable") + _raw_lock_hunk(22, "foo_invert"))


def _port(fix: str, target: str, upstream: str | None):
    patch = Patch(subject="pwm: foo: raw lock", files=parse_diff(fix, origin="fix.patch"), diff_text=fix)
    return port_patch(patch, MemoryTree({PATH: target}), options=PortOptions(checks=False, upstream=upstream))


def test_context_recurring_in_a_claimed_function_is_placed_again(tmp_path: Path) -> None:
    up = tmp_path / "upstream"
    (up / "drivers/pwm").mkdir(parents=True)
    (up / PATH).write_text(UPSTREAM)
    # the fix's second hunk, verbatim, fits only the first function (the target says "chip" in
    # the second), which the first hunk already changes: it is placed again, in foo_invert
    r = _port(FIX, TARGET, str(up))
    assert not any(f.code == "placement-conflict" for f in r.findings)
    assert all(p.applied for p in r.placements)
    new = dict(r.new_files)[PATH]
    assert new.count("raw_spin_lock_irqsave(&foo_lock, flags);") == 2 and "\tspin_lock_irqsave" not in new
    second = r.placements[1]
    assert second.start > TARGET.count("\n", 0, TARGET.index("foo_invert"))  # 1-based line inside foo_invert
    assert any("claim" in e for e in second.evidence)


def test_without_a_place_outside_the_claimed_lines_the_conflict_stays() -> None:
    # only one function in the target: the second hunk has nowhere else to go
    target = "#include <linux/pwm.h>\n\n" + _fn("foo_enable", "our_chip", "|= 1")
    r = _port(FIX, target, None)
    new = dict(r.new_files).get(PATH, "")
    assert new.count("raw_spin_lock_irqsave") <= 1
    assert not all(p.applied for p in r.placements)


MOVE = _blank_context("""\
diff --git a/fs/foo/xattr.c b/fs/foo/xattr.c
--- a/fs/foo/xattr.c
+++ b/fs/foo/xattr.c
@@ -3,6 +3,7 @@ static int foo_set2(struct inode *inode)
 \t/* Update the inode. */
 \tFOO_I(inode)->i_file_acl = block;
 \tinode_set_ctime_current(inode);
+\tmark_inode_dirty(inode);
 \tif (IS_SYNC(inode)) {
 \t\terror = sync_inode_metadata(inode, 1);
 \t\tif (error)
@@ -10,7 +11,6 @@ static int foo_set2(struct inode *inode)
 \t\t\tgoto cleanup;
 \t\t}
-\t} else
-\t\tmark_inode_dirty(inode);
+\t}
.
 \terror = 0;
 cleanup:
""")
MOVE_UPSTREAM = ("static int foo_set2(struct inode *inode)\n{\n\t/* Update the inode. */\n"
                 "\tFOO_I(inode)->i_file_acl = block;\n\tinode_set_ctime_current(inode);\n"
                 "\tif (IS_SYNC(inode)) {\n\t\terror = sync_inode_metadata(inode, 1);\n\t\tif (error) {\n"
                 "\t\t\tfoo_warn(inode);\n\t\t\tgoto cleanup;\n\t\t}\n\t} else\n\t\tmark_inode_dirty(inode);\n\n"
                 "\terror = 0;\ncleanup:\n\treturn error;\n}\n")


def test_a_line_the_patch_moves_is_ported_not_taken_as_applied(tmp_path: Path) -> None:
    # the older tree writes the ctime update another way, next to the line the fix adds
    target = MOVE_UPSTREAM.replace("\tinode_set_ctime_current(inode);", "\tinode->i_ctime = current_time(inode);")
    up = tmp_path / "upstream"
    (up / "fs/foo").mkdir(parents=True)
    (up / "fs/foo/xattr.c").write_text(MOVE_UPSTREAM)
    patch = Patch(subject="foo: dirty the inode before sync", files=parse_diff(MOVE, origin="fix.patch"),
                  diff_text=MOVE)
    for upstream in (str(up), None):
        r = port_patch(patch, MemoryTree({"fs/foo/xattr.c": target}),
                       options=PortOptions(checks=False, upstream=upstream))
        assert [p.method.value for p in r.placements].count("already-applied") == 0
        assert all(p.applied for p in r.placements)
        new = dict(r.new_files)["fs/foo/xattr.c"]
        assert ("\tinode->i_ctime = current_time(inode);\n\tmark_inode_dirty(inode);\n\tif (IS_SYNC(inode)) {"
                in new)
        assert new.count("mark_inode_dirty(inode);") == 1
