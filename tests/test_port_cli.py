"""`backport port` options end to end: --apply with --out and --rev, --signoff from the target
repo, the progress callback, `revert --force`, and `show --help`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from backport import cli
from backport.cli import main

CASES = Path(__file__).resolve().parent / "cases"
SERIES = str(CASES / "exact" / "series.mbox")
FIXED = 'pr_err("foo: setup failed\\n");'


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo), *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(CASES / "exact" / "tree", root)
    return root


@pytest.fixture
def repo(tree: Path) -> Path:
    """The exact case's tree as a git repo with two commits (HEAD~1 lacks a comment line)."""
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "first")
    (tree / "README").write_text("second commit\n")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "second")
    return tree


def test_apply_with_out_writes_the_pointer_so_revert_out_undoes_it(tree: Path, tmp_path: Path, capsys) -> None:
    before = (tree / "drivers/foo/foo.c").read_text()
    out = tmp_path / "out"
    assert main(["port", SERIES, "--onto", str(tree), "--out", str(out), "--apply", "-q"]) == 0
    assert FIXED in (tree / "drivers/foo/foo.c").read_text()
    record = (out / "apply-record.txt").read_text().strip()
    assert Path(record).is_dir() and str(tree) in record
    assert f"backport revert {out}" in capsys.readouterr().err
    assert main(["revert", str(out)]) == 0
    assert (tree / "drivers/foo/foo.c").read_text() == before
    assert "restored drivers/foo/foo.c" in capsys.readouterr().out


def test_apply_refuses_a_rev_that_is_not_the_work_trees_head(repo: Path, capsys) -> None:
    before = (repo / "drivers/foo/foo.c").read_text()
    assert main(["port", SERIES, "--onto", str(repo), "--rev", "HEAD~1", "--apply"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--rev HEAD~1 is not its HEAD" in err[0]
    assert (repo / "drivers/foo/foo.c").read_text() == before
    # the same commit named by its sha is the work tree's HEAD: applied
    head = _git(repo, "rev-parse", "HEAD")
    assert main(["port", SERIES, "--onto", str(repo), "--rev", head, "--apply", "-q"]) == 0
    assert FIXED in (repo / "drivers/foo/foo.c").read_text()


def test_rev_without_apply_still_reads_an_older_commit(repo: Path, capsys) -> None:
    assert main(["check", SERIES, "--onto", str(repo), "--rev", "HEAD~1", "-q"]) == 0


def test_signoff_without_a_value_takes_the_target_repos_identity(repo: Path, tmp_path: Path,
                                                                  monkeypatch, capsys) -> None:
    _git(repo, "config", "user.name", "Tree Owner")
    _git(repo, "config", "user.email", "owner@vendor.example")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not a repo: only the target's config can name the porter
    monkeypatch.setenv("HOME", str(elsewhere))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    out = tmp_path / "out"
    assert main(["port", SERIES, "--onto", str(repo), "--out", str(out), "--signoff", "-q"]) == 0
    (mail,) = out.glob("0001-*.patch")
    assert "Signed-off-by: Tree Owner <owner@vendor.example>" in mail.read_text()


def test_port_reports_progress_through_delayed_progress(tree: Path, monkeypatch, capsys) -> None:
    calls: list[tuple[int, int, str]] = []

    class Recorder:
        def __init__(self, description: str = "", **_: object) -> None:
            self.description = description

        def __enter__(self) -> Recorder:
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append((-1, -1, "exit"))

        def __call__(self, done: int, total: int, label: object = "") -> None:
            calls.append((done, total, getattr(label, "subject", str(label))))

    monkeypatch.setattr("backport.render.summary.DelayedProgress", Recorder)
    assert main(["check", SERIES, "--onto", str(tree)]) == 0
    assert calls == [(0, 1, "foo: report setup failure"), (-1, -1, "exit")]
    err = capsys.readouterr().err
    assert "\r" not in err and "porting" not in err  # no hand-made progress line when piped


def test_revert_force_restores_over_a_later_edit(tree: Path, capsys) -> None:
    before = (tree / "drivers/foo/foo.c").read_text()
    assert main(["port", SERIES, "--onto", str(tree), "--apply", "-q"]) == 0
    (tree / "drivers/foo/foo.c").write_text("edited after the apply\n")
    assert main(["revert", str(tree)]) == 1  # a conflict without --force
    assert (tree / "drivers/foo/foo.c").read_text() == "edited after the apply\n"
    assert main(["revert", str(tree), "--force"]) == 0
    assert (tree / "drivers/foo/foo.c").read_text() == before
    capsys.readouterr()


def test_show_help_names_every_input_form() -> None:
    parser = cli.build_parser()
    show = parser._subparsers._group_actions[0].choices["show"]  # type: ignore[union-attr]
    text = " ".join(show.format_help().split())
    for form in ("git show", "git log -p", "DEP-3", "quilt series", "maildir", "- for stdin", "A..B", "--upstream"):
        assert form in text, form
