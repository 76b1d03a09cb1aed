"""`backport demo`: ports the bundled example, shows its findings, writes its outputs, exits 0."""

from __future__ import annotations

from pathlib import Path

from backport.cli import main
from kb.example import find_example, run_demo

ROOT = Path(__file__).resolve().parent.parent


def test_example_is_found_from_the_checkout_and_from_elsewhere(tmp_path, monkeypatch):
    assert find_example(str(ROOT)) == ROOT / "examples" / "ftrace-with-regs"
    monkeypatch.chdir(tmp_path)
    assert find_example() == ROOT / "examples" / "ftrace-with-regs"  # next to the sources


def test_demo_places_every_hunk_and_raises_kb_and_deps_findings(tmp_path):
    run = run_demo(str(tmp_path / "out"))
    assert [len(r.placements) for r in run.results] == [5, 5]
    # the include/linux/ftrace.h hunk rests on v4.16+ context: it fits nowhere in the 4.9 tree
    unplaced = [p for r in run.results for p in r.placements if not p.placed]
    assert [(p.file_index, p.hunk_index) for p in unplaced] == [(3, 0)]
    assert all(p.placed and p.applied for r in run.results for p in r.placements if p not in unplaced)
    codes = {f.code for r in run.results for f in r.findings}
    assert {"kb-ftrace-cflags-remove-pg", "kb-ftrace-init-nop", "kb-ftrace-notrace-attribute",
            "kb-ftrace-init-records", "kb-ftrace-regs-asm-offsets", "missing-kconfig"} <= codes
    missing = [f for r in run.results for f in r.findings if f.code == "missing-symbol"]
    assert any("aarch64_insn_gen_move_reg" in f.message for f in missing)
    # issue 11: a Kconfig symbol the 4.9 tree lacks (1), a macro only an unplaced hunk defines (4),
    # the records of freed __init text (5)
    kconfig = [f for r in run.results for f in r.findings if f.code == "missing-kconfig"]
    assert [f.message.split(":")[0] for f in kconfig] == ["CONFIG_FTRACE_MCOUNT_USE_PATCHABLE_FUNCTION_ENTRY"]
    assert any(f.message.startswith("FTRACE_CALLSITE_SECTION:") and "not placed" in " ".join(f.evidence)
               for f in missing)
    init = next(f for r in run.results for f in r.findings if f.code == "kb-ftrace-init-records")
    assert any("include/linux/init.h" in e and "notrace" in e for e in init.evidence)
    assert (tmp_path / "out" / "checklist.md").is_file()
    assert any(w.endswith(".patch") for w in run.written)


def test_backport_demo_command_exits_0_and_prints_the_evidence(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "kb-ftrace-cflags-remove-pg" in out
    assert "arch/arm64/kernel/Makefile:9: CFLAGS_REMOVE_ftrace.o = -pg" in out
    assert f"to {tmp_path}" in out
    assert (tmp_path / "report.json").is_file()
