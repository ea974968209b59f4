"""``python -m benchmarks convert``: research package to a validated STIX 2.1 bundle.

Generates a seeded research package (``--data-points`` data points, default 10,000:
200 inline, the rest in the CSV side file; a realistic mix of types — domains, URLs,
IPs, e-mail addresses, file hashes, wallets, bank accounts, phone numbers, social
accounts — linked to actors and services, some cited by choke points, a few percent
seen twice so they merge) and measures, in one process:

* ``atlas-taxii``: ``convert_packages`` (read, check, map, validate) plus
  ``serialize_bundle`` — the whole of ``atlas-taxii convert`` but the file write —
  with the time per stage;
* ``stix2 (peer)``: the stix2 library building the same objects the way a Python
  user would (``stix2.Indicator(**properties)``, ``stix2.DomainName(...)``, the
  community SCO classes of stix2extensions, ``stix2.Relationship(...)``), then
  ``Bundle(...).serialize()``.  Its input is our output, so it does none of the
  reading, checking or mapping: it is the cost of building and serialising alone.

Objects per second count every object in the bundle.  Wall and CPU times (of this
process: the machine is shared) are the best of ``--repeat`` runs; peak memory is
measured in a separate run under tracemalloc (which slows it down).  Results go to
``benchmarks/results/convert.json``.  Compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import random
import string
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from bip_utils.bech32 import SegwitBech32Encoder

RESULTS = Path(__file__).resolve().parent / "results" / "convert.json"

_TYPES = [  # (type, share of data points)
    ("domain", 24), ("url", 20), ("ipv4", 7), ("ipv6", 4), ("email", 9), ("file-sha256", 9),
    ("file-md5", 3), ("asn", 2), ("crypto-wallet", 9), ("bank-account", 6), ("phone", 4),
    ("social-account", 3),
]  # fmt: skip
_ROLES = ["c2", "phishing", "payment", "cash-out", "hosting", "exfiltration", "contact"]
_CATEGORIES = [
    "bulletproof-hosting", "phishing-kit", "phishing-as-a-service", "ransomware-as-a-service",
    "initial-access-broker", "botnet", "crypter", "marketplace", "forum", "money-laundering",
    "mule-network", "cash-out", "scam-compound", "call-centre",
]  # fmt: skip
_TECHNIQUES = ["T1566", "T1566.002", "T1583.001", "T1656", "T1486", "T1078", "T1190", "T1657"]
_COUNTRIES = ["NL", "DE", "BE", "FR", "GB", "RU", "UA", "MM", "KH", "NG", "BR", "US"]
_SECTORS = ["financial-services", "healthcare", "retail", "telecommunications"]


def _word(rng: random.Random, size: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=size))


def _value(rng: random.Random, kind: str, n: int) -> dict[str, str]:
    """A valid, fictional value of a data-point type (documentation IP ranges only)."""
    if kind == "domain":
        return {"value": f"{_word(rng, 6)}-{_word(rng, 5)}{n}[.]example"}
    if kind == "url":
        return {"value": f"hxxps://{_word(rng, 7)}{n}.example/{_word(rng, 4)}/login.php?id={n}"}
    if kind == "ipv4":
        net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
        return {"value": f"{net}.{rng.randrange(1, 255)}"}
    if kind == "ipv6":
        return {"value": f"2001:DB8:{n:x}::{rng.randrange(1, 0xFFFF):x}"}
    if kind == "email":
        return {"value": f"{_word(rng, 6)}.{n}[@]{_word(rng, 5)}.example"}
    if kind == "file-sha256":
        return {"value": "".join(rng.choices("0123456789abcdef", k=64))}
    if kind == "file-md5":
        return {"value": "".join(rng.choices("0123456789ABCDEF", k=32))}
    if kind == "asn":
        return {"value": f"AS{64496 + n % 16}"}
    if kind == "crypto-wallet":
        if rng.random() < 0.4:
            return {
                "value": "0x" + "".join(rng.choices("0123456789abcdef", k=40)),
                "currency": "ETH",
            }
        # A P2WPKH address of random bytes: a valid BIP 173 checksum, no one's key.
        return {"value": SegwitBech32Encoder.Encode("bc", 0, rng.randbytes(20)), "currency": "BTC"}
    if kind == "bank-account":
        return {"value": _iban(rng), "bank.name": f"Example Bank {n % 7}", "bank.country": "NL"}
    if kind == "phone":
        return {"value": f"+31 6 {rng.randrange(10**7, 10**8)}"}
    return {"value": f"@{_word(rng, 8)}{n}", "platform": rng.choice(["telegram", "x"])}


def _iban(rng: random.Random) -> str:
    bban = "EXMP" + "".join(rng.choices(string.digits, k=10))
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


def generate_package(directory: Path, data_points: int, seed: int) -> Path:
    """Write a seeded package (YAML + CSV side file) into ``directory``; return its path."""
    rng = random.Random(seed)
    actors = [
        {
            "ref": f"actor-{i}",
            "name": f"Crew {_word(rng, 5).title()}",
            "kind": rng.choice(["group", "group", "individual", "organisation"]),
            "roles": rng.sample(
                ["developer", "administrator", "recruiter", "money-mule-herder"], 2
            ),
            "countries": rng.sample(_COUNTRIES, 2),
            "techniques": rng.sample(_TECHNIQUES, 3),
            "sources": [f"src-{rng.randrange(20)}"],
        }
        for i in range(30)
    ]
    services = [
        {
            "ref": f"svc-{i}",
            "name": f"Service {_word(rng, 6)}",
            "category": rng.choice(_CATEGORIES),
            "operated_by": [f"actor-{rng.randrange(30)}"],
            "used_by": sorted({f"actor-{rng.randrange(30)}" for _ in range(2)}),
        }
        for i in range(40)
    ]
    weights = [share for _, share in _TYPES]
    kinds = [kind for kind, _ in _TYPES]
    points: list[dict[str, str]] = []
    for n in range(data_points):
        kind = rng.choices(kinds, weights)[0]
        if points and rng.random() < 0.03:  # seen twice: merged into one observable
            earlier = rng.choice(points)
            row = {k: v for k, v in earlier.items() if k in ("type", "value", "currency")}
            row.update(
                {"bank.name": earlier.get("bank.name", ""), "platform": earlier.get("platform", "")}
            )
        else:
            row = {"type": kind, **_value(rng, kind, n)}
        row["ref"] = f"dp-{n}"
        owners = ["svc", "actor"] if rng.random() < 0.7 else ["actor"]
        row["linked_to"] = ";".join(
            sorted({f"{rng.choice(owners)}-{rng.randrange(30)}" for _ in range(rng.randint(1, 2))})
        )
        row["role"] = rng.choice(_ROLES)
        if rng.random() < 0.5:
            row["sources"] = f"src-{rng.randrange(20)}"
        if rng.random() < 0.3:
            row["first_seen"] = f"2024-0{rng.randint(1, 5)}-{rng.randint(10, 28)}T00:00:00Z"
        if rng.random() < 0.05:
            row["tlp"] = "red"
        points.append(row)
    columns = ["ref", "type", "value", "currency", "platform", "bank.name", "bank.country"]
    columns += ["role", "linked_to", "sources", "first_seen", "tlp"]
    inline = [_inline(row) for row in points[:200]]
    with (directory / "points.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(points[200:])
    chokepoints = [
        {
            "ref": f"cp-{i}",
            "title": f"Disrupt cluster {i}",
            "targets": sorted({f"dp-{rng.randrange(data_points)}" for _ in range(4)})
            + [f"svc-{rng.randrange(40)}"],
            "actions": ["takedown-request", "wallet-freeze"],
            "stakeholders": ["registrar", "exchange"],
            "priority": rng.choice(["critical", "high", "medium", "low"]),
        }
        for i in range(50)
    ]
    package = {
        "format": "atlas-package/1",
        "id": "RP-2099-90001",
        "revision": 1,
        "title": "Generated benchmark package",
        "published": "2024-06-01T00:00:00Z",
        "tlp": "amber",
        "confidence": 70,
        "authors": [{"name": "Benchmark FIU"}, {"name": "Benchmark Exchange"}],
        "themes": ["phishing", "money-laundering"],
        "targets": {"sectors": _SECTORS, "countries": _COUNTRIES[:5]},
        "actors": actors,
        "services": services,
        "data_points": inline,
        "data_points_csv": "points.csv",
        "chokepoints": chokepoints,
        "sources": [{"ref": f"src-{i}", "name": f"Source {i}", "kind": "osint"} for i in range(20)],
    }
    path = directory / "package.yaml"
    path.write_text(yaml.safe_dump(package, sort_keys=False), encoding="utf-8")
    return path


def _inline(row: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for column, text in row.items():
        if not text:
            continue
        if column in ("linked_to", "sources"):
            item[column] = text.split(";")
        elif column.startswith("bank."):
            item.setdefault("bank", {})[column[5:]] = text
        else:
            item[column] = text
    return item


def _best(runs: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds (of this process) of ``runs`` runs, and a result."""
    best, cpu, result = float("inf"), float("inf"), None
    for _ in range(runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return best, cpu, result


def _ours(path: Path) -> tuple[bytes, dict[str, float]]:
    """``atlas-taxii convert`` minus the file write, with the time of each stage."""
    from converters import convert_packages, serialize_bundle

    marks: dict[str, float] = {"start": time.perf_counter()}

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            marks[stage.split()[0]] = time.perf_counter()
        elif stage == "validate":
            marks["assemble"] = time.perf_counter()

    converted = convert_packages([path], progress=progress)
    data = serialize_bundle(converted.bundle)
    marks["serialise"] = time.perf_counter()
    names = list(marks)
    stages = {
        {"check": "read + check", "map": "map", "assemble": "assemble"}.get(name, name): marks[name]
        - marks[before]
        for before, name in zip(names, names[1:], strict=False)
    }
    return data, stages


def _peer(objects: list[dict[str, Any]]) -> str:
    """The stix2 library building the same objects, then serialising the bundle."""
    import stix2
    import stix2extensions  # noqa: F401 - registers the community SCO classes
    from stix2.registry import class_for_type

    built = []
    for obj in objects:
        fields = {k: v for k, v in obj.items() if k != "type"}
        kind = obj["type"]
        cls = class_for_type(kind, "2.1", "observables") or class_for_type(kind, "2.1", "objects")
        built.append(cls(**fields, allow_custom=True))
    return str(stix2.Bundle(objects=built, allow_custom=True).serialize())


def _peak(work: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``convert`` suite."""
    parser.add_argument("--data-points", type=int, default=10_000, help="data points (10,000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated package")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip stix2")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Generate the package, measure, print a table, write the results file."""
    from converters.validation import get_validator

    get_validator()  # compiled once per process, like a long-running converter
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        path = generate_package(Path(scratch), args.data_points, args.seed)
        ours_s, ours_cpu, (data, stages) = _best(args.repeat, lambda: _ours(path))
        objects = json.loads(data)["objects"]
        count = len(objects)
        ours_peak = _peak(lambda: _ours(path))
        rows = [("atlas-taxii", ours_s, ours_cpu, ours_peak)]
        if args.peer:
            peer_s, peer_cpu, _ = _best(1, lambda: _peer(objects))
            rows.append(("stix2 (peer)", peer_s, peer_cpu, _peak(lambda: _peer(objects))))
    load_after = os.getloadavg()
    print(f"{args.data_points} data points -> {count} STIX objects (seed {args.seed})")
    print(f"{'':14} {'wall s':>8} {'objects/s':>11} {'CPU s':>7} {'objects/CPU s':>14} "
          f"{'peak MiB':>9}")  # fmt: skip
    for name, seconds, cpu, peak in rows:
        print(f"{name:14} {seconds:8.3f} {count / seconds:11,.0f} {cpu:7.3f} "
              f"{count / cpu:14,.0f} {peak / 2**20:9.1f}")  # fmt: skip
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} CPUs)")  # fmt: skip
    print("atlas-taxii stages (s): " + ", ".join(f"{k} {v:.3f}" for k, v in stages.items()))
    result = {
        "suite": "convert",
        "data_points": args.data_points,
        "seed": args.seed,
        "objects": count,
        "python": platform.python_version(),
        "rows": [
            {
                "name": n,
                "wall_s": round(s, 4),
                "objects_per_s": round(count / s),
                "cpu_s": round(c, 4),
                "objects_per_cpu_s": round(count / c),
                "peak_bytes": p,
            }
            for n, s, c, p in rows
        ],
        "load_average": {"before": load_before, "after": load_after},
        "stages_s": {k: round(v, 4) for k, v in stages.items()},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
