"""The cache cap over every kind of entry: ``--verify build`` build directories and upstream
history caches are listed (kind column), counted and evicted least recently used first with
the indexes, and a build directory another process is preparing or building in is never
removed (real prepare_build/verify_port in real processes, real flocks, real make and gcc)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backport import cache
from backport.cli import main
from backport.model import Finding, Patch, Severity
from backport.series import parse_diff

needs_make = pytest.mark.skipif(shutil.which("make") is None or shutil.which("gcc") is None,
                                reason="needs make and gcc")

# a miniature Kbuild: defconfig/prepare write the output directory; the object rule waits for
# $(GO) when it is given (so a test can look at the cache while a build is under way)
MAKEFILE = """\
MAKEFLAGS += -rR
defconfig:
\t@mkdir -p $(O) && echo CONFIG_MINI=y > $(O)/.config
olddefconfig:
\t@test -f $(O)/.config
prepare:
\t@mkdir -p $(O)/include/generated && head -c 200000 /dev/zero > $(O)/include/generated/blob
drivers/mini/core.o: drivers/mini/core.c FORCE
\t@if [ -n "$(GO)" ]; then touch $(GO).started; while [ ! -f $(GO) ]; do sleep 0.05; done; fi
\t@mkdir -p $(O)/drivers/mini && gcc -c $< -o $(O)/$@
FORCE:
.PHONY: defconfig olddefconfig prepare FORCE
"""


pytestmark = pytest.mark.usefixtures("no_configured_cap")


@pytest.fixture(autouse=True)
def _default_cache_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the default cache: must stay empty


def mini_tree(root: Path) -> Path:
    for rel, text in {"Makefile": MAKEFILE, "drivers/mini/Makefile": "obj-y += core.o\n",
                      "drivers/mini/core.c": "int mini(void)\n{\n\treturn 0;\n}\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run_py(code: str, *args: str, wait: bool = True) -> subprocess.Popen[str]:
    """``code`` in another Python process (its flocks are that process's)."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    if wait:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
    return proc


PREPARE = ("import sys; from backport.verify import prepare_build; "
           "bd = prepare_build(sys.argv[1], 'x86_64', None, sys.argv[2]); print(bd.root, flush=True); "
           "sys.stdin.read() if len(sys.argv) > 3 else None")


def prepare_in_another_process(tree: Path, cdir: Path) -> Path:
    proc = run_py(PREPARE, str(tree), str(cdir), wait=False)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    return Path(out.strip())


def upstream_in_another_process(repo: Path, cdir: Path) -> Path:
    run_py("import sys; from backport.upstream import history_cache; "
           "c = history_cache(sys.argv[1], sys.argv[2]); c.put('base', 'k', 'v' * 100000)", str(repo), str(cdir))
    (f,) = (cdir / cache.UPSTREAM_DIR).glob("[!.]*.sqlite")
    return f


def git_repo(path: Path) -> Path:
    path.mkdir()
    (path / "Kconfig").write_text("config FOO\n\tbool \"foo\"\n")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"]):
        subprocess.run(["git", "-C", str(path), *args], check=True)
    return path


def set_used(entry: Path, when: float) -> None:
    use = cache.side_file(entry, cache.USE_SUFFIX)
    use.touch()
    os.utime(use, (when, when))


def fake_index(cdir: Path, name: str, size: int) -> Path:
    import sqlite3

    path = cdir / f"{name}.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    db.commit()
    db.close()
    with open(path, "ab") as fh:
        fh.truncate(size)
    return path


@needs_make
def test_build_dirs_and_upstream_caches_are_listed_counted_and_evicted_lru(tmp_path, capsys):
    cdir, now = tmp_path / "cache", time.time()
    tree = mini_tree(tmp_path / "tree")
    build = prepare_in_another_process(tree, cdir)  # that run is over: nobody holds it now
    assert build.parent == cdir / "build" and (build / "prepared.json").is_file()
    upstream = upstream_in_another_process(git_repo(tmp_path / "up"), cdir)
    index = fake_index(cdir, "idx", 150_000)
    set_used(build, now - 3000)
    set_used(upstream, now - 2000)
    set_used(index, now - 1000)

    entries = {e.kind: e for e in cache.list_entries(cdir)}
    assert set(entries) == {"index", "build", "upstream"}
    assert entries["build"].size > 200_000  # the prepared output, not the tree behind the farm's symlinks
    assert entries["build"].tree == f"tree:{tree}" and not entries["build"].in_use
    assert entries["upstream"].tree.startswith("git:") and entries["upstream"].size > 100_000
    assert main(["cache", "list", "--cache-dir", str(cdir)]) == 0
    out, err = capsys.readouterr()
    kinds = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert kinds == {build.name: "build", upstream.stem: "upstream", "idx": "index"}
    assert "3 entries (1 index, 1 build, 1 upstream)" in err
    assert main(["cache", "list", "--cache-dir", str(cdir), "--format", "json"]) == 0
    assert {e["kind"] for e in json.loads(capsys.readouterr().out)["entries"]} == {"index", "build", "upstream"}

    total = sum(e.size for e in entries.values())
    # the cap counts the build dir: just over what the other two take, it goes first (least recently used)
    assert cache.enforce_cap(cdir, total - entries["build"].size) == [build]
    assert not build.exists() and not cache.side_file(build, cache.USE_SUFFIX).exists()
    assert (tree / "drivers/mini/core.c").is_file() and (tree / "Makefile").is_file()  # the tree untouched
    assert cache.enforce_cap(cdir, entries["index"].size) == [upstream]  # then the upstream cache
    assert not upstream.exists() and index.exists()


@needs_make
def test_a_build_dir_being_prepared_or_built_in_is_never_evicted(tmp_path):
    cdir = tmp_path / "cache"
    tree = mini_tree(tmp_path / "tree")
    # 1. a process that prepared it and still runs (a triage worker) holds it
    proc = run_py(PREPARE, str(tree), str(cdir), "hold", wait=False)
    try:
        build = Path(proc.stdout.readline().strip())
        assert [e.in_use for e in cache.list_entries(cdir) if e.kind == "build"] == [True]
        assert cache.enforce_cap(cdir, 0) == []
        assert main(["cache", "prune", "--max", "0", "--cache-dir", str(cdir)]) == 0
        assert (build / "prepared.json").is_file()
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    # 2. a process building a port in it (its scratch slot) holds it for the build, though it
    #    never called prepare_build itself
    go = tmp_path / "go"
    code = ("import sys, json; from pathlib import Path; from backport.verify import BuildDir, verify_port; "
            "root = Path(sys.argv[1]); m = json.loads((root / 'prepared.json').read_text()); "
            "bd = BuildDir(str(root), m['tree'], m['arch'], '', m['config'], root.name); "
            "f = verify_port(bd, m['tree'], [('drivers/mini/core.c', 'int mini(void)\\n{\\n\\treturn 1;\\n}\\n')]); "
            "print([x.code for x in f])")
    env = dict(os.environ, GO=str(go))  # make reads GO from the environment
    proc = subprocess.Popen([sys.executable, "-c", code, str(build)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not Path(f"{go}.started").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        assert [e.in_use for e in cache.list_entries(cdir) if e.kind == "build"] == [True]
        assert cache.enforce_cap(cdir, 0) == []
        assert cache.prune(cdir, 0, schema="x")[0] == [] and (build / "prepared.json").is_file()
    finally:
        go.touch()
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip() == "[]"  # the build went through
    assert cache.enforce_cap(cdir, 0) == [build]  # nobody holds it now: evicted
    assert not build.exists() and (tree / "drivers/mini/core.c").read_text().endswith("return 0;\n}\n")


def test_prune_drops_a_build_dir_whose_prepare_never_finished_or_whose_tree_is_gone(tmp_path):
    cdir, old = tmp_path / "cache", time.time() - 2 * 86400
    failed = cdir / "build" / "aaaa"
    (failed / "farm").mkdir(parents=True)
    os.utime(failed, (old, old))
    gone = cdir / "build" / "bbbb"
    gone.mkdir()
    (gone / "prepared.json").write_text(json.dumps({"tree": str(tmp_path / "no-such-tree"), "arch": "x86_64"}))
    fresh = cdir / "build" / "cccc"  # a prepare under way (no prepared.json yet, recent)
    fresh.mkdir()
    orphan = cache.side_file(cdir / "build" / "dddd", cache.USE_SUFFIX)
    orphan.touch()
    removed, _ = cache.prune(cdir, None, schema="1")
    assert sorted(removed) == [failed, gone]
    assert fresh.is_dir() and not orphan.exists()


def test_kconfig_upstream_lookup_uses_the_ports_cache_dir(tmp_path):
    from backport.deps import _kconfig_upstream_git

    repo = git_repo(tmp_path / "up")
    cdir = tmp_path / "cache"
    files = parse_diff("diff --git a/x.c b/x.c\nindex 1234567..89abcde 100644\n--- a/x.c\n+++ b/x.c\n"
                       "@@ -1 +1,2 @@\n int a;\n+int b;\n")
    f = Finding("missing-kconfig", Severity.WARNING, "FOO: the target's Kconfig does not define CONFIG_FOO")
    out = _kconfig_upstream_git(f, Patch(subject="s", files=files), str(repo), [], cache_dir=str(cdir))
    assert any(e.startswith("upstream Kconfig") and e.endswith("config FOO") for e in out.evidence)
    assert [e.kind for e in cache.list_entries(cdir)] == ["upstream"]
    assert not (tmp_path / "xdg").exists()  # not the default ~/.cache
