"""The JSON Schema ``format`` s the STIX 2.1 schemas assert, checked as the reference does.

``stix2-validator`` runs ``jsonschema`` with its format checker, so three formats are
assertions, not annotations:

* ``uri`` (``external_references[*].url``): RFC 3986 §3 ``URI`` (a scheme is
  required).  The grammar is written out below from RFC 3986 Appendix A.
* ``idn-hostname`` (``domain-name.value``): IDNA 2008 (RFC 5890/5891) as the ``idna``
  package encodes it.  Plain ASCII host names skip ``idna``: for them it only checks
  label characters, hyphens and lengths, which one regular expression says.
* ``email`` (``email-addr.value``): ``stix2-validator`` replaces ``jsonschema``'s
  "contains an @" with its own expression; we apply the same one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

import idna

__all__ = ["FORMATS", "is_email", "is_idn_hostname", "is_uri"]

# RFC 3986 Appendix A, with host = IP-literal / reg-name (IPv4address is a reg-name).
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_H16 = r"[0-9A-Fa-f]{1,4}"
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_LS32 = rf"(?:{_H16}:{_H16}|{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}})"
_IPV6 = "|".join(
    [
        rf"(?:{_H16}:){{6}}{_LS32}",
        rf"::(?:{_H16}:){{5}}{_LS32}",
        rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
)
_IP_LITERAL = rf"\[(?:{_IPV6}|v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+)\]"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_AUTHORITY = (
    rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?"
)
_HIER_PART = (
    rf"(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?|{_PCHAR}+(?:/{_PCHAR}*)*|)"
)
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:{_HIER_PART}(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?\Z"
)

# Host names idna accepts without looking further: LDH labels of 1-63 characters that
# neither start nor end with '-' nor have '--' in positions 3-4 (RFC 5891 §4.2.3.1,
# which also keeps out A-labels, "xn--", whose Punycode idna must decode), at most
# 253 characters in all, an optional final dot.
_ASCII_LABEL = r"(?!-)(?!..--)[A-Za-z0-9-]{1,63}(?<!-)(?![A-Za-z0-9-])"
_ASCII_HOSTNAME = re.compile(rf"(?=.{{1,253}}\.?\Z){_ASCII_LABEL}(?:\.{_ASCII_LABEL})*\.?\Z")

# stix2validator.validator.EMAIL_RE, with ECMA-style end anchoring.
_EMAIL = re.compile(r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+\Z")


def is_uri(value: str) -> bool:
    """RFC 3986 ``URI``: a scheme, then hierarchical part, query and fragment."""
    return _URI.match(value) is not None


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


#: format name -> (check, what a valid value looks like)
FORMATS: Final[Mapping[str, tuple[Callable[[str], bool], str]]] = {
    "uri": (is_uri, "an RFC 3986 URI such as https://example.com/report"),
    "idn-hostname": (is_idn_hostname, "a valid (internationalised) domain name"),
    "email": (is_email, "an e-mail address such as analyst@example.org"),
}
