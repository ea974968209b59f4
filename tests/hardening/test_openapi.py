"""The OpenAPI description (``/taxii2/openapi.json``): served to anyone, a valid
OpenAPI 3.0 document, describing exactly the routes the app has, with parameter
patterns that admit every value the server accepts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema
import orjson
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.definitions import OPENAPI_30

from taxii_server.errors import TaxiiError
from taxii_server.openapi import OPENAPI_PATH, openapi_document
from taxii_server.query import Endpoint, check_object_id, parse_page_request
from taxii_server.timestamps import TimestampError, parse_timestamp
from tests.server.conftest import Caller

_PARAMETERS = openapi_document()["components"]["parameters"]


@pytest.mark.parametrize(
    "accept",
    [None, "application/json", "application/taxii+json;version=2.1", "text/html", "*/*"],
)
def test_served_to_anyone_as_json(taxii: Callable[..., Caller], accept: str | None) -> None:
    response = taxii(None, accept=accept).get(OPENAPI_PATH)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert orjson.loads(response.data) == openapi_document()


def test_errors_on_its_url_are_still_taxii_errors(taxii: Callable[..., Caller]) -> None:
    response = taxii(authorization="Basic !!!").get(OPENAPI_PATH)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/taxii+json;version=2.1"
    post = taxii("alice").post(OPENAPI_PATH, {"objects": []})
    assert post.status_code == 405
    assert post.headers["Content-Type"] == "application/taxii+json;version=2.1"


def test_is_a_valid_openapi_30_document() -> None:
    jsonschema.Draft4Validator(OPENAPI_30).validate(openapi_document())


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_describes_exactly_the_routes_of_the_app(app: Flask) -> None:
    served = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        # The workbench's pages (taxii_server.web) are HTML for people, not the API.
        if rule.endpoint != "static"
        and rule.rule != OPENAPI_PATH
        and not rule.endpoint.startswith("workbench.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    described = {
        (path, method) for path, item in openapi_document()["paths"].items() for method in item
    }
    assert described == served


def test_every_operation_documents_taxii_errors() -> None:
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            for code in ("400", "401", "404", "405", "406", "503"):
                content = operation["responses"][code]["content"]
                assert set(content) == {"application/taxii+json;version=2.1"}, (path, method)


def test_names_no_deployment_data(app: Flask) -> None:
    text = orjson.dumps(openapi_document()).decode()
    for name in ("community", "alice", "Shared"):
        assert name not in text


# -- the published patterns admit every value the server accepts -------------------------


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(_PARAMETERS[name]["schema"]["pattern"])


def _accepts(name: str, value: str) -> bool:
    try:
        parse_page_request({name: [value]}, Endpoint.OBJECTS, max_limit=10)
    except TaxiiError:
        return False
    return True


# Characters parsers and regular-expression engines disagree about: white space
# outside ASCII, other scripts' digits, case, separators.
_TRICKY = st.sampled_from(list(",. \t\n\x0b\x1c\u00a0\u2028\u0663\uff10TtZz:+-_"))


@st.composite
def _near(draw: st.DrawFn, pattern: re.Pattern[str]) -> str:
    """A value matching ``pattern``, with a few tricky characters put in or swapped."""
    value: str = draw(st.from_regex(pattern, fullmatch=True))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(value)))
        cut = draw(st.integers(0, 1))
        value = value[:at] + draw(_TRICKY) + value[at + cut :]
    return value


#: Query parameters with a pattern: (the OpenAPI parameter, the query-string name).
_PATTERNED = [
    ("match_id", "match[id]"),
    ("match_type", "match[type]"),
    ("match_version", "match[version]"),
    ("match_spec_version", "match[spec_version]"),
    ("added_after", "added_after"),
]
_SETTINGS = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize(("parameter", "name"), _PATTERNED)
def test_empty_values_the_server_accepts_match_the_pattern(parameter: str, name: str) -> None:
    for value in ("", " "):
        assert _accepts(name, value) == bool(_pattern(parameter).match(value)), repr(value)


@pytest.mark.parametrize(("parameter", "name"), _PATTERNED)
def test_values_the_server_accepts_match_the_pattern(parameter: str, name: str) -> None:
    pattern = _pattern(parameter)

    @_SETTINGS
    @given(_near(pattern))
    def check(value: str) -> None:
        if _accepts(name, value):
            assert pattern.match(value), value

    check()


def test_generated_ids_are_ids() -> None:
    pattern = _pattern("object_id")

    @_SETTINGS
    @given(st.from_regex(pattern, fullmatch=True))
    def check(value: str) -> None:
        assert check_object_id(value) == value

    check()


@pytest.mark.parametrize(
    "text",
    ["2024-01-01T00:00:00Z", "2024-01-01t00:00:00.5+02:00", " 2024-06-11T09:00:00.123456789Z\t"],
)
def test_timestamp_pattern_matches_what_is_parsed(text: str) -> None:
    assert _pattern("added_after").match(text)
    parse_timestamp(text.strip())


@pytest.mark.parametrize("text", ["٢٠٢٤-01-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01"])
def test_timestamps_outside_the_pattern_are_refused(text: str) -> None:
    assert not _pattern("added_after").match(text)
    with pytest.raises(TimestampError):
        parse_timestamp(text)


def _document_value(document: dict[str, Any], pointer: str) -> Any:
    value: Any = document
    for part in pointer.lstrip("#/").split("/"):
        value = value[part]
    return value


def test_every_reference_resolves() -> None:
    document = openapi_document()
    text = orjson.dumps(document).decode()
    for pointer in set(re.findall(r'"\$ref":"([^"]+)"', text)):
        assert _document_value(document, pointer) is not None
