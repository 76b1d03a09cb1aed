"""The index cache at fleet scale: a size cap with LRU eviction, in-use protection (another
process holding an index), ``backport cache list|prune`` and ``--cache-max``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backport import cache
from backport.cli import main
from backport.index import SCHEMA, load_index
from backport.target import DirTree

pytestmark = pytest.mark.usefixtures("no_configured_cap")


def fake_index(cdir: Path, name: str, size: int, used: float, *, schema: int = SCHEMA, root: str = "") -> Path:
    """A real sqlite file with a meta table, padded to ``size`` bytes, last used at ``used``."""
    cdir.mkdir(parents=True, exist_ok=True)
    path = cdir / f"{name}.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    db.executemany("INSERT INTO meta VALUES (?, ?)", [("schema", str(schema)), ("root", root or f"DirTree:{cdir}"),
                                                       ("key", f"dirs:{name}")])
    db.commit()
    db.close()
    with open(path, "ab") as fh:
        fh.truncate(size)
    use = path.with_name(f".{path.name}.use")
    use.touch()
    os.utime(use, (used, used))
    return path


def names(cdir: Path) -> list[str]:
    return sorted(p.stem for p in cdir.glob("[!.]*.sqlite"))


def test_parse_and_format_sizes():
    assert cache.parse_size("4G") == 4 << 30
    assert cache.parse_size("512m") == 512 << 20
    assert cache.parse_size("1.5GiB") == int(1.5 * (1 << 30))
    assert cache.parse_size("100000") == 100000
    assert cache.parse_size("unlimited") is None
    with pytest.raises(Exception, match="not a size"):
        cache.parse_size("lots")
    assert cache.format_size(490 << 20) == "490.0M"


def test_cap_comes_from_option_env_git_config_or_default(monkeypatch, tmp_path):
    assert cache.cache_max() == cache.DEFAULT_MAX == 4 << 30
    subprocess.run(["git", "config", "--global", "backport.cacheMax", "2G"], check=True)
    assert cache.cache_max() == 2 << 30
    monkeypatch.setenv(cache.ENV_MAX, "700M")
    assert cache.cache_max() == 700 << 20
    cache.configure("1G")
    assert cache.cache_max() == 1 << 30


def test_eviction_goes_least_recently_used_first(tmp_path):
    cdir, now = tmp_path / "c", time.time()
    for i, name in enumerate(("old", "mid", "new")):
        fake_index(cdir, name, 100_000, now - 3000 + i * 1000)
    assert cache.enforce_cap(cdir, 250_000) == [cdir / "old.sqlite"]
    assert names(cdir) == ["mid", "new"]
    assert not (cdir / ".old.sqlite.use").exists()
    assert cache.enforce_cap(cdir, 250_000) == []  # fits now
    cache.enforce_cap(cdir, 120_000, keep=[cdir / "mid.sqlite"])  # kept even though older
    assert names(cdir) == ["mid"]
    assert cache.enforce_cap(cdir, None) == []  # no cap


def test_an_index_another_process_holds_is_never_evicted(tmp_path):
    cdir, now = tmp_path / "c", time.time()
    held = fake_index(cdir, "held", 100_000, now - 5000)
    fake_index(cdir, "other", 100_000, now - 100)
    code = ("import sys, time; from pathlib import Path; from backport.cache import Hold; "
            "h = Hold(Path(sys.argv[1])); print('ready', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert [e.in_use for e in cache.list_entries(cdir) if e.path == held] == [True]
        assert cache.enforce_cap(cdir, 0) == [cdir / "other.sqlite"]
        assert names(cdir) == ["held"]
        removed, _ = cache.prune(cdir, 0, schema=str(SCHEMA))
        assert removed == [] and names(cdir) == ["held"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert cache.enforce_cap(cdir, 0) == [held]  # released: now it can go


def test_building_an_index_evicts_to_the_cap_but_not_the_one_in_use(tmp_path, monkeypatch):
    cdir = tmp_path / "cache"
    trees = []
    for name in ("a", "b", "c"):
        root = tmp_path / name
        (root / "kernel").mkdir(parents=True)
        (root / "kernel" / f"{name}.c").write_text(f"int {name}_fn(void)\n{{\n\treturn 0;\n}}\n")
        trees.append(DirTree(root))
    first = load_index(trees[0], cache_dir=cdir)
    size = sum(p.stat().st_size for p in cdir.glob("[!.]*.sqlite"))
    monkeypatch.setenv(cache.ENV_MAX, str(int(size * 1.5)))  # room for one index, not two
    second = load_index(trees[1], cache_dir=cdir)
    assert len(names(cdir)) == 2  # the first is still open here: kept over the cap
    del first
    third = load_index(trees[2], cache_dir=cdir)
    assert third.has("c_fn") and second.has("b_fn")
    trees_left = lambda: {e.tree.rsplit("/", 1)[1] for e in cache.list_entries(cdir)}  # noqa: E731
    assert trees_left() == {"b", "c"}  # a evicted (closed, least recently used); b is open here
    del second
    assert main(["cache", "prune", "--cache-dir", str(cdir)]) == 0  # the cap from the environment
    assert trees_left() == {"c"}


def test_prune_drops_stale_files_and_old_layouts(tmp_path, capsys):
    cdir, now = tmp_path / "c", time.time()
    fake_index(cdir, "current", 50_000, now)
    fake_index(cdir, "oldlayout", 50_000, now, schema=SCHEMA - 1)
    fake_index(cdir, "gone", 50_000, now, root=f"DirTree:{tmp_path / 'no-such-tree'}")
    stale = cdir / ".x.sqlite.123.tmp"
    stale.write_bytes(b"x" * 1000)
    os.utime(stale, (now - 2 * 86400, now - 2 * 86400))
    fresh = cdir / ".y.sqlite.456.tmp"  # a build under way
    fresh.write_bytes(b"x")
    orphan = cdir / ".vanished.sqlite.lock"
    orphan.touch()
    assert main(["cache", "prune", "--max", "unlimited", "--cache-dir", str(cdir)]) == 0
    err = capsys.readouterr().err
    assert names(cdir) == ["current"]
    assert not stale.exists() and fresh.exists() and not orphan.exists()
    assert "removed" in err and "freed" in err


def test_cache_list_shows_identity_tree_size_last_used_and_in_use(tmp_path, capsys):
    cdir, now = tmp_path / "c", time.time()
    fake_index(cdir, "older", 3 << 20, now - 7200, root="DirTree:/srv/trees/linux-6.1")
    newer = fake_index(cdir, "newer", 1 << 20, now, root="GitTree:/srv/trees/android-5.10")
    h = cache.hold(newer)
    assert main(["cache", "list", "--cache-dir", str(cdir)]) == 0
    out, err = capsys.readouterr()
    rows = out.splitlines()[1:]
    assert rows[0].startswith("newer") and "in use" in rows[0] and "/srv/trees/android-5.10" in rows[0]
    assert rows[1].startswith("older") and "3.0M" in rows[1] and "dirs:older" in rows[1] and "in use" not in rows[1]
    assert "2 entries (2 index, 0 build, 0 upstream), 4.0M" in err and "cap 4.0G" in err
    assert main(["cache", "list", "--cache-dir", str(cdir), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(e["file"], e["in_use"], e["identity"]) for e in data["entries"]] == [
        ("newer.sqlite", True, "dirs:newer"), ("older.sqlite", False, "dirs:older")]
    h.release()


def test_cache_max_option_and_bad_values(tmp_path, capsys):
    tree = tmp_path / "t"
    (tree / "kernel").mkdir(parents=True)
    (tree / "kernel" / "a.c").write_text("int a;\n")
    patch = tmp_path / "p.diff"
    patch.write_text("--- a/kernel/a.c\n+++ b/kernel/a.c\n@@ -1 +1,2 @@\n int a;\n+int b;\n")
    main(["check", str(patch), "--onto", str(tree), "--cache-max", "300M"])
    assert cache.cache_max() == 300 << 20
    assert main(["check", str(patch), "--onto", str(tree), "--cache-max", "huge"]) == 2
    assert "--cache-max 'huge' is not a size" in capsys.readouterr().err
    assert main(["cache", "prune", "--max", "x", "--cache-dir", str(tmp_path)]) == 2


def test_loading_a_cached_index_applies_a_lowered_cap(tmp_path, monkeypatch):
    cdir, now = tmp_path / "cache", time.time()
    root = tmp_path / "t"
    (root / "kernel").mkdir(parents=True)
    (root / "kernel" / "a.c").write_text("int a_fn(void)\n{\n\treturn 0;\n}\n")
    tree = DirTree(root)
    del_me = load_index(tree, cache_dir=cdir)
    del del_me
    fake_index(cdir, "stale", 200_000, now - 86400)
    monkeypatch.setenv(cache.ENV_MAX, "150K")
    idx = load_index(tree, cache_dir=cdir)
    assert idx.cached and idx.has("a_fn")
    assert "stale" not in names(cdir) and len(names(cdir)) == 1
