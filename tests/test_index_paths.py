"""Target index: file names that are not UTF-8 (bytes kept through surrogateescape) never crash it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from backport.index import SCHEMA, find_cached_index, load_index
from backport.ingest import load_series
from backport.model import Status
from backport.pipeline import port_series
from backport.target import DirTree, load_tree

BAD = b"drivers/y\xd4.c"  # an ISO-8859-1 "Ô" byte: not UTF-8
BAD_STR = os.fsdecode(BAD)  # "drivers/y\udcd4.c"


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "drivers").mkdir(parents=True)
    (root / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n")
    (root / "drivers" / "x.c").write_text("int a;\nint xfn(void)\n{\n\treturn 0;\n}\n")
    (root / "drivers" / "Makefile").write_bytes(b"obj-$(CONFIG_Y) += y\xd4.o\n")
    with open(os.path.join(os.fsencode(root), BAD), "wb") as fh:
        fh.write(b"int yfn(void)\n{\n\treturn 1;\n}\n")
    return root


@pytest.mark.skipif(not hasattr(os, "fork") or os.name != "posix", reason="byte file names are POSIX")
def test_index_holds_a_non_utf8_file_name(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    cache = tmp_path / "cache"
    tree = DirTree(root)
    assert BAD_STR in set(tree.iter_paths())
    idx = load_index(tree, cache_dir=cache)
    assert idx.has_file(BAD_STR)
    assert [d.path for d in idx.defines("yfn")] == [BAD_STR]
    assert [d.name for d in idx.file_definitions(BAD_STR)] == ["yfn"]
    assert idx.paths_named("y\udcd4.c") == [BAD_STR]
    assert idx.paths_named("x.c") == ["drivers/x.c"]
    # the Kbuild line that names it comes back with its path decoded
    assert [v.path for v in idx.makefile_vars("obj-*")] == ["drivers/Makefile"]
    # the cache file is found again and answers the same
    assert find_cached_index(tree, cache_dir=cache) is not None
    again = load_index(tree, cache_dir=cache)
    assert again.cached and [d.path for d in again.defines("yfn")] == [BAD_STR]
    # an edit in place is picked up by refresh through the same path encoding
    with open(os.path.join(os.fsencode(root), BAD), "ab") as fh:
        fh.write(b"int yfn2(void);\n")
    assert again.refresh([BAD_STR]) == [BAD_STR]
    assert [d.path for d in again.defines("yfn2")] == [BAD_STR]


def test_paths_are_blobs_in_a_versioned_layout(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "kernel").mkdir(parents=True)
    (root / "kernel" / "a.c").write_text("int afn(void);\n")
    idx = load_index(DirTree(root), cache_dir=tmp_path / "cache")
    assert SCHEMA >= 8
    assert idx.db.execute("SELECT typeof(path) FROM files").fetchall() == [("blob",)]
    assert [r[0] for r in idx.db.execute("SELECT value FROM meta WHERE key = 'schema'")] == [str(SCHEMA)]


def test_an_older_layout_is_dropped_when_the_directory_changes(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "kernel").mkdir(parents=True)
    (root / "kernel" / "a.c").write_text("int afn(void);\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    old = cache / "0123456789abcdef01234567.sqlite"  # a schema-7 file of the same directory
    con = sqlite3.connect(old)
    con.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    con.executemany("INSERT INTO meta VALUES (?, ?)", [("schema", "7"), ("root", f"DirTree:{root}")])
    con.commit()
    con.close()
    idx = load_index(DirTree(root), cache_dir=cache)
    assert [d.path for d in idx.defines("afn")] == ["kernel/a.c"]
    assert not old.exists()


@pytest.mark.skipif(os.name != "posix", reason="byte file names are POSIX")
def test_port_with_non_utf8_names_in_tree_and_patch(tmp_path: Path, monkeypatch) -> None:
    """The fuzzer's crash (exit 3): a tree holding such a name, a patch naming one."""
    root = _tree(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    plain = tmp_path / "p.patch"
    plain.write_text("diff --git a/drivers/x.c b/drivers/x.c\n--- a/drivers/x.c\n+++ b/drivers/x.c\n"
                     "@@ -1 +1 @@\n-int a;\n+int b;\n")
    named = tmp_path / "q.patch"
    named.write_bytes(b"diff --git a/drivers/z\xd4.c b/drivers/z\xd4.c\n--- a/drivers/z\xd4.c\n"
                      b"+++ b/drivers/z\xd4.c\n@@ -1 +1 @@\n-int a;\n+int b;\n")
    series = load_series([str(plain), str(named)])
    assert [p.files[0].path for p in series.patches] == ["drivers/x.c", "drivers/z\udcd4.c"]
    first, second = port_series(series, load_tree(str(root), None))
    assert first.status is Status.CLEAN
    assert second.status is Status.BLOCKED  # the file is absent: unplaced, and said so
    assert any("z\udcd4.c" in f.message or (f.ref and "z\udcd4.c" in f.ref.path) for f in second.findings)
