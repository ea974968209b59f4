"""The collector pause of POST processing: counted across threads, restored exactly."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from taxii_server import gc_pause
from taxii_server.cli import launcher
from taxii_server.gc_pause import gc_paused
from taxii_server.settings import Settings


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_running_again_after() -> None:
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_resumes_the_collector() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_requests_resume_it_when_the_last_one_ends() -> None:
    gc.enable()
    first_in, second_in, first_may_leave = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(10)
            first_may_leave.wait(10)
        seen.append(gc.isenabled())  # the second is still inside

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with gc_paused():
        second_in.set()
        first_may_leave.set()
        thread.join(10)
        assert not gc.isenabled()
    assert seen == [False]
    assert gc.isenabled()


def test_freezing_start_up_takes_the_live_objects_out_of_collections() -> None:
    try:
        gc_pause.freeze_start_up()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_served_worker_freezes_its_start_up_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[bool] = []
    monkeypatch.setattr(launcher, "freeze_start_up", lambda: frozen.append(True))
    options = launcher.gunicorn_options(Settings(), launcher.ServerOptions())
    options["post_worker_init"](None)
    assert frozen == [True]
