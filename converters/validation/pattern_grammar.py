"""A fast recogniser for STIX 2.1 patterns that only ever says "valid".

It follows the OASIS ANTLR grammar (``STIXPattern.g4`` of ``stix2patterns``, STIX 2.1
Part 9 / §9) for the constructs indicators use, and applies the same extra checks
as the reference: no qualifier type twice on one observation, hash literals that fit
their algorithm, object type and property names of the right form.  Anything it does
not handle (comments, ``EXISTS``, negative indexes, 2.0 patterns, ...) and anything
invalid yields ``False``, and :mod:`.patterns` asks the ANTLR parser, whose word is
final.  ``tests/validation/test_patterns.py`` checks that every pattern accepted here
is accepted there.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["PROPERTY_NAME", "SCO_TYPES", "TYPE_NAME", "quick_verdict"]

_WS = "[ \t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_B64 = "[A-Za-z0-9+/]"
_TIMESTAMP = (
    r"t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'"
)
# Token kinds, in the order that gives ANTLR's longest-match result for each start.
_TOKENS: Final = re.compile(
    "|".join(
        [
            rf"(?P<ws>{_WS}+)",
            r"(?P<str>'(?:[^'\\]|\\'|\\\\)*')",
            rf"(?P<ts>{_TIMESTAMP})",
            r"(?P<hex>h'(?:[A-Fa-f0-9]{2})*')",
            rf"(?P<bin>b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)')",
            r"(?P<float>[+-]?[0-9]*\.[0-9]+)",
            r"(?P<int>[+-]?(?:0|[1-9][0-9]*))",
            r"(?P<word>[a-zA-Z_][a-zA-Z0-9_-]*)",
            r"(?P<op>==|!=|<>|<=|>=|=|<|>)",
            r"(?P<punct>[:.,()\[\]*])",
        ]
    )
)
_KEYWORDS: Final = frozenset(
    {"AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS",
     "LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES", "true", "false"}
)  # fmt: skip
_LITERALS: Final = frozenset({"str", "ts", "hex", "bin", "float", "int", "bool"})
_ORDERABLE: Final = _LITERALS - {"bool"}
_STRING_OPERATORS: Final = frozenset({"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"})

# Hash literal rules of stix2patterns (v21/object_validator.py), for the algorithms
# whose rule is a plain length; a comparison on another listed algorithm is left to it.
_HASHES: Final = {
    "MD5": re.compile("[a-fA-F0-9]{32}"),
    "RIPEMD160": re.compile("[a-fA-F0-9]{40}"),
    "SHA1": re.compile("[a-fA-F0-9]{40}"),
    "SHA224": re.compile("[a-fA-F0-9]{56}"),
    "SHA256": re.compile("[a-fA-F0-9]{64}"),
    "SHA384": re.compile("[a-fA-F0-9]{96}"),
    "SHA512": re.compile("[a-fA-F0-9]{128}"),
    "SHA3224": re.compile("[a-fA-F0-9]{56}"),
    "SHA3256": re.compile("[a-fA-F0-9]{64}"),
    "SHA3384": re.compile("[a-fA-F0-9]{96}"),
    "SHA3512": re.compile("[a-fA-F0-9]{128}"),
    "SSDEEP": re.compile("[a-zA-Z0-9/+:.]{1,128}"),
    "WHIRLPOOL": re.compile("[a-fA-F0-9]{128}"),
}
_UNCHECKED_HASHES: Final = frozenset({"MD6"})

#: stix2-validator's rules for names used in comparisons (v21/musts.py ``patterns``).
TYPE_NAME: Final = re.compile(r"-?[a-z0-9]+(-[a-z0-9]+)*-?\Z")
PROPERTY_NAME: Final = re.compile(r"[a-z0-9_]{3,250}\Z")
#: The STIX 2.1 SCO types (§6); names of other types are only checked for their form.
SCO_TYPES: Final = frozenset(
    {"artifact", "autonomous-system", "directory", "domain-name", "email-addr",
     "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
     "network-traffic", "process", "software", "url", "user-account",
     "windows-registry-key", "x509-certificate"}
)  # fmt: skip


# Most indicators hold one comparison of a property path with a string: one regular
# expression recognises those, the parser the rest.  Names are lowercase and start
# with a letter (no keyword but true/false, no number); spaces are the only whitespace.
# Strings are unrolled, '[^'\\]*(?:\\['\\][^'\\]*)*': no alternation per character.
_ONE_COMPARISON: Final = re.compile(
    r"\[ *(?P<type>[a-z][a-z0-9-]*):(?P<first>[a-z][a-z0-9_]*)"
    r"(?P<rest>(?:\.(?:[a-z][a-z0-9_]*|'[^'\\]*(?:\\['\\][^'\\]*)*'))*)"
    r"(?: *(?:=|!=)| +(?:LIKE|MATCHES)) *(?P<value>'[^'\\]*(?:\\['\\][^'\\]*)*') *\]\Z"
)
_PATH_STEP: Final = re.compile(r"\.(?:([a-z][a-z0-9_]*)|'([^'\\]*(?:\\['\\][^'\\]*)*)')")
_BOOLEANS: Final = frozenset({"true", "false"})


def _one_comparison(pattern: str) -> bool:
    """The single-comparison shortcut; True only when the pattern is certainly valid."""
    match = _ONE_COMPARISON.match(pattern)
    if match is None:
        return False
    object_type, first, rest = match.group("type", "first", "rest")
    path: list[str | int | None] = [first]
    for name, quoted in _PATH_STEP.findall(rest):
        if name in _BOOLEANS:
            return False
        path.append(name or quoted.replace("\\'", "'").replace("\\\\", "\\"))
    if object_type in _BOOLEANS or first in _BOOLEANS:
        return False
    try:
        _check_names(object_type, first)
        _check_hash(path, match.group("value"))
    except _Decline:
        return False
    return True


class _Decline(Exception):
    """Not recognised here: the ANTLR parser decides."""


def quick_verdict(pattern: str, version: str) -> bool:
    """True when ``pattern`` is certainly a valid STIX ``version`` pattern."""
    if version != "2.1":
        return False
    if _one_comparison(pattern):
        return True
    try:
        tokens = _tokenize(pattern)
        _Parser(tokens).pattern()
    except _Decline:
        return False
    return True


def _tokenize(pattern: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position, end = 0, len(pattern)
    while position < end:
        match = _TOKENS.match(pattern, position)
        if match is None:
            raise _Decline
        kind, text = match.lastgroup or "", match.group()
        position = match.end()
        if kind == "ws":
            continue
        if kind == "word":
            if text in ("true", "false"):
                kind = "bool"
            elif text in _KEYWORDS:
                kind = text
        elif kind in ("op", "punct"):
            kind = text
        tokens.append((kind, text))
    tokens.append(("eof", ""))
    return tokens


class _Parser:
    """Recursive descent over the STIX 2.1 pattern grammar (left recursion as loops)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

    def _peek(self) -> str:
        return self.tokens[self.at][0]

    def _take(self, *kinds: str) -> str:
        kind, text = self.tokens[self.at]
        if kind not in kinds:
            raise _Decline
        self.at += 1
        return text

    def pattern(self) -> None:
        self._observations()
        self._take("eof")

    def _observations(self) -> None:
        self._observation_or()
        while self._peek() == "FOLLOWEDBY":
            self.at += 1
            self._observation_or()

    def _observation_or(self) -> None:
        self._observation_and()
        while self._peek() == "OR":
            self.at += 1
            self._observation_and()

    def _observation_and(self) -> None:
        self._observation()
        while self._peek() == "AND":
            self.at += 1
            self._observation()

    def _observation(self) -> None:
        if self._take("[", "(") == "[":
            self._comparison()
            self._take("]")
            simple = True
        else:
            self._observations()
            self._take(")")
            simple = False
        seen: set[str] = set()
        while self._peek() in ("START", "WITHIN", "REPEATS"):
            qualifier = self._take("START", "WITHIN", "REPEATS")
            if qualifier == "START":
                self._take("ts")
                self._take("STOP")
                self._take("ts")
            elif qualifier == "WITHIN":
                if self._take("int", "float").startswith("-"):
                    raise _Decline
                self._take("SECONDS")
            else:
                if self._take("int").startswith("-"):
                    raise _Decline
                self._take("TIMES")
            if simple and qualifier in seen:
                raise _Decline  # the reference rejects a repeated qualifier type
            seen.add(qualifier)

    def _comparison(self) -> None:
        self._comparison_and()
        while self._peek() == "OR":
            self.at += 1
            self._comparison_and()

    def _comparison_and(self) -> None:
        self._test()
        while self._peek() == "AND":
            self.at += 1
            self._test()

    def _test(self) -> None:
        if self._peek() == "(":
            self.at += 1
            self._comparison()
            self._take(")")
            return
        object_type, path = self._object_path()
        if self._peek() == "NOT":
            self.at += 1
        operator = self._peek()
        self.at += 1
        if operator in ("=", "==", "!=", "<>"):
            value = self._take(*_LITERALS)
        elif operator in ("<", "<=", ">", ">="):
            value = self._take(*_ORDERABLE)
        elif operator == "IN":
            value = self._set()
        elif operator in _STRING_OPERATORS:
            value = self._take("str")
        else:
            raise _Decline
        _check_names(object_type, path[0])
        _check_hash(path, value)

    def _set(self) -> str:
        texts = [self._take("(")]
        if self._peek() != ")":
            texts.append(self._take(*_LITERALS))
            while self._peek() == ",":
                texts.append(self._take(","))
                texts.append(self._take(*_LITERALS))
        texts.append(self._take(")"))
        return "".join(texts)

    def _object_path(self) -> tuple[str, list[str | int | None]]:
        object_type = self._take("word")
        self._take(":")
        path: list[str | int | None] = [self._path_key()]
        while self._peek() in (".", "["):
            if self._take(".", "[") == ".":
                path.append(self._path_key())
            else:
                index = self._take("int", "*")
                if index.startswith(("-", "+")):
                    raise _Decline
                path.append(None if index == "*" else int(index))
                self._take("]")
        return object_type, path

    def _path_key(self) -> str:
        kind, text = self.tokens[self.at]
        self.at += 1
        if kind == "word" and "-" not in text:
            return text
        if kind == "str":
            return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        raise _Decline


def _check_names(object_type: str, name: str | int | None) -> None:
    if object_type not in SCO_TYPES and (
        not 3 <= len(object_type) <= 250 or not TYPE_NAME.match(object_type)
    ):
        raise _Decline
    if not isinstance(name, str):
        raise _Decline
    if not PROPERTY_NAME.match(name) and not (name == "id" and object_type in SCO_TYPES):
        raise _Decline


def _check_hash(path: list[str | int | None], value: str) -> None:
    selector = path[-1]
    if "hashes" not in path or not isinstance(selector, str):
        return
    algorithm = selector.upper().replace("-", "").replace("'", "")
    if algorithm in _UNCHECKED_HASHES:
        raise _Decline
    rule = _HASHES.get(algorithm)
    if rule is not None and not rule.fullmatch(value.replace("'", "")):
        raise _Decline
