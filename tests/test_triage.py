"""backport triage end to end on miniature trees: statuses, matrix files, resume, engines, order."""

from __future__ import annotations

import csv
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from triage_trees import EXPECTED_NEW, EXPECTED_OLD, make_fleet, make_queue, make_trees

from backport.cli import main
from backport.ingest import load_series
from backport.model import PortOptions
from backport.pipeline import port_series
from backport.target import DirTree
from backport.triage import DaskEngine, LocalEngine, load_fleet, plan_queues, queue_order, run_triage
from backport.triage.matrix import SCHEMA_PATH, comparable


@pytest.fixture
def fleet_dir(tmp_path: Path) -> Path:
    new, old = make_trees(tmp_path)
    make_queue(tmp_path / "queue")
    make_fleet(tmp_path, new, old)
    return tmp_path


def _matrix(out: Path) -> dict:
    return json.loads((out / "matrix.json").read_text())


def _statuses(m: dict, tree: str) -> dict[int, str]:
    return {c["patch"]: c["status"] for c in m["cells"] if c["tree"] == tree}


def test_triage_classifies_each_kind_and_writes_every_output(fleet_dir: Path, capsys) -> None:
    out = fleet_dir / "out"
    rc = main(["triage", str(fleet_dir / "queue"), "--trees", str(fleet_dir / "fleet.yaml"), "--out", str(out), "-j", "1"])
    assert rc == 0
    m = _matrix(out)
    jsonschema.validate(m, json.loads(SCHEMA_PATH.read_text()))
    assert _statuses(m, "old") == EXPECTED_OLD
    assert _statuses(m, "new") == EXPECTED_NEW
    assert m["queue"]["order"] == "independent" and m["run"] == {**m["run"], "computed": 12, "reused": 0}
    by = {(c["patch"], c["tree"]): c for c in m["cells"]}
    assert "drivers/baz/baz.c is absent" in by[4, "old"]["reason"]
    assert "foo_reset_hw" in by[5, "old"]["reason"] and by[5, "old"]["findings"]["codes"]["missing-symbol"] == 1
    assert "arch/arm64" in by[6, "new"]["reason"]
    # per cell: what port --out writes, and the links point at it
    for c in m["cells"]:
        d = out / c["links"]["dir"]
        for name in ("report.json", "checklist.md", "report.html", "cell.json"):
            assert (d / name).is_file(), (c["links"]["dir"], name)
        assert (out / c["links"]["report"]).is_file()
    assert list((out / by[1, "old"]["links"]["dir"]).glob("0001-*.patch"))
    assert (out / by[3, "old"]["links"]["dir"] / "leftovers.txt").is_file()
    report = json.loads((out / by[2, "old"]["links"]["json"]).read_text())
    assert report["patches"][0]["patch"]["subject"] == "foo: clear irq on teardown"
    rows = list(csv.DictReader((out / "matrix.csv").open()))
    assert len(rows) == 12 and {r["status"] for r in rows} == {"clean", "adapted", "conflict", "not-applicable",
                                                               "needs-prereq"}
    assert "12 cells (12 computed, 0 reused" in capsys.readouterr().err


def test_rerun_reuses_finished_cells_and_recomputes_a_changed_tree(fleet_dir: Path) -> None:
    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    series = load_series([str(fleet_dir / "queue")])
    out = fleet_dir / "out"
    first = run_triage(series, fleet, str(out))
    assert (first.computed, first.reused) == (12, 0)
    again = run_triage(series, fleet, str(out))
    assert (again.computed, again.reused) == (0, 12)
    assert comparable(_matrix(out))["cells"] == [{k: v for k, v in r.items() if k not in ("seconds", "timing")}
                                                 for r in first.records]
    # old gains foo_reset_hw (a new file: the index cache of a directory follows directory mtimes)
    (fleet_dir / "old" / "drivers" / "foo" / "reset.c").write_text("int foo_reset_hw(struct foo *f)\n{\n\treturn 0;\n}\n")
    third = run_triage(series, fleet, str(out))
    assert (third.computed, third.reused) == (6, 6)
    assert _statuses(_matrix(out), "old")[5] == "clean"
    fourth = run_triage(series, fleet, str(out), options=PortOptions(ignore=("adapted",)))
    assert fourth.computed == 12  # the options are part of the key


def test_local_pool_and_dask_local_cluster_give_the_same_matrix(fleet_dir: Path) -> None:
    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    series = load_series([str(fleet_dir / "queue")])
    run_triage(series, fleet, str(fleet_dir / "inline"))
    run_triage(series, fleet, str(fleet_dir / "pool"), engine=LocalEngine(jobs=2))
    dask = run_triage(series, fleet, str(fleet_dir / "dask"), engine=DaskEngine(jobs=2, processes=False))
    assert dask.engine == "dask" and dask.workers == 2
    inline = comparable(_matrix(fleet_dir / "inline"))
    assert comparable(_matrix(fleet_dir / "pool")) == inline
    assert comparable(_matrix(fleet_dir / "dask")) == inline
    assert _statuses(_matrix(fleet_dir / "dask"), "old") == EXPECTED_OLD


def test_plan_keeps_each_tree_on_one_worker_and_splits_a_lone_tree(fleet_dir: Path) -> None:
    from backport.triage.run import plan_cells

    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    series = load_series([str(fleet_dir / "queue")])
    specs = plan_cells(series, fleet, PortOptions(), order="independent", verify=None,
                       identities={"new": "a", "old": "b"})
    two = plan_queues(specs, 2)
    assert [{s.tree.name for s in q} for q in two] in ([{"new"}, {"old"}], [{"old"}, {"new"}])
    assert [s.index for s in two[0]] == [1, 2, 3, 4, 5, 6]  # queue order kept
    lone = plan_queues([s for s in specs if s.tree.name == "old"], 2)
    assert [len(q) for q in lone] == [3, 3] and [s.index for s in lone[0] + lone[1]] == [1, 2, 3, 4, 5, 6]
    assert sum(len(q) for q in plan_queues(specs, 5)) == 12


def test_git_rev_tree_in_the_fleet(fleet_dir: Path) -> None:
    old = fleet_dir / "old"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(old)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "old"], check=True)
    (old / "drivers" / "foo" / "foo.c").write_text("garbage in the work tree\n")  # rev: HEAD ignores it
    (fleet_dir / "git.yaml").write_text(f"trees:\n  - name: oldgit\n    path: {old}\n    rev: HEAD\n")
    out = fleet_dir / "out"
    assert main(["triage", str(fleet_dir / "queue"), "--trees", str(fleet_dir / "git.yaml"), "--out", str(out),
                 "-q"]) == 0
    m = _matrix(out)
    assert _statuses(m, "oldgit") == EXPECTED_OLD
    assert m["trees"][0]["identity"].startswith("git:") and m["trees"][0]["rev"] == "HEAD"


def _numbered_series(directory: Path) -> Path:
    """Two patches of one numbered series; patch 2 edits a line patch 1 adds."""
    base = "int a;\nint b;\nint c;\n"
    one = "int a;\nint b;\nint b2;\nint c;\n"
    two = "int a;\nint b;\nint b2 = 2;\nint c;\n"
    import difflib

    def diff(x: str, y: str) -> str:
        return "".join(difflib.unified_diff(x.splitlines(True), y.splitlines(True), "a/lib/s.c", "b/lib/s.c"))

    text = ""
    for n, (x, y) in enumerate(((base, one), (one, two)), 1):
        text += (f"From {n:040x} Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nDate: Mon, 3 Aug 2026 10:00:0{n} +0200\n"
                 f"Subject: [PATCH {n}/2] s: step {n}\n\nstep {n}\n---\ndiff --git a/lib/s.c b/lib/s.c\n{diff(x, y)}")
    (directory / "lib").mkdir(parents=True, exist_ok=True)
    (directory / "lib" / "s.c").write_text(base)
    mbox = directory / "series.mbox"
    mbox.write_text(text)
    return mbox


def test_a_numbered_series_is_triaged_in_order_a_queue_independently(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    mbox = _numbered_series(tree)
    series = load_series([str(mbox)])
    assert queue_order(series) == "series"
    (tmp_path / "f.yaml").write_text(f"trees:\n  - name: t\n    path: {tree}\n")
    fleet = load_fleet(str(tmp_path / "f.yaml"))
    stacked = run_triage(series, fleet, str(tmp_path / "s"))
    assert [r["status"] for r in stacked.records] == ["clean", "clean"]
    split = run_triage(series, fleet, str(tmp_path / "p"), engine=LocalEngine(jobs=2))  # patch 2 on another worker
    assert comparable(_matrix(tmp_path / "p")) == comparable(_matrix(tmp_path / "s")) and split.workers == 2
    # the same statuses as `port` gives the series
    results = port_series(series, DirTree(tree), options=PortOptions())
    assert [r.status.value for r in results] == ["clean", "clean"]
    alone = run_triage(series, fleet, str(tmp_path / "i"), order="independent")
    assert [r["status"] for r in alone.records] == ["clean", "conflict"]
    assert stacked.records[1]["key"] != alone.records[1]["key"]


def test_stable_review_numbering_is_a_queue(fleet_dir: Path) -> None:
    series = load_series([str(fleet_dir / "queue")])
    from dataclasses import replace

    numbered = replace(series, patches=tuple(replace(p, number=i, total=6, prefixes=("PATCH", "6.1"))
                                             for i, p in enumerate(series.patches, 1)))
    assert queue_order(numbered) == "independent"
    assert queue_order(replace(numbered, patches=tuple(replace(p, prefixes=("PATCH",)) for p in numbered.patches))) \
        == "series"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_matrix_html_is_self_contained_escaped_and_links_every_cell(fleet_dir: Path) -> None:
    q = fleet_dir / "queue"
    first = q / "0001-patch.patch"
    first.write_text(first.read_text().replace("Subject: [PATCH] foo: check ready before setup",
                                               "Subject: [PATCH] foo: <script>alert(1)</script> check"))
    out = fleet_dir / "out"
    assert main(["triage", str(q), "--trees", str(fleet_dir / "fleet.yaml"), "--out", str(out), "-q"]) == 0
    html = (out / "matrix.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = _Tags()
    page.feed(html)
    names = {t for t, _ in page.tags}
    assert not names & {"script", "link", "img", "iframe", "object"}
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert len(hrefs) == 12
    for href in hrefs:
        assert href.startswith("cells/") and (out / href).is_file(), href
    style = html.split("<style>")[1].split("</style>")[0]
    assert "url(" not in style and "@import" not in style
    boxes = [a["id"] for t, a in page.tags if t == "input"]
    assert "fs-conflict" in boxes and "ft-0" in boxes and "ft-1" in boxes
    assert 'class="cell s-conflict t-1"' in html
    assert "#fs-conflict:not(:checked)~table td.s-conflict a" in style


def test_verify_build_refuses_a_tree_read_at_a_rev(fleet_dir: Path, capsys) -> None:
    old = fleet_dir / "old"
    subprocess.run(["git", "init", "-q", str(old)], check=True)
    (fleet_dir / "git.yaml").write_text(f"trees:\n  - name: oldgit\n    path: {old}\n    rev: HEAD\n")
    rc = main(["triage", str(fleet_dir / "queue"), "--trees", str(fleet_dir / "git.yaml"),
               "--out", str(fleet_dir / "out"), "--verify", "build"])
    assert rc == 2 and "git.yaml:2: error: --verify build compiles a tree on disk" in capsys.readouterr().err


def test_progress_bar_draws_on_a_terminal_and_stays_quiet_when_piped(fleet_dir: Path) -> None:
    import io

    from backport.triage.progress import TriageProgress

    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    series = load_series([str(fleet_dir / "queue")])
    piped = io.StringIO()
    with TriageProgress(piped) as progress:  # StringIO is not a terminal
        run_triage(series, fleet, str(fleet_dir / "a"), progress=progress)
    assert piped.getvalue() == ""
    term = io.StringIO()
    with TriageProgress(term, enabled=True) as progress:
        run_triage(series, fleet, str(fleet_dir / "b"), progress=progress)
    text = term.getvalue()
    assert "12/12" in text and "cells" in text and "/s" in text


def test_a_patch_given_twice_gets_two_rows_on_every_engine(fleet_dir: Path) -> None:
    q = fleet_dir / "queue"
    (q / "0007-again.patch").write_text((q / "0002-patch.patch").read_text())
    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    series = load_series([str(q)])
    assert len(series.patches) == 7
    for name, engine in (("inline", None), ("dask", DaskEngine(jobs=2, processes=False))):
        run = run_triage(series, fleet, str(fleet_dir / name), engine=engine)
        st = {(r["patch"], r["tree"]): r["status"] for r in run.records}
        assert len(run.records) == 14 and st[7, "old"] == st[2, "old"] == "adapted", name
        assert run.records[-1]["links"]["dir"].startswith("cells/old/0007-")
        assert (fleet_dir / name / run.records[-1]["links"]["report"]).is_file()


def test_a_patch_that_moved_in_the_queue_reuses_its_finished_cell(fleet_dir: Path) -> None:
    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    q = fleet_dir / "queue"
    out = fleet_dir / "out"
    run_triage(load_series([str(q)]), fleet, str(out))
    (q / "0000-first.patch").write_text((q / "0004-patch.patch").read_text().replace("baz: bound irq", "baz: new"))
    (q / "0004-patch.patch").rename(q / "0009-patch.patch")  # baz moves from row 4 to the end
    run = run_triage(load_series([str(q)]), fleet, str(out))
    assert (run.computed, run.reused) == (2, 12)  # only the new patch (same diff as baz, another message)
    by = {(r["patch"], r["tree"]): r for r in run.records}
    assert by[7, "old"]["subject"] == "baz: bound irq" and by[7, "old"]["status"] == "not-applicable"
    assert by[7, "old"]["links"]["dir"] == "cells/old/0007-baz-bound-irq"
    assert (out / by[7, "old"]["links"]["report"]).is_file()
    assert by[1, "old"]["subject"] == "baz: new" and by[2, "old"]["subject"] == "foo: check ready before setup"
    m = _matrix(out)
    jsonschema.validate(m, json.loads(SCHEMA_PATH.read_text()))
    assert [c["patch"] for c in m["cells"]] == [i for i in range(1, 8) for _ in range(2)]


def test_cli_engine_dask_connects_to_a_running_scheduler(fleet_dir: Path, capsys) -> None:
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        out = fleet_dir / "out"
        rc = main(["triage", str(fleet_dir / "queue"), "--trees", str(fleet_dir / "fleet.yaml"), "--out", str(out),
                   "--engine", "dask", "--scheduler", cluster.scheduler_address])
    assert rc == 0
    m = _matrix(out)
    assert m["run"]["engine"] == "dask" and m["run"]["workers"] == 2
    assert _statuses(m, "old") == EXPECTED_OLD
    assert main(["triage", str(fleet_dir / "queue"), "--trees", str(fleet_dir / "fleet.yaml"), "--out", str(out),
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err


def test_a_worker_running_other_code_refuses_the_cell(fleet_dir: Path) -> None:
    from dataclasses import replace

    from backport.triage.cell import run_cell
    from backport.triage.run import plan_cells

    fleet = load_fleet(str(fleet_dir / "fleet.yaml"))
    spec = plan_cells(load_series([str(fleet_dir / "queue")]), fleet, PortOptions(), order="independent",
                      verify=None, identities={"new": "a", "old": "b"})[0]
    assert run_cell(spec).record["status"] == "clean"
    other = run_cell(replace(spec, tool="0.0.1+000000000000")).record
    assert other["status"] == "error" and "install the same version on every worker" in other["reason"]
