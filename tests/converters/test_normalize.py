"""Refanging and normalisation of data-point values (research-package.md, DataPoint)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.normalize import (
    NORMALIZERS,
    InvalidValue,
    iban_checksum_ok,
    is_iban,
    normalize_value,
    refang,
)


@pytest.mark.parametrize(
    ("defanged", "plain"),
    [
        ("hxxps://a[.]example/x", "https://a.example/x"),
        ("hXXp://a(.)example", "http://a.example"),
        ("hxxps[:]//a[.]example", "https://a.example"),
        ("name[@]mail[.]example", "name@mail.example"),
        ("2001[:]db8[:][:]1", "2001:db8::1"),
        ("[[.]]", "."),
        ("https://a.example/hxxp", "https://a.example/hxxp"),  # only the scheme
    ],
)
def test_refang(defanged: str, plain: str) -> None:
    assert refang(defanged) == plain


@given(st.text(alphabet="hxtps:/[.]()@ab", max_size=30))
def test_refang_is_idempotent(text: str) -> None:
    assert refang(refang(text)) == refang(text)


@pytest.mark.parametrize(
    ("kind", "written", "normal"),
    [
        ("domain", "Login-Example[.]Example.", "login-example.example"),
        ("domain", "bücher.example", "bücher.example"),
        ("ipv4", "203.0.113[.]77", "203.0.113.77"),
        ("ipv6", "2001:DB8:0:0:0:0:0:4C", "2001:db8::4c"),
        ("ipv6", "2001[:]db8[:][:]1", "2001:db8::1"),
        (
            "url",
            "hxxps://verify-bank[.]example/otp/relay.php?a=B",
            "https://verify-bank.example/otp/relay.php?a=B",
        ),
        ("email", "Support[@]Harbour-Line[.]Example", "Support@harbour-line.example"),
        ("file-sha256", "AB" * 32, "ab" * 32),
        ("file-md5", " 0CC175B9C0F1B6A831C399E269772661 ", "0cc175b9c0f1b6a831c399e269772661"),
        ("asn", "AS64511", 64511),
        ("asn", "as 64511", 64511),
        ("asn", 64511, 64511),
        (
            "crypto-wallet",
            "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01",
            "0xabcdef0123456789abcdef0123456789abcdef01",
        ),
        ("crypto-wallet", "bc1qExampleCaseKept00000000000", "bc1qExampleCaseKept00000000000"),
        ("bank-account", "nl64 exmp 0417 7283 91", "NL64EXMP0417728391"),
        ("bank-account", "123-4567890-12", "123-4567890-12"),
        ("phone", "+31 6 0000 0000", "31600000000"),
        ("phone", "0031 (6) 0000-0000", "31600000000"),
        ("phone", "+44 (0)20 7183 8750", "442071838750"),
        ("phone", 442071838750, "442071838750"),
        ("social-account", " @harbourline_support ", "@harbourline_support"),
    ],
)
def test_normalize(kind: str, written: str | int, normal: str | int) -> None:
    assert normalize_value(kind, written) == normal


@pytest.mark.parametrize(
    ("kind", "written", "message"),
    [
        (
            "ipv4",
            "203.0.113.300",
            "expected an IPv4 address such as 203.0.113.7, got '203.0.113.300'",
        ),
        ("ipv4", "010.0.0.1", "expected an IPv4 address such as 203.0.113.7, got '010.0.0.1'"),
        (
            "ipv6",
            "fe80::1%eth0",
            "expected an IPv6 address without a zone (%…), got 'fe80::1%eth0'",
        ),
        ("domain", "localhost", "expected a domain name such as example.com, got 'localhost'"),
        (
            "domain",
            "203.0.113.7",
            "expected a domain name, got '203.0.113.7' (an IP address is type ipv4)",
        ),
        (
            "email",
            "o'brien@mail.example",
            "expected an e-mail address of letters, digits and . _ + - before the @, got "
            '"o\'brien@mail.example"',
        ),
        (
            "url",
            "https://bücher.example/",
            "expected an absolute URL such as https://example.com/x (RFC 3986: spaces, "
            "backslashes and non-ASCII characters percent-encoded, hosts in ASCII), got "
            "'https://bücher.example/'",
        ),
        (
            "crypto-wallet",
            "0xZZ00000000000000",
            "expected hexadecimal digits after 0x, got '0xZZ00000000000000'",
        ),
        (
            "bank-account",
            "DE44 5001 0517 5407 3249",
            "expected a DE IBAN of 22 characters, got 20 in 'DE44 5001 0517 5407 3249'",
        ),
        (
            "phone",
            "06 1234 5678",
            "expected an international number (+CC …), got the national number '06 1234 5678'",
        ),
        (
            "phone",
            "+31 6 0000 0000 0000 0",
            "expected an E.164 phone number (+ and 7 to 15 digits), got '+31 6 0000 0000 0000 0'",
        ),
        (
            "asn",
            "AS4294967296",
            "expected an AS number such as AS64511 (0 to 4294967295), got 'AS4294967296'",
        ),
        ("domain", 7, "expected a domain name as a string, got the number 7"),
    ],
)
def test_invalid_values(kind: str, written: str | int, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalize_value(kind, written)
    assert str(caught.value) == message


def test_iban_checks() -> None:
    assert is_iban("NL64EXMP0417728391") and iban_checksum_ok("NL64EXMP0417728391")
    assert not iban_checksum_ok("NL00EXMP0123456789")  # the example's placeholder
    assert not is_iban("123-4567890-12")


_LABEL = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=1,
    max_size=12,
)


@given(st.lists(_LABEL, min_size=2, max_size=4), st.booleans(), st.booleans())
def test_domain_normalisation_is_idempotent(labels: list[str], dot: bool, defang: bool) -> None:
    written = ".".join(labels) + ("." if dot else "")
    if labels[-1].isdigit():
        return
    if defang:
        written = written.replace(".", "[.]")
    normal = normalize_value("domain", written)
    assert normal == normal.lower() and not normal.endswith(".")
    assert normalize_value("domain", normal) == normal


@given(st.ip_addresses(v=6))
def test_ipv6_is_canonical(address: ipaddress.IPv6Address) -> None:
    written = address.exploded.upper()
    assert normalize_value("ipv6", written) == str(address)


@given(st.ip_addresses(v=4))
def test_ipv4_round_trips(address: ipaddress.IPv4Address) -> None:
    assert normalize_value("ipv4", str(address).replace(".", "[.]")) == str(address)


_SAMPLES = {
    "domain": st.from_regex(r"\A[a-z]{1,10}\.[a-z]{2,6}\Z"),
    "email": st.from_regex(r"\A[a-z0-9._+-]{1,10}@[a-z]{1,10}\.example\Z"),
    "file-sha256": st.from_regex(r"\A[0-9a-fA-F]{64}\Z"),
    "file-md5": st.from_regex(r"\A[0-9a-fA-F]{32}\Z"),
    "asn": st.integers(0, 2**32 - 1),
    "phone": st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z"),
    "crypto-wallet": st.from_regex(r"\A0x[0-9a-fA-F]{40}\Z"),
    "social-account": st.from_regex(r"\A@[A-Za-z0-9_]{1,20}\Z"),
}


@pytest.mark.parametrize("kind", sorted(_SAMPLES))
def test_normalisers_are_idempotent(kind: str) -> None:
    @given(_SAMPLES[kind])
    def check(value: str | int) -> None:
        once = NORMALIZERS[kind](value)
        assert NORMALIZERS[kind](once) == once

    check()
