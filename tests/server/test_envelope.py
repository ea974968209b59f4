"""taxii_server.envelope: an envelope's items and their ids, read without building them."""

from __future__ import annotations

import pytest

from taxii_server.envelope import parse_envelope
from taxii_server.errors import BadRequest
from taxii_server.ingest import check_identified

_ID = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def test_identifiers_skip_everything_but_the_id() -> None:
    items = parse_envelope(
        b'{"objects": [{"id": "%s", "n": 123456789012345678901234567890}, '
        b'{"type": "x"}, {"id": 3, "id": "x--1"}]}' % _ID.encode()
    )
    # The last of duplicate keys counts, as when the item itself is read.
    assert items.identifiers() == [_ID, None, "x--1"]
    assert [item.get("id") for item in items] == [_ID, None, "x--1"]


@pytest.mark.parametrize(
    "objects",
    [
        pytest.param(b'[{"id": "a"}, 3]', id="not-an-object"),
        pytest.param(b'[[{"id": "a"}]]', id="a-list"),
    ],
)
def test_identifiers_leave_a_bad_item_to_the_full_read(objects: bytes) -> None:
    assert parse_envelope(b'{"objects": %s}' % objects).identifiers() is None


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        pytest.param(b'[{"id": "%s"}, {"type": "x"}]', "$.objects[1].id: missing", id="no-id"),
        pytest.param(b'[{"id": "%s"}, 7]', "$.objects[1]: expected a STIX object", id="number"),
        # The first problem in order, though the ids alone would show only the second.
        pytest.param(b'[{"id": "%s", "n": 1e400}, {}]', "$.objects[0]", id="bad-json-first"),
    ],
)
def test_check_identified_says_which_item(objects: bytes, message: str) -> None:
    items = parse_envelope(b'{"objects": %s}' % (objects % _ID.encode()))
    with pytest.raises(BadRequest) as raised:
        check_identified(items)
    assert message in str(raised.value)


def test_check_identified_accepts_identified_objects() -> None:
    check_identified(parse_envelope(b'{"objects": [{"id": "%s"}]}' % _ID.encode()))


def test_a_bad_member_the_ids_skip_is_still_named_when_the_item_is_read() -> None:
    """The ids are read skipping other members unchecked (invalid UTF-8 here): the
    item itself, read once its id passed, says what is wrong and where."""
    items = parse_envelope(b'{"objects": [{"id": "%s", "s": "\xff"}]}' % _ID.encode())
    check_identified(items)
    with pytest.raises(BadRequest, match=r"not valid UTF-8.* at \$\.objects\[0\]"):
        list(items)
