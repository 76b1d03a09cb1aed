"""apply.py: atomic --apply, its record, rollback on failure and Ctrl-C, revert, dirty trees."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from backport import apply as apply_mod
from backport.apply import (
    apply_results,
    find_records,
    recover_interrupted,
    revert_apply,
    write_apply_pointer,
    write_file_atomic,
)
from backport.cli import main
from backport.errors import ApplyError, TreeError
from backport.model import FilePatch, Patch, PortResult

KCONFIG = "config ARM\n\tbool\n\tdefault y\n"
FTRACE = "int ftrace_init(void)\n{\n\treturn 0;\n}\n"


def make_tree(root: Path) -> dict[str, bytes]:
    """A miniature kernel tree; returns {path: bytes} of every file."""
    files = {
        "Makefile": "VERSION = 4\nPATCHLEVEL = 9\nSUBLEVEL = 200\n",
        "arch/arm64/Kconfig": KCONFIG,
        "arch/arm64/kernel/ftrace.c": FTRACE,
        "scripts/recordmcount.pl": "#!/usr/bin/perl\nprint 1;\n",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "scripts/recordmcount.pl").chmod(0o755)
    return snapshot(root)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root except backport's record and .git, with its mode."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".backport-apply")]
        for f in filenames:
            p = Path(dirpath, f)
            rel = p.relative_to(root).as_posix()
            out[rel] = oct(stat.S_IMODE(p.lstat().st_mode)).encode() + b":" + p.read_bytes()
        for d in dirnames:
            out[Path(dirpath, d).relative_to(root).as_posix() + "/"] = b"dir"
    return out


def result(new_files, files=(), subject="arm64: ftrace: add regs") -> PortResult:
    return PortResult(patch=Patch(subject=subject, files=tuple(files)), new_files=tuple(new_files))


CHANGES = (
    ("arch/arm64/Kconfig", KCONFIG + "\tselect HAVE_DYNAMIC_FTRACE_WITH_REGS\n"),
    ("arch/arm64/kernel/ftrace.c", FTRACE.replace("return 0", "return 1")),
    ("arch/arm64/kernel/entry-ftrace-regs.S", "ENTRY(ftrace_regs_caller)\n"),
    ("include/new/dir/ftrace.h", "#define FTRACE_REGS 1\n"),
    ("Makefile", None),
)


def test_apply_writes_everything_and_revert_restores_bytes_and_modes(tmp_path):
    before = make_tree(tmp_path)
    record = apply_results(str(tmp_path), [result(CHANGES)])
    assert (tmp_path / "arch/arm64/kernel/ftrace.c").read_text().count("return 1") == 1
    assert (tmp_path / "include/new/dir/ftrace.h").read_text() == "#define FTRACE_REGS 1\n"
    assert not (tmp_path / "Makefile").exists()
    journal = json.loads(Path(record, "journal.json").read_text())
    assert journal["state"] == "done"
    assert {e["action"] for e in journal["entries"]} == {"write", "create", "delete"}
    assert Path(record).parent == tmp_path / ".backport-apply"
    # no temp file is left anywhere
    assert not [p for p in tmp_path.rglob(".bp-*")]
    restored = revert_apply(str(tmp_path))
    assert set(restored) == {p for p, _ in CHANGES}
    assert snapshot(tmp_path) == before  # bytes, modes, and the new directories are gone
    assert json.loads(Path(record, "journal.json").read_text())["state"] == "reverted"


def test_mode_of_the_replaced_file_is_kept_and_new_mode_hint_is_honoured(tmp_path):
    make_tree(tmp_path)
    fp_exec = FilePatch(None, "tools/run.sh", new_mode="100755")  # new file mode 100755
    apply_results(str(tmp_path), [result([("scripts/recordmcount.pl", "#!/usr/bin/perl\nprint 2;\n"),
                                          ("tools/run.sh", "#!/bin/sh\n")], files=[fp_exec])])
    assert stat.S_IMODE((tmp_path / "scripts/recordmcount.pl").stat().st_mode) == 0o755
    assert (tmp_path / "tools/run.sh").stat().st_mode & 0o111


def test_index_line_mode_never_strips_the_targets_exec_bit(tmp_path):
    make_tree(tmp_path)
    fp = FilePatch("scripts/recordmcount.pl", "scripts/recordmcount.pl", old_mode="100644", new_mode="100644")
    apply_results(str(tmp_path), [result([("scripts/recordmcount.pl", "#!/usr/bin/perl\nprint 3;\n")], files=[fp])])
    assert stat.S_IMODE((tmp_path / "scripts/recordmcount.pl").stat().st_mode) == 0o755


def test_explicit_mode_change_is_applied_and_reverted(tmp_path):
    before = make_tree(tmp_path)
    fp = FilePatch("arch/arm64/Kconfig", "arch/arm64/Kconfig", old_mode="100644", new_mode="100755")
    apply_results(str(tmp_path), [result([("arch/arm64/Kconfig", KCONFIG + "# x\n")], files=[fp])])
    assert stat.S_IMODE((tmp_path / "arch/arm64/Kconfig").stat().st_mode) & 0o111
    revert_apply(str(tmp_path))
    assert snapshot(tmp_path) == before


def test_later_results_win_and_unchanged_files_are_skipped(tmp_path):
    make_tree(tmp_path)
    r1 = result([("arch/arm64/Kconfig", KCONFIG + "# one\n")], subject="one")
    r2 = result([("arch/arm64/Kconfig", KCONFIG + "# one\n# two\n"), ("Makefile", (tmp_path / "Makefile").read_text())],
                subject="two")
    record = apply_results(str(tmp_path), [r1, r2])
    assert (tmp_path / "arch/arm64/Kconfig").read_text().endswith("# one\n# two\n")
    entries = json.loads(Path(record, "journal.json").read_text())["entries"]
    assert [e["path"] for e in entries] == ["arch/arm64/Kconfig"]


def test_deleting_a_missing_file_is_refused_and_leaves_no_trace(tmp_path):
    before = make_tree(tmp_path)
    with pytest.raises(ApplyError, match="deletes a file the tree does not have"):
        apply_results(str(tmp_path), [result([("arch/arm64/Kconfig", "x\n"), ("nope.c", None)])])
    assert snapshot(tmp_path) == before
    assert not (tmp_path / ".backport-apply").exists()


def test_a_file_where_a_directory_should_be_is_refused(tmp_path):
    before = make_tree(tmp_path)
    with pytest.raises(ApplyError, match="Makefile is not a directory"):
        apply_results(str(tmp_path), [result([("arch/arm64/Kconfig", "x\n"), ("Makefile/sub.c", "int y;\n")])])
    assert snapshot(tmp_path) == before


def test_error_midway_rolls_back_in_process(tmp_path, monkeypatch):
    before = make_tree(tmp_path)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst, **kw):
        if "src_dir_fd" in kw:  # a rename in the tree, not in the record
            calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, **kw)

    monkeypatch.setattr(apply_mod.os, "replace", failing_replace)
    with pytest.raises(ApplyError, match="the tree was restored"):
        apply_results(str(tmp_path), [result(CHANGES)])
    monkeypatch.setattr(apply_mod.os, "replace", real_replace)
    assert snapshot(tmp_path) == before
    (record,) = find_records(str(tmp_path))
    assert json.loads(Path(record, "journal.json").read_text())["state"] == "rolled-back"


def test_failure_to_write_the_record_touches_nothing(tmp_path, monkeypatch):
    before = make_tree(tmp_path)

    def full_disk(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(apply_mod, "write_file_atomic", full_disk)
    with pytest.raises(ApplyError, match="cannot write the apply record.*nothing was written"):
        apply_results(str(tmp_path), [result(CHANGES)])
    assert snapshot(tmp_path) == before
    assert not (tmp_path / ".backport-apply").exists()


def test_failure_while_staging_removes_temp_files_and_new_directories(tmp_path, monkeypatch):
    before = make_tree(tmp_path)
    real_fchmod = os.fchmod
    calls = []

    def failing_fchmod(fd, mode):
        calls.append(fd)
        if len(calls) == 4:  # the last staged file, include/new/dir/ftrace.h: its dirs exist now
            raise OSError(28, "No space left on device")
        return real_fchmod(fd, mode)

    monkeypatch.setattr(apply_mod.os, "fchmod", failing_fchmod)
    with pytest.raises(ApplyError, match="No space left"):
        apply_results(str(tmp_path), [result(CHANGES)])
    assert len(calls) == 4
    assert snapshot(tmp_path) == before  # no .bp-* temp file, no include/new/dir
    assert not (tmp_path / "include").exists()


def test_ctrl_c_midway_rolls_back_and_reraises(tmp_path, monkeypatch):
    before = make_tree(tmp_path)
    real_replace = os.replace
    calls = []

    def interrupted_replace(src, dst, **kw):
        if "src_dir_fd" in kw:
            calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_replace(src, dst, **kw)

    monkeypatch.setattr(apply_mod.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        apply_results(str(tmp_path), [result(CHANGES)])
    monkeypatch.setattr(apply_mod.os, "replace", real_replace)
    assert snapshot(tmp_path) == before


def test_revert_refuses_a_file_changed_since_unless_forced(tmp_path):
    before = make_tree(tmp_path)
    record = apply_results(str(tmp_path), [result(CHANGES)])
    (tmp_path / "arch/arm64/Kconfig").write_text("edited by the user\n")
    with pytest.raises(ApplyError, match="changed since the apply"):
        revert_apply(record)
    assert (tmp_path / "arch/arm64/Kconfig").read_text() == "edited by the user\n"
    assert json.loads(Path(record, "journal.json").read_text())["state"] == "done"
    revert_apply(record, force=True)
    assert snapshot(tmp_path) == before


def test_two_applies_revert_in_reverse_order(tmp_path):
    before = make_tree(tmp_path)
    apply_results(str(tmp_path), [result([("arch/arm64/Kconfig", "one\n")])])
    middle = snapshot(tmp_path)
    apply_results(str(tmp_path), [result([("arch/arm64/Kconfig", "two\n")])])
    assert revert_apply(str(tmp_path)) == ("arch/arm64/Kconfig",)
    assert snapshot(tmp_path) == middle
    revert_apply(str(tmp_path))
    assert snapshot(tmp_path) == before
    with pytest.raises(ApplyError, match="no apply record"):
        revert_apply(str(tmp_path))


def test_cli_revert_prints_restored_paths(tmp_path, capsys):
    before = make_tree(tmp_path)
    apply_results(str(tmp_path), [result(CHANGES)])
    assert main(["revert", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "restored arch/arm64/Kconfig" in out
    assert snapshot(tmp_path) == before
    assert main(["revert", str(tmp_path)]) == 1  # nothing left: ApplyError, one line
    assert "no apply record" in capsys.readouterr().err


def test_revert_of_a_missing_directory_is_a_tree_error(tmp_path):
    with pytest.raises(TreeError):
        revert_apply(str(tmp_path / "absent"))


def test_a_live_lock_is_respected_and_a_stale_one_taken_over(tmp_path):
    before = make_tree(tmp_path)
    base = tmp_path / ".backport-apply"
    base.mkdir()
    holder = subprocess.Popen(["sleep", "30"])
    try:
        (base / "lock").write_text(f"{holder.pid}\n")
        with pytest.raises(ApplyError, match="another backport"):
            apply_results(str(tmp_path), [result(CHANGES)])
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()
    (base / "lock").write_text(f"{holder.pid}\n")  # its holder is dead now
    apply_results(str(tmp_path), [result(CHANGES)])
    assert not (base / "lock").exists()


def test_write_file_atomic_replaces_a_symlink_instead_of_following_it(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").symlink_to(outside)
    write_file_atomic(out / "report.json", "{}\n")
    assert outside.read_text() == "precious\n"
    assert not (out / "report.json").is_symlink() and (out / "report.json").read_text() == "{}\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]


# ---------------------------------------------------------------- git trees


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}).stdout


@pytest.fixture
def git_tree(tmp_path):
    root = tmp_path / "linux"
    root.mkdir()
    make_tree(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def test_git_tree_record_lives_in_dot_git_and_revert_leaves_git_clean(git_tree):
    record = apply_results(str(git_tree), [result(CHANGES)])
    assert Path(record).parent == git_tree / ".git" / "backport"
    assert git(git_tree, "status", "--porcelain")  # the tree is changed
    revert_apply(str(git_tree))
    assert git(git_tree, "status", "--porcelain") == ""


def test_dirty_git_tree_is_refused_unless_forced(git_tree):
    (git_tree / "Makefile").write_text("VERSION = 4\n# local hack\n")
    before = snapshot(git_tree)
    with pytest.raises(ApplyError, match="uncommitted changes.*Makefile"):
        apply_results(str(git_tree), [result(CHANGES[:2])])
    assert snapshot(git_tree) == before
    apply_results(str(git_tree), [result(CHANGES[:2])], force=True)
    assert "return 1" in (git_tree / "arch/arm64/kernel/ftrace.c").read_text()


def test_staged_changes_are_dirty_too(git_tree):
    (git_tree / "Makefile").write_text("VERSION = 4\n")
    git(git_tree, "add", "Makefile")
    with pytest.raises(ApplyError, match="uncommitted"):
        apply_results(str(git_tree), [result(CHANGES[:1])])


def test_untracked_files_are_ignored_unless_the_series_overwrites_one(git_tree):
    (git_tree / "notes.txt").write_text("mine\n")
    apply_results(str(git_tree), [result(CHANGES[:1])])  # untracked elsewhere: fine
    revert_apply(str(git_tree))
    (git_tree / "include/new/dir").mkdir(parents=True)
    (git_tree / "include/new/dir/ftrace.h").write_text("untracked work\n")
    with pytest.raises(ApplyError, match="untracked files git cannot restore"):
        apply_results(str(git_tree), [result(CHANGES)])
    assert (git_tree / "include/new/dir/ftrace.h").read_text() == "untracked work\n"


def test_recover_interrupted_without_anything_to_do(tmp_path):
    make_tree(tmp_path)
    assert recover_interrupted(str(tmp_path)) == ()
    assert not (tmp_path / ".backport-apply").exists()


def test_a_revert_killed_midway_is_finished_by_the_next_run(tmp_path):
    before = make_tree(tmp_path)
    record = apply_results(str(tmp_path), [result(CHANGES)])
    journal_path = Path(record, "journal.json")
    journal = json.loads(journal_path.read_text())
    # as a SIGKILLed revert leaves it: state "reverting", one file already back, a .rev temp file
    journal["state"] = "reverting"
    journal_path.write_text(json.dumps(journal))
    (tmp_path / "arch/arm64/Kconfig").write_text(KCONFIG)
    (tmp_path / "arch/arm64" / f".bp-{journal['id']}-1.rev").write_text("half")  # entry 1: arch/arm64/Kconfig
    restored = revert_apply(str(tmp_path))
    assert "arch/arm64/Kconfig" not in restored and "arch/arm64/kernel/ftrace.c" in restored
    assert snapshot(tmp_path) == before
    assert json.loads(journal_path.read_text())["state"] == "reverted"


def test_revert_through_the_out_directory_pointer(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    before = make_tree(tree)
    out = tmp_path / "out"
    out.mkdir()
    record = apply_results(str(tree), [result(CHANGES)])
    assert Path(write_apply_pointer(str(out), record)).read_text().strip() == record
    assert set(revert_apply(str(out))) == {p for p, _ in CHANGES}
    assert snapshot(tree) == before
    (out / "apply-record.txt").write_text(str(tmp_path) + "\n")
    with pytest.raises(ApplyError, match="names no apply record"):
        revert_apply(str(out))


@pytest.mark.parametrize("new_files", [
    (("b", ""), ("b/a", "")),            # a new file and a new file under it
    (("Makefile", None), ("Makefile/y", "")),  # a deleted file and a new file under it
])
def test_a_path_written_as_file_and_directory_is_refused_before_any_write(tmp_path, new_files):
    """Found by hypothesis (test_fuzz_properties): staging created ``b/`` for ``b/a`` and then
    failed on the file ``b``, leaving the directory and a temp file behind."""
    root = tmp_path / "tree"
    make_tree(root)
    before = snapshot(root)
    with pytest.raises(ApplyError, match="nothing was written"):
        apply_results(str(root), [result(new_files)])
    after = {k: v for k, v in snapshot(root).items() if not k.startswith(".backport-apply")}
    assert after == before
    assert not (root / "b").exists()
