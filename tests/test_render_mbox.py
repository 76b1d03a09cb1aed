"""The annotated mbox: its text (golden) and a real `git am` of it onto a miniature target."""

from __future__ import annotations

import subprocess
from pathlib import Path

from test_render_common import (
    PATCH_1,
    PORTED_1,
    RESULT_1,
    RESULT_2,
    RESULTS,
    TARGET_FILES,
    check_golden,
    make_target_repo,
)

from backport.model import PortResult
from backport.render.mbox import find_signoff, render_diffstat, render_mbox, render_message, render_patch_mail

PORTER = "Porter Person <porter@example.org>"


def git(repo: Path, *args: str, input: str | None = None) -> str:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, input=input)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_mbox_golden(update_golden):
    check_golden("series.mbox", render_mbox(RESULTS, signoff=PORTER), update_golden)


def test_git_am_accepts_the_mbox(tmp_path):
    repo = make_target_repo(tmp_path / "target")
    mbox = tmp_path / "port.mbox"
    mbox.write_text(render_mbox(RESULTS, signoff=PORTER), encoding="utf-8")
    git(repo, "am", str(mbox))

    log = git(repo, "log", "--format=%an <%ae>|%ad|%s", "--date=rfc", "-2").splitlines()
    assert log == [
        "Jürgen Groß <jgross@example.org>|Tue, 13 Sep 2022 12:27:42 -0400|arm64: ftrace: Add ftrace direct call support",
        "Xu Kuohai <xukuohai@huawei.com>|Tue, 13 Sep 2022 12:27:40 -0400|ftrace: Allow users to disable ftrace direct call",
    ]
    first = git(repo, "log", "-1", "--format=%B", "HEAD~1")
    assert first.splitlines()[2] == "[ Upstream commit 5fcb2bd81f30e3fa1fbc0436ef5c6bf9c18f1f8b ]"
    assert "For users who don't need direct calls, provide a switch." in first
    trailers = git(repo, "interpret-trailers", "--parse", input=first).splitlines()
    assert trailers[0] == "Signed-off-by: Xu Kuohai <xukuohai@huawei.com>"
    assert trailers[-1] == f"Signed-off-by: {PORTER}"  # the porter's goes last

    second = git(repo, "log", "-1", "--format=%B", "HEAD")
    assert "Left out (see leftovers):" in second and "entry-ftrace.S hunk 1" in second
    assert second.rstrip().splitlines()[-1] == f"Signed-off-by: {PORTER}"
    # a long note is its own paragraph, so git still sees every trailer
    assert git(repo, "interpret-trailers", "--parse", input=second).splitlines() == [
        "Signed-off-by: Jürgen Groß <jgross@example.org>", "Acked-by: Mark Rutland <mark.rutland@arm.com>",
        f"Signed-off-by: {PORTER}"]

    ftrace = (repo / "kernel/trace/ftrace.c").read_text()
    assert "\tftrace_direct_disabled = 0;\n" in ftrace and "return -EOPNOTSUPP;" in ftrace
    kconfig = (repo / "arch/arm64/Kconfig").read_text()
    assert "select HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS\n\tselect HAVE_EFFICIENT" in kconfig
    assert not (repo / "arch/arm64/kernel/entry-ftrace.S").exists()
    assert set(git(repo, "ls-files").split()) == set(TARGET_FILES)


def test_nothing_placed_gives_no_mail():
    empty = PortResult(PATCH_1, RESULT_1.placements, (), "")
    assert render_patch_mail(empty) == ""
    assert render_mbox((empty, RESULT_2)).count("\nSubject: [PATCH 2/2] ") == 1


def test_one_line_note_sits_between_the_signoffs():
    msg = render_message(PortResult(PATCH_1, (RESULT_1.placements[1],), (), PORTED_1), signoff=PORTER)
    assert msg.endswith("Signed-off-by: Xu Kuohai <xukuohai@huawei.com>\n"
                        "[ backport 0.1.0: clean; every hunk applied as is, no findings ]\n"
                        f"Signed-off-by: {PORTER}\n")


def test_no_signoff_and_no_duplicate_provenance():
    stable = PortResult(PATCH_1.__class__(**{**{f: getattr(PATCH_1, f) for f in PATCH_1.__slots__},
                                             "body": "commit 5fcb2bd81f30 upstream.\n\nText.\n"}),
                        RESULT_1.placements, (), PORTED_1)
    msg = render_message(stable)
    assert "Upstream commit" not in msg and msg.startswith("commit 5fcb2bd81f30 upstream.")
    assert "Signed-off-by" not in msg


def test_single_patch_subject_and_fallback_author():
    anon = PortResult(PATCH_1.__class__(subject="fix it", body="Fix.\n"), (), (), PORTED_1)
    mail = render_patch_mail(anon, fallback_author=PORTER)
    assert "\nSubject: [PATCH] fix it\n" in mail and f"\nFrom: {PORTER}\n" in mail
    assert "\nDate:" not in mail


def test_diffstat_counts_only_hunk_lines():
    stat = render_diffstat(PORTED_1)
    assert stat == " kernel/trace/ftrace.c |   4 ++++\n 1 file changed, 4 insertions(+)\n"


def test_find_signoff_reads_the_target_config(tmp_path):
    repo = make_target_repo(tmp_path / "t")
    assert find_signoff(str(repo)) == PORTER
