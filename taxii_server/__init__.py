"""atlas-taxii's TAXII 2.1 server (OASIS TAXII 2.1, 10 June 2021)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
