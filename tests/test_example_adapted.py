"""The bundled example's adapted hunk: the 4.20-era linker-script hunk spells the mcount section
bounds bare (VMLINUX_SYMBOL() was dropped upstream by a621438500533, "vmlinux.lds.h: remove
no-op macro VMLINUX_SYMBOL()", v4.18); the 4.9 tree still wraps them. The port writes the added
lines in the target's spelling and says so in every place a reviewer looks; `git am` of the
demo's patches onto a git copy of the example tree takes them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from test_prereq import init_repo
from test_render_common import check_golden

from kb.example import run_demo

VMLINUX = "include/asm-generic/vmlinux.lds.h"


def _adapted(run):
    return [(i, p) for i, r in enumerate(run.results) for p in r.placements if p.adaptations]


def test_the_linker_script_hunk_is_adapted_to_the_targets_spelling(tmp_path, update_golden):
    run = run_demo(str(tmp_path / "out"))
    adapted = _adapted(run)
    assert [(i, p.path) for i, p in adapted] == [(0, VMLINUX)]
    p = adapted[0][1]
    assert p.applied and {a.kind for a in p.adaptations} == {"token"}
    assert [a.port for a in p.adaptations] == [("+\t\t\tVMLINUX_SYMBOL(__start_mcount_loc) = .;\t\t\t\\",),
                                              ("+\t\t\tVMLINUX_SYMBOL(__stop_mcount_loc) = .;",)]
    assert all(e.startswith(f"{VMLINUX}:1") and "VMLINUX_SYMBOL(" in e for a in p.adaptations for e in a.evidence)
    finding = [f for f in run.results[0].findings if f.code == "adapted"]
    assert len(finding) == 1 and "VMLINUX_SYMBOL(__start_mcount_loc)" in finding[0].message
    out = tmp_path / "out"
    mail = next(out.glob("0001-*.patch")).read_text()
    notes = [ln for ln in mail.split("\n---\n")[0].splitlines() if ln.startswith(("[ backport: ", "  "))
             and "mcount_loc" in ln]
    assert notes[0].startswith("[ backport: VMLINUX_SYMBOL(__start_mcount_loc) as the target reads it")
    diff = mail.split(f"diff --git a/{VMLINUX} b/{VMLINUX}\n", 1)[1].split("diff --git", 1)[0]
    check_golden("example-vmlinux.diff", diff, update_golden)
    checklist = (out / "checklist.md").read_text()
    assert re.search(r"- \[ \] \*\*adapted\*\* include/asm-generic/vmlinux\.lds\.h hunk 1 at "
                     r"include/asm-generic/vmlinux\.lds\.h:\d+: VMLINUX_SYMBOL\(__start_mcount_loc\)", checklist)
    html = (out / "report.html").read_text()
    assert html.count('<div class="side three">') == 1 and "VMLINUX_SYMBOL(__stop_mcount_loc) as the target" in html
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["adapted"] == 1


def test_git_am_takes_the_demo_patches_onto_the_example_tree(tmp_path):
    run = run_demo(str(tmp_path / "out"))
    repo = tmp_path / "tree"
    shutil.copytree(Path(run.example) / "tree", repo)

    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    init_repo(repo)
    git("add", "-A")
    git("commit", "-q", "-m", "4.9 tree")
    git("am", *sorted(str(p) for p in (tmp_path / "out").glob("0*.patch")))
    script = (repo / VMLINUX).read_text()
    assert script.count("VMLINUX_SYMBOL(__start_mcount_loc)") == 2 and "\t__start_mcount_loc" not in script
    assert "#ifdef CC_USING_PATCHABLE_FUNCTION_ENTRY\n" in script
    body = git("log", "--format=%B", "-1", "HEAD~1")
    assert "[ backport: VMLINUX_SYMBOL(__start_mcount_loc) as the target reads" in body
