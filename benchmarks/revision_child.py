"""One measure of ``python -m benchmarks before-after``, in the interpreter of the
version being measured: ``python benchmarks/revision_child.py MEASURE INPUT REPEAT``.

Run by path, not as a module, so that ``converters`` comes from that interpreter's
installation (the earlier revision's virtualenv, or this tree's).  It uses only what
every revision has (``get_validator().check_object``, ``convert_packages``,
``serialize_bundle``) and prints one JSON line: the best of REPEAT passes, in wall and
CPU seconds, and the objects a pass handled.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _best(repeat: int, work: Callable[[], int]) -> dict[str, Any]:
    wall = cpu = float("inf")
    count = 0
    for _ in range(repeat):
        gc.collect()
        started, used = time.perf_counter(), time.process_time()
        count = work()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - used)
    return {"objects": count, "wall_s": wall, "cpu_s": cpu}


def _validation(source: Path) -> Callable[[], int]:
    from converters.validation import get_validator

    objects = json.loads(source.read_bytes())
    validator = get_validator()
    assert not any(validator.check_object(obj) for obj in objects), "the objects must be valid"

    def work() -> int:
        for obj in objects:
            validator.check_object(obj)
        return len(objects)

    return work


def _convert(source: Path) -> Callable[[], int]:
    from converters import convert_packages, serialize_bundle
    from converters.validation import get_validator

    get_validator()  # compiled once per process, like a long-running converter

    def work() -> int:
        bundle = convert_packages([source]).bundle
        serialize_bundle(bundle)
        return len(bundle["objects"])

    return work


def main(argv: list[str]) -> int:
    measure, source, repeat = argv[0], Path(argv[1]), int(argv[2])
    work = {"validation": _validation, "convert": _convert}[measure](source)
    work()  # warm: first-use compilation and caches are not what is measured
    print(json.dumps(_best(repeat, work)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
