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


def _finished(out: Path) -> dict[str, tuple[int, int]]:
    """cell dir -> (inode, mtime_ns) of its cell.json, for every committed cell."""
    found = {}
    for f in (out / "cells").glob("*/*/cell.json"):
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
            if (out / "cells").is_dir() and len(list((out / "cells").glob("*/*/cell.json"))) >= 3:
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
