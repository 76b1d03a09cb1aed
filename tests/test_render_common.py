"""A hand-built two-patch port (model values only) shared by the render tests, and the tests
of backport.render.note (plain-words descriptions and the backport note).

The target is a miniature kernel-like tree (TARGET_FILES); PORTED_1/PORTED_2 are diffs that
really apply to it in order, so the annotated mbox can be fed to a real ``git am``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from backport.model import (
    Alternative,
    FilePatch,
    Finding,
    Hunk,
    HunkLine,
    LineKind,
    Method,
    Patch,
    Placement,
    PortResult,
    ReviewComment,
    Series,
    Severity,
    SourceRef,
    Status,
    Trailer,
)
from backport.render.note import describe_placement, is_doubtful, render_leftovers, render_note

FTRACE_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/ftrace.h>

static int ftrace_disabled;
static int ftrace_direct_disabled;

int ftrace_startup(struct ftrace_ops *ops, int command)
{
\tint ret;

\tif (unlikely(ftrace_disabled))
\t\treturn -ENODEV;

\tret = __register_ftrace_function(ops);
\tif (ret)
\t\treturn ret;

\treturn 0;
}

void ftrace_shutdown(struct ftrace_ops *ops, int command)
{
\tif (unlikely(ftrace_disabled))
\t\treturn;
\tops->flags &= ~FTRACE_OPS_FL_ENABLED;
}
"""

KCONFIG = """\
config ARM64
\tdef_bool y
\tselect HAVE_DYNAMIC_FTRACE
\tselect HAVE_EFFICIENT_UNALIGNED_ACCESS
\tselect HAVE_FTRACE_MCOUNT_RECORD
\tselect HAVE_FUNCTION_TRACER
"""

TARGET_FILES = {"kernel/trace/ftrace.c": FTRACE_C, "arch/arm64/Kconfig": KCONFIG}

PORTED_1 = """\
diff --git a/kernel/trace/ftrace.c b/kernel/trace/ftrace.c
--- a/kernel/trace/ftrace.c
+++ b/kernel/trace/ftrace.c
@@ -11,6 +11,9 @@ int ftrace_startup(struct ftrace_ops *ops, int command)
 \tif (unlikely(ftrace_disabled))
 \t\treturn -ENODEV;
\x20
+\tif ((ops->flags & FTRACE_OPS_FL_DIRECT) && ftrace_direct_disabled)
+\t\treturn -EOPNOTSUPP;
+
 \tret = __register_ftrace_function(ops);
 \tif (ret)
 \t\treturn ret;
@@ -22,5 +25,6 @@ void ftrace_shutdown(struct ftrace_ops *ops, int command)
 {
 \tif (unlikely(ftrace_disabled))
 \t\treturn;
+\tftrace_direct_disabled = 0;
 \tops->flags &= ~FTRACE_OPS_FL_ENABLED;
 }
"""

PORTED_2 = """\
diff --git a/arch/arm64/Kconfig b/arch/arm64/Kconfig
--- a/arch/arm64/Kconfig
+++ b/arch/arm64/Kconfig
@@ -2,5 +2,6 @@ config ARM64
 \tdef_bool y
 \tselect HAVE_DYNAMIC_FTRACE
+\tselect HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
 \tselect HAVE_EFFICIENT_UNALIGNED_ACCESS
 \tselect HAVE_FTRACE_MCOUNT_RECORD
 \tselect HAVE_FUNCTION_TRACER
"""


def hunk(old_start: int, new_start: int, section: str, spec: str, *, ref: SourceRef | None = None,
         comments: tuple[ReviewComment, ...] = ()) -> Hunk:
    """A Hunk from lines: ``+``/``-`` prefixed lines are added/removed, any other is context."""
    lines = tuple(HunkLine(LineKind(s[0]), s[1:]) if s[:1] in ("+", "-") else HunkLine(LineKind.CONTEXT, s)
                  for s in spec.split("\n"))
    old = sum(1 for ln in lines if ln.kind is not LineKind.ADDED)
    new = sum(1 for ln in lines if ln.kind is not LineKind.REMOVED)
    return Hunk(old_start, old, new_start, new, section, lines, ref, comments)


H1 = hunk(1340, 1340, "int ftrace_startup(struct ftrace_ops *ops, int command)",
          "\tif (unlikely(ftrace_disabled))\n\t\treturn -ENODEV;\n\n"
          "+\tif ((ops->flags & FTRACE_OPS_FL_DIRECT) && ftrace_direct_disabled)\n+\t\treturn -EOPNOTSUPP;\n+\n"
          "\tret = __register_ftrace_function(ops);\n\tif (ret)\n\t\treturn ret;",
          ref=SourceRef("series.mbox", 40))
H2 = hunk(22, 25, "void ftrace_shutdown(struct ftrace_ops *ops, int command)",
          "{\n\tif (unlikely(ftrace_disabled))\n\t\treturn;\n+\tftrace_direct_disabled = 0;\n"
          "\tops->flags &= ~FTRACE_OPS_FL_ENABLED;\n}",
          ref=SourceRef("series.mbox", 52))
H3 = hunk(180, 180, "config ARM64",
          "\tselect HAVE_DYNAMIC_FTRACE\n\tselect HAVE_DYNAMIC_FTRACE_WITH_ARGS\n"
          "+\tselect HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS\n\tselect HAVE_EFFICIENT_UNALIGNED_ACCESS",
          ref=SourceRef("series.mbox", 120),
          comments=(ReviewComment("Mark Rutland <mark.rutland@arm.com>",
                                  "This needs DYNAMIC_FTRACE_WITH_ARGS, which the older tree lacks.",
                                  SourceRef("series.mbox", 131)),))
H4 = hunk(92, 92, "",
          "\tmcount_exit\n+\n+SYM_CODE_START(ftrace_stub_direct_tramp)\n+\tret x9\n"
          "+SYM_CODE_END(ftrace_stub_direct_tramp)\n\t.endm",
          ref=SourceRef("series.mbox", 140))

FTRACE_FP = FilePatch("kernel/trace/ftrace.c", "kernel/trace/ftrace.c", (H1, H2), "1a2b3c4", "5d6e7f8")
KCONFIG_FP = FilePatch("arch/arm64/Kconfig", "arch/arm64/Kconfig", (H3,), "aaa1111", "bbb2222")
ENTRY_FP = FilePatch("arch/arm64/kernel/entry-ftrace.S", "arch/arm64/kernel/entry-ftrace.S", (H4,))

PATCH_1 = Patch(
    subject="ftrace: Allow users to disable ftrace direct call",
    files=(FTRACE_FP,), raw_subject="[PATCH bpf-next v2 1/4] ftrace: Allow users to disable ftrace direct call",
    prefixes=("PATCH", "bpf-next"), version=2, number=1, total=4,
    author="Xu Kuohai <xukuohai@huawei.com>", date="Tue, 13 Sep 2022 12:27:40 -0400",
    message_id="<20220913162732.163631-2-xukuohai@huaweicloud.com>",
    body="To support ftrace direct call on arm64, multiple NOP instructions need\n"
         "to be added to the ftrace fentry, which will make the kernel image\n"
         "larger. For users who don't need direct calls, provide a switch.\n\n"
         "Signed-off-by: Xu Kuohai <xukuohai@huawei.com>\n",
    trailers=(Trailer("Signed-off-by", "Xu Kuohai <xukuohai@huawei.com>"),),
    upstream_ids=("5fcb2bd81f30e3fa1fbc0436ef5c6bf9c18f1f8b",),
    ref=SourceRef("series.mbox", 1),
)
PATCH_2 = Patch(
    subject="arm64: ftrace: Add ftrace direct call support",
    files=(KCONFIG_FP, ENTRY_FP), raw_subject="[PATCH bpf-next v2 3/4] arm64: ftrace: Add ftrace direct call support",
    version=2, number=3, total=4,
    author="Jürgen Groß <jgross@example.org>", date="Tue, 13 Sep 2022 12:27:42 -0400",
    body="Add ftrace direct support for arm64.\n\n"
         "Signed-off-by: Jürgen Groß <jgross@example.org>\n"
         "Acked-by: Mark Rutland <mark.rutland@arm.com>\n",
    trailers=(Trailer("Signed-off-by", "Jürgen Groß <jgross@example.org>"),
              Trailer("Acked-by", "Mark Rutland <mark.rutland@arm.com>")),
    comments=(ReviewComment("Catalin Marinas <catalin.marinas@arm.com>",
                            "I'd like Mark to have a look at the ftrace changes first.",
                            SourceRef("series.mbox", 200)),),
    ref=SourceRef("series.mbox", 100),
)

P1 = Placement(H1, Method.OFFSET, "kernel/trace/ftrace.c", 11, -1329, 0, 1.0,
               target_old=H1.old_lines, target_new=H1.new_lines, file_index=0, hunk_index=0)
P2 = Placement(H2, Method.EXACT, "kernel/trace/ftrace.c", 22, 0, 0, 1.0,
               target_old=H2.old_lines, target_new=H2.new_lines, file_index=0, hunk_index=1)
P3 = Placement(H3, Method.FUZZY, "arch/arm64/Kconfig", 3, -177, 1, 0.78,
               alternatives=(Alternative("arch/arm64/Kconfig", 5, 0.70, "also near HAVE_FTRACE_MCOUNT_RECORD"),),
               evidence=("context line 2 differs: HAVE_DYNAMIC_FTRACE_WITH_ARGS is not in the target",),
               target_old=("\tselect HAVE_DYNAMIC_FTRACE", "\tselect HAVE_EFFICIENT_UNALIGNED_ACCESS"),
               target_new=("\tselect HAVE_DYNAMIC_FTRACE", "\tselect HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS",
                           "\tselect HAVE_EFFICIENT_UNALIGNED_ACCESS"),
               file_index=0, hunk_index=0)
P4 = Placement(H4, Method.NONE, None, evidence=("arch/arm64/kernel/entry-ftrace.S: no such file in the target",),
               file_index=1, hunk_index=0, applied=False)

F_MISSING = Finding("missing-symbol", Severity.ERROR,
                    "ftrace_stub_direct_tramp is used but not defined in the target",
                    SourceRef("series.mbox", 143), ("arch/arm64/kernel/entry-ftrace.S: no such file",),
                    "backport the commit that adds ftrace_stub_direct_tramp first",
                    references=("2aa6ac03516d078cf0c35aaa273b5cd11ea9734c",))
F_KB = Finding("kb-ftrace-direct-calls-need-args", Severity.WARNING,
               "direct calls on arm64 rely on DYNAMIC_FTRACE_WITH_ARGS",
               SourceRef("series.mbox", 120), hint="check that the target selects HAVE_DYNAMIC_FTRACE_WITH_ARGS",
               rule="ftrace-direct-args", checklist="HAVE_DYNAMIC_FTRACE_WITH_ARGS is selected for ARM64")
F_AMBIG = Finding("ambiguous-placement", Severity.WARNING,
                  "two places in arch/arm64/Kconfig fit this hunk (0.78 vs 0.70)", SourceRef("series.mbox", 120))
F_NOTE = Finding("missing-config", Severity.NOTE, "CONFIG_FUNCTION_TRACER is set in the target .config")

RESULT_1 = PortResult(PATCH_1, (P1, P2), (), PORTED_1, Status.CLEAN, seconds=0.01)
RESULT_2 = PortResult(PATCH_2, (P3, P4), (F_MISSING, F_KB, F_AMBIG, F_NOTE), PORTED_2, Status.BLOCKED,
                      seconds=0.02)
RESULTS = (RESULT_1, RESULT_2)
SERIES = Series((PATCH_1, PATCH_2), version=2, origin=("series.mbox",),
                warnings=("series.mbox:99: warning: patch 2/4 is missing",))


def make_target_repo(path: Path) -> Path:
    """A git repo holding TARGET_FILES in one commit, with a committer identity."""
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in TARGET_FILES.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.name", "Porter Person")
    git("config", "user.email", "porter@example.org")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", "target: linux 6.1.187")
    return path


# ---------------------------------------------------------------- tests of render.note


def test_describe_offset_and_exact():
    assert describe_placement(PATCH_1, P1) == (
        "kernel/trace/ftrace.c hunk 1 (ftrace_startup()): applied at line 11, 1329 lines above upstream")
    assert describe_placement(PATCH_1, P2) == "kernel/trace/ftrace.c hunk 2 (ftrace_shutdown()): applied as is at line 22"


def test_describe_relocation_across_files():
    moved = Placement(H2, Method.SYNTAX, "kernel/trace/ftrace_direct.c", 40, 18, 0, 0.85, file_index=0, hunk_index=1)
    text = describe_placement(PATCH_1, moved)
    assert ("relocated by syntax from ftrace_shutdown() in kernel/trace/ftrace.c to ftrace_shutdown() in "
            "kernel/trace/ftrace_direct.c (line 40) (confidence 0.85)") in text


def test_doubtful_rules():
    assert not is_doubtful(P1) and not is_doubtful(P2)
    assert is_doubtful(P3)  # fuzzy, low confidence, an alternative
    assert is_doubtful(P4)  # unplaced
    fuzz_sure = Placement(H2, Method.FUZZ, "kernel/trace/ftrace.c", 22, 0, 1, 0.95)
    assert is_doubtful(fuzz_sure)  # any method beyond offset changes the context
    offset_unsure = Placement(H2, Method.OFFSET, "kernel/trace/ftrace.c", 22, 0, 0, 0.5)
    assert is_doubtful(offset_unsure)


def test_note_says_what_was_adapted():
    note = render_note(RESULT_2)
    assert note.startswith("[ backport ") and note.endswith("]")
    flat = " ".join(note.split())
    assert "relocated by similarity to line 3, 177 lines above upstream (confidence 0.78)" in flat
    assert "Left out (see leftovers):" in note and "entry-ftrace.S hunk 1" in note
    assert "Prerequisites not found:" in note and "ftrace_stub_direct_tramp" in note
    assert "(introduced upstream by 2aa6ac03516d078cf0c35aaa273b5cd11ea9734c)" in flat
    assert "kb-ftrace-direct-calls-need-args" in note
    assert all(len(line) <= 76 for line in note.splitlines())


def test_note_for_a_clean_patch_is_one_line():
    clean = PortResult(PATCH_1, (P2,), (), PORTED_1)
    assert render_note(clean) == "[ backport 0.1.0: clean; every hunk applied as is, no findings ]"


def test_leftovers_render_unplaced_hunks_as_diff():
    text = render_leftovers(RESULT_2)
    assert "# arch/arm64/kernel/entry-ftrace.S hunk 1: could not be placed" in text
    assert "+++ b/arch/arm64/kernel/entry-ftrace.S\n@@ -92,2 +92,6 @@\n" in text
    assert render_leftovers(RESULT_1) == ""


GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str, update: bool) -> None:
    """Compare ``text`` with tests/golden/<name>; rewrite it instead under ``--update-golden``."""
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file (--update-golden)"


def test_held_back_placement_is_reported_as_left_out():
    from dataclasses import replace

    from backport.render.checklist import find_checklist_items

    held = replace(P3, applied=False)
    result = PortResult(PATCH_2, (held,), (), "", Status.REVIEW)
    flat = " ".join(render_note(result).split())
    assert "Left out (see leftovers): - arch/arm64/Kconfig hunk 1 (config ARM64): relocated" in flat
    assert flat.count("held back: left out of the patch") == 1 and "Adapted:" not in flat
    assert "# arch/arm64/Kconfig hunk 1 (config ARM64): relocated" in render_leftovers(result)
    items = find_checklist_items(result)
    assert items[0].kind == "doubtful" and items[0].risk == 95


def test_partial_patch_is_said_to_be_incomplete():
    from dataclasses import replace

    partial = PortResult(replace(PATCH_1, partial=True), (P2,), (), PORTED_1)
    assert "this port is incomplete" in " ".join(render_note(partial).split())


def test_note_does_not_repeat_the_finding_of_a_left_out_hunk():
    gone = Finding("unplaced-hunk", Severity.ERROR, "hunk 1 fits nowhere", H4.ref)
    result = PortResult(PATCH_2, (P4,), (gone,), "", Status.BLOCKED)
    note = render_note(result)
    assert "fits nowhere" not in note and "Left out (see leftovers):" in note
