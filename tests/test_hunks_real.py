"""The engine on the real Debian 6.1.187 tree and the kbench public cases (slow: needs the trees)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from unidiff import PatchSet

from hunks.order import locate_file
from hunks.syntax import find_anchor, items, language_for
from hunks.types import HunkSpec

TREE61 = Path.home() / ".cache/kbench/trees/6.1.187-1"
TREE612 = Path.home() / ".cache/kbench/trees/6.12.107-1~deb12u1"
BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "public"
# static int foo(struct bar *b)   (kernel style: a definition starts in column 0, "{" on the next line)
RE_DEF = re.compile(r"^(?:static\s+|inline\s+|__\w+\s+)*[a-z_][\w\s\*]*?\b([a-z_]\w*)\([^;]*\)$")


def _lines(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8", errors="surrogateescape").split("\n")


@pytest.mark.slow
@pytest.mark.parametrize("rel", ["kernel/trace/ftrace.c", "mm/memory.c", "drivers/base/core.c", "fs/namei.c"])
def test_tree_sitter_finds_every_kernel_style_function(rel):
    lines = _lines(TREE61 / rel)
    names = {it.name for it in items(tuple(lines), "c")}
    expected = {m.group(1) for i, ln in enumerate(lines[:-1]) if (m := RE_DEF.match(ln)) and lines[i + 1] == "{"}
    assert expected and expected <= names, sorted(expected - names)[:10]
    span = find_anchor(lines, sorted(expected)[0], language="c")
    assert span is not None and lines[span[1] - 1].startswith("}")


def _specs(text: str) -> list[HunkSpec]:
    out = []
    for pf in PatchSet(text):
        for h in pf:
            kinds = tuple(ln.line_type for ln in h if ln.line_type in " -+")
            lines = tuple(ln.value.rstrip("\n") for ln in h if ln.line_type in " -+")
            out.append(HunkSpec(kinds, lines, h.source_start, h.section_header or ""))
    return out


def _port(case: str, with_base: bool) -> tuple[list[str], list[str], list[float]]:
    meta = json.loads((BENCH / case / "meta.json").read_text())
    target = _lines(TREE61 / meta["path"])
    base = _lines(TREE612 / meta["path"]) if with_base else None
    expected = list(target)
    for h in sorted(_specs((BENCH / case / "expected.patch").read_text()), key=lambda h: -h.old_start):
        expected[h.old_start - 1:h.old_start - 1 + len(h.old)] = list(h.new)
    out = list(target)
    found = locate_file(target, _specs((BENCH / case / "upstream.patch").read_text()), base=base,
                        language=language_for(meta["path"]))
    matches = [m for m in found if m is not None]
    assert len(matches) == len(found)
    confs = [m.confidence for m in matches]
    for m in sorted(matches, key=lambda m: -m.start):
        out[m.start:m.end] = list(m.replacement)
    return out, expected, confs


@pytest.mark.slow
@pytest.mark.parametrize("case", ["net__sunrpc__rpcb_clnt.c", "drivers__net__dsa__mv88e6xxx__chip.c",
                                  "arch__alpha__kernel__pci-sysfs.c"])
@pytest.mark.parametrize("with_base", [True, False])
def test_real_identical_backports_come_out_right(case, with_base):
    out, expected, confs = _port(case, with_base)
    assert out == expected and min(confs) >= 0.8
