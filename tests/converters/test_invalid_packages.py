"""Invalid packages are refused with every problem, its path or line, and exit 2.

The expected messages are part of the product: analysts act on them.  Nothing is
written, not even a partial file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.cli import main

from .conftest import ROOT

_TYPES_PREFIX = "expected one of domain, ipv4, ipv6, url, email, file-sha256, file-md5, asn, "
_CATEGORIES = (
    "bulletproof-hosting, phishing-kit, phishing-as-a-service, ransomware-as-a-service, "
    "initial-access-broker, botnet, crypter, marketplace, forum, money-laundering, "
    "mule-network, cash-out, scam-compound, call-centre, other"
)
_COLUMNS = (
    "bank.country, bank.name, bank.swift, confidence, currency, first_seen, last_seen, "
    "linked_to, platform, ref, role, sources, tlp, type, value, vetting.at, vetting.by, "
    "vetting.status"
)

EXPECTED: dict[str, list[str]] = {
    "unknown-fields": [
        "$ (line 2): missing required field 'title'",
        "$.titel (line 5): unknown field 'titel' (did you mean 'title'?); custom fields start "
        "with x_",
        "$.actors[0] (line 11): missing required field 'name'",
        "$.actors[0].nmae (line 12): unknown field 'nmae' (did you mean 'name'?); custom fields "
        "start with x_",
        "$.actors[0].Countries (line 14): unknown field 'Countries' (did you mean 'countries'?); "
        "custom fields start with x_",
        f"$.services[0].category (line 16): expected one of {_CATEGORIES}; got 'phishing-shop'",
    ],
    "dangling-refs": [
        "$.actors[0].sources[0] (line 11): an actor 'harbourline' refers to 'forum', which no "
        "item has (did you mean 'forum-post'?)",
        "$.services[0].operated_by[0] (line 13): a service 'kit' refers to 'harbourlin', which no "
        "item has (did you mean 'harbourline'?)",
        "$.services[1].used_by[0] (line 14): 'd1' is a data point; used_by takes refs of actors",
        "$.data_points[0].linked_to (line 16): duplicate entries: 'kit'",
        "$.data_points[1].ref (line 17): ref 'kit' is already used by $.services[0]",
        "$.chokepoints[0].targets[0] (line 19): 'forum-post' is a source; targets takes refs of "
        "services or actors or data points",
    ],
    "bad-values": [
        "$.first_published (line 7): 2024-07-01T00:00:00.000Z is after published "
        "(2024-06-11T09:00:00.000Z)",
        "$.confidence (line 9): expected an integer from 0 to 100, got 120",
        "$.actors[0].first_seen (line 13): '2024-02-30T00:00:00Z' is not a real date and time "
        "(day is out of range for month)",
        "$.actors[0].techniques[1] (line 13): expected a MITRE ATT&CK technique id such as T1566 "
        "or T1566.002, got 'T15'",
        "$.data_points[0].value (line 15): expected an IPv4 address such as 203.0.113.7, got "
        "'203.0.113.300'",
        "$.data_points[1].value (line 16): expected an IPv6 address such as 2001:db8::7, got "
        "'2001:db8::g'",
        "$.data_points[2] (line 17): missing required field 'currency': a crypto-wallet needs its "
        "ticker (BTC, ETH, USDT-TRC20…)",
        "$.data_points[3].value (line 18): expected a NL IBAN of 18 characters, got 20 in "
        "'NL91 EXMP 0417 1643 00 12'",
        "$.data_points[4].value (line 19): expected an international number (+CC …), got the "
        "national number '06 1234 5678'",
        "$.data_points[5].value (line 20): expected an e-mail address such as name@example.com, "
        "got 'not-an-address'",
        "$.data_points[6].value (line 21): expected 64 hexadecimal digits (SHA-256), got 'abc123'",
        "$.data_points[7].value (line 22): expected an AS number such as AS64511 (0 to "
        "4294967295), got 'AS-PRIVATE'",
        "$.data_points[8].value (line 23): expected an absolute URL such as "
        "https://example.com/x (RFC 3986: spaces, backslashes and non-ASCII characters "
        "percent-encoded, hosts in ASCII), got 'hxxps://exa mple[.]example/x'",
        "$.data_points[9].last_seen (line 24): 2024-04-01T00:00:00.000Z is before first_seen "
        "(2024-05-01T00:00:00.000Z)",
        "$.data_points[10] (line 25): missing required field 'platform': a social-account needs "
        "its platform (telegram, x, facebook…)",
        "$.data_points[11].currency (line 26): not allowed here: currency applies to type "
        "crypto-wallet only",
    ],
    "bad-csv": [
        f"fixtures/invalid/bad-csv.csv:1: unknown column 'colour'; known: {_COLUMNS}",
        "fixtures/invalid/bad-csv.csv:3: column value: expected an IPv4 address such as "
        "203.0.113.7, got '198.51.100.999'",
        "fixtures/invalid/bad-csv.csv:4: column linked_to: a data point 'd4' refers to 'hots', "
        "which no item has (did you mean 'host'?)",
        "fixtures/invalid/bad-csv.csv:5: column ref: ref 'd1' is already used by $.data_points[0]",
        f"fixtures/invalid/bad-csv.csv:6: column type: {_TYPES_PREFIX}crypto-wallet, bank-account, "
        "phone, social-account; got 'wallet'",
        "fixtures/invalid/bad-csv.csv:7: column confidence: expected an integer, got a string "
        "'high'",
        "fixtures/invalid/bad-csv.csv:8: expected 6 cells as in the header, found 3",
    ],
    "not-yaml": [
        "$ (line 5): not valid YAML: while scanning a quoted scalar from line 3: found unexpected "
        "end of stream",
    ],
    "duplicate-key": ["$ (line 7): not valid YAML: duplicate key 'tlp'"],
    "missing-csv": [
        "$.data_points_csv (line 9): fixtures/invalid/no-such-file.csv: cannot read file: No such "
        "file or directory",
    ],
    "not-a-package": ["$ (line 1): expected a mapping of package fields at the top level"],
    "alias-bomb": [
        "$ (line 14): YAML aliases expand this to 597,871 values, and a document of 45 values "
        "may expand to 100,000 in all: write the repeated values out, or repeat them less",
    ],
    "too-deep": ["$ (line 9): nested more than 100 levels deep"],
}

SUMMARIES = {
    "not-yaml": "cannot read the package",
    "duplicate-key": "cannot read the package",
    "not-a-package": "not a research package",
    "alias-bomb": "cannot read the package",
    "too-deep": "cannot read the package",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_package_is_refused_with_every_problem(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    package = f"fixtures/invalid/{name}.yaml"
    output = tmp_path / "bundle.json"
    assert main(["convert", package, "-o", str(output)]) == 2
    assert not output.exists() and list(tmp_path.iterdir()) == []
    captured = capsys.readouterr()
    assert captured.out == ""
    *problems, summary = captured.err.splitlines()
    expected = [
        line if line.startswith("fixtures/") else f"{package}: {line}" for line in EXPECTED[name]
    ]
    assert problems == expected
    count = len(expected)
    default = f"not a valid atlas-package/1 package ({count} problem{'s' * (count != 1)})"
    assert summary == f"atlas-taxii: error: {package}: {SUMMARIES.get(name, default)}"
    assert "Traceback" not in captured.err


def test_every_invalid_fixture_is_covered() -> None:
    names = {p.stem for p in (ROOT / "fixtures" / "invalid").glob("*.yaml")}
    assert names == set(EXPECTED)


def test_all_invalid_packages_of_one_call_are_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["convert", "fixtures/invalid/dangling-refs.yaml", "fixtures/packages/RP-2024-0007.yaml"]
    args += ["fixtures/invalid/bad-csv.yaml"]
    assert main(args) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(EXPECTED["dangling-refs"]) + len(EXPECTED["bad-csv"]) + 1
    assert lines[-1] == "atlas-taxii: error: 2 of 3 packages are invalid"


def _package_with(tmp_path: Path, extra: str) -> tuple[str, int]:
    """An example package with ``extra`` lines at its end, and the line they start on."""
    package = tmp_path / "package.yaml"
    lines = (ROOT / "fixtures" / "packages" / "RP-2024-0007.yaml").read_text("utf-8").splitlines()
    package.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return str(package), len(lines) + 1


def test_aliases_that_repeat_a_little_are_kept(tmp_path: Path) -> None:
    """Anchors and aliases are YAML: an analyst may repeat a block with them."""
    package, _ = _package_with(tmp_path, "x_regions: &r [emea, apac]\nx_again: [*r, *r]\n")
    output = tmp_path / "bundle.json"
    assert main(["convert", package, "-o", str(output)]) == 0
    assert '"x_again":[["emea","apac"],["emea","apac"]]' in output.read_text("utf-8")


_CONTAINS_ITSELF = "not valid YAML: an alias refers to a node that contains it"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("x_loop: &l [1, *l]\n", _CONTAINS_ITSELF),
        ("x_loop: &m {a: *m}\n", _CONTAINS_ITSELF),
        # Past PyYAML's recursion (about 330 levels) and below libyaml's limit (1,000).
        ("x_deep: " + "[" * 900 + "]" * 900 + "\n", "nested more than 100 levels deep"),
    ],
)
def test_recursive_and_deep_yaml_is_refused_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, expected: str
) -> None:
    package, line = _package_with(tmp_path, extra)
    assert main(["convert", package, "-o", str(tmp_path / "bundle.json")]) == 2
    err = capsys.readouterr().err
    assert f"{package}: $ (line {line}): {expected}" in err and "Traceback" not in err


def test_a_json_package_nested_too_deep_is_refused_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """orjson reads 1,024 levels, but writes only 255: the STIX output would fail."""
    package = tmp_path / "p.json"
    deep = "[" * 300 + "]" * 300
    package.write_text(
        '{"format": "atlas-package/1", "id": "RP-2024-0909", "data_points": '
        f'[{{"type": "domain", "value": "example.com", "x_deep": {deep}}}]}}',
        encoding="utf-8",
    )
    assert main(["convert", str(package), "-o", str(tmp_path / "bundle.json")]) == 2
    err = capsys.readouterr().err
    assert f"{package}: $.data_points[0].x_deep[0][0][0]…: nested more than 100 levels deep" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!int abc", "cannot read 'abc' as !!int"),
        ("!!int 0xZZ", "cannot read '0xZZ' as !!int"),
        ("!!float abc", "cannot read 'abc' as !!float"),
        ("!!bool maybe", "cannot read 'maybe' as !!bool"),
        ("!!timestamp 2024-13-45", "cannot read '2024-13-45' as !!timestamp"),
        ("!!timestamp soon", "cannot read 'soon' as !!timestamp"),
        ("!!map [a]", "cannot read this list as !!map"),
        ("9" * 5000, "a number of 5,000 digits: at most 4,300 are read"),
        ("{[a, b]: 1}", "a mapping key is a single value, not a list or a mapping"),
    ],
)
def test_a_value_yaml_cannot_construct_is_refused_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    """PyYAML's constructors raise ValueError, KeyError or AttributeError on these."""
    package, line = _package_with(tmp_path, f"x_value: {value}\n")
    assert main(["convert", package, "-o", str(tmp_path / "bundle.json")]) == 2
    err = capsys.readouterr().err
    assert f"{package}: $ (line {line}): not valid YAML: {expected}\n" in err
    assert "Traceback" not in err
