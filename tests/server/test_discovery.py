"""Server Discovery (§4.1), API root information (§4.2), URLs with and without "/"."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from taxii_server.media import MEDIA_TYPE_TAXII_V21

from .conftest import ROOT, SMALL_MAX_CONTENT_LENGTH, SMALL_ROOT, Caller


def test_discovery_lists_every_api_root_as_absolute_urls(taxii: Callable[..., Caller]) -> None:
    response = taxii("bob").get("/taxii2/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21
    body = orjson.loads(response.data)
    assert body["title"] == "atlas-taxii"
    assert body["contact"] == "desk@example.org"
    assert body["default"] == f"http://localhost/{ROOT}/"
    assert sorted(body["api_roots"]) == [
        "http://localhost/closed/",
        "http://localhost/community/",
        "http://localhost/small/",
    ]


def test_discovery_is_open_to_anonymous_callers(taxii: Callable[..., Caller]) -> None:
    assert taxii(None).get("/taxii2/").status_code == 200


def test_api_root_advertises_max_content_length(taxii: Callable[..., Caller]) -> None:
    body = orjson.loads(taxii("alice").get(f"/{SMALL_ROOT}/").data)
    assert body == {
        "title": "Small",
        "versions": [MEDIA_TYPE_TAXII_V21],
        "max_content_length": SMALL_MAX_CONTENT_LENGTH,
    }
    community = orjson.loads(taxii("alice").get(f"/{ROOT}/").data)
    assert community["description"] == "Shared intelligence"


def test_unknown_api_root_is_404(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").get("/nowhere/")
    assert response.status_code == 404
    assert "nowhere" in orjson.loads(response.data)["description"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/taxii2", id="discovery"),
        pytest.param(f"/{ROOT}", id="api-root"),
        pytest.param(f"/{ROOT}/collections", id="collections"),
        pytest.param(f"/{ROOT}/collections/shared", id="collection-by-alias"),
        pytest.param(f"/{ROOT}/collections/shared/objects", id="objects"),
        pytest.param(f"/{ROOT}/collections/shared/manifest", id="manifest"),
    ],
)
def test_urls_answer_without_trailing_slash_and_without_redirect(
    taxii: Callable[..., Caller], path: str
) -> None:
    with_slash = taxii("alice").get(path + "/")
    without = taxii("alice").get(path)
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.data == without.data
