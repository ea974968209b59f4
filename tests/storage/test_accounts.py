"""Users, API keys, grants and shared secrets, on every backend."""

from __future__ import annotations

import uuid

import pytest

from taxii_server.storage.base import (
    ApiKey,
    Collection,
    Grant,
    Storage,
    StorageConflict,
    StorageNotFound,
    User,
)


def test_users_are_created_replaced_listed_and_deleted(storage: Storage) -> None:
    assert storage.list_users() == []
    storage.put_user(User("bob", 0))
    storage.put_user(User("alice", 2, "scrypt$hash", admin=True))
    storage.put_user(User("bob", 4, None))
    assert storage.list_users() == [User("alice", 2, "scrypt$hash", True), User("bob", 4)]
    assert storage.get_user("alice") == User("alice", 2, "scrypt$hash", True)
    assert storage.get_user("carol") is None
    storage.delete_user("bob")
    assert storage.get_user("bob") is None
    with pytest.raises(StorageNotFound, match="bob"):
        storage.delete_user("bob")


def test_api_keys(storage: Storage) -> None:
    storage.put_user(User("alice", 1))
    storage.put_user(User("bob", 1))
    k1 = ApiKey("aaaaaaaaaaaa", "alice", "scrypt$1", "laptop", 20)
    k2 = ApiKey("bbbbbbbbbbbb", "alice", "scrypt$2", "", 10)
    k3 = ApiKey("cccccccccccc", "bob", "scrypt$3")
    for key in (k1, k2, k3):
        storage.add_api_key(key)
    assert storage.get_api_key("aaaaaaaaaaaa") == k1
    assert storage.list_api_keys("alice") == [k2, k1]  # oldest first
    with pytest.raises(StorageConflict, match="aaaaaaaaaaaa"):
        storage.add_api_key(ApiKey("aaaaaaaaaaaa", "bob", "scrypt$4"))
    with pytest.raises(StorageNotFound, match="nobody"):
        storage.add_api_key(ApiKey("dddddddddddd", "nobody", "scrypt$5"))
    storage.delete_api_key("aaaaaaaaaaaa")
    assert storage.get_api_key("aaaaaaaaaaaa") is None
    with pytest.raises(StorageNotFound):
        storage.delete_api_key("aaaaaaaaaaaa")
    # Replacing a user keeps their keys; deleting the user removes them.
    storage.put_user(User("alice", 3))
    assert storage.list_api_keys("alice") == [k2]
    storage.delete_user("alice")
    assert storage.get_api_key("bbbbbbbbbbbb") is None
    assert storage.list_api_keys("bob") == [k3]


def test_a_key_hash_is_replaced_only_if_unchanged(storage: Storage) -> None:
    storage.put_user(User("alice", 1))
    key = ApiKey("aaaaaaaaaaaa", "alice", "scrypt$old", "laptop", 20)
    storage.add_api_key(key)
    assert not storage.replace_api_key_hash(key.key_id, "scrypt$other", "sha256$new")
    assert storage.get_api_key(key.key_id) == key
    assert storage.replace_api_key_hash(key.key_id, "scrypt$old", "sha256$new")
    assert storage.get_api_key(key.key_id) == ApiKey(
        key.key_id, "alice", "sha256$new", "laptop", 20
    )
    # A second worker upgrading the same key at once finds it done.
    assert not storage.replace_api_key_hash(key.key_id, "scrypt$old", "sha256$new")
    assert not storage.replace_api_key_hash("bbbbbbbbbbbb", "scrypt$old", "sha256$new")


def test_grants(storage: Storage, collection: Collection) -> None:
    other = Collection(str(uuid.uuid4()), "community", "Other")
    storage.create_collection(other)
    storage.put_user(User("alice", 1))
    storage.set_grant(Grant("alice", collection.id, True, False))
    storage.set_grant(Grant("alice", other.id, True, True))
    storage.set_grant(Grant("alice", collection.id, True, True))  # replaces
    assert storage.get_grant("alice", collection.id) == Grant("alice", collection.id, True, True)
    assert sorted(storage.list_grants("alice"), key=lambda g: g.collection_id) == sorted(
        [Grant("alice", collection.id, True, True), Grant("alice", other.id, True, True)],
        key=lambda g: g.collection_id,
    )
    storage.set_grant(Grant("alice", other.id, False, False))  # neither right: removed
    assert storage.get_grant("alice", other.id) is None
    assert storage.get_grant("bob", collection.id) is None
    with pytest.raises(StorageNotFound, match="bob"):
        storage.set_grant(Grant("bob", collection.id, True, False))
    with pytest.raises(StorageNotFound, match="collection"):
        storage.set_grant(Grant("alice", str(uuid.uuid4()), True, False))
    storage.put_user(User("alice", 2))  # replacing a user keeps their grants
    assert len(storage.list_grants("alice")) == 1
    storage.delete_user("alice")
    storage.put_user(User("alice", 1))
    assert storage.list_grants("alice") == []


def test_ensure_secret_keeps_the_first(storage: Storage) -> None:
    assert storage.ensure_secret("next", "first") == "first"
    assert storage.ensure_secret("next", "second") == "first"
    assert storage.ensure_secret("other", "third") == "third"
