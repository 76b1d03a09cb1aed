"""Shared pytest options. ``--update-golden`` rewrites tests/golden/* from the current output."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="regenerate the golden files under tests/golden/ instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def no_configured_cap(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """No --cache-max, env or git config from the machine leaks into the cache tests."""
    from backport import cache

    cache.configure(None)
    monkeypatch.delenv(cache.ENV_MAX, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    yield
    cache.configure(None)


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _private_cache(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _session_cache):
    """The default run keeps its indexes, build dirs and history caches out of the user's
    ~/.cache (slow tests keep using it: they reuse the warm index of a whole kernel tree)."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("XDG_CACHE_HOME", str(_session_cache))
    yield
