"""After a POST a worker gives the C allocator's free memory back (issue 9, item 5)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from taxii_server.cli import memory
from taxii_server.cli.launcher import ServerOptions, gunicorn_options
from taxii_server.settings import Settings


def test_the_server_releases_memory_after_each_post_unless_told_not_to() -> None:
    assert gunicorn_options(Settings(), ServerOptions())["post_request"] is memory.after_post
    assert "post_request" not in gunicorn_options(Settings(), ServerOptions(release_memory=False))


def test_only_posts_trigger_a_release(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[str] = []
    monkeypatch.setattr(memory, "release_memory", lambda: released.append("yes") or True)
    for method in ("GET", "POST", "DELETE", "POST"):
        memory.after_post(None, SimpleNamespace(method=method), {}, None)
    assert released == ["yes", "yes"]


def test_release_memory_calls_the_c_library_when_it_has_malloc_trim() -> None:
    assert memory.release_memory() is (memory._malloc_trim() is not None)
