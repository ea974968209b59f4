"""The JSON Schema ``format`` s the STIX 2.1 schemas assert, with stix2-validator's verdicts.

``stix2-validator`` runs ``jsonschema`` with its format checker, so three formats are
assertions, not annotations.  jsonschema-rs checks ``uri`` (RFC 3986 §3 ``URI``) as
rfc3986-validator does.  The two others it words differently, so they are checked here:

* ``idn-hostname`` (``domain-name.value``): IDNA 2008 (RFC 5890/5891) as the ``idna``
  package encodes it.  jsonschema-rs maps input through UTS #46 first (``BÜCHER.de``,
  ``Ⅷ.com`` pass) and refuses a final dot; the reference does neither.  Plain ASCII
  names skip ``idna``: for them it only checks label characters, hyphens and lengths.
* ``email`` (``email-addr.value``): ``stix2-validator`` replaces ``jsonschema``'s
  "contains an @" with its own expression; we apply the same one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Final

import idna
import jsonschema_rs

__all__ = ["FORMATS", "is_email", "is_idn_hostname", "is_uri"]

# LDH labels of 1-63 characters that neither start nor end with '-' nor have '--' in
# positions 3-4 (RFC 5891 §4.2.3.1, which also keeps out A-labels, "xn--", whose
# Punycode idna must decode), at most 253 characters in all, an optional final dot.
_ASCII_LABEL = r"(?!-)(?!..--)[A-Za-z0-9-]{1,63}(?<!-)(?![A-Za-z0-9-])"
_ASCII_HOSTNAME = re.compile(rf"(?=.{{1,253}}\.?\Z){_ASCII_LABEL}(?:\.{_ASCII_LABEL})*\.?\Z")

# stix2validator.validator.EMAIL_RE, with ECMA-style end anchoring.
_EMAIL = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+\Z")


def is_idn_hostname(value: str) -> bool:
    """An internationalised host name that IDNA 2008 can encode."""
    if _ASCII_HOSTNAME.match(value):
        return True
    try:
        idna.encode(value)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def is_email(value: str) -> bool:
    """An e-mail address as ``stix2-validator`` accepts it (``local@domain.tld``)."""
    return _EMAIL.match(value) is not None


def is_uri(value: str) -> bool:
    """RFC 3986 ``URI``: a scheme, then hierarchical part, query and fragment."""
    return _uri_validator().is_valid(value)


@cache
def _uri_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator({"format": "uri"}, validate_formats=True)


#: Format checks jsonschema-rs calls instead of its own.
FORMATS: Final[Mapping[str, Callable[[str], bool]]] = {
    "idn-hostname": is_idn_hostname,
    "email": is_email,
}
