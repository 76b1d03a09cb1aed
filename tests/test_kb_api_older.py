"""The API-table entries for older targets (4.x .. 5.15 trees, session 7): a miniature tree
spelled the way a 4.15-era tree is (POLL* masks, int fault handlers, no optional IRQ getter,
the scsi_done member, no DEFINE_SHOW_ATTRIBUTE), a fix written for 6.x; the port rewrites what
the table can rewrite, reports the rest with its commit, and the result applies with git. A tree
that has the new forms is left alone. Real trees: tests/test_kb_api_older_slow.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

from test_kb_api import _git_apply  # the same miniature-repository apply

from backport.model import Patch, PortOptions, Series, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree
from kb.api import load_api, rewrite_line

EVENTPOLL_H = "#define EPOLLIN\t\t0x00000001\n#define EPOLLRDNORM\t0x00000040\n"
POLL_H = "#define POLLIN\t\t0x0001\n#define POLLRDNORM\t0x0040\n"
MM_H = "#define VM_FAULT_SIGBUS\t0x0002\n#define VM_FAULT_NOPAGE\t0x0100\n"
PLATFORM_H = "extern int platform_get_irq(struct platform_device *, unsigned int);\n"
SCSI_H = textwrap.dedent("""\
    struct scsi_cmnd {
    \tstruct request *request;
    \tvoid (*scsi_done) (struct scsi_cmnd *);
    };
    """)
FOO_C = textwrap.dedent("""\
    #include <linux/poll.h>

    static unsigned int foo_poll(struct file *file, poll_table *wait)
    {
    \tunsigned int mask = 0;

    \tfoo_wait(file, wait);
    \treturn mask;
    }

    static int foo_probe(struct platform_device *pdev)
    {
    \tstruct foo *priv = foo_alloc(pdev);

    \treturn 0;
    }

    static void foo_complete(struct scsi_cmnd *cmd)
    {
    \tfoo_unmap(cmd);
    }
    """)
FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -6,4 +6,6 @@ static unsigned int foo_poll(struct file *file, poll_table *wait)
    ~
     \tfoo_wait(file, wait);
    +\tif (foo_ready(file))
    +\t\tmask |= EPOLLIN | EPOLLRDNORM;
     \treturn mask;
     }
    @@ -10,7 +12,13 @@
    ~
    +static vm_fault_t foo_fault(struct vm_fault *vmf)
    +{
    +\treturn VM_FAULT_SIGBUS;
    +}
    +
     static int foo_probe(struct platform_device *pdev)
     {
     \tstruct foo *priv = foo_alloc(pdev);
    ~
    +\tpriv->irq = platform_get_irq_optional(pdev, 1);
     \treturn 0;
     }
    @@ -19,3 +27,6 @@ static void foo_complete(struct scsi_cmnd *cmd)
     {
     \tfoo_unmap(cmd);
    +\tscsi_done(cmd);
     }
    +
    +DEFINE_SHOW_ATTRIBUTE(foo_regs);
    """).replace("~\n", " \n")  # dedent blanks whitespace-only lines: '~' is an empty context line

OLD_TREE = {"include/uapi/linux/eventpoll.h": EVENTPOLL_H, "include/uapi/asm-generic/poll.h": POLL_H,
            "include/linux/mm.h": MM_H, "include/linux/platform_device.h": PLATFORM_H,
            "include/scsi/scsi_cmnd.h": SCSI_H, "include/linux/seq_file.h": "int single_open(struct file *);\n",
            "drivers/foo/foo.c": FOO_C, "Makefile": "VERSION = 4\nPATCHLEVEL = 15\nSUBLEVEL = 18\n"}


def _port(files: dict[str, str], diff: str = FIX):
    patch = Patch(subject="foo: fix", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, MemoryTree(files), options=PortOptions(), series=Series((patch,)))


def test_a_6x_fix_is_written_in_a_4x_trees_spelling(tmp_path: Path):
    r = _port(OLD_TREE)
    new = dict(r.new_files)["drivers/foo/foo.c"]
    assert "\t\tmask |= POLLIN | POLLRDNORM;\n" in new
    assert "static int foo_fault(struct vm_fault *vmf)\n" in new
    assert "\tpriv->irq = platform_get_irq(pdev, 1);\n" in new
    assert "\tcmd->scsi_done(cmd);\n" in new
    rules = {a.rule: a for p in r.placements for a in p.adaptations}
    assert set(rules) == {"api-epoll-in", "api-epoll-rdnorm", "api-vm-fault-t", "api-platform-get-irq-optional",
                          "api-scsi-done"}
    assert rules["api-scsi-done"].evidence[0].startswith("include/scsi/scsi_cmnd.h:")
    adapted = [f for f in r.findings if f.code == "adapted"]
    assert adapted and all(f.severity is Severity.WARNING for f in adapted)
    refs = " ".join(ref for f in adapted for ref in f.references)
    for commit in ("a9a08845e9ac", "1c8f422059ae", "8973ea47901c", "11b68e36b167"):
        assert commit in refs, commit
    # DEFINE_SHOW_ATTRIBUTE has no one-line old form: kept, reported with its commit
    (missing,) = [f for f in r.findings if f.code == "api-missing"]
    assert missing.rule == "api-define-show-attribute" and "a08f06bb7a07" in missing.message
    assert "+DEFINE_SHOW_ATTRIBUTE(foo_regs);" in r.text
    assert _git_apply(tmp_path, OLD_TREE, r.text).returncode == 0
    assert (tmp_path / "applytree" / "drivers/foo/foo.c").read_text() == new


def test_a_tree_with_the_new_forms_is_left_alone():
    files = dict(OLD_TREE)
    files["include/uapi/linux/eventpoll.h"] = ("#define EPOLLIN\t\t(__force __poll_t)0x00000001\n"
                                               "#define EPOLLRDNORM\t(__force __poll_t)0x00000040\n")
    files["include/linux/mm_types.h"] = "typedef __bitwise unsigned int vm_fault_t;\n"
    files["include/linux/platform_device.h"] = PLATFORM_H + \
        "extern int platform_get_irq_optional(struct platform_device *, unsigned int);\n"
    files["include/scsi/scsi_cmnd.h"] = SCSI_H + "void scsi_done(struct scsi_cmnd *cmd);\n"
    files["include/linux/seq_file.h"] = "#define DEFINE_SHOW_ATTRIBUTE(__name) int __name\n"
    r = _port(files)
    for line in ("mask |= EPOLLIN | EPOLLRDNORM;", "static vm_fault_t foo_fault", "platform_get_irq_optional(pdev, 1);",
                 "+\tscsi_done(cmd);", "+DEFINE_SHOW_ATTRIBUTE(foo_regs);"):
        assert line in r.text, line
    assert not [f for f in r.findings if f.code in ("adapted", "api-missing")]


ENTRIES = {e.id: e for e in load_api()}


def test_member_calls_of_the_old_spelling_are_not_the_new_api():
    """The old trees' cmd->scsi_done(cmd) and the EPOLL* / vm_fault_t spellings inside longer
    names are not uses of the new forms."""
    assert rewrite_line(ENTRIES["api-scsi-done"], "\tcmd->scsi_done(cmd);") == ["\tcmd->scsi_done(cmd);"]
    assert rewrite_line(ENTRIES["api-epoll-in"], "\tif (ev & EPOLLINX)") == ["\tif (ev & EPOLLINX)"]
    assert rewrite_line(ENTRIES["api-vm-fault-t"], "\tstruct my_vm_fault_t x;") == ["\tstruct my_vm_fault_t x;"]


def test_array_helpers_keep_the_overflow_check_and_need_the_overflow_header():
    """vmalloc_array / vcalloc / krealloc_array become the array_size() spelling they replaced;
    what they need is array3_size (overflow.h), so a struct member called array_size (4.4's
    if_team.h) does not make the rewrite look possible."""
    for eid in ("api-vmalloc-array", "api-vcalloc", "api-krealloc-array"):
        e = ENTRIES[eid]
        assert "array3_size" in e.needs and all("array_size(" in o for o in e.old), eid
    files = dict(OLD_TREE, **{"include/linux/vmalloc.h": "extern void *vmalloc(unsigned long size);\n",
                              "include/linux/if_team.h": "struct team { int array_size; };\n"})
    diff = textwrap.dedent("""\
        diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
        --- a/drivers/foo/foo.c
        +++ b/drivers/foo/foo.c
        @@ -19,3 +19,4 @@ static void foo_complete(struct scsi_cmnd *cmd)
         {
         \tfoo_unmap(cmd);
        +\tcmd->priv = vmalloc_array(n, sizeof(long));
         }
        """)
    r = _port(files, diff)
    assert "+\tcmd->priv = vmalloc_array(n, sizeof(long));" in r.text
    (missing,) = [f for f in r.findings if f.code == "api-missing"]
    assert missing.rule == "api-vmalloc-array"
    files["include/linux/overflow.h"] = ("static inline size_t array_size(size_t a, size_t b) { return a * b; }\n"
                                         "static inline size_t array3_size(size_t a, size_t b, size_t c)"
                                         " { return a * b * c; }\n")
    r = _port(files, diff)
    assert "+\tcmd->priv = vmalloc(array_size(n, sizeof(long)));" in r.text


GUP_FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -19,3 +19,5 @@ static void foo_complete(struct scsi_cmnd *cmd)
     {
     \tfoo_unmap(cmd);
    +\tn = get_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);
    +\tm = get_user_pages_fast(uaddr, nr, FOLL_WRITE | FOLL_LONGTERM, pages);
     }
    """)
GUP_OLD = "int get_user_pages_fast(unsigned long start, int nr_pages, int write,\n\t\t\tstruct page **pages);\n"
GUP_NEW = "int get_user_pages_fast(unsigned long start, int nr_pages,\n\t\t\tunsigned int gup_flags, struct page **pages);\n"


def test_gup_fast_write_flag_follows_the_targets_prototype():
    """v5.2 turned get_user_pages_fast()'s int write into FOLL_* flags: FOLL_WRITE alone is the
    old trees' 1; other flags have no old spelling and are reported. The prototype in mm.h
    decides (the name exists on both sides)."""
    r = _port(dict(OLD_TREE, **{"include/linux/mm.h": MM_H + GUP_OLD}), GUP_FIX)
    assert "+\tn = get_user_pages_fast(uaddr, nr, 1, pages);" in r.text
    assert "+\tm = get_user_pages_fast(uaddr, nr, FOLL_WRITE | FOLL_LONGTERM, pages);" in r.text
    assert {a.rule for p in r.placements for a in p.adaptations} == {"api-get-user-pages-fast-foll-write"}
    (missing,) = [f for f in r.findings if f.code == "api-missing"]
    assert missing.rule == "api-get-user-pages-fast-flags" and "73b0140bf0fe" in missing.message
    r = _port(dict(OLD_TREE, **{"include/linux/mm.h": MM_H + GUP_NEW}), GUP_FIX)
    assert "+\tn = get_user_pages_fast(uaddr, nr, FOLL_WRITE, pages);" in r.text
    assert not [f for f in r.findings if f.code in ("adapted", "api-missing")]
