"""Patch metadata: trailers, upstream ids in all spellings, base-commit, prerequisites, in-body headers."""

from __future__ import annotations

from backport.series import MailHeaders, find_upstream_ids, parse_patch_text, parse_trailers

SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA2 = "89abcdef0123456789abcdef0123456789abcdef"
SP = ""  # keeps the signature line "-- " free of trailing whitespace in this file

BODY = f"""\
From: Real Author <real@example.org>
Date: Tue, 28 Feb 2017 06:23:42 -0500

[ Upstream commit {SHA1} ]

The kernel text must be writable before ftrace_modify_all_code() writes it.

Fixes: 80d6b0c2eed2 ("ARM: mm: allow text and rodata sections to be read-only")
Cc: stable@vger.kernel.org # 4.9.x
Cc: <stable@vger.kernel.org> # 4.14.x: 1234567890ab: ftrace: prepare
Link: https://lore.kernel.org/r/20170228112342.1234-1-real@example.org
Stable-dep-of: {SHA2[:12]} ("ftrace: later fix")
Reviewed-by: Nicolai Stange
  <nstange@example.org>
Signed-off-by: Real Author <real@example.org>
[ porter: adjusted context for 4.9 ]
Signed-off-by: Porter <porter@example.org>
(cherry picked from commit {SHA2})
---
 arch/arm/kernel/ftrace.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/arch/arm/kernel/ftrace.c b/arch/arm/kernel/ftrace.c
index 1234567..89abcde 100644
--- a/arch/arm/kernel/ftrace.c
+++ b/arch/arm/kernel/ftrace.c
@@ -1,2 +1,3 @@
 a
+b
 c

base-commit: {SHA2}
prerequisite-patch-id: {SHA1}
prerequisite-patch-id: {SHA2}
-- {SP}
2.39.2
"""


def test_patch_text_metadata():
    p, warnings = parse_patch_text(BODY, MailHeaders(subject="[PATCH 4.9 1/1] ARM: ftrace: fix", author="Sender <s@x>"),
                                   origin="p.mbox", first_line=100)
    assert not warnings
    assert p.author == "Real Author <real@example.org>" and p.date.startswith("Tue, 28 Feb 2017")
    assert p.subject == "ARM: ftrace: fix" and p.prefixes == ("PATCH", "4.9") and (p.number, p.total) == (1, 1)
    assert p.upstream_ids == (SHA1, SHA2)
    assert p.base_commit == SHA2 and p.prerequisite_patch_ids == (SHA1, SHA2)
    assert p.trailer_values("Cc") == ("stable@vger.kernel.org # 4.9.x",
                                      "<stable@vger.kernel.org> # 4.14.x: 1234567890ab: ftrace: prepare")
    assert p.trailer_values("Reviewed-by") == ("Nicolai Stange <nstange@example.org>",)
    assert p.trailer_values("Signed-off-by") == ("Real Author <real@example.org>", "Porter <porter@example.org>")
    assert p.trailer_values("Stable-dep-of")[0].startswith(SHA2[:12])
    assert p.trailer_values("Link") == ("https://lore.kernel.org/r/20170228112342.1234-1-real@example.org",)
    fixes = next(t for t in p.trailers if t.key == "Fixes")
    assert fixes.ref.path == "p.mbox" and BODY.splitlines()[fixes.ref.line - 100].startswith("Fixes: 80d6b0c2eed2")
    assert p.body.startswith(f"[ Upstream commit {SHA1} ]") and "---" not in p.body
    assert p.files[0].hunks[0].ref.line == 100 + BODY.splitlines().index("@@ -1,2 +1,3 @@")
    assert p.diff_text == p.files[0].render()


def test_upstream_id_spellings():
    text = (f"commit {SHA1} upstream.\n\nblah\n(cherry picked from commit {SHA2[:12]})\n"
            f"[ Upstream commit {SHA1} ]\n")
    assert find_upstream_ids(text) == (SHA1, SHA2[:12])
    assert find_upstream_ids("commit abc is upstream\n") == ()


def test_prose_paragraph_is_no_trailer_block():
    assert parse_trailers(["Some text.", "", "Note: this is prose, not a trailer.", "And more prose here."]) == ()
    assert [t.key for t in parse_trailers(["x", "", "Acked-by: A <a@b>", "Tested-by: B <b@c>"])] == [
        "Acked-by", "Tested-by"]


def test_message_without_diff_can_be_read_when_asked():
    p, _ = parse_patch_text("Just a cover.\n\nbase-commit: " + SHA1 + "\n-- \n2.39\n", MailHeaders(
        subject="[PATCH v2 0/3] cover"), origin="c", need_diff=False)
    assert p.is_cover and p.base_commit == SHA1 and p.body == "Just a cover.\n" and not p.files
