"""STIX 2.1 extension definitions (§7.3) the converter's output relies on.

* The community ``new-sco`` types for what STIX 2.1 has no SCO for —
  ``cryptocurrency-wallet``, ``bank-account``, ``phone-number`` — as the PyPI
  package stix2extensions ships them (``data/community-extension-definitions.json``
  holds them verbatim, so conversion works offline and without importing that
  package, which registers classes into stix2 at import; a test checks the copy
  against the installed package).
* The project's own property extension: a chokepoint's priority, actions and
  stakeholders, a data point's role and vetting, a service's category, an actor's or
  service's ``same_as``, and custom ``x_`` fields.  Its JSON Schema is
  ``schemas/atlas-properties-1.schema.json``; its id, creator and dates are fixed
  because it describes the project, not a package.  A change of what it describes is
  a new version (``version`` and ``modified`` raised together): a TAXII store that
  holds the old one must take the new one as a new version, not refuse it as a
  conflicting copy of the same version (STIX 2.1 §3.6).

Extension definitions travel in the bundle unchanged; the identities and markings
they reference themselves need not be in it (research-package.md).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

import orjson

from .timestamps import PROJECT_EPOCH

__all__ = [
    "ATLAS_EXTENSION_ID",
    "ATLAS_PROPERTIES_SCHEMA",
    "atlas_extension_definition",
    "new_sco_definitions",
]

#: Id of the project's property extension (fixed forever).
ATLAS_EXTENSION_ID: Final = "extension-definition--202f963b-ac96-425b-b20d-ca281d9d78d6"

#: Identity of the atlas-taxii project as the extension's creator (not in bundles).
_PROJECT_IDENTITY: Final = "identity--c0736ec1-787c-4862-9571-d56449c6e422"

#: ``modified`` of the current version of the extension definition (1.1.0: category and
#: same_as); ``created`` stays the project epoch.
_EXTENSION_MODIFIED: Final = "2026-12-01T00:00:00.000Z"

#: File name of the JSON Schema of the project's extension properties.
ATLAS_PROPERTIES_SCHEMA: Final = "atlas-properties-1.schema.json"


@functools.cache
def atlas_extension_definition() -> Mapping[str, Any]:
    """The project's ``extension-definition`` object (property extension)."""
    return MappingProxyType(
        {
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": ATLAS_EXTENSION_ID,
            "created_by_ref": _PROJECT_IDENTITY,
            "created": PROJECT_EPOCH,
            "modified": _EXTENSION_MODIFIED,
            "name": "atlas-taxii research-package properties",
            "description": (
                "Facts of atlas-package/1 research packages that STIX 2.1 has no property "
                "for: a chokepoint's priority, actions and stakeholders (on a "
                "course-of-action); a data point's role and vetting (on its indicator, or "
                "on its SCO when it has none, with its currency and sources); a service's "
                "category (on an infrastructure or tool); same_as, the STIX ids of the same "
                "actor or service in other packages; custom x_ fields of package items."
            ),
            "schema": (
                "JSON Schema (draft-07) atlas-properties-1.schema.json, shipped in the "
                "atlas-taxii source and package under converters/schemas/. Properties: "
                "priority (critical|high|medium|low), actions (list of words), stakeholders "
                "(registrar|hosting-provider|exchange|bank|platform|law-enforcement|cert), "
                "role, vetting {status, by, at}, currency, sources [{source_name, url, "
                "description}], category (a research-package service category), same_as "
                "(list of STIX ids), x_* custom fields."
            ),
            "version": "1.1.0",
            "extension_types": ["property-extension"],
        }
    )


@functools.cache
def new_sco_definitions() -> Mapping[str, Mapping[str, Any]]:
    """Community ``new-sco`` extension definitions, by the SCO type each defines."""
    data = resources.files("converters").joinpath("data", "community-extension-definitions.json")
    definitions: list[dict[str, Any]] = orjson.loads(data.read_bytes())
    by_type: dict[str, Mapping[str, Any]] = {}
    for definition in definitions:
        # stix2extensions points each definition's schema at <...>/scos/<type>.json.
        sco_type = definition["schema"].rsplit("/", 1)[-1].removesuffix(".json")
        by_type[sco_type] = MappingProxyType(definition)
    return MappingProxyType(by_type)
