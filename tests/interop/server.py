"""``python -m tests.interop.server CONFIG``: the production launcher, plus one header.

Serves :func:`taxii_server.app.create_app` exactly as ``atlas-taxii serve`` does
(gunicorn, gthread workers, one application per worker), wrapped in a middleware that
adds ``X-Test-Worker-Pid`` to every response so tests can prove that a ``next`` token
minted by one worker is honoured by another.  The header exists only here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from taxii_server.app import create_app
from taxii_server.cli import launcher
from taxii_server.settings import load_settings

WORKER_HEADER = "X-Test-Worker-Pid"

StartResponse = Callable[..., Any]


def _with_worker_pid(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            return start_response(status, [*headers, (WORKER_HEADER, str(os.getpid()))], *exc_info)

        return app(environ, start)

    return wrapped


def main(argv: list[str]) -> None:
    settings = load_settings(argv[0])
    launcher.run(
        settings,
        lambda: _with_worker_pid(create_app(settings)),
        launcher.ServerOptions(access_log=None),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
