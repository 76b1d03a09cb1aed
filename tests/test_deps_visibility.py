"""missing-symbol for names the target defines only inside another .c file (a static function or
variable, a .c file's own macro): the patched file cannot see them (miniature trees, real index,
real pipeline, real git for the CLI)."""

from __future__ import annotations

from pathlib import Path

from test_deps import make_mbox, series_of
from test_index import write_tree
from test_prototype import _git

from backport.cli import main
from backport.deps import check_patch
from backport.ingest import parse_series_bytes
from backport.model import PortOptions, Severity

HDR = "#define WIDGET_SHARED 4\nint widget_public(int x);\n"
HELPER = """\
#include <linux/widget.h>

#define WIDGET_LOCAL 3
static DEFINE_SPINLOCK(widget_lock);

static inline int widget_helper(int x)
{
\treturn x + WIDGET_LOCAL;
}

int widget_public(int x)
{
\treturn widget_helper(x);
}
"""
CORE = """\
#include <linux/widget.h>

int widget_run(int x)
{
\tint y = x;

\treturn y;
}
"""
ADDED = "\ty += widget_public(x) + WIDGET_SHARED;\n"
HIDDEN = "\tspin_lock(&widget_lock);\n\ty += widget_helper(x);\n\ty *= WIDGET_LOCAL;\n"
TREE = {"include/linux/widget.h": HDR, "drivers/widget/helper.c": HELPER, "drivers/widget/core.c": CORE,
        "include/linux/spinlock.h": "#define DEFINE_SPINLOCK(x) int x\nvoid spin_lock(int *l);\n"}


def _new(lines: str) -> str:
    return CORE.replace("\tint y = x;\n", "\tint y = x;\n" + lines)


def _found(tmp_path: Path, patches) -> list:  # noqa: ANN001
    tree = write_tree(tmp_path / "tree", TREE)
    s = series_of(patches)
    opts = PortOptions(extra={"index-cache": str(tmp_path / "cache")})
    return [f for p in s.patches for f in check_patch(p, tree, series=s, options=opts)]


def test_names_only_another_c_file_defines_are_missing(tmp_path: Path) -> None:
    found = _found(tmp_path, [("use", {"drivers/widget/core.c": (CORE, _new(ADDED + HIDDEN))})])
    assert sorted(f.message.split(":")[0] for f in found) == ["WIDGET_LOCAL", "widget_helper", "widget_lock"]
    assert all(f.code == "missing-symbol" and f.severity is Severity.WARNING for f in found)
    f = next(f for f in found if f.message.startswith("widget_helper"))
    assert "only inside other .c files" in f.message
    assert "drivers/widget/helper.c:6: function widget_helper (static)" in f.evidence


def test_names_a_header_or_a_non_static_definition_gives_are_known(tmp_path: Path) -> None:
    assert _found(tmp_path, [("use", {"drivers/widget/core.c": (CORE, _new(ADDED))})]) == []


def test_the_series_making_it_visible_is_fine(tmp_path: Path) -> None:
    shared = HELPER.replace("static inline int widget_helper", "int widget_helper")
    hdr = HDR + "int widget_helper(int x);\n"
    found = _found(tmp_path, [("export", {"drivers/widget/helper.c": (HELPER, shared), "include/linux/widget.h": (HDR, hdr)}),
                              ("use", {"drivers/widget/core.c": (CORE, _new("\ty += widget_helper(x);\n"))})])
    assert found == []


def test_the_file_itself_may_use_its_own_static_names(tmp_path: Path) -> None:
    new = HELPER.replace("\treturn widget_helper(x);\n", "\tspin_lock(&widget_lock);\n\treturn widget_helper(x);\n")
    assert _found(tmp_path, [("lock", {"drivers/widget/helper.c": (HELPER, new)})]) == []


def test_cli_check_fails_on_warning_for_a_git_target(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    root = tmp_path / "repo"
    write_tree(root, TREE)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    mbox = tmp_path / "s.mbox"
    mbox.write_text(make_mbox([("use", {"drivers/widget/core.c": (CORE, _new("\ty += widget_helper(x);\n"))})]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    argv = ["check", str(mbox), "--onto", str(root), "--format", "json"]
    assert main([*argv, "--fail-on", "warning"]) == 1
    assert "only inside other .c files" in capsys.readouterr().out
    assert main([*argv, "--fail-on", "error"]) == 0
    assert (root / "drivers/widget/core.c").read_text() == CORE


# ------------------------------------------------------------------ typed members

SIG_H = """\
#define __SIGINFO struct { int si_signo; int si_code; }
struct kernel_siginfo {
\t__SIGINFO;
};
struct compat_siginfo {
\tint si_code;
};
struct pipe_info {
\tint ring_size;
};
#define head_alias ring_size
"""
SIG_C = """\
#include <linux/sig.h>

int sig_run(struct kernel_siginfo *info, struct pipe_info *pipe)
{
\tint y = 0;

\treturn y;
}
"""
OTHER_C = "#define mlock 1\nlong mlock(long start)\n{\n\treturn start;\n}\n"


def _members(tmp_path: Path, lines: str) -> list[str]:
    tree = write_tree(tmp_path / "tree", {"include/linux/sig.h": SIG_H, "kernel/sig.c": SIG_C, "mm/mlock.c": OTHER_C})
    new = SIG_C.replace("\tint y = 0;\n", "\tint y = 0;\n" + lines)
    text = make_mbox([("m", {"kernel/sig.c": (SIG_C, new)})]).replace(
        " @@\n", " @@ int sig_run(struct kernel_siginfo *info, struct pipe_info *pipe)\n")
    s = parse_series_bytes(text.encode(), origin="s.mbox")
    opts = PortOptions(extra={"index-cache": str(tmp_path / "cache")})
    return [f.message for f in check_patch(s.patches[0], tree, series=s, options=opts)]


def test_member_a_body_macro_declares_is_known(tmp_path: Path) -> None:
    assert _members(tmp_path, "\ty = info->si_code + pipe->ring_size + pipe->head_alias;\n") == []


def test_member_named_like_a_function_or_another_files_macro_is_still_checked(tmp_path: Path) -> None:
    # mm/mlock.c's mlock() and its file-local macro alias no member of struct pipe_info
    assert _members(tmp_path, "\ty = pipe->mlock;\n") == [
        "mlock: struct member not in struct pipe_info of the target (pipe is a struct pipe_info)"]
