"""The git am hook end to end: the shipped deps and kb checks (no stand-ins) inside a real
``git am`` on a miniature kernel-like repo, in block and warn mode.

The patches are made with ``git format-patch`` from commits on a scratch branch, so git am
applies exactly what a porter would feed it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_hook import git

from backport.hook import install_hooks, pre_patch_tree
from backport.series import parse_diff

FOO_C = """\
#include <linux/helper.h>

int helper_one(int x)
{
\treturn x + 1;
}

int foo_probe(int x)
{
\tint ret = 0;

\tret = helper_one(x);
\treturn ret;
}
"""

FILES = {
    "Makefile": "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n",
    "include/linux/helper.h": "#ifndef _LINUX_HELPER_H\n#define _LINUX_HELPER_H\nint helper_one(int x);\n#endif\n",
    "drivers/foo/Makefile": "obj-y += foo.o\n",
    "drivers/foo/foo.c": FOO_C,
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the hook's index cache stays in the test's dir
    return e


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "linux"
    for rel, text in FILES.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "init", "-q", "-b", "main")
    for k, v in (("user.name", "Porter Person"), ("user.email", "porter@example.org"), ("commit.gpgsign", "false")):
        git(path, "config", k, v)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "linux 6.1")
    return path


def make_patches(repo: Path, out: Path, *edits: tuple[str, dict[str, str]]) -> list[Path]:
    """Commit each (subject, {path: new text}) on a scratch branch, format-patch them, and go back."""
    git(repo, "checkout", "-q", "-b", "upstream")
    for subject, files in edits:
        for rel, text in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", subject)
    out.mkdir(exist_ok=True)
    names = git(repo, "format-patch", "-q", f"-{len(edits)}", "-o", str(out)).stdout.split()
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "upstream")
    return [Path(n) for n in sorted(names)] if names else sorted(out.glob("*.patch"))


def calls(name: str) -> str:
    return FOO_C.replace("\treturn ret;\n}", f"\tret += {name}(ret);\n\treturn ret;\n}}")


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def last_line(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "log", "-1", "--format=%B", rev).stdout.rstrip().splitlines()[-1]


def test_block_refuses_a_call_to_a_function_nobody_defines(repo, tmp_path, env):
    (patch,) = make_patches(repo, tmp_path / "p", ("foo: call helper_two", {"drivers/foo/foo.c": calls("helper_two")}))
    install_hooks(str(repo), mode="block")
    before = head(repo)
    r = git(repo, "am", str(patch), env=env, check=False)
    assert r.returncode != 0
    assert "error: missing-symbol: helper_two" in r.stderr
    assert "stopping git am: 1 finding(s) at or above error in 'foo: call helper_two'" in r.stderr
    assert head(repo) == before  # nothing was committed
    git(repo, "am", "--abort")
    assert head(repo) == before and "helper_two" not in (repo / "drivers/foo/foo.c").read_text()


def test_warn_applies_and_records_the_finding(repo, tmp_path, env):
    (patch,) = make_patches(repo, tmp_path / "p", ("foo: call helper_two", {"drivers/foo/foo.c": calls("helper_two")}))
    install_hooks(str(repo), mode="warn")
    git(repo, "config", "backport.hookAmend", "note")
    before = head(repo)
    r = git(repo, "am", str(patch), env=env)
    assert "error: missing-symbol: helper_two" in r.stderr and "stopping" not in r.stderr
    assert git(repo, "rev-parse", "HEAD~1").stdout.strip() == before
    msg = git(repo, "log", "-1", "--format=%B").stdout
    assert "error: missing-symbol: helper_two" in msg
    assert last_line(repo) == "Backport-checked: backport 0.1.0 (1 finding)"


def test_block_lets_clean_patches_through(repo, tmp_path, env):
    """A call to what the target defines, a function a patch defines and calls in one go, a new
    file, and a call to what an earlier patch of the same git am run added: no finding."""
    helper_h = FILES["include/linux/helper.h"].replace("#endif", "int helper_two(int x);\n#endif")
    defined = FOO_C.replace("int foo_probe", "int helper_two(int x)\n{\n\treturn x * 2;\n}\n\nint foo_probe")
    patches = make_patches(
        repo, tmp_path / "p",
        ("foo: call helper_one twice", {"drivers/foo/foo.c": calls("helper_one")}),
        ("foo: add helper_two", {"drivers/foo/foo.c": defined.replace("\treturn ret;\n}", "\tret += helper_one(ret);\n"
                                                                                        "\treturn ret;\n}"),
                                 "include/linux/helper.h": helper_h}),
        ("foo: bar.c uses helper_two", {"drivers/foo/bar.c": "#include <linux/helper.h>\n\nint bar(int x)\n{\n"
                                                               "\treturn helper_two(x);\n}\n"}),
    )
    install_hooks(str(repo), mode="block")
    before = head(repo)
    r = git(repo, "am", *map(str, patches), env=env, check=False)
    assert r.returncode == 0, r.stderr
    assert "missing-symbol" not in r.stderr
    assert git(repo, "rev-parse", "HEAD~3").stdout.strip() == before
    for rev in ("HEAD", "HEAD~1", "HEAD~2"):
        assert last_line(repo, rev) == "Backport-checked: backport 0.1.0 (0 findings)"


def test_block_stops_at_the_bad_patch_of_a_series(repo, tmp_path, env):
    patches = make_patches(
        repo, tmp_path / "p",
        ("foo: call helper_one twice", {"drivers/foo/foo.c": calls("helper_one")}),
        ("foo: call helper_three", {"drivers/foo/foo.c": calls("helper_one").replace(
            "\treturn ret;\n}", "\tret += helper_three(ret);\n\treturn ret;\n}")}),
    )
    install_hooks(str(repo), mode="block")
    before = head(repo)
    r = git(repo, "am", *map(str, patches), env=env, check=False)
    assert r.returncode != 0 and "missing-symbol: helper_three" in r.stderr
    assert git(repo, "rev-parse", "HEAD~1").stdout.strip() == before  # patch 1 is in, patch 2 is not
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "foo: call helper_one twice"


def test_pre_patch_tree_reads_head_for_the_touched_files(repo, tmp_path):
    (patch_file,) = make_patches(repo, tmp_path / "p", ("foo: new file and a call", {
        "drivers/foo/foo.c": calls("helper_two"), "drivers/foo/new.c": "int new_one;\n"}))
    git(repo, "apply", "--index", str(patch_file))  # what git am has done when pre-applypatch runs
    from backport.model import Patch

    patch = Patch(subject="x", files=parse_diff(patch_file.read_text(), origin=str(patch_file)))
    tree = pre_patch_tree(str(repo), patch)
    assert tree.read("drivers/foo/foo.c") == FOO_C  # HEAD, not the work tree
    assert not tree.exists("drivers/foo/new.c")  # created by the patch
    assert tree.read("include/linux/helper.h") == FILES["include/linux/helper.h"]  # untouched: the work tree
