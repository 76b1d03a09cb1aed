"""Ingestion: real `git format-patch` output, mboxes with several versions, MIME mail, plain diffs,
quilt series, git ranges; origins of every line and warnings for holes and duplicates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backport.errors import ParseError, UsageError
from backport.ingest import load_series, parse_series_bytes, split_mbox
from backport.series import render_diff

SAMPLES = Path(__file__).parent / "samples"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Path:
    """A miniature kernel-like repo with three commits on top of a base."""
    repo = tmp_path_factory.mktemp("up") / "linux"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    git(repo, "config", "user.email", "xukuohai@huawei.com")
    git(repo, "config", "user.name", "Xu Kuohai")
    (repo / "kernel" / "trace").mkdir(parents=True)
    (repo / "arch" / "arm64").mkdir(parents=True)
    (repo / "kernel" / "trace" / "ftrace.c").write_text("".join(f"int ftrace_{i};\n" for i in range(40)))
    (repo / "arch" / "arm64" / "Kconfig").write_text("config ARM64\n\tdef_bool y\n\tselect HAVE_FOO\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "tag", "base")
    edits = [
        ("kernel/trace/ftrace.c", "int ftrace_5;", "int ftrace_5 = 1;",
         "ftrace: Allow users to disable ftrace direct call\n\nSome words.\n\n"
         "Fixes: 0123456789ab (\"ftrace: add direct call\")\n"
         "Cc: stable@vger.kernel.org # 4.9.x\nSigned-off-by: Xu Kuohai <xukuohai@huawei.com>\n"),
        ("arch/arm64/Kconfig", "\tselect HAVE_FOO", "\tselect HAVE_FOO\n\tselect HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS",
         "arm64: ftrace: Add ftrace direct call support\n\nMore words.\n\n"
         "Reviewed-by: Mark Rutland <mark.rutland@arm.com>\nSigned-off-by: Xu Kuohai <xukuohai@huawei.com>\n"),
        ("kernel/trace/ftrace.c", "int ftrace_30;", "int ftrace_30 = 3; /* d\u00e9j\u00e0 vu */",
         "ftrace: Fix dead loop caused by direct call in ftrace selftest\n\n"
         "commit 0123456789abcdef0123456789abcdef01234567 upstream.\n\n"
         "Signed-off-by: Xu Kuohai <xukuohai@huawei.com>\n"),
    ]
    for k, (path, old, new, msg) in enumerate(edits):
        f = repo / path
        f.write_text(f.read_text().replace(old, new))
        git(repo, "commit", "-qam", msg, f"--date=2022-09-1{k} 10:00:00 +0000")
    return repo


def format_patch(repo: Path, out: Path, *args: str) -> list[Path]:
    names = git(repo, "format-patch", "--thread", "-o", str(out), *args, "base..master").split()
    return [Path(n) for n in names]


def test_directory_of_format_patch_files_with_cover(upstream, tmp_path):
    files = format_patch(upstream, tmp_path / "v2", "--cover-letter", "-v2", "--base=base")
    assert len(files) == 4
    s = load_series([str(tmp_path / "v2")])
    assert s.version == 2 and len(s.patches) == 3 and s.cover is not None
    assert s.cover.number == 0 and s.cover.total == 3
    assert [p.number for p in s.patches] == [1, 2, 3]
    p1, p2, p3 = s.patches
    assert p1.subject == "ftrace: Allow users to disable ftrace direct call"
    assert p1.prefixes == ("PATCH",) and p1.raw_subject.startswith("[PATCH v2 1/3]")
    assert p1.author == "Xu Kuohai <xukuohai@huawei.com>" and p1.message_id and p1.date
    assert p1.trailer_values("Cc") == ("stable@vger.kernel.org # 4.9.x",)
    assert p1.trailer_values("fixes") == ('0123456789ab ("ftrace: add direct call")',)
    assert p2.trailer_values("Reviewed-by") == ("Mark Rutland <mark.rutland@arm.com>",)
    assert p3.upstream_ids == ("0123456789abcdef0123456789abcdef01234567",)
    assert "d\u00e9j\u00e0 vu" in p3.files[0].hunks[0].added[0].text
    base = git(upstream, "rev-parse", "base").strip()
    assert s.cover.base_commit == base
    # every file's blob ids, every line's origin
    fp = p2.files[0]
    assert fp.path == "arch/arm64/Kconfig" and fp.old_blob and fp.new_blob
    origin = fp.hunks[0].added[0].ref
    text = Path(origin.path).read_text().splitlines()
    assert text[origin.line - 1] == "+\tselect HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"
    # the diff round-trips to the text of the file
    whole = Path(files[2]).read_text()
    assert render_diff(p2.files) in whole and p2.diff_text == render_diff(p2.files)
    assert not s.warnings


def test_mbox_with_several_versions_picks_newest_complete(upstream, tmp_path):
    v2 = format_patch(upstream, tmp_path / "v2", "--cover-letter", "-v2")
    v3 = format_patch(upstream, tmp_path / "v3", "--cover-letter", "-v3")
    mbox = tmp_path / "thread.mbox"
    # v3 lost its patch 2/3; v2 is complete
    mbox.write_bytes(b"".join(p.read_bytes() for p in v2 + [v3[0], v3[1], v3[3]]))
    s = load_series([str(mbox)])
    assert s.version == 2 and len(s.patches) == 3
    assert any("versions v2, v3" in w and "using v2" in w for w in s.warnings)
    assert all(w.startswith(str(mbox)) and ": warning: " in w for w in s.warnings)
    # the lines of the mbox are the lines of the refs
    lines = mbox.read_text().splitlines()
    for p in s.patches:
        for h in p.files[0].hunks:
            assert lines[h.ref.line - 1] == h.header().rstrip("\n")
            for ln in h.lines:
                assert lines[ln.ref.line - 1] == ln.render().splitlines()[0]


def test_holes_and_duplicates_are_warned(upstream, tmp_path):
    v1 = format_patch(upstream, tmp_path / "v1", "-n")
    mbox = tmp_path / "holes.mbox"
    mbox.write_bytes(v1[0].read_bytes() + v1[0].read_bytes() + v1[2].read_bytes())
    s = load_series([str(mbox)])
    assert [p.number for p in s.patches] == [1, 3]
    assert [w.split(": warning: ")[1] for w in s.warnings if "given" in w] == ["2 of 3 patches given: 1, 3; missing: 2"]
    assert any("patch 1/3 appears more than once" in w for w in s.warnings)


def test_git_range_through_gitpython(upstream):
    s = load_series(["base..master"], upstream=str(upstream))
    assert len(s.patches) == 3
    shas = git(upstream, "rev-list", "--reverse", "base..master").split()
    assert [p.upstream_ids[0] for p in s.patches] == shas
    assert len(s.patches[0].files[0].old_blob) == 40  # full index
    one = load_series([shas[1]], upstream=str(upstream))
    assert len(one.patches) == 1 and one.patches[0].upstream_ids == (shas[1],)


def test_git_range_errors(upstream):
    with pytest.raises(UsageError, match="unknown revision 'nosuch'"):
        load_series(["nosuch..master"], upstream=str(upstream))
    with pytest.raises(ParseError, match="holds no commit"):
        load_series(["master..master"], upstream=str(upstream))


def test_git_range_without_upstream_is_a_usage_error():
    with pytest.raises(UsageError, match="--upstream"):
        load_series(["v5.10..v5.11"])


def test_plain_diff_gets_a_subject(tmp_path):
    d = tmp_path / "fix.diff"
    d.write_text((SAMPLES / "quilt-style.diff").read_text())
    s = load_series([str(d)])
    (p,) = s.patches
    assert p.subject == "Update kernel/trace/ftrace.c" and p.files[0].path == "kernel/trace/ftrace.c"
    assert p.diff_text == d.read_text()


def test_quilt_series_directory(tmp_path):
    q = tmp_path / "patches"
    q.mkdir()
    (q / "one.patch").write_text("Subject: ftrace: one\nFrom: A <a@b>\n\nBody.\n\n---\n"
                                 + (SAMPLES / "quilt-style.diff").read_text())
    (q / "two.diff").write_text("Fix two\n\nSigned-off-by: B <b@c>\n---\n" + (SAMPLES / "binary-literal.diff").read_text())
    (q / "series").write_text("# a quilt series\none.patch -p1\n\ntwo.diff\n")
    s = load_series([str(tmp_path)])
    assert [p.subject for p in s.patches] == ["ftrace: one", "Fix two"]
    assert s.patches[1].trailer_values("Signed-off-by") == ("B <b@c>",)
    assert [f.is_binary for f in s.patches[1].files] == [True, False, True]


def test_quilt_series_naming_a_missing_patch(tmp_path):
    (tmp_path / "series").write_text("missing.patch\n")
    with pytest.raises(ParseError) as e:
        load_series([str(tmp_path)])
    assert str(e.value).endswith("series:1: error: quilt series names 'missing.patch', which does not exist")


def test_truncated_mbox_is_an_error_with_its_line(upstream, tmp_path):
    v1 = format_patch(upstream, tmp_path / "t", "-n")
    data = b"".join(p.read_bytes() for p in v1)
    cut = data[: data.rindex(b"\n-int ftrace_30;")]
    with pytest.raises(ParseError) as e:
        parse_series_bytes(cut, origin="cut.mbox")
    msg = str(e.value)
    assert msg.startswith("cut.mbox:") and "hunk header says 7 lines, found 3" in msg


def test_no_diff_anywhere_is_an_error():
    with pytest.raises(ParseError, match="no patch found"):
        parse_series_bytes(b"From: a@b\nSubject: hello\n\njust words\n", origin="m.eml")


def test_split_mbox_ignores_unescaped_from_in_body():
    data = (b"From abc Mon Sep 17 00:00:00 2001\nFrom: a@b\nSubject: x\n\nline\n\nFrom here on\nmore\n"
            b"\nFrom def Mon Sep 17 00:00:00 2001\nFrom: c@d\nSubject: y\n\nbody\n")
    parts = split_mbox(data)
    assert [p[0] for p in parts] == [2, 11] and b"From here on" in parts[0][1]


def test_nonexistent_input():
    with pytest.raises(ParseError, match="no such file"):
        load_series(["/nonexistent/x.patch"])


def test_maildir_and_stdin(upstream, tmp_path, monkeypatch):
    v1 = format_patch(upstream, tmp_path / "m", "-n")
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    for k, p in enumerate(v1):
        (md / ("cur" if k % 2 else "new") / f"{1000 + k}.host:2,S").write_bytes(p.read_bytes())
    s = load_series([str(md)])
    assert [p.number for p in s.patches] == [1, 2, 3] and not s.warnings

    import io
    import sys

    class Stdin:
        buffer = io.BytesIO(b"".join(p.read_bytes() for p in v1))

    monkeypatch.setattr(sys, "stdin", Stdin)
    s = load_series(["-"])
    assert len(s.patches) == 3 and s.patches[0].ref.path == "<stdin>"


def test_several_inputs_make_one_series(upstream, tmp_path):
    v1 = format_patch(upstream, tmp_path / "s", "-n")
    s = load_series([str(p) for p in reversed(v1)])
    assert [p.number for p in s.patches] == [1, 2, 3]
    assert s.origin == tuple(str(p) for p in reversed(v1))


def test_git_show_and_git_log_output(upstream, tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(git(upstream, "log", "-p", "--format=fuller", "base..master"))
    s = load_series([str(log)])
    shas = git(upstream, "rev-list", "--reverse", "base..master").split()
    assert [p.upstream_ids[0] for p in s.patches] == shas  # git log is newest first; a series is not
    by_sha = {p.upstream_ids[0]: p for p in s.patches}
    first = by_sha[shas[0]]
    assert first.subject == "ftrace: Allow users to disable ftrace direct call"
    assert first.author == "Xu Kuohai <xukuohai@huawei.com>"
    assert first.trailer_values("Cc") == ("stable@vger.kernel.org # 4.9.x",)
    assert first.body.startswith("Some words.")
    lines = log.read_text().splitlines()
    h = first.files[0].hunks[0]
    assert lines[h.ref.line - 1] == h.header().rstrip("\n")
    assert all(lines[ln.ref.line - 1] == ln.render().rstrip("\n") for ln in h.lines)
    show = tmp_path / "show.txt"
    show.write_text(git(upstream, "show", shas[2]))
    (p,) = load_series([str(show)]).patches
    assert p.upstream_ids[0] == shas[2] and "0123456789abcdef0123456789abcdef01234567" in p.upstream_ids


def test_debian_dep3_patches(tmp_path):
    (p,) = load_series([str(SAMPLES / "debian-dep3.patch")]).patches
    assert p.subject == "ftrace: fix a dead loop with direct calls"
    assert p.author == "Xu Kuohai <xukuohai@huawei.com>" and p.date == "2022-09-26"
    assert p.upstream_ids == ("0123456789abcdef0123456789abcdef01234567",)
    assert p.body == "The selftest looped forever when a direct call was attached.\n\nBackported to 6.1: context differs.\n"
    assert p.files[0].path == "kernel/trace/ftrace.c" and p.files[0].hunks[0].ref.line == 13
    mixed = tmp_path / "mixed.patch"
    diff = (SAMPLES / "quilt-style.diff").read_text()
    mixed.write_text("From: Ben <ben@example.org>\nDate: Mon, 1 Jan 2018 00:00:00 +0000\nSubject: foo: disable bar\n"
                     "Origin: https://git.kernel.org/linus/89abcdef0123456789abcdef0123456789abcdef\n\n"
                     "Longer text.\n\n---\n" + diff)
    (q,) = load_series([str(mixed)]).patches
    assert (q.subject, q.author, q.body) == ("foo: disable bar", "Ben <ben@example.org>", "Longer text.\n")
    assert q.upstream_ids == ("89abcdef0123456789abcdef0123456789abcdef",) and q.date.startswith("Mon, 1 Jan")
