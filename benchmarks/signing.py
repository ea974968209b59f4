"""``python -m benchmarks signing``: signing and verifying a large export.

What an analyst does with ``pull --sign`` and what the receiving side does with
``atlas-taxii verify``: a bundle of ``--objects`` generated objects (the ``taxii``
benchmark's data set) is signed and verified in one process.  Rows, best of
``--repeat`` runs each:

* ``canonical form (floor)``: ``rfc8785.dumps`` of the bundle and its SHA-256, the
  step every signer and verifier of this format takes, whatever its code;
* ``sign``: :func:`converters.signing.sign_bundle` (canonical form once, a hash per
  object, the manifest, two Ed25519 signatures);
* ``verify``: :func:`converters.signing.verify_bundle` of the valid bundle;
* ``verify, one object changed``: the same, when the verdict must name the object;
* ``jwcrypto verify (peer)``: the bundle signature alone checked by jwcrypto on
  ``rfc8785`` bytes, as the documented off-the-shelf recipe does.

Also the sizes of the bundle and of its ``.jws``.  Results go to
``benchmarks/results/signing.json``; compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import rfc8785

from benchmarks.workload import generate
from converters.signing import (
    KeySet,
    create_key,
    read_signature,
    sign_bundle,
    verify_bundle,
)

RESULTS = Path(__file__).resolve().parent / "results" / "signing.json"
_IDENTITY = "identity--54c19270-b4cb-576f-8a6f-fee31dd79748"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this suite's arguments."""
    parser.add_argument("--objects", type=int, default=100_000, help="objects in the bundle")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (best kept)")
    parser.add_argument("--seed", type=int, default=7)
    parser.set_defaults(run=run)


def _best(repeat: int, work: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def run(args: argparse.Namespace) -> int:
    """Run the suite and print one line per row."""
    from jwcrypto import jwk, jws

    objects = [orjson.loads(body) for body in generate(args.objects, args.seed).bodies]
    bundle = {"type": "bundle", "id": "bundle--8e1c6f0a-2b3d-4c5e-9f7a-1b2c3d4e5f6a"}
    bundle["objects"] = objects  # type: ignore[assignment]
    key = create_key(_IDENTITY)
    keys = KeySet((key.public(),))
    document = sign_bundle(bundle, key, at=int(time.time()))
    data = orjson.dumps(document)
    signature = read_signature(data, "bench.jws")
    changed = {**bundle, "objects": [*objects[:-1], {**objects[-1], "x_changed": True}]}
    assert verify_bundle(bundle, signature, keys).valid
    assert len(verify_bundle(changed, signature, keys).problems) == 1
    public = jwk.JWK(**{k: v for k, v in key.public().to_jwk().items() if k != "stix_identity"})

    def peer() -> None:
        token = jws.JWS()
        token.deserialize(data.decode())
        token.verify(public, detached_payload=rfc8785.dumps(bundle))

    rows = {
        "canonical form (floor)": lambda: hashlib.sha256(rfc8785.dumps(bundle)).hexdigest(),
        "sign": lambda: sign_bundle(bundle, key, at=0),
        "verify": lambda: verify_bundle(bundle, signature, keys),
        "verify, one object changed": lambda: verify_bundle(changed, signature, keys),
        "jwcrypto verify (peer)": peer,
    }
    count = len(objects)
    results: dict[str, Any] = {
        "objects": count,
        "bundle_bytes": len(orjson.dumps(bundle)),
        "jws_bytes": len(data),
        "seconds": {},
    }
    print(f"{count:,} objects; bundle {results['bundle_bytes']:,} B; .jws {len(data):,} B")
    for name, work in rows.items():
        seconds = _best(args.repeat, work)
        results["seconds"][name] = seconds
        print(f"{name:<28} {seconds:8.2f} s  {count / seconds:>10,.0f} objects/s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0
