"""Property-based tests (hypothesis): the parsers raise nothing but the project's own errors on
arbitrary input, the safety checks never crash, and placement never writes outside the tree.

The strategies mix pure noise with *diff-shaped* noise (headers, hunk headers with odd counts,
``\\ No newline``, CRLF, tabs, NUL, invalid UTF-8, MIME headers), since random bytes alone rarely
get past the first line of a parser. ``fuzz/fuzz_parsers.py`` runs the same generators for many
more examples and reports counts.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backport.apply import apply_results
from backport.errors import BackportError
from backport.ingest import parse_series_bytes
from backport.model import FilePatch, Patch, PortResult
from backport.safety import check_diff_text, check_filepatch_safety, find_path_problem
from backport.series import parse_diff, parse_diff_lenient
from backport.target import DirTree, MemoryTree

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- generators

PATH_PARTS = st.sampled_from(["a", "b", "x.c", "drivers", "..", ".", "", ".git", ".GIT", "link", "C:",
                              "\x00", "\x1b", "\u202e", "n" * 256, " ", "-", "\\..", "/dev/null"])
PATHS = st.one_of(st.lists(PATH_PARTS, min_size=1, max_size=6).map("/".join),
                  st.text(max_size=40), st.just("/etc/passwd"))

DIFF_LINES = st.one_of(
    st.sampled_from([
        "diff --git a/x.c b/x.c", "--- a/x.c", "+++ b/x.c", "--- /dev/null", "+++ /dev/null",
        "index 1234567..89abcde 100644", "new file mode 120000", "old mode 100644", "new mode 104755",
        "deleted file mode 100644", "rename from a.c", "rename to ../b.c", "similarity index 90%",
        "GIT binary patch", "literal 5", "Binary files a/x and b/x differ", "\\ No newline at end of file",
        "@@ -1 +1 @@", "@@ -1,3 +1,4 @@ int f(void)", "@@ -0,0 +1 @@", "@@ -5,99999999999 +5 @@", "@@ -1 +1",
        "@@@ -1,2 -1,2 +1,3 @@@", "-- ", "---", "+++", "From 0123456789012345678901234567890123456789 Mon Sep 17",
        "Subject: [PATCH 1/2] x", "From: A <a@b>", "Content-Type: multipart/mixed; boundary=X", "--X",
        "Content-Transfer-Encoding: base64", "*** a.c", "***************", "1,2c", ".", "w", "3c3", "< a", "> b",
        "", " ", "\t-a", "> -a", ">> +b",
    ]),
    st.builds(lambda k, t: k + t, st.sampled_from([" ", "+", "-"]), st.text(max_size=20)),
    st.text(max_size=30),
)
DIFF_TEXT = st.builds(lambda lines, eol: eol.join(lines) + eol,
                      st.lists(DIFF_LINES, max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
DIFF_BYTES = st.one_of(
    st.binary(max_size=400),
    DIFF_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(lambda t, junk: t.encode("utf-8", "surrogatepass") + junk + b"\n" + t.encode("latin-1", "replace"),
              DIFF_TEXT, st.binary(max_size=20)),
)


def mail(subject: bytes, ctype: bytes, body: bytes) -> bytes:
    return (b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\n"
            b"Subject: " + subject + b"\nContent-Type: " + ctype + b"\n\n" + body + b"\n")


MAIL_BYTES = st.builds(
    mail,
    st.sampled_from([b"[PATCH 1/2] arm64: x", b"=?utf-8?B?w6k=?=", b"=?bogus?Q?=FF?=", b"[PATCH v9999999999 0/0]", b""]),
    st.sampled_from([b"text/plain; charset=utf-8", b"text/plain; charset=x-unknown", b"text/plain; charset=utf-16",
                     b"multipart/mixed; boundary=X", b"multipart/mixed", b"text/x-patch; charset=iso-2022-jp",
                     b"message/rfc822"]),
    st.one_of(DIFF_BYTES, DIFF_TEXT.map(lambda t: b"--X\nContent-Type: text/plain\n\n" + t.encode("utf-8", "surrogatepass")
                                        + b"\n--X--\n")),
)

NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
FILE_PATH = st.lists(NAME, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + ".c")
LINE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e"
                                  "\x85\u2028\u2029"), max_size=30)


@st.composite
def hunk_text(draw: st.DrawFn, start: int) -> tuple[str, int]:
    """One well-formed hunk (counts right) starting at old line ``start``; returns (text, old end)."""
    kinds = draw(st.lists(st.sampled_from(" -+"), min_size=1, max_size=12))
    body = "".join(k + draw(LINE_TEXT) + "\n" for k in kinds)
    old = sum(k != "+" for k in kinds)
    new = sum(k != "-" for k in kinds)
    section = draw(st.sampled_from(["", " int f(void)", " config ARM64"]))

    def rng(a: int, n: int) -> str:
        return str(a) if n == 1 else f"{a},{n}"

    return f"@@ -{rng(start if old else start - 1, old)} +{rng(start if new else start - 1, new)} @@{section}\n{body}", \
        start + old + draw(st.integers(1, 20))


@st.composite
def well_formed_diff(draw: st.DrawFn) -> str:
    """A git diff of 1-3 files whose every hunk count is right (the parser must accept it)."""
    out = []
    for path in draw(st.lists(FILE_PATH, min_size=1, max_size=3, unique=True)):
        out.append(f"diff --git a/{path} b/{path}\nindex 1234567..89abcde 100644\n--- a/{path}\n+++ b/{path}\n")
        start = draw(st.integers(1, 50))
        for _ in range(draw(st.integers(1, 3))):
            text, start = draw(hunk_text(start))
            out.append(text)
    return "".join(out)


# ---------------------------------------------------------------- parsers


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_formed_diff())
def test_well_formed_diffs_parse_and_print_back_exactly(text):
    files = parse_diff(text, origin="ok.patch")
    assert "".join(fp.render() for fp in files) == text
    for fp in files:
        for h in fp.hunks:
            assert len(h.old_lines) == h.old_count and len(h.new_lines) == h.new_count


@FAST
@given(DIFF_TEXT)
def test_parse_diff_raises_only_our_errors(text):
    try:
        files = parse_diff(text, origin="fuzz.patch")
    except BackportError as e:
        assert e.ref is not None and e.ref.path == "fuzz.patch" and e.ref.line >= 1
        return
    for fp in files:
        fp.render()  # and every model prints back


@FAST
@given(st.text(max_size=300))
def test_parse_diff_on_noise(text):
    try:
        parse_diff(text, origin="noise")
        parse_diff_lenient(text, origin="noise")
    except BackportError:
        pass


@FAST
@given(DIFF_TEXT)
def test_parse_diff_lenient_raises_only_our_errors(text):
    try:
        result = parse_diff_lenient(text, origin="fuzz.patch")
    except BackportError:
        return
    assert all(": warning: " in w for w in result.warnings)


@FAST
@given(st.one_of(DIFF_BYTES, MAIL_BYTES))
def test_parse_series_bytes_raises_only_our_errors(data):
    try:
        series = parse_series_bytes(data, origin="fuzz.mbox")
    except BackportError as e:
        assert str(e).startswith("fuzz.mbox") or e.ref is None or e.ref.path == "fuzz.mbox"
        return
    assert all(isinstance(w, str) for w in series.warnings)


@st.composite
def perturbed_diff(draw: st.DrawFn) -> str:
    """A well-formed diff with one line inserted, deleted or replaced by diff-shaped noise."""
    lines = draw(well_formed_diff()).split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["insert", "delete", "replace"]))
    if op == "delete":
        del lines[i]
    else:
        lines[i : i + (op == "replace")] = [draw(DIFF_LINES)]
    return "\n".join(lines)


@FAST
@given(perturbed_diff())
def test_perturbed_diffs_fail_cleanly_or_keep_counts(text):
    try:
        files = parse_diff(text, origin="p.patch")
    except BackportError as e:
        assert e.ref is not None and e.ref.line >= 1
        return
    for fp in files:
        for h in fp.hunks:
            assert len(h.old_lines) == h.old_count and len(h.new_lines) == h.new_count


# ---------------------------------------------------------------- safety checks


@FAST
@given(st.text(max_size=400))
def test_check_diff_text_never_raises(text):
    for f in check_diff_text(text, origin="x"):
        assert f.ref is not None and f.ref.line >= 1


@FAST
@given(PATHS)
def test_a_path_said_safe_stays_inside_any_root(path):
    if find_path_problem(path) is not None:
        return
    joined = posixpath.normpath(posixpath.join("/root/tree", path.replace("\\", "/")))
    assert joined.startswith("/root/tree/")
    assert ".git" not in [p.lower() for p in joined.split("/")]
    assert not any(ord(c) < 32 for c in path)


@FAST
@given(st.one_of(PATHS, st.none()), st.one_of(PATHS, st.none()),
       st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["100644", "100755", "120000", "104755", "160000"])),
       st.lists(DIFF_LINES, max_size=5).map(tuple), st.booleans())
def test_check_filepatch_safety_never_raises(old, new, mode, header, binary):
    fp = FilePatch(old, new, new_mode=mode, header_lines=header, is_binary=binary)
    for f in check_filepatch_safety(fp, MemoryTree({"a/x.c": "int x;\n"})):
        assert f.code and f.message


# ---------------------------------------------------------------- placement stays in the tree


def _snapshot(base: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, base)] = os.readlink(p).encode() if os.path.islink(p) else Path(p).read_bytes()
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(PATHS, st.one_of(st.none(), st.text(max_size=20))), max_size=6),
       st.lists(st.tuples(PATHS, st.sampled_from([None, "100755", "120000", "104755"])), max_size=3))
def test_apply_never_writes_outside_the_tree(new_files, patch_files):
    with tempfile.TemporaryDirectory() as tmp:
        root, outside = os.path.join(tmp, "tree"), os.path.join(tmp, "outside")
        os.makedirs(os.path.join(root, "a"))
        os.makedirs(outside)
        Path(root, "a", "x.c").write_text("int x;\n")
        Path(outside, "secret").write_text("s\n")
        os.symlink(outside, os.path.join(root, "link"))
        os.symlink(os.path.join(outside, "secret"), os.path.join(root, "a", "link"))
        before_outside = _snapshot(outside)
        before_tree = _snapshot(root)
        files = tuple(FilePatch(p, p, new_mode=m) for p, m in patch_files)
        res = PortResult(patch=Patch(subject="fuzz", files=files), new_files=tuple(new_files))
        try:
            apply_results(root, [res])
        except BackportError:
            assert _snapshot(root) == before_tree  # refused: nothing written
        assert _snapshot(outside) == before_outside
        allowed = set()
        for p, _ in new_files:
            if find_path_problem(p) is None:
                allowed.add(posixpath.normpath(p.replace("\\", "/")).lstrip("/"))
        after = _snapshot(root)
        for rel, data in after.items():
            if rel.startswith(".backport-apply"):
                continue
            assert before_tree.get(rel) == data or rel in allowed, rel
        DirTree(root)  # the tree is still a readable tree
        shutil.rmtree(tmp, ignore_errors=True)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(well_formed_diff(), perturbed_diff()), st.lists(PATHS, max_size=2))
def test_port_then_apply_never_writes_outside_the_tree(text, hostile):
    """The whole placement path: parse, port onto a tree holding each file's pre-image (plus a
    symlink to outside), apply. Hostile paths are mixed in; nothing outside may change."""
    from backport.model import PortOptions, Series
    from backport.pipeline import port_series

    try:
        files = parse_diff(text, origin="p.patch")
    except BackportError:
        return
    for hp in hostile:
        if hp.strip() and not any(c in hp for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            files += parse_diff(f"--- a/{hp}\n+++ b/{hp}\n@@ -1 +1 @@\n-a\n+b\n", origin="h.patch")
    with tempfile.TemporaryDirectory() as tmp:
        root, outside = Path(tmp, "tree"), Path(tmp, "outside")
        root.mkdir()
        outside.mkdir()
        (outside / "secret").write_text("a\n")
        for fp in files:
            if find_path_problem(fp.path) is None and not os.path.lexists(root / fp.path):
                with contextlib.suppress(OSError):
                    (root / fp.path).parent.mkdir(parents=True, exist_ok=True)
                    pre = fp.hunks[0].old_lines if fp.hunks else ()
                    (root / fp.path).write_text("".join(ln + "\n" for ln in pre) + "tail\n")
        if not os.path.lexists(root / "link"):
            os.symlink(outside, root / "link")
        try:
            results = port_series(Series(patches=(Patch(subject="p", files=files),)), DirTree(str(root)),
                                  options=PortOptions(checks=False))
            apply_results(str(root), results)
        except BackportError:
            pass
        assert _snapshot(str(outside)) == {"secret": b"a\n"}
