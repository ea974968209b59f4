"""Content negotiation (TAXII 2.1 §3.1), as functions; over HTTP in test_negotiation.py."""

from __future__ import annotations

import pytest

from taxii_server.errors import UnsupportedMediaType
from taxii_server.media import accepts_taxii, check_content_type, parse_media_range

SERVED = [
    pytest.param(None, id="no-accept"),
    pytest.param("", id="empty"),
    pytest.param("application/taxii+json;version=2.1", id="taxii2-client"),
    pytest.param("application/taxii+json; version=2.1", id="space-before-param"),
    pytest.param('application/taxii+json;version="2.1"', id="quoted-version"),
    pytest.param("application/taxii+json", id="unversioned"),
    pytest.param("APPLICATION/TAXII+JSON;Version=2.1", id="upper-case"),
    pytest.param("*/*", id="any"),
    pytest.param("application/*", id="application-any"),
    pytest.param("application/json", id="plain-json"),
    pytest.param("text/html, */*;q=0.1", id="browser-like"),
    pytest.param(
        "application/taxii+json;version=2.0, application/taxii+json;version=2.1;q=0.5",
        id="2.0-preferred-2.1-fine",
    ),
    pytest.param("application/taxii+json;version=2.1;charset=utf-8", id="extra-param"),
    pytest.param(
        "application/taxii+json;q=0, application/taxii+json;version=2.1", id="q0-less-specific"
    ),
    pytest.param("garbage, application/taxii+json", id="garbage-element-skipped"),
]

REFUSED = [
    pytest.param("application/taxii+json;version=2.0", id="taxii-2.0"),
    pytest.param("application/vnd.oasis.taxii+json;version=2.0", id="taxii-2.0-vnd"),
    pytest.param("application/stix+json;version=2.1", id="stix-bundle"),
    pytest.param("application/xml", id="xml"),
    pytest.param("text/html", id="html"),
    pytest.param("application/taxii+json;version=2.1;q=0", id="q0"),
    pytest.param("*/*, application/taxii+json;q=0", id="q0-more-specific"),
    pytest.param("application/taxii+json;q=2", id="q-out-of-range"),
    pytest.param("garbage", id="garbage"),
]


@pytest.mark.parametrize("accept", SERVED)
def test_served(accept: str | None) -> None:
    assert accepts_taxii(accept)


@pytest.mark.parametrize("accept", REFUSED)
def test_refused(accept: str) -> None:
    assert not accepts_taxii(accept)


def test_media_range_parts() -> None:
    media = parse_media_range(' Application/TAXII+json ; version = "2.1" ; q=0.3 ')
    assert media is not None
    assert (media.type, media.subtype, dict(media.params), media.q) == (
        "application",
        "taxii+json",
        {"version": "2.1"},
        0.3,
    )
    assert parse_media_range("nonsense") is None


@pytest.mark.parametrize(
    "content_type",
    [
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "application/taxii+json",
        "application/taxii+json;version=2.1;charset=utf-8",
    ],
)
def test_post_content_types_accepted(content_type: str) -> None:
    check_content_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
        "text/plain",
        "multipart/form-data; boundary=x",
    ],
)
def test_post_content_types_refused(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        check_content_type(content_type)
