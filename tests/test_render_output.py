"""write_outputs: every file of --out DIR, atomic, re-runnable, and `git am DIR/*.patch` works."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_render_common import RESULT_1, RESULT_2, RESULTS, SERIES, make_target_repo

from backport.model import PortResult
from backport.render.output import patch_file_name, write_outputs
from backport.render.report_json import check_report


def test_writes_every_output(tmp_path):
    out = tmp_path / "out"
    paths = write_outputs(RESULTS, SERIES, str(out), signoff="Porter Person <porter@example.org>")
    names = sorted(p.rsplit("/", 1)[1] for p in paths)
    assert names == ["0001-ftrace-Allow-users-to-disable-ftrace-direct-call.patch",
                     "0002-arm64-ftrace-Add-ftrace-direct-call-support.patch",
                     "checklist.md", "leftovers.txt", "report.html", "report.json", "series.mbox"]
    assert sorted(p.name for p in out.iterdir()) == names  # no temp files left behind
    assert check_report(json.loads((out / "report.json").read_text())) == ()
    left = (out / "leftovers.txt").read_text()
    assert left.startswith("### [2/2] arm64: ftrace: Add ftrace direct call support\n")
    assert "+SYM_CODE_START(ftrace_stub_direct_tramp)" in left


def test_git_am_applies_the_patch_files(tmp_path):
    repo = make_target_repo(tmp_path / "target")
    out = tmp_path / "out"
    write_outputs(RESULTS, SERIES, str(out), signoff="")  # "" = from git config (none in cwd is fine)
    patches = sorted(str(p) for p in out.glob("*.patch"))
    r = subprocess.run(["git", "am", *patches], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    subjects = subprocess.run(["git", "log", "--format=%s", "-2"], cwd=repo, capture_output=True,
                              text=True).stdout.splitlines()
    assert subjects == ["arm64: ftrace: Add ftrace direct call support",
                        "ftrace: Allow users to disable ftrace direct call"]


def test_signoff_from_git_config(tmp_path, monkeypatch):
    repo = make_target_repo(tmp_path / "target")
    monkeypatch.chdir(repo)
    write_outputs(RESULTS[:1], SERIES, str(tmp_path / "out"), signoff="")
    mail = (tmp_path / "out" / "0001-ftrace-Allow-users-to-disable-ftrace-direct-call.patch").read_text()
    assert "\nSigned-off-by: Porter Person <porter@example.org>\n---\n" in mail


def test_rerun_removes_stale_patches_but_not_foreign_files(tmp_path):
    out = tmp_path / "out"
    write_outputs(RESULTS, SERIES, str(out))
    (out / "0009-my-own.patch").write_text("not ours\n")
    nothing = PortResult(RESULT_2.patch, RESULT_2.placements, RESULT_2.findings, "")
    write_outputs((RESULT_1, nothing), SERIES, str(out))
    names = sorted(p.name for p in out.glob("*.patch"))
    assert names == ["0001-ftrace-Allow-users-to-disable-ftrace-direct-call.patch", "0009-my-own.patch"]
    assert json.loads((out / "report.json").read_text())["summary"]["patches"] == 2


def test_patch_file_names():
    assert patch_file_name(3, "arm64: ftrace: Add ftrace direct call support") == (
        "0003-arm64-ftrace-Add-ftrace-direct-call-support.patch")
    assert patch_file_name(1, "???") == "0001-patch.patch"
    assert len(patch_file_name(12, "x" * 200)) == len("0012-") + 52 + len(".patch")


def test_undecodable_bytes_survive(tmp_path):
    raw = RESULT_1.text.replace("ftrace_direct_disabled = 0;", "ftrace_direct_disabled = 0; /* \udce9 */")
    r = PortResult(RESULT_1.patch, RESULT_1.placements, (), raw)
    paths = write_outputs((r,), SERIES, str(tmp_path / "o"))
    data = open(paths[0], "rb").read()
    assert b"/* \xe9 */" in data
    assert json.loads((tmp_path / "o" / "report.json").read_text())["patches"][0]["text"].count("\udce9") == 1  # lossless


def test_signoff_from_the_target_repo(tmp_path):
    repo = make_target_repo(tmp_path / "target")
    write_outputs(RESULTS[:1], SERIES, str(tmp_path / "out"), signoff="", repo=str(repo))
    mail = next((tmp_path / "out").glob("0001-*.patch")).read_text()
    assert "\nSigned-off-by: Porter Person <porter@example.org>\n---\n" in mail


def _format_patch_series(tmp_path):
    """An upstream repo drifted by 30 lines, two commits on it as a git format-patch mbox."""
    from test_render_common import FTRACE_C

    up = make_target_repo(tmp_path / "upstream")
    src = up / "kernel/trace/ftrace.c"
    extra = "".join(f"#include <linux/x{i}.h>\n" for i in range(30))
    src.write_text(FTRACE_C.replace("#include <linux/ftrace.h>\n", "#include <linux/ftrace.h>\n" + extra))
    subprocess.run(["git", "commit", "-qam", "upstream drift"], cwd=up, check=True)
    src.write_text(src.read_text().replace("\tops->flags &= ~FTRACE_OPS_FL_ENABLED;\n",
                                           "\tftrace_direct_disabled = 0;\n\tops->flags &= ~FTRACE_OPS_FL_ENABLED;\n"))
    env = {"GIT_AUTHOR_NAME": "Up Stream", "GIT_AUTHOR_EMAIL": "up@example.org",
           "GIT_AUTHOR_DATE": "Tue, 13 Sep 2022 12:27:40 -0400", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "commit", "-qam", "ftrace: reset the direct flag on shutdown\n\nReset it.\n\n"
                    "Signed-off-by: Up Stream <up@example.org>"], cwd=up, check=True, env=env)
    kconfig = up / "arch/arm64/Kconfig"
    kconfig.write_text(kconfig.read_text().replace("\tselect HAVE_FUNCTION_TRACER\n",
                                                   "\tselect HAVE_FUNCTION_TRACER\n\tselect HAVE_FOO\n")
                       + "\nconfig HAVE_FOO\n\tbool\n")
    subprocess.run(["git", "commit", "-qam", "arm64: select HAVE_FOO\n\nSigned-off-by: Up Stream <up@example.org>"],
                   cwd=up, check=True, env=env)
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(subprocess.run(["git", "format-patch", "-2", "--stdout"], cwd=up, check=True,
                                    capture_output=True).stdout)
    return mbox


def test_port_then_git_am_end_to_end(tmp_path):
    """ingest -> pipeline -> write_outputs -> real git am on the target, through the CLI."""
    from backport.cli import main

    mbox = _format_patch_series(tmp_path)
    repo = make_target_repo(tmp_path / "target")
    out = tmp_path / "out"
    assert main(["port", str(mbox), "--onto", str(repo), "--out", str(out), "--signoff", "P <p@example.org>"]) == 0
    patches = sorted(str(p) for p in out.glob("*.patch"))
    assert len(patches) == 2
    r = subprocess.run(["git", "am", *patches], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    log = subprocess.run(["git", "log", "-2", "--format=%an|%s|%(trailers:key=Signed-off-by,valueonly,separator=;)"],
                         cwd=repo, capture_output=True, text=True).stdout.splitlines()
    assert log == ["Up Stream|arm64: select HAVE_FOO|Up Stream <up@example.org>;P <p@example.org>",
                   "Up Stream|ftrace: reset the direct flag on shutdown|Up Stream <up@example.org>;P <p@example.org>"]
    body = subprocess.run(["git", "log", "-1", "--format=%B", "HEAD~1"], cwd=repo, capture_output=True,
                          text=True).stdout
    assert "applied at line 22, 30 lines above upstream" in " ".join(body.split())
    assert "\tftrace_direct_disabled = 0;\n\tops->flags" in (repo / "kernel/trace/ftrace.c").read_text()
    report = json.loads((out / "report.json").read_text())
    assert check_report(report) == ()
    assert [p["placements"][0]["method"] for p in report["patches"]] == ["offset", "exact"]


TREE_61 = Path.home() / ".cache" / "kbench" / "trees" / "6.1.187-1"
BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"


@pytest.mark.slow
def test_outputs_on_real_bench_cases_apply_to_the_real_tree(tmp_path):
    """Port 25 real stable fixes onto Debian 6.1.187, write every output, and check with
    `git apply --check` that each annotated .patch still applies and report.json is valid."""
    from backport.ingest import load_series
    from backport.model import PortOptions
    from backport.pipeline import port_series
    from backport.target import DirTree

    assert TREE_61.is_dir(), "run /work/shared/bench/get-tree.sh 6.1.187-1"
    tree = DirTree(TREE_61)
    cases = sorted(p for p in BENCH.iterdir() if p.is_dir())[:25]
    written = 0
    for case in cases:
        series = load_series([str(case / "upstream.patch")])
        results = port_series(series, tree, options=PortOptions())
        out = tmp_path / case.name
        paths = write_outputs(results, series, str(out))
        assert check_report(json.loads((out / "report.json").read_text())) == (), case.name
        patches = [p for p in paths if p.endswith(".patch")]
        if patches:
            r = subprocess.run(["git", "apply", "--check", *patches], cwd=tree.root, capture_output=True, text=True)
            assert r.returncode == 0, f"{case.name}: {r.stderr}"
            written += 1
    assert written >= 20


def test_a_patch_without_author_is_authored_by_the_porter(tmp_path):
    anon = PortResult(RESULT_1.patch.__class__(subject="fix it", body="Fix.\n"), RESULT_1.placements, (),
                      RESULT_1.text)
    repo = make_target_repo(tmp_path / "target")
    paths = write_outputs((anon,), SERIES, str(tmp_path / "out"), repo=str(repo))
    assert "\nFrom: Porter Person <porter@example.org>\n" in open(paths[0]).read()
