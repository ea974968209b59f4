"""Run a WSGI application under gunicorn from Python, with atlas-taxii's defaults.

gunicorn is driven through its documented embedding API (a small
``gunicorn.app.base.BaseApplication`` subclass) rather than its command line, so the
settings object we already loaded and validated is handed to every worker as is.

Each worker builds its own application (``preload_app`` stays off): a database
connection opened in the master and inherited across ``fork`` would be shared by
several processes, which neither SQLite nor psycopg allows.

Worker class: ``gthread`` (threads in each worker process) by default.  TAXII clients
poll over keep-alive connections and POST envelopes of up to ``max_content_length``;
a ``sync`` worker holds one connection at a time, so one slow client (a SIEM on a slow
link reading a 10 MB page, or a partner uploading one) blocks a whole process, while a
``gthread`` worker keeps serving others, and ours (:mod:`.workers`) reads request heads
in its event loop, so idle and slow clients do not hold its threads either.  The
figures are in docs/server.md and come from ``python -m benchmarks serve``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from taxii_server.cli.access_log import AccessLogger
from taxii_server.cli.memory import after_post
from taxii_server.cli.workers import CLIENT_TIMEOUT, thread_worker
from taxii_server.gc_pause import freeze_start_up
from taxii_server.settings import Settings

__all__ = ["DEFAULT_THREADS", "ServerOptions", "WORKER_CLASSES", "gunicorn_options", "run"]

WORKER_CLASSES = ("gthread", "sync")

#: Threads per gthread worker: enough to overlap database waits and slow clients;
#: more mostly adds contention on the GIL for JSON work.
DEFAULT_THREADS = 4

# Longest request line gunicorn accepts (its maximum): a match[id] list of STIX ids
# (~60 characters each) overflows the default 4094 bytes after some 60 ids.
_MAX_REQUEST_LINE = 8190

# A RAM filesystem for the workers' heartbeat files, where the system has one (gunicorn
# makes each with mkstemp and unlinks it at once, so a shared directory is safe).
_SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 (see above)

WsgiApp = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How to run gunicorn, beyond what :class:`~taxii_server.settings.Settings` holds."""

    worker_class: str = "gthread"
    threads: int = DEFAULT_THREADS
    access_log: str | None = "-"
    certfile: str | None = None
    keyfile: str | None = None
    #: Seconds a gthread worker waits for a client's next bytes (see workers.py).
    client_timeout: float = CLIENT_TIMEOUT
    #: Give the C allocator's free memory back after each POST (see memory.py).
    release_memory: bool = True


def _bind_address(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_options(settings: Settings, options: ServerOptions) -> dict[str, Any]:
    """The gunicorn settings for ``settings`` and ``options``."""
    values: dict[str, Any] = {
        "bind": [_bind_address(settings.host, settings.port)],
        "workers": settings.workers,
        # gthread: ours, whose reads from a stalled client time out (workers.py).
        "worker_class": (
            thread_worker(options.client_timeout)
            if options.worker_class == "gthread"
            else options.worker_class
        ),
        "threads": options.threads if options.worker_class == "gthread" else 1,
        "timeout": settings.request_timeout,
        "graceful_timeout": 30,
        # Clients poll over keep-alive; a little longer than gunicorn's 2 s default
        # saves a TCP (and TLS) handshake for a client fetching page after page.
        "keepalive": 5,
        "limit_request_line": _MAX_REQUEST_LINE,
        # X-Forwarded-* are honoured in one place only: the app's ProxyFix, for the
        # number of proxies `server.trusted_proxies` declares.  gunicorn would otherwise
        # also believe X-Forwarded-Proto from any local client.
        "forwarded_allow_ips": "",
        "preload_app": False,
        "proc_name": "atlas-taxii",
        "errorlog": "-",
        "loglevel": "info",
        # The authenticated user, never a secret, every field escaped (access_log.py).
        "logger_class": AccessLogger,
        # gunicorn >= 25 opens a control socket at one fixed path per user by default:
        # two servers on one host would fight over it.  We do not use it.
        "control_socket_disable": True,
    }
    if _SHARED_MEMORY.is_dir():
        # Each worker signals it is alive by touching a file, at every turn of its
        # event loop (several times a request).  On a disk filesystem that is an inode
        # update queued behind the store's fsyncs: 4% of a worker's time under
        # validated ingest (py-spy); in RAM it costs nothing (gunicorn's advice).
        values["worker_tmp_dir"] = str(_SHARED_MEMORY)
    if options.release_memory:
        values["post_request"] = after_post
    # The worker's start-up objects out of the collector's sight (gc_pause.py).
    values["post_worker_init"] = _after_worker_init
    if options.access_log is not None:
        values["accesslog"] = options.access_log
    if options.certfile is not None:
        values["certfile"] = options.certfile
        values["keyfile"] = options.keyfile
    return values


def _after_worker_init(worker: Any) -> None:
    """gunicorn's ``post_worker_init`` hook: the worker has built its application."""
    freeze_start_up()


class _Application(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's embedding hook: fixed options, an application built per worker."""

    def __init__(self, options: Mapping[str, Any], load_app: Callable[[], WsgiApp]) -> None:
        self._options = dict(options)
        self._load_app = load_app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        return self._load_app()


def run(
    settings: Settings,
    load_app: Callable[[], WsgiApp],
    options: ServerOptions | None = None,
) -> None:
    """Serve the application ``load_app`` builds (once in each worker) until stopped.

    Blocks; returns when gunicorn's master exits (SIGTERM/SIGINT stop it gracefully).
    """
    _Application(gunicorn_options(settings, options or ServerOptions()), load_app).run()
