"""STIX 2.1 validation: the OASIS JSON schemas plus the MUST rules they cannot express.

One validator serves three callers: the converter (a bundle is never written unless
it validates), the TAXII server (each POSTed object is checked; invalid ones become
status failures) and ``atlas-taxii validate``.  Use :func:`get_validator`::

    problems = get_validator().check_bundle(bundle)
    for problem in problems:
        print(problem)   # "indicator--… $.objects[3].valid_from: … is not a valid timestamp"
"""

from __future__ import annotations

from .errors import SchemaError, ValidationSetupError
from .problems import Problem
from .validator import StixValidator, get_validator

__all__ = ["Problem", "SchemaError", "StixValidator", "ValidationSetupError", "get_validator"]
