"""deps on the fixtures of issue 11 (tests/deps_fixtures/cases.yaml): Kconfig symbols tested from C
and Make, names in removed and added lines, the function a hunk edits, definitions of unplaced
hunks. Each row runs through deps alone and through the pipeline, with the real index, the real
placement engine and real series files; the last tests run `backport deps` as a user would and
say where upstream (a plain tree, a git history) defines a missing Kconfig symbol.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from backport.cli import main
from backport.deps import check_series
from backport.ingest import load_series
from backport.model import PortOptions
from backport.pipeline import port_series
from backport.target import load_tree

HERE = Path(__file__).resolve().parent / "deps_fixtures"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text())
DEPS_CODES = {"missing-symbol", "renamed-symbol", "missing-kconfig", "missing-file", "prerequisite-commit"}


def _opts(tmp_path: Path, **kw) -> PortOptions:  # noqa: ANN003
    return PortOptions(extra={"index-cache": str(tmp_path / "cache")}, **kw)


def _found(findings) -> set[str]:  # noqa: ANN001
    return {f"{f.code} {f.message.split(':')[0]}" for f in findings if f.code in DEPS_CODES}


def test_every_class_has_a_positive_and_a_negative_row():
    assert len([c for c in CASES if c["expect"]]) >= 5
    assert len([c for c in CASES if not c["expect"]]) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_deps_alone_raises_exactly_the_expected_findings(case: dict, tmp_path: Path):
    series = load_series([str(HERE / case["series"])])
    results = check_series(series, load_tree(str(HERE / "tree")), options=_opts(tmp_path))
    findings = [f for _p, fs in results for f in fs]
    assert _found(findings) == set(case["expect"])
    for f in findings:
        assert f.ref is not None and f.ref.path.endswith(".mbox") and f.ref.line > 0, f
        assert f.evidence and f.hint


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pipeline_agrees_with_deps_alone(case: dict, tmp_path: Path):
    series = load_series([str(HERE / case["series"])])
    results = port_series(series, load_tree(str(HERE / "tree")), options=_opts(tmp_path))
    assert _found(f for r in results for f in r.findings) == set(case["expect"])


def test_context_finding_names_the_test_and_the_added_line(tmp_path: Path):
    series = load_series([str(HERE / "kconfig-context.mbox")])
    (_p, found), = check_series(series, load_tree(str(HERE / "tree")), options=_opts(tmp_path))
    f, = found
    assert "never built" in f.message and "(its context)" in f.message
    assert f.evidence[0].endswith("ifeq ($(CONFIG_WIDGET_LEGACY_IRQ),y) (context)")
    assert f.evidence[1].endswith("+ccflags-y += -DWIDGET_OLD_IRQ_ACK")


def test_unplaced_definition_names_the_hunk_that_would_have_added_it(tmp_path: Path):
    series = load_series([str(HERE / "unplaced-definition.mbox")])
    results = port_series(series, load_tree(str(HERE / "tree")), options=_opts(tmp_path))
    f = next(f for r in results for f in r.findings if f.code == "missing-symbol")
    assert "not placed" in f.evidence[1] and "include/linux/widget.h" in f.evidence[1]
    assert "unplaced-hunk" in {g.code for r in results for g in r.findings}


def test_cli_deps_reports_the_edited_function(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    code = main(["deps", str(HERE / "edited-function.mbox"), "--onto", str(HERE / "tree")])
    out = capsys.readouterr().out
    assert code == 1
    assert "error: missing-symbol: widget_wake_from_sleep: function the hunk edits" in out
    assert main(["deps", str(HERE / "edited-function-renamed.mbox"), "--onto", str(HERE / "tree")]) == 0


def _upstream_tree(tmp_path: Path) -> Path:
    up = tmp_path / "upstream"
    shutil.copytree(HERE / "tree", up)
    kconfig = up / "drivers/widget/Kconfig"
    kconfig.write_text(kconfig.read_text() + "\nconfig WIDGET_TURBO\n\tbool \"Widget turbo mode\"\n\tdepends on WIDGET\n")
    return up


def test_plain_upstream_tree_says_where_the_kconfig_symbol_is(tmp_path: Path):
    up = _upstream_tree(tmp_path)
    series = load_series([str(HERE / "kconfig-added.mbox")])
    (_p, found), = check_series(series, load_tree(str(HERE / "tree")), options=_opts(tmp_path, upstream=str(up)))
    turbo = next(f for f in found if f.message.startswith("CONFIG_WIDGET_TURBO"))
    assert "upstream drivers/widget/Kconfig:10: config WIDGET_TURBO" in turbo.evidence
    trace = next(f for f in found if f.message.startswith("CONFIG_WIDGET_TRACE"))
    assert not any(e.startswith("upstream ") for e in trace.evidence)


def test_git_upstream_gives_the_kconfig_line_and_the_introducing_commit(tmp_path: Path):
    repo = tmp_path / "linux"
    shutil.copytree(HERE / "tree", repo)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                              env={"GIT_AUTHOR_NAME": "U", "GIT_AUTHOR_EMAIL": "u@example.org",
                                   "GIT_COMMITTER_NAME": "U", "GIT_COMMITTER_EMAIL": "u@example.org",
                                   "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}).stdout

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "widget: the 4.9 state")
    kconfig = repo / "drivers/widget/Kconfig"
    kconfig.write_text(kconfig.read_text() + "\nconfig WIDGET_TURBO\n\tbool \"Widget turbo mode\"\n")
    git("commit", "-q", "-am", "widget: add a turbo mode")
    sha = git("rev-parse", "HEAD").strip()
    series = load_series([str(HERE / "kconfig-added.mbox")])
    (_p, found), = check_series(series, load_tree(str(HERE / "tree")), options=_opts(tmp_path, upstream=str(repo)))
    turbo = next(f for f in found if f.message.startswith("CONFIG_WIDGET_TURBO"))
    assert "upstream drivers/widget/Kconfig:10: config WIDGET_TURBO" in turbo.evidence
    assert any(e.startswith(f"introduced upstream by {sha[:12]}") and "widget: add a turbo mode" in e
               for e in turbo.evidence)
    assert sha in turbo.references
    assert any(f.code == "prerequisite-commit" and sha in f.references for f in found)
