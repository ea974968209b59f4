"""``python -m benchmarks misp``: a MISP event to a validated STIX 2.1 bundle, beside misp-stix.

Generates a seeded MISP event with PyMISP (``--attributes``, default 50,000: domains,
hostnames, URLs, IPs, ``domain|ip`` pairs, e-mail senders, SHA-256 and MD5 hashes, AS
numbers, Bitcoin addresses with valid checksums, phone numbers, with comments, ``to_ids``
and a few TLP tags; one threat-actor galaxy), written as MISP exports it, and measures
in the same run:

* ``atlas-taxii``: ``convert_packages([event], kind="misp")`` plus ``serialize_bundle``,
  the whole of ``atlas-taxii convert --from misp`` but the file write: PyMISP reads the
  event, the input mapping makes a package, the package is checked (values,
  checksums), mapped, and the bundle is validated against the STIX 2.1 schemas and
  MUST rules;
* ``misp-stix (peer)``: MISP's own converter (``MISPtoSTIX21Parser.parse_json_content``
  and the bundle serialised), installed from PyPI into a virtualenv outside this
  repository (``--misp-stix-venv``, else ``~/.cache/atlas-taxii-bench/misp-stix-venv``),
  run in its own process on the same file.  It does not validate its output.

Wall and CPU times (of the converting process) are the best of ``--repeat`` runs; the
load average is printed before and after: on a shared machine the wall time follows
the load, the CPU time much less.  Results go to ``benchmarks/results/misp.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.peers import CACHE, PeerUnavailable

RESULTS = Path(__file__).resolve().parent / "results" / "misp.json"
MISP_STIX = "misp-stix"

_TYPES = [  # (MISP attribute type, share)
    ("domain", 18), ("hostname", 6), ("url", 20), ("ip-dst", 12), ("ip-src", 4),
    ("domain|ip", 4), ("email-src", 6), ("sha256", 12), ("md5", 6), ("AS", 2), ("btc", 6),
    ("phone-number", 4),
]  # fmt: skip

# Run in misp-stix's virtualenv: convert the event, serialise the bundle, print seconds.
_PEER = """\
import json, sys, time
from misp_stix_converter import MISPtoSTIX21Parser
repeat = int(sys.argv[2])
best, cpu, count = float("inf"), float("inf"), 0
for _ in range(repeat):
    start, start_cpu = time.perf_counter(), time.process_time()
    parser = MISPtoSTIX21Parser()
    with open(sys.argv[1], "rb") as handle:
        parser.parse_json_content(json.load(handle))
    data = parser.bundle.serialize()
    best = min(best, time.perf_counter() - start)
    cpu = min(cpu, time.process_time() - start_cpu)
    count = len(parser.bundle.objects)
print(json.dumps({"seconds": best, "cpu_seconds": cpu, "objects": count}))
"""


def _value(rng: random.Random, kind: str, n: int) -> str:
    word = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=7))
    if kind in ("domain", "hostname"):
        return f"{word}-{n}.example"
    if kind == "url":
        return f"https://{word}{n}.example/{word[:4]}/login.php?id={n}"
    if kind in ("ip-dst", "ip-src"):
        return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"  # noqa: E501
    if kind == "domain|ip":
        return f"{word}-{n}.example|198.51.100.{rng.randrange(1, 255)}"
    if kind == "email-src":
        return f"{word}.{n}@{word[::-1]}.example"
    if kind == "sha256":
        return f"{rng.getrandbits(256):064x}"
    if kind == "md5":
        return f"{rng.getrandbits(128):032x}"
    if kind == "AS":
        return f"AS{64496 + n % 1000}"
    if kind == "btc":
        from bip_utils import Base58Encoder

        return str(Base58Encoder.CheckEncode(b"\x00" + rng.randbytes(20)))
    return f"+31 6 {rng.randrange(10**7, 10**8)}"


def generate_event(path: Path, attributes: int, seed: int) -> None:
    """Write a seeded MISP event of ``attributes`` attributes, as MISP exports it."""
    from pymisp import MISPEvent

    rng = random.Random(seed)
    event = MISPEvent()
    event.uuid = "3f2b6d1e-7c4a-4e8b-9a1d-5c6e7f8a9b0c"
    event.info = "Generated benchmark event"
    event.date = "2024-06-01"
    event.add_tag("tlp:amber")
    actors = event.add_galaxy(
        type="threat-actor", name="Threat Actor", uuid="698774c7-8022-42c4-917f-8d6e4f06ada3"
    )
    actors.add_galaxy_cluster(
        value="Benchmark Crew", type="threat-actor", uuid="7cdff317-a673-4474-84ec-4f1754947823"
    )
    kinds, weights = zip(*_TYPES, strict=True)
    for n in range(attributes):
        kind = rng.choices(kinds, weights)[0]
        attribute = event.add_attribute(
            kind, _value(rng, kind, n), to_ids=kind != "phone-number",
            comment="seen in session" if rng.random() < 0.2 else "",
        )  # fmt: skip
        if rng.random() < 0.02:
            attribute.add_tag("tlp:red")
    data = json.loads(event.to_json())
    data["timestamp"] = "1718096400"
    path.write_text(json.dumps({"Event": data}), encoding="utf-8")


def _ours(path: Path, repeat: int) -> tuple[float, float, int]:
    """Best wall and CPU seconds of ``convert --from misp`` (but the file write)."""
    import gc

    from converters import convert_packages, serialize_bundle

    best, cpu, count = float("inf"), float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        converted = convert_packages([path], kind="misp")
        data = serialize_bundle(converted.bundle)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
        count = len(converted.bundle["objects"])
        del data
    return best, cpu, count


def _peer_venv(preferred: Path | None) -> Path:
    for venv in (preferred, CACHE / "misp-stix-venv"):
        if venv is not None and (venv / "bin" / "python").exists():
            probe = subprocess.run(
                [str(venv / "bin" / "python"), "-c", "import misp_stix_converter"],
                capture_output=True, check=False,
            )  # fmt: skip
            if probe.returncode == 0:
                return venv
    venv = CACHE / "misp-stix-venv"
    print(f"installing {MISP_STIX} into {venv} (once) ...", flush=True)
    for step in (
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", MISP_STIX],
    ):
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PeerUnavailable(f"cannot install {MISP_STIX}: {reason}")
    return venv


def _peer(venv: Path, path: Path, repeat: int) -> dict[str, Any]:
    script = path.parent / "bench_misp_stix.py"
    script.write_text(_PEER)
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(script), str(path), str(repeat)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PeerUnavailable(f"misp-stix failed: {reason}")
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m; print(m.version('misp-stix'))"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["version"] = version
    return result


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``misp`` suite."""
    parser.add_argument("--attributes", type=int, default=50_000, help="attributes (50,000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated event")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip misp-stix")
    parser.add_argument("--misp-stix-venv", type=Path, help="a virtualenv holding misp-stix")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Generate the event, measure both converters, print a table, write the results."""
    from converters.validation import get_validator

    get_validator()  # compiled once per process, as in a long-running converter
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "event.json"
        generate_event(path, args.attributes, args.seed)
        size = path.stat().st_size
        seconds, cpu, count = _ours(path, args.repeat)
        rows.append({"name": "atlas-taxii", "wall_s": seconds, "cpu_s": cpu, "objects": count,
                     "validated": True})  # fmt: skip
        if args.peer:
            try:
                peer = _peer(_peer_venv(args.misp_stix_venv), path, args.repeat)
            except PeerUnavailable as exc:
                print(f"misp-stix unavailable: {exc}")
            else:
                rows.append({"name": f"misp-stix {peer['version']} (peer)",
                             "wall_s": peer["seconds"], "cpu_s": peer["cpu_seconds"],
                             "objects": peer["objects"],
                             "validated": False})  # fmt: skip
    load_after = os.getloadavg()
    print(f"{args.attributes:,} attributes ({size / 2**20:.1f} MiB of JSON, seed {args.seed})")
    print(f"{'':28} {'wall s':>8} {'CPU s':>7} {'attributes/s':>13} {'objects':>9}  validated")
    for row in rows:
        rate = args.attributes / row["wall_s"]
        print(f"{row['name']:28} {row['wall_s']:8.2f} {row['cpu_s']:7.2f} {rate:13,.0f} "
              f"{row['objects']:9,}  {'yes' if row['validated'] else 'no'}")  # fmt: skip
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} CPUs)")  # fmt: skip
    result = {
        "suite": "misp",
        "attributes": args.attributes,
        "seed": args.seed,
        "python": platform.python_version(),
        "load_average": {"before": load_before, "after": load_after},
        "rows": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
