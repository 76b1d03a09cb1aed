"""report.json: golden text, validation against the shipped JSON Schema, stable fields."""

from __future__ import annotations

import copy
import json

from test_render_common import RESULTS, SERIES, check_golden

from backport.model import SCHEMA_VERSION
from backport.render.report_json import check_report, load_report_schema, render_json, render_report


def test_json_golden(update_golden):
    check_golden("report.json", render_json(RESULTS, SERIES), update_golden)


def test_report_validates_against_schema():
    data = json.loads(render_json(RESULTS, SERIES))
    assert check_report(data) == ()
    assert data["schema_version"] == SCHEMA_VERSION == load_report_schema()["properties"]["schema_version"]["const"]


def test_schema_rejects_unknown_and_missing_fields():
    data = render_report(RESULTS, SERIES)
    bad = copy.deepcopy(data)
    bad["patches"][0]["placements"][0]["method"] = "guess"
    bad["patches"][1]["findings"][0]["severity"] = "fatal"
    del bad["summary"]["unplaced"]
    bad["patches"][0]["extra"] = 1
    errors = check_report(bad)
    assert any(e.startswith("$.patches[0].placements[0].method:") for e in errors)
    assert any(e.startswith("$.patches[1].findings[0].severity:") for e in errors)
    assert any("'unplaced' is a required property" in e for e in errors)
    assert any("'extra' was unexpected" in e for e in errors)


def test_report_carries_the_whole_result():
    data = render_report(RESULTS, SERIES)
    assert data["summary"] == {"patches": 2, "clean": 1, "review": 0, "blocked": 1, "hunks": 4, "placed": 3,
                               "unplaced": 1, "doubtful": 2, "adapted": 0,
                               "findings": {"error": 1, "warning": 2, "note": 1}}
    second = data["patches"][1]
    assert second["status"] == "blocked" and second["index"] == 2
    fuzzy = second["placements"][0]
    assert fuzzy["method"] == "fuzzy" and fuzzy["confidence"] == 0.78 and fuzzy["doubtful"] is True
    assert fuzzy["alternatives"] == [{"path": "arch/arm64/Kconfig", "line": 5, "score": 0.7,
                                      "note": "also near HAVE_FTRACE_MCOUNT_RECORD"}]
    assert fuzzy["hunk"]["comments"][0]["author"].startswith("Mark Rutland")
    assert second["placements"][1]["path"] is None and second["placements"][1]["method"] == "unplaced"
    assert second["findings"][0]["references"] == ["2aa6ac03516d078cf0c35aaa273b5cd11ea9734c"]
    assert second["patch"]["author"] == "Jürgen Groß <jgross@example.org>"
    assert data["series"]["warnings"] == ["series.mbox:99: warning: patch 2/4 is missing"]


def test_report_without_series():
    data = render_report(RESULTS[:1])
    assert check_report(data) == () and data["series"]["origin"] == []
