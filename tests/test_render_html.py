"""report.html: self-contained, escaped, hunks side by side; rendered by headless Chromium (marked)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from test_render_common import H2, PATCH_1, RESULTS, SERIES

from backport.model import Method, Placement, PortResult
from backport.render.html import render_html


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collect:
    c = _Collect()
    c.feed(html)
    return c


def test_page_is_self_contained():
    html = render_html(RESULTS, SERIES)
    page = parse(html)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    for _, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), value
    assert not re.search(r"url\(|@import|https?://", html.split("<style>")[1].split("</style>")[0])


def test_page_shows_every_hunk_side_by_side_with_method_and_confidence():
    html = render_html(RESULTS, SERIES)
    assert html.count('<div class="hunk ') == 4
    assert html.count('<div class="side">') == 4
    assert "fuzzy · confidence 0.78 · arch/arm64/Kconfig:3" in html
    assert "offset · confidence 1.00 · kernel/trace/ftrace.c:11" in html
    assert '<div class="hunk unplaced">' in html and "not placed: left out of the patch" in html
    assert '<span class="add">+\tselect HAVE_DYNAMIC_FTRACE_WITH_DIRECT_CALLS</span>' in html
    assert "missing-symbol" in html and "Mark Rutland" in html
    # the port column is the regenerated diff's hunk, with the target's own context
    port = html.split("port arch/arm64/Kconfig @@ -2,5</div>")[1].split("</pre>")[0]
    assert port.startswith('<pre><span class="ctx"> \tdef_bool y</span>')
    assert '<a href="#patch-2">' in html and '<section id="patch-2">' in html


def test_port_side_is_the_target_code():
    moved = Placement(H2, Method.FUZZY, "kernel/trace/ftrace.c", 30, 8, 1, 0.8,
                      target_old=("{", "\tif (ftrace_disabled)", "\t\treturn;", "}"),
                      target_new=("{", "\tif (ftrace_disabled)", "\t\treturn;", "\tftrace_direct_disabled = 0;", "}"),
                      hunk_index=1)
    html = render_html((PortResult(PATCH_1, (moved,), (), "x"),))
    port = html.split("port kernel/trace/ftrace.c:30")[1]
    assert '<span class="ctx"> \tif (ftrace_disabled)</span>' in port
    assert '<span class="add">+\tftrace_direct_disabled = 0;</span>' in port


def test_everything_is_escaped():
    evil = PATCH_1.__class__(subject="<script>alert(1)</script> & co", author="A <a@b>")
    html = render_html((PortResult(evil, (), (), ""),))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "A &lt;a@b&gt;" in html


def test_empty_report_is_a_page():
    html = render_html(())
    assert html.startswith("<!DOCTYPE html>") and "<title>backport report</title>" in html


@pytest.mark.browser
def test_renders_in_headless_chromium(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    assert browser, "apt-get install -y chromium"
    page = tmp_path / "report.html"
    page.write_text(render_html(RESULTS, SERIES), encoding="utf-8")
    shot = tmp_path / "shot.png"
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--window-size=1400,2200", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a blank page is a few kB
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "arm64: ftrace: Add ftrace direct call support" in dom.stdout
    assert dom.stdout.count('class="hunk ') == 4


def test_cover_letter_is_shown():
    cover = PATCH_1.__class__(subject="Add ftrace direct call for arm64", number=0, body="This series adds <it>.\n")
    series = SERIES.__class__(SERIES.patches, cover=cover, version=2, origin=("series.mbox",))
    html = render_html(RESULTS, series)
    assert "<summary>Cover letter: Add ftrace direct call for arm64</summary><pre>This series adds &lt;it&gt;." in html
