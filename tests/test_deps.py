"""Missing-dependency analysis on a miniature kernel tree: symbols, members, Kconfig, files, builds."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from test_index import MINI_TREE, write_tree

from backport.cli import main
from backport.deps import check_patch, check_series, find_needs, find_series_defs
from backport.ingest import parse_series_bytes
from backport.model import PortOptions, Series, Severity
from backport.target import DirTree


def make_mbox(patches: list[tuple[str, dict[str, tuple[str | None, str | None]]]]) -> str:
    """A git-format-patch style mbox; each patch is (subject, {path: (old text, new text)})."""
    out = []
    n = len(patches)
    for i, (subject, files) in enumerate(patches, 1):
        out.append(f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
                   f"From: Dev <dev@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
                   f"Subject: [PATCH {i}/{n}] {subject}\n\n{subject}.\n\nSigned-off-by: Dev <dev@example.org>\n---\n")
        for path, (old, new) in files.items():
            a = (old or "").splitlines(keepends=True)
            b = (new or "").splitlines(keepends=True)
            out.append(f"diff --git a/{path} b/{path}\n")
            if old is None:
                out.append("new file mode 100644\n")
            diff = list(difflib.unified_diff(a, b, "/dev/null" if old is None else f"a/{path}",
                                             f"b/{path}", n=3))
            out.append("".join(diff))
        out.append("-- \n2.40.0\n\n")
    return "".join(out)


def series_of(patches) -> Series:  # noqa: ANN001
    return parse_series_bytes(make_mbox(patches).encode(), origin="series.mbox")


@pytest.fixture
def tree(tmp_path: Path) -> DirTree:
    return write_tree(tmp_path / "tree", MINI_TREE)


@pytest.fixture
def opts(tmp_path: Path) -> PortOptions:
    return PortOptions(extra={"index-cache": str(tmp_path / "cache")})


CORE = MINI_TREE["drivers/widget/core.c"]


def _edit(text: str, after: str, new_lines: str) -> str:
    assert after in text
    return text.replace(after, after + new_lines, 1)


def codes(findings) -> list[tuple[str, str]]:  # noqa: ANN001
    return sorted((f.code, f.message.split(":")[0]) for f in findings)


def test_missing_helper_is_an_error_with_the_patch_line(tree: DirTree, opts: PortOptions):
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\twidget_sync_state(copy, WIDGET_BUSY);\n")
    s = series_of([("widget: sync state", {"drivers/widget/core.c": (CORE, new)})])
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    assert [(f.code, f.severity) for f in found] == [("missing-symbol", Severity.ERROR)]
    f = found[0]
    assert "widget_sync_state" in f.message
    assert f.ref is not None and f.ref.path == "series.mbox"
    assert f.evidence[0].endswith("+\twidget_sync_state(copy, WIDGET_BUSY);".replace("\t", "").replace("+", "+"))


def test_helper_defined_earlier_in_the_series_is_no_alarm(tree: DirTree, opts: PortOptions):
    hdr = MINI_TREE["include/linux/widget.h"]
    new_hdr = hdr + "void widget_sync_state(struct widget *w, enum widget_state s);\n#define WIDGET_MAX_ID 64\n"
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\twidget_sync_state(copy, WIDGET_BUSY);\n\tcopy->id %= WIDGET_MAX_ID;\n")
    s = series_of([("widget: add widget_sync_state", {"include/linux/widget.h": (hdr, new_hdr)}),
                   ("widget: use it", {"drivers/widget/core.c": (CORE, new)})])
    results = check_series(s, tree, options=opts)
    assert [len(fs) for _, fs in results] == [0, 0]
    # alone, the second patch needs both names
    alone = series_of([("widget: use it", {"drivers/widget/core.c": (CORE, new)})])
    found = check_patch(alone.patches[0], tree, series=alone, options=opts)
    assert {f.message.split(":")[0] for f in found} == {"widget_sync_state", "WIDGET_MAX_ID"}


def test_no_false_alarms_for_locals_comments_strings_and_known_names(tree: DirTree, opts: PortOptions):
    new = _edit(CORE, "\tcopy->id = w->id;\n", (
        "\t/* a comment naming not_a_symbol */\n"
        "\tu32 tmp = copy->id, other[2];\n"
        "\tstruct list_head *pos;\n"
        "\tconst char *msg = \"string_not_a_symbol\";\n"
        "\tlist_for_each_entry(pos, &w->node, next)\n"
        "\t\ttmp += other[0] + sizeof(*pos) + __builtin_expect(tmp, 0);\n"
        "\tif (IS_ENABLED(CONFIG_WIDGET) && copy->raw)\n"
        "\t\twidget_log(copy, \"%s\", msg);\n"
        "\tcopy->lo = tmp;\n"
        "\tgoto out;\n"))
    s = series_of([("widget: harmless", {"drivers/widget/core.c": (CORE, new)})])
    assert check_patch(s.patches[0], tree, series=s, options=opts) == ()


def test_members_kconfig_types_and_renamed_api(tree: DirTree, opts: PortOptions):
    new = _edit(CORE, "\tcopy->id = w->id;\n", (
        "\tcopy->generation++;\n"
        "\tif (IS_ENABLED(CONFIG_WIDGET_TRACE))\n"
        "\t\twidget_registr(copy);\n"
        "\tstruct widget_ops *ops = NULL;\n"))
    s = series_of([("widget: new things", {"drivers/widget/core.c": (CORE, new)})])
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    by_code = {f.code: f for f in found}
    assert set(by_code) == {"missing-symbol", "missing-kconfig", "renamed-symbol"}
    assert "CONFIG_WIDGET_TRACE" in by_code["missing-kconfig"].message
    renamed = by_code["renamed-symbol"]
    assert "widget_registr" in renamed.message and "widget_register" in renamed.message
    assert any("kernel/widget.c" in e for e in renamed.evidence)
    missing = sorted(f.message.split(":")[0] for f in found if f.code == "missing-symbol")
    assert missing == ["generation", "widget_ops"]


def test_kconfig_and_makefile_patches(tree: DirTree, opts: PortOptions):
    kc = MINI_TREE["drivers/widget/Kconfig"]
    mk = MINI_TREE["drivers/widget/Makefile"]
    new_kc = kc + "\nconfig WIDGET_FAST\n\tbool \"Fast path\"\n\tdepends on WIDGET_DRV && HAVE_FAST_WIDGETS\n\tselect CRC32\n"
    new_mk = mk + "wdrv-$(CONFIG_WIDGET_FAST) += fast.o\nobj-$(CONFIG_WIDGET_DRV) += extra.o\nccflags-y += $(WIDGET_CFLAGS)\n"
    s = series_of([("widget: fast path", {"drivers/widget/Kconfig": (kc, new_kc), "drivers/widget/Makefile": (mk, new_mk)})])
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    got = codes(found)
    assert ("missing-kconfig", "CONFIG_HAVE_FAST_WIDGETS") in got
    assert ("missing-file", "drivers/widget/fast.o") in got
    assert any(c == "missing-file" and "extra.o" in m for c, m in got)
    assert any(c == "missing-symbol" and "WIDGET_CFLAGS" in m for c, m in got)
    assert len(found) == 4  # WIDGET_FAST, WIDGET_DRV and CRC32 are known
    # the sources arriving in the same series silence the object findings
    s2 = series_of([("widget: fast path", {"drivers/widget/Kconfig": (kc, new_kc), "drivers/widget/Makefile": (mk, new_mk),
                                           "drivers/widget/fast.c": (None, "int wdrv_fast;\n"),
                                           "drivers/widget/extra.c": (None, "int wdrv_extra;\n")})])
    assert not [f for f in check_patch(s2.patches[0], tree, series=s2, options=opts) if f.code == "missing-file"]


def test_assembly_labels_and_asm_offsets(tree: DirTree, opts: PortOptions):
    entry = MINI_TREE["arch/arm64/kernel/entry.S"]
    new = _edit(entry, "\tbl do_notify_resume\n", "\tbl do_notify_resume\n\tldr x1, [sp, #S_LR]\n\tbl ret_fast\n"
                "\tbl arm64_new_hook\n")
    s = series_of([("arm64: entry", {"arch/arm64/kernel/entry.S": (entry, new)})])
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    assert sorted(f.message.split(":")[0] for f in found) == ["S_LR", "arm64_new_hook"]
    off = MINI_TREE["arch/arm64/kernel/asm-offsets.c"]
    new_off = off.replace("\treturn 0;", "\tDEFINE(S_LR, offsetof(struct pt_regs, regs[30]));\n\treturn 0;")
    s2 = series_of([("arm64: S_LR", {"arch/arm64/kernel/asm-offsets.c": (off, new_off)}),
                    ("arm64: entry", {"arch/arm64/kernel/entry.S": (entry, new)})])
    found2 = check_patch(s2.patches[1], tree, series=s2, options=opts)
    assert [f.message.split(":")[0] for f in found2] == ["arm64_new_hook"]


def test_missing_and_moved_files(tree: DirTree, opts: PortOptions):
    old = "int legacy(void)\n{\n\treturn 0;\n}\n"
    s = series_of([("gone", {"drivers/gone/legacy.c": (old, old.replace("0;", "1;"))})])
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    assert [f.code for f in found] == ["missing-file"] and "whole file is a prerequisite" in found[0].message
    # kernel/widget.c moved to kernel/widgets/widget.c in the target: found by its name and functions
    base = Path(tree.root)
    (base / "kernel/widgets").mkdir()
    (base / "kernel/widget.c").rename(base / "kernel/widgets/widget.c")
    moved_tree = DirTree(base)
    w = MINI_TREE["kernel/widget.c"]
    s2 = series_of([("widget: tweak", {"kernel/widget.c": (w, w.replace("w->id = 1;", "w->id = 2;"))})])
    found2 = check_patch(s2.patches[0], moved_tree, series=s2, options=opts)
    assert [f.code for f in found2] == ["missing-file"]
    assert "kernel/widgets/widget.c" in found2[0].message


def test_not_built_under_vendor_config(tree: DirTree, tmp_path: Path):
    cfg = tmp_path / "vendor.config"
    cfg.write_text("CONFIG_WIDGET=y\n# CONFIG_WIDGET_DRV is not set\n")
    options = PortOptions(config=str(cfg), extra={"index-cache": str(tmp_path / "cache")})
    new = CORE.replace("return -12;", "return -ENOMEM_LIKE;").replace("-ENOMEM_LIKE", "-12 - 0")
    s = series_of([("widget: drv", {"drivers/widget/core.c": (CORE, new)})])
    found = check_patch(s.patches[0], tree, series=s, options=options)
    assert [(f.code, f.severity) for f in found] == [("not-built", Severity.NOTE)]
    assert "CONFIG_WIDGET_DRV" in found[0].message
    assert found[0].evidence == ("drivers/widget/Makefile:1: obj-$(CONFIG_WIDGET_DRV) += wdrv.o",)


def test_find_needs_and_series_defs_kinds():
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\tfoo_call(copy->bar, struct_name_x);\n\tstruct baz *b;\n")
    s = series_of([("x", {"drivers/widget/core.c": (CORE, new)})])
    needs = {(n.name, n.kind) for n in find_needs(s.patches[0])}
    assert {("foo_call", "call"), ("bar", "member"), ("struct_name_x", "name"), ("baz", "tag")} <= needs
    defs = find_series_defs(s.patches)
    assert "b" in defs.names and "drivers/widget/core.c" in defs.files


def test_cli_deps_text_and_json(tree: DirTree, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\twidget_sync_state(copy);\n")
    mbox = tmp_path / "s.mbox"
    mbox.write_text(make_mbox([("widget: sync", {"drivers/widget/core.c": (CORE, new)})]))
    assert main(["deps", str(mbox), "--onto", tree.root]) == 1
    out = capsys.readouterr().out
    assert "error: missing-symbol: widget_sync_state: function or macro" in out
    assert f"{mbox}:" in out
    assert main(["deps", str(mbox), "--onto", tree.root, "--format", "json", "--ignore", "missing-symbol"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["patches"][0]["findings"] == []
    bad = tmp_path / "bad.config"
    bad.write_text("garbage\n")
    assert main(["deps", str(mbox), "--onto", tree.root, "--config", str(bad)]) == 2
    assert f"{bad}:1: error:" in capsys.readouterr().err


def test_enumerators_added_inside_an_existing_enum(tree: DirTree, opts: PortOptions):
    hdr = MINI_TREE["include/linux/widget.h"]
    new_hdr = hdr.replace("\tWIDGET_BUSY = 2,\n", "\tWIDGET_BUSY = 2,\n\tWIDGET_SLEEPING, /* new */\n\tWIDGET_DEAD = 7,\n")
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\tcopy->id = WIDGET_SLEEPING + WIDGET_DEAD;\n")
    s = series_of([("widget: states", {"include/linux/widget.h": (hdr, new_hdr), "drivers/widget/core.c": (CORE, new)})])
    assert check_patch(s.patches[0], tree, series=s, options=opts) == ()


def test_lazy_index_grows_with_the_series(tree: DirTree, tmp_path: Path):
    opts = PortOptions(extra={"deps-index": "lazy"})
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\twidget_sync_state(copy);\n\tdefault_widget = copy;\n")
    fork = MINI_TREE["kernel/fork.c"]
    s = series_of([("widget: sync", {"drivers/widget/core.c": (CORE, new)}),
                   ("fork: count", {"kernel/fork.c": (fork, fork.replace("return nr_threads;", "return nr_threads + 1;"))})])
    (_, first), (_, second) = check_series(s, tree, options=opts)
    # the partial index holds include/ (default_widget's extern) and drivers/widget/, not kernel/
    assert [(f.message.split(":")[0], f.severity) for f in first] == [("widget_sync_state", Severity.WARNING)]
    assert first[0].message.endswith("(partial index)")
    assert second == ()
    from backport.deps import get_index

    idx = get_index(tree, opts)
    assert idx.partial and idx.has_file("kernel/fork.c") and idx.has_file("include/linux/widget.h")
    assert not idx.has_file("arch/arm64/kernel/entry.S")


def test_member_checked_against_the_variables_own_struct(tree: DirTree, opts: PortOptions):
    # "next" is a member of struct list_head, not of struct widget: the any-struct check passes,
    # tree-sitter on the target function (named by the hunk header) knows w is a struct widget
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\tw->next = NULL;\n\tw->node.next = NULL;\n\tcopy->id = 3;\n")
    text = make_mbox([("widget: next", {"drivers/widget/core.c": (CORE, new)})])
    text = text.replace(" @@\n", " @@ static int wdrv_probe(struct widget *w)\n")
    s = parse_series_bytes(text.encode(), origin="series.mbox")
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    assert [f.message for f in found] == [
        "next: struct member not in struct widget of the target (w is a struct widget)"]
    assert found[0].evidence[1].startswith("include/linux/widget.h:")
    # the series adding the member to struct widget first silences it
    hdr = MINI_TREE["include/linux/widget.h"]
    s2 = parse_series_bytes(make_mbox([
        ("widget: add next", {"include/linux/widget.h": (hdr, hdr.replace("\tu32 id;\n", "\tu32 id;\n\tvoid *next;\n"))}),
    ]).encode() + text.replace("[PATCH 1/1]", "[PATCH 2/2]").encode(), origin="s2.mbox")
    assert check_patch(s2.patches[-1], tree, series=s2, options=opts) == ()


def test_added_includes_must_exist(tree: DirTree, opts: PortOptions):
    new = CORE.replace("#include <linux/slab.h>\n", "#include <linux/slab.h>\n#include <linux/cleanup.h>\n"
                       "#include <linux/mod/widget.h>\n#include \"core_internal.h\"\n#include <stdarg.h>\n"
                       "#include <linux/list.h>\n#include \"../widget/Kconfig\"\n")
    s = series_of([("widget: includes", {"drivers/widget/core.c": (CORE, new)})])
    found = {f.message.split(":")[0]: f for f in check_patch(s.patches[0], tree, series=s, options=opts)}
    assert set(found) == {"<linux/cleanup.h>", "<linux/mod/widget.h>", '"core_internal.h"'}
    assert found["<linux/cleanup.h>"].severity is Severity.ERROR
    moved = found["<linux/mod/widget.h>"]
    assert moved.severity is Severity.WARNING and "include/linux/widget.h" in moved.message
    # a header the series adds is no finding
    s2 = series_of([("widget: includes", {"drivers/widget/core.c": (CORE, new),
                                          "drivers/widget/core_internal.h": (None, "#define X 1\n"),
                                          "include/linux/cleanup.h": (None, "#define guard(x) x\n")})])
    left = {f.message.split(":")[0] for f in check_patch(s2.patches[0], tree, series=s2, options=opts)}
    assert left == {"<linux/mod/widget.h>"}


def test_token_pasted_accessors_and_feature_tests(tree: DirTree, tmp_path: Path):
    files = dict(MINI_TREE)
    files["fs/btrfs/accessors.h"] = ("#define BTRFS_SETGET_FUNCS(name, type, member, bits) \\\n"
                                     "static inline u64 btrfs_##name(const type *s) { return s->member; }\n"
                                     "BTRFS_SETGET_FUNCS(root_ref_name_len, struct btrfs_root_ref, name_len, 16);\n")
    t = write_tree(tmp_path / "t2", files)
    opts = PortOptions(extra={"index-cache": str(tmp_path / "cache2")})
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\tcopy->id = btrfs_root_ref_name_len(copy);\n"
                "#if defined(CONFIG_WIDGET) && \\\n\t__has_attribute(btf_type_tag) && NOT_A_SYMBOL\n#endif\n")
    s = series_of([("x", {"drivers/widget/core.c": (CORE, new)})])
    assert check_patch(s.patches[0], t, series=s, options=opts) == ()


def test_plain_upstream_tree_says_where_the_missing_piece_is(tree: DirTree, tmp_path: Path):
    files = dict(MINI_TREE)
    files["include/linux/widget.h"] += "void widget_sync_state(struct widget *w);\n"
    files["kernel/Kconfig"] += "\nconfig WIDGET_TRACE\n\tbool \"trace\"\n"
    up = write_tree(tmp_path / "upstream", files)
    options = PortOptions(upstream=up.root, extra={"index-cache": str(tmp_path / "cache")})
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\twidget_sync_state(copy);\n\tif (IS_ENABLED(CONFIG_WIDGET_TRACE))\n"
                "\t\tcopy->id = 0;\n\tother_missing(copy);\n")
    s = series_of([("widget: sync", {"drivers/widget/core.c": (CORE, new)})])
    found = {f.message.split(":")[0]: f for f in check_patch(s.patches[0], tree, series=s, options=options)}
    assert set(found) == {"widget_sync_state", "CONFIG_WIDGET_TRACE", "other_missing"}
    assert found["widget_sync_state"].evidence[-1].startswith("upstream include/linux/widget.h:")
    assert found["widget_sync_state"].hint.startswith("upstream defines it at include/linux/widget.h:")
    assert found["CONFIG_WIDGET_TRACE"].evidence[-1].startswith("upstream kernel/Kconfig:")
    assert not any(e.startswith("upstream") for e in found["other_missing"].evidence)


def test_moved_file_found_by_what_its_hunks_hold(tree: DirTree, opts: PortOptions):
    # no hunk header names a function and the file name changed: the pre-image's definitions
    # (widget_old_helper, sys_widget_ctl) point at the file that holds them now
    base = Path(tree.root)
    (base / "kernel/widget.c").rename(base / "kernel/gadget_core.c")
    w = MINI_TREE["kernel/widget.c"]
    s = series_of([("widget: tweak", {"kernel/widget.c": (w, w.replace("\treturn w->id;", "\treturn w->id + 1;"))})])
    (f,) = [f for f in check_patch(s.patches[0], DirTree(base), series=s, options=opts) if f.code == "missing-file"]
    assert f.message.endswith("moved or renamed to kernel/gadget_core.c")
    assert any("pre-image" in e for e in f.evidence)


def test_linker_input_sections_are_no_symbols(tree: DirTree, opts: PortOptions, tmp_path: Path):
    files = dict(MINI_TREE)
    lds = ("#define MCOUNT_REC()\t\t\t\t\t\t\\\n\t\t\tKEEP(*(__mcount_loc))\t\t\t\\\n\n")
    files["include/asm-generic/vmlinux.lds.h"] = lds
    t = write_tree(tmp_path / "t3", files)
    new_lds = lds.replace("KEEP(*(__mcount_loc))\t\t\t\\\n", "KEEP(*(__mcount_loc))\t\t\t\\\n"
                          "\t\t\tKEEP(*(__patchable_function_entries))\t\\\n\t\t\tFTRACE_NEW_SYM\t\\\n")
    s = series_of([("lds", {"include/asm-generic/vmlinux.lds.h": (lds, new_lds)})])
    found = check_patch(s.patches[0], t, series=s, options=PortOptions(extra={"index-cache": str(tmp_path / "c3")}))
    assert [f.message.split(":")[0] for f in found] == ["FTRACE_NEW_SYM"]


def test_renamed_kconfig_symbol_is_hinted(tree: DirTree, opts: PortOptions):
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\tif (IS_ENABLED(CONFIG_WIDGET_DRIVER))\n\t\tcopy->id = 0;\n")
    s = series_of([("widget: cfg", {"drivers/widget/core.c": (CORE, new)})])
    (f,) = check_patch(s.patches[0], tree, series=s, options=opts)
    assert f.code == "missing-kconfig" and f.message.startswith("CONFIG_WIDGET_DRIVER:")
    assert f.hint == "the target has CONFIG_WIDGET_DRV (drivers/widget/Kconfig:1); renamed?"


def test_member_of_a_member_is_checked_against_that_members_struct(tree: DirTree, opts: PortOptions):
    # w->node is a struct list_head (declared so in struct widget): "id" is a member of struct widget,
    # not of list_head
    new = _edit(CORE, "\tcopy->id = w->id;\n", "\tw->node.id = 3;\n\tw->node.prev = NULL;\n\tcopy->id = w->id;\n")
    text = make_mbox([("widget: node id", {"drivers/widget/core.c": (CORE, new)})])
    text = text.replace(" @@\n", " @@ static int wdrv_probe(struct widget *w)\n")
    s = parse_series_bytes(text.encode(), origin="series.mbox")
    found = check_patch(s.patches[0], tree, series=s, options=opts)
    assert [f.message for f in found] == [
        "id: struct member not in struct list_head of the target (w->node is a struct list_head)"]
