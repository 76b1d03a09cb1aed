"""The JSON report for CI (stage: render).

Inputs: the PortResults of a series and the Series. Outputs: ``render_report`` (a plain dict
with ``schema_version`` and stable snake_case field names, every PortResult in full (each
placement with its adaptations: what the port changed in upstream's lines and why) except the
whole-file contents of ``new_files``, which are given as paths only), ``render_json`` (its
text), and ``check_report`` (the messages of the JSON Schema in
``backport/schema/report.schema.json`` that the dict breaks, empty when valid).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from .. import __version__
from ..model import (
    SCHEMA_VERSION,
    Adaptation,
    Finding,
    Hunk,
    Patch,
    Placement,
    PortResult,
    ReviewComment,
    Series,
    Severity,
    SourceRef,
    Status,
)
from .note import is_doubtful, upstream_path

Json = dict[str, Any]


def _ref(ref: SourceRef | None) -> Json | None:
    return None if ref is None else {"path": ref.path, "line": ref.line}


def _comment(c: ReviewComment) -> Json:
    return {"author": c.author, "text": c.text, "ref": _ref(c.ref), "depth": c.depth}


def _hunk(h: Hunk) -> Json:
    return {"old_start": h.old_start, "old_count": h.old_count, "new_start": h.new_start,
            "new_count": h.new_count, "section": h.section, "ref": _ref(h.ref),
            "text": h.render(), "comments": [_comment(c) for c in h.comments]}


def render_adaptation(a: Adaptation) -> Json:
    return {"kind": a.kind, "summary": a.summary, "upstream": list(a.upstream), "port": list(a.port),
            "evidence": list(a.evidence), "path": a.path, "line": a.line, "ref": _ref(a.ref),
            "references": list(a.references), "rule": a.rule}


def render_placement(patch: Patch, p: Placement) -> Json:
    return {
        "file_index": p.file_index, "hunk_index": p.hunk_index,
        "upstream_path": upstream_path(patch, p), "hunk": _hunk(p.hunk),
        "method": p.method.value, "placed": p.placed, "applied": p.applied, "doubtful": is_doubtful(p),
        "path": p.path, "start": p.start, "offset": p.offset, "fuzz": p.fuzz,
        "confidence": round(p.confidence, 4),
        "alternatives": [{"path": a.path, "line": a.line, "score": round(a.score, 4), "note": a.note}
                         for a in p.alternatives],
        "evidence": list(p.evidence), "target_old": list(p.target_old), "target_new": list(p.target_new),
        "adaptations": [render_adaptation(a) for a in p.adaptations],
    }


def render_finding(f: Finding) -> Json:
    return {"code": f.code, "severity": str(f.severity), "message": f.message, "ref": _ref(f.ref),
            "evidence": list(f.evidence), "hint": f.hint, "rule": f.rule,
            "references": list(f.references), "checklist": f.checklist}


def render_patch(patch: Patch) -> Json:
    return {
        "subject": patch.subject, "raw_subject": patch.raw_subject, "prefixes": list(patch.prefixes),
        "version": patch.version, "number": patch.number, "total": patch.total,
        "author": patch.author, "date": patch.date, "message_id": patch.message_id,
        "in_reply_to": patch.in_reply_to, "body": patch.body,
        "trailers": [{"key": t.key, "value": t.value} for t in patch.trailers],
        "upstream_ids": list(patch.upstream_ids), "base_commit": patch.base_commit,
        "prerequisite_patch_ids": list(patch.prerequisite_patch_ids), "partial": patch.partial,
        "comments": [_comment(c) for c in patch.comments], "ref": _ref(patch.ref),
        "files": [{"old_path": f.old_path, "new_path": f.new_path, "old_blob": f.old_blob,
                   "new_blob": f.new_blob, "hunks": len(f.hunks), "is_binary": f.is_binary}
                  for f in patch.files],
    }


def render_result(index: int, r: PortResult) -> Json:
    return {
        "index": index, "status": r.status.value, "seconds": round(r.seconds, 3),
        "patch": render_patch(r.patch),
        "placements": [render_placement(r.patch, p) for p in r.placements],
        "findings": [render_finding(f) for f in r.findings],
        "text": r.text, "leftovers": r.leftovers,
        "new_files": [{"path": path, "deleted": text is None} for path, text in r.new_files],
    }


def render_totals(results: Sequence[PortResult]) -> Json:
    placements = [p for r in results for p in r.placements]
    findings = [f for r in results for f in r.findings]
    return {
        "patches": len(results),
        **{s.value: sum(1 for r in results if r.status is s) for s in Status},
        "hunks": len(placements),
        "placed": sum(1 for p in placements if p.placed),
        "unplaced": sum(1 for p in placements if not p.placed),
        "doubtful": sum(1 for p in placements if is_doubtful(p)),
        "adapted": sum(1 for p in placements if p.applied and p.adaptations),
        "findings": {str(s): sum(1 for f in findings if f.severity is s) for s in reversed(Severity)},
    }


def render_report(results: Sequence[PortResult], series: Series | None = None) -> Json:
    """The whole report as plain JSON-ready data."""
    cover = series.cover if series is not None else None
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "backport", "version": __version__},
        "series": {
            "version": series.version if series is not None else 1,
            "origin": list(series.origin) if series is not None else [],
            "warnings": list(series.warnings) if series is not None else [],
            "cover": None if cover is None else {"subject": cover.subject, "body": cover.body,
                                                 "author": cover.author, "date": cover.date},
        },
        "summary": render_totals(results),
        "patches": [render_result(i, r) for i, r in enumerate(results, 1)],
    }


def render_json(results: Sequence[PortResult], series: Series | None = None) -> str:
    """``render_report`` as indented JSON text ending in a newline."""
    return json.dumps(render_report(results, series), indent=2, ensure_ascii=False) + "\n"


@cache
def load_report_schema() -> Json:
    """The JSON Schema of report.json, shipped in the package (backport/schema/)."""
    text = resources.files("backport").joinpath("schema/report.schema.json").read_text(encoding="utf-8")
    schema: Json = json.loads(text)
    return schema


def check_report(data: Any) -> tuple[str, ...]:
    """Every way ``data`` breaks the report schema, as ``$.patches[0].status: ...`` lines."""
    import jsonschema  # lazy: only tests and CI validate

    validator = jsonschema.Draft202012Validator(load_report_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return tuple(f"{e.json_path}: {e.message}" for e in errors)
