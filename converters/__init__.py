"""Research packages (atlas-package/1) to STIX 2.1 bundles, driven by mapping files."""

from __future__ import annotations

__all__: list[str] = []
