"""The bad-input table: every kind of malformed request, on every endpoint it can reach,
over SQLite and PostgreSQL.

Each row is one attack and the answer it must get: a specific 4xx TAXII error message
whose description says what was wrong and where, or, for a well-formed envelope whose
objects are bad, a 202 whose status lists each object as a failure saying why.  After
every row the whole store (API roots, collections, every version of every object with
its body, users, keys, grants) must be exactly what it was before: one store per
backend is seeded once and every attack runs against it, so a row that changed
anything would also show up in the rows after it.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from flask.testing import FlaskClient

from taxii_server.app import create_app
from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.query import ID_PATTERN, NextToken, NextTokenCodec
from taxii_server.settings import ApiRootConfig, load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import Storage
from taxii_server.timestamps import TIMESTAMP_PATTERN
from tests.hardening.conftest import StoreSnapshot, snapshot
from tests.pg import PgCluster
from tests.server import data
from tests.server.conftest import (
    ROOT,
    SHARED,
    SMALL,
    SMALL_ROOT,
    FakeClock,
    World,
    _seed,
    basic,
    password_of,
)

TAXII = MEDIA_TYPE_TAXII_V21
MAX_OBJECTS = 200
_databases = itertools.count()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@dataclass
class Target:
    """One seeded store and an app over it, shared by every row of the table."""

    client: FlaskClient
    storage: Storage
    world: World
    clock: FakeClock
    before: StoreSnapshot
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module", params=BACKENDS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bad-input') / 'taxii.db'}"
    else:
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"bad_input_{next(_databases)}")
    settings = load_settings(
        environ={},
        storage_url=url,
        default_limit=4,
        max_limit=6,
        next_ttl=600,
        max_objects_per_request=MAX_OBJECTS,
        auth_failures_per_minute=0,  # the table sends many bad credentials on purpose
        default_api_root=ROOT,
        api_roots=(ApiRootConfig(ROOT, "Community"),),
    )
    storage = open_storage(url, migrate=True)
    world = _seed(storage)
    clock = FakeClock()
    app = create_app(settings, storage=storage, clock=clock)
    try:
        yield Target(app.test_client(), storage, world, clock, snapshot(storage))
    finally:
        storage.close()


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Attack:
    """One request and the answer it must get.

    ``query`` is sent verbatim (so keys may repeat and bytes may be invalid); ``body``
    is sent as is; ``says`` must appear in the error's description (or, for a 202, in
    every failure's message).
    """

    path: str
    status: int
    says: str = ""
    method: str = "GET"
    query: str = ""
    body: bytes | None = None
    user: str | None = "alice"
    headers: tuple[tuple[str, str], ...] = ()


def _objects(*items: Any) -> bytes:
    return orjson.dumps({"objects": list(items)})


def _url(*parts: str, root: str = ROOT) -> str:
    return "/" + "/".join((root, "collections", *parts)) + "/"


OBJECTS = _url(SHARED, "objects")
MANIFEST = _url(SHARED, "manifest")
OBJECT = _url(SHARED, "objects", data.IND_GREEN["id"])
VERSIONS = _url(SHARED, "objects", data.MALWARE_V1["id"], "versions")
PAGED = {"objects": OBJECTS, "manifest": MANIFEST, "object": OBJECT, "versions": VERSIONS}
EVERY = {
    "discovery": "/taxii2/",
    "api-root": f"/{ROOT}/",
    "collections": f"/{ROOT}/collections/",
    "collection": _url(SHARED),
    **PAGED,
    "status": f"/{ROOT}/status/5d4d7a4e-0000-4a3b-8c2e-1f9a5e6b7c8d/",
}
TEN_MB = "x" * (10 * 1024 * 1024)
DEEP = b'{"objects":[' + b"[" * 10_000 + b"]" * 10_000 + b"]}"
INJECTIONS = [
    "' OR '1'='1",
    "indicator--x' OR 1=1 --",
    "1; DROP TABLE objects; --",
    '{"$ne": null}',
    '{"$gt": ""}',
    "indicator--*",
    "%",
    "_",
]
TRAVERSALS = ["..", "../..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "....//....//"]
_SUBJECT = data.indicator("bad-input subject")


def _with(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in (_SUBJECT | changes).items() if v is not None}


def _rows() -> Iterator[Any]:
    def row(name: str, attack: Attack) -> Any:
        return pytest.param(attack, id=name)

    post = {"method": "POST", "path": OBJECTS, "headers": (("Content-Type", TAXII),)}

    # -- bodies that are not JSON, or not an envelope: the whole request is refused
    for name, body, says in [
        ("malformed-json", b'{"objects": [}', "not valid JSON"),
        ("truncated-json", _objects(data.IND_GREEN)[:-20], "not valid JSON"),
        ("empty-body", b"", "not valid JSON"),
        ("trailing-garbage", _objects() + b"x", "not valid JSON"),
        ("json-list", b"[]", "expected a TAXII envelope"),
        ("json-string", b'"objects"', "expected a TAXII envelope"),
        ("json-null", b"null", "expected a TAXII envelope"),
        ("no-objects", b'{"type": "bundle"}', "$.objects: missing"),
        ("objects-not-a-list", b'{"objects": {"id": 1}}', "expected a list"),
        ("objects-a-string", b'{"objects": "indicator"}', "expected a list"),
        ("10000-deep-nesting", DEEP, "depth"),
        ("invalid-utf8", b'{"objects": ["\xff\xfe"]}', "UTF-8"),
        ("lone-surrogate", b'{"objects": ["\\ud800"]}', "not valid JSON"),
        ("raw-nul-byte", b'{"objects": ["\x00"]}', "not valid JSON"),
        ("infinite-number", b'{"objects": [1e400]}', "not valid JSON"),
    ]:
        yield row(f"post-{name}", Attack(**post, body=body, status=400, says=says))

    # -- envelopes of items a status could not name (§4.3.1: a STIX id): refused whole
    for name, items, says in [
        ("no-objects-at-all", [], "$.objects: empty"),
        ("not-objects", [1, "x", None, [], True], "$.objects[0]: expected a STIX object"),
        ("object-then-number", [_SUBJECT, 1], "$.objects[1]: expected a STIX object"),
        ("empty-object", [{}], "$.objects[0].id: missing"),
        ("missing-id", [_with(id=None)], "$.objects[0].id: missing"),
        ("id-not-a-uuid", [_with(id="indicator--1234")], "is not a STIX identifier"),
        ("ten-mb-id", [_with(id=TEN_MB[: 9 * 1024 * 1024])], "characters) is not a STIX"),
        ("nul-in-id", [_with(id="indicator--\x00")], "is not a STIX identifier"),
        ("nul-in-type", [{"type": "indi\x00cator", "id": "x"}], "is not a STIX identifier"),
        ("injection-in-id", [_with(id="indicator--' OR 1=1 --")], "is not a STIX identifier"),
        ("nosql-operator-id", [_with(id={"$ne": None})], "an object is not a STIX identifier"),
    ]:
        yield row(
            f"post-items-{name}", Attack(**post, body=_objects(*items), status=400, says=says)
        )

    # -- well-formed envelopes of bad objects: 202, each object a failure saying why
    stamp = "2024-05-01T10:00:00"
    for name, item, says in [
        ("missing-pattern", [_with(pattern=None)], "pattern"),
        ("missing-type", [_with(type=None)], "type"),
        ("nul-in-type", [_with(type="indi\x00cator")], "type"),
        ("wrong-type-created", [_with(created=5)], "created"),
        ("wrong-type-labels", [_with(labels="phishing")], "labels"),
        ("wrong-type-spec-version", [_with(spec_version=2.1)], "spec_version"),
        ("spec-version-2.0", [_with(spec_version="2.0")], "spec_version"),
        ("id-of-another-type", [_with(id=data.MALWARE_V1["id"])], "id"),
        ("timestamp-with-offset", [_with(modified=f"{stamp}+01:00")], "modified"),
        ("timestamp-without-zone", [_with(modified=stamp)], "modified"),
        ("modified-without-fraction", [_with(modified=f"{stamp}Z")], "millisecond"),
        ("timestamp-month-13", [_with(modified="2024-13-01T10:00:00Z")], "modified"),
        ("timestamp-feb-30", [_with(modified="2024-02-30T10:00:00Z")], "modified"),
        ("timestamp-year-0", [_with(modified="0000-01-01T00:00:00Z")], "modified"),
        ("timestamp-hour-25", [_with(modified="2024-05-01T25:00:00Z")], "modified"),
        ("modified-before-created", [_with(modified="2020-01-01T00:00:00Z")], "modified"),
        ("custom-property-bad-name", [_with(**{"x-bad name": 1})], "x-bad name"),
        ("huge-integer", [_with(confidence=2**64 - 1)], "confidence"),
    ]:
        yield row(
            f"post-object-{name}", Attack(**post, body=_objects(*item), status=202, says=says)
        )
    # Nested deeper than the store's serialiser goes, but not deeper than JSON parsing.
    deep_property = orjson.dumps(_SUBJECT)[:-1] + b',"x_deep":' + b'{"a":' * 300 + b"1"
    yield row(
        "post-object-deep-custom-property",
        Attack(
            **post,
            body=b'{"objects":[' + deep_property + b"}" * 301 + b"]}",
            status=202,
            says="cannot be stored",
        ),
    )

    # -- bodies the server refuses to read
    yield row(
        "post-too-many-objects",
        Attack(**post, body=_objects(*[1] * (MAX_OBJECTS + 1)), status=413, says=str(MAX_OBJECTS)),
    )
    yield row(
        "post-10mb-string",
        Attack(
            **post, body=_objects(_with(description=TEN_MB)), status=413, says="max_content_length"
        ),
    )
    yield row(
        "post-over-small-root",
        Attack(
            method="POST",
            path=_url(SMALL, "objects", root=SMALL_ROOT),
            headers=(("Content-Type", TAXII),),
            body=_objects(*[data.IND_GREEN] * 20),
            status=413,
            says="4096",
        ),
    )
    for name, content_type in [
        ("none", None),
        ("json", "application/json"),
        ("stix", "application/stix+json;version=2.1"),
        ("taxii-2.0", "application/taxii+json;version=2.0"),
        ("form", "application/x-www-form-urlencoded"),
    ]:
        headers = (("Content-Type", content_type),) if content_type else ()
        yield row(
            f"post-content-type-{name}",
            Attack(method="POST", path=OBJECTS, headers=headers, body=_objects(), status=415),
        )

    # -- query parameters, on every paged endpoint
    for endpoint, path in PAGED.items():
        for name, query, status, says in [
            ("limit-zero", "limit=0", 400, "limit"),
            ("limit-negative", "limit=-1", 400, "limit"),
            ("limit-float", "limit=1.5", 400, "limit"),
            ("limit-exponent", "limit=1e3", 400, "limit"),
            ("limit-superscript", "limit=%C2%B2", 400, "limit"),
            ("limit-arabic-digit", "limit=%D9%A3", 400, "limit"),
            ("limit-blank", "limit=%20", 200, ""),
            ("limit-5000-digits", "limit=" + "9" * 5000, 200, ""),
            ("limit-twice", "limit=1&limit=2", 400, "once"),
            (
                "added-after-twice",
                "added_after=2024-01-01T00:00:00Z&added_after=2024-01-02T00:00:00Z",
                400,
                "once",
            ),
            ("next-twice", "next=a&next=b", 400, "once"),
            ("added-after-no-zone", "added_after=2024-01-01T00:00:00", 400, "added_after"),
            ("added-after-date-only", "added_after=2024-01-01", 400, "added_after"),
            ("added-after-month-13", "added_after=2024-13-01T00:00:00Z", 400, "added_after"),
            (
                "added-after-before-year-1",
                "added_after=0001-01-01T00:00:00%2B01:00",
                400,
                "added_after",
            ),
            ("added-after-after-9999", "added_after=9999-12-31T23:59:59-23:59", 400, "added_after"),
            ("added-after-epoch-seconds", "added_after=1717000000", 400, "added_after"),
            (
                "added-after-arabic-digits",
                "added_after=%D9%A2%D9%A0%D9%A2%D9%A4-01-01T00:00:00Z",
                400,
                "added_after",
            ),
            ("added-after-10mb", "added_after=" + TEN_MB, 400, "added_after"),
            ("match-spec-version-bad", "match[spec_version]=two", 400, "match[spec_version]"),
            ("match-spec-version-empty", "match[spec_version]=,,", 400, "empty"),
            ("next-garbage", "next=garbage", 400, "next"),
            ("next-10mb", "next=" + TEN_MB, 400, "next"),
            ("next-nul", "next=%00", 400, "next"),
            ("next-invalid-utf8", "next=%FF%FE", 400, "next"),
            ("unknown-parameter", "match[id][$ne]=1&where=1%3D1&callback=x", 200, ""),
        ]:
            yield row(
                f"{endpoint}-{name}", Attack(path=path, query=query, status=status, says=says)
            )
        for number, value in enumerate(INJECTIONS):
            yield row(
                f"{endpoint}-next-injection-{number}",
                Attack(path=path, query=f"next={_quote(value)}", status=400, says="next"),
            )
    for endpoint, path in PAGED.items():
        if endpoint == "versions":  # the versions endpoint has no match[version] (§5.8)
            continue
        yield row(
            f"{endpoint}-match-version-bad",
            Attack(path=path, query="match[version]=newest", status=400, says="match[version]"),
        )
    for endpoint, path in (("objects", OBJECTS), ("manifest", MANIFEST)):
        for name, query, says in [
            ("match-id-not-an-id", "match[id]=not-an-id", "match[id]"),
            ("match-id-empty", "match[id]=", "empty"),
            ("match-id-nul", "match[id]=%00", "match[id]"),
            ("match-id-invalid-utf8", "match[id]=%FF", "match[id]"),
            ("match-id-10mb", "match[id]=" + TEN_MB, "match[id]"),
            ("match-type-upper", "match[type]=Indicator", "match[type]"),
            ("match-type-10mb", "match[type]=" + TEN_MB, "match[type]"),
        ]:
            yield row(f"{endpoint}-{name}", Attack(path=path, query=query, status=400, says=says))
        for number, value in enumerate(INJECTIONS):
            for parameter in ("match[id]", "match[type]", "match[version]", "added_after"):
                yield row(
                    f"{endpoint}-{parameter}-injection-{number}",
                    Attack(
                        path=path, query=f"{parameter}={_quote(value)}", status=400, says=parameter
                    ),
                )

    # -- path parameters: ids, traversal, injection, unknown roots and collections
    for number, value in enumerate(INJECTIONS + TRAVERSALS):
        quoted = _quote(value)
        # A "/" (sent as %2F) splits the path: no route matches, whatever the value.
        routed = "/" not in value
        bad_id = (400, "STIX identifier") if routed else (404, "no TAXII resource")
        for name, method, path, (status, says) in [
            ("object-id", "GET", _url(SHARED, "objects", quoted), bad_id),
            ("delete-object-id", "DELETE", _url(SHARED, "objects", quoted), bad_id),
            ("versions-id", "GET", _url(SHARED, "objects", quoted, "versions"), bad_id),
            ("collection-id", "GET", _url(quoted, "objects"), (404, "")),
            ("api-root", "GET", f"/{quoted}/collections/", (404, "")),
            ("status-id", "GET", f"/{ROOT}/status/{quoted}/", (404, "")),
        ]:
            yield row(
                f"{name}-{number}", Attack(method=method, path=path, status=status, says=says)
            )
    for name, path in [
        ("unknown-api-root", "/nowhere/collections/"),
        ("unknown-api-root-objects", _url(SHARED, "objects", root="nowhere")),
        ("unknown-collection", _url("00000000-0000-4000-8000-000000000000", "objects")),
        ("collection-of-another-root", _url(SMALL, "objects")),
        ("nul-in-collection", _url("a\x00b", "objects")),
        ("nul-in-api-root", "/comm\x00unity/collections/"),
        ("10mb-collection", _url(TEN_MB[:100_000], "objects")),
        (
            "unknown-object",
            _url(SHARED, "objects", "indicator--00000000-0000-4000-8000-000000000000"),
        ),
        ("no-route", f"/{ROOT}/collections/{SHARED}/objects/x/y/z/"),
        ("double-slash", f"//{ROOT}//collections//"),
    ]:
        yield row(name, Attack(path=path, status=404))
    yield row(
        "anonymous-unknown-collection", Attack(path=_url("nope", "objects"), user=None, status=401)
    )

    # -- methods a resource does not have
    for name, (method, path) in {
        "put-objects": ("PUT", OBJECTS),
        "patch-object": ("PATCH", OBJECT),
        "delete-objects": ("DELETE", OBJECTS),
        "post-manifest": ("POST", MANIFEST),
        "post-versions": ("POST", VERSIONS),
        "delete-collection": ("DELETE", _url(SHARED)),
        "post-discovery": ("POST", "/taxii2/"),
        "delete-status": ("DELETE", EVERY["status"]),
        "trace-api-root": ("TRACE", f"/{ROOT}/"),
    }.items():
        yield row(f"method-{name}", Attack(method=method, path=path, status=405, says="method"))

    # -- negotiation and credentials, on every endpoint
    for endpoint, path in EVERY.items():
        yield row(
            f"{endpoint}-accept-xml",
            Attack(path=path, headers=(("Accept", "application/xml"),), status=406),
        )
        yield row(
            f"{endpoint}-accept-taxii-2.0",
            Attack(
                path=path, headers=(("Accept", "application/taxii+json;version=2.0"),), status=406
            ),
        )
        for name, header in [
            ("wrong-password", basic("alice", "wrong")),
            ("unknown-user", basic("mallory", "x")),
            ("nul-in-user", basic("al\x00ice", "x")),
            ("injection-in-user", basic("' OR '1'='1", "x")),
            ("bad-base64", "Basic !!!"),
            ("no-colon", "Basic " + base64.b64encode(b"alice").decode()),
            ("unknown-scheme", "Digest username=alice"),
            ("bearer-not-a-key", "Bearer ' OR 1=1"),
            ("bearer-unknown-key", "Bearer atk_aaaaaaaaaaaa_" + "A" * 32),
            ("bearer-10kb", "Bearer " + "A" * 10_000),
        ]:
            yield row(
                f"{endpoint}-auth-{name}",
                Attack(path=path, user=None, headers=(("Authorization", header),), status=401),
            )


def _quote(value: str) -> str:
    return quote(value, safe="")


ROWS = list(_rows())


def _send(target: Target, attack: Attack) -> Any:
    headers = {"Accept": TAXII}
    if attack.user is not None:
        headers["Authorization"] = basic(attack.user, password_of(attack.user))
    headers.update(attack.headers)
    return target.client.open(
        attack.path,
        method=attack.method,
        query_string=attack.query,
        data=attack.body,
        headers=headers,
    )


@pytest.mark.parametrize("attack", ROWS)
def test_attack_is_refused_and_changes_nothing(target: Target, attack: Attack) -> None:
    response = _send(target, attack)
    assert response.status_code == attack.status, response.data[:500]
    assert response.headers["Content-Type"] == TAXII
    body = orjson.loads(response.data) if response.data else {}
    if attack.status >= 400:
        assert body["http_status"] == str(attack.status)
        assert body["title"]
        assert attack.says in body["description"], body["description"]
        assert len(body["description"]) < 1000, "an error message must not echo the input"
    elif attack.status == 202:
        assert body["success_count"] == 0, body["successes"]
        assert body["failure_count"] == body["total_count"] > 0
        for failure in body["failures"]:
            assert attack.says in failure["message"], failure
            assert len(failure["message"]) <= 2000
            # Status details name a STIX id and a timestamp (TAXII 2.1 §4.3.1).
            assert re.fullmatch(ID_PATTERN, failure["id"]), failure
            assert re.fullmatch(TIMESTAMP_PATTERN, failure["version"]), failure
    assert snapshot(target.storage) == target.before


def test_the_table_covers_every_endpoint() -> None:
    paths = {row.values[0].path for row in ROWS}
    assert set(EVERY.values()) <= paths
    assert len(ROWS) > 300


# -- next tokens that were genuine once ----------------------------------------------------


def _first_next(target: Target) -> str:
    response = target.client.get(
        OBJECTS,
        query_string="limit=2",
        headers={"Accept": TAXII, "Authorization": basic("alice", password_of("alice"))},
    )
    token: str = orjson.loads(response.data)["next"]
    return token


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("flipped-character", "altered"),
        ("truncated", "altered"),
        ("signed-with-a-retired-secret", "altered"),
        ("expired", "expired"),
        ("for-another-collection", "another query"),
        ("for-another-endpoint", "another query"),
    ],
)
def test_tampered_and_expired_tokens(target: Target, name: str, says: str) -> None:
    genuine = _first_next(target)
    if name == "flipped-character":
        at = len(genuine) // 2
        token = genuine[:at] + ("A" if genuine[at] != "A" else "B") + genuine[at + 1 :]
        path = OBJECTS
    elif name == "truncated":
        token, path = genuine[:-3], OBJECTS
    elif name == "signed-with-a-retired-secret":
        codec = NextTokenCodec(["a secret this server never had"])
        token = codec.encode(_decoded(target, genuine))
        path = OBJECTS
    elif name == "expired":
        token, path = genuine, OBJECTS
        target.clock.advance(601)
    elif name == "for-another-collection":
        token, path = genuine, _url(SMALL, "objects", root=SMALL_ROOT)
    else:
        token, path = genuine, MANIFEST
    try:
        response = target.client.get(
            path,
            query_string={"next": token},
            headers={"Accept": TAXII, "Authorization": basic("alice", password_of("alice"))},
        )
    finally:
        if name == "expired":
            target.clock.advance(-601)
    assert response.status_code == 400, response.data
    assert says in orjson.loads(response.data)["description"]
    assert snapshot(target.storage) == target.before


def _decoded(target: Target, token: str) -> NextToken:
    app = target.client.application
    service = app.extensions["taxii"].service
    decoded: NextToken = service.codec.decode(token, now=target.clock())
    return decoded
