"""Placement kinds found on held-out Debian intervals (6.1.190 -> 6.1.192 against 6.12.111 ->
6.12.115), each as a miniature: a 3-way merge whose target changed or dropped a line next to the
change (mapped, not a conflict), a context line the target replaced line for line next to an
insertion, a replacement followed by target lines of its own, and a line the patch moves."""

from __future__ import annotations

from test_hunks_support import apply, spec

from hunks.align import identity, pair_replaced
from hunks.anchored import ANCHORED_CONFIDENCE
from hunks.cascade import check_applied_nearby, locate
from hunks.fuzzy import find_fuzzy
from hunks.threeway import find_threeway
from hunks.types import Match

BASE = ["#include <linux/slab.h>", "",
        "struct user *alloc_user(struct resp *resp)", "{",
        "\tstruct user *user;", "",
        "\tuser = kmalloc(sizeof(struct user), DEFAULT_GFP);", "\tif (!user)", "\t\treturn NULL;", "",
        "\tuser->name = resp->name;", "\treturn user;", "}"]
CHECK = spec("""@@ -4,6 +4,9 @@ struct user *alloc_user(struct resp *resp)
 {
 \tstruct user *user;

+\tif (resp->hash_sz > sizeof(resp->hash))
+\t\treturn NULL;
+
 \tuser = kmalloc(sizeof(struct user), DEFAULT_GFP);
 \tif (!user)
 \t\treturn NULL;
""")
# the target initialises the local and calls kmalloc with another flag: both lines touch the change
TARGET = [x.replace("struct user *user;", "struct user *user = NULL;").replace("DEFAULT_GFP", "GFP_KERNEL")
          for x in BASE]


def test_threeway_next_to_lines_the_target_changed_is_mapped_not_a_conflict() -> None:
    m = find_threeway(tuple(TARGET), CHECK, 3, BASE)
    assert m is not None and not m.unsafe
    assert m.confidence == ANCHORED_CONFIDENCE and any(e.startswith("mapped:") for e in m.evidence)
    out = apply(TARGET, m)
    i = out.index("\tstruct user *user = NULL;")
    assert out[i + 1:i + 5] == ["", "\tif (resp->hash_sz > sizeof(resp->hash))", "\t\treturn NULL;", ""]
    assert out[i + 5] == "\tuser = kmalloc(sizeof(struct user), GFP_KERNEL);"
    placed = locate(TARGET, CHECK, base=BASE)
    assert placed is not None and placed.method == "3way" and placed.confidence >= 0.8 and placed.diverged


def test_threeway_whose_new_lines_use_a_name_of_the_changed_line_stays_doubtful() -> None:
    # the new lines use DEFAULT_GFP, which only the changed context had: the change needs adapting
    drifted = spec("\n".join(line.replace("sizeof(resp->hash))", "sizeof(resp->hash) || DEFAULT_GFP)")
                             for line in ["@@ -4,6 +4,9 @@"] + [k + t for k, t in zip(CHECK.kinds, CHECK.lines,
                                                                                       strict=True)]))
    m = find_threeway(tuple(TARGET), drifted, 3, BASE)
    assert m is not None and m.confidence < 0.8
    assert not any(e.startswith("mapped:") for e in m.evidence)


def test_threeway_next_to_a_line_the_target_dropped_is_mapped() -> None:
    base = ["static const struct quirk table[] = {",
            "\tQUIRK(0x2622, /* IAG */", "\t      FLAG_DSD_RAW),",
            "\tQUIRK(0x2772, /* Musical Fidelity */", "\t      FLAG_DSD_RAW),",
            "\tQUIRK(0x278b, /* Rotel */", "\t      FLAG_DSD_RAW),", "\t{}", "};"]
    hunk = spec("""@@ -2,6 +2,8 @@ static const struct quirk table[] = {
 \tQUIRK(0x2622, /* IAG */
 \t      FLAG_DSD_RAW),
+\tQUIRK(0x2708, /* Audient */
+\t      FLAG_IGNORE_CTL_ERROR),
 \tQUIRK(0x2772, /* Musical Fidelity */
 \t      FLAG_DSD_RAW),
 \tQUIRK(0x278b, /* Rotel */
""")
    target = base[:3] + base[5:]  # the target lacks the Musical Fidelity entry
    m = locate(target, hunk, base=base)
    assert m is not None and m.method == "3way" and m.confidence >= 0.8 and not m.unsafe
    out = apply(target, m)
    assert out[3:7] == ["\tQUIRK(0x2708, /* Audient */", "\t      FLAG_IGNORE_CTL_ERROR),",
                        "\tQUIRK(0x278b, /* Rotel */", "\t      FLAG_DSD_RAW),"]


SETSIZE = spec("""@@ -10,9 +10,8 @@ static int setsize(struct inode *inode)
 \tfilemap_invalidate_unlock(inode->i_mapping);

 \tinode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
+\tmark_inode_dirty(inode);
 \tif (inode_needs_sync(inode)) {
 \t\tsync_mapping_buffers(inode->i_mapping);
 \t\tsync_inode_metadata(inode, 1);
-\t} else {
-\t\tmark_inode_dirty(inode);
 \t}

 \treturn 0;
""")
SETSIZE_BASE = (["static int setsize(struct inode *inode)", "{", "\tint error;", "", "\terror = check(inode);",
                 "\tif (error)", "\t\treturn error;", "", "\ttruncate_blocks(inode);"]
                + [t for k, t in zip(SETSIZE.kinds, SETSIZE.lines, strict=True) if k != "+"] + ["}"])
# the older tree writes the timestamp update as two assignments
SETSIZE_TARGET = [x.replace("\tinode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));",
                            "\tinode->i_mtime = inode->i_ctime = current_time(inode);") for x in SETSIZE_BASE]


def test_a_context_line_replaced_line_for_line_keeps_the_new_line_after_it() -> None:
    for m in (find_threeway(tuple(SETSIZE_TARGET), SETSIZE, 9, SETSIZE_BASE),
              find_fuzzy(tuple(SETSIZE_TARGET), SETSIZE, 9)):
        assert m is not None and not m.unsafe
        out = apply(SETSIZE_TARGET, m)
        i = out.index("\tinode->i_mtime = inode->i_ctime = current_time(inode);")
        assert out[i + 1] == "\tmark_inode_dirty(inode);" and out.count("\tmark_inode_dirty(inode);") == 1
        assert not any("go among" in e for e in m.evidence)
    placed = locate(SETSIZE_TARGET, SETSIZE, base=SETSIZE_BASE)
    assert placed is not None and placed.confidence >= 0.8


def test_pair_replaced_pairs_only_equal_length_gaps_of_context_lines() -> None:
    target = tuple(SETSIZE_TARGET)
    al = identity(SETSIZE.old, target, 9)
    holes = tuple(None if i == 2 else p for i, p in enumerate(al.pairs))
    gapped = al.__class__(al.start, al.end, holes, tuple(0.0 if i == 2 else s for i, s in enumerate(al.sims)),
                          1, al.quality)
    fixed = pair_replaced(SETSIZE, target, gapped)
    assert fixed.pairs == al.pairs and fixed.extras == 0
    # a removed line is never paired by position: deleting a line the target wrote otherwise is unsafe
    removed_hole = tuple(None if i == 6 else p for i, p in enumerate(al.pairs))
    kept = al.__class__(al.start, al.end, removed_hole, al.sims, 1, al.quality)
    assert pair_replaced(SETSIZE, target, kept).pairs[6] is None


def test_a_replacement_followed_by_target_lines_of_its_own_is_in_place() -> None:
    base = ["static void wdt_remove(struct pdev *pdev)", "{", "\tstruct wdt *wdt = get_drvdata(pdev);",
            "\tunregister_device(&wdt->wdd);", "", "\tpr_warn(\"I quit now\\n\");", "\tdel_timer(&wdt->timer);",
            "}", "", "#if defined(CONFIG_OF)"]
    hunk = spec("""@@ -4,7 +4,7 @@ static void wdt_remove(struct pdev *pdev)
 \tunregister_device(&wdt->wdd);

 \tpr_warn("I quit now\\n");
-\tdel_timer(&wdt->timer);
+\ttimer_shutdown_sync(&wdt->timer);
 }

 #if defined(CONFIG_OF)
""")
    target = base[:7] + ["\tclk_disable_unprepare(wdt->sclk);", "", "\treturn 0;"] + base[7:]
    m = locate(target, hunk, base=base)
    assert m is not None and not m.unsafe and m.confidence >= 0.8
    out = apply(target, m)
    assert out[6:10] == ["\ttimer_shutdown_sync(&wdt->timer);", "\tclk_disable_unprepare(wdt->sclk);", "",
                         "\treturn 0;"]


def test_a_line_the_patch_moves_is_not_already_applied() -> None:
    target = tuple(SETSIZE_TARGET)
    hunk = spec("""@@ -10,5 +10,6 @@
 \tfilemap_invalidate_unlock(inode->i_mapping);

 \tinode->i_mtime = inode->i_ctime = current_time(inode);
+\tmark_inode_dirty(inode);
 \tif (inode_needs_sync(inode)) {
 \t\tsync_mapping_buffers(inode->i_mapping);
""")
    m = Match("fuzzy", 9, 14, (), 0.85)
    # the new line is already a few lines below (in the else branch): alone, that reads as applied
    assert check_applied_nearby(m, hunk, target).method == "already-applied"
    # ... but another hunk of the file removes it there: the patch moves it
    moved = check_applied_nearby(m, hunk, target, frozenset({"mark_inode_dirty(inode);"}))
    assert moved is m


EVICT = ["static void evict_inode(struct inode *inode)", "{", "\tstruct vnode *vnode = VNODE(inode);", "",
         "\t_debug(\"CLEAR INODE %p\", inode);", "", "\tASSERTCMP(inode->i_ino, ==, vnode->fid.vnode);", "",
         "\tnetfs_wait_for_outstanding_io(inode);", "\ttruncate_inode_pages_final(&inode->i_data);", "",
         "\tset_cache_aux(vnode, &aux);", "}"]
FLUSH = spec("""@@ -7,6 +7,7 @@ static void evict_inode(struct inode *inode)

 \tASSERTCMP(inode->i_ino, ==, vnode->fid.vnode);

+\tflush_delayed_work(&vnode->lock_work);
 \tnetfs_wait_for_outstanding_io(inode);
 \ttruncate_inode_pages_final(&inode->i_data);

""")


def test_without_the_base_a_dropped_line_next_to_an_insertion_is_anchored_past() -> None:
    # the older tree has no netfs wait: the lines on both sides of it meet, one place remains
    target = [x for x in EVICT if "netfs_wait" not in x]
    m = locate(target, FLUSH)
    assert m is not None and m.anchored and m.confidence >= 0.8
    out = apply(target, m)
    i = out.index("\tASSERTCMP(inode->i_ino, ==, vnode->fid.vnode);")
    assert out[i + 1:i + 4] == ["", "\tflush_delayed_work(&vnode->lock_work);",
                                "\ttruncate_inode_pages_final(&inode->i_data);"]


def test_without_the_base_a_dropped_line_on_both_sides_is_not_anchored() -> None:
    hunk = spec("""@@ -7,6 +7,7 @@ static void evict_inode(struct inode *inode)

 \tASSERTCMP(inode->i_ino, ==, vnode->fid.vnode);
 \tvnode_check(vnode);
+\tflush_delayed_work(&vnode->lock_work);
 \tnetfs_wait_for_outstanding_io(inode);
 \ttruncate_inode_pages_final(&inode->i_data);
""")
    target = [x for x in EVICT if "netfs_wait" not in x]
    m = locate(target, hunk)
    assert m is None or not m.anchored


def test_without_the_base_removed_lines_followed_by_target_lines_of_their_own_are_anchored() -> None:
    base = ["static int restore_queue(struct proc *p)", "{", "\tint ret;", "", "\tret = copy_data(p);",
            "\tif (ret)", "\t\tgoto exit;", "", "\tpdd = device_data_by_id(p, q->gpu_id);", "\tif (!pdd) {",
            "\t\tpr_err(\"Failed to get pdd\\n\");", "\t\tret = -EINVAL;", "\t\tgoto exit;", "\t}", "",
            "\t/* data stored in this order: mqd, ctl_stack */", "\tmqd = extra;", "exit:", "\treturn ret;", "}"]
    hunk = spec("""@@ -6,13 +6,6 @@ static int restore_queue(struct proc *p)
 \tif (ret)
 \t\tgoto exit;

-\tpdd = device_data_by_id(p, q->gpu_id);
-\tif (!pdd) {
-\t\tpr_err("Failed to get pdd\\n");
-\t\tret = -EINVAL;
-\t\tgoto exit;
-\t}
-
 \t/* data stored in this order: mqd, ctl_stack */
 \tmqd = extra;
 exit:
""")
    doorbell = ["\tif (!pdd->doorbell_index &&", "\t    alloc_doorbells(pdd->dev, &pdd->doorbell_index) < 0) {",
                "\t\tret = -ENOMEM;", "\t\tgoto exit;", "\t}", ""]
    target = base[:15] + doorbell + base[15:]
    m = locate(target, hunk)
    assert m is not None and m.anchored and m.confidence >= 0.8
    out = apply(target, m)
    assert "\tpdd = device_data_by_id(p, q->gpu_id);" not in out and out[7:14] == [""] + doorbell


APPEND = spec("""@@ -9,3 +9,9 @@ void rvu_mac_reset(struct rvu *rvu, u16 pcifunc)
 \tif (mac_ops->mac_reset(cgxd, lmac, !is_vf(pcifunc)))
 \t\tdev_err(rvu->dev, "Failed to reset MAC\\n");
 }
+
+bool rvu_cgx_pkind_permitted(struct rvu *rvu, u16 pcifunc)
+{
+\treturn !is_vf(pcifunc);
+}
""")
OLDER_END = ["#include \"rvu.h\"", "", "int rvu_get_pfc(struct rvu *rvu, u16 pcifunc)", "{", "\tint err = 0;", "",
             "\tmac_ops->mac_get_pfc_frm_cfg(cgxd, lmac_id, &tx, &rx);", "\treturn err;", "}"]


def test_a_hunk_appending_to_the_upstream_file_lands_at_the_target_files_end() -> None:
    # the older file ends with another function: only its closing brace is the hunk's context
    m = locate(OLDER_END, APPEND, known=lambda name: name == "is_vf")
    assert m is not None and m.anchored and m.confidence >= 0.8 and not m.ambiguous and m.diverged
    out = apply(OLDER_END, m)
    assert out[:9] == OLDER_END and out[9:] == ["", "bool rvu_cgx_pkind_permitted(struct rvu *rvu, u16 pcifunc)",
                                                 "{", "\treturn !is_vf(pcifunc);", "}"]


def test_an_appending_hunk_is_not_placed_by_the_end_when_it_drifts_or_the_file_ends_otherwise() -> None:
    # is_vf: used by the differing context and the new lines, absent from the target's file and tree
    m = locate(OLDER_END, APPEND, known=lambda name: False)
    assert m is None or m.confidence < 0.8
    licensed = OLDER_END + ["", "MODULE_LICENSE(\"GPL\");"]
    m = locate(licensed, APPEND, known=lambda name: True)
    assert m is None or m.confidence < 0.8


GUARDED = spec("""@@ -40,4 +40,8 @@ long kvm_arch_pre_fault(struct kvm_vcpu *vcpu,
 \t\t\t      struct kvm_pre_fault_memory *range);
 #endif
\x20
+#ifdef CONFIG_KVM_GENERIC_HARDWARE_ENABLING
+int kvm_enable_virtualization(void);
+#endif
+
 #endif
""")
OLDER_HEADER = ["#ifndef __KVM_HOST_H", "#define __KVM_HOST_H", "", "#ifdef CONFIG_KVM_PRIVATE_MEM",
                "int kvm_gmem_get_pfn(struct kvm *kvm);", "#endif /* CONFIG_KVM_PRIVATE_MEM */", "", "#endif", ""]


def test_a_hunk_ending_the_upstream_header_lands_before_the_targets_include_guard_endif() -> None:
    # the last item of the older header is another one; the include guard's #endif below the new
    # lines is the file's last line in both
    m = locate(OLDER_HEADER, GUARDED, known=lambda name: True)
    assert m is not None and m.anchored and m.confidence >= 0.8 and not m.ambiguous
    out = apply(OLDER_HEADER, m)
    assert out == OLDER_HEADER[:7] + ["#ifdef CONFIG_KVM_GENERIC_HARDWARE_ENABLING", "int kvm_enable_virtualization(void);",
                                      "#endif", "", "#endif", ""]
    # the file ending otherwise (no guard) leaves it to the other methods
    m = locate(OLDER_HEADER[:6], GUARDED, known=lambda name: True)
    assert m is None or m.confidence < 0.8


def _divisor_fn(name: str, var: str) -> list[str]:
    return [f"static void {name}(struct foo_chip *{var}, unsigned int chan)", "{", "\tunsigned long flags;",
            "\tu32 reg;", "", f"\tbits = fls({var}->div) - 1;", "", "\tspin_lock_irqsave(&foo_lock, flags);", "",
            f"\treg = readl({var}->base + REG_TCFG1);", "\treg |= bits << chan;",
            f"\twritel(reg, {var}->base + REG_TCFG1);", "", "\tspin_unlock_irqrestore(&foo_lock, flags);", "}", ""]


def test_a_piece_found_once_in_the_function_the_header_names_is_pinned() -> None:
    # the same lock/unlock lines recur in every function; the target renamed the chip pointer
    # around the change (four context lines differ, too many for fuzz), no upstream base
    hunk = spec("""@@ -6,11 +6,11 @@ static void foo_set_divisor(struct foo_chip *our_chip, unsigned int chan)
 \tbits = fls(our_chip->div) - 1;

-\tspin_lock_irqsave(&foo_lock, flags);
+\traw_spin_lock_irqsave(&foo_lock, flags);

 \treg = readl(our_chip->base + REG_TCFG1);
 \treg |= bits << chan;
 \twritel(reg, our_chip->base + REG_TCFG1);

-\tspin_unlock_irqrestore(&foo_lock, flags);
+\traw_spin_unlock_irqrestore(&foo_lock, flags);
 }
""")
    target = _divisor_fn("foo_enable", "chip") + _divisor_fn("foo_set_divisor", "chip") + _divisor_fn("foo_off", "chip")
    m = locate(target, hunk, hint=5)
    assert m is not None and m.anchored and m.confidence >= 0.8 and not m.ambiguous
    out = apply(target, m)
    start = target.index("static void foo_set_divisor(struct foo_chip *chip, unsigned int chan)")
    assert out[start + 7] == "\traw_spin_lock_irqsave(&foo_lock, flags);"
    assert out.count("\traw_spin_lock_irqsave(&foo_lock, flags);") == 1
    # without a header naming the function, nothing pins the piece: not anchored
    bare = spec("\n".join(k + t for k, t in zip(hunk.kinds, hunk.lines, strict=True)), old_start=6, section="")
    m = locate(target, bare, hint=5)
    assert m is None or not m.anchored
