"""End-to-end ports that use entries of the grown API table (kb/api/fs.yaml, mm.yaml,
driver-core.yaml, block.yaml): a miniature tree that has only the old spelling, a fix written
with the new one; the port rewrites each use, says so in an `adapted` finding naming the
upstream commit, and the result applies with git. A tree that has the new forms is left alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_kb_api import _git_apply  # the same miniature-repository apply

from backport.model import Patch, PortOptions, Series, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

FS_H = textwrap.dedent("""\
    struct inode {
    \tstruct timespec64 i_mtime;
    \tstruct timespec64 i_ctime;
    };
    extern struct timespec64 current_time(struct inode *inode);
    """)
SLAB_H = "static inline void *kzalloc(size_t size, gfp_t flags)\n{\n\treturn kmalloc(size, flags | __GFP_ZERO);\n}\n"
SPI_H = textwrap.dedent("""\
    static inline struct spi_controller *spi_alloc_master(struct device *host, unsigned int size)
    {
    \treturn __spi_alloc_controller(host, size, false);
    }
    """)
BLKDEV_H = textwrap.dedent("""\
    #define blk_queue_discard(q)\ttest_bit(QUEUE_FLAG_DISCARD, &(q)->queue_flags)
    static inline struct request_queue *bdev_get_queue(struct block_device *bdev)
    {
    \treturn bdev->bd_disk->queue;
    }
    """)
FOO_C = textwrap.dedent("""\
    #include <linux/fs.h>

    static void foo_touch(struct inode *inode)
    {
    \tfoo_mark(inode);
    }

    static int foo_setup(struct device *dev, struct block_device *bdev)
    {
    \tstruct foo_state *state;
    \tstruct spi_controller *host;

    \tfoo_init(dev);
    \treturn 0;
    }
    """)
FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -3,4 +3,5 @@
     static void foo_touch(struct inode *inode)
     {
     \tfoo_mark(inode);
    +\tinode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
     }
    @@ -13,3 +14,9 @@ static int foo_setup(struct device *dev, struct block_device *bdev)
     \tfoo_init(dev);
    +\tif (!bdev_max_discard_sectors(bdev))
    +\t\treturn -EOPNOTSUPP;
    +\tstate = kzalloc_obj(*state);
    +\thost = spi_alloc_host(dev, sizeof(*state));
    +\tif (!state || !host)
    +\t\treturn -ENOMEM;
     \treturn 0;
     }
    """)
OLD_TREE = {"include/linux/fs.h": FS_H, "include/linux/slab.h": SLAB_H, "include/linux/spi/spi.h": SPI_H,
            "include/linux/blkdev.h": BLKDEV_H, "drivers/foo/foo.c": FOO_C,
            "Makefile": "VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\n"}


def _port(files: dict[str, str], diff: str = FIX, **opts):
    patch = Patch(subject="foo: update timestamps", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, MemoryTree(files), options=PortOptions(**opts), series=Series((patch,)))


def test_grown_entries_rewrite_a_port_onto_a_tree_with_the_old_api(tmp_path: Path):
    r = _port(OLD_TREE)
    new = dict(r.new_files)["drivers/foo/foo.c"]
    # fs.yaml: two accessors in one line, chained into the pre-v6.6 assignments
    assert "\tinode->i_mtime = inode->i_ctime = current_time(inode);\n" in new
    # block.yaml (a match-based entry), mm.yaml (the v7.0 kzalloc_obj) and driver-core.yaml
    assert "\tif (!blk_queue_discard(bdev_get_queue(bdev)))\n" in new
    assert "\tstate = kzalloc(sizeof(*state), GFP_KERNEL);\n" in new
    assert "\thost = spi_alloc_master(dev, sizeof(*state));\n" in new
    for gone in ("inode_set_", "bdev_max_discard_sectors", "kzalloc_obj", "spi_alloc_host"):
        assert gone not in r.text, gone
    rules = {a.rule: a for p in r.placements for a in p.adaptations}
    assert set(rules) == {"api-inode-set-mtime-to-ts", "api-inode-set-ctime-current",
                          "api-bdev-max-discard-sectors", "api-kzalloc-obj", "api-spi-alloc-host"}
    assert any(e.startswith("include/linux/spi/spi.h:") for e in rules["api-spi-alloc-host"].evidence)
    adapted = [f for f in r.findings if f.code == "adapted"]
    assert len(adapted) == 2 and all(f.severity is Severity.WARNING for f in adapted)
    refs = " ".join(ref for f in adapted for ref in f.references)
    for commit in ("077c212f0344", "9b6304c1d537", "cf0fbf894bb5", "2932ba8d9c99", "b8d3b056a78d"):
        assert commit in refs, commit
    text = " ".join(f.message for f in adapted)
    assert "spi_alloc_master()" in text and "spi_alloc_host()" in text
    assert not [f for f in r.findings if f.code == "api-missing"]
    news = ("inode_set_ctime_current", "inode_set_mtime_to_ts", "bdev_max_discard_sectors", "kzalloc_obj", "spi_alloc_host")
    assert not [f for f in r.findings if f.code == "missing-symbol" and f.message.split(":")[0] in news]
    assert _git_apply(tmp_path, OLD_TREE, r.text).returncode == 0
    assert (tmp_path / "applytree" / "drivers/foo/foo.c").read_text() == new


def test_a_tree_with_the_grown_entries_new_forms_is_left_alone():
    files = dict(OLD_TREE)
    files["include/linux/fs.h"] = FS_H + ("struct timespec64 inode_set_ctime_current(struct inode *inode);\n"
                                          "static inline struct timespec64 inode_set_mtime_to_ts(struct inode *inode,"
                                          " struct timespec64 ts)\n{\n\treturn ts;\n}\n")
    files["include/linux/slab.h"] = SLAB_H + "#define kzalloc_obj(P, ...) kzalloc(sizeof(P), GFP_KERNEL)\n"
    files["include/linux/spi/spi.h"] = SPI_H + "static inline struct spi_controller *spi_alloc_host(struct device *d,"\
        " unsigned int size)\n{\n\treturn spi_alloc_master(d, size);\n}\n"
    files["include/linux/blkdev.h"] = BLKDEV_H + "static inline unsigned int bdev_max_discard_sectors(struct block_device"\
        " *bdev)\n{\n\treturn 0;\n}\n"
    r = _port(files)
    assert "+\tinode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));" in r.text
    assert "+\tstate = kzalloc_obj(*state);" in r.text and "+\thost = spi_alloc_host(dev, sizeof(*state));" in r.text
    assert not [f for f in r.findings if f.code in ("adapted", "api-missing")]


def test_a_discard_count_used_as_a_number_is_not_rewritten_to_a_truth_value():
    diff = FIX.replace("+\tif (!bdev_max_discard_sectors(bdev))\n+\t\treturn -EOPNOTSUPP;\n",
                       "+\tfoo_limit(dev, bdev_max_discard_sectors(bdev));\n+\tfoo_limit(dev, 0);\n")
    r = _port(OLD_TREE, diff)
    assert "+\tfoo_limit(dev, bdev_max_discard_sectors(bdev));" in r.text
    assert "api-bdev-max-discard-sectors" not in {a.rule for p in r.placements for a in p.adaptations}


IDMAP_FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -3,4 +3,6 @@
     static void foo_touch(struct inode *inode)
     {
     \tfoo_mark(inode);
    +\tif (inode_permission(&nop_mnt_idmap, inode, MAY_WRITE))
    +\t\tvfs_rmdir(&init_user_ns, d_inode(parent), child);
     }
    """)


def test_idmap_arguments_follow_the_target():
    """v6.3+ &nop_mnt_idmap is &init_user_ns on v5.12 .. v6.2; before v5.12 the helpers take no
    such argument: dropped where an entry knows the helper, reported where the argument cannot
    be written at all (the tree has no mnt_user_ns())."""
    v61 = {"include/linux/mount.h": "static inline struct user_namespace *mnt_user_ns(const struct vfsmount *mnt)\n"
                                    "{\n\treturn mnt->mnt_userns;\n}\n",
           "include/linux/cred.h": "extern struct user_namespace init_user_ns;\n",
           "include/linux/fs.h": "int vfs_rmdir(struct user_namespace *, struct inode *, struct dentry *);\n",
           "drivers/foo/foo.c": FOO_C}
    r = _port(v61, IDMAP_FIX)
    assert "+\tif (inode_permission(&init_user_ns, inode, MAY_WRITE))" in r.text
    assert "+\t\tvfs_rmdir(&init_user_ns, d_inode(parent), child);" in r.text
    assert {a.rule for p in r.placements for a in p.adaptations} == {"api-nop-mnt-idmap"}
    v510 = {"include/linux/cred.h": "extern struct user_namespace init_user_ns;\n",
            "include/linux/fs.h": "extern int vfs_rmdir(struct inode *, struct dentry *);\n"
                                  "extern int inode_permission(struct inode *, int);\n",
            "drivers/foo/foo.c": FOO_C}
    r = _port(v510, IDMAP_FIX)
    assert "+\t\tvfs_rmdir(d_inode(parent), child);" in r.text
    assert "+\tif (inode_permission(&nop_mnt_idmap, inode, MAY_WRITE))" in r.text
    (missing,) = [f for f in r.findings if f.code == "api-missing"]
    assert missing.rule == "api-nop-mnt-idmap" and "256c8aed2b42" in missing.message
    assert any("6521f8917082" in ref for f in r.findings if f.code == "adapted" for ref in f.references)


BOTH_H = textwrap.dedent("""\
    void ida_free(struct ida *, unsigned int id);
    #define ida_simple_remove(ida, id)\tida_free(ida, id)
    static inline void refcount_inc(refcount_t *r)
    {
    \trefcount_add(1, r);
    }
    static inline void atomic_inc(atomic_t *v)
    {
    \tarch_atomic_inc(v);
    }
    static inline void netif_napi_add_weight(struct net_device *dev, struct napi_struct *napi,
    \t\t\t\t\t int (*poll)(struct napi_struct *, int), int weight)
    {
    \tnetif_napi_add_weight_locked(dev, napi, poll, weight);
    }
    static inline void netif_napi_add(struct net_device *dev, struct napi_struct *napi,
    \t\t\t\t  int (*poll)(struct napi_struct *, int))
    {
    \tnetif_napi_add_weight(dev, napi, poll, NAPI_POLL_WEIGHT);
    }
    """)
USES_OLD_C = FOO_C.replace("\tfoo_init(dev);\n", "\tfoo_init(dev);\n\tatomic_inc(&dev->count);\n"
                           "\tida_simple_remove(&ids, 1);\n\tnetif_napi_add(ndev, &napi, poll);\n")
BOTH_FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -3,4 +3,7 @@
     static void foo_touch(struct inode *inode)
     {
     \tfoo_mark(inode);
    +\trefcount_inc(&inode->refs);
    +\tida_free(&ids, 2);
    +\tnetif_napi_add_weight(dev, &napi2, poll, 16);
     }
    """)


def test_a_tree_with_both_spellings_keeps_upstreams_when_the_old_is_no_rename():
    """The target has refcount_inc() and atomic_inc(), ida_free() and ida_simple_remove(), both
    netif_napi_add() forms; the patched file calls the older ones for other things. Upstream's
    line stays: atomic_inc() on a refcount_t would not build, v6.1's netif_napi_add() takes no
    weight, and ida_free() is native there (only renames follow the file's spelling)."""
    files = {"include/linux/both.h": BOTH_H, "drivers/foo/foo.c": USES_OLD_C}
    r = _port(files, BOTH_FIX)
    assert "+\trefcount_inc(&inode->refs);" in r.text
    assert "+\tida_free(&ids, 2);" in r.text
    assert "+\tnetif_napi_add_weight(dev, &napi2, poll, 16);" in r.text
    assert not [a for p in r.placements for a in p.adaptations if a.kind == "api"]



def test_a_tree_with_both_keeps_kmap_local_page_and_call_rcu_hurry():
    """kmap_atomic() disables preemption and call_rcu() is lazy where call_rcu_hurry() exists:
    on a tree with both names, a file calling the old ones must not turn upstream's new calls
    into them (the entries' older trees, without the new names, still get the old ones)."""
    both = ("void *kmap_local_page(struct page *page);\nvoid *kmap_atomic(struct page *page);\n"
            "void call_rcu_hurry(struct rcu_head *head, rcu_callback_t func);\n"
            "void call_rcu(struct rcu_head *head, rcu_callback_t func);\n")
    src = FOO_C.replace("\tfoo_init(dev);\n", "\tfoo_init(dev);\n\tp = kmap_atomic(pg);\n\tcall_rcu(&x->rcu, fn);\n")
    diff = BOTH_FIX.replace("+\trefcount_inc(&inode->refs);\n+\tida_free(&ids, 2);\n+\tnetif_napi_add_weight(dev, &napi2, poll, 16);\n",
                            "+\taddr = kmap_local_page(page);\n+\tcall_rcu_hurry(&inode->rcu, foo_free);\n"
                            ).replace("@@ -3,4 +3,7 @@", "@@ -3,4 +3,6 @@")
    r = _port({"include/linux/both.h": both, "drivers/foo/foo.c": src}, diff)
    assert "+\taddr = kmap_local_page(page);" in r.text and "+\tcall_rcu_hurry(&inode->rcu, foo_free);" in r.text
    older = {"include/linux/both.h": "void *kmap_atomic(struct page *page);\n"
                                     "void call_rcu(struct rcu_head *head, rcu_callback_t func);\n",
             "drivers/foo/foo.c": src}
    r = _port(older, diff)
    assert "+\taddr = kmap_atomic(page);" in r.text and "+\tcall_rcu(&inode->rcu, foo_free);" in r.text


TREES = Path.home() / ".cache" / "kbench" / "trees"


@pytest.mark.slow
def test_the_grown_markers_say_what_the_debian_trees_have():
    """A marker that misses on a tree with the new form would rewrite correct code: checked on
    5.10, 6.1 and 6.12 (the Debian trees carry some backports, which the index must see)."""
    from backport.apiadapt import _Target
    from backport.target import DirTree
    from kb.api import load_api

    names = ("5.10.251-5", "6.1.170-3", "6.12.107-1~deb12u1")
    if not all((TREES / n).is_dir() for n in names):
        pytest.skip("kbench trees missing")
    t510, t61, t612 = (_Target(DirTree(str(TREES / n)), PortOptions(), Patch(subject="x"), None) for n in names)
    entries = {e.id: e for e in load_api()}

    def has(t, eid):
        return t.has_new(entries[eid], "drivers/x/x.c")

    # new in 6.12 only (v6.4 .. v7.0, the last a Debian backport)
    for eid in ("api-thermal-zone-device-priv", "api-inode-get-mtime", "api-vm-flags-reset", "api-kzalloc-obj",
                "api-assign-str-one-arg"):
        assert has(t612, eid) and not has(t61, eid) and not has(t510, eid), eid
    # in 6.1 and 6.12, not in 5.10 (v5.11 .. v6.3; 6.1.y backported spi_alloc_host, kfree_skb_reason
    # is declared on the line after its return type there)
    for eid in ("api-spi-alloc-host", "api-spi-get-chipselect", "api-pm-sleep-ptr", "api-bdev-nr-sectors",
                "api-bdev-max-discard-sectors", "api-netif-napi-add-weight", "api-netdev-put", "api-kfree-skb-reason",
                "api-generic-handle-domain-irq", "api-vma-lookup"):
        assert has(t612, eid) and has(t61, eid) and not has(t510, eid), eid
        assert t510.old_evidence(entries[eid]) is not None, eid
    # everywhere (older than v5.10, or backported to 5.10.y)
    for eid in ("api-totalram-pages-call", "api-bitmap-zalloc", "api-ida-alloc", "api-struct-size",
                "api-dma-alloc-coherent-zeroed", "api-inode-get-ctime", "api-irq-set-affinity-and-hint"):
        assert has(t612, eid) and has(t61, eid) and has(t510, eid), eid
    # the idmap argument: &nop_mnt_idmap from v6.3, a user namespace from v5.12
    assert has(t612, "api-nop-mnt-idmap") and not has(t61, "api-nop-mnt-idmap") and not has(t510, "api-nop-mnt-idmap")
    assert t61.old_evidence(entries["api-nop-mnt-idmap"]) is not None
    assert t510.old_evidence(entries["api-nop-mnt-idmap"]) is None  # no mnt_user_ns(): reported
    for eid in ("api-vfs-rmdir-userns", "api-inode-init-owner-userns", "api-setattr-prepare-userns",
                "api-inode-owner-or-capable-userns"):
        assert has(t612, eid) and has(t61, eid) and not has(t510, eid), eid
    # the v6.17 workqueue names: Debian's 6.12.y carries them, 6.1.y does not
    for eid in ("api-system-percpu-wq", "api-system-dfl-wq", "api-wq-percpu-flag"):
        assert has(t612, eid) and not has(t61, eid) and t61.old_evidence(entries[eid]) is not None, eid
    # nowhere yet (v6.13+)
    for eid in ("api-hrtimer-setup-on-stack", "api-timer-delete-sync-try"):
        assert not has(t612, eid) and t612.old_evidence(entries[eid]) is not None, eid


def test_a_type_of_several_words_replaces_a_type_name_without_parentheses():
    from kb.api import load_api, rewrite_line

    e = {x.id: x for x in load_api()}["api-poll-t"]
    assert rewrite_line(e, "static __poll_t foo_poll(struct file *f, poll_table *w)") == \
        ["static unsigned int foo_poll(struct file *f, poll_table *w)"]
    assert rewrite_line(e, "\t__poll_t mask = EPOLLIN;") == ["\tunsigned int mask = EPOLLIN;"]
    # an expression is still parenthesised where it needs to be
    s = {x.id: x for x in load_api()}["api-str-plural"]
    assert rewrite_line(s, "\tn = str_plural(k) + 1;") == ['\tn = (k == 1 ? "" : "s") + 1;']
