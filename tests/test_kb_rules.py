"""kb rule files: schema errors with file:line, the rule vocabulary on small in-memory trees,
user rule directories, `backport kb list|show|lint`, and the documentation of every rule id."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest

from backport.cli import main
from backport.errors import RuleError
from backport.kbcheck import check_patch, find_scan
from backport.model import Patch, PortOptions, Series
from backport.series import parse_diff
from backport.target import DirTree, MemoryTree
from kb.loader import check_rule_files, load_rules, parse_rules, parse_version_spec, version_matches

KB = Path(__file__).resolve().parent.parent / "kb"

GOOD = textwrap.dedent("""\
    family: demo
    title: a user's rules
    rules:
      - id: kb-demo-memcpy-text
        title: memcpy into text
        severity: warning
        when:
          added_matches: ['memcpy\\(\\s*\\(void \\*\\)\\s*pc']
        check:
          tree_grep: {paths: ['arch/*/kernel/*.c'], pattern: 'patch_text'}
        message: found {count} text patchers in {files} file(s)
        checklist: tick me
    """)


def _patch(diff: str, subject: str = "a change") -> Patch:
    return Patch(subject=subject, files=parse_diff(textwrap.dedent(diff), origin="t.patch"))


def _findings(diff: str, files: dict[str, str], **opts) -> dict[str, object]:
    patch = _patch(diff)
    tree = MemoryTree(files)
    out = check_patch(patch, tree, series=Series((patch,)), options=PortOptions(**opts))
    return {f.code: f for f in out}


# ---------------------------------------------------------------- loader and schema


def test_bundled_rules_lint_clean_and_ids_are_unique():
    assert check_rule_files() == ()
    rules = load_rules()
    assert len(rules) >= 20
    assert len({r.id for r in rules}) == len(rules)
    assert {r.family for r in rules} == {"ftrace-entry", "ftrace-regs", "text-patching", "symbols",
                                         "direct-calls", "kconfig-renames", "features"}


def test_unknown_key_is_reported_with_its_line():
    bad = GOOD.replace("severity: warning", "severty: warning")
    with pytest.raises(RuleError) as e:
        parse_rules(bad, "kb/rules/x.yaml")
    # the missing 'severity' and the unknown 'severty' are both on the rule; the unknown key is named
    problems = check_rule_files_text(bad)
    assert "kb/rules/x.yaml:6: error: unknown key 'severty' in rules.0" in problems
    assert "kb/rules/x.yaml:4: error: rules.0: 'severity' is a required property" in problems
    assert str(e.value).startswith("kb/rules/x.yaml:")


def check_rule_files_text(text: str) -> list[str]:
    from kb.loader import _problems

    problems, _data, _lines = _problems(text, "kb/rules/x.yaml")
    return [f"kb/rules/x.yaml:{line}: error: {msg}" for line, msg in problems]


def test_schema_errors_point_at_the_offending_line():
    assert check_rule_files_text(GOOD) == []
    bad_sev = GOOD.replace("severity: warning", "severity: fatal")
    assert any(p.startswith("kb/rules/x.yaml:6: error: rules.0.severity") for p in check_rule_files_text(bad_sev))
    bad_id = GOOD.replace("kb-demo-memcpy-text", "demo_memcpy")
    assert any(p.startswith("kb/rules/x.yaml:4: error: rules.0.id") for p in check_rule_files_text(bad_id))
    bad_check = GOOD.replace("tree_grep:", "tree_grepp:")
    assert "kb/rules/x.yaml:10: error: unknown key 'tree_grepp' in rules.0.check" in check_rule_files_text(bad_check)


def test_bad_regex_and_bad_version_are_lint_errors():
    bad = GOOD.replace("pattern: 'patch_text'", "pattern: 'patch_text('")
    assert any(p.startswith("kb/rules/x.yaml:10: error: bad regular expression") for p in check_rule_files_text(bad))
    bad_v = GOOD.replace("      added_matches:", "      target_version: 'newer'\n      added_matches:")
    assert any("x.yaml:8: error: bad version range 'newer'" in p for p in check_rule_files_text(bad_v))


def test_yaml_syntax_and_duplicate_keys_are_errors_with_lines():
    with pytest.raises(RuleError) as e:
        parse_rules("family: x\ntitle: [unclosed\n", "r.yaml")
    assert e.value.ref is not None and e.value.ref.path == "r.yaml" and e.value.ref.line >= 2
    with pytest.raises(RuleError) as e:
        parse_rules("family: x\nfamily: y\ntitle: t\nrules: []\n", "r.yaml")
    assert str(e.value) == "r.yaml:2: error: duplicate key 'family'"


def test_user_rule_dir_adds_rules_and_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "mine.yaml").write_text(GOOD)
    rules = load_rules([str(tmp_path)])
    assert rules[-1].id == "kb-demo-memcpy-text" and rules[-1].ref.line == 4
    dup = tmp_path / "dup"
    dup.mkdir()
    (dup / "a.yaml").write_text(GOOD.replace("kb-demo-memcpy-text", "kb-ftrace-init-nop"))
    with pytest.raises(RuleError, match="kb-ftrace-init-nop already defined at kb/rules/ftrace-entry.yaml"):
        load_rules([str(dup)])
    with pytest.raises(RuleError, match="not a rule directory"):
        load_rules([str(tmp_path / "nope")])


def test_user_rule_fires_with_placeholders_filled(tmp_path):
    (tmp_path / "mine.yaml").write_text(GOOD)
    diff = """\
        --- a/arch/arm/kernel/kgdb.c
        +++ b/arch/arm/kernel/kgdb.c
        @@ -1,2 +1,3 @@
         int x;
        +	memcpy((void *)pc, &insn, 4);
         int y;
        """
    files = {"arch/arm/kernel/patch.c": "void patch_text(void *addr, unsigned int insn);\nint patch_text_x;\n"}
    found = _findings(diff, files, kb_dirs=(str(tmp_path),))
    f = found["kb-demo-memcpy-text"]
    assert f.message == "found 2 text patchers in 1 file(s)"
    assert f.evidence[0] == "t.patch:5: +memcpy((void *)pc, &insn, 4); (arch/arm/kernel/kgdb.c)"
    assert f.evidence[1:] == ("arch/arm/kernel/patch.c:1: void patch_text(void *addr, unsigned int insn);",
                              "arch/arm/kernel/patch.c:2: int patch_text_x;")
    assert f.ref is not None and (f.ref.path, f.ref.line) == ("t.patch", 5)


def test_version_specs():
    assert parse_version_spec(">=4.9,<5.5") == ((">=", (4, 9, 0)), ("<", (5, 5, 0)))
    assert version_matches("<4.11", (4, 9, 200)) and not version_matches("<4.11", (4, 11, 0))
    with pytest.raises(ValueError):
        parse_version_spec("4.9+")


# ---------------------------------------------------------------- vocabulary on small trees


KEXEC_DIFF = """\
    --- a/arch/arm/kernel/machine_kexec.c
    +++ b/arch/arm/kernel/machine_kexec.c
    @@ -1,2 +1,3 @@
     void machine_kexec(void)
    +	*(u32 *)addr = insn;
     {
    """


def test_plain_text_write_needs_read_only_text():
    ro = {"Makefile": "VERSION = 4\nPATCHLEVEL = 9\n", "arch/arm/Kconfig": "config DEBUG_RODATA\n\tbool\n"}
    assert "kb-text-plain-write" in _findings(KEXEC_DIFF, ro)
    rw = {"Makefile": "VERSION = 4\nPATCHLEVEL = 9\n", "arch/arm/Kconfig": "config ARM\n\tbool\n"}
    assert "kb-text-plain-write" not in _findings(KEXEC_DIFF, rw)


def test_within_ifdef_ignores_else_branches_and_other_conditions():
    text = textwrap.dedent("""\
        #ifdef CONFIG_OLD_MCOUNT
        int a;
        #else
        void set_kernel_text_rw(void);
        #endif
        #if defined(CONFIG_OLD_MCOUNT) && defined(CONFIG_X)
        void __ftrace_modify_code(void);
        #endif
        """)
    scan = find_scan(MemoryTree({"arch/arm/kernel/ftrace.c": text}))
    hits = scan.grep(["arch/arm/kernel/ftrace.c"], re.compile(r"set_kernel_text_rw|__ftrace_modify_code"),
                     within_ifdef=re.compile(r"^#\s*if(def)?\b.*\bCONFIG_OLD_MCOUNT\b"))
    assert [(h[1], h[3]) for h in hits] == [(7, "#if defined(CONFIG_OLD_MCOUNT) && defined(CONFIG_X) at line 6")]


def test_filter_out_pg_lists_the_makefiles():
    diff = """\
        --- a/arch/arm64/Makefile
        +++ b/arch/arm64/Makefile
        @@ -1,1 +1,2 @@
         KBUILD_DEFCONFIG := defconfig
        +CC_FLAGS_FTRACE := -fpatchable-function-entry=2
        """
    files = {"Makefile": "VERSION = 4\nPATCHLEVEL = 14\n",
             "drivers/firmware/efi/libstub/Makefile": "KBUILD_CFLAGS := $(filter-out -pg, $(KBUILD_CFLAGS))\n",
             "arch/arm64/Makefile": "KBUILD_DEFCONFIG := defconfig\n"}
    found = _findings(diff, files, extra={"compiler": "gcc 9.1"})
    assert "kb-ftrace-filter-out-pg" in found
    assert "drivers/firmware/efi/libstub/Makefile:1: KBUILD_CFLAGS := $(filter-out -pg, $(KBUILD_CFLAGS))" in \
        found["kb-ftrace-filter-out-pg"].evidence
    assert "kb-ftrace-pfe-compiler" not in found  # gcc 9.1 is new enough


def test_descriptor_lookup_note_on_powerpc_only():
    diff = """\
        --- a/arch/powerpc/kernel/trace.c
        +++ b/arch/powerpc/kernel/trace.c
        @@ -1,1 +1,2 @@
         int x;
        +	addr = kallsyms_lookup_name("sys_open");
        """
    files = {"arch/powerpc/include/asm/sections.h":
             "static inline void *dereference_function_descriptor(void *ptr) { return ptr; }\n"}
    assert "kb-sym-descriptor-lookup" in _findings(diff, files)
    arm = diff.replace("powerpc", "arm64")
    files = {"arch/arm64/include/asm/sections.h": "int x;\n",
             "include/asm-generic/sections.h": "#define dereference_function_descriptor(p) ((void *)(p))\n"}
    assert "kb-sym-descriptor-lookup" not in _findings(arm, files)


def test_foreach_rows_and_renamed_old_name_on_a_newer_tree():
    diff = """\
        --- a/arch/arm64/mm/mmu.c
        +++ b/arch/arm64/mm/mmu.c
        @@ -1,1 +1,2 @@
         int x;
        +#ifdef CONFIG_DEBUG_RODATA
        """
    new_tree = {"Makefile": "VERSION = 5\nPATCHLEVEL = 10\n", "arch/Kconfig": "config STRICT_KERNEL_RWX\n\tbool\n"}
    f = _findings(diff, new_tree)["kb-kconfig-renamed-old"]
    assert "uses DEBUG_RODATA, which this target (5.10.0) calls STRICT_KERNEL_RWX (renamed in v4.11 0f5bf6d0afe4" \
        in f.message
    assert f.references == ('0f5bf6d0afe4 ("arch: Rename CONFIG_DEBUG_RODATA and CONFIG_DEBUG_MODULE_RONX")',)
    old_tree = {"Makefile": "VERSION = 4\nPATCHLEVEL = 9\n", "arch/arm64/Kconfig.debug": "config DEBUG_RODATA\n\tbool\n"}
    assert _findings(diff, old_tree) == {}


def test_overlay_scan_sees_pending_changes_and_keeps_the_base_cache():
    from backport.pipeline import Overlay

    base = MemoryTree({"arch/arm64/Kconfig": "config ARM64\n\tbool\n"})
    overlay = Overlay(base)
    assert "ARM64_BTI_KERNEL" not in find_scan(overlay).kconfig()
    overlay.update([("arch/arm64/Kconfig", "config ARM64\n\tbool\nconfig ARM64_BTI_KERNEL\n\tbool\n"),
                    ("arch/arm64/new.c", "int x;\n")])
    scan = find_scan(overlay)
    assert "ARM64_BTI_KERNEL" in scan.kconfig()
    assert scan.glob(["arch/arm64/*.c"]) == ("arch/arm64/new.c",)
    assert find_scan(base) is find_scan(base)  # one cached scan per base tree


# ---------------------------------------------------------------- CLI and documentation


def test_kb_list_show_lint_cli(capsys, tmp_path):
    assert main(["kb", "list"]) == 0
    out = capsys.readouterr().out
    assert "kb-ftrace-cflags-remove-pg" in out and "kb-text-kexec-relocate-vars" in out
    assert main(["kb", "show", "kb-ftrace-init-nop"]) == 0
    out = capsys.readouterr().out
    assert "fbf6c73c5b26" in out and "defined at kb/rules/ftrace-entry.yaml:" in out.replace(str(KB.parent) + "/", "")
    assert main(["kb", "show", "kb-ftrace-init-nop", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["severity"] == "error"
    assert main(["kb", "show", "kb-nope"]) == 2
    assert "no rule 'kb-nope'" in capsys.readouterr().err
    assert main(["kb", "lint"]) == 0
    capsys.readouterr()
    (tmp_path / "x.yaml").write_text(GOOD.replace("severity: warning", "severty: warning"))
    assert main(["kb", "lint", "--kb", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path}/x.yaml:6: error: unknown key 'severty' in rules.0" in err
    assert main(["kb", "list", "--kb", str(tmp_path)]) == 2  # a broken user file stops with file:line
    assert f"{tmp_path}/x.yaml:" in capsys.readouterr().err


def test_every_rule_id_is_documented():
    readme = (KB / "README.md").read_text()
    for rule in load_rules():
        assert f"`{rule.id}`" in readme, rule.id
    for key in ("tree_grep", "tree_lacks", "tree_lacks_each", "tree_has_kconfig", "tree_lacks_kconfig",
                "tree_has_symbol", "tree_lacks_file", "compiler", "added_captures", "adds_config", "within_ifdef",
                "target_version", "foreach"):
        assert f"`{key}`" in readme, key


def test_checks_look_only_at_the_patch_architecture():
    diff = """\
        --- a/arch/arm64/Makefile
        +++ b/arch/arm64/Makefile
        @@ -1,1 +1,2 @@
         KBUILD_DEFCONFIG := defconfig
        +CC_FLAGS_FTRACE := -fpatchable-function-entry=2
        """
    files = {"arch/x86/kernel/Makefile": "CFLAGS_REMOVE_tsc.o = -pg\n",
             "arch/arm64/kernel/Makefile": "CFLAGS_REMOVE_insn.o = $(CC_FLAGS_FTRACE)\n",
             "lib/Makefile": "CFLAGS_REMOVE_string.o = -pg\n"}
    f = _findings(diff, files, extra={"compiler": "gcc 10"})["kb-ftrace-cflags-remove-pg"]
    assert [e for e in f.evidence if not e.startswith("t.patch")] == ["lib/Makefile:1: CFLAGS_REMOVE_string.o = -pg"]


LDS = """\
#define MCOUNT_REC()	. = ALIGN(8);				\\
			__start_mcount_loc = .;			\\
			*(__mcount_loc)				\\
			__stop_mcount_loc = .;
"""
FLAG_DIFF = """\
    --- a/arch/arm64/Makefile
    +++ b/arch/arm64/Makefile
    @@ -1,1 +1,2 @@
     KBUILD_DEFCONFIG := defconfig
    +CC_FLAGS_FTRACE := -fpatchable-function-entry=2
    """


def test_linker_script_rule_fires_unless_the_series_collects_the_section():
    files = {"include/asm-generic/vmlinux.lds.h": LDS, "arch/arm64/Makefile": "KBUILD_DEFCONFIG := defconfig\n"}
    f = _findings(FLAG_DIFF, files, extra={"compiler": "clang 11"})["kb-ftrace-pfe-linker-script"]
    assert "include/asm-generic/vmlinux.lds.h:3: *(__mcount_loc)				\\" in f.evidence
    assert f.references == ('a1326b17ac03 ("module/ftrace: handle patchable-function-entry")',)
    lds_diff = ("--- a/include/asm-generic/vmlinux.lds.h\n+++ b/include/asm-generic/vmlinux.lds.h\n"
                "@@ -3,2 +3,3 @@\n \t\t\t*(__mcount_loc)\t\t\t\t\\\n"
                "+\t\t\t*(__patchable_function_entries)\t\t\\\n \t\t\t__stop_mcount_loc = .;\n")
    flag, lds = _patch(FLAG_DIFF, "flags"), _patch(lds_diff, "lds")
    out = check_patch(flag, MemoryTree(files), series=Series((flag, lds)),
                      options=PortOptions(extra={"compiler": "clang 11"}))
    assert "kb-ftrace-pfe-linker-script" not in {x.code for x in out}


def test_rules_are_cached_until_a_rule_file_changes(tmp_path):
    d = tmp_path / "rules"
    d.mkdir()
    f = d / "demo.yaml"
    f.write_text(GOOD)
    first = load_rules([str(d)])
    assert load_rules([str(d)]) is first  # parsed and compiled once
    f.write_text(GOOD.replace("kb-demo-memcpy-text", "kb-demo-renamed"))
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = load_rules([str(d)])
    assert again is not first
    assert "kb-demo-renamed" in {r.id for r in again}


def test_arches_are_read_from_arch_once_per_tree_identity(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    for arch in ("arm64", "x86"):
        (root / "arch" / arch / "kernel").mkdir(parents=True)
        (root / "arch" / arch / "kernel" / "entry.S").write_text("nop\n")
    (root / "arch" / "empty").mkdir()
    (root / "Makefile").write_text("VERSION = 6\n")
    first = find_scan(DirTree(root))
    assert first.arches() == ("arm64", "x86")
    assert first._paths is None  # no walk of the whole tree for it

    def no_walk(self):  # a second tree object of the same directory reuses the answer
        raise AssertionError("walked the tree")

    monkeypatch.setattr(DirTree, "iter_paths", no_walk)
    assert find_scan(DirTree(root)).arches() == ("arm64", "x86")
    monkeypatch.undo()
    (root / "arch" / "riscv").mkdir()  # a new architecture changes arch/'s mtime: seen
    (root / "arch" / "riscv" / "Kconfig").write_text("config RISCV\n\tbool\n")
    st = (root / "arch").stat()
    os.utime(root / "arch", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert find_scan(DirTree(root)).arches() == ("arm64", "riscv", "x86")


def test_overlay_arches_follow_pending_changes():
    class Overlay:
        def __init__(self, tree, changes):
            self.tree, self.changes = tree, changes

    base = MemoryTree({"arch/arm64/Kconfig": "config ARM64\n", "kernel/a.c": "int a;\n"})
    assert find_scan(Overlay(base, {"kernel/b.c": "int b;\n"})).arches() == ("arm64",)
    scan = find_scan(Overlay(base, {"arch/x86/Kconfig": "config X86\n"}))
    assert scan.arches() == ("arm64", "x86")


VOCAB = textwrap.dedent("""\
    family: demo
    title: the vocabulary of issue 11
    rules:
      - id: kb-demo-once
        title: said once per series
        severity: note
        once: true
        when:
          changed_matches: ['old_api\\(']
        check:
          tree_lacks_kconfig: [NEW_THING]
          tree_show: {paths: ['init/main.c'], pattern: 'free_initmem'}
        message: the series touches old_api; {names}
        checklist: tick me
    """)


def test_changed_matches_once_and_tree_show(tmp_path):
    (tmp_path / "mine.yaml").write_text(VOCAB)
    removed = _patch("""\
        --- a/drivers/x.c
        +++ b/drivers/x.c
        @@ -1,3 +1,2 @@
         int x;
        -	old_api(1);
         int y;
        """, "first")
    added = _patch("""\
        --- a/drivers/y.c
        +++ b/drivers/y.c
        @@ -1,2 +1,3 @@
         int x;
        +	old_api(2);
         int y;
        """, "second")
    series = Series((removed, added))
    opts = PortOptions(kb_dirs=(str(tmp_path),))
    with_main = MemoryTree({"init/main.c": "void kernel_init(void)\n{\n\tfree_initmem();\n}\n", "Kconfig": "config OTHER\n"})
    first = [f for f in check_patch(removed, with_main, series=series, options=opts) if f.code == "kb-demo-once"]
    assert len(first) == 1  # a removed line is a changed line
    assert first[0].evidence[-1] == "init/main.c:3: free_initmem();"  # shown, not a condition
    assert not [f for f in check_patch(added, with_main, series=series, options=opts) if f.code == "kb-demo-once"]
    alone = Series((added,))  # without the first patch, the second one raises it
    assert [f.code for f in check_patch(added, with_main, series=alone, options=opts) if f.code == "kb-demo-once"]
    bare = MemoryTree({"Kconfig": "config OTHER\n"})  # nothing to show: the rule still fires
    got = [f for f in check_patch(removed, bare, series=series, options=opts) if f.code == "kb-demo-once"]
    assert got and not any("main.c" in e for e in got[0].evidence)
