"""A triage run killed with SIGKILL keeps every finished cell; the rerun computes only the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from triage_trees import EXPECTED_OLD, make_fleet, make_queue, make_trees

from backport.ingest import load_series
from backport.triage import load_fleet, run_triage

EXTRA = 60
DASK_EXTRA = 24


def _finished(out: Path) -> dict[str, tuple[int, int]]:
    """cell dir -> (inode, mtime_ns) of its cell.json, for every committed cell."""
    found = {}
    for f in (out / "cells").glob("*/*/cell.json"):
        if f.parent.name.startswith("."):  # a cell being written (.tmp-*) or replaced (.old-*)
            continue
        st = f.stat()
        found[str(f.parent.relative_to(out))] = (st.st_ino, st.st_mtime_ns)
    return found


def test_sigkill_loses_no_finished_cell_and_the_rerun_completes_only_the_missing(tmp_path: Path) -> None:
    new, old = make_trees(tmp_path, extra=EXTRA)
    queue = make_queue(tmp_path / "queue", extra=EXTRA)
    fleet_file = make_fleet(tmp_path, new, old)
    out = tmp_path / "out"
    total = 2 * (6 + EXTRA)
    proc = subprocess.Popen([sys.executable, "-m", "backport", "triage", str(queue), "--trees", str(fleet_file),
                             "--out", str(out), "-j", "2", "-q"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "cells").is_dir() and len(_finished(out)) >= 3:
                break
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes, mid-run
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    before = _finished(out)
    assert 3 <= len(before) < total, len(before)
    assert not (out / "matrix.json").exists()

    run = run_triage(load_series([str(queue)]), load_fleet(str(fleet_file)), str(out))
    assert run.reused == len(before) and run.computed == total - len(before)
    after = _finished(out)
    assert len(after) == total
    for d, stamp in before.items():  # finished cells were kept as written, not redone
        assert after[d] == stamp, d
    assert not list((out / "cells").glob("*/.tmp-*")) and not list((out / "cells").glob("*/.old-*"))
    statuses = {r["patch"]: r["status"] for r in run.records if r["tree"] == "old" and r["patch"] <= 6}
    assert statuses == EXPECTED_OLD


def test_a_dask_worker_killed_mid_run_loses_no_cell_and_the_run_completes(tmp_path: Path) -> None:
    """A real worker process SIGKILLed while cells run: its finished cells stay as written, the
    scheduler moves its other cells (loose restrictions), and the matrix is complete."""
    import logging
    import threading

    from distributed import Client, LocalCluster

    from backport.triage import DaskEngine

    new, old = make_trees(tmp_path, extra=DASK_EXTRA)
    queue = make_queue(tmp_path / "queue", extra=DASK_EXTRA)
    fleet = load_fleet(str(make_fleet(tmp_path, new, old)))
    series = load_series([str(queue)])
    out = tmp_path / "out"
    total = 2 * (6 + DASK_EXTRA)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        box: dict[str, object] = {}
        runner = threading.Thread(target=lambda: box.update(run=run_triage(
            series, fleet, str(out), engine=DaskEngine(cluster.scheduler_address))))
        runner.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not (out / "cells").is_dir() or len(_finished(out)) < 3):
            time.sleep(0.005)
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        before = _finished(out)
        runner.join(180)
    assert not runner.is_alive()
    run = box["run"]
    assert 3 <= len(before) < total
    after = _finished(out)
    assert len(after) == total and len(run.records) == total  # type: ignore[attr-defined]
    for d, stamp in before.items():
        assert after[d] == stamp, d
    assert not list((out / "cells").glob("*/.tmp-*"))
    statuses = {r["patch"]: r["status"] for r in run.records if r["tree"] == "old" and r["patch"] <= 6}  # type: ignore[attr-defined]
    assert statuses == EXPECTED_OLD
