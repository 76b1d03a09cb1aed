"""The introducing-commit search on a real multi-release history: one commit per Debian
release (bench/upstream_bench.py --build makes it: v6.1.176, v6.1.187, v6.12.107, v6.12.117),
names found in the right release, a warm answer from the on-disk cache in well under 2 s."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from backport import upstream
from backport.upstream import find_introducing_commit, release_chain

HISTORY = Path(os.environ.get("BACKPORT_HISTORY") or Path(__file__).resolve().parents[2] / "scratch" / "linux-hist")

pytestmark = pytest.mark.slow


def test_release_bisect_on_debian_history(tmp_path: Path) -> None:
    if not (HISTORY / ".git").is_dir():
        pytest.fail(f"no history at {HISTORY}: run bench/upstream_bench.py --build (or set BACKPORT_HISTORY)")
    repo = str(HISTORY)
    cache = str(tmp_path / "cache")
    tags = [t for t, _ in release_chain(repo, "v6.12.117", upstream.history_cache(repo, cache))]
    assert tags[:4] == ["v6.1.176", "v6.1.187", "v6.12.107", "v6.12.117"]
    # a static helper of kernel/bpf/btf.c that 6.12 has and 6.1 lacks: the 6.12.107 release
    c = find_introducing_commit(repo, "btf_repeat_fields", rev="v6.12.117", cache_dir=cache,
                                near=["kernel/bpf/btf.c"])
    assert c is not None and c.subject.startswith("Linux v6.12.107")
    assert c.paths == ("kernel/bpf/btf.c",)  # a release-sized commit is read only there
    old = find_introducing_commit(repo, "kmalloc_array", rev="v6.12.117", cache_dir=cache, near=["mm/slab.h"])
    assert old is not None and old.subject.startswith("Linux v6.1.176")
    upstream._CACHES.clear()
    t0 = time.monotonic()
    again = find_introducing_commit(repo, "btf_repeat_fields", rev="v6.12.117", cache_dir=cache,
                                    near=["kernel/bpf/btf.c"])
    assert again == c and time.monotonic() - t0 < 2.0
