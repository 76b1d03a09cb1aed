"""Kill --apply midway: SIGKILL leaves a journal that revert / the next apply rolls back;
SIGINT and SIGTERM roll back in-process. The tree ends exactly as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_apply import CHANGES, make_tree, snapshot

from backport.apply import PAUSE_ENV, apply_results, find_records, revert_apply
from backport.cli import main

CHILD = """
import sys
from backport.apply import apply_results
from backport.model import Patch, PortResult
changes = {changes!r}
apply_results(sys.argv[1], [PortResult(patch=Patch(subject="s"), new_files=tuple(changes))])
print("finished")
"""


def start_child(root: Path, pause: float = 1.0) -> subprocess.Popen[str]:
    code = CHILD.format(changes=list(CHANGES))
    return subprocess.Popen([sys.executable, "-c", code, str(root)], env={**os.environ, PAUSE_ENV: str(pause)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_midway(root: Path, child: subprocess.Popen[str]) -> None:
    """Return once the child has renamed at least one file (the journal says committing)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        records = find_records(str(root))
        if records:
            try:
                state = json.loads(Path(records[-1], "journal.json").read_text())["state"]
            except (OSError, ValueError):
                state = ""
            # Kconfig is the first entry renamed (entries are sorted by path)
            if state == "committing" and "HAVE_DYNAMIC" in (root / "arch/arm64/Kconfig").read_text():
                return
        time.sleep(0.02)
    pytest.fail("the child never reached the commit phase")


def kill_midway(root: Path, sig: int) -> subprocess.Popen[str]:
    child = start_child(root)
    wait_midway(root, child)
    child.send_signal(sig)
    child.wait(timeout=30)
    return child


def test_sigkill_midway_then_revert_restores_the_tree(tmp_path):
    before = make_tree(tmp_path)
    child = kill_midway(tmp_path, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    assert snapshot(tmp_path) != before  # it really was killed halfway
    assert any(p.name.startswith(".bp-") for p in tmp_path.rglob("*"))  # staged files left behind
    restored = revert_apply(str(tmp_path))
    assert "arch/arm64/Kconfig" in restored
    assert snapshot(tmp_path) == before
    assert not any(p.name.startswith(".bp-") for p in tmp_path.rglob("*"))
    (record,) = find_records(str(tmp_path))
    assert json.loads(Path(record, "journal.json").read_text())["state"] == "rolled-back"


def test_sigkill_midway_then_the_next_apply_recovers_first(tmp_path):
    before = make_tree(tmp_path)
    kill_midway(tmp_path, signal.SIGKILL)
    apply_results(str(tmp_path), [])  # recovers, then applies nothing
    assert snapshot(tmp_path) == before


def test_sigkill_midway_then_cli_revert(tmp_path, capsys):
    before = make_tree(tmp_path)
    kill_midway(tmp_path, signal.SIGKILL)
    assert main(["revert", str(tmp_path)]) == 0
    assert snapshot(tmp_path) == before
    assert "restored" in capsys.readouterr().out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_midway_rolls_back_in_process(tmp_path, sig):
    before = make_tree(tmp_path)
    child = kill_midway(tmp_path, sig)
    out, err = child.communicate()
    assert "finished" not in out
    assert "KeyboardInterrupt" in err
    assert snapshot(tmp_path) == before  # nobody ran revert: the child restored it itself
    (record,) = find_records(str(tmp_path))
    assert json.loads(Path(record, "journal.json").read_text())["state"] == "rolled-back"
