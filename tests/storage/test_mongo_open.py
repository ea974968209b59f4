"""Opening the MongoDB store: URLs, the database name, unreachable servers, what the
deployment supports, and every driver error translated into StorageError."""

from __future__ import annotations

import inspect
import sys
from typing import Any

import pymongo
import pymongo.errors
import pytest

from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    ApiRoot,
    StorageConflict,
    StorageError,
    StorageUnavailable,
)
from taxii_server.storage.mongo_connection import MongoConnection, redacted
from tests.storage import mongo_mock

_MOCK = "mongodb://mongomock.invalid"


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> mongo_mock.MockMongoServer:
    return mongo_mock.install(monkeypatch)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymongo", None)  # import pymongo -> ImportError
    for name in list(sys.modules):
        if name.startswith("taxii_server.storage.mongo"):
            monkeypatch.delitem(sys.modules, name)
    with pytest.raises(StorageError, match=r"pip install 'atlas-taxii\[mongo\]'"):
        open_storage("mongodb://localhost/atlas")


@pytest.mark.parametrize(
    ("url", "database"),
    [
        pytest.param(f"{_MOCK}/", "atlas_taxii", id="default"),
        pytest.param(_MOCK, "atlas_taxii", id="no-path"),
        pytest.param(f"{_MOCK}/intel?appname=x", "intel", id="named"),
    ],
)
def test_the_database_is_the_urls_or_atlas_taxii(
    mock: mongo_mock.MockMongoServer, url: str, database: str
) -> None:
    storage = open_storage(url, migrate=True)
    try:
        storage.put_api_root(ApiRoot("r", "R"))
    finally:
        storage.close()
    client: Any = pymongo.MongoClient(_MOCK)
    assert client[database]["api_roots"].count_documents({}) == 1


def test_an_unreachable_server_is_unavailable_and_named_without_password() -> None:
    url = "mongodb://atlas:s3cret-pw@127.0.0.1:1/atlas?serverSelectionTimeoutMS=200"
    with pytest.raises(StorageUnavailable) as caught:
        open_storage(url)
    message = str(caught.value)
    assert "mongodb://atlas:***@127.0.0.1:1/atlas" in message
    assert "127.0.0.1:1" in message and "s3cret-pw" not in message
    assert "Topology Description" not in message  # the reason, not pymongo's whole state


@pytest.mark.parametrize(
    "url",
    ["mongodb://:@/", "mongodb://host:notaport/db", "mongodb://"],
)
def test_malformed_urls_are_storage_errors(url: str) -> None:
    with pytest.raises(StorageError) as caught:
        open_storage(url)
    assert not isinstance(caught.value, StorageUnavailable)


def test_redacted_keeps_everything_but_the_password() -> None:
    assert redacted("mongodb://u:p%40ss@h1:27017,h2/db?replicaSet=rs") == (
        "mongodb://u:***@h1:27017,h2/db?replicaSet=rs"
    )
    assert redacted("mongodb+srv://cluster.example/db") == "mongodb+srv://cluster.example/db"


@pytest.mark.parametrize(
    ("hello", "transactions"),
    [
        pytest.param({"isWritablePrimary": True, "maxWireVersion": 21}, False, id="standalone"),
        pytest.param({"setName": "rs0", "maxWireVersion": 21}, True, id="replica-set"),
        pytest.param({"msg": "isdbgrid", "maxWireVersion": 21}, True, id="mongos"),
        pytest.param({"setName": "rs0", "maxWireVersion": 7}, False, id="replica-set-4.0"),
    ],
)
def test_transactions_are_used_where_the_deployment_has_them(
    monkeypatch: pytest.MonkeyPatch, hello: dict[str, Any], transactions: bool
) -> None:
    mongo_mock.install(monkeypatch, hello={**hello, "ok": 1.0})
    connection = MongoConnection(f"{_MOCK}/db")
    try:
        assert connection.transactions is transactions
    finally:
        connection.close()


def test_options_in_the_url_win_over_ours(
    mock: mongo_mock.MockMongoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[dict[str, Any]] = []
    create = pymongo.MongoClient

    def recording(url: str, **options: Any) -> Any:
        given.append(options)
        return create(url, **options)

    monkeypatch.setattr(pymongo, "MongoClient", recording)
    for url in (f"{_MOCK}/db", f"{_MOCK}/db?w=1&serverSelectionTimeoutMS=900"):
        connection = MongoConnection(url)
        assert connection.database.name == "db"
        connection.close()
    assert given[0] == {
        "serverSelectionTimeoutMS": 5000,
        "w": "majority",
        "journal": True,
        "appname": "atlas-taxii",
    }
    assert given[1] == {"journal": True, "appname": "atlas-taxii"}


# --------------------------------------------------------------------------- errors

_UNAVAILABLE = (
    pymongo.errors.ServerSelectionTimeoutError("no server"),
    pymongo.errors.AutoReconnect("connection reset"),
    pymongo.errors.NetworkTimeout("timed out"),
    pymongo.errors.NotPrimaryError("not primary"),
    pymongo.errors.WaitQueueTimeoutError("pool exhausted"),
    pymongo.errors.OperationFailure("write conflict", code=112),
    pymongo.errors.OperationFailure("stepped down", code=189),
    pymongo.errors.WTimeoutError("waiting for replication timed out", code=64),
    pymongo.errors.ExecutionTimeout("operation exceeded time limit", code=50),
)
_CONFLICTS = (
    pymongo.errors.DuplicateKeyError(
        "E11000", code=11000, details={"keyPattern": {"api_root": 1, "title": 1}}
    ),
    pymongo.errors.BulkWriteError({"writeErrors": [{"code": 11000, "errmsg": "E11000 dup"}]}),
)
_OTHER = (
    pymongo.errors.OperationFailure("Authentication failed.", code=18),
    pymongo.errors.ConfigurationError("unknown option"),
    pymongo.errors.InvalidURI("bad"),
    pymongo.errors.BulkWriteError({"writeErrors": [{"code": 121, "errmsg": "validation"}]}),
)


def _translate(exc: BaseException) -> BaseException:
    connection = MongoConnection("mongodb://user:pw@db.example/atlas")
    try:
        with connection.translated():
            raise exc
    except BaseException as translated:
        assert translated.__cause__ is exc
        return translated
    raise AssertionError("not raised")


@pytest.mark.parametrize("exc", _UNAVAILABLE, ids=lambda e: type(e).__name__)
def test_transient_driver_errors_are_unavailable(exc: Exception) -> None:
    translated = _translate(exc)
    assert isinstance(translated, StorageUnavailable)
    assert "mongodb://user:***@db.example/atlas" in str(translated)


@pytest.mark.parametrize("exc", _CONFLICTS, ids=lambda e: type(e).__name__)
def test_duplicates_are_conflicts_that_name_no_location(exc: Exception) -> None:
    translated = _translate(exc)
    assert isinstance(translated, StorageConflict)
    assert "db.example" not in str(translated)  # may reach an HTTP client as a 409


def test_a_duplicate_names_the_rule_it_broke() -> None:
    assert "(api_root, title)" in str(_translate(_CONFLICTS[0]))


@pytest.mark.parametrize("exc", _OTHER, ids=lambda e: f"{type(e).__name__}-{e}")
def test_other_driver_errors_are_storage_errors(exc: Exception) -> None:
    translated = _translate(exc)
    assert type(translated) is StorageError


def _every_pymongo_error() -> list[type[BaseException]]:
    return [
        cls
        for _, cls in inspect.getmembers(pymongo.errors, inspect.isclass)
        if issubclass(cls, pymongo.errors.PyMongoError)
    ]


@pytest.mark.parametrize("error", _every_pymongo_error(), ids=lambda c: c.__name__)
def test_no_driver_error_is_left_untranslated(error: type[BaseException]) -> None:
    """The httpx completeness test: whatever pymongo raises leaves the store as a
    StorageError."""
    for args in (({"writeErrors": []},), ("injected",), ("injected", {}), ({}, False)):
        try:
            exc = error(*args)
            break
        except (TypeError, AttributeError):  # constructors that want other arguments
            continue
    else:
        raise AssertionError(f"cannot construct {error.__name__}")
    assert isinstance(_translate(exc), StorageError)
