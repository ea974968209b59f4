"""``Content-Encoding`` of a POST (issue 9, item 10): gzip is inflated under the same
``max_content_length`` as a plain body, so a zip bomb costs no more than the limit;
other codings are a 415 that says which are understood.  A gzip body used to be read
as it came and reported as "not valid JSON"."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import orjson
import pytest

from . import data
from .conftest import SHARED, SMALL, SMALL_MAX_CONTENT_LENGTH, SMALL_ROOT, Caller, objects_of, url
from .test_negotiation import assert_taxii_error

OBJECTS = url(SHARED, "objects")


def _envelope(*names: str) -> bytes:
    return orjson.dumps({"objects": [data.indicator(name) for name in names]})


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "GZip"])
def test_a_gzip_body_is_inflated_and_stored(taxii: Callable[..., Caller], coding: str) -> None:
    response = taxii("alice").post(
        OBJECTS, gzip.compress(_envelope("zipped")), headers={"Content-Encoding": coding}
    )
    assert response.status_code == 202, response.data
    assert orjson.loads(response.data)["success_count"] == 1
    stored = objects_of(taxii("alice").get(OBJECTS, {"match[id]": data.indicator("zipped")["id"]}))
    assert stored == [data.indicator("zipped")]


def test_a_body_of_several_gzip_members_is_read_whole(taxii: Callable[..., Caller]) -> None:
    body = _envelope("one", "two")
    middle = len(body) // 2
    response = taxii("alice").post(
        OBJECTS,
        gzip.compress(body[:middle]) + gzip.compress(body[middle:]),
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 202, response.data
    assert orjson.loads(response.data)["success_count"] == 2


def test_a_zip_bomb_is_413_without_inflating_past_the_limit(
    taxii: Callable[..., Caller],
) -> None:
    # 1 GB of spaces (valid JSON whitespace) inflates from about 1 MB.
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    bomb = b"".join(deflater.compress(block) for _ in range(1024)) + deflater.flush()
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        response = taxii("alice").post(OBJECTS, bomb, headers={"Content-Encoding": "gzip"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    body = assert_taxii_error(response, 413)
    assert "inflates to more than" in body["description"]
    assert body["details"] == {"max_content_length": 10 * 1024 * 1024}
    assert peak < 40 << 20  # the 10 MiB limit, a copy, and the bomb itself


def test_the_small_roots_limit_holds_after_inflating(taxii: Callable[..., Caller]) -> None:
    padded = orjson.dumps({"objects": [data.indicator("big") | {"description": "x" * 20_000}]})
    compressed = gzip.compress(padded)
    assert len(compressed) < SMALL_MAX_CONTENT_LENGTH < len(padded)
    response = taxii("alice").post(
        url(SMALL, "objects", root=SMALL_ROOT), compressed, headers={"Content-Encoding": "gzip"}
    )
    assert "max_content_length of 4096" in assert_taxii_error(response, 413)["description"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(_envelope("plain"), "not valid gzip", id="not-gzip"),
        pytest.param(gzip.compress(_envelope("cut"))[:-12], "ends early", id="truncated"),
        pytest.param(gzip.compress(_envelope("x")) + b"garbage", "not valid gzip", id="trailing"),
    ],
)
def test_a_body_that_is_not_gzip_is_400_saying_so(
    taxii: Callable[..., Caller], body: bytes, says: str
) -> None:
    response = taxii("alice").post(OBJECTS, body, headers={"Content-Encoding": "gzip"})
    assert says in assert_taxii_error(response, 400)["description"]


@pytest.mark.parametrize("coding", ["br", "deflate", "compress", "gzip, gzip"])
def test_other_codings_are_415_saying_which_are_understood(
    taxii: Callable[..., Caller], coding: str
) -> None:
    response = taxii("alice").post(
        OBJECTS, _envelope("other"), headers={"Content-Encoding": coding}
    )
    assert "Content-Encoding" in assert_taxii_error(response, 415)["description"]
    assert response.headers["Accept-Encoding"] == "gzip, identity"


def test_identity_is_a_plain_body(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").post(
        OBJECTS, _envelope("identity"), headers={"Content-Encoding": "identity"}
    )
    assert response.status_code == 202
