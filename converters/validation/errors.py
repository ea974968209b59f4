"""The validation package's exception tree.

Invalid STIX is never an exception here: it is a list of :class:`~.problems.Problem`.  These
exceptions mean the validator itself cannot be built (the OASIS schemas are missing,
or jsonschema-rs cannot compile them), which is an installation error.
"""

from __future__ import annotations

__all__ = ["SchemaError", "ValidationSetupError"]


class ValidationSetupError(Exception):
    """Root of this package's exceptions: the validator cannot be built."""


class SchemaError(ValidationSetupError):
    """The OASIS STIX 2.1 JSON schemas cannot be found, read or compiled."""
