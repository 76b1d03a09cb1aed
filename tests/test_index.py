"""Target index: scanners on kernel idioms, the on-disk cache and its identity, Kbuild/Kconfig queries."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from backport.errors import ParseError
from backport.index import (
    SCHEMA,
    load_dotconfig,
    load_index,
    scan_asm,
    scan_c,
    scan_kbuild,
    scan_kconfig,
    tree_key,
)
from backport.target import DirTree, MemoryTree

# A miniature kernel tree: enough of include/, kernel/, arch/arm64 and drivers/ to exercise
# every scanner. Shared by test_deps*.py and test_upstream*.py.
MINI_TREE: dict[str, str] = {
    "Makefile": "VERSION = 5\nPATCHLEVEL = 4\nSUBLEVEL = 210\nEXTRAVERSION =\nNAME = Kleptomaniac Octopus\n",
    "include/linux/types.h": (
        "#ifndef _LINUX_TYPES_H\n#define _LINUX_TYPES_H\n"
        "typedef unsigned int u32;\ntypedef unsigned long long u64;\ntypedef _Bool bool;\n"
        "typedef unsigned long size_t;\n#endif\n"),
    "include/linux/kconfig.h": "#define IS_ENABLED(option) __or(IS_BUILTIN(option), IS_MODULE(option))\n",
    "include/linux/list.h": (
        "struct list_head {\n\tstruct list_head *next, *prev;\n};\n"
        "#define list_for_each_entry(pos, head, member) \\\n\tfor (pos = NULL; pos; )\n"
        "static inline void list_add(struct list_head *new, struct list_head *head)\n{\n}\n"),
    "include/linux/slab.h": (
        "#include <linux/types.h>\n"
        "static __always_inline __alloc_size(1) void *kmalloc(size_t size, unsigned int flags)\n{\n\treturn 0;\n}\n"
        "void kfree(const void *objp);\n#define GFP_KERNEL 0x10u\n"),
    "include/linux/widget.h": (
        "#include <linux/list.h>\n"
        "struct widget {\n\tstruct list_head node;\n\tu32 id;\n\tunsigned long flags : 4;\n"
        "\tint (*probe)(struct widget *w);\n\tunion {\n\t\tu64 raw;\n\t\tstruct { u32 lo, hi; };\n\t};\n};\n"
        "enum widget_state {\n\tWIDGET_IDLE,\n\tWIDGET_BUSY = 2,\n};\n"
        "typedef int (*widget_cb_t)(struct widget *w);\n"
        "int widget_register(struct widget *w);\n"
        "__printf(2, 3) void widget_log(struct widget *w, const char *fmt, ...);\n"
        "extern struct widget *default_widget;\n"),
    "kernel/widget.c": (
        "#include <linux/widget.h>\n#include <linux/slab.h>\n"
        "static DEFINE_MUTEX(widget_lock);\nDEFINE_PER_CPU(int, widget_count);\n"
        "struct widget *default_widget;\n"
        "int widget_register(struct widget *w)\n{\n\tint ret = 0;\n\tw->id = 1;\n\treturn ret;\n}\n"
        "EXPORT_SYMBOL_GPL(widget_register);\n"
        "static int\nwidget_old_helper(struct widget *w)\n{\n\treturn w->id;\n}\n"
        "SYSCALL_DEFINE1(widget_ctl, int, cmd)\n{\n\treturn 0;\n}\n"),
    "kernel/Makefile": (
        "obj-y += fork.o\nobj-$(CONFIG_WIDGET) += widget.o\n"
        "CFLAGS_REMOVE_widget.o = $(CC_FLAGS_FTRACE)\n"
        "ccflags-y += $(call cc-option,-fno-stack-protector) \\\n\t-DWIDGET\n"),
    "kernel/fork.c": "int nr_threads;\nint copy_process(void)\n{\n\treturn nr_threads;\n}\n",
    "kernel/Kconfig": (
        "menu \"Widgets\"\n\nconfig WIDGET\n\tbool \"Widget support\"\n\tdepends on HAS_WIDGET && !COMPILE_TEST\n"
        "\tselect CRC32\n\thelp\n\t  Widgets.\n\nconfig HAS_WIDGET\n\tdef_bool y\n\nconfig CRC32\n\ttristate\n\nendmenu\n"),
    "arch/arm64/kernel/entry.S": (
        "#include <asm/asm-offsets.h>\n\t.macro kernel_ventry, el\n\t.endm\n"
        "SYM_FUNC_START(ret_to_user)\n\tldr x0, [sp, #S_FP]\nret_fast:\n\tbl do_notify_resume\n\tret\n"
        "SYM_FUNC_END(ret_to_user)\n"),
    "arch/arm64/kernel/asm-offsets.c": (
        "int main(void)\n{\n\tDEFINE(S_FP, offsetof(struct pt_regs, regs[29]));\n"
        "\tOFFSET(TI_FLAGS, thread_info, flags);\n\treturn 0;\n}\n"),
    "arch/arm64/kernel/signal.c": "void do_notify_resume(void)\n{\n}\n",
    "arch/arm64/kernel/Makefile": "obj-y += entry.o signal.o\n",
    "drivers/widget/Makefile": "obj-$(CONFIG_WIDGET_DRV) += wdrv.o\nwdrv-y := core.o\n",
    "drivers/widget/core.c": (
        "#include <linux/widget.h>\n#include <linux/slab.h>\n"
        "static int wdrv_probe(struct widget *w)\n{\n\tstruct widget *copy = kmalloc(sizeof(*copy), GFP_KERNEL);\n"
        "\tif (!copy)\n\t\treturn -12;\n\tcopy->id = w->id;\n\tkfree(copy);\n\treturn 0;\n}\n"),
    "drivers/Makefile": "obj-$(CONFIG_WIDGET_BUS) += widget/\n",
    "drivers/widget/Kconfig": "config WIDGET_DRV\n\ttristate \"Widget driver\"\n\tdepends on WIDGET\n",
    "Makefile.flags": "",
}


def write_tree(root: Path, files: dict[str, str]) -> DirTree:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return DirTree(root)


@pytest.fixture
def mini(tmp_path: Path) -> DirTree:
    return write_tree(tmp_path / "tree", MINI_TREE)


def _names(rows, kind=None):
    return {r[0] for r in rows if kind is None or r[1] == kind}


def test_scan_c_kernel_idioms():
    rows = scan_c(MINI_TREE["include/linux/widget.h"].encode() + MINI_TREE["kernel/widget.c"].encode())
    assert {"widget_register", "widget_old_helper", "sys_widget_ctl", "__do_sys_widget_ctl"} <= _names(rows, "function")
    assert {"widget_log", "widget_register"} <= _names(rows, "prototype")
    assert {"node", "id", "flags", "probe", "raw", "lo", "hi"} <= _names(rows, "member")
    assert {"WIDGET_IDLE", "WIDGET_BUSY"} == _names(rows, "enumerator")
    assert "widget_cb_t" in _names(rows, "typedef")
    assert {"widget_lock", "widget_count"} <= _names(rows, "decl")
    assert "default_widget" in _names(rows, "variable")
    assert "widget_register" in _names(rows, "export")
    assert ("widget", "struct", 2, "") in rows


def test_scan_c_attributes_macros_and_strings():
    rows = scan_c(MINI_TREE["include/linux/slab.h"].encode() + b'const char *s = "#define NOT_A_MACRO 1";\n')
    assert "kmalloc" in _names(rows, "function")
    assert "kfree" in _names(rows, "prototype")
    assert ("GFP_KERNEL", "macro", 7, "") in rows
    assert "NOT_A_MACRO" not in _names(rows)
    assert ("list_for_each_entry", "fmacro", 4, "") in scan_c(MINI_TREE["include/linux/list.h"].encode())


def test_scan_c_register_header_fast_path():
    text = b"".join(b"#define mmREG_%d 0x%x\n" % (i, i) for i in range(2000))
    rows = scan_c(text)
    assert len(rows) == 2000 and rows[-1] == ("mmREG_1999", "macro", 2000, "")


def test_scan_asm_and_offsets():
    rows = scan_asm(MINI_TREE["arch/arm64/kernel/entry.S"].encode(), "arch/arm64/kernel/entry.S")
    assert {"ret_to_user", "ret_fast"} <= _names(rows, "asm-label")
    assert "kernel_ventry" in _names(rows, "asm-macro")


def test_scan_kconfig_and_kbuild():
    entries = {e[0]: e for e in scan_kconfig(MINI_TREE["kernel/Kconfig"])}
    assert entries["WIDGET"] == ("WIDGET", "bool", 3, "HAS_WIDGET && !COMPILE_TEST", "CRC32")
    assert entries["HAS_WIDGET"][1] == "bool" and entries["CRC32"][1] == "tristate"
    assigns = scan_kbuild(MINI_TREE["kernel/Makefile"])
    assert (2, "obj-$(CONFIG_WIDGET)", "+=", "widget.o") in assigns
    assert assigns[-1] == (4, "ccflags-y", "+=", "$(call cc-option,-fno-stack-protector) -DWIDGET")


def test_load_index_queries(mini: DirTree, tmp_path: Path):
    idx = load_index(mini, cache_dir=tmp_path / "cache")
    assert idx.version == (5, 4, 210)
    d = idx.defines("widget_register")
    assert {(x.path, x.kind) for x in d} >= {("kernel/widget.c", "function"), ("include/linux/widget.h", "prototype")}
    assert idx.has("S_FP") and idx.defines("S_FP")[0].kind == "asm-offset"
    assert idx.has("kernel_ventry") and idx.has("ret_fast")
    assert not idx.has("lo") and idx.has("lo", members=True)
    assert idx.members("probe")[0].scope == "widget"
    k = idx.kconfig("CONFIG_WIDGET")
    assert k is not None and (k.path, k.line, k.type, k.selects) == ("kernel/Kconfig", 3, "bool", ("CRC32",))
    assert idx.kconfig("NOPE") is None
    assert [(v.path, v.value) for v in idx.cflags_remove("widget.o")] == [("kernel/Makefile", "$(CC_FLAGS_FTRACE)")]
    assert idx.cflags_remove("other.o") == []
    assert [v.name for v in idx.cc_options()] == ["ccflags-y"]
    assert any(v.name == "ccflags-y" for v in idx.makefile_flags())
    assert [c for c, _ in idx.gating_configs("kernel/widget.c")] == ["WIDGET"]
    assert idx.gating_configs("kernel/fork.c") == []
    # composite object and directory: core.o -> wdrv.o (WIDGET_DRV) -> drivers/widget/ (WIDGET_BUS)
    assert [c for c, _ in idx.gating_configs("drivers/widget/core.c")] == ["WIDGET_DRV", "WIDGET_BUS"]
    assert idx.gating_configs("include/linux/widget.h") is None
    assert idx.is_built("kernel/widget.c") is None  # no .config given
    assert idx.similar("widget_registr")[0][0] == "widget_register"
    assert idx.similar("zzz_unknown") == []


def test_cache_reused_until_tree_changes(mini: DirTree, tmp_path: Path):
    cache = tmp_path / "cache"
    first = load_index(mini, cache_dir=cache)
    assert not first.cached
    again = load_index(mini, cache_dir=cache)
    assert again.cached and again.has("widget_register")
    del first, again  # closed: an index still open elsewhere is copied, not taken over (test_cache.py)
    # a file added: a directory's mtime changes, so the key changes and the index is rebuilt
    key = tree_key(mini)
    time.sleep(0.01)
    (Path(mini.root) / "kernel" / "extra.c").write_text("int extra_fn(void)\n{\n}\n")
    assert tree_key(mini) != key
    rebuilt = load_index(mini, cache_dir=cache)
    assert not rebuilt.cached and rebuilt.has("extra_fn")
    # ... by updating the previous index in place: one cache file per directory, not one per state
    assert len(list(cache.glob("*.sqlite"))) == 1
    del rebuilt
    (Path(mini.root) / "kernel" / "extra.c").unlink()
    (Path(mini.root) / "kernel" / "fork.c").write_text("int copy_process_v2(void)\n{\n}\n")
    updated = load_index(mini, cache_dir=cache)
    assert not updated.has("extra_fn") and updated.has("copy_process_v2") and not updated.has("copy_process")
    assert updated.has("widget_register") and updated.stats_cached() == updated.stats()
    assert len(list(cache.glob("*.sqlite"))) == 1
    assert load_index(mini, cache_dir=cache).cached


def test_refresh_catches_in_place_edit(mini: DirTree, tmp_path: Path):
    cache = tmp_path / "cache"
    load_index(mini, cache_dir=cache)
    f = Path(mini.root) / "kernel" / "fork.c"
    with open(f, "a") as fh:  # appending keeps the directory mtime
        fh.write("int fresh_fn(void)\n{\n}\n")
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    idx = load_index(mini, cache_dir=cache)
    assert idx.cached and not idx.has("fresh_fn")
    assert idx.refresh(["kernel/fork.c", "kernel/widget.c"]) == ["kernel/fork.c"]
    assert idx.has("fresh_fn") and idx.has("copy_process")


def test_memory_tree_and_partial_index():
    tree = MemoryTree(MINI_TREE)
    idx = load_index(tree, cache_dir=None, paths=["kernel/widget.c", "kernel/Kconfig"])
    assert idx.partial and idx.has("widget_register") and not idx.has("kmalloc")
    assert idx.kconfig("WIDGET") is not None


def test_dotconfig_and_is_built(mini: DirTree, tmp_path: Path):
    cfg = tmp_path / "vendor.config"
    cfg.write_text("# comment\nCONFIG_WIDGET=y\n# CONFIG_WIDGET_BUS is not set\nCONFIG_WIDGET_DRV=m\nCONFIG_S=\"x\"\n")
    assert load_dotconfig(str(cfg)) == {"WIDGET": "y", "WIDGET_BUS": "n", "WIDGET_DRV": "m", "S": "x"}
    idx = load_index(mini, cache_dir=tmp_path / "cache", config=str(cfg))
    assert idx.is_built("kernel/widget.c") is True
    assert idx.is_built("drivers/widget/core.c") is False
    assert idx.config_value("CONFIG_WIDGET_DRV") == "m" and idx.config_value("OTHER") == "n"


def test_dotconfig_bad_line_is_a_parse_error(tmp_path: Path):
    cfg = tmp_path / "bad.config"
    cfg.write_text("CONFIG_A=y\nthis is not a config line\n")
    with pytest.raises(ParseError) as e:
        load_dotconfig(str(cfg))
    assert e.value.ref is not None and e.value.ref.line == 2
    with pytest.raises(ParseError):
        load_dotconfig(str(tmp_path / "missing.config"))


@pytest.mark.slow
def test_real_tree_index_budgets(tmp_path: Path):
    root = Path(os.path.expanduser("~/.cache/kbench/trees/6.1.187-1"))
    if not root.is_dir():
        pytest.fail("run ../shared/bench/get-tree.sh 6.1.187-1 first")
    tree = DirTree(root)
    cache = os.environ.get("BACKPORT_INDEX_CACHE", str(tmp_path / "cache"))
    load_index(tree, cache_dir=cache)
    t0 = time.perf_counter()
    idx = load_index(tree, cache_dir=cache)
    assert idx.cached and time.perf_counter() - t0 < 1.0
    assert idx.version == (6, 1, 187)
    assert any(d.path == "include/linux/slab.h" for d in idx.defines("kmalloc"))
    assert idx.kconfig("DYNAMIC_FTRACE_WITH_REGS") is not None
    assert idx.has("S_FP") and idx.has("IS_ERR")


def test_git_revision_is_indexed_from_blobs(mini: DirTree, tmp_path: Path):
    import subprocess

    from backport.target import GitTree

    root = Path(mini.root)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env, capture_output=True)
    (root / "kernel" / "fork.c").write_text("int only_in_work_tree;\n")  # not in the revision
    tree = GitTree(root, "HEAD")
    idx = load_index(tree, cache_dir=tmp_path / "cache")
    assert idx.key.startswith("git:") and idx.version == (5, 4, 210)
    assert idx.has("copy_process") and not idx.has("only_in_work_tree")
    assert idx.kconfig("WIDGET") is not None and idx.cflags_remove("widget.o")
    assert load_index(tree, cache_dir=tmp_path / "cache").cached
    from backport.index import _scan_git

    rows = list(_scan_git(str(root), tree._blobs, [(1, "kernel/fork.c"), (2, "no/such.c")]))
    assert [(r[0], r[1]) for r in rows] == [(1, "kernel/fork.c")] and ("copy_process", "function", 2, "") in rows[0][5]


def _cached_flag(args: tuple[str, str]) -> bool:
    return load_index(DirTree(args[0]), cache_dir=args[1]).cached


def test_two_processes_build_once(mini: DirTree, tmp_path: Path):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(2) as pool:
        flags = pool.map(_cached_flag, [(mini.root, str(tmp_path / "cache"))] * 2)
    assert sorted(flags) == [False, True]
    assert len(list((tmp_path / "cache").glob("*.sqlite"))) == 1


def test_cache_of_a_vanished_directory_is_pruned(tmp_path: Path):
    import shutil

    cache = tmp_path / "cache"
    gone = write_tree(tmp_path / "gone", {"a.c": "int a(void)\n{\n}\n"})
    load_index(gone, cache_dir=cache)
    shutil.rmtree(gone.root)
    kept = write_tree(tmp_path / "kept", {"b.c": "int b(void)\n{\n}\n"})
    assert load_index(kept, cache_dir=cache).has("b")
    assert len(list(cache.glob("*.sqlite"))) == 1


def _build_in_worker(args: tuple[str, str]) -> tuple[bool, int]:
    idx = load_index(DirTree(args[0]), cache_dir=args[1])
    return idx.has("fn_2099"), idx.stats_cached()["files"]


def test_parallel_build_inside_a_daemonic_pool_worker(tmp_path: Path):
    # more than 2000 files: the build forks a second scanner, which a pool worker may not do
    # through multiprocessing (daemonic processes are not allowed to have children)
    import multiprocessing

    files = {f"d{i % 7}/f{i}.c": f"int fn_{i}(void)\n{{\n}}\n" for i in range(2100)}
    tree = write_tree(tmp_path / "many", files)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map(_build_in_worker, [(tree.root, str(tmp_path / "cache"))]) == [(True, 2100)]
    assert not list((tmp_path / "cache").glob(".scan-*"))  # worker databases merged and removed


def test_an_older_layout_is_replaced_not_updated(mini: DirTree, tmp_path: Path):
    import sqlite3

    cache = tmp_path / "cache"
    load_index(mini, cache_dir=cache)
    (old,) = cache.glob("*.sqlite")
    con = sqlite3.connect(old)
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    con.commit()
    con.close()
    (Path(mini.root) / "kernel" / "new.c").write_text("int brand_new(void)\n{\n}\n")
    idx = load_index(mini, cache_dir=cache)
    assert idx.has("brand_new") and not old.exists()
    assert [r[0] for r in idx.db.execute("SELECT value FROM meta WHERE key = 'schema'")] == [str(SCHEMA)]


def test_register_dump_macros_are_hashed_yet_found(mini: DirTree, tmp_path: Path):
    """A header of >= BULK_MACROS macros (an amdgpu asic_reg dump) is stored as name hashes:
    lookups by name still answer, with path and line; the rest of the file stays by name."""
    from backport.index import BULK_MACROS

    dump = Path(mini.root) / "include" / "asic_reg" / "gfx_sh_mask.h"
    dump.parent.mkdir(parents=True)
    dump.write_text("struct gfx_regs {\n\tint a;\n};\n"
                    + "".join(f"#define GFX_REG_{i}__FIELD_MASK 0x{i:x}\n" for i in range(BULK_MACROS + 5)))
    idx = load_index(mini, cache_dir=tmp_path / "cache")
    stats = idx.stats()
    assert stats["bulk"] == BULK_MACROS + 5 and stats == idx.stats_cached()
    assert idx.has("GFX_REG_7__FIELD_MASK") and not idx.has("GFX_REG_7__FIELD_MAS")
    (d,) = idx.defines("GFX_REG_7__FIELD_MASK")
    assert (d.path, d.line, d.kind) == ("include/asic_reg/gfx_sh_mask.h", 4 + 7, "macro")
    assert [x.kind for x in idx.defines("gfx_regs")] == ["struct"] and idx.members("a")
    assert idx.has("widget_register") and "GFX_REG_7__FIELD_MASK" not in idx.names()
    # an edit that drops the dump's macros drops their hashes too (update in place)
    del idx
    time.sleep(0.01)
    dump.write_text("struct gfx_regs {\n\tint a;\n};\n")
    (Path(mini.root) / "include" / "asic_reg" / "new.h").write_text("#define NEW_ONE 1\n")
    again = load_index(mini, cache_dir=tmp_path / "cache")
    assert not again.has("GFX_REG_7__FIELD_MASK") and again.stats()["bulk"] == 0 and again.has("NEW_ONE")


def test_similar_names_with_equal_scores_come_in_name_order_whatever_the_hash_seed():
    # rapidfuzz keeps its input's order among equal scores; the pool is a set, whose order
    # follows the hash seed: sorted, the suggestion is the same on every run
    from backport.index.query import TreeIndex

    class Rows:
        def execute(self, sql, args):
            return [("context_set_present",), ("context_clear_entry",), ("context_clear_present",)]

    fake = SimpleNamespace(db=Rows())
    got = TreeIndex.similar(fake, "context_clear_present", limit=2)
    assert [n for n, _ in got] == ["context_clear_entry", "context_set_present"]
