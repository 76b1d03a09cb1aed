"""Writing a port's outputs (stage: render, the only part of it that does I/O).

Inputs: the PortResults of a series, the Series, an output directory and the porter's
Signed-off-by. Outputs, written atomically (temp file + ``os.replace``) into the directory:
``NNNN-subject.patch`` per patch with something placed (``git am DIR/*.patch`` applies
them), ``series.mbox`` (all of them in one mbox), ``report.json``, ``checklist.md``,
``report.html`` and, when hunks were left out, ``leftovers.txt``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..model import PortResult, Series
from .checklist import render_checklist
from .html import render_html
from .mbox import MAGIC_FROM, find_signoff, render_patch_mail
from .note import render_leftovers
from .report_json import render_json

# 0003-arm64-ftrace-Add-ftrace-direct-call-support.patch
RE_PATCH_NAME = re.compile(r"^\d{4}-.*\.patch$")
# runs of characters git format-patch would not keep in a file name: "arm64: ftrace" -> "arm64-ftrace"
RE_SLUG_JUNK = re.compile(r"[^A-Za-z0-9._]+")
SLUG_MAX = 52


def patch_file_name(index: int, subject: str) -> str:
    """``NNNN-subject.patch`` the way git format-patch names it."""
    slug = RE_SLUG_JUNK.sub("-", subject).strip("-.")[:SLUG_MAX].rstrip("-.") or "patch"
    return f"{index:04d}-{slug}.patch"


def write_atomic(path: Path, text: str, *, errors: str = "surrogateescape") -> str:
    """Write ``text`` as UTF-8 to ``path`` through a temp file in the same directory."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", errors))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return str(path)


def _is_ours(path: Path) -> bool:
    """An NNNN-*.patch written by an earlier run (safe to remove when it is no longer produced)."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return head.startswith(MAGIC_FROM) and "\n-- \nbackport " in head


def write_outputs(results: Sequence[PortResult], series: Series, out_dir: str, *,
                  signoff: str | None = None, repo: str | None = None) -> tuple[str, ...]:
    """Write every output file into ``out_dir``; return their paths.

    ``signoff``: None adds no Signed-off-by; "" takes ``user.name <user.email>`` from the git
    config of ``repo`` (the target; default: the current directory), falling back to the
    current directory's; anything else is used as written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if signoff == "":
        signoff = (find_signoff(repo) if repo else None) or find_signoff()
    written: list[str] = []
    mails: list[str] = []
    total = len(results)
    names = set()
    # a plain diff names no author: the porter becomes it (git am needs one)
    fallback = signoff or (find_signoff(repo) if any(not r.patch.author for r in results) else None)
    for i, r in enumerate(results, 1):
        mail = render_patch_mail(r, index=i, total=total, signoff=signoff, fallback_author=fallback)
        if not mail:
            continue
        name = patch_file_name(i, r.patch.subject)
        names.add(name)
        written.append(write_atomic(out / name, mail))
        mails.append(mail)
    for stale in sorted(out.iterdir()):
        if RE_PATCH_NAME.match(stale.name) and stale.name not in names and _is_ours(stale):
            stale.unlink()
    if mails:
        written.append(write_atomic(out / "series.mbox", "".join(mails)))
    written.append(write_atomic(out / "report.json", render_json(results, series), errors="backslashreplace"))
    written.append(write_atomic(out / "checklist.md", render_checklist(results, series), errors="backslashreplace"))
    written.append(write_atomic(out / "report.html", render_html(results, series), errors="backslashreplace"))
    leftovers = []
    for i, r in enumerate(results, 1):
        text = render_leftovers(r)
        if text:
            leftovers.append(f"### [{i}/{total}] {r.patch.subject}\n{text}")
    if leftovers:
        written.append(write_atomic(out / "leftovers.txt", "\n".join(leftovers)))
    elif (out / "leftovers.txt").exists():
        (out / "leftovers.txt").unlink()
    return tuple(written)
