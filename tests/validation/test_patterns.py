"""STIX patterns: the fast recogniser never accepts what the ANTLR reference rejects."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.validation.pattern_grammar import quick_verdict
from converters.validation.patterns import _reference_problems, pattern_problems

VALID = [
    "[ipv4-addr:value = '198.51.100.7']",
    "[domain-name:value = 'scam.example.com']",
    "[url:value = 'https://example.com/a?b=c']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[email-message:from_ref.value = 'a@example.com' AND email-message:subject LIKE '%inv%']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' OR network-traffic:dst_port = 443]",
    "([ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '5.6.7.8']) WITHIN 600 SECONDS",
    "[file:name MATCHES '^evil.*\\\\.exe$'] REPEATS 3 TIMES",
    "[x-atlas-wallet:value IN ('bc1qxyz', 'bc1qabc')]",
    "[process:pid > 4 AND process:name NOT = 'svchost.exe']",
    "[file:size >= -1.5] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00.5Z'",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[artifact:payload_bin = b'aGVsbG8=' AND artifact:x_raw = h'00ff']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] FOLLOWEDBY [url:value = 'x']",
    "[user-account:id = 'user-account--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f']",
    "[x-ab:c_d = true]",
]

INVALID = [
    "[ipv4-addr:value = '198.51.100.7'",
    "ipv4-addr:value = '198.51.100.7'",
    "[ipv4-addr:value == ]",
    "[file:hashes.MD5 = 'abc']",
    "[IPV4-addr:value = '1']",
    "[ipv4-addr:Value = '1']",
    "[x-foo:ab = '1']",
    "[file:name = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "[file:name = 'a'] WITHIN -5 SECONDS",
    "[file:name = 'a\\q']",
    "[file:x[-1] = 'a']",
    "[a_b:c_d = true]",
    "[artifact:hashes.'SHA-1' = h'00ff']",
    "[]",
    "",
]


@pytest.mark.parametrize("pattern", VALID)
def test_common_patterns_are_recognised_without_antlr(pattern: str) -> None:
    assert quick_verdict(pattern, "2.1")
    assert _reference_problems(pattern, "2.1") == ()


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_patterns_are_refused_by_both(pattern: str) -> None:
    assert not quick_verdict(pattern, "2.1")
    assert _reference_problems(pattern, "2.1") != ()
    assert pattern_problems(pattern, "2.1") != ()


def test_other_versions_go_to_the_reference() -> None:
    assert not quick_verdict("[file:name = 'a']", "2.0")
    assert pattern_problems("[file:name = 'a']", "2.0") == ()


def test_a_problem_says_where() -> None:
    (problem,) = pattern_problems("[ipv4-addr:value = '198.51.100.7'", "2.1")
    assert problem.startswith("at 1:")


_ALPHABET = "[]()':=.,*<>!-+_ \\ANDORNOTINLIKEMATCHESWITHINSECONDSREPEATSTIMESSTARTSTOPtbhxz09"


@st.composite
def noisy_patterns(draw: st.DrawFn) -> str:
    """A valid pattern with a few characters cut, repeated or inserted."""
    pattern = list(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(pattern)))
        edit = draw(st.sampled_from(["cut", "insert", "repeat"]))
        if edit == "cut" and at < len(pattern):
            del pattern[at]
        elif edit == "insert":
            pattern.insert(at, draw(st.sampled_from(_ALPHABET)))
        elif at < len(pattern):
            pattern.insert(at, pattern[at])
    return "".join(pattern)


_TYPES = ["file", "ipv4-addr", "x-atlas-wallet", "network-traffic", "a_b", "Bad", "true", "ab"]
_PATHS = ["name", "value", "hashes.MD5", "hashes.'SHA-256'", "x[0].y", "x[*]", "x[-1]", "id",
          "extensions.'a-ext'.b", "ab", "Name", "na-me", "true", "'quoted name'"]  # fmt: skip
_OPERATORS = ["=", "==", "!=", "<>", "<", ">=", "NOT =", "IN", "NOT IN", "LIKE", "MATCHES",
              "ISSUBSET", "ISSUPERSET", "NOT LIKE", "EXISTS"]  # fmt: skip
_LITERALS = ["'a'", "'d41d8cd98f00b204e9800998ecf8427e'", "'a\\'b'", "5", "-5", "+5", "0.5",
             "-.5", "true", "h'00ff'", "h'0'", "b'aGVsbG8='", "b'abc'", "t'2024-01-01T00:00:00Z'",
             "t'2024-13-01T00:00:00Z'", "('a', 'b')", "()", "('a',)", "05"]  # fmt: skip
_QUALIFIERS = ["", " WITHIN 5 SECONDS", " WITHIN 0.5 SECONDS", " REPEATS 2 TIMES",
               " START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
               " WITHIN 5 SECONDS WITHIN 6 SECONDS", " REPEATS -1 TIMES"]  # fmt: skip


@st.composite
def grammar_patterns(draw: st.DrawFn) -> str:
    """Patterns assembled from pieces of the grammar, valid and not."""

    def comparison() -> str:
        return (
            f"{draw(st.sampled_from(_TYPES))}:{draw(st.sampled_from(_PATHS))} "
            f"{draw(st.sampled_from(_OPERATORS))} {draw(st.sampled_from(_LITERALS))}"
        )

    def observation() -> str:
        tests = [comparison() for _ in range(draw(st.integers(1, 3)))]
        joined = tests[0]
        for test in tests[1:]:
            joined = f"{joined} {draw(st.sampled_from(['AND', 'OR']))} {test}"
        if draw(st.booleans()):
            joined = f"({joined})"
        return f"[{joined}]{draw(st.sampled_from(_QUALIFIERS))}"

    parts = [observation() for _ in range(draw(st.integers(1, 3)))]
    pattern = parts[0]
    for part in parts[1:]:
        pattern = f"{pattern} {draw(st.sampled_from(['AND', 'OR', 'FOLLOWEDBY']))} {part}"
    if draw(st.booleans()):
        pattern = f"({pattern}){draw(st.sampled_from(_QUALIFIERS))}"
    return pattern


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(grammar_patterns())
def test_grammar_built_patterns_get_the_reference_verdict(pattern: str) -> None:
    reference_accepts = _reference_problems(pattern, "2.1") == ()
    if quick_verdict(pattern, "2.1"):
        assert reference_accepts, pattern
    assert (pattern_problems(pattern, "2.1") == ()) == reference_accepts, pattern


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.one_of(noisy_patterns(), st.text(_ALPHABET, max_size=40)))
def test_whatever_the_recogniser_accepts_the_reference_accepts(pattern: str) -> None:
    if quick_verdict(pattern, "2.1"):
        assert _reference_problems(pattern, "2.1") == (), pattern
