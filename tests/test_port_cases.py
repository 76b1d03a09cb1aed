"""`backport port` / `backport check` end to end on the cases of tests/cases (table: cases.yaml)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from backport.cli import main

CASES = Path(__file__).resolve().parent / "cases"
TABLE = yaml.safe_load((CASES / "cases.yaml").read_text())


def _series(case: Path) -> str:
    for name in ("series.mbox", "fix.patch"):
        if (case / name).exists():
            return str(case / name)
    raise AssertionError(f"{case}: no series")


def _upstream_repo(case: Path, work: Path) -> str:
    """A git repo holding the case's upstream/ tree (one commit), made once per test."""
    repo = work / f"{case.name}-upstream.git"
    if not repo.exists():
        shutil.copytree(case / "upstream", repo)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
        subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
        subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "upstream"], cwd=repo, check=True)
    return str(repo)


def _args(name: str, spec: dict, work: Path) -> list[str]:
    case = CASES / name
    subst = {"upstream": lambda: str(case / "upstream"), "upstream-git": lambda: _upstream_repo(case, work)}
    extra = [subst[a]() if a in subst else a for a in spec.get("args", [])]
    return [_series(case), "--onto", str(case / "tree"), *extra]


@pytest.mark.parametrize("name", sorted(TABLE))
def test_port_case(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], update_golden: bool) -> None:
    spec = TABLE[name]
    case = CASES / name
    before = {p: p.read_bytes() for p in (case / "tree").rglob("*") if p.is_file()}
    code = main(["port", *_args(name, spec, tmp_path), "--format", "json", "--out", str(tmp_path / "out")])
    report = json.loads(capsys.readouterr().out)
    assert report["schema_version"] >= 1
    pl = [[p["method"], p["path"], p["start"], p["applied"]] for r in report["patches"] for p in r["placements"]]
    assert pl == spec["placements"]
    assert [r["status"] for r in report["patches"]] == spec["status"]
    codes = sorted({f["code"] for r in report["patches"] for f in r["findings"]
                    if not f["code"].startswith(("kb-", "missing-symbol", "missing-config"))})
    assert codes == spec["findings"]
    assert code == spec["exit"]
    # the target tree is never modified
    assert before == {p: p.read_bytes() for p in (case / "tree").rglob("*") if p.is_file()}
    # the regenerated diff, against the golden file
    text = "".join(r["text"] for r in report["patches"])
    golden = case / "ported.diff"
    if update_golden:
        golden.write_text(text)
    assert text == golden.read_text()
    # and git accepts it on a copy of the tree, exactly (series in order)
    if text:
        copy = tmp_path / "copy"
        shutil.copytree(case / "tree", copy)
        subprocess.run(["git", "init", "-q", str(copy)], check=True)
        for i, r in enumerate(report["patches"]):
            if r["text"]:
                (tmp_path / f"{i}.diff").write_text(r["text"])
                subprocess.run(["git", "apply", str(tmp_path / f"{i}.diff")], cwd=copy, check=True)
    if any(r["leftovers"] for r in report["patches"]):
        assert (tmp_path / "out" / "leftovers.txt").exists()


def test_check_writes_nothing_and_exits_like_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *_args("unplaced", TABLE["unplaced"], tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "blocked" in out and not list(tmp_path.iterdir())
    assert main(["check", *_args("exact", TABLE["exact"], tmp_path)]) == 0


def test_ignore_silences_a_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _args("three-way", TABLE["three-way"], tmp_path)
    assert main(["check", *args]) == 1
    assert main(["check", *args, "--ignore", "context-diverged"]) == 0
    capsys.readouterr()


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.patch"
    bad.write_text("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n")
    assert main(["port", str(bad), "--onto", str(CASES / "exact" / "tree")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_apply_refuses_when_a_hunk_is_unplaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(CASES / "unplaced" / "tree", tree)
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert main(["port", _series(CASES / "unplaced"), "--onto", str(tree), "--apply"]) == 1
    assert "not applied" in capsys.readouterr().err
    assert before == {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def test_apply_writes_a_clean_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(CASES / "exact" / "tree", tree)
    assert main(["port", _series(CASES / "exact"), "--onto", str(tree), "--apply"]) == 0
    assert 'pr_err("foo: setup failed\\n");' in (tree / "drivers/foo/foo.c").read_text()
    capsys.readouterr()


def test_plain_diff_gets_a_subject_from_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", *_args("relocated", TABLE["relocated"], tmp_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "foo" in report["patches"][0]["patch"]["subject"]


def test_port_onto_a_git_revision_reads_the_commit_not_the_work_tree(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(CASES / "exact" / "tree", repo)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "target"], cwd=repo, check=True)
    (repo / "drivers/foo/foo.c").write_text("garbage in the work tree\n")
    args = [_series(CASES / "exact"), "--onto", str(repo), "--rev", "HEAD", "--format", "json"]
    assert main(["check", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["patches"][0]["placements"][0]["method"] == "exact"
    assert main(["check", _series(CASES / "exact"), "--onto", str(repo)]) == 1  # the work tree: unplaced
    capsys.readouterr()
