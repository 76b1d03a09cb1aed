"""Target index, .config (stage: target): a vendor kernel configuration read into a dict.

Inputs: the path of a ``.config``. Outputs: ``{"FOO": "y", "BAR": "n", ...}`` for
TreeIndex.is_built/config_value, or a ParseError naming the first line that is neither an
assignment nor a ``# CONFIG_X is not set``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ParseError
from ..model import SourceRef

# CONFIG_FOO=y   /   # CONFIG_BAR is not set
RE_DOTCONFIG = re.compile(r"^(?:(CONFIG_\w+)=(.*)|# (CONFIG_\w+) is not set)\s*$")


def load_dotconfig(path: str) -> dict[str, str]:
    """``{"FOO": "y", "BAR": "n", ...}`` from a .config; ParseError on a line that is neither."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise ParseError(f"cannot read config: {e.strerror}", SourceRef(path)) from e
    out: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or (s.startswith("#") and not RE_DOTCONFIG.match(s)):
            continue
        m = RE_DOTCONFIG.match(s)
        if not m:
            raise ParseError(f"not a .config line: {line[:60]!r}", SourceRef(path, i))
        if m.group(1):
            out[m.group(1)[7:]] = m.group(2).strip('"')
        else:
            out[m.group(3)[7:]] = "n"
    return out

