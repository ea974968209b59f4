"""TAXII resources rendered from store records."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from taxii_server.resources import _stamp, envelope_bytes
from taxii_server.storage.base import StoredObject
from taxii_server.timestamps import format_timestamp


@given(st.integers(min_value=-(10**16), max_value=253_402_300_799_999_999))
def test_cached_timestamps_are_formatted_like_format_timestamp(us: int) -> None:
    assert _stamp(us) == format_timestamp(us)


def test_envelope_is_assembled_from_stored_bytes_verbatim() -> None:
    rows = [
        StoredObject("a--1", 1, 1, "2.1", b'{"id":"a--1","x":[1,2]}'),
        StoredObject("b--2", 2, 2, "2.1", b'{"id":"b--2","y":"\\u00e9"}'),
    ]
    raw = envelope_bytes(rows, True, "tok")
    assert (
        raw == b'{"more":true,"next":"tok","objects":[' + rows[0].data + b"," + rows[1].data + b"]}"
    )
    assert orjson.loads(envelope_bytes([], False, None)) == {"more": False}
