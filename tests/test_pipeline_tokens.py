"""End-to-end: token-level kinds in the pipeline (pointer change, removed lines a few tokens apart,
annotations the target lacks, atomic members the target declares plain), real git apply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backport.model import Patch, PortOptions
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import DirTree


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _port(tmp_path: Path, target: dict[str, str], diff: str, upstream: dict[str, str] | None = None):
    _tree(tmp_path / "target", target)
    up = None
    if upstream is not None:
        _tree(tmp_path / "upstream", upstream)
        up = str(tmp_path / "upstream")
    patch = Patch(subject="foo: fix", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, DirTree(str(tmp_path / "target")), options=PortOptions(checks=False, upstream=up))


def _git_apply(tmp_path: Path, files: dict[str, str], diff: str, path: str) -> str:
    root = tmp_path / "applytree"
    _tree(root, files)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ported.patch").write_text(diff)
    subprocess.run(["git", "apply", "ported.patch"], cwd=root, check=True, capture_output=True)
    return (root / path).read_text()


RAW = """\
static struct class *raw_class;

static int raw_probe(struct raw *raw, int minor)
{
\tint ret;

\traw->device = device_create(raw_class, NULL, raw->dev, raw, "raw%d", minor);
\tif (IS_ERR(raw->device))
\t\treturn PTR_ERR(raw->device);
\treturn 0;
}
"""

RAW_UPSTREAM = RAW.replace("static struct class *raw_class;", "static const struct class raw_class;").replace(
    "device_create(raw_class,", "device_create(&raw_class,")

RAW_FIX = """\
diff --git a/drivers/raw/raw.c b/drivers/raw/raw.c
--- a/drivers/raw/raw.c
+++ b/drivers/raw/raw.c
@@ -4,8 +4,7 @@ static int raw_probe(struct raw *raw, int minor)
 {
 \tint ret;
\x20
-\traw->device = device_create(&raw_class, NULL, raw->dev, raw, "raw%d", minor);
-\tif (IS_ERR(raw->device))
-\t\treturn PTR_ERR(raw->device);
+\traw->dev.class = &raw_class;
+\tret = device_add(&raw->dev);
 \treturn 0;
 }
"""


@pytest.mark.parametrize("base", [True, False], ids=["with-base", "no-base"])
def test_a_pointer_in_the_target_is_carried_from_the_removed_line(tmp_path, base):
    r = _port(tmp_path, {"drivers/raw/raw.c": RAW}, RAW_FIX, {"drivers/raw/raw.c": RAW_UPSTREAM} if base else None)
    (pl,) = r.placements
    assert pl.applied
    kinds = sorted(a.kind for a in pl.adaptations)
    assert kinds == ["removed", "token"]
    tok = next(a for a in pl.adaptations if a.kind == "token")
    assert "raw_class is a pointer there" in tok.summary
    assert tok.evidence[0].startswith("drivers/raw/raw.c:7: raw->device = device_create(raw_class,")
    assert [f.code for f in r.findings if f.code == "adapted"] == ["adapted"]
    ported = RAW.replace('\traw->device = device_create(raw_class, NULL, raw->dev, raw, "raw%d", minor);\n'
                         '\tif (IS_ERR(raw->device))\n\t\treturn PTR_ERR(raw->device);\n',
                         "\traw->dev.class = raw_class;\n\tret = device_add(&raw->dev);\n")
    assert _git_apply(tmp_path, {"drivers/raw/raw.c": RAW}, r.text, "drivers/raw/raw.c") == ported


BRK = """\
static int serial_break(struct tty_struct *tty, int state)
{
\tstruct port *port = tty->driver_data;

\tif (port->ops->brk)
\t\tport->ops->brk(tty, state);

\treturn 0;
}
"""

BRK_FIX = """\
diff --git a/drivers/tty/brk.c b/drivers/tty/brk.c
--- a/drivers/tty/brk.c
+++ b/drivers/tty/brk.c
@@ -1,8 +1,11 @@
 static int serial_break(struct tty_struct *tty, int state)
 {
 \tstruct port *port = tty->driver_data;
+\tint ret;
\x20
-\tif (port->ops->brk)
-\t\treturn port->ops->brk(tty, state);
-\treturn -ENOTTY;
+\tif (!port->ops->brk)
+\t\treturn -ENOTTY;
+
+\tret = port->ops->brk(tty, state);
+\treturn ret;
 }
"""


def test_removed_lines_a_few_tokens_apart_are_deleted_as_the_target_spells_them(tmp_path):
    # with the upstream base the 3-way pairs each removed line with the target's; upstream's
    # new code is written as upstream has it, and each deleted target line is recorded
    upstream = BRK.replace("\t\tport->ops->brk(tty, state);\n\n\treturn 0;", "\t\treturn port->ops->brk(tty, state);\n"
                           "\treturn -ENOTTY;")
    r = _port(tmp_path, {"drivers/tty/brk.c": BRK}, BRK_FIX, {"drivers/tty/brk.c": upstream})
    (pl,) = r.placements
    assert pl.applied, r.findings
    removed = [a for a in pl.adaptations if a.kind == "removed"]
    assert {a.port[0][1:].strip() for a in removed} >= {"port->ops->brk(tty, state);", "return 0;"}
    assert [f.code for f in r.findings if f.code == "adapted"] == ["adapted"]
    out = _git_apply(tmp_path, {"drivers/tty/brk.c": BRK}, r.text, "drivers/tty/brk.c")
    assert "\tif (!port->ops->brk)\n\t\treturn -ENOTTY;\n" in out and "return 0;" not in out


KFUNC = """\
void foo_updated(struct foo *f, int cpu)
{
\tf->cpu = cpu;
}

void foo_flush(struct foo *f)
{
\tf->cpu = -1;
}
"""

KFUNC_FIX = """\
diff --git a/kernel/foo.c b/kernel/foo.c
--- a/kernel/foo.c
+++ b/kernel/foo.c
@@ -1,4 +1,10 @@
-__bpf_kfunc void foo_updated(struct foo *f, int cpu)
+void __foo_updated(struct foo *f, int cpu)
 {
 \tf->cpu = cpu;
 }
+
+__bpf_kfunc void foo_updated(struct foo *f, int cpu)
+{
+\tif (cpu >= 0)
+\t\t__foo_updated(f, cpu);
+}
"""


def test_an_annotation_the_target_lacks_is_dropped_and_said(tmp_path):
    r = _port(tmp_path, {"kernel/foo.c": KFUNC}, KFUNC_FIX)
    (pl,) = r.placements
    assert pl.applied
    summaries = [a.summary for a in pl.adaptations]
    assert "drop __bpf_kfunc, the target has no __bpf_kfunc" in summaries
    out = _git_apply(tmp_path, {"kernel/foo.c": KFUNC}, r.text, "kernel/foo.c")
    assert "__bpf_kfunc" not in out
    assert out.startswith("void __foo_updated(struct foo *f, int cpu)\n") and "\nvoid foo_updated(struct foo" in out


IO_H = """\
#include "io.h"

static inline bool io_locked(struct io_req *req)
{
\treturn req->locked;
}
"""

IO_C = """\
#include "io.h"

void io_prep(struct io_req *req)
{
\treq->work.flags = 0;
\tif (req->hashed)
\t\treq->work.flags |= IO_WQ_WORK_HASHED;
}
"""

IO_FIX = """\
diff --git a/io/io.h b/io/io.h
--- a/io/io.h
+++ b/io/io.h
@@ -4,3 +4,9 @@ static inline bool io_locked(struct io_req *req)
 {
 \treturn req->locked;
 }
+
+static inline bool io_cancel_seen(struct io_req *req)
+{
+\tatomic_set(&req->work.seen, 1);
+\treturn atomic_read(&req->work.flags) & IO_WQ_WORK_CANCEL;
+}
"""


def test_an_atomic_read_of_a_member_the_target_declares_plain_is_rewritten(tmp_path):
    files = {"io/io.h": IO_H, "io/io.c": IO_C}
    r = _port(tmp_path, files, IO_FIX)
    (pl,) = r.placements
    assert pl.applied
    (a,) = pl.adaptations
    assert a.summary == "use req->work.flags directly as the target does: the member is no atomic_t there"
    assert a.evidence == ("io/io.c:5: req->work.flags = 0;",)
    assert [f.code for f in r.findings if f.code == "adapted"] == ["adapted"]
    out = _git_apply(tmp_path, files, r.text, "io/io.h")
    assert "\treturn req->work.flags & IO_WQ_WORK_CANCEL;\n" in out
    assert "\tatomic_set(&req->work.seen, 1);\n" in out  # nothing says ->work.seen is plain: kept


def test_an_atomic_member_in_the_target_is_left_alone(tmp_path):
    files = {"io/io.h": IO_H, "io/io.c": IO_C.replace("\t\treq->work.flags |= IO_WQ_WORK_HASHED;",
                                                        "\t\tatomic_or(IO_WQ_WORK_HASHED, &req->work.flags);")
             .replace("\treq->work.flags = 0;", "\tatomic_set(&req->work.flags, 0);")}
    r = _port(tmp_path, files, IO_FIX)
    (pl,) = r.placements
    assert pl.applied and not pl.adaptations
    assert "atomic_read(&req->work.flags)" in r.text


CGX = """\
int cgx_set_pkind(struct cgx *cgx, int id, int pkind)
{
\tcgx_write(cgx, id, CGX_RX_ID_MAP, pkind & 0x3F);
\treturn 0;
}

int cgx_reset(struct cgx *cgx)
{
\treturn 0;
}
"""

CGX_FIX = """\
diff --git a/drivers/net/cgx.c b/drivers/net/cgx.c
--- a/drivers/net/cgx.c
+++ b/drivers/net/cgx.c
@@ -4,6 +4,11 @@ int cgx_set_pkind(struct cgx *cgx, int id, int pkind)
 \treturn 0;
 }
\x20
+int cgx_get_pkind(struct cgx *cgx, int id)
+{
+\treturn cgx_read(cgx, id, cgx->mac_ops->rxid_map_offset) & 0x3F;
+}
+
 int cgx_reset(struct cgx *cgx)
 {
 \treturn 0;
"""


def _port_checked(tmp_path: Path, fix: str):
    """With the deps index on (what the target tree defines decides) and the upstream base."""
    upstream = {"drivers/net/cgx.c": CGX.replace("CGX_RX_ID_MAP", "cgx->mac_ops->rxid_map_offset")}
    _tree(tmp_path / "target", {"drivers/net/cgx.c": CGX})
    _tree(tmp_path / "upstream", upstream)
    patch = Patch(subject="cgx: get pkind", files=parse_diff(fix, origin="fix.patch"), diff_text=fix)
    opts = PortOptions(upstream=str(tmp_path / "upstream"), extra={"index-cache": str(tmp_path / "cache")})
    return port_patch(patch, DirTree(str(tmp_path / "target")), options=opts)


def test_a_member_the_target_lacks_takes_the_spelling_the_base_diff_shows(tmp_path):
    # the hunk applies as is, but its new line uses a member the target tree lacks; next to it
    # the upstream base writes that member where the target writes a constant
    r = _port_checked(tmp_path, CGX_FIX)
    (pl,) = r.placements
    assert pl.applied
    (a,) = pl.adaptations
    assert a.summary == "write 'CGX_RX_ID_MAP' as the target does, not 'cgx->mac_ops->rxid_map_offset'"
    assert a.evidence == ("drivers/net/cgx.c:3: cgx_write(cgx, id, CGX_RX_ID_MAP, pkind & 0x3F);",)
    out = _git_apply(tmp_path, {"drivers/net/cgx.c": CGX}, r.text, "drivers/net/cgx.c")
    assert "\treturn cgx_read(cgx, id, CGX_RX_ID_MAP) & 0x3F;\n" in out


def test_an_exact_hunk_using_only_what_the_target_has_is_left_alone(tmp_path):
    r = _port_checked(tmp_path, CGX_FIX.replace("cgx->mac_ops->rxid_map_offset", "CGX_RX_ID_MAP"))
    (pl,) = r.placements
    assert pl.applied and not pl.adaptations and pl.method.value == "exact"


BTRFS = """\
static int btrfs_link(struct inode *dir, struct inode *inode)
{
\tint ret;

\tret = btrfs_add_link(BTRFS_I(dir), BTRFS_I(inode), 0);
\tif (ret)
\t\treturn ret;
\treturn 0;
}
"""

BTRFS_FIX = """\
diff --git a/fs/btrfs/inode.c b/fs/btrfs/inode.c
--- a/fs/btrfs/inode.c
+++ b/fs/btrfs/inode.c
@@ -3,6 +3,9 @@ static int btrfs_link(struct inode *dir, struct inode *inode)
 \tint ret;
\x20
 \tret = btrfs_add_link(dir, inode, 0);
+\tif (ret == -EEXIST)
+\t\tret = btrfs_add_link(dir, inode, 1);
+
 \tif (ret)
 \t\treturn ret;
 \treturn 0;
"""


def test_arguments_the_target_passes_wrapped_are_wrapped_in_new_calls(tmp_path):
    r = _port(tmp_path, {"fs/btrfs/inode.c": BTRFS}, BTRFS_FIX)
    (pl,) = r.placements
    assert pl.applied
    summaries = sorted(a.summary for a in pl.adaptations if a.kind == "token")
    assert summaries == ["pass btrfs_add_link() BTRFS_I() of its argument as the target does (BTRFS_I(dir))",
                         "pass btrfs_add_link() BTRFS_I() of its argument as the target does (BTRFS_I(inode))"]
    out = _git_apply(tmp_path, {"fs/btrfs/inode.c": BTRFS}, r.text, "fs/btrfs/inode.c")
    assert "\t\tret = btrfs_add_link(BTRFS_I(dir), BTRFS_I(inode), 1);\n" in out


ARGS = """\
static int foo_open(struct foo *f)
{
\tf->buf = foo_alloc(f->dev, f->len, GFP_KERNEL);
\tif (!f->buf)
\t\treturn -ENOMEM;
\treturn 0;
}
"""

ARGS_FIX = """\
diff --git a/drivers/foo/args.c b/drivers/foo/args.c
--- a/drivers/foo/args.c
+++ b/drivers/foo/args.c
@@ -1,6 +1,9 @@
 static int foo_open(struct foo *f)
 {
 \tf->buf = foo_alloc(f->dev, f->len);
+\tif (!f->buf)
+\t\tf->buf = foo_alloc(f->dev, f->len / 2);
+
 \tif (!f->buf)
 \t\treturn -ENOMEM;
 \treturn 0;
"""


def test_an_argument_the_target_appends_is_written_into_new_calls(tmp_path):
    r = _port(tmp_path, {"drivers/foo/args.c": ARGS}, ARGS_FIX)
    (pl,) = r.placements
    assert pl.applied
    assert [a.summary for a in pl.adaptations if a.kind == "token"] == [
        "call foo_alloc() with the target's argument 3 (GFP_KERNEL)"]
    out = _git_apply(tmp_path, {"drivers/foo/args.c": ARGS}, r.text, "drivers/foo/args.c")
    assert "\t\tf->buf = foo_alloc(f->dev, f->len / 2, GFP_KERNEL);\n" in out


RMDIR = """\
#include <linux/user_namespace.h>

static int purge(struct dentry *parent, struct dentry *child)
{
\tint status;

\tinode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
\tstatus = vfs_rmdir(d_inode(parent), child);
\tif (status)
\t\tprintk("failed %pd\\n", child);
\tinode_unlock(d_inode(parent));
\treturn status;
}
"""

RMDIR_FIX = """\
diff --git a/fs/foo/purge.c b/fs/foo/purge.c
--- a/fs/foo/purge.c
+++ b/fs/foo/purge.c
@@ -5,9 +5,11 @@ static int purge(struct dentry *parent, struct dentry *child)
 \tint status;
\x20
 \tinode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
-\tstatus = vfs_rmdir(&init_user_ns, d_inode(parent), child);
-\tif (status)
-\t\tprintk("failed %pd\\n", child);
+\tif (!IS_ERR(child)) {
+\t\tstatus = vfs_rmdir(&init_user_ns, d_inode(parent), child);
+\t\tif (status)
+\t\t\tprintk("failed %pd\\n", child);
+\t}
 \tinode_unlock(d_inode(parent));
 \treturn status;
 }
"""


@pytest.mark.parametrize("base", [True, False], ids=["with-base", "no-base"])
def test_a_first_argument_the_target_lacks_is_dropped_though_the_tree_defines_its_name(tmp_path, base):
    # the target's vfs_rmdir() takes no idmap (before v5.12); init_user_ns exists there all the same
    files = {"fs/foo/purge.c": RMDIR,
             "include/linux/user_namespace.h": "extern struct user_namespace init_user_ns;\n"}
    _tree(tmp_path / "target", files)
    up = None
    if base:
        _tree(tmp_path / "upstream", {"fs/foo/purge.c": RMDIR.replace("vfs_rmdir(", "vfs_rmdir(&init_user_ns, ")})
        up = str(tmp_path / "upstream")
    patch = Patch(subject="foo: fix", files=parse_diff(RMDIR_FIX, origin="fix.patch"), diff_text=RMDIR_FIX)
    opts = PortOptions(upstream=up, extra={"index-cache": str(tmp_path / "cache")})
    r = port_patch(patch, DirTree(str(tmp_path / "target")), options=opts)
    (pl,) = r.placements
    assert pl.applied
    assert [a.kind for a in pl.adaptations] == ["removed", "token"]
    assert "vfs_rmdir(" in pl.adaptations[1].summary
    out = _git_apply(tmp_path, files, r.text, "fs/foo/purge.c")
    assert "\t\tstatus = vfs_rmdir(d_inode(parent), child);\n" in out
    assert "init_user_ns," not in out


RX = """\
void rxrpc_put_call(struct rxrpc_net *rxnet, struct rxrpc_call *call)
{
\tspin_lock_bh(&call->lock);
\tcall->state = RXRPC_CALL_DEAD;
\tspin_unlock_bh(&call->lock);

\tif (!list_empty(&call->link)) {
\t\twrite_lock(&rxnet->call_lock);
\t\tlist_del_init(&call->link);
\t\twrite_unlock(&rxnet->call_lock);
\t}
\trxrpc_cleanup_call(call);
}

void rxrpc_destroy_all_calls(struct rxrpc_net *rxnet)
{
\twrite_lock(&rxnet->call_lock);
\twhile (!list_empty(&rxnet->calls)) {
\t\tcall = list_entry(rxnet->calls.next, struct rxrpc_call, link);
\t\tlist_del_init(&call->link);
\t}
\twrite_unlock(&rxnet->call_lock);
}
"""

RX_FIX = """\
diff --git a/net/rxrpc/call_object.c b/net/rxrpc/call_object.c
--- a/net/rxrpc/call_object.c
+++ b/net/rxrpc/call_object.c
@@ -15,9 +15,12 @@ void rxrpc_destroy_all_calls(struct rxrpc_net *rxnet)
 void rxrpc_destroy_all_calls(struct rxrpc_net *rxnet)
 {
-\tspin_lock_bh(&rxnet->call_lock);
+\tint shown = 0;
+
+\tspin_lock_bh(&rxnet->call_lock);
 \twhile (!list_empty(&rxnet->calls)) {
 \t\tcall = list_entry(rxnet->calls.next, struct rxrpc_call, link);
 \t\tlist_del_init(&call->link);
+\t\tshown++;
 \t}
 \tspin_unlock_bh(&rxnet->call_lock);
 }
"""


@pytest.mark.parametrize("base", [True, False], ids=["with-base", "no-base"])
def test_a_lock_call_the_target_makes_another_way_is_written_so_in_new_lines(tmp_path, base):
    # the target's call_lock is an rwlock: its removed and kept lines call write_lock()/write_unlock()
    # where upstream calls spin_lock_bh()/spin_unlock_bh(), which the target keeps for other locks
    up = RX.replace("write_lock(&rxnet", "spin_lock_bh(&rxnet").replace("write_unlock(&rxnet", "spin_unlock_bh(&rxnet")
    r = _port(tmp_path, {"net/rxrpc/call_object.c": RX}, RX_FIX, {"net/rxrpc/call_object.c": up} if base else None)
    (pl,) = r.placements
    assert pl.applied
    kinds = {a.kind: a.summary for a in pl.adaptations}
    assert kinds["token"] == ("write write_lock(&rxnet->call_lock) as the target does for these arguments, "
                              "not spin_lock_bh(&rxnet->call_lock)")
    out = _git_apply(tmp_path, {"net/rxrpc/call_object.c": RX}, r.text, "net/rxrpc/call_object.c")
    assert "\tint shown = 0;\n\n\twrite_lock(&rxnet->call_lock);\n\twhile" in out
    assert "\tspin_lock_bh(&call->lock);\n" in out and "spin_lock_bh(&rxnet" not in out


TTY = """\
static int serial_break(struct tty_struct *tty, int state)
{
\tstruct usb_serial_port *port = tty->driver_data;

\tif (port->serial->type->break_ctl)
\t\tport->serial->type->break_ctl(tty, state);

\treturn 0;
}

static int serial_tiocmget(struct tty_struct *tty)
{
\treturn 0;
}
"""

TTY_FIX = """\
diff --git a/drivers/usb/serial/tty.c b/drivers/usb/serial/tty.c
--- a/drivers/usb/serial/tty.c
+++ b/drivers/usb/serial/tty.c
@@ -2,11 +2,13 @@ static int serial_break(struct tty_struct *tty, int state)
 {
 \tstruct usb_serial_port *port = tty->driver_data;
\x20
-\tif (port->serial->type->break_ctl)
-\t\treturn port->serial->type->break_ctl(tty, state);
+\tif (!port->serial->type->break_ctl)
+\t\treturn -ENOTTY;
\x20
-\treturn -ENOTTY;
+\tif (tty_io_error(tty))
+\t\treturn -EIO;
+\treturn port->serial->type->break_ctl(tty, state);
 }
\x20
 static int serial_tiocmget(struct tty_struct *tty)
 {
"""


def test_without_base_removed_lines_between_verbatim_unique_neighbours_are_deleted_as_the_target_has_them(tmp_path):
    # the target's break handler returns nothing from break_ctl() and 0 at the end: each removed line
    # sits 1:1 between lines verbatim in the target (past the blank line and the brace to the next
    # function's first line), a block found once
    r = _port(tmp_path, {"drivers/usb/serial/tty.c": TTY}, TTY_FIX)
    (pl,) = r.placements
    assert pl.applied
    assert [a.kind for a in pl.adaptations] == ["removed", "removed"]
    out = _git_apply(tmp_path, {"drivers/usb/serial/tty.c": TTY}, r.text, "drivers/usb/serial/tty.c")
    assert "\treturn 0;\n}\n\nstatic int serial_tiocmget" not in out
    assert "\t\treturn -EIO;\n\treturn port->serial->type->break_ctl(tty, state);\n}\n" in out


EXECLIST = """\
static int execlist_limit(struct xe_exec_queue *q)
{
\treturn 0;
}

static int execlist_init(struct xe_exec_queue *q)
{
\tint err;

\terr = sched_init(&q->sched,
\t\t\t q->lrc[0].ring.size / MAX_JOB_SIZE_BYTES,
\t\t\t q->name);
\treturn err;
}
"""

# hunk 1 adds a line upstream writes with q->lrc[0]->ring (an array of pointers there); hunk 2
# removes a line the target writes q->lrc[0].ring: hunk 2 teaches how hunk 1 must be written
EXECLIST_FIX = """\
diff --git a/drivers/xe/xe_execlist.c b/drivers/xe/xe_execlist.c
--- a/drivers/xe/xe_execlist.c
+++ b/drivers/xe/xe_execlist.c
@@ -1,4 +1,5 @@
 static int execlist_limit(struct xe_exec_queue *q)
 {
+\tq->limit = q->lrc[0]->ring.size / MAX_JOB_SIZE_BYTES;
 \treturn 0;
 }
@@ -8,7 +9,6 @@ static int execlist_init(struct xe_exec_queue *q)
 \tint err;
\x20
 \terr = sched_init(&q->sched,
-\t\t\t q->lrc[0]->ring.size / MAX_JOB_SIZE_BYTES,
 \t\t\t q->name);
 \treturn err;
 }
"""


def test_a_spelling_one_hunk_teaches_is_carried_into_a_verbatim_hunk_of_the_same_file(tmp_path):
    r = _port(tmp_path, {"drivers/xe/xe_execlist.c": EXECLIST}, EXECLIST_FIX)
    first, second = r.placements
    assert first.applied and second.applied
    assert [a.kind for a in second.adaptations] == ["removed"]
    (carried,) = first.adaptations
    assert carried.kind == "token" and "lrc[0]." in carried.summary
    assert carried.evidence == ("drivers/xe/xe_execlist.c:11: q->lrc[0].ring.size / MAX_JOB_SIZE_BYTES,",)
    out = _git_apply(tmp_path, {"drivers/xe/xe_execlist.c": EXECLIST}, r.text, "drivers/xe/xe_execlist.c")
    assert "\tq->limit = q->lrc[0].ring.size / MAX_JOB_SIZE_BYTES;\n" in out and "->ring" not in out
    assert sum(f.code == "adapted" for f in r.findings) == 2


DEFRAG = """\
static int defrag_range(struct inode *inode)
{
\tstruct page **pages;
\tint i, ret = 0;

\tpages = kcalloc(8, sizeof(*pages), GFP_NOFS);
\tif (!pages)
\t\treturn -ENOMEM;
\tfor (i = 0; i < 8; i++)
\t\tpages[i] = grab(inode, i);
\tret = defrag_pages(inode, pages);
\tkfree(pages);
\treturn ret;
}
"""

# upstream's function works on folios; hunk 1 lands by alignment and learns that the function's
# local is 'pages' in the target; hunk 2's own context then reads as the target's
DEFRAG_FIX = """\
diff --git a/fs/btrfs/defrag.c b/fs/btrfs/defrag.c
--- a/fs/btrfs/defrag.c
+++ b/fs/btrfs/defrag.c
@@ -3,7 +3,7 @@ static int defrag_range(struct inode *inode)
 \tstruct folio **folios;
 \tint i, ret = 0;
\x20
-\tfolios = kcalloc(8, sizeof(*folios), GFP_NOFS);
+\tfolios = kcalloc(16, sizeof(*folios), GFP_NOFS);
 \tif (!folios)
 \t\treturn -ENOMEM;
 \tfor (i = 0; i < 8; i++)
@@ -11,4 +11,5 @@ static int defrag_range(struct inode *inode)
 \tret = defrag_folios(inode, folios);
 \tkfree(folios);
+\ttrace_defrag(inode);
 \treturn ret;
 }
"""


def test_a_hunk_whose_context_another_hunk_taught_the_targets_spelling_of_is_placed_with_it(tmp_path):
    r = _port(tmp_path, {"fs/btrfs/defrag.c": DEFRAG}, DEFRAG_FIX)
    first, second = r.placements
    assert first.applied and second.applied
    assert any("placed with the file's spelling" in e and "use pages" in e for e in second.evidence)
    out = _git_apply(tmp_path, {"fs/btrfs/defrag.c": DEFRAG}, r.text, "fs/btrfs/defrag.c")
    assert "\tpages = kcalloc(16, sizeof(*pages), GFP_NOFS);\n" in out
    assert "\tkfree(pages);\n\ttrace_defrag(inode);\n\treturn ret;\n" in out
