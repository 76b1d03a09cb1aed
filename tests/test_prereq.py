"""--with-prereqs: small upstream definitions the fix needs become patches of their own before it.

A miniature upstream tree (plain directory, then a git repo with the commits that introduced
each name) and a miniature 6.1-like target that lacks a helper, the macro the helper uses and a
struct member. End to end through the CLI: `backport port --with-prereqs --out`, then a real
`git am` of every written patch onto a git copy of the target, and a build-free check that
the definitions landed next to their upstream neighbours.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from backport.cli import main
from backport.prereq import MAX_LINES, Refused, find_definition, find_insertion, struct_fields

MAKEFILE = "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 99\n"

TARGET_H = """\
/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_FOO_H
#define _LINUX_FOO_H

#define FOO_FLAG_ON\t0x1

struct foo_dev {
\tint id;
\tunsigned long flags;
};

static inline int foo_id(struct foo_dev *dev)
{
\treturn dev->id;
}

static inline void foo_reset(struct foo_dev *dev)
{
\tdev->flags = 0;
}

#endif /* _LINUX_FOO_H */
"""

# upstream grew FOO_FLAG_BUSY, a member and foo_busy() (which uses FOO_FLAG_BUSY)
UPSTREAM_H = """\
/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_FOO_H
#define _LINUX_FOO_H

#define FOO_FLAG_ON\t0x1
#define FOO_FLAG_BUSY\t0x2

struct foo_dev {
\tint id;
\tunsigned long flags;
\t/* how many times the device was reset */
\tunsigned int resets;
};

static inline int foo_id(struct foo_dev *dev)
{
\treturn dev->id;
}

/* foo_busy - is the device in the middle of something? */
static inline bool foo_busy(struct foo_dev *dev)
{
\treturn dev->flags & FOO_FLAG_BUSY;
}

static inline void foo_reset(struct foo_dev *dev)
{
\tdev->flags = 0;
}

#endif /* _LINUX_FOO_H */
"""

FOO_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/foo.h>

int foo_start(struct foo_dev *dev)
{
\tif (foo_id(dev) < 0)
\t\treturn -1;
\tdev->flags |= FOO_FLAG_ON;
\treturn 0;
}
"""

FIX = """\
From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: Fix Author <fix@example.org>
Date: Mon, 2 Dec 2024 10:00:00 +0100
Subject: [PATCH] foo: do not start a busy device

A busy device must not be started again; count the refusals.

Signed-off-by: Fix Author <fix@example.org>
---
 drivers/foo/foo.c | 4 ++++
 1 file changed, 4 insertions(+)

diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
--- a/drivers/foo/foo.c
+++ b/drivers/foo/foo.c
@@ -5,6 +5,10 @@ int foo_start(struct foo_dev *dev)
 {
 \tif (foo_id(dev) < 0)
 \t\treturn -1;
+\tif (foo_busy(dev)) {
+\t\tdev->resets++;
+\t\treturn -2;
+\t}
 \tdev->flags |= FOO_FLAG_ON;
 \treturn 0;
 }
--\x20
2.45.0

"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def git(repo: Path, *args: str, input: str | None = None) -> str:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, input=input)
    assert r.returncode == 0, r.stderr
    return r.stdout


def init_repo(path: Path) -> None:
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Porter Person")
    git(path, "config", "user.email", "porter@example.org")
    git(path, "config", "commit.gpgsign", "false")


@pytest.fixture
def trees(tmp_path: Path) -> dict[str, Path]:
    target = write(tmp_path / "target", {"Makefile": MAKEFILE, "include/linux/foo.h": TARGET_H,
                                         "drivers/foo/foo.c": FOO_C})
    upstream = write(tmp_path / "upstream", {"Makefile": MAKEFILE.replace("PATCHLEVEL = 1", "PATCHLEVEL = 12"),
                                             "include/linux/foo.h": UPSTREAM_H, "drivers/foo/foo.c": FOO_C})
    fix = tmp_path / "fix.patch"
    fix.write_text(FIX)
    return {"target": target, "upstream": upstream, "fix": fix, "tmp": tmp_path}


def am_onto_copy(target: Path, out: Path, dest: Path) -> Path:
    shutil.copytree(target, dest)
    init_repo(dest)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "target")
    patches = sorted(str(p) for p in out.glob("0*.patch"))
    git(dest, "am", *patches)
    return dest


def test_without_the_flag_the_missing_helper_is_reported(trees, capsys):
    rc = main(["check", str(trees["fix"]), "--onto", str(trees["target"]), "--upstream", str(trees["upstream"]),
               "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and len(data["patches"]) == 1
    missing = {f["message"].split(":")[0] for f in data["patches"][0]["findings"] if f["code"] == "missing-symbol"}
    assert {"foo_busy", "resets"} <= missing
    found = next(f for f in data["patches"][0]["findings"] if f["message"].startswith("foo_busy:"))
    assert any("include/linux/foo.h" in e for e in found["evidence"])  # where upstream defines it


def test_port_with_prereqs_emits_patches_that_git_am_takes(trees, capsys):
    out = trees["tmp"] / "out"
    rc = main(["port", str(trees["fix"]), "--onto", str(trees["target"]), "--upstream", str(trees["upstream"]),
               "--with-prereqs", "--out", str(out), "--signoff", "Porter Person <porter@example.org>"])
    summary = capsys.readouterr().out
    names = sorted(p.name for p in out.glob("0*.patch"))
    assert names == ["0001-foo-add-FOO_FLAG_BUSY.patch", "0002-foo-add-foo_busy.patch",
                     "0003-foo-add-struct-foo_dev-member-resets.patch", "0004-foo-do-not-start-a-busy-device.patch"]
    assert rc == 0, summary  # nothing is missing any more: only notes and warnings
    repo = am_onto_copy(trees["target"], out, trees["tmp"] / "am")
    header = (repo / "include/linux/foo.h").read_text()
    # each definition sits where upstream has it, next to a neighbour the target has
    assert "#define FOO_FLAG_ON\t0x1\n#define FOO_FLAG_BUSY\t0x2\n" in header
    assert "\tunsigned long flags;\n\t/* how many times the device was reset */\n\tunsigned int resets;\n};" in header
    assert ("\treturn dev->id;\n}\n\n/* foo_busy - is the device in the middle of something? */\n"
            "static inline bool foo_busy(struct foo_dev *dev)\n") in header
    assert header.index("foo_busy(struct") < header.index("foo_reset(struct")
    assert "if (foo_busy(dev)) {" in (repo / "drivers/foo/foo.c").read_text()
    log = git(repo, "log", "--format=%s", "-4").splitlines()
    assert log[-1] == "foo: add FOO_FLAG_BUSY" and log[0] == "foo: do not start a busy device"
    msg = git(repo, "log", "-1", "--format=%B", "HEAD~2")
    assert 'Stable-dep-of: ("foo: do not start a busy device")' in msg
    flat = " ".join(msg.split())
    assert "Upstream defines foo_busy() at include/linux/foo.h:21" in flat and "the upstream base is a plain tree" in flat
    assert "[ Porter: foo_busy() from upstream include/linux/foo.h:21; 6.1 lacks it ]" in flat
    trailers = git(repo, "interpret-trailers", "--parse", input=msg)
    assert "Stable-dep-of:" in trailers and "Signed-off-by: Porter Person" in trailers
    report = json.loads((out / "report.json").read_text())
    kinds = [a["kind"] for p in report["patches"][:3] for pl in p["placements"] for a in pl["adaptations"]]
    assert kinds == ["prereq", "prereq", "prereq"]
    fix_findings = {f["code"] for f in report["patches"][3]["findings"]}
    assert "missing-symbol" not in fix_findings and "prerequisite-patch" in fix_findings
    assert "- [ ] **adapted**" in (out / "checklist.md").read_text()


def test_git_upstream_names_the_introducing_commit(trees, capsys):
    up = trees["tmp"] / "uprepo"
    write(up, {"Makefile": MAKEFILE, "include/linux/foo.h": TARGET_H, "drivers/foo/foo.c": FOO_C})
    init_repo(up)
    git(up, "add", "-A")
    git(up, "commit", "-q", "-m", "foo: initial")
    (up / "include/linux/foo.h").write_text(UPSTREAM_H.replace("\t/* how many times the device was reset */\n"
                                                              "\tunsigned int resets;\n", ""))
    git(up, "commit", "-q", "-a", "-m", "foo: add foo_busy()\n\nTell callers when the device is busy.\n\n"
        "Signed-off-by: Helper Author <helper@example.org>", "--author", "Helper Author <helper@example.org>")
    busy = git(up, "rev-parse", "HEAD").strip()
    (up / "include/linux/foo.h").write_text(UPSTREAM_H)
    git(up, "commit", "-q", "-a", "-m", "foo: count resets")
    out = trees["tmp"] / "out-git"
    rc = main(["port", str(trees["fix"]), "--onto", str(trees["target"]), "--upstream", str(up),
               "--with-prereqs", "--out", str(out)])
    capsys.readouterr()
    names = sorted(p.name for p in out.glob("0*.patch"))
    # FOO_FLAG_BUSY and foo_busy() came with one upstream commit: one patch, as stable would take it
    assert names == ["0001-foo-add-foo_busy.patch", "0002-foo-count-resets.patch",
                     "0003-foo-do-not-start-a-busy-device.patch"], names
    first = (out / names[0]).read_text()
    assert f"[ Upstream commit {busy} ]" in first and "From: Helper Author <helper@example.org>" in first
    assert "Tell callers when the device is busy." in first
    assert 'Signed-off-by: Helper Author <helper@example.org>\nStable-dep-of: ("foo: do not start' in first
    repo = am_onto_copy(trees["target"], out, trees["tmp"] / "am-git")
    assert "foo_busy" in (repo / "include/linux/foo.h").read_text()
    assert rc in (0, 1)


def test_a_big_helper_is_a_finding_not_a_patch(trees, capsys):
    body = "".join(f"\tdev->flags += {k};\n" for k in range(MAX_LINES))
    big = UPSTREAM_H.replace("\treturn dev->flags & FOO_FLAG_BUSY;\n", body + "\treturn dev->flags & FOO_FLAG_BUSY;\n")
    (trees["upstream"] / "include/linux/foo.h").write_text(big)
    rc = main(["check", str(trees["fix"]), "--onto", str(trees["target"]), "--upstream", str(trees["upstream"]),
               "--with-prereqs", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1
    subjects = [p["patch"]["subject"] for p in data["patches"]]
    assert subjects == ["foo: add struct foo_dev member resets", "foo: do not start a busy device"]
    refused = [f for f in data["patches"][-1]["findings"] if f["code"] == "prerequisite-not-extracted"]
    assert len(refused) == 1 and "foo_busy() is 45 lines upstream (more than 40)" in refused[0]["message"]
    assert refused[0]["evidence"] == ["upstream include/linux/foo.h:21: static inline bool foo_busy(struct foo_dev *dev)"]
    assert any(f["code"] == "missing-symbol" and f["message"].startswith("foo_busy:")
               for f in data["patches"][-1]["findings"])


def test_with_prereqs_needs_an_upstream(trees, capsys):
    assert main(["check", str(trees["fix"]), "--onto", str(trees["target"]), "--with-prereqs"]) == 2
    assert "--with-prereqs takes the helpers from the upstream base" in capsys.readouterr().err


def test_definitions_and_anchors():
    d = find_definition(UPSTREAM_H, "foo_busy", kind="name", path="include/linux/foo.h")
    assert d is not None and d.kind == "function" and d.line == 21 and d.start == 19
    assert d.lines[0] == "/* foo_busy - is the device in the middle of something? */" and d.lines[-1] == "}"
    m = find_definition(UPSTREAM_H, "FOO_FLAG_BUSY", kind="name", path="include/linux/foo.h")
    assert m is not None and m.kind == "macro" and m.lines == ("#define FOO_FLAG_BUSY\t0x2",)
    at, lines, anchor = find_insertion(TARGET_H, UPSTREAM_H, d)
    assert at == 15 and lines[0] == "" and anchor.startswith("after foo_id (line 15: }")
    mem = find_definition(UPSTREAM_H, "resets", kind="member", path="include/linux/foo.h", struct="foo_dev")
    assert mem is not None and mem.lines == ("\t/* how many times the device was reset */", "\tunsigned int resets;")
    assert [f[0] for f in struct_fields(UPSTREAM_H, "foo_dev")[1]] == ["id", "flags", "resets"]
    assert find_insertion(TARGET_H, UPSTREAM_H, mem)[0] == 9
    glob = find_definition("int foo_glob(void)\n{\n\treturn 1;\n}\n\nEXPORT_SYMBOL(foo_glob);\n", "foo_glob",
                           kind="name", path="x.c")
    assert glob is not None and glob.is_global and glob.lines[-1] == "EXPORT_SYMBOL(foo_glob);"
    with pytest.raises(Refused, match="without static"):
        find_definition("int foo_glob(void)\n{\n\treturn 1;\n}\n", "foo_glob", kind="name", path="x.h")


def test_a_cascade_deeper_than_two_is_refused_whole(trees, capsys):
    deep = UPSTREAM_H.replace("#define FOO_FLAG_BUSY\t0x2\n", "#define FOO_BUSY_SHIFT\t1\n"
                              "#define FOO_FLAG_BUSY\t(1 << FOO_BUSY_SHIFT)\n")
    (trees["upstream"] / "include/linux/foo.h").write_text(deep)
    rc = main(["check", str(trees["fix"]), "--onto", str(trees["target"]), "--upstream", str(trees["upstream"]),
               "--with-prereqs", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert [p["patch"]["subject"] for p in data["patches"]] == ["foo: add struct foo_dev member resets",
                                                               "foo: do not start a busy device"]
    refused = {f["message"] for f in data["patches"][-1]["findings"] if f["code"] == "prerequisite-not-extracted"}
    assert refused == {
        "FOO_FLAG_BUSY (needed by foo_busy): not emitted as a prerequisite patch: FOO_FLAG_BUSY needs "
        "FOO_BUSY_SHIFT too: more than 2 levels of prerequisites",
        "foo_busy: not emitted as a prerequisite patch: it needs FOO_FLAG_BUSY, which cannot be taken "
        "(FOO_FLAG_BUSY needs FOO_BUSY_SHIFT too: more than 2 levels of prerequisites)"}


def test_an_unreadable_upstream_base_is_a_finding(trees, capsys):
    # the fix names its upstream commit, a root commit: its parent (the base) does not exist
    up = trees["tmp"] / "rootrepo"
    write(up, {"Makefile": MAKEFILE, "include/linux/foo.h": UPSTREAM_H, "drivers/foo/foo.c": FOO_C})
    init_repo(up)
    git(up, "add", "-A")
    git(up, "commit", "-q", "-m", "foo: everything at once")
    root = git(up, "rev-parse", "HEAD").strip()
    fix = trees["tmp"] / "fix-root.patch"
    fix.write_text(FIX.replace("A busy device must not", f"commit {root} upstream.\n\nA busy device must not"))
    rc = main(["check", str(fix), "--onto", str(trees["target"]), "--upstream", str(up), "--with-prereqs",
               "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and len(data["patches"]) == 1
    refused = [f["message"] for f in data["patches"][0]["findings"] if f["code"] == "prerequisite-not-extracted"]
    assert refused and all(f"the upstream base {up} cannot be read" in m for m in refused)


CORE_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/foo.h>

int foo_probe(struct foo_dev *dev)
{
\treturn foo_id(dev);
}
"""
UPSTREAM_CORE_C = CORE_C + """
/* foo_count - how many flags are set */
int foo_count(struct foo_dev *dev)
{
\treturn dev->flags ? 1 : 0;
}
EXPORT_SYMBOL_GPL(foo_count);
"""
PROTO = "int foo_probe(struct foo_dev *dev);\n"


def test_a_global_function_comes_with_its_prototype_and_export(trees, capsys):
    target, upstream = trees["target"], trees["upstream"]
    (target / "drivers/foo/core.c").write_text(CORE_C)
    (target / "include/linux/export.h").write_text("#define EXPORT_SYMBOL_GPL(sym)\n")
    (upstream / "drivers/foo/core.c").write_text(UPSTREAM_CORE_C)
    (target / "include/linux/foo.h").write_text(TARGET_H.replace("\n#endif", PROTO + "\n#endif"))
    (upstream / "include/linux/foo.h").write_text(
        UPSTREAM_H.replace("\n#endif", PROTO + "int foo_count(struct foo_dev *dev);\n\n#endif"))
    fix = trees["tmp"] / "fix-count.patch"
    fix.write_text(FIX.replace("+\tif (foo_busy(dev)) {\n+\t\tdev->resets++;\n+\t\treturn -2;\n+\t}\n",
                               "+\tif (foo_count(dev) > 1)\n+\t\treturn -2;\n+\n")
                   .replace("@@ -5,6 +5,10 @@", "@@ -5,6 +5,9 @@"))
    out = trees["tmp"] / "out-count"
    rc = main(["port", str(fix), "--onto", str(target), "--upstream", str(upstream), "--with-prereqs",
               "--out", str(out)])
    capsys.readouterr()
    names = sorted(p.name for p in out.glob("0*.patch"))
    assert names == ["0001-foo-add-foo_count.patch", "0002-foo-do-not-start-a-busy-device.patch"], names
    assert rc == 0
    repo = am_onto_copy(target, out, trees["tmp"] / "am-count")
    assert (repo / "drivers/foo/core.c").read_text().endswith(
        "}\n\n/* foo_count - how many flags are set */\nint foo_count(struct foo_dev *dev)\n{\n"
        "\treturn dev->flags ? 1 : 0;\n}\nEXPORT_SYMBOL_GPL(foo_count);\n")
    assert "int foo_probe(struct foo_dev *dev);\nint foo_count(struct foo_dev *dev);\n" in (
        repo / "include/linux/foo.h").read_text()


def test_a_static_helper_of_another_c_file_is_not_taken(trees, capsys):
    (trees["upstream"] / "drivers/bar").mkdir(parents=True)
    (trees["upstream"] / "drivers/bar/bar.c").write_text(
        "static int foo_busy(struct foo_dev *dev)\n{\n\treturn 0;\n}\n")
    (trees["upstream"] / "include/linux/foo.h").write_text(TARGET_H)  # upstream's header lacks it too
    rc = main(["check", str(trees["fix"]), "--onto", str(trees["target"]), "--upstream", str(trees["upstream"]),
               "--with-prereqs", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and [p["patch"]["subject"] for p in data["patches"]] == ["foo: do not start a busy device"]
    refused = [f["message"] for f in data["patches"][0]["findings"] if f["code"] == "prerequisite-not-extracted"]
    assert any(m.startswith("foo_busy: not emitted") and "no definition of foo_busy found" in m for m in refused)


def test_a_kb_api_entry_that_must_be_open_coded_asks_for_its_upstream_definition():
    """The kb API table's api-missing for a name with no older spelling on a target without it
    (list_count_nodes() before v6.3) replaces deps' missing-symbol (apiadapt.drop_covered): the
    prerequisite planner must still want its definition; an api-missing for a name the target
    has in another form (__assign_str(dst, src)) is no missing definition."""
    from backport.apiadapt import _missing
    from backport.model import Hunk, Method, Placement, SourceRef
    from backport.prereq import _wanted_from
    from kb.api import load_api

    entries = {e.id: e for e in load_api()}
    p = Placement(hunk=Hunk(old_start=1, old_count=1, new_start=1, new_count=2, lines=(), section="",
                            ref=SourceRef("fix.patch", 5)), method=Method.EXACT, path="lib/list_sort.c", start=10)
    lcn = entries["api-list-count-nodes"]
    f = _missing(lcn, p, 0, "\tWARN_ON_ONCE(list_count_nodes(head) > 1000000);",
                 "list_count_nodes() must be open-coded on this target")
    (w,) = _wanted_from([f])
    assert (w.name, w.kind) == ("list_count_nodes", "name")
    asg = entries["api-assign-str-one-arg"]
    f = _missing(asg, p, 0, "\t\t__assign_str(name);", "__assign_str()'s older form takes an argument this line does not show")
    assert _wanted_from([f]) == []
