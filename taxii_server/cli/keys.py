"""``atlas-taxii keys``: the Ed25519 keys that sign bundles.

::

    atlas-taxii keys create --out signer.jwk --name "Example Bank CERT"
    atlas-taxii keys create --out signer.jwk --identity identity--… --passphrase
    atlas-taxii keys public signer.jwk            # the public JWK, to hand to partners
    atlas-taxii keys public signer.jwk --toml     # a [[trusted_keys]] entry

The key file is created with mode 0600 and never overwritten.  A key signs for one
STIX identity: ``--identity`` names it, or ``--name`` derives the organisation
identity the default mapping gives that name (so a package whose first author is
that organisation and a key created for it agree).  ``--passphrase`` (prompted twice)
or ``--passphrase-stdin`` encrypts the file (see :mod:`converters.signing.keys`);
the commands that sign then ask for it on the terminal, or read
``$ATLAS_TAXII_KEY_PASSPHRASE``.

Exit status: 0 done; 2 bad input (file exists, unreadable key, wrong passphrase).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import orjson

from taxii_server.cli.errors import CommandError, guarded
from taxii_server.cli.passwords import prompt_password, read_password_stdin
from taxii_server.cli.signing_options import key_passphrase, translated_key_errors

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii keys``."""
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser(
        "create",
        help="make a new Ed25519 signing key",
        description="Make a new Ed25519 signing key for an identity and write it to a file "
        "(created 0600; with --passphrase, encrypted).",
    )
    create.add_argument("--out", required=True, metavar="FILE", help="the private key file")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--identity", metavar="ID", help="the STIX identity id the key signs for")
    who.add_argument(
        "--name", metavar="ORGANISATION", help="sign for the organisation identity of this name"
    )
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--passphrase", action="store_true", help="encrypt the key file (prompted twice)"
    )
    secret.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="encrypt the key file with the first line of standard input",
    )
    create.set_defaults(run=guarded(_create))
    public = sub.add_parser(
        "public",
        help="print the public JWK of a key file",
        description="Print the public JWK of a key file, to hand to verifiers or to list "
        "under [[trusted_keys]] (--toml).",
    )
    public.add_argument("key", metavar="FILE", help="a key file (private or public)")
    public.add_argument(
        "--toml", action="store_true", help="as a [[trusted_keys]] entry of the configuration"
    )
    public.set_defaults(run=guarded(_public))


def _create(args: argparse.Namespace) -> int:
    from converters.ids import object_id
    from converters.signing import create_key, encode_key_file

    out = Path(args.out)
    identity = args.identity or object_id("identity", "organisation", args.name)
    passphrase = None
    if args.passphrase:
        passphrase = prompt_password("the key file", noun="passphrase")
    elif args.passphrase_stdin:
        passphrase = read_password_stdin(noun="passphrase")
    with translated_key_errors():
        key = create_key(identity)
    data = encode_key_file(key, passphrase)
    try:
        # Created 0600 from the start; O_EXCL: never replace a key (its signatures would
        # become unverifiable).
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except FileExistsError:
        raise CommandError(f"{out} exists; a key file is never overwritten") from None
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror}") from None
    protected = ", passphrase-protected" if passphrase else ""
    print(f"{out}: Ed25519 key {key.kid} for {identity}{protected}", file=sys.stderr)
    return 0


def _public(args: argparse.Namespace) -> int:
    from converters.signing import PublicKey, read_key_file

    with translated_key_errors():
        key = read_key_file(args.key, key_passphrase)
    public = key if isinstance(key, PublicKey) else key.public()
    jwk = public.to_jwk()
    if args.toml:
        members = ", ".join(f"{name} = {orjson.dumps(jwk[name]).decode()}" for name in jwk)
        print(f"[[trusted_keys]]\njwk = {{ {members} }}")
    else:
        print(orjson.dumps(jwk, option=orjson.OPT_INDENT_2).decode())
    return 0
