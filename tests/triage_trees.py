"""Miniature kernel-like trees and a small stable-style queue for the triage tests.

Two trees: ``new`` (the tree the fixes were written for) and ``old`` (an older one: a context
line indented differently, a function rewritten, a driver and a helper it never had). Each
patch of the queue is a ``git format-patch``-style mail made with difflib against ``new``, so
on ``new`` everything applies and on ``old`` the statuses differ by kind:

1 clean everywhere; 2 adapted on old (whitespace-only context difference); 3 conflict on old
(the function was rewritten); 4 not-applicable on old (the driver file is absent); 5
needs-prereq on old (calls a helper old lacks); 6 not-applicable on x86 (only arch/arm64).
``extra`` more patches of kind 1 on other files make the queue longer for the kill test.
"""

from __future__ import annotations

import difflib
from pathlib import Path

MAKEFILE = "VERSION = 6\nPATCHLEVEL = {pl}\nSUBLEVEL = 0\nEXTRAVERSION =\nNAME = mini\n"

FOO_NEW = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/foo.h>

static int foo_setup(struct foo *f)
{
\tint ret;

\tret = foo_hw_init(f);
\tif (ret)
\t\treturn ret;
\tf->ready = 1;
\treturn 0;
}

static void foo_teardown(struct foo *f)
{
\tf->ready = 0;
\tfoo_hw_exit(f);
}

static int foo_probe(struct foo *f)
{
\tint err = foo_setup(f);

\tif (err)
\t\tgoto out;
\tfoo_register(f);
out:
\treturn err;
}
"""

# old: foo_teardown indented with spaces in one context line; foo_probe rewritten
FOO_OLD = FOO_NEW.replace("\tf->ready = 0;\n", "        f->ready = 0;\n").replace(
    """\tint err = foo_setup(f);

\tif (err)
\t\tgoto out;
\tfoo_register(f);
out:
\treturn err;
""", """\tif (foo_setup(f) < 0) {
\t\tpr_err("probe failed\\n");
\t\treturn -ENODEV;
\t}
\treturn foo_register_legacy(f);
""")

HEADER_NEW = """\
/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_FOO_H
#define _LINUX_FOO_H

struct foo {
\tint ready;
\tint irq;
};

int foo_hw_init(struct foo *f);
void foo_hw_exit(struct foo *f);
void foo_register(struct foo *f);
int foo_register_legacy(struct foo *f);
int foo_reset_hw(struct foo *f);

#endif
"""
HEADER_OLD = HEADER_NEW.replace("int foo_reset_hw(struct foo *f);\n", "")

BAZ = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/foo.h>

static int baz_read(struct foo *f)
{
\treturn f->irq;
}
"""

ARM64 = """\
// SPDX-License-Identifier: GPL-2.0
void arm64_thing(void)
{
\tint x = 1;

\t(void)x;
}
"""


def extra_file(i: int) -> str:
    return (f"// SPDX-License-Identifier: GPL-2.0\nstatic int extra{i}_value(void)\n{{\n"
            f"\tint v = {i};\n\n\treturn v;\n}}\n")


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def make_trees(base: Path, extra: int = 0) -> tuple[Path, Path]:
    """(new, old) tree directories under ``base``."""
    common = {"arch/x86/kernel/setup.c": "int x86_setup;\n", "arch/arm64/kernel/thing.c": ARM64}
    common.update({f"drivers/extra/extra{i}.c": extra_file(i) for i in range(extra)})
    new, old = base / "new", base / "old"
    _write(new, {**common, "Makefile": MAKEFILE.format(pl=12), "drivers/foo/foo.c": FOO_NEW,
                 "include/linux/foo.h": HEADER_NEW, "drivers/baz/baz.c": BAZ})
    _write(old, {**common, "Makefile": MAKEFILE.format(pl=1), "drivers/foo/foo.c": FOO_OLD,
                 "include/linux/foo.h": HEADER_OLD})
    return new, old


def mail(n: int, subject: str, path: str, before: str, after: str) -> str:
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        f"a/{path}", f"b/{path}", n=3))
    return (f"From {n:040x} Mon Sep 17 00:00:00 2001\nFrom: Ann Author <ann@example.org>\n"
            f"Date: Mon, 3 Aug 2026 10:0{n % 10}:00 +0200\nSubject: [PATCH] {subject}\n\n"
            f"{subject} (test fix {n}).\n\nSigned-off-by: Ann Author <ann@example.org>\n---\n"
            f"diff --git a/{path} b/{path}\n{diff}-- \n2.45.0\n\n")


def make_queue(directory: Path, extra: int = 0) -> Path:
    """A directory of NNNN-*.patch mails (an unnumbered queue: triaged independently)."""
    directory.mkdir(parents=True, exist_ok=True)
    patches = [
        ("foo: check ready before setup", "drivers/foo/foo.c", FOO_NEW,
         FOO_NEW.replace("\tret = foo_hw_init(f);\n", "\tif (f->ready)\n\t\treturn 0;\n\tret = foo_hw_init(f);\n")),
        ("foo: clear irq on teardown", "drivers/foo/foo.c", FOO_NEW,
         FOO_NEW.replace("\tf->ready = 0;\n\tfoo_hw_exit(f);\n", "\tf->ready = 0;\n\tf->irq = 0;\n\tfoo_hw_exit(f);\n")),
        ("foo: unregister on probe failure", "drivers/foo/foo.c", FOO_NEW,
         FOO_NEW.replace("\tif (err)\n\t\tgoto out;\n", "\tif (err) {\n\t\tfoo_hw_exit(f);\n\t\tgoto out;\n\t}\n")),
        ("baz: bound irq", "drivers/baz/baz.c", BAZ, BAZ.replace("\treturn f->irq;\n", "\treturn f->irq & 0xff;\n")),
        ("foo: reset the hardware on setup", "drivers/foo/foo.c", FOO_NEW,
         FOO_NEW.replace("\tf->ready = 1;\n", "\tfoo_reset_hw(f);\n\tf->ready = 1;\n")),
        ("arm64: thing: set x to 2", "arch/arm64/kernel/thing.c", ARM64, ARM64.replace("x = 1", "x = 2")),
    ]
    patches += [(f"extra{i}: return {i + 1}", f"drivers/extra/extra{i}.c", extra_file(i),
                 extra_file(i).replace(f"v = {i};", f"v = {i + 1};")) for i in range(extra)]
    for n, (subject, path, before, after) in enumerate(patches, 1):
        (directory / f"{n:04d}-patch.patch").write_text(mail(n, subject, path, before, after))
    return directory


def make_fleet(base: Path, new: Path, old: Path, *, arch: str = "x86_64") -> Path:
    fleet = base / "fleet.yaml"
    fleet.write_text(f"trees:\n  - name: new\n    path: {new}\n    arch: {arch}\n"
                     f"  - name: old\n    path: {old}\n    arch: {arch}\n")
    return fleet


EXPECTED_OLD = {1: "clean", 2: "adapted", 3: "conflict", 4: "not-applicable", 5: "needs-prereq", 6: "not-applicable"}
EXPECTED_NEW = {1: "clean", 2: "clean", 3: "clean", 4: "clean", 5: "clean", 6: "not-applicable"}
