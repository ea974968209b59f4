"""``python -m benchmarks.memory_server [--no-release] [--max-requests N] ARGS``: the
``atlas-taxii`` command (ARGS as it takes them) with the memory options
``python -m benchmarks memory`` compares, which the command line does not offer."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from taxii_server.cli import launcher, main


def _with_options(argv: list[str]) -> list[str]:
    """Set launcher options from our own flags; return the rest of ``argv``."""
    release = "--no-release" not in argv
    if not release:
        argv.remove("--no-release")
    gunicorn: dict[str, Any] = {}
    if "--max-requests" in argv:
        at = argv.index("--max-requests")
        most = int(argv[at + 1])
        # gunicorn's restarts, with a tenth as jitter so workers do not restart together.
        gunicorn = {"max_requests": most, "max_requests_jitter": max(1, most // 10)}
        del argv[at : at + 2]
    options_of = launcher.gunicorn_options

    def gunicorn_options(settings: Any, options: Any) -> dict[str, Any]:
        return options_of(settings, dataclasses.replace(options, release_memory=release)) | gunicorn

    launcher.gunicorn_options = gunicorn_options  # run() looks it up when it starts
    return argv


if __name__ == "__main__":
    sys.exit(main(_with_options(sys.argv[1:])))
