"""Users, API keys and grants in MongoDB.

Without transactions there are no cascading deletes and no foreign keys, so the
rules that a key or grant never outlives its user or collection are kept by the order
of single-document operations:

* deleting a user removes their keys and grants, then the user, then sweeps keys and
  grants again;
* adding a key or grant writes it, then checks that its user (and collection) still
  exist, and takes it back if not.

Whatever the interleaving of the two, a key or grant written for a user being deleted
is removed by one side or the other: a user created again under the same name never
inherits the old one's keys.  (Collections keep the same rule for grants; see
``MongoStorage.delete_collection``.)
"""

from __future__ import annotations

from typing import Any, Final

import pymongo
import pymongo.errors
from pymongo.database import Database

from taxii_server.storage.base import (
    ApiKey,
    Grant,
    StorageConflict,
    StorageNotFound,
    User,
)
from taxii_server.storage.mongo_objects import OBJECTS
from taxii_server.storage.mongo_status import STATUSES
from taxii_server.storage.versions import pending_owner

__all__ = [
    "add_api_key",
    "check_status_owner",
    "delete_api_key",
    "delete_user",
    "get_api_key",
    "get_grant",
    "get_user",
    "list_api_keys",
    "list_grants",
    "list_users",
    "put_user",
    "replace_api_key_hash",
    "set_grant",
]

USERS: Final = "users"
API_KEYS: Final = "api_keys"
GRANTS: Final = "grants"
_COLLECTIONS: Final = "collections"


def _user(doc: dict[str, Any]) -> User:
    return User(
        doc["_id"],
        doc["clearance"],
        doc["password_hash"],
        bool(doc["admin"]),
        doc.get("organization"),
    )


def _key(doc: dict[str, Any]) -> ApiKey:
    return ApiKey(doc["_id"], doc["user"], doc["secret_hash"], doc["label"], doc["created"])


def _grant(doc: dict[str, Any]) -> Grant:
    return Grant(doc["user"], doc["collection_id"], bool(doc["can_read"]), bool(doc["can_write"]))


def get_user(database: Database[dict[str, Any]], name: str) -> User | None:
    found = database[USERS].find_one({"_id": name})
    return None if found is None else _user(found)


def list_users(database: Database[dict[str, Any]]) -> list[User]:
    return [_user(doc) for doc in database[USERS].find().sort("_id", pymongo.ASCENDING)]


def put_user(database: Database[dict[str, Any]], user: User) -> None:
    """Create or replace a user (keeping their keys and grants)."""
    database[USERS].replace_one(
        {"_id": user.name},
        {
            "clearance": user.clearance,
            "password_hash": user.password_hash,
            "admin": user.admin,
            "organization": user.organization,
        },
        upsert=True,
    )


def set_organization(
    database: Database[dict[str, Any]], name: str, organization: str, identity: str
) -> int:
    """Set a user's organization; the objects waiting for this user (their first
    version's poster, before objects had owners) become its: how many versions."""
    found = database[USERS].update_one({"_id": name}, {"$set": {"organization": organization}})
    if found.matched_count == 0:
        raise StorageNotFound(f"no user named {name!r}")
    return (
        database[OBJECTS]
        .update_many({"owner": pending_owner(name)}, {"$set": {"owner": identity}})
        .modified_count
    )


def delete_user(database: Database[dict[str, Any]], name: str) -> None:
    """Delete a user with their keys and grants."""
    if database[USERS].find_one({"_id": name}, {"_id": True}) is None:
        raise StorageNotFound(f"no user named {name!r}")
    _sweep(database, name)
    if database[USERS].delete_one({"_id": name}).deleted_count == 0:
        raise StorageNotFound(f"no user named {name!r}")
    _sweep(database, name)  # a key or grant added meanwhile, checked before we deleted


def _sweep(database: Database[dict[str, Any]], name: str) -> None:
    database[API_KEYS].delete_many({"user": name})
    database[GRANTS].delete_many({"user": name})
    # Statuses outlive their poster, for admins: a later user of the name must not
    # read them (mongo_status.insert_status checks the other way round).
    database[STATUSES].update_many({"owner": name}, {"$set": {"owner": None}})
    # Objects waiting for them become admins' (not a later user's of the same name).
    database[OBJECTS].update_many({"owner": pending_owner(name)}, {"$set": {"owner": None}})


def check_status_owner(
    database: Database[dict[str, Any]], status_id: str, owner: str | None
) -> None:
    """After storing a status: disown it if its owner was deleted meanwhile (written
    then checked, as keys and grants are; ``delete_user`` sweeps the other way)."""
    if owner is not None and not _user_exists(database, owner):
        database[STATUSES].update_one({"_id": status_id, "owner": owner}, {"$set": {"owner": None}})


def _user_exists(database: Database[dict[str, Any]], name: str) -> bool:
    return database[USERS].find_one({"_id": name}, {"_id": True}) is not None


def add_api_key(database: Database[dict[str, Any]], key: ApiKey) -> None:
    """Store a key; :class:`StorageNotFound` for an unknown user,
    :class:`StorageConflict` for a key id already in use."""
    if not _user_exists(database, key.user):
        raise StorageNotFound(f"no user named {key.user!r}")
    keys = database[API_KEYS]
    try:
        keys.insert_one(
            {
                "_id": key.key_id,
                "user": key.user,
                "secret_hash": key.secret_hash,
                "label": key.label,
                "created": key.created,
            }
        )
    except pymongo.errors.DuplicateKeyError:
        raise StorageConflict(f"an API key with id {key.key_id!r} already exists") from None
    if not _user_exists(database, key.user):  # deleted meanwhile: take the key back
        keys.delete_one({"_id": key.key_id, "user": key.user})
        raise StorageNotFound(f"no user named {key.user!r}")


def get_api_key(database: Database[dict[str, Any]], key_id: str) -> ApiKey | None:
    found = database[API_KEYS].find_one({"_id": key_id})
    return None if found is None else _key(found)


def list_api_keys(database: Database[dict[str, Any]], user: str) -> list[ApiKey]:
    cursor = (
        database[API_KEYS]
        .find({"user": user})
        .sort([("created", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)])
    )
    return [_key(doc) for doc in cursor]


def delete_api_key(database: Database[dict[str, Any]], key_id: str) -> None:
    if database[API_KEYS].delete_one({"_id": key_id}).deleted_count == 0:
        raise StorageNotFound(f"no API key with id {key_id!r}")


def replace_api_key_hash(
    database: Database[dict[str, Any]], key_id: str, old: str, new: str
) -> bool:
    """Set the key's hash to ``new`` if it is still ``old`` (one conditional update)."""
    done = database[API_KEYS].update_one(
        {"_id": key_id, "secret_hash": old}, {"$set": {"secret_hash": new}}
    )
    return done.modified_count == 1


def _collection_seq(database: Database[dict[str, Any]], collection_id: str) -> int | None:
    found = database[_COLLECTIONS].find_one({"_id": collection_id}, {"seq": True})
    return None if found is None else int(found["seq"])


def set_grant(database: Database[dict[str, Any]], grant: Grant) -> None:
    """Create or replace the grant for (user, collection); a grant with neither right
    removes it."""
    if not _user_exists(database, grant.user):
        raise StorageNotFound(f"no user named {grant.user!r}")
    seq = _collection_seq(database, grant.collection_id)
    if seq is None:
        raise StorageNotFound(f"no collection {grant.collection_id}")
    grants = database[GRANTS]
    key = {"user": grant.user, "collection_id": grant.collection_id}
    if not (grant.can_read or grant.can_write):
        grants.delete_one(key)
        return
    update = {"$set": {"collection": seq, "can_read": grant.can_read, "can_write": grant.can_write}}
    try:
        grants.update_one(key, update, upsert=True)
    except pymongo.errors.DuplicateKeyError:
        # Two first grants for the pair at once: the other inserted it; replace it.
        grants.update_one(key, update)
    if (
        not _user_exists(database, grant.user)
        or _collection_seq(database, grant.collection_id) != seq
    ):  # the user or the collection was deleted meanwhile: take the grant back
        grants.delete_one({**key, "collection": seq})
        raise StorageNotFound(
            f"no user named {grant.user!r} or no collection {grant.collection_id} any more"
        )


def get_grant(database: Database[dict[str, Any]], user: str, collection_id: str) -> Grant | None:
    found = database[GRANTS].find_one({"user": user, "collection_id": collection_id})
    return None if found is None else _grant(found)


def list_grants(database: Database[dict[str, Any]], user: str) -> list[Grant]:
    cursor = database[GRANTS].find({"user": user}).sort("collection_id", pymongo.ASCENDING)
    return [_grant(doc) for doc in cursor]
