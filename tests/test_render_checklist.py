"""checklist.md: golden text, risk order, side-by-side code, merged placement findings."""

from __future__ import annotations

from test_render_common import H2, PATCH_1, RESULT_1, RESULT_2, RESULTS, SERIES, check_golden

from backport.model import Finding, Method, Placement, PortResult, Severity, SourceRef
from backport.render.checklist import find_checklist_items, render_checklist, render_side_by_side


def test_checklist_golden(update_golden):
    check_golden("checklist.md", render_checklist(RESULTS, SERIES), update_golden)


def test_items_are_ordered_by_risk():
    kinds = [it.kind for it in find_checklist_items(RESULT_2)]
    assert kinds == ["unplaced", "error", "doubtful", "kb", "review", "review", "note"]
    risks = [it.risk for it in find_checklist_items(RESULT_2)]
    assert risks == sorted(risks, reverse=True)


def test_one_checkbox_per_item_and_none_for_a_clean_patch():
    text = render_checklist(RESULTS, SERIES)
    assert text.count("- [ ] ") == 7
    assert "Nothing to verify" in text.split("## [2/2]")[0]
    assert find_checklist_items(RESULT_1) == ()


def test_ambiguous_placement_finding_is_merged_into_the_placement_box():
    doubtful = [it for it in find_checklist_items(RESULT_2) if it.kind == "doubtful"]
    assert len(doubtful) == 1
    assert any("ambiguous-placement" in d for d in doubtful[0].details)
    assert not any(it.kind == "warning" and "ambiguous" in it.title for it in find_checklist_items(RESULT_2))


def test_doubtful_placement_shows_both_versions():
    text = render_checklist(RESULTS, SERIES)
    block = text.split("```text\n", 1)[1].split("```", 1)[0]
    rows = block.splitlines()
    # the right side is the target code with the ported diff's full context
    assert "upstream arch/arm64/Kconfig:180" in rows[0] and "target arch/arm64/Kconfig:2" in rows[0]
    assert rows[2].split() == [">", "def_bool", "y"]
    assert rows[4].rstrip().endswith("select HAVE_DYNAMIC_FTRACE_WITH_ARGS             <")


def test_side_by_side_falls_back_to_target_old_without_a_ported_diff():
    bare = PortResult(RESULT_2.patch, RESULT_2.placements, (), "")
    item = next(it for it in find_checklist_items(bare) if it.kind == "doubtful")
    rows = item.code_block.splitlines()
    assert "target arch/arm64/Kconfig:3" in rows[0] and len(rows) == 5


def test_lower_confidence_is_riskier():
    low = Placement(H2, Method.FUZZY, "kernel/trace/ftrace.c", 22, 0, 0, 0.5, target_old=H2.old_lines,
                    hunk_index=1)
    high = Placement(H2, Method.FUZZY, "kernel/trace/ftrace.c", 22, 0, 0, 0.85, target_old=H2.old_lines,
                     hunk_index=1)
    warn = Finding("odd-thing", Severity.WARNING, "look", SourceRef("x.patch", 3))
    items = find_checklist_items(PortResult(PATCH_1, (high, low), (warn,), ""))
    assert [it.kind for it in items] == ["doubtful", "doubtful", "warning"]
    assert "(confidence 0.50)" in items[0].title


def test_side_by_side_alignment():
    out = render_side_by_side(["a", "b", "c", "d"], ["a", "B", "c", "e", "f"], width=4)
    assert out.splitlines()[2:] == ["a    | a", "b    ! B", "c    | c", "d    ! e", "     > f"]
    long = render_side_by_side(["x" * 10], [], width=5)
    assert long.splitlines()[2] == "xxxx… <"


def test_checklist_command_end_to_end(tmp_path, capsys):
    """`backport checklist` on a format-patch series: one section per patch, exit 0 when clean."""
    from test_render_common import make_target_repo
    from test_render_output import _format_patch_series

    from backport.cli import main

    mbox = _format_patch_series(tmp_path)
    repo = make_target_repo(tmp_path / "target")
    assert main(["checklist", str(mbox), "--onto", str(repo)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Reviewer checklist\n")
    assert "## [1/2] ftrace: reset the direct flag on shutdown — CLEAN" in out
    assert "## [2/2] arm64: select HAVE_FOO — CLEAN" in out
