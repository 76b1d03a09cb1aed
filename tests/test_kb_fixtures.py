"""kb rules on miniature trees and series modeled on the seed threads (tests/kb_fixtures/cases.yaml).

Each row names a series and a tree and the exact set of kb codes the rules must raise on them;
the negative rows must raise nothing. The series are read by the real ingest stage; the last
tests run `backport check` itself on a positive and a negative row, as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from backport.cli import main
from backport.ingest import load_series
from backport.kbcheck import check_patch
from backport.model import PortOptions, Severity
from backport.target import load_tree

HERE = Path(__file__).resolve().parent / "kb_fixtures"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text())


def _codes(case: dict) -> tuple[set[str], list]:
    series = load_series([str(HERE / case["series"])])
    tree = load_tree(str(HERE / case["tree"]))
    opts = PortOptions(extra={"compiler": case["compiler"]} if case.get("compiler") else {})
    findings = [f for p in series.patches for f in check_patch(p, tree, series=series, options=opts)]
    return {f.code for f in findings}, findings


def test_every_seed_thread_has_a_positive_and_a_negative_fixture():
    positives = [c for c in CASES if c["expect"]]
    negatives = [c for c in CASES if not c["expect"]]
    assert len(positives) >= 6 and len(negatives) >= 6
    families = set()
    from kb.loader import load_rules

    by_id = {r.id: r.family for r in load_rules()}
    for c in positives:
        families.update(by_id[code] for code in c["expect"])
    assert families == {"ftrace-entry", "ftrace-regs", "text-patching", "symbols", "direct-calls", "kconfig-renames",
                        "features"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_raises_exactly_the_expected_kb_findings(case):
    codes, findings = _codes(case)
    assert codes == set(case["expect"])
    for f in findings:
        assert f.rule == f.code and f.message and "{" not in f.message.replace("{r0", "")
        assert f.evidence, f.code
        assert f.checklist, f.code
        assert f.ref is not None and f.ref.path.endswith(".mbox") and f.ref.line > 0


def test_example_evidence_lists_every_cflags_remove_line_with_its_place():
    case = next(c for c in CASES if c["name"] == "arm64-ftrace-with-regs-on-4.9")
    _codes_, findings = _codes(case)
    f = next(f for f in findings if f.code == "kb-ftrace-cflags-remove-pg")
    assert f.severity is Severity.ERROR
    tree_ev = [e for e in f.evidence if e.startswith("arch/")]
    assert tree_ev == [
        "arch/arm64/kernel/Makefile:9: CFLAGS_REMOVE_ftrace.o = -pg",
        "arch/arm64/kernel/Makefile:10: CFLAGS_REMOVE_insn.o = -pg",
        "arch/arm64/kernel/Makefile:11: CFLAGS_REMOVE_return_address.o = -pg",
    ]
    assert "the 3 'CFLAGS_REMOVE_<file>.o = -pg' lines in 1 Makefile(s)" in f.message
    # the already-converted kernel/Makefile line is not listed
    assert not any("irq_work" in e for e in f.evidence)
    offsets = next(f for f in findings if f.code == "kb-ftrace-regs-asm-offsets")
    assert "S_X8, S_FP" in offsets.message  # S_X0, S_LR, S_PC ... exist in the 4.9 asm-offsets.c


def test_arm_modify_code_evidence_names_the_enclosing_ifdef():
    case = next(c for c in CASES if c["name"] == "arm-ftrace-regs-v4")
    _c, findings = _codes(case)
    f = next(f for f in findings if f.code == "kb-text-ftrace-modify-code-ifdef")
    assert any("set_kernel_text_rw();" in e and "#ifdef CONFIG_OLD_MCOUNT at line 24" in e for e in f.evidence)
    assert any(r.startswith("80d6b0c2eed2") for r in f.references)


def test_compiler_from_the_vendor_config(tmp_path):
    case = next(c for c in CASES if c["name"] == "arm64-ftrace-with-regs-on-4.9")
    series = load_series([str(HERE / case["series"])])
    tree = load_tree(str(HERE / case["tree"]))
    old = tmp_path / "old.config"
    old.write_text("CONFIG_ARM64=y\nCONFIG_GCC_VERSION=40900\n")
    new = tmp_path / "new.config"
    new.write_text("CONFIG_ARM64=y\nCONFIG_GCC_VERSION=90100\n")

    def compiler_findings(config):
        opts = PortOptions(config=str(config))
        return [f for p in series.patches for f in check_patch(p, tree, series=series, options=opts)
                if f.code == "kb-ftrace-pfe-compiler"]

    found = compiler_findings(old)
    assert found and "built with gcc 4.9.0" in found[0].evidence[-1]
    assert compiler_findings(new) == []


def test_ignore_silences_a_code():
    case = next(c for c in CASES if c["name"] == "arm-kexec-vars-in-text")
    series = load_series([str(HERE / case["series"])])
    tree = load_tree(str(HERE / case["tree"]))
    opts = PortOptions(ignore=("kb-text-kexec-relocate-vars",))
    assert check_patch(series.patches[0], tree, series=series, options=opts) == ()


def _check_cli(case: dict, capsys) -> set[str]:
    rc = main(["check", str(HERE / case["series"]), "--onto", str(HERE / case["tree"]), "--format", "json",
               "--fail-on", "never"])
    out = capsys.readouterr().out
    assert rc in (0, 1)
    report = json.loads(out)
    return {f["code"] for p in report["patches"] for f in p["findings"] if f["code"].startswith("kb-")}


def test_backport_check_raises_the_reviewers_findings(capsys):
    case = next(c for c in CASES if c["name"] == "arm-ftrace-regs-v4")
    assert _check_cli(case, capsys) == set(case["expect"])


def test_backport_check_is_quiet_on_the_negative_fixture(capsys):
    case = next(c for c in CASES if c["name"] == "arm-kexec-vars-in-copied-page")
    assert _check_cli(case, capsys) == set()


def test_an_absent_feature_is_said_once_not_also_as_missing_kconfig():
    """deps' missing-kconfig for ARM64_BTI_KERNEL folds into kb-feature-absent (which names the
    feature and its commit); ignoring the kb finding brings the deps one back."""
    from backport.pipeline import port_series

    series = load_series([str(HERE / "features/bti-landing-pad.mbox")])
    tree = load_tree(str(HERE / "../../examples/ftrace-with-regs/tree"))
    (r,) = port_series(series, tree, options=PortOptions())
    codes = [f.code for f in r.findings]
    assert codes.count("kb-feature-absent") == 1
    assert not [f for f in r.findings if f.code == "missing-kconfig" and "ARM64_BTI_KERNEL" in f.message]
    kb = next(f for f in r.findings if f.code == "kb-feature-absent")
    assert any("bti-landing-pad.mbox" in e for e in kb.evidence)
    (r2,) = port_series(series, tree, options=PortOptions(ignore=("kb-feature-absent",)))
    assert [f for f in r2.findings if f.code == "missing-kconfig" and "ARM64_BTI_KERNEL" in f.message]
