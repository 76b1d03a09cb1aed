"""Upstream history: a commit introduces a helper, a later one uses it; porting the second onto a
tree without the first must name the first, and not when the target already holds it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_index import MINI_TREE

from backport.cli import main
from backport.deps import check_series
from backport.ingest import parse_series_bytes
from backport.model import PortOptions
from backport.target import DirTree
from backport.upstream import (
    find_base_rev,
    find_context_commits,
    find_introducing_commit,
    find_prerequisites,
)

ENV = {**os.environ, "GIT_AUTHOR_NAME": "Up Stream", "GIT_AUTHOR_EMAIL": "up@example.org",
       "GIT_COMMITTER_NAME": "Up Stream", "GIT_COMMITTER_EMAIL": "up@example.org"}


def git(repo: Path, *args: str, date: str = "") -> str:
    env = dict(ENV)
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def commit(repo: Path, files: dict[str, str], subject: str, n: int) -> str:
    for rel, text in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject, date=f"2024-01-{n:02d}T12:00:00")
    return git(repo, "rev-parse", "HEAD").strip()


HDR = MINI_TREE["include/linux/widget.h"]
CORE = MINI_TREE["drivers/widget/core.c"]
HELPER_HDR = HDR + "void widget_sync_state(struct widget *w, enum widget_state s);\n"
HELPER_C = MINI_TREE["kernel/widget.c"] + "void widget_sync_state(struct widget *w, enum widget_state s)\n{\n}\n"
USER = CORE.replace("\tcopy->id = w->id;\n", "\tcopy->id = w->id;\n\twidget_sync_state(copy, WIDGET_BUSY);\n")
REWORK = CORE.replace("\tif (!copy)\n", "\tif (unlikely(!copy))\n")


@pytest.fixture(autouse=True)
def history_cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The history answers cache (backport.upstream.HistoryCache) stays in the test's tmp."""
    import backport.upstream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-history"))
    backport.upstream._CACHES.clear()


@pytest.fixture
def upstream(tmp_path: Path) -> dict[str, object]:
    repo = tmp_path / "upstream"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    base = commit(repo, MINI_TREE, "Linux 5.4", 1)
    rework = commit(repo, {"drivers/widget/core.c": REWORK, "include/linux/compiler.h": "#define unlikely(x) (x)\n"},
                    "widget: mark the allocation failure unlikely", 2)
    helper = commit(repo, {"include/linux/widget.h": HELPER_HDR, "kernel/widget.c": HELPER_C},
                    "widget: add widget_sync_state()", 3)
    user = commit(repo, {"drivers/widget/core.c": USER.replace("\tif (!copy)\n", "\tif (unlikely(!copy))\n")},
                  "widget: sync the copy's state", 4)
    mbox = git(repo, "format-patch", "-1", "--stdout", user)
    return {"repo": repo, "base": base, "rework": rework, "helper": helper, "user": user, "mbox": mbox}


def _target_at(tmp_path: Path, upstream: dict[str, object], rev: str, name: str) -> DirTree:
    out = tmp_path / name
    repo = upstream["repo"]
    assert isinstance(repo, Path)
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return DirTree(out)


def test_introducing_commit_by_pickaxe(upstream: dict[str, object]):
    repo = str(upstream["repo"])
    c = find_introducing_commit(repo, "widget_sync_state", rev=str(upstream["user"]) + "^")
    assert c is not None and c.sha == upstream["helper"] and c.subject == "widget: add widget_sync_state()"
    assert set(c.paths) == {"include/linux/widget.h", "kernel/widget.c"}
    assert find_introducing_commit(repo, "no_such_name_anywhere") is None
    k = find_introducing_commit(repo, "CONFIG_WIDGET_DRV")
    assert k is not None and k.sha == upstream["base"]


def test_context_commits_by_blame(upstream: dict[str, object]):
    series = parse_series_bytes(str(upstream["mbox"]).encode(), origin="user.patch")
    patch = series.patches[0]
    rev = find_base_rev(str(upstream["repo"]), patch)
    assert rev == upstream["rework"]  # where the pre-image blob of its index line appeared
    shas = {c.sha for c in find_context_commits(str(upstream["repo"]), patch, rev=rev)}
    assert upstream["rework"] in shas and upstream["base"] in shas


def test_port_onto_tree_without_helper_names_it(upstream: dict[str, object], tmp_path: Path):
    target = _target_at(tmp_path, upstream, str(upstream["base"]), "target")
    series = parse_series_bytes(str(upstream["mbox"]).encode(), origin="user.patch")
    opts = PortOptions(upstream=str(upstream["repo"]), extra={"index-cache": str(tmp_path / "cache")})
    (patch, findings), = check_series(series, target, options=opts)
    codes = [f.code for f in findings]
    assert "missing-symbol" in codes
    prereq = [f for f in findings if f.code == "prerequisite-commit"]
    assert [f.references[0] for f in prereq] == [upstream["rework"], upstream["helper"]]  # oldest first
    intro = prereq[1]
    assert "introduces widget_sync_state" in intro.message and intro.severity.name == "WARNING"
    assert intro.ref is not None and intro.ref.path == "user.patch"
    assert prereq[0].severity.name == "NOTE" and "context" in prereq[0].message
    assert any("widget_sync_state(copy, WIDGET_BUSY)" in e for e in intro.evidence)


def test_target_holding_an_equivalent_commit_is_not_asked_again(upstream: dict[str, object], tmp_path: Path):
    # the target carries both earlier changes by content (cherry-picked, other SHAs)
    target = _target_at(tmp_path, upstream, str(upstream["helper"]), "target2")
    series = parse_series_bytes(str(upstream["mbox"]).encode(), origin="user.patch")
    repo = str(upstream["repo"])
    found = find_prerequisites(series.patches[0], target, repo, names=["widget_sync_state"])
    assert {c.sha: (how or "-").split()[0] for c, how in found} == {
        upstream["helper"]: "content", upstream["rework"]: "content", upstream["base"]: "content"}
    opts = PortOptions(upstream=repo, extra={"index-cache": str(tmp_path / "cache")})
    (_, findings), = check_series(series, target, options=opts)
    assert findings == ()


def test_target_git_repo_matches_by_subject(upstream: dict[str, object], tmp_path: Path):
    target = _target_at(tmp_path, upstream, str(upstream["base"]), "vendor")
    root = Path(target.root)
    git(root, "init", "-q", "-b", "vendor")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "vendor import")
    # a vendor cherry-pick with the same subject but a slightly different body of code
    (root / "include/linux/widget.h").write_text(HELPER_HDR)
    (root / "kernel/widget.c").write_text(HELPER_C.replace("{\n}\n", "{\n\t/* vendor */\n}\n"))
    git(root, "commit", "-q", "-am", "widget: add widget_sync_state()")
    series = parse_series_bytes(str(upstream["mbox"]).encode(), origin="user.patch")
    found = dict((c.sha, how) for c, how in find_prerequisites(series.patches[0], DirTree(root),
                                                                str(upstream["repo"]), names=["widget_sync_state"]))
    assert found[upstream["helper"]].startswith("subject")


def test_cli_deps_with_upstream_lists_prerequisites(upstream: dict[str, object], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    target = _target_at(tmp_path, upstream, str(upstream["base"]), "t3")
    mbox = tmp_path / "user.patch"
    mbox.write_text(str(upstream["mbox"]))
    rc = main(["deps", str(mbox), "--onto", target.root, "--upstream", str(upstream["repo"])])
    out = capsys.readouterr().out
    assert rc == 1
    tail = out.split("prerequisite commits, in order:\n", 1)[1]
    assert tail.index(str(upstream["rework"])[:12]) < tail.index(str(upstream["helper"])[:12])
    shutil.rmtree(tmp_path / "xdg")


def test_searches_stop_at_the_tag_the_target_grew_from(upstream: dict[str, object], tmp_path: Path):
    repo = upstream["repo"]
    assert isinstance(repo, Path)
    target = _target_at(tmp_path, upstream, str(upstream["base"]), "t4")  # Makefile says 5.4.210
    series = parse_series_bytes(str(upstream["mbox"]).encode(), origin="user.patch")
    git(repo, "tag", "v5.4", str(upstream["rework"]))  # the target's branch point, per the tag
    found = [c.sha for c, how in find_prerequisites(series.patches[0], target, str(repo), names=["widget_sync_state"])
             if not how]
    assert found == [upstream["helper"]]  # rework and base are older than v5.4: not searched
