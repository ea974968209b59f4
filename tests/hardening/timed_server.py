"""``python -m tests.hardening.timed_server CONFIG SECONDS``: ``atlas-taxii serve``'s
launcher with a short client timeout, so a test sees stalled clients dropped in
seconds rather than the production half-minute.  The store must be prepared already
(:func:`tests.hardening.live.deploy` does)."""

from __future__ import annotations

import sys

from taxii_server.app import create_app
from taxii_server.cli import launcher
from taxii_server.settings import load_settings


def main(argv: list[str]) -> None:
    settings = load_settings(argv[0])
    options = launcher.ServerOptions(access_log=None, client_timeout=float(argv[1]))
    launcher.run(settings, lambda: create_app(settings), options)


if __name__ == "__main__":
    main(sys.argv[1:])
