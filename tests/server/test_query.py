"""Query-string parsing (TAXII 2.1 §3.4) and signed `next` tokens (Appendix B)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taxii_server.errors import BadRequest
from taxii_server.query import (
    ID_PATTERN,
    ID_RE,
    Endpoint,
    Filters,
    NextToken,
    NextTokenCodec,
    build_query,
    check_object_id,
    parse_delete_filters,
    parse_page_request,
)
from taxii_server.storage.base import VersionSelector
from taxii_server.timestamps import parse_timestamp

IND1 = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
IND2 = "indicator--0a7e3d9a-8b7c-4f3e-9f83-3a3d7e7e0c11"
T0 = parse_timestamp("2024-06-11T09:00:00Z")


def parse(args: dict[str, list[str]], endpoint: Endpoint = Endpoint.OBJECTS, max_limit: int = 100):
    return parse_page_request(args, endpoint, max_limit=max_limit)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param({}, Filters(), id="none"),
        pytest.param({"match[type]": ["indicator"]}, Filters(types=("indicator",)), id="one-type"),
        pytest.param(
            {"match[type]": ["malware,indicator"]},
            Filters(types=("indicator", "malware")),
            id="comma-list",
        ),
        pytest.param(
            {"match[type]": ["malware", "indicator"]},
            Filters(types=("indicator", "malware")),
            id="repeated-keys",
        ),
        pytest.param(
            {"match[type]": ["malware, indicator", "indicator,x-custom-thing"]},
            Filters(types=("indicator", "malware", "x-custom-thing")),
            id="comma-list-and-repeats-with-spaces",
        ),
        pytest.param({"match[id]": [f"{IND2},{IND1}", IND1]}, Filters(ids=(IND2, IND1)), id="ids"),
        pytest.param(
            {"match[version]": ["first"]},
            Filters(versions=VersionSelector(first=True, last=False)),
            id="version-first",
        ),
        pytest.param(
            {"match[version]": ["all"]},
            Filters(versions=VersionSelector(last=False, all=True)),
            id="version-all",
        ),
        pytest.param(
            {"match[version]": ["first,last", "2024-06-11T09:00:00Z"]},
            Filters(versions=VersionSelector(first=True, last=True, at=(T0,))),
            id="version-mixed",
        ),
        pytest.param(
            {"match[spec_version]": ["2.1,2.0"]},
            Filters(spec_versions=("2.0", "2.1")),
            id="spec-versions",
        ),
        pytest.param({"added_after": ["2024-06-11T09:00:00Z"]}, Filters(added_after=T0), id="s"),
        pytest.param(
            {"added_after": ["2024-06-11T09:00:00.123Z"]},
            Filters(added_after=T0 + 123_000),
            id="ms",
        ),
        pytest.param(
            {"added_after": ["2024-06-11T09:00:00.123456Z"]},
            Filters(added_after=T0 + 123_456),
            id="us",
        ),
        pytest.param(
            {"added_after": ["2024-06-11T11:00:00+02:00"]}, Filters(added_after=T0), id="offset"
        ),
        pytest.param({"unknown": ["x"], "_": ["1718"]}, Filters(), id="unknown-ignored"),
    ],
)
def test_filters_are_parsed_and_normalised(args: dict[str, list[str]], expected: Filters) -> None:
    assert parse(args).filters == expected


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        pytest.param({"added_after": ["yesterday"]}, "added_after", id="added-after-word"),
        pytest.param({"added_after": ["2024-06-11T09:00:00"]}, "added_after", id="no-zone"),
        pytest.param({"added_after": ["2024-13-11T09:00:00Z"]}, "added_after", id="month-13"),
        pytest.param(
            {"added_after": ["2024-06-11T09:00:00Z", "2024-06-12T09:00:00Z"]},
            "added_after",
            id="added-after-twice",
        ),
        pytest.param({"match[id]": ["indicator"]}, "match[id]", id="id-not-stix"),
        pytest.param({"match[id]": [","]}, "match[id]", id="id-empty-list"),
        pytest.param({"match[type]": ["Indicator"]}, "match[type]", id="type-uppercase"),
        pytest.param({"match[type]": ["bad type"]}, "match[type]", id="type-space"),
        pytest.param({"match[version]": ["latest"]}, "match[version]", id="version-word"),
        pytest.param({"match[spec_version]": ["two"]}, "match[spec_version]", id="spec-word"),
        pytest.param({"limit": ["0"]}, "limit", id="limit-zero"),
        pytest.param({"limit": ["-5"]}, "limit", id="limit-negative"),
        pytest.param({"limit": ["ten"]}, "limit", id="limit-word"),
    ],
)
def test_malformed_parameters_are_a_400_naming_them(
    args: dict[str, list[str]], parameter: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        parse(args)
    assert parameter in caught.value.description


def test_unknown_types_are_not_an_error() -> None:
    assert parse({"match[type]": ["x-never-seen"]}).filters.types == ("x-never-seen",)


def test_limit_above_the_maximum_is_lowered() -> None:
    assert parse({"limit": ["5000"]}, max_limit=100).limit == 100
    assert parse({"limit": ["7"]}).limit == 7
    assert parse({}).limit is None


def test_filters_an_endpoint_does_not_define_are_ignored() -> None:
    args = {"match[type]": ["indicator"], "match[version]": ["all"]}
    assert parse(args, Endpoint.VERSIONS).filters == Filters()
    assert parse(args, Endpoint.OBJECT).filters == Filters(
        versions=VersionSelector(last=False, all=True)
    )


def test_empty_next_is_no_next() -> None:
    assert parse({"next": [""]}).next is None


def test_empty_added_after_is_no_lower_bound() -> None:
    """A script whose cursor is not set yet sends ``added_after=``: everything."""
    assert parse({"added_after": [""]}).filters.added_after is None


def test_delete_filters() -> None:
    assert parse_delete_filters({"match[version]": ["first"], "match[type]": ["x"]}) == Filters(
        versions=VersionSelector(first=True, last=False)
    )


def test_object_ids_in_paths_are_checked() -> None:
    assert check_object_id(IND1) == IND1
    with pytest.raises(BadRequest, match="not a STIX identifier"):
        check_object_id("indicator--nope")
    with pytest.raises(BadRequest, match="not a STIX identifier"):
        check_object_id(IND1 + "\n")


@pytest.mark.parametrize(
    ("endpoint", "versions"),
    [
        pytest.param(Endpoint.OBJECTS, VersionSelector(), id="objects-latest"),
        pytest.param(Endpoint.MANIFEST, VersionSelector(), id="manifest-latest"),
        pytest.param(Endpoint.OBJECT, VersionSelector(), id="object-latest"),
        pytest.param(Endpoint.VERSIONS, VersionSelector(last=False, all=True), id="versions-all"),
        pytest.param(None, VersionSelector(last=False, all=True), id="delete-all"),
    ],
)
def test_version_defaults(endpoint: Endpoint | None, versions: VersionSelector) -> None:
    query = build_query(Filters(), endpoint=endpoint, clearance=2, limit=10)
    assert query.versions == versions
    assert query.clearance == 2
    assert query.spec_versions == ()


def test_query_lower_bound_is_the_later_of_added_after_and_position() -> None:
    filters = Filters(added_after=T0)
    assert build_query(filters, endpoint=Endpoint.OBJECTS, clearance=0, limit=1).after == T0
    later = build_query(filters, endpoint=Endpoint.OBJECTS, clearance=0, limit=1, position=T0 + 5)
    assert later.after == T0 + 5
    earlier = build_query(filters, endpoint=Endpoint.OBJECTS, clearance=0, limit=1, position=T0 - 5)
    assert earlier.after == T0


def test_object_endpoint_queries_its_object() -> None:
    query = build_query(
        Filters(ids=(IND2,)), endpoint=Endpoint.OBJECT, clearance=0, limit=1, object_id=IND1
    )
    assert query.ids == (IND1,)


# --------------------------------------------------------------------------- tokens

TOKEN = NextToken(
    api_root="community",
    collection_id="5d4d7a4e-2c4b-4a3b-8c2e-1f9a5e6b7c8d",
    endpoint=Endpoint.OBJECTS,
    object_id=None,
    filters=Filters(
        added_after=T0,
        ids=(IND1,),
        types=("indicator",),
        versions=VersionSelector(first=True, last=False, at=(T0,)),
        spec_versions=("2.1",),
    ),
    limit=50,
    position=T0 + 99,
    expires=T0 + 3_600_000_000,
)


def test_token_round_trip() -> None:
    codec = NextTokenCodec(["a-secret-of-at-least-16"])
    text = codec.encode(TOKEN)
    assert codec.decode(text, now=T0) == TOKEN
    assert all(c.isalnum() or c in "-_." for c in text)  # safe in a URL unquoted


def test_token_with_no_filters_round_trips() -> None:
    codec = NextTokenCodec(["a-secret-of-at-least-16"])
    bare = NextToken("r", "c", Endpoint.VERSIONS, IND1, Filters(), 1, 2, T0 + 10)
    assert codec.decode(codec.encode(bare), now=T0) == bare


def test_every_configured_secret_verifies_for_rotation() -> None:
    old = NextTokenCodec(["old-secret-0123456789"])
    rotated = NextTokenCodec(["new-secret-0123456789", "old-secret-0123456789"])
    assert rotated.decode(old.encode(TOKEN), now=T0) == TOKEN


def test_expired_token_is_a_400_that_says_where_to_resume() -> None:
    codec = NextTokenCodec(["a-secret-of-at-least-16"])
    with pytest.raises(BadRequest, match="expired") as caught:
        codec.decode(codec.encode(TOKEN), now=TOKEN.expires)
    assert "added_after=2024-06-11T09:00:00.000099Z" in caught.value.description


def _flip(text: str, index: int) -> str:
    char = "A" if text[index] != "A" else "B"
    return text[:index] + char + text[index + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: _flip(t, 10), id="payload-altered"),
        pytest.param(lambda t: _flip(t, len(t) - 3), id="signature-altered"),
        pytest.param(lambda t: t[:-4], id="truncated"),
        pytest.param(lambda t: t.replace("n1.", "n2."), id="other-version"),
        pytest.param(lambda t: "garbage", id="garbage"),
        pytest.param(lambda t: "n1.!!!.???", id="not-base64"),
        pytest.param(lambda t: t[:5] + "!" + t[5:], id="character-outside-base64"),
        pytest.param(lambda t: t[:5] + "=" + t[5:], id="padding-inside"),
        pytest.param(lambda t: t + "\n", id="trailing-newline"),
        pytest.param(
            lambda t: NextTokenCodec(["another-server-secret"]).encode(TOKEN), id="foreign"
        ),
    ],
)
def test_altered_or_foreign_tokens_are_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    codec = NextTokenCodec(["a-secret-of-at-least-16"])
    with pytest.raises(BadRequest, match="not a token this server issued"):
        codec.decode(mangle(codec.encode(TOKEN)), now=T0)


def test_repeated_filters_must_match_the_token() -> None:
    token_filters = TOKEN.filters
    assert Filters().resumed_from(token_filters) == token_filters  # dropped: token's
    assert Filters(types=("indicator",)).resumed_from(token_filters) == token_filters
    with pytest.raises(BadRequest, match=r"match\[type\] differs"):
        Filters(types=("malware",)).resumed_from(token_filters)
    with pytest.raises(BadRequest, match="added_after differs"):
        Filters(added_after=T0 + 1).resumed_from(token_filters)


_AS_PUBLISHED = re.compile(rf"^{ID_PATTERN}\Z")
# Ids and near misses: a type of 1 to 260 characters (hyphens anywhere, "--" inside),
# a UUID with a character changed, upper-case hex, a trailing newline.
_NEAR_IDS = st.builds(
    lambda kind, uuid, change: (
        (kind + "--" + uuid)[: change[0]] + change[1] + (kind + "--" + uuid)[change[0] + 1 :]
    ),
    st.text("ab0-", min_size=0, max_size=260),
    st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper()),
    st.tuples(st.integers(0, 300), st.sampled_from(["", "-", "g", "A", "\n", "--"])),
)


@given(_NEAR_IDS | st.from_regex(_AS_PUBLISHED))
def test_the_fast_id_matcher_accepts_what_the_published_pattern_does(text: str) -> None:
    assert bool(ID_RE.match(text)) == bool(_AS_PUBLISHED.match(text))


@pytest.mark.parametrize(
    "text",
    [
        IND1,
        "a--" + IND1[11:],
        "a-b--c--" + IND1[11:],
        "x" * 250 + "--" + IND1[11:],
        "x" * 251 + "--" + IND1[11:],
        "-a--" + IND1[11:],
        "a---" + IND1[11:],
        IND1 + "\n",
    ],
)
def test_the_fast_id_matcher_on_the_edges(text: str) -> None:
    assert bool(ID_RE.match(text)) == bool(_AS_PUBLISHED.match(text))
