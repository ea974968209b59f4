"""Content negotiation over HTTP (TAXII 2.1 §3.1): what real clients send is served;
every response, errors included, is TAXII 2.1 JSON."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from taxii_server.app import get_service
from taxii_server.media import MEDIA_TYPE_TAXII_V21

from . import data
from .conftest import SHARED, Caller, url


def assert_taxii_error(response: TestResponse, status: int) -> dict[str, str]:
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21
    body = orjson.loads(response.data)
    assert body["http_status"] == str(status)
    assert body["title"] and body["description"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("application/taxii+json;version=2.1", id="taxii2-client"),
        pytest.param("application/taxii+json; version=2.1", id="space"),
        pytest.param("application/taxii+json", id="unversioned"),
        pytest.param("*/*", id="any"),
        pytest.param("application/json", id="json"),
        pytest.param("application/xml;q=0.9, */*;q=0.1", id="q-values"),
        pytest.param(None, id="none"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [pytest.param("/taxii2/", id="discovery"), pytest.param(url(SHARED, "objects"), id="objects")],
)
def test_accept_headers_clients_send_are_served(
    taxii: Callable[..., Caller], accept: str | None, path: str
) -> None:
    response = taxii("alice", accept=accept).get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("application/taxii+json;version=2.0", id="taxii-2.0"),
        pytest.param("application/vnd.oasis.stix+json; version=2.0", id="stix-2.0"),
        pytest.param("text/html", id="html"),
        pytest.param("application/taxii+json;version=2.1;q=0", id="q0"),
    ],
)
def test_accept_headers_we_cannot_serve_are_406(taxii: Callable[..., Caller], accept: str) -> None:
    body = assert_taxii_error(taxii("alice", accept=accept).get(url(SHARED, "objects")), 406)
    assert "application/taxii+json;version=2.1" in body["description"]


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/taxii+json;version=2.1", id="taxii"),
        pytest.param("application/json", id="json"),
        pytest.param("text/plain", id="text"),
    ],
)
def test_content_type_on_get_is_ignored(taxii: Callable[..., Caller], content_type: str) -> None:
    # Elastic sends a Content-Type header on every GET.
    response = taxii("alice").get(url(SHARED, "objects"), headers={"Content-Type": content_type})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/taxii+json;version=2.1", id="versioned"),
        pytest.param("application/taxii+json", id="unversioned"),
        pytest.param("application/taxii+json; version=2.1; charset=utf-8", id="charset"),
    ],
)
def test_post_media_types_accepted(taxii: Callable[..., Caller], content_type: str) -> None:
    response = taxii("alice").post(
        url(SHARED, "objects"), {"objects": [data.indicator("posted")]}, content_type=content_type
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/json", id="json"),
        pytest.param("application/stix+json;version=2.1", id="stix"),
        pytest.param("application/taxii+json;version=2.0", id="taxii-2.0"),
        pytest.param("text/plain", id="text"),
        pytest.param(None, id="missing"),
    ],
)
def test_post_media_types_refused_with_415(
    taxii: Callable[..., Caller], content_type: str | None
) -> None:
    response = taxii("alice").post(
        url(SHARED, "objects"), {"objects": [data.indicator("posted")]}, content_type=content_type
    )
    assert_taxii_error(response, 415)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("put", url(SHARED, "objects"), 405, id="put-objects"),
        pytest.param("delete", url(SHARED), 405, id="delete-collection"),
        pytest.param("post", "/taxii2/", 405, id="post-discovery"),
        pytest.param("get", "/community/collections/shared/nothing/", 404, id="no-route"),
        pytest.param("get", "/", 404, id="root"),
    ],
)
def test_routing_errors_are_taxii_errors(
    client: Flask, method: str, path: str, status: int
) -> None:
    response = getattr(client, method)(path, headers={"Accept": MEDIA_TYPE_TAXII_V21})
    assert_taxii_error(response, status)


def test_unexpected_failure_is_a_taxii_500(
    app: Flask, taxii: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        service = get_service()

    def explode(*args: object) -> None:
        raise RuntimeError("database file eaten by a grue")

    monkeypatch.setattr(service, "objects", explode)
    body = assert_taxii_error(taxii("alice").get(url(SHARED, "objects")), 500)
    assert "grue" not in body["description"]


@pytest.mark.parametrize("method", ["head", "options"])
def test_automatic_responses_carry_the_taxii_type(client: Flask, method: str) -> None:
    response = getattr(client, method)("/taxii2/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21


def test_responses_are_not_cacheable(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").get(url(SHARED, "objects"))
    assert response.headers["Cache-Control"] == "no-store"
    assert "Authorization" in response.headers["Vary"]
