"""``--sign KEY`` for the commands that write or publish bundles (``convert``,
``publish``, ``pull``): loading the key and writing ``FILE.jws`` beside ``FILE``.

A passphrase-protected key is unlocked before any work is done, from
``$ATLAS_TAXII_KEY_PASSPHRASE`` or, on a terminal, a prompt (standard input may
already carry a password: ``pull --password-stdin``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from taxii_server.cli.errors import EXIT_FAILED, CommandError
from taxii_server.files import write_atomically

if TYPE_CHECKING:
    from converters.signing import SigningKey

__all__ = [
    "PASSPHRASE_VARIABLE",
    "add_sign_argument",
    "key_passphrase",
    "load_signer",
    "signature_document",
    "translated_key_errors",
    "write_signed",
]

PASSPHRASE_VARIABLE = "ATLAS_TAXII_KEY_PASSPHRASE"  # noqa: S105 - a variable's name


def add_sign_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--sign KEY``."""
    parser.add_argument(
        "--sign",
        metavar="KEY",
        help=f"sign {what} with this key file (atlas-taxii keys create)",
    )


def key_passphrase() -> str:
    """The passphrase of a protected key file: the environment, else the terminal."""
    if PASSPHRASE_VARIABLE in os.environ:
        return os.environ[PASSPHRASE_VARIABLE]
    if not sys.stdin.isatty():
        raise CommandError(
            f"the key file is passphrase-protected and there is no terminal to ask on; "
            f"set {PASSPHRASE_VARIABLE}"
        )
    return getpass.getpass("Key passphrase: ")


@contextmanager
def translated_key_errors() -> Iterator[None]:
    """A signing error (bad key file, wrong passphrase) as a :class:`CommandError`."""
    from converters.signing import SigningError

    try:
        yield
    except SigningError as exc:
        raise CommandError(str(exc)) from None


def load_signer(path: str | None) -> SigningKey | None:
    """The private key of ``--sign`` (``None`` without it)."""
    if path is None:
        return None
    from converters.signing import SigningKey, read_key_file

    with translated_key_errors():
        key = read_key_file(path, key_passphrase)
    if not isinstance(key, SigningKey):
        raise CommandError(f"{path} holds a public key; signing needs the private key file")
    return key


def signature_document(
    bundle: Mapping[str, Any],
    key: SigningKey,
    custody: Mapping[str, Any] | None = None,
    *,
    indent: bool = True,
) -> bytes:
    """The ``.jws`` document of ``bundle``, signed now (indented for a file, compact
    inside a STIX object)."""
    from converters.signing import SigningError, sign_bundle

    try:
        document = sign_bundle(bundle, key, at=int(time.time()), custody=custody)
    except SigningError as exc:
        raise CommandError(f"cannot sign: {exc}", EXIT_FAILED) from None
    if not indent:
        return orjson.dumps(document)
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def write_signed(
    output: Path,
    bundle: Mapping[str, Any],
    key: SigningKey,
    custody: Mapping[str, Any] | None = None,
) -> Path:
    """Sign ``bundle`` (already written to ``output``) into ``output.jws``."""
    path = output.with_name(f"{output.name}.jws")
    data = signature_document(bundle, key, custody)
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    return path
