"""The HTML report (stage: render): one self-contained page a reviewer opens in a browser.

Inputs: the PortResults of a series and the Series. Outputs: ``render_html`` (a complete
HTML5 document: inline CSS, no script, no external resource): the series, a table of the
patches, and per patch its findings and every hunk side by side (upstream hunk vs the port
as it lands in the target) with method, confidence and evidence. An adapted hunk shows three
columns (upstream, the target code it lands on, the port) and a table of its adaptations: each
change with upstream's and the port's lines, the target line it was learned from, the kb rule
and the upstream commit it undoes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from html import escape

from .. import __version__
from ..model import Adaptation, Finding, Placement, PortResult, Series, Status
from .note import describe_finding, describe_placement, find_ported_hunk, hunk_label, is_doubtful

CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1400px;padding:1em 2em;
color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}
table.sum{border-collapse:collapse;margin:1em 0}table.sum td,table.sum th{border:1px solid #ccc;padding:.25em .6em;
text-align:left}table.sum th{background:#f3f3f3}
.badge{display:inline-block;padding:0 .5em;border-radius:.6em;font-size:.85em;font-weight:600;color:#fff}
.clean{background:#2e7d32}.review{background:#ef6c00}.blocked{background:#c62828}
.sev-error{color:#c62828;font-weight:600}.sev-warning{color:#ef6c00;font-weight:600}.sev-note{color:#1565c0}
ul.findings li{margin:.3em 0}.hint{color:#555;font-style:italic}
.hunk{border:1px solid #ccc;border-radius:4px;margin:1em 0;overflow:hidden}
.hunk.doubtful{border-color:#ef6c00}.hunk.unplaced{border-color:#c62828}
.hunk-head{background:#f6f8fa;padding:.4em .8em;border-bottom:1px solid #ddd}
.hunk-head .meta{float:right;color:#555}
.side{display:grid;grid-template-columns:1fr 1fr}.side>div{overflow-x:auto;min-width:0}
.side>div+div{border-left:1px solid #ddd}.side.three{grid-template-columns:1fr 1fr 1fr}
.hunk.adapted{border-color:#6a1b9a}.adapted-line{box-shadow:inset 3px 0 #6a1b9a}
table.adapt{border-collapse:collapse;width:100%;border-top:1px solid #ddd;font-size:.92em}
table.adapt td,table.adapt th{border-bottom:1px solid #eee;padding:.25em .6em;text-align:left;vertical-align:top}
table.adapt th{background:#f7f2fa}.kind{font-weight:600;color:#6a1b9a}
.col-title{font-weight:600;padding:.2em .6em;background:#fafafa;border-bottom:1px solid #eee}
pre{margin:0;font:12.5px/1.35 ui-monospace,'DejaVu Sans Mono',monospace;tab-size:8}
pre span{display:block;padding:0 .6em;white-space:pre}
.add{background:#e6ffec}.del{background:#ffebe9}.ctx{background:#fff}.gap{color:#888;font-style:italic}
.evidence{padding:.3em .8em;color:#444;border-top:1px solid #eee;font-size:.9em}
.comment{padding:.3em .8em;border-top:1px solid #eee;background:#fffbe6}
footer{margin-top:3em;color:#777;font-size:.85em}
"""


def _line(kind: str, text: str) -> str:
    cls = {"+": "add", "-": "del", " ": "ctx"}[kind]
    return f'<span class="{cls}">{escape(kind + text)}</span>'


def _port_lines(p: Placement) -> Iterator[tuple[str, str]]:
    """The port as +/-/context lines: the target pre-image turned into its post-image."""
    old, new = list(p.target_old), list(p.target_new)
    if tuple(old) == p.hunk.old_lines and tuple(new) == p.hunk.new_lines:  # same lines: keep upstream's layout
        yield from ((ln.kind.value, ln.text) for ln in p.hunk.lines)
        return
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            yield from ((" ", t) for t in old[i1:i2])
            continue
        yield from (("-", t) for t in old[i1:i2])
        yield from (("+", t) for t in new[j1:j2])


def _mark(kind: str, text: str, changed: set[str]) -> str:
    """A port line; those an adaptation wrote carry the ``adapted-line`` mark."""
    line = _line(kind, text)
    if kind + text in changed:
        return line.replace('class="', 'class="adapted-line ', 1)
    return line


def _prefixed(line: str) -> str:
    """A line stored with its diff prefix (``+foo``); an unprefixed one is shown as context."""
    if line[:1] in ("+", "-", " "):
        return _line(line[0], line[1:])
    return _line(" ", line)


def _column(title: str, body: str) -> str:
    return f'<div><div class="col-title">{title}</div><pre>{body}</pre></div>'


def render_adaptations(adaptations: Sequence[Adaptation]) -> str:
    """The table of a hunk's adaptations: what changed, upstream vs port lines, the evidence."""
    rows = ["<tr><th>change</th><th>upstream</th><th>port</th><th>learned from</th></tr>"]
    for a in adaptations:
        up = "".join(_prefixed(ln) for ln in a.upstream)
        port = "".join(_prefixed(ln) for ln in a.port)
        ev = [escape(e) for e in a.evidence] or ([escape(f"{a.path}:{a.line}")] if a.path else [])
        if a.rule:
            ev.append(f"kb API table <code>{escape(a.rule)}</code>")
        if a.references:
            ev.append("undoes upstream " + ", ".join(f"<code>{escape(r)}</code>" for r in a.references))
        rows.append(f'<tr><td><span class="kind">{escape(a.kind)}</span> {escape(a.summary)}</td>'
                    f"<td><pre>{up}</pre></td><td><pre>{port}</pre></td><td>{'<br>'.join(ev)}</td></tr>")
    return '<table class="adapt">' + "".join(rows) + "</table>"


def render_hunk(result: PortResult, p: Placement) -> str:
    patch = result.patch
    adapted = bool(p.adaptations) and p.placed and p.applied
    state = "unplaced" if not p.placed else ("doubtful" if is_doubtful(p) else "sure")
    state += " adapted" if adapted else ""
    meta = f"{escape(p.method.value)} · confidence {p.confidence:.2f}"
    if p.placed:
        meta += f" · {escape(p.path or '')}:{p.start}"
    if not p.applied and p.placed:
        meta += " · held back"
    if adapted:
        meta += f" · adapted ({len(p.adaptations)})"
    upstream = "".join(_line(ln.kind.value, ln.text) for ln in p.hunk.lines)
    up_title = escape(f"upstream {hunk_label(patch, p)} @@ -{p.hunk.old_start},{p.hunk.old_count}")
    changed = {ln for a in p.adaptations for ln in a.port} if adapted else set()
    ported = find_ported_hunk(result, p)
    target_lines: Sequence[str] = p.target_old
    target_at = p.start
    if ported is not None:  # the regenerated diff: target code with full context
        port = "".join(_mark(ln.kind.value, ln.text, changed) for ln in ported.lines)
        port_title = escape(f"port {p.path} @@ -{ported.old_start},{ported.old_count}")
        target_lines, target_at = ported.old_lines, ported.old_start
    elif p.placed:
        port = "".join(_mark(k, t, changed) for k, t in _port_lines(p)) or '<span class="gap">(no lines)</span>'
        port_title = escape(f"port {p.path}:{p.start}")
    else:
        port = '<span class="gap">not placed: left out of the patch</span>'
        port_title = "port"
    columns = [_column(up_title, upstream)]
    if adapted:
        target = "".join(_line(" ", t) for t in target_lines) or '<span class="gap">(no lines)</span>'
        columns.append(_column(escape(f"target {p.path}:{target_at}"), target))
    columns.append(_column(port_title, port))
    parts = [f'<div class="hunk {state}">',
             f'<div class="hunk-head"><span class="meta">{meta}</span>{escape(describe_placement(patch, p))}</div>',
             f'<div class="side{" three" if adapted else ""}">', *columns, "</div>"]
    if adapted:
        parts.append(render_adaptations(p.adaptations))
    for e in p.evidence:
        parts.append(f'<div class="evidence">{escape(e)}</div>')
    for a in p.alternatives:
        parts.append(f'<div class="evidence">other candidate: {escape(a.path)}:{a.line} '
                     f'(score {a.score:.2f}) {escape(a.note)}</div>')
    for c in p.hunk.comments:
        parts.append(f'<div class="comment"><b>{escape(c.author)}</b>: {escape(c.text)}</div>')
    parts.append("</div>")
    return "\n".join(parts)


def render_finding(f: Finding) -> str:
    hint = f' <span class="hint">hint: {escape(f.hint)}</span>' if f.hint else ""
    ev = "".join(f"<br><code>{escape(e)}</code>" for e in f.evidence)
    return f'<li><span class="sev-{f.severity}">{escape(describe_finding(f))}</span>{hint}{ev}</li>'


def _badge(status: Status) -> str:
    return f'<span class="badge {status.value}">{status.value}</span>'


def render_patch_section(index: int, total: int, r: PortResult) -> str:
    patch = r.patch
    parts = [f'<section id="patch-{index}">',
             f"<h2>[{index}/{total}] {escape(patch.subject)} {_badge(r.status)}</h2>"]
    facts = []
    if patch.author:
        facts.append(f"Author: {escape(patch.author)}")
    if patch.date:
        facts.append(escape(patch.date))
    if patch.upstream_ids:
        facts.append(f"upstream commit <code>{escape(patch.upstream_ids[0])}</code>")
    if facts:
        parts.append(f"<p>{' · '.join(facts)}</p>")
    if r.findings:
        parts.append('<h3>Findings</h3><ul class="findings">')
        parts += [render_finding(f) for f in sorted(r.findings, key=lambda f: -f.severity)]
        parts.append("</ul>")
    for c in patch.comments:
        parts.append(f'<div class="comment"><b>{escape(c.author)}</b>: {escape(c.text)}</div>')
    parts.append(f"<h3>Hunks ({sum(1 for p in r.placements if p.placed)}/{len(r.placements)} placed)</h3>")
    parts += [render_hunk(r, p) for p in r.placements]
    parts.append("</section>")
    return "\n".join(parts)


def render_html(results: Sequence[PortResult], series: Series | None = None, *, title: str = "") -> str:
    """The complete report page (UTF-8 HTML5, no network access needed)."""
    total = len(results)
    title = title or (f"backport: {results[0].patch.subject}" + (f" (+{total - 1} more)" if total > 1 else "")
                      if results else "backport report")
    rows = []
    for i, r in enumerate(results, 1):
        placed = sum(1 for p in r.placements if p.placed)
        doubtful = sum(1 for p in r.placements if is_doubtful(p))
        adapted = sum(1 for p in r.placements if p.applied and p.adaptations)
        rows.append(f'<tr><td>{i}</td><td><a href="#patch-{i}">{escape(r.patch.subject)}</a></td>'
                    f"<td>{_badge(r.status)}</td><td>{placed}/{len(r.placements)}</td><td>{doubtful}</td>"
                    f"<td>{adapted}</td><td>{len(r.findings)}</td></tr>")
    origin = ", ".join(series.origin) if series is not None and series.origin else ""
    head = [f"<h1>{escape(title)}</h1>"]
    if origin:
        head.append(f"<p>Series{f' v{series.version}' if series and series.version > 1 else ''} "
                    f"from <code>{escape(origin)}</code></p>")
    if series is not None and series.cover is not None:
        head.append(f"<details><summary>Cover letter: {escape(series.cover.subject)}</summary>"
                    f"<pre>{escape(series.cover.body)}</pre></details>")
    if series is not None and series.warnings:
        head.append("<ul>" + "".join(f'<li class="sev-warning">{escape(w)}</li>' for w in series.warnings)
                    + "</ul>")
    table = ('<table class="sum"><tr><th>#</th><th>patch</th><th>status</th><th>hunks placed</th>'
             "<th>doubtful</th><th>adapted</th><th>findings</th></tr>" + "".join(rows) + "</table>")
    sections = "\n".join(render_patch_section(i, total, r) for i, r in enumerate(results, 1))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(head) + "\n" + table + "\n" + sections
            + f"\n<footer>generated by backport {__version__}</footer>\n</body>\n</html>\n")

