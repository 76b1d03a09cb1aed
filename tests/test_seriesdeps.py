"""backport.seriesdeps: a hunk whose context is an earlier patch's held-back hunk's new lines says
so (series-dependency), through port_series and the CLI; unrelated or applied hunks do not."""

from __future__ import annotations

import json
from pathlib import Path

from backport.cli import main
from backport.ingest import parse_series_bytes
from backport.model import PortOptions, Severity
from backport.pipeline import port_series
from backport.target import MemoryTree

PATH = "drivers/foo/core.c"

# the target: foo_finalize() walks the sections with braces and an older callee name
TARGET = """\
#include <linux/kernel.h>

int foo_finalize(const struct hdr *hdr, struct foo *me)
{
\tconst struct sec *s, *se;

\tfor (s = hdr->secs, se = s + hdr->n; s < se; s++) {
\t\tif (strcmp(".alt", s->name) == 0) {
\t\t\tfoo_apply_alt(s->addr, s->size);
\t\t}
\t}

\treturn 0;
}
"""

SERIES = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: A <a@example.org>
Subject: [PATCH 1/2] foo: factor out foo_find_section()
Date: Tue, 29 Oct 2019 16:58:27 +0000

Factor the section search out.
---
diff --git a/drivers/foo/core.c b/drivers/foo/core.c
--- a/drivers/foo/core.c
+++ b/drivers/foo/core.c
@@ -3,11 +3,21 @@
-int foo_finalize(const struct hdr *hdr, struct foo *me)
+static const struct sec *foo_find_section(const struct hdr *hdr, const char *name)
 {
 \tconst struct sec *s, *se;
\x20
 \tfor (s = hdr->secs, se = s + hdr->n; s < se; s++) {
-\t\tif (strcmp(".alt", s->name) == 0)
-\t\t\tfoo_apply_alt_module(s->addr, s->size);
+\t\tif (strcmp(name, s->name) == 0)
+\t\t\treturn s;
 \t}
+\treturn NULL;
+}
+
+int foo_finalize(const struct hdr *hdr, struct foo *me)
+{
+\tconst struct sec *s;
+
+\ts = foo_find_section(hdr, ".alt");
+\tif (s)
+\t\tfoo_apply_alt_module(s->addr, s->size);
\x20
 \treturn 0;
 }
--\x20
2.11.0

From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: A <a@example.org>
Subject: [PATCH 2/2] foo: skip unnamed sections
Date: Tue, 29 Oct 2019 16:58:28 +0000

Skip them.
---
diff --git a/drivers/foo/core.c b/drivers/foo/core.c
--- a/drivers/foo/core.c
+++ b/drivers/foo/core.c
@@ -5,8 +5,8 @@ static const struct sec *foo_find_section(const struct hdr *hdr, const char *name)
 \tconst struct sec *s, *se;
\x20
 \tfor (s = hdr->secs, se = s + hdr->n; s < se; s++) {
-\t\tif (strcmp(name, s->name) == 0)
+\t\tif (s->name && strcmp(name, s->name) == 0)
 \t\t\treturn s;
 \t}
 \treturn NULL;
 }
--\x20
2.11.0
"""


# patch 2 variant: it changes foo_finalize()'s return, next to the lines patch 1 writes; fuzzy
# alignment places it on the target's own foo_finalize() (its return 0; is there)
RETURN = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: A <a@example.org>
Subject: [PATCH 2/2] foo: init the trampoline at load time
Date: Tue, 29 Oct 2019 16:58:28 +0000

Init it early.
---
diff --git a/drivers/foo/core.c b/drivers/foo/core.c
--- a/drivers/foo/core.c
+++ b/drivers/foo/core.c
@@ -16,8 +16,8 @@ int foo_finalize(const struct hdr *hdr, struct foo *me)
 \tconst struct sec *s;
\x20
 \ts = foo_find_section(hdr, ".alt");
 \tif (s)
 \t\tfoo_apply_alt_module(s->addr, s->size);
\x20
-\treturn 0;
+\treturn foo_init_tramp(hdr, me);
 }
--\x20
2.11.0
"""


def _series():
    return parse_series_bytes(SERIES.encode(), origin="s.mbox")


def test_the_later_hunk_names_the_earlier_held_hunk_it_rests_on() -> None:
    results = port_series(_series(), MemoryTree({PATH: TARGET}), options=PortOptions(checks=False))
    first, second = results
    assert not first.placements[0].applied  # the target's loop has braces and an older callee
    assert not second.placements[0].applied
    dep = [f for f in second.findings if f.code == "series-dependency"]
    assert len(dep) == 1 and dep[0].severity is Severity.ERROR
    assert "patch 1/2" in dep[0].message and "hunk 1" in dep[0].message
    assert any("strcmp(name, s->name)" in e for e in dep[0].evidence)
    assert not [f for f in first.findings if f.code == "series-dependency"]


def test_when_the_earlier_hunk_lands_nothing_is_said() -> None:
    upstream = TARGET.replace("\t\tif (strcmp(\".alt\", s->name) == 0) {\n\t\t\tfoo_apply_alt(s->addr, s->size);\n\t\t}\n",
                              "\t\tif (strcmp(\".alt\", s->name) == 0)\n\t\t\tfoo_apply_alt_module(s->addr, s->size);\n")
    results = port_series(_series(), MemoryTree({PATH: upstream}), options=PortOptions(checks=False))
    assert all(p.applied for r in results for p in r.placements)
    assert not [f for r in results for f in r.findings if f.code == "series-dependency"]


def test_cli_reports_the_dependency(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "drivers/foo").mkdir(parents=True)
    (tree / PATH).write_text(TARGET)
    mbox = tmp_path / "s.mbox"
    mbox.write_text(SERIES)
    out = tmp_path / "out"
    assert main(["port", str(mbox), "--onto", str(tree), "--out", str(out), "-q"]) == 1
    report = json.loads((out / "report.json").read_text())
    codes = [f["code"] for p in report["patches"] for f in p["findings"]]
    assert codes.count("series-dependency") == 1
    assert "series-dependency" in (out / "checklist.md").read_text()
    assert (tree / PATH).read_text() == TARGET


def test_a_later_hunk_placed_on_the_targets_older_code_in_their_stead_is_flagged() -> None:
    text = SERIES[:SERIES.index("From 0000", 10)] + RETURN
    results = port_series(parse_series_bytes(text.encode(), origin="r.mbox"), MemoryTree({PATH: TARGET}),
                          options=PortOptions(checks=False))
    second = results[1].placements[0]
    assert second.applied and second.method.value in ("fuzz", "fuzzy", "syntax")
    dep = [f for f in results[1].findings if f.code == "series-dependency"]
    assert len(dep) == 1 and "was applied on the target's own lines" in dep[0].message
    assert any("foo_find_section" in e for e in dep[0].evidence)
