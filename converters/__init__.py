"""Research packages (atlas-package/1) to STIX 2.1 bundles, driven by mapping files.

Typical use::

    from converters import convert_package, serialize_bundle

    bundle = convert_package("RP-2024-0007.yaml")     # checked, mapped, validated
    Path("out.json").write_bytes(serialize_bundle(bundle))

Every failure is a :class:`ConversionError` carrying the list of problems found,
each with where it is: :class:`PackageError` (the package or its CSV side file is
invalid), :class:`MappingError` (a mapping file is invalid or cannot handle the
package), :class:`BundleInvalid` (the produced bundle would not pass STIX 2.1
validation — it is never returned).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bundle import serialize_bundle
    from .conversion import Converted, Progress, convert_package, convert_packages
    from .engine import Conversion
    from .errors import BundleInvalid, ConversionError, MappingError, PackageError, SourceProblem
    from .package import Package, Policy, load_package
    from .spec import Mapping, load_mapping

__all__ = [
    "BundleInvalid",
    "Conversion",
    "ConversionError",
    "Converted",
    "Mapping",
    "MappingError",
    "Package",
    "PackageError",
    "Policy",
    "Progress",
    "SourceProblem",
    "convert_package",
    "convert_packages",
    "load_mapping",
    "load_package",
    "serialize_bundle",
]

# Public name -> the submodule that defines it.  Imported on first use, so that
# ``converters.tlp`` and ``converters.validation`` (which the server needs) do not
# pull in the mapping engine and its YAML and JSON Schema machinery.
_HOME = {
    "BundleInvalid": "errors",
    "Conversion": "engine",
    "ConversionError": "errors",
    "Converted": "conversion",
    "Mapping": "spec",
    "MappingError": "errors",
    "Package": "package",
    "PackageError": "errors",
    "Policy": "package_checks",
    "Progress": "conversion",
    "SourceProblem": "errors",
    "convert_package": "conversion",
    "convert_packages": "conversion",
    "load_mapping": "spec",
    "load_package": "package",
    "serialize_bundle": "bundle",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'converters' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
