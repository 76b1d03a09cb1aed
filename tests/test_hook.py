"""The git am hook: install/uninstall of the shims, and real `git am` runs in warn and block mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_render_common import RESULTS, make_target_repo

from backport.errors import ParseError, UsageError
from backport.hook import (
    HOOK_NAMES,
    SHIM_HASH,
    find_hooks_dir,
    install_hooks,
    is_current_shim,
    is_shim,
    parse_hook_config,
    render_trailer,
    uninstall_hooks,
)
from backport.render.mbox import render_mbox

# Deterministic stand-ins for the deps and kb checks, loaded into the hook's interpreter through
# sitecustomize: an error for any patch touching arch/arm64/Kconfig (saying whether the check saw
# the tree before the patch, as it must), a kb note for kernel/trace/ftrace.c. The real checks
# run in git am in tests/test_hook_real.py.
FAKE_CHECKS = '''
import backport.deps, backport.kbcheck
from backport.model import Finding, Severity, SourceRef

def deps_check(patch, tree, **kw):
    out = []
    for fp in patch.files:
        if fp.path == "arch/arm64/Kconfig":
            applied = "HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS" in (tree.read(fp.path) or "")
            out.append(Finding("missing-symbol", Severity.ERROR,
                               "HAVE_DYNAMIC_FTRACE_WITH_ARGS is not defined in the target"
                               + (" (patch applied: checked too late)" if applied else " (tree before the patch)"),
                               SourceRef(fp.path, 3), hint="backport the WITH_ARGS series first"))
    return tuple(out)

def kb_check(patch, tree, **kw):
    return tuple(Finding("kb-ftrace-fentry", Severity.NOTE, "ftrace.c changed: re-run the ftrace selftests",
                         rule="ftrace-fentry") for fp in patch.files if fp.path == "kernel/trace/ftrace.c")

backport.deps.check_patch = deps_check
backport.kbcheck.check_patch = kb_check
'''


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture
def am_env(tmp_path: Path) -> dict[str, str]:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(FAKE_CHECKS)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(plugin), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return make_target_repo(tmp_path / "target")


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    path = tmp_path / "port.mbox"
    path.write_text(render_mbox(RESULTS, signoff="Porter Person <porter@example.org>"), encoding="utf-8")
    return path


def message(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "log", "-1", "--format=%B", rev).stdout


# ---------------------------------------------------------------- install / uninstall


def test_install_writes_marked_shims_calling_this_interpreter(target):
    paths = install_hooks(str(target), mode="block")
    hooks = find_hooks_dir(str(target))
    assert paths == tuple(str(hooks / n) for n in HOOK_NAMES)
    for name in HOOK_NAMES:
        shim = hooks / name
        text = shim.read_text()
        assert text.startswith("#!/bin/sh\n") and f"# backport-hook-shim {SHIM_HASH}\n" in text
        assert f"-P -m backport hook-impl {name} \"$@\"" in text and sys.executable in text
        assert os.access(shim, os.X_OK) and is_shim(shim) and is_current_shim(shim)
    assert git(target, "config", "backport.hookMode").stdout.strip() == "block"


def test_foreign_hook_is_kept_as_legacy_and_restored(target):
    hooks = find_hooks_dir(str(target))
    hooks.mkdir(exist_ok=True)
    foreign = hooks / "pre-applypatch"
    foreign.write_text("#!/bin/sh\necho legacy\n")
    foreign.chmod(0o750)
    install_hooks(str(target))
    assert (hooks / "pre-applypatch.legacy").read_text() == "#!/bin/sh\necho legacy\n"
    install_hooks(str(target), mode="block")  # upgrade in place: the legacy hook is not lost
    assert (hooks / "pre-applypatch.legacy").read_text() == "#!/bin/sh\necho legacy\n"
    removed = uninstall_hooks(str(target))
    assert len(removed) == 3
    assert foreign.read_text() == "#!/bin/sh\necho legacy\n" and oct(foreign.stat().st_mode & 0o777) == "0o750"
    assert not (hooks / "pre-applypatch.legacy").exists()
    assert not (hooks / "applypatch-msg").exists()
    assert git(target, "config", "backport.hookMode", check=False).returncode == 1
    assert uninstall_hooks(str(target)) == ()  # nothing of ours left; the foreign hook stays
    assert foreign.exists()


def test_older_shim_is_recognised_and_upgraded(target):
    hooks = find_hooks_dir(str(target))
    hooks.mkdir(exist_ok=True)
    old = hooks / "post-applypatch"
    old.write_text("#!/bin/sh\n# backport-hook-shim 0000000000000000\nexec true\n")
    assert is_shim(old) and not is_current_shim(old)
    install_hooks(str(target))
    assert is_current_shim(old) and not (hooks / "post-applypatch.legacy").exists()


def test_collision_with_an_existing_legacy_file_is_refused(target):
    hooks = find_hooks_dir(str(target))
    hooks.mkdir(exist_ok=True)
    (hooks / "applypatch-msg").write_text("#!/bin/sh\n")
    (hooks / "applypatch-msg.legacy").write_text("#!/bin/sh\n")
    with pytest.raises(UsageError, match="applypatch-msg.legacy exists"):
        install_hooks(str(target))
    assert not is_shim(hooks / "applypatch-msg")


def test_core_hooks_path_is_honoured(target, tmp_path):
    shared = tmp_path / "shared-hooks"
    git(target, "config", "core.hooksPath", str(shared))
    install_hooks(str(target))
    assert all(is_shim(shared / n) for n in HOOK_NAMES)


def test_config_parsing():
    cfg = parse_hook_config("backport.hookmode block\nbackport.ignore missing-symbol\nbackport.ignore kb-x\n"
                            "backport.kb /etc/kb\nbackport.hookamend note\nbackport.failon warning\n")
    assert (cfg.mode, cfg.ignore, cfg.kb_dirs, cfg.amend, cfg.fail_on) == (
        "block", ("missing-symbol", "kb-x"), ("/etc/kb",), "note", "warning")
    with pytest.raises(ParseError, match="backport.hookMode is 'stop'"):
        parse_hook_config("backport.hookmode stop\n")
    assert render_trailer(1) == "Backport-checked: backport 0.1.0 (1 finding)"


def test_cli_install_uninstall(target):
    from backport.cli import main

    assert main(["hook", "install", "--repo", str(target), "--mode", "warn"]) == 0
    assert is_shim(find_hooks_dir(str(target)) / "pre-applypatch")
    assert main(["hook", "uninstall", "--repo", str(target)]) == 0
    assert not (find_hooks_dir(str(target)) / "pre-applypatch").exists()
    assert main(["hook", "install", "--repo", str(target / "nope")]) == 2


# ---------------------------------------------------------------- real git am


def test_warn_mode_prints_findings_and_adds_trailers(target, mbox, am_env):
    install_hooks(str(target), mode="warn")
    r = git(target, "am", str(mbox), env=am_env)
    assert "backport: arch/arm64/Kconfig:3: error: missing-symbol: HAVE_DYNAMIC_FTRACE_WITH_ARGS is not defined " \
           "in the target (tree before the patch) (hint: backport the WITH_ARGS series first)" in r.stderr
    assert "note: kb-ftrace-fentry" in r.stderr
    first, second = message(target, "HEAD~1"), message(target)
    assert first.rstrip().splitlines()[-1] == "Backport-checked: backport 0.1.0 (1 finding)"
    assert second.rstrip().splitlines()[-1] == "Backport-checked: backport 0.1.0 (1 finding)"
    assert "Signed-off-by: Porter Person <porter@example.org>" in second
    # the amend kept the author and the tree
    assert git(target, "log", "-1", "--format=%an").stdout.strip() == "Jürgen Groß"
    assert "HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS" in (target / "arch/arm64/Kconfig").read_text()
    assert not (target / ".git" / "rebase-apply").exists()


def test_block_mode_stops_git_am_with_the_reason(target, mbox, am_env):
    install_hooks(str(target), mode="block")
    base = git(target, "rev-parse", "HEAD").stdout.strip()
    r = git(target, "am", str(mbox), env=am_env, check=False)
    assert r.returncode != 0
    assert "backport: stopping git am: 1 finding(s) at or above error in " \
           "'arm64: ftrace: Add ftrace direct call support'" in r.stderr
    # patch 1 went in (with its trailer), patch 2 did not
    assert git(target, "rev-parse", "HEAD~1").stdout.strip() == base
    assert git(target, "log", "-1", "--format=%s").stdout.strip() == "ftrace: Allow users to disable ftrace direct call"
    assert "(1 finding)" in message(target)
    # the porter decides to go on anyway
    r = git(target, "-c", "backport.hookMode=warn", "am", "--continue", env=am_env)
    assert git(target, "log", "-1", "--format=%s").stdout.strip() == "arm64: ftrace: Add ftrace direct call support"
    assert message(target).rstrip().endswith("Backport-checked: backport 0.1.0 (1 finding)")


def test_block_mode_on_warnings_and_ignore_list(target, mbox, am_env):
    install_hooks(str(target), mode="block")
    git(target, "config", "backport.failOn", "note")
    git(target, "config", "--add", "backport.ignore", "missing-symbol")
    r = git(target, "am", str(mbox), env=am_env, check=False)
    assert r.returncode != 0 and "at or above note in 'ftrace: Allow users" in r.stderr
    git(target, "am", "--abort")
    git(target, "config", "--add", "backport.ignore", "kb-ftrace-fentry")
    git(target, "am", str(mbox), env=am_env)
    assert message(target).rstrip().endswith("(0 findings)")


def test_note_style_appends_the_findings(target, mbox, am_env):
    install_hooks(str(target))
    git(target, "config", "backport.hookAmend", "note")
    git(target, "am", str(mbox), env=am_env)
    msg = message(target)
    assert "[ backport 0.1.0: checked by the git am hook\n  - arch/arm64/Kconfig:3: error: missing-symbol:" in msg
    assert msg.rstrip().endswith("Backport-checked: backport 0.1.0 (1 finding)")


def test_legacy_hook_still_runs_and_can_stop_git_am(target, mbox, am_env, tmp_path):
    hooks = find_hooks_dir(str(target))
    hooks.mkdir(exist_ok=True)
    log = tmp_path / "legacy.log"
    legacy = hooks / "pre-applypatch"
    legacy.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        echo ran >> {log}
        [ "$(cat "$GIT_DIR/rebase-apply/next" 2>/dev/null || cat .git/rebase-apply/next)" = 2 ] && exit 7
        exit 0
        """))
    legacy.chmod(0o755)
    install_hooks(str(target), mode="warn")
    r = git(target, "am", str(mbox), env=am_env, check=False)
    assert r.returncode != 0  # the legacy hook refused patch 2
    assert log.read_text() == "ran\nran\n"
    assert git(target, "log", "-1", "--format=%s").stdout.strip() == "ftrace: Allow users to disable ftrace direct call"


def test_without_hooks_nothing_is_amended(target, mbox, am_env):
    install_hooks(str(target))
    uninstall_hooks(str(target))
    git(target, "am", str(mbox), env=am_env)
    assert "Backport-checked" not in message(target)


def test_real_checks_run_in_the_hook(target, mbox):
    """No stand-ins: the shipped deps and kb checks run inside git am (tests/test_hook_real.py checks what they find)."""
    install_hooks(str(target), mode="warn")
    r = git(target, "am", str(mbox))
    assert "Traceback" not in r.stderr and "cannot check" not in r.stderr
    for rev in ("HEAD", "HEAD~1"):
        last = message(target, rev).rstrip().splitlines()[-1]
        assert re.fullmatch(r"Backport-checked: backport 0\.1\.0 \(\d+ findings?\)", last), last


def test_load_am_patch_reads_rebase_apply(tmp_path):
    from test_render_common import PORTED_1

    from backport.hook import load_am_patch

    state = tmp_path / "rebase-apply"
    state.mkdir()
    (state / "patch").write_text(PORTED_1)
    (state / "final-commit").write_text("ftrace: fix\n\n[ Upstream commit 5fcb2bd81f30e3fa1fbc0436ef5c6bf9c18f1f8b ]\n")
    patch = load_am_patch(state)
    assert patch.subject == "ftrace: fix" and patch.upstream_ids == ("5fcb2bd81f30e3fa1fbc0436ef5c6bf9c18f1f8b",)
    assert [fp.path for fp in patch.files] == ["kernel/trace/ftrace.c"] and len(patch.files[0].hunks) == 2
    (state / "patch").unlink()
    with pytest.raises(ParseError, match="git am left no patch file"):
        load_am_patch(state)


def test_shim_reports_a_missing_interpreter(target, tmp_path):
    hooks = find_hooks_dir(str(target))
    install_hooks(str(target), python=str(tmp_path / "gone" / "python3"))
    r = subprocess.run([str(hooks / "pre-applypatch")], cwd=target, capture_output=True, text=True)
    assert r.returncode == 1 and "python3 is gone" in r.stderr


def test_a_backport_directory_in_the_target_does_not_shadow_the_tool(target, mbox, am_env):
    (target / "backport").mkdir()
    (target / "backport" / "__init__.py").write_text("raise SystemExit('shadowed')\n")
    (target / "backport" / "__main__.py").write_text("raise SystemExit('shadowed')\n")
    install_hooks(str(target), mode="block")
    r = git(target, "am", str(mbox), env=am_env, check=False)
    assert "shadowed" not in r.stderr and "stopping git am" in r.stderr
