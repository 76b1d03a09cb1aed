"""The terminal summary (colour only when asked) and the delayed progress bar."""

from __future__ import annotations

import io
import time

from test_render_common import RESULTS

from backport.render.summary import render_summary, track


def test_plain_summary_has_no_escape_codes():
    text = render_summary(RESULTS, color=False)
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0].split() == ["#", "patch", "status", "hunks", "methods", "doubtful", "adapted", "E/W/N"]
    assert lines[1].split()[0] == "1" and " clean " in lines[1] and "1 exact, 1 offset" in lines[1]
    assert " blocked " in lines[2] and "1 fuzzy, 1 unplaced" in lines[2] and lines[2].endswith("1/2/1")
    assert lines[3] == "2 patches: 1 clean, 0 review, 1 blocked; 3/4 hunks placed, 1 error, 2 warnings"
    assert all(len(ln) <= 100 for ln in lines)


def test_colour_summary_colours_the_status():
    text = render_summary(RESULTS, color=True)
    assert "\x1b[32mclean" in text and "\x1b[1;31mblocked" in text


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_track_is_silent_when_piped_and_yields_everything():
    out = io.StringIO()
    assert list(track(range(5), stream=out, delay=0.0)) == [0, 1, 2, 3, 4]
    assert out.getvalue() == ""


def test_track_shows_a_bar_on_a_terminal_only_after_the_delay():
    quick = _Tty()
    assert list(track([1, 2, 3], stream=quick, delay=10.0)) == [1, 2, 3]
    assert quick.getvalue() == ""
    slow = _Tty()
    seen = []
    for item in track([1, 2, 3], stream=slow, delay=0.01, description="mapping hunks"):
        seen.append(item)
        time.sleep(0.02)
    assert seen == [1, 2, 3]
    assert "mapping hunks" in slow.getvalue()


def test_delayed_progress_callback():
    from backport.render.summary import DelayedProgress

    piped = io.StringIO()
    with DelayedProgress(stream=piped, delay=0.0) as progress:
        for i in range(3):
            progress(i, 3, "x")
    assert piped.getvalue() == ""
    tty = _Tty()
    with DelayedProgress("porting", stream=tty, delay=0.01) as progress:
        progress(0, 2, "first")
        time.sleep(0.02)
        progress(1, 2, RESULTS[1].patch)
    assert "porting arm64: ftrace: Add ftrace direct call" in tty.getvalue()
