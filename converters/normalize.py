"""Refanging and normalising data-point values, so that partners who see the same
thing produce the same SCO (research-package.md, "DataPoint").

A value is refused here when the SCO made from it would fail STIX 2.1 validation
(a URL that is not an RFC 3986 URI, an e-mail address or domain the validators do
not accept): the analyst then gets the package path of the value, not a bundle
error.  Those format rules are the validator's own (:mod:`converters.validation`).

Every normaliser takes the value as written and returns the canonical value, or
raises :class:`InvalidValue` with a message that says what was expected.  They are
pure and idempotent: ``f(f(x)) == f(x)`` (tested with Hypothesis).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from .validation.formats import is_email, is_idn_hostname, is_uri

__all__ = [
    "NORMALIZERS",
    "InvalidValue",
    "iban_checksum_ok",
    "is_display_name",
    "is_iban",
    "normalize_value",
    "refang",
]


class InvalidValue(ValueError):
    """A value is not what its data-point type says; the message says what was expected."""


# Defanging conventions the format accepts (research-package.md): the scheme
# ``hxxp``/``hxxps`` (any case) and bracketed separators.
_SCHEME = re.compile(r"^hxxp(s?)(?=(?::|\[:\])//)", re.IGNORECASE)
_BRACKETS: Final = (("[.]", "."), ("(.)", "."), ("[@]", "@"), ("[:]", ":"))


def refang(text: str) -> str:
    """Undo defanging: ``hxxps://a[.]b(.)c`` -> ``https://a.b.c``; ``x[@]y`` -> ``x@y``.

    Repeated until nothing changes, so that nested forms such as ``[[.]]`` refang
    completely and the function is idempotent.
    """
    while _defanged(text):  # else a round below would change nothing
        result = _SCHEME.sub(r"http\1", text) if text[:4].lower() == "hxxp" else text
        for defanged, plain in _BRACKETS:
            result = result.replace(defanged, plain)
        if result == text:
            break
        text = result
    return text


def _defanged(text: str) -> bool:
    """Whether ``text`` has what :func:`refang` undoes (a ``hxxp`` start, ``[`` or ``(.``)."""
    return "[" in text or "(." in text or text[:4].lower() == "hxxp"


def _text(value: str | int, what: str) -> str:
    if isinstance(value, int):
        raise InvalidValue(f"expected {what} as a string, got the number {value}")
    return value.strip()


_LABEL = re.compile(r"(?!-)[a-z0-9_\-\u0080-\U0010ffff]{1,63}(?<!-)")


def domain(value: str | int) -> str:
    """Lower-case domain name without a trailing dot (IDNs stay in Unicode)."""
    name = refang(_text(value, "a domain name")).lower().rstrip(".")
    labels = name.split(".")
    if (
        len(labels) < 2
        or len(name) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not is_idn_hostname(name)  # what STIX validation will require of the SCO
    ):
        raise InvalidValue(f"expected a domain name such as example.com, got {value!r}")
    if labels[-1].isdigit():
        raise InvalidValue(f"expected a domain name, got {value!r} (an IP address is type ipv4)")
    return name


def ipv4(value: str | int) -> str:
    """Dotted-quad IPv4 address (no leading zeros, no prefix length)."""
    text = refang(_text(value, "an IPv4 address"))
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InvalidValue(f"expected an IPv4 address such as 203.0.113.7, got {value!r}") from None


def ipv6(value: str | int) -> str:
    """IPv6 address in its canonical RFC 5952 form (lower case, ``::`` compression)."""
    text = refang(_text(value, "an IPv6 address"))
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise InvalidValue(f"expected an IPv6 address such as 2001:db8::7, got {value!r}") from None
    if address.scope_id is not None:
        raise InvalidValue(f"expected an IPv6 address without a zone (%…), got {value!r}")
    return str(address)


def url(value: str | int) -> str:
    """An absolute URL, refanged and otherwise kept exactly as given."""
    text = refang(_text(value, "a URL"))
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc or not is_uri(text):
        raise InvalidValue(
            f"expected an absolute URL such as https://example.com/x (RFC 3986: spaces, "
            f"backslashes and non-ASCII characters percent-encoded, hosts in ASCII), "
            f"got {value!r}"
        )
    return text


def email(value: str | int) -> str:
    """``local@domain`` with the domain normalised and the local part as given."""
    text = refang(_text(value, "an e-mail address"))
    local, at, host = text.rpartition("@")
    if not at or not local or any(c.isspace() or c == "@" for c in local):
        raise InvalidValue(f"expected an e-mail address such as name@example.com, got {value!r}")
    try:
        address = f"{local}@{domain(host)}"
    except InvalidValue:
        message = f"expected an e-mail address with a valid domain, got {value!r}"
        raise InvalidValue(message) from None
    if not is_email(address):  # the form STIX validators accept for email-addr
        raise InvalidValue(
            f"expected an e-mail address of letters, digits and . _ + - before the @, got {value!r}"
        )
    return address


def _hash(length: int, algorithm: str) -> Callable[[str | int], str]:
    pattern = re.compile(rf"[0-9a-f]{{{length}}}")

    def normalize(value: str | int) -> str:
        digest = _text(value, f"a {algorithm} hash").lower()
        if not pattern.fullmatch(digest):
            raise InvalidValue(f"expected {length} hexadecimal digits ({algorithm}), got {value!r}")
        return digest

    normalize.__doc__ = f"Lower-case hexadecimal {algorithm} digest."
    return normalize


_ASN = re.compile(r"(?:AS\s?)?([0-9]{1,10})", re.IGNORECASE)


def asn(value: str | int) -> int:
    """Autonomous system number as an integer (``AS64511`` or ``64511``)."""
    match = _ASN.fullmatch(str(value).strip()) if not isinstance(value, bool) else None
    number = int(match.group(1)) if match else -1
    if not 0 <= number <= 0xFFFFFFFF:
        message = f"expected an AS number such as AS64511 (0 to 4294967295), got {value!r}"
        raise InvalidValue(message)
    return number


_WALLET = re.compile(r"[\x21-\x7e]{10,200}")
_HEX_WALLET = re.compile(r"0x[0-9a-f]+")


def wallet(value: str | int) -> str:
    """A wallet address: hex (``0x…``) lower-case, any other form exactly as given.

    Base58 and bech32 addresses are case-sensitive or checksummed per chain; the
    community type stores them verbatim, so only hex addresses are folded.
    """
    text = _text(value, "a wallet address")
    if text[:2].lower() == "0x":
        text = text.lower()
        if not _HEX_WALLET.fullmatch(text):
            raise InvalidValue(f"expected hexadecimal digits after 0x, got {value!r}")
    if not _WALLET.fullmatch(text):
        raise InvalidValue(
            f"expected a wallet address (10 to 200 printable characters, no spaces), got {value!r}"
        )
    return text


# IBAN lengths by country (SWIFT IBAN registry); other countries: 15-34 characters.
_IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{2,38}[A-Za-z0-9]")


def is_iban(value: str) -> bool:
    """Whether a normalised bank-account value has the shape of an IBAN."""
    return bool(_IBAN_SHAPE.fullmatch(value))


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 check digits (mod 97 == 1)."""
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def bank_account(value: str | int) -> str:
    """An IBAN (upper case, no spaces) or a domestic account number as given.

    Only the shape and the per-country length of an IBAN are errors here; wrong
    check digits are reported by the package checker as a warning, since
    placeholder IBANs (``NL00…``) are common in shared research.
    """
    text = _text(value, "an IBAN or account number") if not isinstance(value, int) else str(value)
    compact = re.sub(r"\s+", "", text).upper()
    if re.match(r"^[A-Z]{2}[0-9]{2}", compact) and len(compact) >= 15:
        expected = _IBAN_LENGTHS.get(compact[:2])
        if not is_iban(compact):
            raise InvalidValue(f"expected an IBAN of letters and digits, got {value!r}")
        if expected is not None and len(compact) != expected:
            raise InvalidValue(
                f"expected a {compact[:2]} IBAN of {expected} characters, "
                f"got {len(compact)} in {value!r}"
            )
        return compact
    if not _ACCOUNT.fullmatch(text):
        raise InvalidValue(f"expected an IBAN or an account number, got {value!r}")
    return text


_PHONE_NOISE = re.compile(r"[\s().\-/]")


def phone(value: str | int) -> str:
    """E.164 digits without ``+`` (the community ``phone-number`` form).

    Accepts ``+31 6 0000 0000``, ``0031 6…``, ``+44 (0)20 …`` (the national trunk
    ``(0)`` is dropped) and bare international digits; a national number (leading
    single ``0``) is refused, since its country cannot be known.
    """
    text = str(value).strip()
    if text.startswith("+"):
        text = re.sub(r"\(0\)", "", text[1:], count=1)
    elif text.startswith("00"):
        text = re.sub(r"\(0\)", "", text[2:], count=1)
    elif text.startswith("0"):
        raise InvalidValue(
            f"expected an international number (+CC …), got the national number {value!r}"
        )
    digits = _PHONE_NOISE.sub("", text)
    if not digits.isascii() or not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise InvalidValue(f"expected an E.164 phone number (+ and 7 to 15 digits), got {value!r}")
    if digits.startswith("0"):
        raise InvalidValue(f"expected a country code after + (no leading 0), got {value!r}")
    return digits


def handle(value: str | int) -> str:
    """A social-media handle exactly as given (platforms differ on case rules), or a
    display name (a page or channel title, spaces allowed) with its runs of white
    space made one space."""
    text = " ".join(str(value).split())
    if not text:
        raise InvalidValue(f"expected a handle or a display name, got {value!r}")
    return text


def is_display_name(value: str) -> bool:
    """Whether a normalised social-account value is a display name, not a handle."""
    return " " in value


#: Normaliser of every data-point type (research-package.md, DataPoint ``type``).
NORMALIZERS: Final[dict[str, Callable[[str | int], str | int]]] = {
    "domain": domain,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "url": url,
    "email": email,
    "file-sha256": _hash(64, "SHA-256"),
    "file-md5": _hash(32, "MD5"),
    "asn": asn,
    "crypto-wallet": wallet,
    "bank-account": bank_account,
    "phone": phone,
    "social-account": handle,
}


def normalize_value(kind: str, value: str | int) -> str | int:
    """Normalise ``value`` as a data point of type ``kind``; raises :class:`InvalidValue`."""
    return NORMALIZERS[kind](value)
