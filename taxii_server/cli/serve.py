"""``atlas-taxii serve``: run the TAXII 2.1 server under gunicorn.

Start-up happens once, in the gunicorn master, before any worker exists: the store is
opened with migrations (an empty database gets the schema; a database written by a
newer atlas-taxii is refused with a message), the API roots and collections declared in
the configuration are ensured (:mod:`taxii_server.bootstrap`), the demo is prepared when
asked for, and the application is built once as a dry run so configuration mistakes are
reported here rather than as a worker that fails to boot.  Then every worker builds its
own application and store connection.

Without ``--config`` and without ``$ATLAS_TAXII_CONFIG`` there is nothing to serve but
the demo, so the demo starts (:mod:`taxii_server.demo`).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from taxii_server.cli.errors import EXIT_FAILED, CommandError, guarded
from taxii_server.cli.launcher import DEFAULT_THREADS, WORKER_CLASSES, ServerOptions
from taxii_server.settings import ENV_PREFIX, Settings, load_settings

if TYPE_CHECKING:
    from taxii_server.bootstrap import BootstrapReport
    from taxii_server.demo import Demo

__all__ = ["configure", "prepare_store", "public_base_url"]


def public_base_url(settings: Settings, *, tls: bool = False) -> str:
    """The URL a client on this machine uses (``0.0.0.0`` is not an address to call)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        settings.host, settings.host
    )
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{settings.port}"


def prepare_store(
    settings: Settings, *, demo_bundles: list[Path] | None = None
) -> BootstrapReport | Demo:
    """Open the store (migrating it), ensure what the configuration declares (and, when
    ``demo_bundles`` is given, set up the demo with them), and build the application
    once to check it; close the store again before gunicorn forks.

    The STIX validator is compiled here too, once: every worker inherits it through
    ``fork`` instead of compiling it on its first POST, and an installation whose OASIS
    schemas cannot be read stops the start with the reason.
    """
    from converters.validation import ValidationSetupError, get_validator
    from taxii_server.app import create_app
    from taxii_server.bootstrap import ensure_declared
    from taxii_server.demo import set_up_demo
    from taxii_server.storage import open_storage

    storage = open_storage(settings.storage_url, migrate=True)
    try:
        prepared = (
            set_up_demo(storage, settings, demo_bundles)
            if demo_bundles is not None
            else ensure_declared(storage, settings)
        )
        create_app(settings, storage=storage)
        get_validator()
    except ValidationSetupError as exc:
        raise CommandError(f"cannot validate STIX: {exc}", EXIT_FAILED) from exc
    finally:
        storage.close()
    return prepared


def _check_port_free(settings: Settings) -> None:
    """Refuse early, before printing credentials, when the address is taken: gunicorn
    would otherwise retry for several seconds and then exit with a log line."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option gunicorn sets, so a port in TIME_WAIT does not count as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                "choose another with --port or server.port"
            ) from exc


def _settings(args: argparse.Namespace, demo: bool) -> Settings:
    overrides = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("workers", args.workers))
        if value is not None
    }
    if demo:
        from taxii_server.demo import demo_settings

        return demo_settings(args.demo_dir, **overrides)
    return load_settings(args.config, **overrides)


def _run(args: argparse.Namespace) -> int:
    from taxii_server.app import create_app
    from taxii_server.cli import launcher
    from taxii_server.cli.banner import demo_banner, server_banner
    from taxii_server.demo import Demo, fixture_bundles

    demo = args.demo or (args.config is None and not os.environ.get(f"{ENV_PREFIX}CONFIG"))
    if args.demo and os.environ.get(f"{ENV_PREFIX}CONFIG"):
        print(
            f"atlas-taxii: note: --demo ignores ${ENV_PREFIX}CONFIG and uses {args.demo_dir}/",
            file=sys.stderr,
        )
    if (args.certfile is None) != (args.keyfile is None):
        raise CommandError("--certfile and --keyfile go together")
    settings = _settings(args, demo)
    options = ServerOptions(
        worker_class=args.worker_class,
        threads=args.threads,
        access_log=None if args.no_access_log else "-",
        certfile=args.certfile,
        keyfile=args.keyfile,
    )
    _check_port_free(settings)
    bundles: list[Path] | None = None
    if demo:
        try:
            args.demo_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot create the demo folder {args.demo_dir}: {exc}") from exc
        bundles = fixture_bundles()
    prepared = prepare_store(settings, demo_bundles=bundles)
    base_url = public_base_url(settings, tls=args.certfile is not None)
    if isinstance(prepared, Demo):
        print(
            demo_banner(prepared, base_url, args.demo_dir, workbench=settings.ui_enabled),
            flush=True,
        )
    else:
        print(server_banner(prepared, settings, base_url), flush=True)
    launcher.run(settings, lambda: create_app(settings), options)
    return 0


#: Most threads one gthread worker may run.
_MOST_THREADS = 256


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _threads(text: str) -> int:
    value = _positive(text)
    if value > _MOST_THREADS:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {_MOST_THREADS}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``serve``'s options."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration file (default: $ATLAS_TAXII_CONFIG; neither: the demo)",
    )
    source.add_argument(
        "--demo",
        action="store_true",
        help="serve the demo: a SQLite file with demo data and demo users",
    )
    parser.add_argument(
        "--demo-dir",
        type=Path,
        default=Path("atlas-demo"),
        metavar="DIR",
        help="where the demo keeps its database (default: ./atlas-demo)",
    )
    parser.add_argument("--host", metavar="H", help="address to listen on (server.host)")
    parser.add_argument("--port", type=_positive, metavar="P", help="port (server.port)")
    parser.add_argument(
        "--workers", type=_positive, metavar="N", help="worker processes (server.workers)"
    )
    parser.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        default="gthread",
        help="gunicorn worker class (default: gthread; docs/server.md says why)",
    )
    parser.add_argument(
        "--threads",
        type=_threads,
        default=DEFAULT_THREADS,
        metavar="N",
        help=f"threads per gthread worker (default: {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log each request to stderr"
    )
    parser.add_argument("--certfile", metavar="FILE", help="serve HTTPS with this certificate")
    parser.add_argument("--keyfile", metavar="FILE", help="the certificate's private key")
    parser.set_defaults(run=guarded(_run))
