"""Entries of the API table for the v6.5 .. v6.12 changes that stable backports to 6.1 / 6.6 / 6.8
meet (kb/api/mm.yaml, iommu.yaml, fs.yaml, net.yaml, block.yaml): a fix written with the new
forms, ported onto a miniature tree that spells them the old way, is rewritten with an `adapted`
finding naming each upstream commit and applies with git; a tree with the new forms is left
alone; a queue_limits argument that is not NULL is reported, never dropped. The markers are
checked on the real Debian / Ubuntu trees in the slow test."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_kb_api import _git_apply  # the same miniature-repository apply

from backport.model import Patch, PortOptions, Series, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

STRING_H = "extern void *kmemdup(const void *src, size_t len, gfp_t gfp);\n"
OVERFLOW_H = "#define array_size(a, b)\tsize_mul(a, b)\n"
HUGE_MM_H = "static inline bool is_huge_zero_page(struct page *page)\n{\n\treturn READ_ONCE(huge_zero_page) == page;\n}\n"
FILE_H = "struct fd {\n\tstruct file *file;\n\tunsigned int flags;\n};\nstatic inline struct fd fdget(unsigned int fd);\n"
GFP_H = "extern void free_pages(unsigned long addr, unsigned int order);\n"
FOO_C = textwrap.dedent("""\
    #include <linux/file.h>

    static int foo_setup(struct foo *foo, int fd, unsigned long pfn)
    {
    \tstruct fd f = fdget(fd);

    \tfoo_init(foo);
    \treturn 0;
    }

    static void foo_free(struct foo *foo)
    {
    \tfoo_stop(foo);
    }
    """)
FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -5,5 +5,11 @@ static int foo_setup(struct foo *foo, int fd, unsigned long pfn)
     \tstruct fd f = fdget(fd);

     \tfoo_init(foo);
    +\tif (fd_empty(f))
    +\t\treturn -EBADF;
    +\tfoo->file = fd_file(f);
    +\tfoo->ops = kmemdup_array(foo_ops, foo->nr, sizeof(*foo->ops), GFP_KERNEL);
    +\tif (is_huge_zero_folio(page_folio(pfn_to_page(pfn))))
    +\t\treturn -EINVAL;
     \treturn 0;
     }
    @@ -12,3 +18,4 @@ static void foo_free(struct foo *foo)
     {
     \tfoo_stop(foo);
    +\tiommu_free_pages(foo->cmd_buf, get_order(FOO_BUF_SIZE));
     }
    """)
OLD_TREE = {"include/linux/string.h": STRING_H, "include/linux/overflow.h": OVERFLOW_H,
            "include/linux/huge_mm.h": HUGE_MM_H, "include/linux/file.h": FILE_H, "include/linux/gfp.h": GFP_H,
            "drivers/foo/foo.c": FOO_C, "Makefile": "VERSION = 6\nPATCHLEVEL = 8\nSUBLEVEL = 0\n"}


def _port(files: dict[str, str], diff: str = FIX):
    patch = Patch(subject="foo: fix setup", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, MemoryTree(files), options=PortOptions(), series=Series((patch,)))


def test_v6_entries_rewrite_a_port_onto_a_68_style_tree(tmp_path: Path):
    r = _port(OLD_TREE)
    new = dict(r.new_files)["drivers/foo/foo.c"]
    for line in ("\tif (!f.file)\n", "\tfoo->file = f.file;\n",
                 "\tfoo->ops = kmemdup(foo_ops, array_size(foo->nr, sizeof(*foo->ops)), GFP_KERNEL);\n",
                 "\tif (is_huge_zero_page(pfn_to_page(pfn)))\n",
                 "\tfree_pages((unsigned long)foo->cmd_buf, get_order(FOO_BUF_SIZE));\n"):
        assert line in new, line
    for gone in ("fd_empty", "fd_file", "kmemdup_array", "is_huge_zero_folio", "iommu_free_pages"):
        assert gone not in r.text, gone
    rules = {a.rule: a for p in r.placements for a in p.adaptations}
    assert set(rules) == {"api-fd-empty", "api-fd-file", "api-kmemdup-array", "api-is-huge-zero-folio-of-page",
                          "api-iommu-free-pages"}
    assert rules["api-kmemdup-array"].evidence[0].startswith("include/linux/string.h:")
    assert rules["api-iommu-free-pages"].evidence[0].startswith("include/linux/gfp.h:")
    adapted = [f for f in r.findings if f.code == "adapted"]
    assert adapted and all(f.severity is Severity.WARNING for f in adapted)
    refs = " ".join(ref for f in adapted for ref in f.references)
    for commit in ("88a2f6468d01", "1da91ea87aef", "7092e9b3bed1", "5beaee54a324", "06c375053cef"):
        assert commit in refs, commit
    assert not [f for f in r.findings if f.code == "api-missing"]
    assert _git_apply(tmp_path, OLD_TREE, r.text).returncode == 0
    assert (tmp_path / "applytree" / "drivers/foo/foo.c").read_text() == new


def test_a_tree_with_the_v6_forms_is_left_alone():
    files = dict(OLD_TREE)
    files["include/linux/string.h"] = STRING_H + "extern void *kmemdup_array(const void *src, size_t count," \
        " size_t element_size, gfp_t gfp);\n"
    files["include/linux/huge_mm.h"] = "static inline bool is_huge_zero_folio(const struct folio *folio)\n{\n" \
        "\treturn READ_ONCE(huge_zero_folio) == folio;\n}\n"
    files["include/linux/file.h"] = "struct fd {\n\tunsigned long word;\n};\n#define fd_file(f) ((struct file *)((f).word & ~3))\n" \
        "static inline bool fd_empty(struct fd f)\n{\n\treturn unlikely(!f.word);\n}\n"
    files["drivers/iommu/iommu-pages.h"] = "static inline void iommu_free_pages(void *virt, int order)\n{\n}\n"
    r = _port(files)
    assert "+\tfoo->file = fd_file(f);" in r.text and "+\tif (fd_empty(f))" in r.text
    assert "+\tiommu_free_pages(foo->cmd_buf, get_order(FOO_BUF_SIZE));" in r.text
    assert "kmemdup_array(foo_ops" in r.text and "is_huge_zero_folio(page_folio(" in r.text
    assert not [f for f in r.findings if f.code in ("adapted", "api-missing")]


BLK_MQ_H = textwrap.dedent("""\
    #define blk_mq_alloc_disk(set, queuedata)\t\t\t\t\\
    ({\t\t\t\t\t\t\t\t\\
    \t__blk_mq_alloc_disk(set, queuedata, &__key);\t\t\t\\
    })
    """)
BLK_FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -12,3 +12,5 @@ static void foo_free(struct foo *foo)
     {
     \tfoo_stop(foo);
    +\tfoo->disk = blk_mq_alloc_disk(&foo->tag_set, NULL, foo);
    +\tfoo->disk2 = blk_mq_alloc_disk(&foo->tag_set, &lim, foo);
     }
    """)


def test_a_null_queue_limits_argument_is_dropped_and_a_real_one_reported():
    files = dict(OLD_TREE, **{"include/linux/blk-mq.h": BLK_MQ_H})
    r = _port(files, BLK_FIX)
    assert "+\tfoo->disk = blk_mq_alloc_disk(&foo->tag_set, foo);" in r.text
    assert "+\tfoo->disk2 = blk_mq_alloc_disk(&foo->tag_set, &lim, foo);" in r.text  # never guessed
    (a,) = [a for p in r.placements for a in p.adaptations]
    assert a.rule == "api-blk-mq-alloc-disk-no-limits" and "27e32cd23fed" in a.references[0]
    (f,) = [f for f in r.findings if f.code == "api-missing"]
    assert f.rule == "api-blk-mq-alloc-disk-limits" and "27e32cd23fed" in f.message and "blk_queue_" in f.hint
    # a tree whose blk_mq_alloc_disk() takes the limits has nothing to say
    files["include/linux/blk-mq.h"] = BLK_MQ_H.replace("(set, queuedata)", "(set, lim, queuedata)")
    r = _port(files, BLK_FIX)
    assert not [f for f in r.findings if f.code in ("adapted", "api-missing")]


TREES = Path.home() / ".cache" / "kbench" / "trees"


@pytest.mark.slow
def test_the_v6_markers_say_what_the_debian_and_ubuntu_trees_have():
    """5.10, 6.1, Ubuntu's 6.8 and 6.12: a marker that misses on a tree with the new form would
    rewrite correct code; one that hits on a tree without it would leave a port that fails to
    build. 6.1.y backported memdup_array_user(); iommu-pages.h is read by marker_grep."""
    from backport.apiadapt import _Target
    from backport.target import DirTree
    from kb.api import load_api

    names = ("5.10.251-5", "6.1.187-1", "noble-6.8.0-149", "6.12.113-1~deb12u1")
    if not all((TREES / n).is_dir() for n in names):
        pytest.skip("kbench trees missing")
    t510, t61, t68, t612 = (_Target(DirTree(str(TREES / n)), PortOptions(), Patch(subject="x"), None) for n in names)
    entries = {e.id: e for e in load_api()}

    def has(t, eid):
        return t.has_new(entries[eid], "drivers/x/x.c")

    def rewritable(t, eid):
        return not has(t, eid) and t.old_evidence(entries[eid]) is not None

    # v6.9 .. v6.12: only 6.12 has them; every older tree has the old form
    for eid in ("api-kmemdup-array", "api-is-huge-zero-folio", "api-is-huge-zero-folio-of-page", "api-iommu-free-pages",
                "api-iommu-free-page", "api-iommu-alloc-pages", "api-iommu-alloc-page", "api-fd-file", "api-fd-empty",
                "api-kernel-ethtool-ts-info", "api-blk-mq-alloc-queue-no-limits", "api-const-ctl-table-handler",
                "api-str-disable-enable", "api-str-disabled-enabled", "api-str-off-on", "api-str-no-yes", "api-str-down-up"):
        assert has(t612, eid) and all(rewritable(t, eid) for t in (t510, t61, t68)), eid
    # the queue_limits argument: 5.10 has no blk_mq_alloc_disk() / blk_alloc_disk() at all (reported);
    # nor kvm_x86_ops as static calls
    for eid in ("api-blk-mq-alloc-disk-no-limits", "api-blk-alloc-disk-no-limits", "api-sk-skb-reason-drop",
                "api-kvm-x86-call", "api-kvm-pmu-call"):
        assert has(t612, eid) and rewritable(t61, eid) and rewritable(t68, eid), eid
        assert not has(t510, eid) and t510.old_evidence(entries[eid]) is None, eid
    # v6.5 / v6.8: Ubuntu's 6.8 has them, 6.1 does not; 5.10 has no ethtool_sprintf() either
    for eid in ("api-skb-frag-fill-page-desc", "api-ethtool-puts", "api-define-semaphore-binary", "api-str-low-high",
                "api-str-hi-lo", "api-str-lo-hi", "api-str-write-read"):
        assert has(t612, eid) and has(t68, eid) and rewritable(t61, eid), eid
    assert rewritable(t510, "api-skb-frag-fill-page-desc") and t510.old_evidence(entries["api-ethtool-puts"]) is None
    # v6.11, backported to Ubuntu's 6.8: reported on 6.1 and 5.10 (the caller must declare the cursors)
    eid = "api-of-property-for-each-u32-three-args"
    assert has(t612, eid) and has(t68, eid) and not has(t61, eid) and not has(t510, eid)
    # v5.16, backported to 5.10.y
    assert all(has(t, "api-declare-flex-array") for t in (t510, t61, t68, t612))
    # v5.16 .. v6.7 (memdup_array_user backported to 6.1.y): only 5.10 lacks them
    for eid in ("api-bdev-nr-bytes", "api-iter-dest", "api-iter-source", "api-memdup-array-user",
                "api-vmemdup-array-user"):
        assert has(t612, eid) and has(t68, eid) and has(t61, eid) and rewritable(t510, eid), eid


@pytest.mark.parametrize("eid, line, words", [
    ("api-iter-dest", "\tiov_iter_kvec(&it, ITER_DEST, &kv, 1, n);", "use READ, 5.10 has no ITER_DEST"),
    ("api-system-percpu-wq", "\tqueue_work(system_percpu_wq, &w);", "use system_wq, 5.10 has no system_percpu_wq"),
    ("api-const-ctl-table-handler", "static int f(const struct ctl_table *t, int w,",
     "drop const, 5.10 has no const struct ctl_table *"),
    ("api-kmemdup-array", "\tp = kmemdup_array(a, n, sizeof(*p), GFP_KERNEL);", "use kmemdup(), 5.10 has no kmemdup_array()"),
])
def test_a_name_or_qualifier_is_not_called_in_the_stable_note(eid, line, words):
    """A regex-found name, type or qualifier is written as such ('use READ', 'drop const'), not
    as a call ('use READ()'); a call keeps its parentheses."""
    from backport.apiadapt import _summary
    from kb.api import load_api, rewrite_line

    e = {x.id: x for x in load_api()}[eid]
    tree = MemoryTree({"Makefile": "VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\n"})
    assert _summary(e, tree, rewrite_line(e, line), line) == words


@pytest.mark.slow
def test_a_49_era_tree_gets_the_zero_length_array():
    """Ubuntu's 4.15 has no DECLARE_FLEX_ARRAY() (v5.16): the rewrite applies there."""
    from backport.apiadapt import _Target
    from backport.target import DirTree
    from kb.api import load_api

    if not (TREES / "ubuntu-4.15.0-213").is_dir():
        pytest.skip("kbench tree missing")
    t = _Target(DirTree(str(TREES / "ubuntu-4.15.0-213")), PortOptions(), Patch(subject="x"), None)
    e = {x.id: x for x in load_api()}["api-declare-flex-array"]
    assert not t.has_new(e, "drivers/x/x.c") and t.old_evidence(e) is not None


NF_TARGET = """\
int foo_table_register(struct net *net, const struct nf_hook_ops *template_ops)
{
\tstruct nf_hook_ops *ops;
\tunsigned int num_ops;
\tint ret;

\tnum_ops = hweight32(table->valid_hooks);
\tops = kmemdup(template_ops, sizeof(*ops) * num_ops, GFP_KERNEL);
\tif (!ops)
\t\treturn -ENOMEM;

\tret = foo_register(net, ops, num_ops);
\treturn ret;
}
"""
# v6.12 upstream writes the copy with kmemdup_array() (api-kmemdup-array, 7092e9b3bed1) and the
# fix deletes the copy where a 6.8 tree spells it with kmemdup(): a removed line the target has
# only in the old spelling, which the API table's second old form renders exactly
NF_FIX = """\
diff --git a/net/foo/foo_tables.c b/net/foo/foo_tables.c
--- a/net/foo/foo_tables.c
+++ b/net/foo/foo_tables.c
@@ -6,9 +6,5 @@ int foo_table_register(struct net *net, const struct nf_hook_ops *template_ops)
\x20
 \tnum_ops = hweight32(table->valid_hooks);
-\tops = kmemdup_array(template_ops, num_ops, sizeof(*ops), GFP_KERNEL);
-\tif (!ops)
-\t\treturn -ENOMEM;
-
-\tret = foo_register(net, ops, num_ops);
+\tret = foo_register(net, template_ops, num_ops);
 \treturn ret;
 }
"""


def test_a_removed_kmemdup_array_line_deletes_the_targets_kmemdup_line(tmp_path: Path):
    """The held-out netfilter arp/ip/ip6_tables.c cases: the deletion lands on the target's
    kmemdup(t, sizeof(*ops) * num_ops, gfp), recorded as a `removed` adaptation naming the entry."""
    from backport.target import DirTree

    root = tmp_path / "target"
    (root / "net" / "foo").mkdir(parents=True)
    (root / "net" / "foo" / "foo_tables.c").write_text(NF_TARGET)
    patch = Patch(subject="netfilter: foo", files=parse_diff(NF_FIX, origin="fix.patch"), diff_text=NF_FIX)
    before = port_patch(patch, DirTree(str(root)), options=PortOptions(adapt=False))
    assert not before.placements[0].applied  # the removed line differs: held back
    r = port_patch(patch, DirTree(str(root)), options=PortOptions())
    (pl,) = r.placements
    assert pl.applied
    (a,) = [a for a in pl.adaptations if a.kind == "removed"]
    assert a.rule == "api-kmemdup-array" and "7092e9b3bed1" in a.references[0]
    assert a.port == ("-\tops = kmemdup(template_ops, sizeof(*ops) * num_ops, GFP_KERNEL);",)
    files = {"net/foo/foo_tables.c": NF_TARGET}
    assert _git_apply(tmp_path, files, r.text).returncode == 0
    got = (tmp_path / "applytree" / "net/foo/foo_tables.c").read_text()
    assert "kmemdup" not in got and "\tret = foo_register(net, template_ops, num_ops);\n" in got


TRACE_TARGET = """\
TRACE_EVENT(foo_underrun,
\tTP_PROTO(struct foo *foo, int pipe),
\tTP_ARGS(foo, pipe),
\tTP_STRUCT__entry(
\t\t__string(dev, dev_name(foo->dev))
\t\t__string(name, foo->name)
\t\t__string(drv, foo->drv->name)
\t\t__field(int, pipe)
\t),
\tTP_fast_assign(
\t\t__assign_str(dev, dev_name(foo->dev));
\t\t__assign_str(name, foo->name);
\t\t__assign_str(drv, foo->drv->name);
\t\t__entry->pipe = pipe;
\t),
\tTP_printk("dev %s, pipe %d", __get_str(dev), __entry->pipe)
);
"""
# v6.10 dropped __assign_str()'s source argument treewide (api-assign-str-one-arg, 2c92ca849fcc):
# every context line upstream writes __assign_str(dev); is __assign_str(dev, <src>); on 6.8
TRACE_FIX = """\
diff --git a/drivers/foo/foo_trace.h b/drivers/foo/foo_trace.h
--- a/drivers/foo/foo_trace.h
+++ b/drivers/foo/foo_trace.h
@@ -10,6 +10,7 @@ TRACE_EVENT(foo_underrun,
 \t\t__assign_str(dev);
 \t\t__assign_str(name);
 \t\t__assign_str(drv);
+\t\tfoo_note(foo);
 \t\t__entry->pipe = pipe;
 \t),
 \tTP_printk("dev %s, pipe %d", __get_str(dev), __entry->pipe)
"""


def test_a_one_argument_assign_str_context_line_is_the_targets_two_argument_line(tmp_path: Path):
    """The source argument is not on upstream's line: the old form's {?} takes the target's own
    line when exactly one spelling of it is in the file; an added __assign_str() is never guessed."""
    from backport.apicontext import respell_context
    from backport.target import DirTree
    from kb.api import CannotRewrite, load_api, rewrite_line

    entries = load_api()
    h = parse_diff(TRACE_FIX, origin="fix.patch")[0].hunks[0]
    rs = respell_context(h, TRACE_TARGET.splitlines(), entries)
    assert rs is not None and [tg for _, _, _, tg in rs.lines] == [
        "\t\t__assign_str(dev, dev_name(foo->dev));", "\t\t__assign_str(name, foo->name);",
        "\t\t__assign_str(drv, foo->drv->name);"]
    assert {e.id for _, e, _, _ in rs.lines} == {"api-assign-str-one-arg"}
    # two different sources for the same field in the file: that line keeps upstream's spelling
    two = TRACE_TARGET + TRACE_TARGET.replace("foo_underrun", "foo_overrun").replace(
        "__assign_str(dev, dev_name(foo->dev))", "__assign_str(dev, foo->label)")
    rs = respell_context(h, two.splitlines(), entries)
    assert rs is not None and [i for i, _, _, _ in rs.lines] == [1, 2]
    e = next(x for x in entries if x.id == "api-assign-str-one-arg")
    with pytest.raises(CannotRewrite):
        rewrite_line(e, "\t\t__assign_str(dev);")

    root = tmp_path / "target"
    (root / "drivers" / "foo").mkdir(parents=True)
    (root / "drivers" / "foo" / "foo_trace.h").write_text(TRACE_TARGET)
    patch = Patch(subject="foo: note", files=parse_diff(TRACE_FIX, origin="fix.patch"), diff_text=TRACE_FIX)
    before = port_patch(patch, DirTree(str(root)), options=PortOptions(adapt=False))
    assert not before.placements[0].applied
    r = port_patch(patch, DirTree(str(root)), options=PortOptions())
    (pl,) = r.placements
    assert pl.applied and any("api-assign-str-one-arg" in ev and "2c92ca849fcc" in ev for ev in pl.evidence)
    assert _git_apply(tmp_path, {"drivers/foo/foo_trace.h": TRACE_TARGET}, r.text).returncode == 0
    assert (tmp_path / "applytree" / "drivers/foo/foo_trace.h").read_text() == TRACE_TARGET.replace(
        "\t\t__assign_str(drv, foo->drv->name);\n", "\t\t__assign_str(drv, foo->drv->name);\n\t\tfoo_note(foo);\n")


# a fix that adds a field to the event: its __string() names the source the target's
# two-argument __assign_str() needs, in the same TRACE_EVENT (api-assign-str-one-arg's companion)
TRACE_FIELD_FIX = """\
diff --git a/drivers/foo/foo_trace.h b/drivers/foo/foo_trace.h
--- a/drivers/foo/foo_trace.h
+++ b/drivers/foo/foo_trace.h
@@ -6,6 +6,7 @@ TRACE_EVENT(foo_underrun,
 \t\t__string(name, foo->name)
 \t\t__string(drv, foo->drv->name)
 \t\t__field(int, pipe)
+\t\t__string(label, foo->label)
 \t),
 \tTP_fast_assign(
 \t\t__assign_str(dev);
@@ -13,5 +14,7 @@ TRACE_EVENT(foo_underrun,
 \t\t__assign_str(drv);
 \t\t__entry->pipe = pipe;
+\t\t__assign_str(label);
+\t\t__assign_str(name);
 \t),
 \tTP_printk("dev %s, pipe %d", __get_str(dev), __entry->pipe)
 );
"""
TRACE_HEADER = "#define __assign_str(dst, src) strcpy(__get_str(dst), (src) ? (const char *)(src) : \"(null)\")\n"


def test_an_added_one_argument_assign_str_takes_its_source_from_the_events_own_string_field(tmp_path: Path):
    """An added __assign_str(dst) on a tree before v6.10 is written __assign_str(dst, src) with the
    src of the same event's __string(dst, src), added by the hunk or already in the target; the
    evidence names that line. A field no __string() of that event names stays an api-missing ERROR."""
    from backport.target import DirTree
    from kb.api import companion_arg, load_api, rewrite_line

    e = next(x for x in load_api() if x.id == "api-assign-str-one-arg")
    above = ["TRACE_EVENT(foo,", "\t\t__string(dev, dev_name(foo->dev))", "\t\t__string(name,  foo->name )"]
    assert companion_arg(e, {"dst": "name"}, above) == (2, "foo->name")
    assert companion_arg(e, {"dst": "drv"}, above) is None
    assert rewrite_line(e, "\t\t__assign_str(dev);", fill=lambda v: "dev_name(foo->dev)") == [
        "\t\t__assign_str(dev, dev_name(foo->dev));"]

    root = tmp_path / "target"
    (root / "drivers" / "foo").mkdir(parents=True)
    (root / "include" / "trace").mkdir(parents=True)
    (root / "include" / "trace" / "trace_events.h").write_text(TRACE_HEADER)
    target = TRACE_TARGET
    (root / "drivers" / "foo" / "foo_trace.h").write_text(target)
    patch = Patch(subject="foo: label", files=parse_diff(TRACE_FIELD_FIX, origin="fix.patch"),
                  diff_text=TRACE_FIELD_FIX)
    r = port_patch(patch, DirTree(str(root)), options=PortOptions())
    assert all(p.applied for p in r.placements)
    (a1, a2) = [a for p in r.placements for a in p.adaptations if a.rule == "api-assign-str-one-arg"]
    assert a1.port == ("+\t\t__assign_str(label, foo->label);",)
    assert a2.port == ("+\t\t__assign_str(name, foo->name);",)
    assert any("__string(label, foo->label)" in ev for ev in a1.evidence)
    assert any(ev.startswith("drivers/foo/foo_trace.h:6: __string(name, foo->name)") for ev in a2.evidence)
    # the field the hunk declares is a member of the event's entry, not a missing symbol
    assert not [f for f in r.findings if f.code in ("api-missing", "missing-symbol")]
    assert _git_apply(tmp_path, {"drivers/foo/foo_trace.h": target}, r.text).returncode == 0
    got = (tmp_path / "applytree" / "drivers/foo/foo_trace.h").read_text()
    assert "\t\t__assign_str(label, foo->label);\n\t\t__assign_str(name, foo->name);\n" in got

    # a field the event never declared with __string(): reported, never guessed
    unknown = TRACE_FIELD_FIX.replace("+\t\t__assign_str(name);\n", "+\t\t__assign_str(other);\n")
    patch = Patch(subject="foo: other", files=parse_diff(unknown, origin="fix.patch"), diff_text=unknown)
    r = port_patch(patch, DirTree(str(root)), options=PortOptions())
    (f,) = [f for f in r.findings if f.code == "api-missing"]
    assert "__assign_str(other);" in f.evidence[0] and "__string()" in f.message
