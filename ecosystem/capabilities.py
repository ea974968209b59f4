"""What a service, infrastructure, tool or malware provides to the actors using it.

A capability is a word such as ``cash-out``, ``bulletproof-hosting`` or
``remote-access``.  It comes, first found wins, from:

1. the research-package category carried in the project's property extension
   (``category``, written by the default mapping since extension version 1.1.0);
2. a label that is a research-package category (bundles converted before 1.1.0
   carry the category as their only label);
3. the STIX 2.1 open vocabularies (§10): ``infrastructure_types``
   (infrastructure-type-ov), ``tool_types`` (tool-type-ov), ``malware_types``
   (malware-type-ov), translated by :data:`VOCABULARY` where a vocabulary word means a
   research-package category, else kept as it is (``remote-access``, ``keylogger``);
4. else the object's type (``infrastructure``, ``tool``, ``malware``): something it
   provides, though no one said what.

``unknown`` is never a capability.  An object may provide several (a malware that is
a ``backdoor`` and a ``keylogger``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["CATEGORIES", "VOCABULARY", "capabilities_of"]

#: The research-package service categories (docs/research-package.md, Service).
CATEGORIES: Final = frozenset(
    {
        "bulletproof-hosting",
        "phishing-kit",
        "phishing-as-a-service",
        "ransomware-as-a-service",
        "initial-access-broker",
        "botnet",
        "crypter",
        "marketplace",
        "forum",
        "money-laundering",
        "mule-network",
        "cash-out",
        "scam-compound",
        "call-centre",
        "other",
    }
)

#: STIX vocabulary words that mean a research-package category.  The default mapping
#: writes these words for those categories, so another producer's object described
#: with them and a package's service provide the same capability.
VOCABULARY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "hosting-malware": "bulletproof-hosting",  # infrastructure-type-ov
        "phishing": "phishing-as-a-service",  # infrastructure-type-ov
        "botnet": "botnet",  # infrastructure-type-ov
        "bot": "botnet",  # malware-type-ov: a bot is part of a botnet
        "ransomware": "ransomware-as-a-service",  # malware-type-ov
    }
)

_UNKNOWN: Final = "unknown"


def capabilities_of(stix_type: str, words: Iterable[str]) -> frozenset[str]:
    """The capabilities of a provider from its record's words: ``category:X``,
    ``label:X`` and bare vocabulary words (see the module documentation)."""
    words = tuple(words)
    for word in words:
        if word.startswith("category:"):
            return frozenset({word.removeprefix("category:")})
    labelled = {w.removeprefix("label:") for w in words if w.startswith("label:")}
    if labelled & CATEGORIES:
        return frozenset(labelled & CATEGORIES)
    found = {
        VOCABULARY.get(word, word)
        for word in words
        if not word.startswith(("label:", "category:")) and word != _UNKNOWN
    }
    return frozenset(found) if found else frozenset({stix_type})
