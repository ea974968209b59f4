"""The transform registry: small pure functions a mapping names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from converters import Policy, load_package
from converters.errors import TransformError
from converters.ids import sco_id
from converters.transforms import TRANSFORMS, TransformContext

from .conftest import PACKAGES


@pytest.fixture(scope="module")
def context() -> TransformContext:
    package = load_package(PACKAGES / "RP-2024-0031.yaml", policy=Policy(allow_unverified=True))
    return TransformContext(package, {"kinds": {"group": ["crime-syndicate"]}})


def _apply(name: str, value: object, context: TransformContext, **args: object) -> object:
    return TRANSFORMS[name].function(value, args, context)


def test_every_transform_is_documented() -> None:
    for spec in TRANSFORMS.values():
        assert spec.summary, spec.name


_PATTERN_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60
)


@given(_PATTERN_TEXT)
def test_patterns_are_valid_for_any_value(value: str) -> None:
    """Quotes, backslashes and everything else are escaped (STIX 2.1 §9)."""
    context = TransformContext(None, {})  # type: ignore[arg-type]
    for kind in ("domain-name", "url", "email-addr", "ipv4-addr"):
        sco = {"type": kind, "id": sco_id({"type": kind, "value": value}), "value": value}
        pattern = TRANSFORMS["stix_pattern"].function(sco, {}, context)
        assert run_validator(pattern, stix_version="2.1") == [], pattern


@pytest.mark.parametrize(
    ("sco", "pattern"),
    [
        ({"type": "domain-name", "value": "a.example"}, "[domain-name:value = 'a.example']"),
        (
            {"type": "url", "value": "https://a.example/?q=it's\\x"},
            "[url:value = 'https://a.example/?q=it\\'s\\\\x']",
        ),
        (
            {"type": "file", "hashes": {"SHA-256": "ab" * 32}},
            "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']",
        ),
        (
            {"type": "file", "hashes": {"MD5": "cd" * 16}},
            "[file:hashes.'MD5' = '" + "cd" * 16 + "']",
        ),
        (
            {"type": "file", "hashes": {"MD5": "cd" * 16, "SHA-256": "ab" * 32}},
            "[(file:hashes.'MD5' = '"
            + "cd" * 16
            + "' OR file:hashes.'SHA-256' = '"
            + "ab" * 32
            + "')]",
        ),
        ({"type": "autonomous-system", "number": 64511}, "[autonomous-system:number = 64511]"),
        (
            {"type": "user-account", "account_type": "telegram", "user_id": "@x"},
            "[user-account:account_type = 'telegram' AND user-account:user_id = '@x']",
        ),
    ],
)
def test_stix_pattern(sco: dict[str, object], pattern: str, context: TransformContext) -> None:
    assert _apply("stix_pattern", sco, context) == pattern
    assert run_validator(pattern, stix_version="2.1") == []


def test_stix_pattern_needs_an_sco(context: TransformContext) -> None:
    with pytest.raises(TransformError, match="stix_pattern needs an SCO"):
        _apply("stix_pattern", "a.example", context)


def test_lookup(context: TransformContext) -> None:
    assert _apply("lookup", "group", context, table="kinds") == ["crime-syndicate"]
    with pytest.raises(TransformError) as caught:
        _apply("lookup", "individual", context, table="kinds")
    assert caught.value.summary == "table kinds has no entry for 'individual'"


def test_external_references(context: TransformContext) -> None:
    assert _apply("external_references", ["forum-thread", "leak-monitor"], context) == [
        {
            "source_name": "Affiliate recruitment thread (archived)",
            "description": "osint, retrieved 2024-02-01T00:00:00.000Z",
        },
        {
            "source_name": "Leak-site monitor",
            "description": "osint",
            "url": "https://leakmonitor.example/coldharbor",
        },
    ]
    assert _apply("external_references", [], context) is None


def test_attack_reference(context: TransformContext) -> None:
    assert _apply("attack_reference", "T1566.002", context) == [
        {
            "source_name": "mitre-attack",
            "external_id": "T1566.002",
            "url": "https://attack.mitre.org/techniques/T1566/002/",
        }
    ]
    assert _apply("attack_reference", "T1656", context)[0]["url"] == (  # type: ignore[index]
        "https://attack.mitre.org/techniques/T1656/"
    )


def test_small_transforms(context: TransformContext) -> None:
    assert _apply("listed", "healthcare", context) == ["healthcare"]
    assert _apply("keyed", "ab", context, key="SHA-256") == {"SHA-256": "ab"}
    assert _apply("iban", "NL64EXMP0417728391", context) == "NL64EXMP0417728391"
    assert _apply("iban", "123-4567890-12", context) is None
    assert _apply("account_number", "123-4567890-12", context) == "123-4567890-12"
    assert _apply("account_number", "NL64EXMP0417728391", context) is None
