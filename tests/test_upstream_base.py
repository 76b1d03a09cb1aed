"""--upstream as a plain directory (an extracted upstream tree or release tarball): the file an
``index`` line names is hashed as git hashes a blob and the 3-way base is exact, approximate or
unused, and the report says which."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from backport.cli import main
from backport.model import FilePatch
from backport.series import parse_diff
from backport.upstream_base import find_base, git_blob_id

CASE = Path(__file__).resolve().parent / "cases" / "three-way"
FOO = "drivers/foo/foo.c"


def _fp() -> FilePatch:
    text = (CASE / "series.mbox").read_text()
    return parse_diff(text[text.index("diff --git"):], origin="series.mbox")[0]


@pytest.fixture
def updir(tmp_path: Path) -> Path:
    d = tmp_path / "linux-6.12"
    shutil.copytree(CASE / "upstream", d)
    return d


def test_blob_id_is_git_hash_object(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"int x;\n\xff odd bytes\n")
    want = subprocess.run(["git", "hash-object", str(f)], capture_output=True, text=True, check=True).stdout.strip()
    assert git_blob_id(f.read_bytes()) == want


def test_matching_blob_is_the_exact_base(updir):
    fp = _fp()
    assert fp.old_blob == "637866b"
    base = find_base(fp, str(updir))
    assert base is not None and base.exact and base.note is None
    assert base.text == (updir / FOO).read_text()


def test_other_release_holding_the_pre_image_is_an_approximate_base(updir):
    (updir / FOO).write_text((updir / FOO).read_text() + "\nMODULE_LICENSE(\"GPL\");\n")
    base = find_base(_fp(), str(updir))
    assert base is not None and not base.exact and base.text is not None
    have = git_blob_id((updir / FOO).read_bytes())
    assert base.note is not None and base.note.code == "upstream-base"
    assert f"blob {have[:12]}, the patch's index line names 637866b" in base.note.message
    assert "approximate 3-way base" in base.note.message


def test_file_without_the_pre_image_is_not_used(updir):
    (updir / FOO).write_text((updir / FOO).read_text().replace("ret = foo_setup(f);", "ret = foo_setup(f, 0);"))
    base = find_base(_fp(), str(updir))
    assert base is not None and base.text is None and "not used as a 3-way base" in base.note.message


def test_missing_file_and_escaping_paths(updir, tmp_path):
    (updir / FOO).unlink()
    base = find_base(_fp(), str(updir))
    assert base is not None and base.text is None and "not in the --upstream directory" in base.note.message
    (tmp_path / "secret.c").write_text("secret\n")
    (updir / "drivers/foo/foo.c").symlink_to(tmp_path / "secret.c")  # points out of the upstream dir
    assert find_base(_fp(), str(updir)).text is None
    assert find_base(FilePatch("../secret.c", "../secret.c"), str(updir)) is None
    assert find_base(FilePatch(None, "new.c"), str(updir)) is None  # a new file has no base


def _port(upstream: Path, tmp_path: Path, capsys) -> tuple[int, dict]:
    code = main(["port", str(CASE / "series.mbox"), "--onto", str(CASE / "tree"), "--upstream", str(upstream),
                 "--format", "json", "--out", str(tmp_path / "out")])
    return code, json.loads(capsys.readouterr().out)


def _codes(report: dict) -> list[str]:
    return sorted({f["code"] for r in report["patches"] for f in r["findings"] if not f["code"].startswith("kb-")})


def test_cli_port_with_a_plain_upstream_directory(updir, tmp_path, capsys):
    """The same divergence the git-repo form of this case finds, from a plain directory."""
    code, report = _port(updir, tmp_path, capsys)
    assert code == 0
    assert _codes(report) == ["context-diverged"]
    (pl,) = report["patches"][0]["placements"]
    assert pl["method"] == "exact" and pl["applied"]
    assert "upstream-base" not in (tmp_path / "out" / "checklist.md").read_text()


def test_cli_port_says_when_the_blob_does_not_match(updir, tmp_path, capsys):
    (updir / FOO).write_text((updir / FOO).read_text().replace("ret = foo_setup(f);", "ret = foo_setup(f, 0);"))
    code, report = _port(updir, tmp_path, capsys)
    assert _codes(report) == ["upstream-base"]  # no base: no divergence can be seen, and it says why
    (note,) = [f for f in report["patches"][0]["findings"] if f["code"] == "upstream-base"]
    assert note["severity"] == "note" and "637866b" in note["message"] and "not used" in note["message"]
    assert "upstream-base" in (tmp_path / "out" / "checklist.md").read_text()
    # approximate: the pre-image is there, the divergence is still found, and the note says so
    (updir / FOO).write_text((CASE / "upstream" / FOO).read_text() + "\n/* later upstream change */\n")
    code, report = _port(updir, tmp_path, capsys)
    assert _codes(report) == ["context-diverged", "upstream-base"]
    assert any("approximate" in f["message"] for f in report["patches"][0]["findings"])
