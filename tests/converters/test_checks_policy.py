"""What a conversion tolerates: wallet and IBAN checksums (errors unless lenient),
unverified data points (refused unless allowed, then marked in STIX), display names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import PackageError, Policy, convert_package, load_package
from converters.checksums import iban_problem, wallet_problem
from converters.package_checks import UNVERIFIED_CONFIDENCE
from taxii_server.cli import main

_PACKAGE = """\
format: atlas-package/1
id: RP-2024-0998
revision: 1
title: Checks
published: 2024-06-11
tlp: amber
confidence: 80
authors: [{name: Example Bank FIU}]
data_points:
"""

# Valid addresses of each chain the converter checks (standard test vectors and
# addresses derived from hashes of labels: they belong to no one).
VALID = [
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),  # legacy, Base58Check
    ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # P2SH
    ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),  # bech32, witness v0
    ("BTC", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"),  # bech32 upper case
    ("BTC", "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"),  # bech32m, v1
    ("ETH", "0x52908400098527886E0F7030069857D2E4169EE7"),  # EIP-55
    ("ETH", "0x52908400098527886e0f7030069857d2e4169ee7"),  # one case: no checksum
    ("USDT-ERC20", "0xabCDeF0123456789AbcdEf0123456789aBCDEF01"),
    ("USDT-TRC20", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"),
    ("TRX", "TLNWXMdHNv8GkLeCmMrNi4op852835vKmG"),
    (
        "XMR",
        "49HjJN4ZbLjDFqe3Mus7mPZBE6Q27cRGtPLfyuNejGdYZhvke36zj1xGq5kDCbSCXbc5TLTR7vygzVDYTcgFURLaLe4Gdds",
    ),  # fmt: skip # noqa: E501
    (
        "XMR",
        "89JZu9GXu4zavCrprHJBhqe93rCDYAXGS75C8qoi1DKuKQwCfbZMM3tHxwH5H7Mx5ZaTPoHrEcTBEXyKiHYt47L6Q8ar72s",
    ),  # fmt: skip # noqa: E501
    ("LTC", "anything-goes-for-an-unchecked-chain"),
]

BROKEN = [
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "Base58Check checksum (legacy address)"),
    ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", "Base58Check checksum (P2SH address)"),
    ("BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr", "bech32/bech32m checksum"),
    ("BTC", "bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "one case, not mixed"),
    # BIP 350: a witness v1 address encoded with bech32 (not bech32m) is invalid.
    (
        "BTC",
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
        "bech32",
    ),  # fmt: skip # noqa: E501
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNV0O", "Base58 does not use"),
    ("BTC", "xpub-not-an-address", "not a Bitcoin address"),
    ("ETH", "0x52908400098527886E0F7030069857D2E4169Ee7", "EIP-55"),
    ("ETH", "0x5290", "not an Ethereum address"),
    ("USDT-TRC20", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv9", "Base58Check checksum (TRON)"),
    (
        "XMR",
        "49HjJN4ZbLjDFqe3Mus7mPZBE6Q27cRGtPLfyuNejGdYZhvke36zj1xGq5kDCbSCXbc5TLTR7vygzVDYTcgFURLaLe4Gddt",
        "Keccak-256",
    ),  # fmt: skip # noqa: E501
]


@pytest.mark.parametrize(("currency", "address"), VALID)
def test_valid_wallets_verify(currency: str, address: str) -> None:
    assert wallet_problem(address, currency) is None


@pytest.mark.parametrize(("currency", "address", "reason"), BROKEN)
def test_broken_wallets_say_why(currency: str, address: str, reason: str) -> None:
    problem = wallet_problem(address, currency)
    assert problem is not None and reason in problem


def test_iban_checks() -> None:
    assert iban_problem("NL91ABNA0417164300") is None
    assert "wrong check digits" in str(iban_problem("NL92ABNA0417164300"))
    assert "format of GB" in str(iban_problem("GB82WEST1234569876543X"))


def _write(tmp_path: Path, *points: str) -> Path:
    path = tmp_path / "package.yaml"
    path.write_text(_PACKAGE + "".join(f"  - {p}\n" for p in points), encoding="utf-8")
    return path


def test_checksums_are_errors_by_default_and_warnings_when_lenient(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "{ref: w, type: crypto-wallet, currency: BTC, value: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3}",
        "{ref: b, type: bank-account, value: NL92 ABNA 0417 1643 00}",
    )
    with pytest.raises(PackageError) as caught:
        load_package(path)
    assert [(p.path, p.line, p.severity) for p in caught.value.problems] == [
        ("$.data_points[0].value", 10, "error"),
        ("$.data_points[1].value", 11, "error"),
    ]
    assert "BTC address 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 fails its Base58Check" in str(
        caught.value
    )
    assert "(--lenient makes this a warning)" in str(caught.value)
    package = load_package(path, policy=Policy(lenient=True))
    assert [p.severity for p in package.warnings] == ["warning", "warning"]
    assert "IBAN NL92ABNA0417164300 has wrong check digits" in str(package.warnings[1])


def test_eip55_is_checked_before_hex_addresses_are_folded(tmp_path: Path) -> None:
    good = "0x52908400098527886E0F7030069857D2E4169EE7"
    path = _write(tmp_path, f"{{ref: w, type: crypto-wallet, currency: ETH, value: '{good}'}}")
    assert load_package(path).items["w"].fields["value"] == good.lower()
    bad = good[:-2] + "e7"
    path = _write(tmp_path, f"{{ref: w, type: crypto-wallet, currency: ETH, value: '{bad}'}}")
    with pytest.raises(PackageError, match="EIP-55"):
        load_package(path)


def test_unverified_data_points_are_refused_naming_them(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "{ref: d1, type: domain, value: ok.example}",
        "{ref: d2, type: domain, value: maybe.example, vetting: {status: unverified}}",
    )
    with pytest.raises(PackageError) as caught:
        load_package(path)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == ("$.data_points[1].vetting.status", 11)
    assert "data point 'd2' is unverified" in problem.message


def test_allowed_unverified_points_get_low_confidence_and_a_label(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "{ref: d1, type: domain, value: ok.example}",
        "{ref: d2, type: domain, value: maybe.example, vetting: {status: unverified}}",
        "{ref: d3, type: domain, value: low.example, confidence: 5, vetting: {status: unverified}}",
    )
    objects = convert_package(path, policy=Policy(allow_unverified=True))["objects"]
    indicators = {o["name"]: o for o in objects if o["type"] == "indicator"}
    assert indicators["ok.example"]["confidence"] == 80
    assert "labels" not in indicators["ok.example"]
    assert indicators["maybe.example"]["confidence"] == UNVERIFIED_CONFIDENCE
    assert indicators["maybe.example"]["labels"] == ["unverified"]
    assert indicators["low.example"]["confidence"] == 5  # a lower confidence is kept


def test_cli_refuses_unverified_and_checksums_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        "{ref: d2, type: domain, value: maybe.example, vetting: {status: unverified}}",
        "{ref: b, type: bank-account, value: NL92ABNA0417164300}",
    )
    out = tmp_path / "bundle.json"
    assert main(["convert", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'d2' is unverified" in err and "wrong check digits" in err
    assert not out.exists()
    assert main(["convert", "--lenient", "--allow-unverified", str(path), "-o", str(out)]) == 0
    assert "warning: IBAN NL92ABNA0417164300" in capsys.readouterr().err
    assert json.loads(out.read_bytes())["type"] == "bundle"


def test_strict_and_lenient_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["convert", "--strict", "--lenient", "x.yaml"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_social_accounts_with_spaces_are_display_names(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "{ref: s1, type: social-account, platform: facebook, value: '  Harbour   Line Help '}",
        "{ref: s2, type: social-account, platform: telegram, value: '@harbourline'}",
    )
    objects = convert_package(path)["objects"]
    accounts = {o["user_id"]: o for o in objects if o["type"] == "user-account"}
    assert accounts["Harbour Line Help"]["display_name"] == "Harbour Line Help"
    assert "display_name" not in accounts["@harbourline"]
