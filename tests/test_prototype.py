"""prototype-mismatch end to end: a header's prototype changed by the port, its definition in the
target (miniature trees, real pipeline, real index, real git for the CLI) left behind or not."""

from __future__ import annotations

import subprocess
from pathlib import Path

from test_deps import make_mbox
from test_index import write_tree

from backport.cli import main
from backport.ingest import parse_series_bytes
from backport.model import PortOptions, Severity
from backport.pipeline import port_series
from backport.prototype import signature

HDR = """\
#ifndef _XATTR_H
#define _XATTR_H
struct inode;
struct buffer_head;

int xattr_count(struct inode *);
int xattr_calc_init(struct inode *, struct buffer_head *,
\t\t    umode_t, int *, int *);
void xattr_flush(struct inode *inode);

#endif
"""
NEW_HDR = HDR.replace("int xattr_calc_init(struct inode *, struct buffer_head *,\n\t\t    umode_t, int *, int *);",
                      "int xattr_calc_init(struct inode *dir, umode_t mode,\n\t\t    int *want, int *credits);")
SRC = """\
#include "xattr.h"

int xattr_count(struct inode *inode)
{
\treturn 0;
}

int xattr_calc_init(struct inode *dir,
\t\t    struct buffer_head *dir_bh,
\t\t    umode_t mode,
\t\t    int *want,
\t\t    int *credits)
{
\t*want = 0;
\treturn xattr_count(dir);
}
"""
NEW_SRC = SRC.replace("\t\t    struct buffer_head *dir_bh,\n", "")
ASM_HDR = HDR.replace("void xattr_flush(struct inode *inode);", "void xattr_flush(struct inode *inode);\n"
                      "#define xattr_fast(x) ((x) + 1)")


def _port(tmp_path: Path, tree_files: dict[str, str], patches) -> list:  # noqa: ANN001
    tree = write_tree(tmp_path / "tree", tree_files)
    series = parse_series_bytes(make_mbox(patches).encode(), origin="series.mbox")
    results = port_series(series, tree, options=PortOptions(extra={"index-cache": str(tmp_path / "cache")}))
    return [f for r in results for f in r.findings if f.code == "prototype-mismatch"]


def test_signature_drops_names_annotations_and_const() -> None:
    assert signature("static inline int", "const struct inode *dir, umode_t mode, char name[16]") == \
        signature("int", "struct inode const *, umode_t, char *")[:1] + (("struct inode *", "umode_t", "char *"),)
    assert signature("int", "void") == ("int", ())
    assert signature("int", "void (*cb)(int x), unsigned long") == ("int", ("void ( * ) ( int )", "unsigned long"))


def test_header_only_prototype_change_warns_at_the_definition(tmp_path: Path) -> None:
    found = _port(tmp_path, {"fs/x/xattr.h": HDR, "fs/x/xattr.c": SRC},
                  [("change calc_init", {"fs/x/xattr.h": (HDR, NEW_HDR)})])
    assert len(found) == 1
    f = found[0]
    assert f.severity is Severity.WARNING
    assert f.message.startswith("fs/x/xattr.c:8: the definition of xattr_calc_init()")
    assert "struct buffer_head *" in f.message and "port the change to the definition" in f.hint


def test_definition_changed_by_the_same_patch_is_fine(tmp_path: Path) -> None:
    found = _port(tmp_path, {"fs/x/xattr.h": HDR, "fs/x/xattr.c": SRC},
                  [("change calc_init", {"fs/x/xattr.h": (HDR, NEW_HDR), "fs/x/xattr.c": (SRC, NEW_SRC)})])
    assert found == []


def test_definition_changed_by_a_later_patch_of_the_series_is_fine(tmp_path: Path) -> None:
    found = _port(tmp_path, {"fs/x/xattr.h": HDR, "fs/x/xattr.c": SRC},
                  [("header", {"fs/x/xattr.h": (HDR, NEW_HDR)}), ("source", {"fs/x/xattr.c": (SRC, NEW_SRC)})])
    assert found == []


def test_unchanged_prototype_in_context_is_fine(tmp_path: Path) -> None:
    # the definition already disagrees, but the patch only touches a neighbour line
    hdr = HDR.replace("void xattr_flush(struct inode *inode);", "void xattr_flush(struct inode *inode);\n"
                      "int xattr_size(int);")
    src = SRC + "\nint xattr_size(long n)\n{\n\treturn n;\n}\n"
    new = hdr.replace("void xattr_flush(struct inode *inode);", "void xattr_flush(struct inode *inode, int now);")
    src2 = src + "\nvoid xattr_flush(struct inode *inode, int now)\n{\n}\n"
    found = _port(tmp_path, {"fs/x/xattr.h": hdr, "fs/x/xattr.c": src2},
                  [("flush now", {"fs/x/xattr.h": (hdr, new)})])
    assert found == []


def test_function_without_a_c_definition_is_left_alone(tmp_path: Path) -> None:
    # declared for an assembly routine (defined in a .S file) and a macro: no C definition to compare
    hdr = ASM_HDR.replace("#endif", "asmlinkage void xattr_entry(void);\n#endif")
    new = hdr.replace("asmlinkage void xattr_entry(void);", "asmlinkage void xattr_entry(unsigned long flags);")
    found = _port(tmp_path, {"fs/x/xattr.h": hdr, "fs/x/xattr.c": SRC,
                             "arch/x86/entry/xattr.S": "SYM_FUNC_START(xattr_entry)\n\tret\nSYM_FUNC_END(xattr_entry)\n"},
                  [("entry flags", {"fs/x/xattr.h": (hdr, new)})])
    assert found == []


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo), *args],
                   check=True, capture_output=True)


def test_cli_check_fails_on_warning_for_a_git_target(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    root = tmp_path / "repo"
    write_tree(root, {"fs/x/xattr.h": HDR, "fs/x/xattr.c": SRC})
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    mbox = tmp_path / "s.mbox"
    mbox.write_text(make_mbox([("change calc_init", {"fs/x/xattr.h": (HDR, NEW_HDR)})]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    argv = ["check", str(mbox), "--onto", str(root), "--format", "json"]
    assert main([*argv, "--fail-on", "warning"]) == 1
    assert "prototype-mismatch" in capsys.readouterr().out
    assert main([*argv, "--fail-on", "error"]) == 0
    assert (root / "fs/x/xattr.h").read_text() == HDR  # the target is never modified without --apply
