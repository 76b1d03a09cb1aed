"""A fuzz placement states the same fuzz level, start and offset as its evidence."""

from __future__ import annotations

import re

from backport.model import Method, Patch, PortOptions, Severity
from backport.pipeline import port_patch
from backport.render.note import describe_placement
from backport.series import parse_diff
from backport.target import MemoryTree

PATH = "arch/arm/configs/foo_defconfig"
UPSTREAM = [f"CONFIG_OPTION_{i}=y" for i in range(1, 30)]
# the hunk claims upstream lines 10..15: three context lines, one new line, three context lines
DIFF = (f"diff --git a/{PATH} b/{PATH}\n--- a/{PATH}\n+++ b/{PATH}\n@@ -10,6 +10,7 @@\n"
        + "".join(f" {UPSTREAM[i]}\n" for i in range(9, 12)) + "+CONFIG_NEW=y\n"
        + "".join(f" {UPSTREAM[i]}\n" for i in range(12, 15)))


def _target() -> list[str]:
    """Two extra lines near the top (offset +2) and the hunk's second context line changed, so
    fuzz 1 cannot place it and fuzz 2 drops two context lines on each side, one of which differs."""
    lines = list(UPSTREAM)
    lines[10] = "# CONFIG_OPTION_11 is not set"
    lines[2:2] = ["CONFIG_VENDOR_A=y", "CONFIG_VENDOR_B=y"]
    return lines


def _port(options: PortOptions) -> tuple:
    patch = Patch(subject="defconfig: enable NEW", files=parse_diff(DIFF, origin="fix.patch"))
    target = _target()
    r = port_patch(patch, MemoryTree({PATH: "\n".join(target) + "\n"}), options=options)
    return r, target, patch


def test_fuzz_level_start_and_offset_agree_with_the_evidence():
    r, target, patch = _port(PortOptions(checks=False))
    (p,) = r.placements
    assert p.method is Method.FUZZ and p.applied
    first = p.evidence[0]
    level = int(re.match(r"fuzz (\d+):", first).group(1))
    assert level == 2 and "1 of them differ" in first
    assert p.fuzz == 2  # the level the evidence names, not the count of differing lines
    # start: the first target line the kept pre-image (without the 2 dropped lines) covers
    kept_first = UPSTREAM[11]
    assert target[p.start - 1] == kept_first and p.start == 14
    assert p.target_old[0] == kept_first
    assert f"core of the hunk found at line {p.start} (offset +2)" in p.evidence
    assert p.offset == 2  # the two vendor lines, as the evidence says
    note = describe_placement(patch, p)
    assert "fuzz 2" in note and "2 lines below upstream" in note
    assert "CONFIG_NEW=y" in r.text


def test_held_back_fuzz_placement_names_the_level_and_the_differing_lines():
    r, _, _ = _port(PortOptions(checks=False, min_confidence=0.95))
    (p,) = r.placements
    assert p.method is Method.FUZZ and not p.applied and p.fuzz == 2
    (f,) = [f for f in r.findings if f.code == "low-confidence-placement"]
    assert f.severity is Severity.WARNING
    assert f"{PATH}:{p.start}" in f.message
    assert "fuzz 2, 1 of the ignored context line(s) differ" in f.message
