"""`backport port --apply` and `backport revert` end to end, on a miniature tree and series of our
own: a clean apply and its revert, a hostile series refused with one error line, a dirty git
tree refused without --force, and `--apply` killed midway (SIGKILL) then reverted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_apply import snapshot

from backport.apply import PAUSE_ENV

FILES = {
    "Makefile": "VERSION = 4\nPATCHLEVEL = 9\nSUBLEVEL = 0\n",
    "drivers/foo.c": "int a;\nint b;\nint c;\nint d;\n",
    "drivers/bar.c": "int x;\nint y;\nint z;\n",
    "include/foo.h": "#define FOO 1\n#define BAR 2\n#define BAZ 3\n",
}


def mail_patch(subject: str, diff: str) -> str:
    return ("From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
            f"From: Dev <dev@example.org>\nSubject: [PATCH] {subject}\n\nWhy.\n\n"
            f"Signed-off-by: Dev <dev@example.org>\n---\n{diff}-- \n2.40.0\n\n")


SERIES = mail_patch("foo: three files", """diff --git a/drivers/foo.c b/drivers/foo.c
--- a/drivers/foo.c
+++ b/drivers/foo.c
@@ -2,3 +2,4 @@
 int b;
 int c;
 int d;
+int e;
diff --git a/drivers/bar.c b/drivers/bar.c
--- a/drivers/bar.c
+++ b/drivers/bar.c
@@ -1,3 +1,3 @@
 int x;
-int y;
+long y;
 int z;
diff --git a/include/foo.h b/include/foo.h
--- a/include/foo.h
+++ b/include/foo.h
@@ -1,3 +1,4 @@
 #define FOO 1
 #define BAR 2
 #define BAZ 3
+#define QUX 4
""")

EVIL = mail_patch("foo: innocent", """diff --git a/drivers/foo.c b/drivers/foo.c
--- a/drivers/foo.c
+++ b/drivers/foo.c
@@ -2,3 +2,4 @@
 int b;
 int c;
 int d;
+int e;
diff --git a/../outside.c b/../outside.c
new file mode 100644
--- /dev/null
+++ b/../outside.c
@@ -0,0 +1 @@
+pwned
""")


@pytest.fixture
def work(tmp_path):
    tree = tmp_path / "tree"
    for rel, text in FILES.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    (tmp_path / "series.mbox").write_text(SERIES)
    (tmp_path / "evil.mbox").write_text(EVIL)
    return tmp_path


def backport(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backport", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_port_apply_then_revert(work):
    tree = work / "tree"
    before = snapshot(tree)
    r = backport("port", str(work / "series.mbox"), "--onto", str(tree), "--apply")
    assert r.returncode == 0, r.stderr
    assert "undo record" in r.stderr
    assert (tree / "drivers/foo.c").read_text().endswith("int e;\n")
    assert "long y;" in (tree / "drivers/bar.c").read_text()
    r = backport("revert", str(tree))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted("restored drivers/bar.c restored drivers/foo.c restored include/foo.h".split())
    assert snapshot(tree) == before


def test_hostile_series_is_refused_with_one_line_and_nothing_written(work):
    tree = work / "tree"
    before = snapshot(work)
    r = backport("port", str(work / "evil.mbox"), "--onto", str(tree), "--apply")
    assert r.returncode == 2
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "evil.mbox:" in err[0] and "error: unsafe-path" in err[0], r.stderr
    assert snapshot(work) == before
    assert not (work / "outside.c").exists()


def test_dirty_git_tree_needs_force(work):
    tree = work / "tree"
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.org"}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(tree), *cmd], check=True, env={**os.environ, **env})
    (tree / "Makefile").write_text("VERSION = 4\n# local\n")
    r = backport("port", str(work / "series.mbox"), "--onto", str(tree), "--apply")
    assert r.returncode == 1 and "uncommitted changes" in r.stderr
    assert (tree / "drivers/foo.c").read_text() == FILES["drivers/foo.c"]
    r = backport("port", str(work / "series.mbox"), "--onto", str(tree), "--apply", "--force")
    assert r.returncode == 0, r.stderr
    assert (tree / "drivers/foo.c").read_text().endswith("int e;\n")


def test_port_apply_killed_midway_then_revert(work):
    tree = work / "tree"
    before = snapshot(tree)
    child = subprocess.Popen([sys.executable, "-m", "backport", "port", str(work / "series.mbox"), "--onto",
                              str(tree), "--apply"], env={**os.environ, PAUSE_ENV: "1.0"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # entries are renamed in path order: drivers/bar.c first
    while "long y;" not in (tree / "drivers/bar.c").read_text():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert snapshot(tree) != before  # killed halfway: bar.c written, foo.h not yet
    assert (tree / "include/foo.h").read_text() == FILES["include/foo.h"]
    r = backport("revert", str(tree))
    assert r.returncode == 0, r.stderr
    assert snapshot(tree) == before
    assert not [p for p in Path(tree).rglob(".bp-*")]
