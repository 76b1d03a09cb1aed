"""Series rendering (stage: render): what `backport show` prints about an ingested series.

Inputs: a model.Series. Outputs: ``render_series_text`` (a human summary: cover, each patch's
subject, metadata, trailers, upstream ids, files with blob ids and hunks, review comments)
(control characters and bidi overrides made visible by backport.safety.render_printable)
and ``render_series_json`` (the same as JSON for machines, with ``schema_version``);
``series_to_dict`` gives the plain dict behind the JSON.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import SCHEMA_VERSION, FilePatch, Hunk, Patch, ReviewComment, Series, SourceRef
from ..safety import render_printable
from ..series import render_subject_prefix


def _ref(ref: SourceRef | None) -> str | None:
    return str(ref) if ref is not None else None


def _comment_dict(c: ReviewComment) -> dict[str, Any]:
    return {"author": c.author, "depth": c.depth, "ref": _ref(c.ref), "text": c.text}


def _hunk_dict(h: Hunk) -> dict[str, Any]:
    return {
        "header": h.header().rstrip("\n"),
        "old_start": h.old_start, "old_count": h.old_count,
        "new_start": h.new_start, "new_count": h.new_count,
        "section": h.section,
        "ref": _ref(h.ref),
        "added": len(h.added), "removed": len(h.removed),
        "lines": [{"kind": ln.kind.name.lower(), "text": ln.text, "no_newline": ln.no_newline,
                   "ref": _ref(ln.ref)} for ln in h.lines],
        "comments": [_comment_dict(c) for c in h.comments],
    }


def _file_dict(f: FilePatch) -> dict[str, Any]:
    return {
        "path": f.path, "old_path": f.old_path, "new_path": f.new_path,
        "old_blob": f.old_blob, "new_blob": f.new_blob,
        "old_mode": f.old_mode, "new_mode": f.new_mode,
        "is_new": f.is_new, "is_deleted": f.is_deleted, "is_rename": f.is_rename,
        "is_binary": f.is_binary, "similarity": f.similarity,
        "ref": _ref(f.ref),
        "hunks": [_hunk_dict(h) for h in f.hunks],
    }


def patch_to_dict(p: Patch) -> dict[str, Any]:
    return {
        "subject": p.subject, "raw_subject": p.raw_subject, "prefixes": list(p.prefixes),
        "version": p.version, "number": p.number, "total": p.total,
        "author": p.author, "date": p.date, "message_id": p.message_id, "in_reply_to": p.in_reply_to,
        "body": p.body,
        "trailers": [{"key": t.key, "value": t.value, "ref": _ref(t.ref)} for t in p.trailers],
        "upstream_ids": list(p.upstream_ids),
        "base_commit": p.base_commit,
        "prerequisite_patch_ids": list(p.prerequisite_patch_ids),
        "partial": p.partial,
        "comments": [_comment_dict(c) for c in p.comments],
        "ref": _ref(p.ref),
        "files": [_file_dict(f) for f in p.files],
    }


def series_to_dict(series: Series) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "series",
        "origin": list(series.origin),
        "version": series.version,
        "cover": patch_to_dict(series.cover) if series.cover is not None else None,
        "patches": [patch_to_dict(p) for p in series.patches],
        "warnings": list(series.warnings),
    }


def render_series_json(series: Series) -> str:
    return json.dumps(series_to_dict(series), indent=2, ensure_ascii=False) + "\n"


def _file_line(f: FilePatch) -> str:
    added = sum(len(h.added) for h in f.hunks)
    removed = sum(len(h.removed) for h in f.hunks)
    what = []
    if f.is_new:
        what.append("new file")
    elif f.is_deleted:
        what.append("deleted")
    elif f.is_rename:
        what.append(f"renamed from {f.old_path}" + (f" ({f.similarity}%)" if f.similarity is not None else ""))
    if f.old_mode and f.new_mode and f.old_mode != f.new_mode:
        what.append(f"mode {f.old_mode} -> {f.new_mode}")
    if f.is_binary:
        what.append("binary")
    else:
        n = len(f.hunks)
        what.append(f"{n} hunk{'s' if n != 1 else ''}, +{added} -{removed}")
    if f.old_blob or f.new_blob:
        what.append(f"index {f.old_blob or '?'}..{f.new_blob or '?'}")
    return f"    {f.path}  ({'; '.join(what)})"


def _indent(text: str, prefix: str) -> list[str]:
    return [(prefix + ln).rstrip() for ln in text.splitlines()] or [prefix.rstrip()]


def _comment_lines(c: ReviewComment, prefix: str, *, verbose: int) -> list[str]:
    who = c.author or "unknown"
    head = f"{prefix}review by {who} (quote depth {c.depth}, {_ref(c.ref)}):"
    text = c.text if verbose else (c.text.splitlines() or [""])[0][:100]
    return [head, *_indent(text, prefix + "  | ")]


def render_patch_text(p: Patch, *, verbose: int = 0) -> list[str]:
    out = [f"{render_subject_prefix(p)} {p.subject}"]
    if p.ref is not None:
        out.append(f"    from: {p.ref}")
    if p.author:
        out.append(f"    author: {p.author}")
    if p.date:
        out.append(f"    date: {p.date}")
    if p.message_id:
        out.append(f"    message-id: <{p.message_id}>")
    if p.upstream_ids:
        out.append(f"    upstream: {', '.join(p.upstream_ids)}")
    if p.base_commit:
        out.append(f"    base-commit: {p.base_commit}")
    for pid in p.prerequisite_patch_ids:
        out.append(f"    prerequisite-patch-id: {pid}")
    if verbose and p.body:
        out.append("    message:")
        out.extend(_indent(p.body.rstrip("\n"), "      | "))
    for t in p.trailers:
        out.append(f"    {t.key}: {t.value}")
    if p.partial:
        out.append("    PARTIAL: recovered from a quoted reply; hunks were snipped or cut short")
    for c in p.comments:
        out.extend(_comment_lines(c, "    ", verbose=verbose))
    for f in p.files:
        out.append(_file_line(f))
        for h in f.hunks:
            if verbose or h.comments:
                out.append(f"      {h.header().rstrip()}  ({_ref(h.ref)})")
            for c in h.comments:
                out.extend(_comment_lines(c, "        ", verbose=verbose))
            if verbose > 1:
                out.extend("        " + text for ln in h.lines for text in ln.render().splitlines())
    return [render_printable(line) for line in out]


def render_series_text(series: Series, *, verbose: int = 0) -> str:
    """A human summary of a Series (``verbose`` adds messages and hunk headers, then hunk lines)."""
    n = len(series.patches)
    origin = ", ".join(series.origin) or "?"
    out = [f"series v{series.version}: {n} patch{'es' if n != 1 else ''} from {origin}"]
    if series.cover is not None:
        out.append("")
        out.append("cover: " + "\n".join(render_patch_text(series.cover, verbose=verbose)))
    for p in series.patches:
        out.append("")
        out.extend(render_patch_text(p, verbose=verbose))
    if series.warnings:
        out.append("")
        out.append(f"{len(series.warnings)} warning{'s' if len(series.warnings) != 1 else ''} (on stderr)")
    # every field came from a stranger's mail: no ESC, CR, bidi override reaches the terminal
    return render_printable("\n".join(out) + "\n")
