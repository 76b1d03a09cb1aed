"""The introducing-commit search on a tagged history (real git, tmp_path): the release is found
by bisecting presence over the first-parent tags, the commit inside that one release range,
limited to the defining files; answers are cached on disk per repository and refs state; a
release-sized commit is read only where it matters."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from backport import upstream as up
from backport.upstream import (
    commit_scope,
    find_introducing_commit,
    history_cache,
    release_chain,
)

ENV = {**os.environ, "GIT_AUTHOR_NAME": "Up Stream", "GIT_AUTHOR_EMAIL": "up@example.org",
       "GIT_COMMITTER_NAME": "Up Stream", "GIT_COMMITTER_EMAIL": "up@example.org"}


def git(repo: Path, *args: str, n: int = 0) -> str:
    env = dict(ENV)
    if n:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}"
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(autouse=True)
def fresh_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    up._CACHES.clear()


@pytest.fixture(scope="module")
def shared_history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """v1.0 .. v1.6, three commits per release; helper_a arrives in the second commit after
    v1.3, CONFIG_FAST in v1.5's range; a side file mentions helper_a only later."""
    repo = tmp_path_factory.mktemp("history") / "up"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    shas: dict[str, str] = {"repo": str(repo)}
    n = 0
    hdr = "#ifndef LIB_H\n#define LIB_H\nint lib_base(void);\n"
    kconfig = "config BASE\n\tbool \"base\"\n"
    for rel in range(7):
        for step in range(3):
            n += 1
            files = {"lib/notes.txt": f"release {rel} step {step}\n"}
            if rel == 3 and step == 1:
                hdr += "int helper_a(int x);\n"
                files["include/lib.h"] = hdr + "#endif\n"
                subject = "lib: add helper_a()"
            elif rel == 5 and step == 2:
                kconfig += "config FAST\n\tbool \"fast\"\n"
                files["lib/Kconfig"] = kconfig
                subject = "lib: add CONFIG_FAST"
            elif rel == 6 and step == 0:
                files["drivers/user.c"] = '#include "lib.h"\nint user(void) { return helper_a(1); }\n'
                subject = "drivers: use helper_a()"
            else:
                subject = f"lib: step {rel}.{step}"
            if n == 1:
                files["include/lib.h"] = hdr + "#endif\n"
                files["lib/Kconfig"] = kconfig
            for path, text in files.items():
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                (repo / path).write_text(text)
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", subject, n=n)
            shas[subject] = git(repo, "rev-parse", "HEAD").strip()
        git(repo, "tag", "-a", "-m", f"v1.{rel}", f"v1.{rel}", n=n)
    return shas


@pytest.fixture
def history(shared_history: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A clone of the shared history of the module, free to change."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--mirror", shared_history["repo"], str(clone / ".git")], check=True)
    subprocess.run(["git", "-C", str(clone), "config", "core.bare", "false"], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "-f", "master"], check=True)
    return {**shared_history, "repo": str(clone)}


def test_release_chain_is_first_parent_tags_oldest_first(history: dict[str, str]) -> None:
    chain = release_chain(history["repo"], "HEAD")
    assert [t for t, _ in chain] == [f"v1.{i}" for i in range(7)]
    assert [t for t, _ in release_chain(history["repo"], "v1.3")] == ["v1.0", "v1.1", "v1.2", "v1.3"]


def test_introducing_commit_found_by_release_bisect(history: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = history["repo"]
    greps: list[tuple[str, ...]] = []
    real = up._git_rc

    def counting(repo_path: str, *args: str) -> int:
        greps.append(args)
        return real(repo_path, *args)

    monkeypatch.setattr(up, "_git_rc", counting)
    c = find_introducing_commit(repo, "helper_a")
    assert c is not None and c.sha == history["lib: add helper_a()"] and c.subject == "lib: add helper_a()"
    assert c.reason == "introduces helper_a"
    # bisected over 8 points (7 tags + HEAD): at most 3 presence checks, each limited to the
    # files that mention the name (the header first)
    assert 1 <= len(greps) <= 3
    assert all(g[0] == "grep" and g[-2:] == ("include/lib.h", "drivers/user.c") for g in greps)
    k = find_introducing_commit(repo, "CONFIG_FAST")
    assert k is not None and k.sha == history["lib: add CONFIG_FAST"]
    assert find_introducing_commit(repo, "no_such_name_anywhere") is None
    # present since before the first tag: the root commit introduced it
    base = find_introducing_commit(repo, "lib_base")
    assert base is not None and base.subject == "lib: step 0.0"


def test_since_stops_at_the_targets_branch_point(history: dict[str, str]) -> None:
    repo = history["repo"]
    assert find_introducing_commit(repo, "helper_a", since="v1.4") is None  # the target has it
    c = find_introducing_commit(repo, "helper_a", since="v1.2")
    assert c is not None and c.sha == history["lib: add helper_a()"]


def test_answers_are_cached_on_disk_until_refs_move(history: dict[str, str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    repo = history["repo"]
    first = find_introducing_commit(repo, "helper_a")
    assert list((tmp_path / "xdg" / "backport" / "upstream").glob("*.sqlite"))
    up._CACHES.clear()  # a new process: only the disk cache is left
    calls: list[tuple[str, ...]] = []
    real = up._git

    def counting(repo_path: str, *args: str) -> str:
        calls.append(args)
        return real(repo_path, *args)

    monkeypatch.setattr(up, "_git", counting)
    assert find_introducing_commit(repo, "helper_a") == first
    assert not [a for a in calls if a[0] in ("log", "grep")]  # answered from the cache
    # a new tag moves the refs: a fresh namespace, searched again, same answer
    git(Path(repo), "tag", "v1.7")
    up._CACHES.clear()
    calls.clear()
    assert find_introducing_commit(repo, "helper_a") == first
    assert [a for a in calls if a[0] == "log"]


def test_removed_and_readded_name_falls_back_to_the_whole_line(history: dict[str, str]) -> None:
    repo = Path(history["repo"])
    # helper_a leaves the header and comes back: presence is no longer monotonic
    text = (repo / "include/lib.h").read_text()
    (repo / "include/lib.h").write_text(text.replace("int helper_a(int x);\n", ""))
    git(repo, "commit", "-q", "-am", "lib: drop helper_a", n=100)
    git(repo, "tag", "v1.7")
    (repo / "include/lib.h").write_text(text)
    git(repo, "commit", "-q", "-am", "lib: bring helper_a back", n=101)
    c = find_introducing_commit(str(repo), "helper_a", paths=["include/lib.h"])
    assert c is not None and c.subject in ("lib: bring helper_a back", "lib: add helper_a()")


def test_release_sized_commit_is_read_only_where_it_matters(history: dict[str, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    repo = history["repo"]
    cache = history_cache(repo)
    sha = history["lib: add helper_a()"]  # touches include/lib.h and lib/notes.txt
    assert set(commit_scope(repo, sha, ["include/lib.h"], cache)) == {"include/lib.h", "lib/notes.txt"}
    monkeypatch.setattr(up, "WHOLE_COMMIT_FILES", 1)
    assert commit_scope(repo, sha, ["include/lib.h"], cache) == ("include/lib.h",)
    added = up._added_lines_by_file(repo, sha, ["include/lib.h"])
    assert added == {"include/lib.h": ["int helper_a(int x);"]}
