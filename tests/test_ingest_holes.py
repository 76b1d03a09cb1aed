"""Holes in an n/N series: said once, and not at all for patches picked one by one."""

from __future__ import annotations

from backport.cli import main
from backport.ingest import describe_holes, load_series


def stable_mail(n: int, total: int = 104, *, mbox: bool = False) -> str:
    """One mail of a stable review queue, as Greg's scripts send them."""
    head = "From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n" if mbox else ""
    return (
        f"{head}From: Greg Kroah-Hartman <gregkh@linuxfoundation.org>\n"
        f"Subject: [PATCH 5.10 {n:03d}/{total}] foo: fix number {n}\n"
        "Date: Mon, 2 Jan 2023 10:00:00 +0100\n"
        f"Message-Id: <2023-{n}@linuxfoundation.org>\n\n"
        "From: Some Author <author@example.org>\n\n"
        "[ Upstream commit 0123456789abcdef0123456789abcdef01234567 ]\n\n"
        f"Fix number {n}.\n\n"
        "Signed-off-by: Some Author <author@example.org>\n"
        "---\n"
        f" drivers/foo/foo{n}.c | 1 +\n 1 file changed, 1 insertion(+)\n\n"
        f"diff --git a/drivers/foo/foo{n}.c b/drivers/foo/foo{n}.c\n"
        "index 1111111..2222222 100644\n"
        f"--- a/drivers/foo/foo{n}.c\n+++ b/drivers/foo/foo{n}.c\n"
        "@@ -1,3 +1,4 @@\n a\n+b\n c\n d\n"
        "-- \n2.39.0\n\n"
    )


def holes(warnings: tuple[str, ...]) -> list[str]:
    return [w.split(": warning: ", 1)[1] for w in warnings if "patches given" in w or "missing" in w]


def test_describe_holes():
    assert describe_holes([42], 104) == "1 of 104 patches given: 42"
    assert describe_holes([n for n in range(1, 105) if n != 42], 104) == "103 of 104 patches given: 1-41, 43-104; missing: 42"
    assert describe_holes([1, 2, 4], 5) == "3 of 5 patches given: 1-2, 4; missing: 3, 5"
    assert describe_holes([1, 2, 3, 5, 6, 7, 8, 9, 10], 10) == "9 of 10 patches given: 1-3, 5-10; missing: 4"
    assert describe_holes([1, 2, 3], 3) is None


def test_one_mail_of_a_stable_queue_is_said_once(tmp_path):
    mail = tmp_path / "042.eml"
    mail.write_text(stable_mail(42))
    s = load_series([str(mail)])
    assert [p.number for p in s.patches] == [42]
    assert holes(s.warnings) == ["1 of 104 patches given: 42"]
    assert s.warnings[0].startswith(f"{mail}:1: warning: ")


def test_patches_picked_one_by_one_are_not_warned(tmp_path):
    files = []
    for n in (42, 57, 3):
        files.append(tmp_path / f"{n:03d}.eml")
        files[-1].write_text(stable_mail(n))
    s = load_series([str(f) for f in files])
    assert [p.number for p in s.patches] == [3, 42, 57]
    assert holes(s.warnings) == []


def test_an_mbox_with_holes_is_one_warning(tmp_path):
    mbox = tmp_path / "queue.mbox"
    mbox.write_text("".join(stable_mail(n, 5, mbox=True) for n in (1, 2, 4)))
    s = load_series([str(mbox)])
    assert [p.number for p in s.patches] == [1, 2, 4]
    assert holes(s.warnings) == ["3 of 5 patches given: 1-2, 4; missing: 3, 5"]


def test_a_directory_with_holes_is_one_warning(tmp_path):
    d = tmp_path / "queue"
    d.mkdir()
    for n in (1, 3):
        (d / f"{n:04d}-fix.patch").write_text(stable_mail(n, 4))
    assert holes(load_series([str(d)]).warnings) == ["2 of 4 patches given: 1, 3; missing: 2, 4"]


def test_a_file_holding_several_patches_is_not_a_pick(tmp_path):
    """Two inputs, one of which holds two patches: a download with holes, warned once."""
    a, b = tmp_path / "a.mbox", tmp_path / "b.eml"
    a.write_text(stable_mail(1, 5, mbox=True) + stable_mail(2, 5, mbox=True))
    b.write_text(stable_mail(4, 5))
    assert holes(load_series([str(a), str(b)]).warnings) == ["3 of 5 patches given: 1-2, 4; missing: 3, 5"]


def test_show_prints_one_line(tmp_path, capsys):
    mail = tmp_path / "042.eml"
    mail.write_text(stable_mail(42))
    assert main(["show", str(mail)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "1 of 104 patches given: 42" in err and "is missing" not in err
