"""The kb API-evolution table (kb/api/*.yaml, kb.api) and the API pass (backport.apiadapt):
schema errors at file:line, every entry's examples, `backport kb api`, and ports onto
miniature trees that spell an API the old way (rewritten, `adapted`, git apply) or not at all
(`api-missing` naming the commit, nothing rewritten)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from backport.cli import main
from backport.errors import RuleError
from backport.model import Patch, PortOptions, Series, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree
from kb.api import (
    CannotRewrite,
    check_api_files,
    example_failures,
    find_uses,
    load_api,
    parse_api,
    rewrite_line,
)

ENTRIES = load_api()

# ---------------------------------------------------------------- the table itself


def test_bundled_tables_lint_clean_with_unique_ids_and_cited_commits():
    assert check_api_files() == ()
    assert len(ENTRIES) >= 40
    assert len({e.id for e in ENTRIES}) == len(ENTRIES)
    for e in ENTRIES:
        assert e.commit and e.subject and e.older and e.examples, e.id


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_every_entry_rewrites_its_examples(entry):
    assert example_failures(entry) == []
    for ex in entry.examples:
        assert find_uses(entry, ex.upstream)
        if ex.target is None:
            with pytest.raises(CannotRewrite):
                rewrite_line(entry, ex.upstream)
        else:
            assert tuple(rewrite_line(entry, ex.upstream)) == ex.target
            # the old spelling does not use the new form any more (unless it keeps its name)
            if all(e.split("(")[0].strip() != entry.name for e in entry.old):
                assert not any(find_uses(entry, t) for t in ex.target)


BAD = textwrap.dedent("""\
    family: demo
    title: a user's table
    entries:
      - id: api-demo-rename
        kind: rename
        new: frob_new
        old: [frob_old]
        since: v6.2
        commit: 0123456789ab
        subject: 'demo: rename frob'
        older: before v6.2 it is frob_old()
        examples:
          - {upstream: "\\tfrob_new(x);", target: "\\tfrob_old(x);"}
        severty: error
    """)


def test_schema_error_names_file_and_line(tmp_path: Path):
    d = tmp_path / "kb" / "api"
    d.mkdir(parents=True)
    (d / "x.yaml").write_text(BAD)
    problems = check_api_files([str(tmp_path / "kb")], bundled=False)
    assert problems == (f"{d / 'x.yaml'}:14: error: unknown key 'severty' in entries.0",)
    with pytest.raises(RuleError) as err:
        parse_api(BAD, "kb/api/x.yaml")
    assert str(err.value).startswith("kb/api/x.yaml:14:")


@pytest.mark.parametrize("change, line, words", [
    ("kind: rename", 5, "is not one of"),
    ("commit: 0123456789ab", 9, "does not match"),
    ("old: [frob_old]", 7, "frob_new"),  # an example that no longer holds
])
def test_lint_problems_point_at_their_line(tmp_path: Path, change, line, words):
    bad = BAD.replace("    severty: error\n", "")
    bad = bad.replace(change, {"kind: rename": "kind: renamed", "commit: 0123456789ab": "commit: xyz",
                               "old: [frob_old]": "old: [frob_other]"}[change])
    d = tmp_path / "api"
    d.mkdir()
    (d / "x.yaml").write_text(bad)
    (problem,) = check_api_files([str(tmp_path)], bundled=False)
    assert problem.startswith(f"{d / 'x.yaml'}:") and words in problem
    if change != "old: [frob_old]":
        assert problem.startswith(f"{d / 'x.yaml'}:{line}:")


def test_kb_lint_reports_a_bad_api_table_and_exits_1(tmp_path: Path, capsys):
    d = tmp_path / "api"
    d.mkdir()
    (d / "x.yaml").write_text(BAD)
    assert main(["kb", "lint", "--kb", str(tmp_path)]) == 1
    assert "x.yaml:14: error: unknown key 'severty'" in capsys.readouterr().err
    assert main(["kb", "lint"]) == 0
    assert "API entries" in capsys.readouterr().err


def test_kb_api_list_and_show(capsys):
    assert main(["kb", "api"]) == 0
    out = capsys.readouterr().out
    assert "api-timer-container-of" in out and "from_timer" in out
    assert main(["kb", "api", "show", "api-class-create-owner"]) == 0
    out = capsys.readouterr().out
    assert "1aaba11da9aa" in out and "class_create(THIS_MODULE, {name})" in out
    assert main(["kb", "api", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["entries"]) == len(ENTRIES)
    assert main(["kb", "api", "show", "api-nope"]) == 2


# ---------------------------------------------------------------- ports onto miniature trees

TIMER_H = textwrap.dedent("""\
    #ifndef _LINUX_TIMER_H
    #define _LINUX_TIMER_H
    #define from_timer(var, callback_timer, timer_fieldname) \\
    \tcontainer_of(callback_timer, typeof(*var), timer_fieldname)
    extern int del_timer_sync(struct timer_list *timer);
    #endif
    """)
HRTIMER_H = "extern void hrtimer_init(struct hrtimer *timer, clockid_t which_clock, enum hrtimer_mode mode);\n"
FOO_C = textwrap.dedent("""\
    #include <linux/timer.h>

    static void foo_poll(struct timer_list *t)
    {
    \tstruct foo *foo = from_timer(foo, t, poll_timer);

    \tfoo_kick(foo);
    }

    static void foo_stop(struct foo *foo)
    {
    \tfoo->running = false;
    }

    static void foo_start(struct foo *foo)
    {
    \tfoo->running = true;
    }
    """)
FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
    --- a/drivers/foo/foo.c
    +++ b/drivers/foo/foo.c
    @@ -10,4 +10,5 @@ static void foo_poll(struct timer_list *t)
     static void foo_stop(struct foo *foo)
     {
     \tfoo->running = false;
    +\ttimer_delete_sync(&foo->poll_timer);
     }
    @@ -15,4 +16,6 @@ static void foo_stop(struct foo *foo)
     static void foo_start(struct foo *foo)
     {
     \tfoo->running = true;
    +\thrtimer_setup(&foo->hrt, foo_hrt_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
    +\tstruct foo *f = timer_container_of(f, &foo->poll_timer, poll_timer);
     }
    """)


def _port(files: dict[str, str], diff: str = FIX, **opts):
    patch = Patch(subject="foo: stop the poll timer", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, MemoryTree(files), options=PortOptions(**opts), series=Series((patch,)))


def _git_apply(tmp_path: Path, files: dict[str, str], diff: str) -> subprocess.CompletedProcess:
    root = tmp_path / "applytree"
    for p, text in files.items():
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ported.patch").write_text(diff)
    return subprocess.run(["git", "apply", "ported.patch"], cwd=root, capture_output=True, text=True)


OLD_TREE = {"include/linux/timer.h": TIMER_H, "include/linux/hrtimer.h": HRTIMER_H, "drivers/foo/foo.c": FOO_C,
            "Makefile": "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n"}


def test_port_onto_a_tree_with_the_old_api_rewrites_and_says_so(tmp_path: Path):
    r = _port(OLD_TREE)
    new = dict(r.new_files)["drivers/foo/foo.c"]
    assert "\tdel_timer_sync(&foo->poll_timer);\n" in new
    assert "\thrtimer_init(&foo->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);\n\tfoo->hrt.function = foo_hrt_fn;\n" in new
    assert "\tstruct foo *f = from_timer(f, &foo->poll_timer, poll_timer);\n" in new
    assert "timer_delete_sync" not in r.text and "+\tdel_timer_sync(&foo->poll_timer);" in r.text
    adapted = [f for f in r.findings if f.code == "adapted"]
    assert len(adapted) == 2 and all(f.severity is Severity.WARNING for f in adapted)
    assert "use del_timer_sync(), 6.1 has no timer_delete_sync()" in adapted[0].message
    assert any("9b13df3fb64e" in ref for ref in adapted[0].references)
    assert any(e.startswith("include/linux/timer.h:5: ") for e in adapted[0].evidence)
    rules = {a.rule for p in r.placements for a in p.adaptations}
    assert rules == {"api-timer-delete-sync", "api-hrtimer-setup", "api-timer-container-of"}
    # deps does not call the names the pass rewrote away missing
    assert not [f for f in r.findings if f.code == "api-missing" or f.code in ("missing-symbol", "renamed-symbol")
                and f.message.split(":")[0] in ("timer_delete_sync", "hrtimer_setup", "timer_container_of")]
    assert _git_apply(tmp_path, OLD_TREE, r.text).returncode == 0
    assert (tmp_path / "applytree" / "drivers/foo/foo.c").read_text() == new


def test_without_adapt_the_upstream_text_is_kept():
    r = _port(OLD_TREE, adapt=False)
    assert "+\ttimer_delete_sync(&foo->poll_timer);" in r.text
    assert not [f for f in r.findings if f.code == "adapted"]


def test_a_tree_with_the_new_api_is_left_alone():
    files = dict(OLD_TREE)
    files["include/linux/timer.h"] = TIMER_H.replace("#endif", "extern int timer_delete_sync(struct timer_list *t);\n"
                                                     "#define timer_container_of(v, t, f) from_timer(v, t, f)\n#endif")
    files["include/linux/hrtimer.h"] = HRTIMER_H + "extern void hrtimer_setup(struct hrtimer *t, void *fn, int c, int m);\n"
    r = _port(files)
    assert "+\ttimer_delete_sync(&foo->poll_timer);" in r.text
    # foo.c calls from_timer() and never timer_container_of(): the port keeps the file's spelling
    assert "+\tstruct foo *f = from_timer(f, &foo->poll_timer, poll_timer);" in r.text
    (a,) = [a for p in r.placements for a in p.adaptations]
    assert a.rule == "api-timer-container-of" and a.evidence == ("drivers/foo/foo.c:5: "
                                                                 "struct foo *foo = from_timer(foo, t, poll_timer);",)
    assert "use from_timer() as drivers/foo/foo.c does; the target has both it and timer_container_of()" in a.summary
    assert not [f for f in r.findings if f.code == "api-missing"]
    # a file that calls neither is left in upstream's spelling
    files["drivers/foo/foo.c"] = FOO_C.replace("from_timer(foo, t, poll_timer)", "container_of(t, struct foo, poll_timer)")
    r = _port(files)
    assert "+\ttimer_delete_sync(&foo->poll_timer);" in r.text and "timer_container_of(f," in r.text
    assert not [f for f in r.findings if f.code in ("adapted", "api-missing")]


def test_a_file_that_calls_the_old_name_of_a_rename_the_tree_has_both_of_keeps_its_spelling(tmp_path: Path):
    """6.1.y got timer_delete_sync() backported with del_timer_sync() kept as its wrapper; a file
    that calls del_timer_sync() gets the port in that spelling (stable keeps a file consistent)."""
    files = dict(OLD_TREE)
    files["include/linux/timer.h"] = TIMER_H.replace(
        "extern int del_timer_sync(struct timer_list *timer);",
        "extern int timer_delete_sync(struct timer_list *timer);\n"
        "static inline int del_timer_sync(struct timer_list *t) { return timer_delete_sync(t); }")
    files["drivers/foo/foo.c"] = FOO_C.replace("\tfoo_kick(foo);\n", "\tfoo_kick(foo);\n\tdel_timer_sync(&foo->other);\n")
    diff = FIX.split("@@ -15,4")[0].replace("@@ -10,4 +10,5 @@", "@@ -11,4 +11,5 @@")
    r = _port(files, diff)
    assert "+\tdel_timer_sync(&foo->poll_timer);" in r.text and "timer_delete_sync" not in r.text
    (f,) = [f for f in r.findings if f.code == "adapted"]
    assert "use del_timer_sync() as drivers/foo/foo.c does" in f.message
    assert "drivers/foo/foo.c:8: del_timer_sync(&foo->other);" in f.evidence
    assert _git_apply(tmp_path, files, r.text).returncode == 0
    # a block comment's continuation line that names the API is prose, not a call: left as written
    commented = diff.replace("+\ttimer_delete_sync(&foo->poll_timer);\n",
                             "+\t/*\n+\t * a plain timer_delete_sync() here races with the poll\n+\t */\n"
                             "+\ttimer_delete_sync(&foo->poll_timer);\n").replace("@@ -11,4 +11,5 @@", "@@ -11,4 +11,8 @@")
    r = _port(files, commented)
    assert "+\t * a plain timer_delete_sync() here races with the poll" in r.text
    assert "+\tdel_timer_sync(&foo->poll_timer);" in r.text
    # a patch that converts the file's only old call (the rename itself) is ported as written
    rename = textwrap.dedent("""\
        diff --git a/drivers/foo/foo.c b/drivers/foo/foo.c
        --- a/drivers/foo/foo.c
        +++ b/drivers/foo/foo.c
        @@ -5,5 +5,5 @@ static void foo_poll(struct timer_list *t)
         \tstruct foo *foo = from_timer(foo, t, poll_timer);
        \x20
         \tfoo_kick(foo);
        -\tdel_timer_sync(&foo->other);
        +\ttimer_delete_sync(&foo->other);
         }
        """)
    r = _port(files, rename)
    assert "+\ttimer_delete_sync(&foo->other);" in r.text and not [f for f in r.findings if f.code == "adapted"]


def test_tree_with_neither_form_gets_a_finding_with_the_commit_and_no_rewrite():
    files = {"drivers/foo/foo.c": FOO_C, "include/linux/other.h": "extern int unrelated(void);\n"}
    r = _port(files)
    assert "+\ttimer_delete_sync(&foo->poll_timer);" in r.text
    missing = {f.rule: f for f in r.findings if f.code == "api-missing"}
    assert set(missing) >= {"api-timer-delete-sync", "api-hrtimer-setup"}
    f = missing["api-timer-delete-sync"]
    assert f.severity is Severity.ERROR and "9b13df3fb64e" in f.message
    assert any("9b13df3fb64e" in ref for ref in f.references)
    assert "neither timer_delete_sync() nor del_timer_sync()" in f.message
    # one finding per cause: deps does not repeat it as a missing symbol
    assert not [x for x in r.findings if x.code == "missing-symbol" and x.message.startswith("timer_delete_sync:")]
    assert not [f for f in r.findings if f.code == "adapted"]


def test_a_call_split_over_lines_is_rewritten_as_one_statement(tmp_path: Path):
    diff = FIX.replace("+\thrtimer_setup(&foo->hrt, foo_hrt_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);\n",
                       "+\thrtimer_setup(&foo->hrt, foo_hrt_fn,\n+\t\t      CLOCK_MONOTONIC, HRTIMER_MODE_REL);\n"
                       ).replace("@@ -15,4 +16,6 @@", "@@ -15,4 +16,7 @@")
    r = _port(OLD_TREE, diff)
    assert not [f for f in r.findings if f.code == "api-missing"]
    assert "+\thrtimer_init(&foo->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);\n+\tfoo->hrt.function = foo_hrt_fn;\n" in r.text
    assert _git_apply(tmp_path, OLD_TREE, r.text).returncode == 0
    # with a comment inside, the statement is not joined: reported, upstream's text kept
    r = _port(OLD_TREE, diff.replace("foo_hrt_fn,\n", "foo_hrt_fn, /* kick */\n"))
    (f,) = [f for f in r.findings if f.code == "api-missing"]
    assert f.rule == "api-hrtimer-setup" and "continues on the next line" in f.message
    assert "908a1d775422" in f.message
    assert "+\thrtimer_setup(&foo->hrt, foo_hrt_fn, /* kick */" in r.text


PLATFORM_H = "struct platform_driver {\n\tint (*probe)(struct platform_device *);\n\tint (*remove)(struct platform_device *);\n};\n"
DRV_C = "#include <linux/platform_device.h>\n\nstatic int foo_probe(struct platform_device *pdev)\n{\n\treturn 0;\n}\n"
ADD_REMOVE = textwrap.dedent("""\
    diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
    --- a/drivers/foo/drv.c
    +++ b/drivers/foo/drv.c
    @@ -3,4 +3,9 @@
     static int foo_probe(struct platform_device *pdev)
     {
     \treturn 0;
     }
    +
    +static void foo_remove(struct platform_device *pdev)
    +{
    +\tfoo_teardown(pdev);
    +}
    """)


def test_a_callback_returning_void_on_a_tree_whose_callback_returns_int_is_reported():
    files = {"include/linux/platform_device.h": PLATFORM_H, "drivers/foo/drv.c": DRV_C}
    r = _port(files, ADD_REMOVE)
    (f,) = [f for f in r.findings if f.code == "api-missing"]
    assert f.rule == "api-platform-remove-void" and "0edb555a65d1" in f.message
    assert "static int" in f.hint and "+static void foo_remove" in r.text  # reported, never guessed
    # a tree whose platform_driver.remove returns void has nothing to say
    files["include/linux/platform_device.h"] = PLATFORM_H.replace("int (*remove)", "void (*remove)")
    assert not [f for f in _port(files, ADD_REMOVE).findings if f.code == "api-missing"]


def test_every_api_family_and_key_is_documented():
    readme = (Path(__file__).resolve().parent.parent / "kb" / "README.md").read_text()
    for family in {e.family for e in ENTRIES}:
        assert f"`api/{family}.yaml`" in readme, family
    for key in ("new", "old", "needs", "marker", "marker_grep", "match", "since", "commit", "subject", "also",
                "older", "examples"):
        assert f"`{key}`" in readme or f"{key}:" in readme, key


def test_a_name_is_the_api_only_where_it_is_called():
    e = next(x for x in ENTRIES if x.id == "api-pde-data")
    assert rewrite_line(e, "\tstruct foo *pde_data = get(x);") == ["\tstruct foo *pde_data = get(x);"]
    assert rewrite_line(e, "\tp = pde_data (inode); /* pde_data() */") == ["\tp = PDE_DATA (inode); /* pde_data() */"]
    assert rewrite_line(e, '\tpr_info("pde_data(%p)", x);') == ['\tpr_info("pde_data(%p)", x);']


@pytest.mark.parametrize("eid, line, words", [
    ("api-timer-delete-sync", "\ttimer_delete_sync(&t);", "use del_timer_sync(), 6.1 has no timer_delete_sync()"),
    ("api-vm-flags-clear", "\tvm_flags_clear(vma, VM_IO);", "write `vma->vm_flags &= ~VM_IO;`, 6.1 has no vm_flags_clear()"),
    ("api-class-create-owner", "\tc = class_create(\"x\");",
     "write `c = class_create(THIS_MODULE, \"x\");`, 6.1's class_create() predates 1aaba11da9aa"),
])
def test_adaptation_summaries_read_like_a_stable_note(eid, line, words):
    from backport.apiadapt import _summary

    e = next(x for x in ENTRIES if x.id == eid)
    tree = MemoryTree({"Makefile": "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n"})
    assert _summary(e, tree, rewrite_line(e, line)) == words


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_comments_strings_and_members_are_never_rewritten(entry):
    for ex in entry.examples:
        text = ex.upstream.strip()
        for line in (f"\t/* {text} */", f"\t// {text}", f'\tpr_info("%s", "{text.replace(chr(34), "")}");'):
            assert rewrite_line(entry, line) == [line], line
    if entry.name and not entry.match and entry.new[0].isalpha():
        member = f"\tx = ops->{entry.name}(a);"
        assert rewrite_line(entry, member) == [member]
