"""``python -m benchmarks validation``: STIX 2.1 validation throughput, beside the peers.

On one seeded realistic mix of ``--objects`` valid objects (benchmarks/stix_mix.py:
indicators with STIX patterns, SCOs including the community wallets, bank accounts
and phone numbers, relationships, sightings, identities, threat actors, malware...)
it measures objects per second for:

* ``atlas-taxii cold``: reading and compiling the OASIS schemas, then one pass;
* ``atlas-taxii warm``: the same validator again (best of ``--repeat`` passes): what
  a converter or server process sees after its first objects;
* ``atlas-taxii, 5% invalid``: warm, with every twentieth object broken (a bad
  timestamp, a missing property, a bad pattern...), so the explanations are paid;
* ``jsonschema``: ``Draft202012Validator`` (the draft the schemas declare) per
  object, one validator per type over a ``referencing`` registry of all the schemas,
  with the format checker, as stix2-validator sets it up; schema checks only;
* ``stix2-validator``: ``validate_instance`` per object: schemas plus its MUST and
  SHOULD checks (our scope is its schemas plus its MUST checks);
* ``atlas-taxii, patterns by …``: warm, with STIX patterns decided without our
  recogniser (``converters/validation/pattern_grammar.py``): by stix2patterns' ANTLR
  parser alone, or by it after the one-comparison expression only.  Its verdict cache
  is emptied first and every pattern of the mix is distinct: what a server or a
  converter pays for patterns it has not seen.  These show what the recogniser's
  lines buy.

The two peers run on the first ``--peer-objects`` objects (they are slow).  Times are
CPU time of this process (``time.process_time``): the machine is shared, and the
targets are per core; wall time is reported beside it.  Results go to
``benchmarks/results/validation.json``.  Compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.stix_mix import realistic_objects

RESULTS = Path(__file__).resolve().parent / "results" / "validation.json"

_BREAKAGES: tuple[Callable[[dict[str, Any]], None], ...] = (
    lambda o: o.__setitem__("modified" if "modified" in o else "id", "2024-02-30T00:00:00Z"),
    lambda o: o.pop("id"),
    lambda o: o.__setitem__("x_Bad-Name", 1),
    lambda o: (
        o.__setitem__("pattern", "[ipv4-addr:value = '1.2.3.4'")
        if o["type"] == "indicator"
        else o.__setitem__("confidence", 101)
    ),
)


def _measure(work: Callable[[], object], repeat: int = 1) -> tuple[float, float]:
    """Best (CPU seconds, wall seconds) of ``repeat`` runs."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_cpu, best_wall


def _ours_cold(objects: list[dict[str, Any]]) -> Callable[[], object]:
    from converters.validation.schemas import load_schemas
    from converters.validation.validator import StixValidator

    def work() -> object:
        validator = StixValidator(load_schemas())
        return [validator.check_object(obj) for obj in objects]

    return work


def _jsonschema(objects: list[dict[str, Any]]) -> Callable[[], object]:
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    from converters.validation.schemas import load_schemas

    schemas = load_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (uri, DRAFT202012.create_resource(doc)) for uri, doc in schemas.documents.items()
    )

    def validator(uri: str) -> Any:
        return Draft202012Validator(
            schemas.documents[uri],
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    by_type = {t: validator(uri) for t, uri in schemas.object_types.items()}
    core, observable_core = validator(schemas.core), validator(schemas.observable_core)

    def work() -> object:
        verdicts = []
        for obj in objects:
            checker = by_type.get(obj["type"])
            if checker is None:
                custom_sco = "created" not in obj and "modified" not in obj
                checker = observable_core if custom_sco else core
            verdicts.append(next(iter(checker.iter_errors(obj)), None) is None)
        return verdicts

    return work


def _stix2_validator(objects: list[dict[str, Any]]) -> Callable[[], object]:
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions()
    return lambda: [validate_instance(obj, options).is_valid for obj in objects]


@contextmanager
def _patterns_by(quick: Callable[[str, str], bool]) -> Iterator[None]:
    """Pattern verdicts by ``quick`` then stix2patterns, instead of the recogniser."""
    from converters.validation import pattern_grammar, patterns

    patterns._reference_problems.cache_clear()
    patterns.quick_verdict = quick
    try:
        yield
    finally:
        patterns.quick_verdict = pattern_grammar.quick_verdict
        patterns._reference_problems.cache_clear()


def _one_comparison_only(pattern: str, version: str) -> bool:
    from converters.validation import pattern_grammar

    return version == "2.1" and pattern_grammar._one_comparison(pattern)


def _row(name: str, count: int, cpu: float, wall: float) -> dict[str, Any]:
    return {
        "validator": name,
        "objects": count,
        "cpu_seconds": round(cpu, 4),
        "wall_seconds": round(wall, 4),
        "objects_per_cpu_second": round(count / cpu) if cpu else None,
        "objects_per_wall_second": round(count / wall) if wall else None,
    }


def run(args: argparse.Namespace) -> int:
    """Generate the objects, measure each validator, print a table, write the results."""
    objects = realistic_objects(args.objects, args.seed)
    broken = copy.deepcopy(objects)
    for index in range(0, len(broken), 20):
        _BREAKAGES[(index // 20) % len(_BREAKAGES)](broken[index])
    sample = objects[: args.peer_objects]
    rows = [_row("atlas-taxii cold", len(objects), *_measure(_ours_cold(objects)))]

    from converters.validation import get_validator

    validator = get_validator()
    for obj in objects:  # compile and warm the process-wide validator
        validator.check_object(obj)
    invalid = sum(1 for obj in broken if validator.check_object(obj))
    assert not any(validator.check_object(obj) for obj in objects), "the mix must be valid"

    def checking(chosen: list[dict[str, Any]]) -> Callable[[], object]:
        return lambda: [validator.check_object(obj) for obj in chosen]

    rows.append(_row("atlas-taxii warm", len(objects), *_measure(checking(objects), args.repeat)))
    broken_name = f"atlas-taxii warm, {invalid} invalid"
    rows.append(_row(broken_name, len(objects), *_measure(checking(broken), args.repeat)))
    if args.peers:
        jsonschema_work = _jsonschema(sample)
        rows.append(_row("jsonschema (schemas only)", len(sample), *_measure(jsonschema_work)))
        stix2_work = _stix2_validator(sample)
        rows.append(_row("stix2-validator", len(sample), *_measure(stix2_work)))
        for name, quick in (
            ("atlas-taxii, patterns by stix2patterns", lambda pattern, version: False),
            ("  after the one-comparison shortcut", _one_comparison_only),
        ):
            with _patterns_by(quick):
                rows.append(_row(name, len(sample), *_measure(checking(sample))))
    warm_rate = rows[1]["objects_per_cpu_second"]
    print(f"{'validator':40} {'objects':>8} {'CPU s':>8} {'obj/s (CPU)':>12} "
          f"{'obj/s (wall)':>13} {'vs warm':>8}")  # fmt: skip
    for row in rows:
        rate = row["objects_per_cpu_second"] or 0
        print(
            f"{row['validator']:40} {row['objects']:>8} {row['cpu_seconds']:>8.3f} "
            f"{rate:>12,} {row['objects_per_wall_second'] or 0:>13,} "
            f"{rate / warm_rate if warm_rate else 0:>7.2f}x"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "suite": "validation",
        "objects": args.objects,
        "seed": args.seed,
        "peer_objects": len(sample),
        "types": sorted({obj["type"] for obj in objects}),
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"results: {RESULTS}")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``validation`` suite."""
    parser.add_argument("--objects", type=int, default=20_000, help="objects (20,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated mix")
    parser.add_argument("--repeat", type=int, default=5, help="warm passes (best kept)")
    parser.add_argument(
        "--peer-objects", type=int, default=3_000, help="objects given to the peers (3,000)"
    )
    parser.add_argument(
        "--no-peers", dest="peers", action="store_false", help="skip jsonschema, stix2-validator"
    )
    parser.set_defaults(run=run)
