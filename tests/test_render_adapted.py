"""Adapted hunks where the reviewer looks: the ported mail's bracketed notes (and a real
`git am`), the checklist box, report.html's three columns, report.json (schema-checked) and
the terminal summary. Synthetic Adaptation values: render is pure."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from test_render_common import (
    H1,
    P1,
    P2,
    PATCH_1,
    PORTED_1,
    RESULT_2,
    check_golden,
    hunk,
    make_target_repo,
)

from backport.adaptation import check_adaptations
from backport.model import Adaptation, FilePatch, PortResult, SourceRef, Status
from backport.render.checklist import find_checklist_items, render_checklist
from backport.render.html import render_html
from backport.render.mbox import render_mbox, render_message
from backport.render.note import note_name, render_adaptation_notes
from backport.render.report_json import check_report, render_json, render_report
from backport.render.summary import render_summary

PORTER = "Porter Person <porter@example.org>"

# upstream wrote the test with a helper the (synthetic) 6.1 target does not have; the port
# spells it the way the target's own code does (PORTED_1 is what really applies to the target)
UP_LINE = "+\tif (ftrace_ops_is_direct(ops) && ftrace_direct_disabled)"
PORT_LINE = "+\tif ((ops->flags & FTRACE_OPS_FL_DIRECT) && ftrace_direct_disabled)"
H1_UP = hunk(1340, 1340, H1.section,
             "\tif (unlikely(ftrace_disabled))\n\t\treturn -ENODEV;\n\n"
             "+\tif (ftrace_ops_is_direct(ops) && ftrace_direct_disabled)\n+\t\treturn -EOPNOTSUPP;\n+\n"
             "\tret = __register_ftrace_function(ops);\n\tif (ret)\n\t\treturn ret;",
             ref=SourceRef("series.mbox", 40))
API = Adaptation(
    "api", "open-code ftrace_ops_is_direct(), 6.1 has no such helper",
    upstream=(UP_LINE,), port=(PORT_LINE,),
    evidence=("kernel/trace/ftrace.c:25: \tops->flags &= ~FTRACE_OPS_FL_ENABLED;",),
    path="kernel/trace/ftrace.c", line=14, ref=SourceRef("series.mbox", 43),
    references=("0123456789abcdef0123456789abcdef01234567",), rule="ftrace-ops-is-direct")
TOKEN = Adaptation("token", "keep -EOPNOTSUPP as the target's callers expect", upstream=("+\t\treturn -EOPNOTSUPP;",),
                   port=("+\t\treturn -EOPNOTSUPP;",), path="kernel/trace/ftrace.c", line=15)
P1A = replace(P1, hunk=H1_UP, adaptations=(API, TOKEN), target_new=tuple(
    ln.text if ln.text != UP_LINE[1:] else PORT_LINE[1:] for ln in H1_UP.lines if ln.kind.value != "-"))
PATCH_1A = replace(PATCH_1, files=(FilePatch("kernel/trace/ftrace.c", "kernel/trace/ftrace.c",
                                             (H1_UP, P2.hunk), "1a2b3c4", "5d6e7f8"),))
FINDINGS = tuple(check_adaptations((P1A, P2)))
RESULT_A = PortResult(PATCH_1A, (P1A, P2), FINDINGS, PORTED_1, Status.REVIEW, seconds=0.01)


def test_adapted_finding_exists_for_the_hunk():
    assert [f.code for f in FINDINGS] == ["adapted"]
    assert "open-code ftrace_ops_is_direct()" in FINDINGS[0].message


def test_bracketed_notes_name_the_porter_and_each_distinct_change():
    assert note_name(PORTER) == "Porter" and note_name(None) == "backport"
    assert render_adaptation_notes(RESULT_A, who="Porter") == [
        "[ Porter: open-code ftrace_ops_is_direct(), 6.1 has no such helper ]",
        "[ Porter: keep -EOPNOTSUPP as the target's callers expect ]"]
    long = replace(RESULT_A, placements=(replace(P1A, adaptations=(replace(API, summary="x " * 60),)),))
    lines = render_adaptation_notes(long)
    assert len(lines) > 1 and lines[0].startswith("[ backport: ") and lines[-1].endswith(" ]")
    assert all(ln.startswith("  ") for ln in lines[1:]) and all(len(ln) <= 72 for ln in lines)
    held = replace(RESULT_A, placements=(replace(P1A, applied=False),))
    assert render_adaptation_notes(held) == []  # not in the patch: nothing to annotate


def test_mail_puts_the_notes_just_above_the_porters_signoff():
    msg = render_message(RESULT_A, signoff=PORTER)
    tail = msg.rstrip("\n").split("\n\n")[-1].splitlines()
    assert tail == ["Signed-off-by: Xu Kuohai <xukuohai@huawei.com>",
                    "[ Porter: open-code ftrace_ops_is_direct(), 6.1 has no such helper ]",
                    "[ Porter: keep -EOPNOTSUPP as the target's callers expect ]",
                    f"Signed-off-by: {PORTER}"]
    assert msg.splitlines()[0] == "[ Upstream commit 5fcb2bd81f30e3fa1fbc0436ef5c6bf9c18f1f8b ]"


def test_many_notes_become_a_paragraph_so_git_keeps_the_trailers():
    many = tuple(replace(API, summary=f"change {k}") for k in range(9))
    r = replace(RESULT_A, placements=(replace(P1A, adaptations=many),))
    paragraphs = render_message(r, signoff=PORTER).rstrip("\n").split("\n\n")
    assert paragraphs[-1].splitlines()[-1] == f"Signed-off-by: {PORTER}"
    assert not any(ln.startswith("[ Porter: change") for ln in paragraphs[-1].splitlines())
    assert "[ Porter: change 8 ]" in paragraphs[-2]


def git(repo: Path, *args: str, input: str | None = None) -> str:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, input=input)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_git_am_takes_the_adapted_mail_and_keeps_the_notes_and_trailers(tmp_path):
    repo = make_target_repo(tmp_path / "target")
    mbox = tmp_path / "port.mbox"
    mbox.write_text(render_mbox((RESULT_A,), signoff=PORTER), encoding="utf-8")
    git(repo, "am", str(mbox))
    body = git(repo, "log", "-1", "--format=%B")
    assert "[ Porter: open-code ftrace_ops_is_direct(), 6.1 has no such helper ]" in body
    assert git(repo, "interpret-trailers", "--parse", input=body).splitlines() == [
        "Signed-off-by: Xu Kuohai <xukuohai@huawei.com>", f"Signed-off-by: {PORTER}"]
    assert "(ops->flags & FTRACE_OPS_FL_DIRECT) && ftrace_direct_disabled" in (
        repo / "kernel/trace/ftrace.c").read_text()


def test_mail_golden(update_golden):
    check_golden("adapted.mbox", render_mbox((RESULT_A,), signoff=PORTER), update_golden)


def test_checklist_has_one_adapted_box_with_both_versions_and_the_evidence(update_golden):
    items = find_checklist_items(RESULT_A)
    assert [it.kind for it in items] == ["adapted"]  # the adapted finding is merged into it
    item = items[0]
    assert "open-code ftrace_ops_is_direct()" in item.title and "kernel/trace/ftrace.c:11" in item.title
    assert "api at kernel/trace/ftrace.c:14, kb API table `ftrace-ops-is-direct`: open-code " \
           "ftrace_ops_is_direct(), 6.1 has no such helper" in item.details
    assert "learned from kernel/trace/ftrace.c:25: \tops->flags &= ~FTRACE_OPS_FL_ENABLED;" in item.details
    rows = item.code_block.splitlines()
    assert "upstream kernel/trace/ftrace.c" in rows[0] and "port kernel/trace/ftrace.c:11" in rows[0]
    assert any(" ! " in r and "ftrace_ops_is_direct" in r and "FTRACE_OPS_FL_DIRECT" in r for r in rows)
    check_golden("adapted-checklist.md", render_checklist((RESULT_A, RESULT_2)), update_golden)


def test_html_shows_upstream_target_and_port_and_the_adaptation_table():
    html = render_html((RESULT_A,))
    assert html.count('<div class="side three">') == 1 and html.count('<div class="side">') == 1
    assert '<div class="hunk sure adapted">' in html and "adapted (2)" in html
    cols = html.split('<div class="side three">')[1].split('<table class="adapt">')[0]
    titles = [t.split("</div>")[0] for t in cols.split('<div class="col-title">')[1:]]
    assert titles[0].startswith("upstream kernel/trace/ftrace.c hunk 1")
    assert titles[1] == "target kernel/trace/ftrace.c:11" and titles[2].startswith("port kernel/trace/ftrace.c @@")
    assert '<span class="adapted-line add">+\tif ((ops-&gt;flags &amp; FTRACE_OPS_FL_DIRECT)' in html
    table = html.split('<table class="adapt">')[1].split("</table>")[0]
    assert '<span class="kind">api</span> open-code ftrace_ops_is_direct(), 6.1 has no such helper' in table
    assert "kb API table <code>ftrace-ops-is-direct</code>" in table
    assert "undoes upstream <code>0123456789abcdef0123456789abcdef01234567</code>" in table
    assert "<th>adapted</th>" in html


def test_json_carries_the_adaptations_and_validates():
    data = render_report((RESULT_A, RESULT_2))
    assert check_report(data) == ()
    first = data["patches"][0]["placements"][0]["adaptations"]
    assert first[0] == {"kind": "api", "summary": API.summary, "upstream": [UP_LINE], "port": [PORT_LINE],
                        "evidence": list(API.evidence), "path": "kernel/trace/ftrace.c", "line": 14,
                        "ref": {"path": "series.mbox", "line": 43}, "references": list(API.references),
                        "rule": "ftrace-ops-is-direct"}
    assert data["summary"]["adapted"] == 1
    assert data["patches"][1]["placements"][0]["adaptations"] == []
    broken = json.loads(render_json((RESULT_A,)))
    broken["patches"][0]["placements"][0]["adaptations"][0]["kind"] = "guess"
    assert any("adaptations" in e and "guess" in e for e in check_report(broken))


def test_terminal_summary_counts_and_lists_the_adaptations():
    text = render_summary((RESULT_A, RESULT_2), color=False)
    lines = text.splitlines()
    assert lines[0].split() == ["#", "patch", "status", "hunks", "methods", "doubtful", "adapted", "E/W/N"]
    assert lines[1].split()[-2:] == ["1", "0/1/0"]
    assert "  adapted [1/2] kernel/trace/ftrace.c:14: open-code ftrace_ops_is_direct(), 6.1 has no such helper" \
        in lines
    assert lines[-1].endswith("3/4 hunks placed, 1 adapted, 1 error, 3 warnings")
    assert all(len(ln) <= 100 for ln in lines)
    assert "\x1b[35m  adapted" in render_summary((RESULT_A,), color=True)


@pytest.mark.browser
def test_three_columns_render_in_headless_chromium(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    assert browser, "apt-get install -y chromium"
    page = tmp_path / "report.html"
    page.write_text(render_html((RESULT_A, RESULT_2)), encoding="utf-8")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr
    assert dom.stdout.count('class="side three"') == 1 and 'class="adapt"' in dom.stdout
    assert "open-code ftrace_ops_is_direct(), 6.1 has no such helper" in dom.stdout
