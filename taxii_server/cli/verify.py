"""``atlas-taxii verify``: check a signed bundle, and say exactly what failed.

::

    atlas-taxii verify bundle.json                         # bundle.json.jws, configured keys
    atlas-taxii verify bundle.json --jwks https://taxii.example.org/taxii2/jwks.json
    atlas-taxii verify bundle.json --jwks community.jwks --sig evidence.jws
    atlas-taxii verify pulled.json --sig artifact--…        # a revision signed by publish --sign

The keys are those of ``--jwks`` (a JWK Set file or URL), else those the
configuration trusts (``[[trusted_keys]]`` of ``--config``/``$ATLAS_TAXII_CONFIG``).
``--sig`` defaults to ``BUNDLE.jws``; given an ``artifact--`` id, the signature is that
artifact of the bundle (``publish --sign`` stores one per revision) and the signed
objects are picked out of the bundle, which may hold more.

Prints the verdict: who signed, when, with which key, how many objects, the custody
record of a pulled export; or one line per failure (the object changed, added or
removed, an unknown kid, a wrong key, an expired or revoked key).  Exit status: 0
valid; 1 not valid; 2 bad input (a file missing or not JSON, no keys to verify with).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from taxii_server.cli.errors import EXIT_FAILED, CommandError, guarded

if TYPE_CHECKING:
    from converters.signing import KeySet, Verdict

__all__ = ["configure"]

_JWKS_TIMEOUT = 30.0


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii verify``."""
    parser.add_argument("bundle", metavar="BUNDLE", help="the signed STIX bundle (JSON)")
    parser.add_argument(
        "--jwks",
        metavar="FILE|URL",
        help="the trusted keys: a JWK Set or one JWK (default: [[trusted_keys]] of --config)",
    )
    parser.add_argument(
        "--sig",
        metavar="FILE|ARTIFACT",
        help="the signature: a .jws file (default BUNDLE.jws) or an artifact id in BUNDLE",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration whose trusted keys to use (default: $ATLAS_TAXII_CONFIG)",
    )
    parser.set_defaults(run=guarded(_run))


def _read_json(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise CommandError(f"cannot read {what} {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise CommandError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None


def _keys(args: argparse.Namespace) -> KeySet:
    from converters.signing import KeySet, KeySetError

    source = args.jwks
    if source is None:
        from taxii_server.settings import load_settings
        from taxii_server.trust import trusted_keys

        keys = trusted_keys(load_settings(args.config))
        if not keys.keys:
            raise CommandError(
                "no keys to verify with: give --jwks FILE|URL, or list [[trusted_keys]] in "
                "the configuration (--config)"
            )
        return keys
    if source.startswith(("http://", "https://")):
        data = _fetch(source)
    else:
        data = _read_json(Path(source), "the JWK Set")
    try:
        return KeySet.from_jwks(data, source)
    except KeySetError as exc:
        raise CommandError(str(exc)) from None


def _fetch(url: str) -> Any:
    import requests

    try:
        response = requests.get(url, timeout=_JWKS_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except requests.RequestException as exc:
        raise CommandError(f"cannot fetch the JWK Set {url}: {exc}", EXIT_FAILED) from None
    except ValueError:
        raise CommandError(f"{url}: the answer is not JSON", EXIT_FAILED) from None


def _print(name: str, verdict: Verdict) -> None:
    from converters.signing import rfc3339

    for problem in verdict.problems:
        print(problem)
    for note in verdict.notes:
        print(f"note: {note}")
    if not verdict.valid:
        print(f"{name}: NOT VALID ({len(verdict.problems)} problem(s))")
        return
    print(
        f"{name}: valid: {verdict.objects} objects signed by {verdict.identity} "
        f"with key {verdict.kid} at {rfc3339(verdict.signed_at)}"
    )
    custody = verdict.custody
    if custody:
        source = custody.get("source", {})
        received = custody.get("date_added", {})
        print(
            f"custody: pulled from {source.get('collection_title')!r} "
            f"({source.get('collection_id')}) at {source.get('api_root')} by "
            f"{custody.get('pulled_by', {}).get('account')}, completed "
            f"{custody.get('completed')}; date_added {received.get('first')} .. "
            f"{received.get('last')} in {len(custody.get('pages', []))} page(s)"
        )


def _run(args: argparse.Namespace) -> int:
    from converters.signing import (
        SignatureFormatError,
        read_signature,
        signature_from_artifact,
        verify_bundle,
    )

    path = Path(args.bundle)
    bundle = _read_json(path, "the bundle")
    if not isinstance(bundle, dict):
        raise CommandError(f"{path}: not a STIX bundle (expected a JSON object)")
    select = bool(args.sig and args.sig.startswith("artifact--"))
    if select:
        try:
            data, where = signature_from_artifact(bundle, args.sig), args.sig
        except SignatureFormatError as exc:
            raise CommandError(str(exc)) from None
    else:
        sig = Path(args.sig or f"{path}.jws")
        try:
            data, where = sig.read_bytes(), str(sig)
        except OSError as exc:
            raise CommandError(f"cannot read the signature {sig}: {exc.strerror}") from None
    keys = _keys(args)
    try:
        signature = read_signature(data, where)
        verdict = verify_bundle(bundle, signature, keys, select=select)
    except SignatureFormatError as exc:
        print(f"{path}: NOT VALID: {exc}")
        return EXIT_FAILED
    _print(str(path), verdict)
    return 0 if verdict.valid else EXIT_FAILED
