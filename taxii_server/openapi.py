"""An OpenAPI 3.0 description of this server's TAXII 2.1 API, served at
``/taxii2/openapi.json``.

Written for integrators (generate a client, read what each endpoint answers) and for
the test suite, which runs schemathesis against a live server with it: every schema
here describes exactly what the server sends, and every query-parameter pattern
admits at least every value the server accepts (so any value outside it must be
refused with a 4xx).  The patterns are built from the regular expressions that
:mod:`taxii_server.query` and :mod:`taxii_server.timestamps` parse with.

Nothing in the document depends on the store: API roots, collections and users are
not named in it, so serving it to anyone reveals nothing a caller could not read in
the TAXII 2.1 specification (sections are cited per operation).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from taxii_server import __version__
from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.query import ID_PATTERN, SPACES, SPEC_VERSION_PATTERN, TYPE_PATTERN
from taxii_server.timestamps import TIMESTAMP_PATTERN
from taxii_server.trust import JWKS_MEDIA_TYPE, JWKS_PATH

__all__ = ["OPENAPI_PATH", "openapi_document"]

#: Where the document is served.
OPENAPI_PATH = "/taxii2/openapi.json"

Json = dict[str, Any]

_TAXII = MEDIA_TYPE_TAXII_V21
# SPACES as the body of a character class in JSON Schema's regular-expression syntax
# (which, like Python's, reads \t, \n, \r and \xhh escapes).
_SPACE = SPACES.encode("unicode_escape").decode("ascii")
# Our own timestamps: always six fractional digits and "Z" (TAXII 2.1 §2).
_OUR_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"


def _list_of(item: str) -> str:
    """A comma-separated list as the server reads it (TAXII 2.1 §3.4.1): items
    stripped of white space, empty items skipped, at least one item."""
    return rf"^[{_SPACE},]*{item}([{_SPACE}]*,[{_SPACE},]*{item})*[{_SPACE},]*$"


def _padded(item: str) -> str:
    """A single value as the server reads it: stripped of white space."""
    return rf"^[{_SPACE}]*{item}[{_SPACE}]*$"


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(items: Json) -> Json:
    """A TAXII list: never empty (TAXII 2.1 §2), left out instead."""
    return {"type": "array", "items": items, "minItems": 1}


def _taxii_content(schema: Json) -> Json:
    return {_TAXII: {"schema": schema}}


# --------------------------------------------------------------------------- schemas

_STRING: Json = {"type": "string"}
_TIMESTAMP: Json = {"type": "string", "pattern": _OUR_TIMESTAMP}
_PAGING: Json = {
    "more": {"type": "boolean", "description": "More items match after this page."},
    "next": {
        "type": "string",
        "description": "Opaque token resuming after this page (present whenever more is).",
    },
}

_SCHEMAS: Json = {
    "error": {
        "type": "object",
        "description": "TAXII 2.1 §3.6.1 error message; every non-2xx response is one.",
        "required": ["title", "description", "http_status"],
        "properties": {
            "title": _STRING,
            "description": {
                "type": "string",
                "description": "What was wrong and where (parameter, path, object id).",
            },
            "http_status": {"type": "string", "pattern": "^[1-5][0-9]{2}$"},
            "details": {"type": "object"},
        },
    },
    "discovery": {
        "type": "object",
        "description": "TAXII 2.1 §4.1.1 discovery resource.",
        "required": ["title"],
        "properties": {
            "title": _STRING,
            "description": _STRING,
            "contact": _STRING,
            "default": {"type": "string", "format": "uri"},
            "api_roots": _list({"type": "string", "format": "uri"}),
        },
    },
    "api-root": {
        "type": "object",
        "description": "TAXII 2.1 §4.2.1 API root resource.",
        "required": ["title", "versions", "max_content_length"],
        "properties": {
            "title": _STRING,
            "description": _STRING,
            "versions": _list({"type": "string", "enum": [_TAXII]}),
            "max_content_length": {
                "type": "integer",
                "minimum": 1,
                "description": "Largest POST body accepted, in bytes (larger: 413).",
            },
        },
    },
    "collection": {
        "type": "object",
        "description": "TAXII 2.1 §5.2.1 collection resource; rights are the caller's.",
        "required": ["id", "title", "can_read", "can_write"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "title": _STRING,
            "description": _STRING,
            "alias": _STRING,
            "can_read": {"type": "boolean"},
            "can_write": {"type": "boolean"},
            "media_types": _list(_STRING),
        },
    },
    "collections": {
        "type": "object",
        "description": "TAXII 2.1 §5.1.1: the collections the caller can read or write "
        "(an empty object when there are none).",
        "properties": {"collections": _list(_ref("collection"))},
    },
    "stix-object": {
        "type": "object",
        "description": "A STIX 2.1 object, served exactly as stored; on POST each one is "
        "validated on its own and reported in the status.",
        "required": ["type", "id"],
        "properties": {
            "type": {"type": "string", "pattern": f"^{TYPE_PATTERN}$"},
            "id": {"type": "string", "pattern": f"^{ID_PATTERN}$"},
            "spec_version": _STRING,
        },
    },
    "envelope": {
        "type": "object",
        "description": "TAXII 2.1 §3.7 envelope: one page of objects.",
        "required": ["more"],
        "properties": {
            **_PAGING,
            "objects": _list(_ref("stix-object")),
        },
    },
    "new-envelope": {
        "type": "object",
        "description": "An envelope to add (TAXII 2.1 §5.5); a STIX bundle is accepted too. "
        "Items are JSON objects with a STIX identifier as their id (else 400), but need not "
        "be valid STIX: invalid ones become failures in the status.",
        "required": ["objects"],
        "properties": {
            "objects": _list(
                {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string", "pattern": f"^{ID_PATTERN}$"}},
                }
            )
        },
    },
    "manifest-record": {
        "type": "object",
        "description": "TAXII 2.1 §5.3.1 manifest record.",
        "required": ["id", "date_added", "version", "media_type"],
        "properties": {
            "id": {"type": "string", "pattern": f"^{ID_PATTERN}$"},
            "date_added": _TIMESTAMP,
            "version": _TIMESTAMP,
            "media_type": _STRING,
        },
    },
    "manifest": {
        "type": "object",
        "description": "TAXII 2.1 §5.3.1 manifest resource.",
        "required": ["more"],
        "properties": {
            **_PAGING,
            "objects": _list(_ref("manifest-record")),
        },
    },
    "versions": {
        "type": "object",
        "description": "TAXII 2.1 §5.8.1 versions resource.",
        "required": ["more"],
        "properties": {**_PAGING, "versions": _list(_TIMESTAMP)},
    },
    "status-details": {
        "type": "object",
        "description": "TAXII 2.1 §4.3.1 status details: the object's id and version (for "
        "an object without a usable version, such as an SCO, the time of the request).",
        "required": ["id", "version"],
        "properties": {
            "id": {"type": "string", "pattern": f"^{ID_PATTERN}$"},
            "version": _TIMESTAMP,
            "message": _STRING,
        },
    },
    "status": {
        "type": "object",
        "description": "TAXII 2.1 §4.3.1 status resource, with every list in full "
        "(a list without entries is left out).",
        "required": [
            "id",
            "status",
            "total_count",
            "success_count",
            "failure_count",
            "pending_count",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["complete", "pending"]},
            "request_timestamp": _TIMESTAMP,
            "total_count": {"type": "integer", "minimum": 0},
            "success_count": {"type": "integer", "minimum": 0},
            "successes": _list(_ref("status-details")),
            "failure_count": {"type": "integer", "minimum": 0},
            "failures": _list(_ref("status-details")),
            "pending_count": {"type": "integer", "minimum": 0},
            "pendings": _list(_ref("status-details")),
        },
    },
}

# --------------------------------------------------------------------------- parameters


def _path(name: str, description: str, pattern: str | None = None) -> Json:
    schema: Json = {"type": "string", "minLength": 1}
    if pattern is not None:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


_PARAMETERS: Json = {
    "api_root": _path("api_root", "The API root's URL path segment."),
    "collection_id": _path("collection_id", "A collection's id, or its alias."),
    "object_id": _path("object_id", "A STIX identifier (type--UUID).", f"^{ID_PATTERN}$"),
    "status_id": _path("status_id", "The id of a status resource."),
    "added_after": _query(
        "added_after",
        "Only items added after this RFC 3339 timestamp (TAXII 2.1 §3.4.2); any precision, "
        "Z or a numeric offset.  Empty means no lower bound (a script's cursor not set yet).",
        {"type": "string", "pattern": _padded(f"(?:{TIMESTAMP_PATTERN})?")},
    ),
    "limit": _query(
        "limit",
        "Items per page; above the server's maximum it is lowered to it (§3.4.3).",
        {"type": "integer", "minimum": 1},
    ),
    "next": _query(
        "next",
        "Token from the previous page's `next` (§3.4.3); filters left out are the token's.",
        _STRING,
    ),
    "match_id": _query(
        "match[id]",
        "STIX ids, comma-separated or repeated (§3.4.1).",
        {"type": "string", "pattern": _list_of(ID_PATTERN)},
    ),
    "match_type": _query(
        "match[type]",
        "STIX types, comma-separated or repeated (§3.4.1); unknown types match nothing.",
        {"type": "string", "pattern": _list_of(TYPE_PATTERN)},
    ),
    "match_version": _query(
        "match[version]",
        "`first`, `last` (the default), `all` or version timestamps (§3.4.1).",
        {
            "type": "string",
            "pattern": _list_of(f"(first|last|all|{TIMESTAMP_PATTERN})"),
        },
    ),
    "match_spec_version": _query(
        "match[spec_version]",
        "STIX specification versions such as 2.1 (§3.4.1).",
        {"type": "string", "pattern": _list_of(SPEC_VERSION_PATTERN)},
    ),
}


def _params(*names: str) -> list[Json]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


_PAGED = ("added_after", "limit", "next")
_FILTERS = ("match_id", "match_type", "match_version", "match_spec_version")

# --------------------------------------------------------------------------- responses

_HEADER_STRING: Json = {"schema": {"type": "string"}}
_DATE_ADDED_HEADERS: Json = {
    "X-TAXII-Date-Added-First": {
        "required": True,
        "description": "date_added of the first item (the query's lower bound when empty).",
        "schema": {"type": "string", "pattern": _OUR_TIMESTAMP},
    },
    "X-TAXII-Date-Added-Last": {
        "required": True,
        "description": "date_added of the last item: resume with added_after set to it.",
        "schema": {"type": "string", "pattern": _OUR_TIMESTAMP},
    },
}

_ERRORS: dict[str, tuple[str, Json]] = {
    "400": ("A malformed parameter, token or body; the description says which.", {}),
    "401": (
        "No usable credentials (anonymous callers of private resources, wrong secrets).",
        {"WWW-Authenticate": {**_HEADER_STRING, "required": True}},
    ),
    "403": ("The caller may see the collection but not do this in it.", {}),
    "404": ("No such resource for this caller (also what others' collections are).", {}),
    "405": ("The resource does not support the method.", {"Allow": _HEADER_STRING}),
    "406": ("The Accept header excludes TAXII 2.1 JSON.", {}),
    "408": ("The client stopped sending its body.", {}),
    "413": ("The body exceeds max_content_length, or has too many objects.", {}),
    "415": ("The POST body is not application/taxii+json;version=2.1.", {}),
    "429": ("Too many failed logins from this address.", {"Retry-After": _HEADER_STRING}),
    "503": ("The store is unavailable; try again later.", {"Retry-After": _HEADER_STRING}),
}


def _error_responses(*codes: str) -> Json:
    out: Json = {}
    for code in ("400", "401", "404", "405", "406", "429", "503", *codes):
        description, headers = _ERRORS[code]
        response: Json = {"description": description, "content": _taxii_content(_ref("error"))}
        if headers:
            response["headers"] = headers
        out[code] = response
    return dict(sorted(out.items()))


def _ok(schema: str, description: str, *, paged: bool = False, status: str = "200") -> Json:
    response: Json = {"description": description, "content": _taxii_content(_ref(schema))}
    if paged:
        response["headers"] = _DATE_ADDED_HEADERS
    return {status: response}


def _operation(
    operation_id: str,
    summary: str,
    responses: Json,
    *,
    parameters: tuple[str, ...] = (),
    errors: tuple[str, ...] = (),
    links: Json | None = None,
    **extra: Any,
) -> Json:
    operation: Json = {"operationId": operation_id, "summary": summary}
    if parameters:
        operation["parameters"] = _params(*parameters)
    operation.update(extra)
    operation["responses"] = {**responses, **_error_responses(*errors)}
    if links:
        first = next(iter(responses))
        operation["responses"][first]["links"] = links
    return operation


def _link(operation_id: str, **parameters: str) -> Json:
    return {"operationId": operation_id, "parameters": parameters}


_IN_COLLECTION = {
    "api_root": "$request.path.api_root",
    "collection_id": "$request.path.collection_id",
}

_COLLECTION = "/{api_root}/collections/{collection_id}"

_JWK_SET: Json = {
    "type": "object",
    "required": ["keys"],
    "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
}

_PATHS: Json = {
    JWKS_PATH: {
        "get": _operation(
            "getJwks",
            "The public keys whose bundle signatures the configuration trusts (RFC 7517 §5), "
            "with their expiry (exp) and revocation (revoked.revoked_at); to anyone",
            {
                "200": {
                    "description": "The JWK Set.",
                    "content": {
                        JWKS_MEDIA_TYPE: {
                            "schema": {
                                "type": "object",
                                "required": ["keys"],
                                "properties": {
                                    "keys": {"type": "array", "items": {"type": "object"}}
                                },
                            }
                        }
                    },
                }
            },
        )
    },
    "/taxii2/": {
        "get": _operation(
            "getDiscovery",
            "Server discovery (TAXII 2.1 §4.1)",
            _ok("discovery", "The discovery resource."),
        )
    },
    "/{api_root}/": {
        "get": _operation(
            "getApiRoot",
            "API root information (§4.2)",
            _ok("api-root", "The API root resource."),
            parameters=("api_root",),
            links={
                "collections": _link("getCollections", api_root="$request.path.api_root"),
            },
        )
    },
    "/{api_root}/status/{status_id}/": {
        "get": _operation(
            "getStatus",
            "Status of an add request, to its poster and admins (§4.3)",
            _ok("status", "The status resource."),
            parameters=("api_root", "status_id"),
        )
    },
    "/{api_root}/collections/": {
        "get": _operation(
            "getCollections",
            "The collections the caller can read or write (§5.1)",
            _ok("collections", "The collections resource."),
            parameters=("api_root",),
            links={
                "collection": _link(
                    "getCollection",
                    api_root="$request.path.api_root",
                    collection_id="$response.body#/collections/0/id",
                ),
                "objects": _link(
                    "getObjects",
                    api_root="$request.path.api_root",
                    collection_id="$response.body#/collections/0/id",
                ),
            },
        )
    },
    f"{_COLLECTION}/": {
        "get": _operation(
            "getCollection",
            "One collection (§5.2)",
            _ok("collection", "The collection resource."),
            parameters=("api_root", "collection_id"),
            links={
                "objects": _link("getObjects", **_IN_COLLECTION),
                "manifest": _link("getManifest", **_IN_COLLECTION),
            },
        )
    },
    f"{_COLLECTION}/manifest/": {
        "get": _operation(
            "getManifest",
            "Manifest records of the objects, paged (§5.3)",
            _ok("manifest", "A page of manifest records.", paged=True),
            parameters=("api_root", "collection_id", *_PAGED, *_FILTERS),
            links={
                "object": _link(
                    "getObject", **_IN_COLLECTION, object_id="$response.body#/objects/0/id"
                ),
                "next": _link("getManifest", **_IN_COLLECTION, next="$response.body#/next"),
            },
        )
    },
    f"{_COLLECTION}/objects/": {
        "get": _operation(
            "getObjects",
            "Objects, paged in date_added order (§5.4)",
            _ok("envelope", "A page of objects.", paged=True),
            parameters=("api_root", "collection_id", *_PAGED, *_FILTERS),
            links={
                "object": _link(
                    "getObject", **_IN_COLLECTION, object_id="$response.body#/objects/0/id"
                ),
                "versions": _link(
                    "getObjectVersions",
                    **_IN_COLLECTION,
                    object_id="$response.body#/objects/0/id",
                ),
                "next": _link("getObjects", **_IN_COLLECTION, next="$response.body#/next"),
            },
        ),
        "post": _operation(
            "addObjects",
            "Add objects (§5.5); processed before the answer, which is the complete status",
            _ok(
                "status",
                "The status of the request: every object is a success or a failure that says why.",
                status="202",
            ),  # fmt: skip
            parameters=("api_root", "collection_id"),
            errors=("403", "408", "413", "415"),
            requestBody={"required": True, "content": _taxii_content(_ref("new-envelope"))},
            links={
                "status": _link(
                    "getStatus",
                    api_root="$request.path.api_root",
                    status_id="$response.body#/id",
                ),
                "objects": _link("getObjects", **_IN_COLLECTION),
            },
        ),
    },
    f"{_COLLECTION}/objects/{{object_id}}/": {
        "get": _operation(
            "getObject",
            "The versions of one object the filters select, the latest by default (§5.6)",
            _ok("envelope", "A page of the object's versions.", paged=True),
            parameters=(
                "api_root",
                "collection_id",
                "object_id",
                *_PAGED,
                "match_version",
                "match_spec_version",
            ),
            links={
                "versions": _link(
                    "getObjectVersions", **_IN_COLLECTION, object_id="$request.path.object_id"
                ),
            },
        ),
        "delete": _operation(
            "deleteObject",
            "Delete the selected versions of an object, all by default (§5.7); needs read "
            "and write",
            {"200": {"description": "Deleted; the body is empty."}},
            parameters=(
                "api_root",
                "collection_id",
                "object_id",
                "match_version",
                "match_spec_version",
            ),
            errors=("403",),
        ),
    },
    f"{_COLLECTION}/objects/{{object_id}}/versions/": {
        "get": _operation(
            "getObjectVersions",
            "Every version of one object visible to the caller (§5.8)",
            _ok("versions", "A page of version timestamps.", paged=True),
            parameters=(
                "api_root",
                "collection_id",
                "object_id",
                *_PAGED,
                "match_spec_version",
            ),
        )
    },
}

_DESCRIPTION = """\
The TAXII 2.1 API of atlas-taxii (OASIS TAXII 2.1, https://docs.oasis-open.org/cti/\
taxii/v2.1/taxii-v2.1.html; STIX 2.1 objects).

* Every response, errors included, is `application/taxii+json;version=2.1`; every error \
is a TAXII error message whose `description` says what was wrong and where.
* Authentication: HTTP Basic (a password, or an API key as the password), \
`Bearer <api key>` or `Token <api key>`. Without credentials a caller is anonymous and \
may read public collections at TLP:CLEAR.
* A collection the caller may neither read nor write answers exactly like one that \
does not exist (404; 401 to anonymous callers). Objects above the caller's TLP \
clearance do not exist for them on any endpoint.
* `next` tokens are signed, expire, and are re-authorised against the caller.
"""


@cache
def _document() -> Json:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "atlas-taxii TAXII 2.1 API",
            "version": __version__,
            "description": _DESCRIPTION,
            "license": {"name": "Apache-2.0"},
        },
        # Relative: resolved against wherever the document was fetched from, so it is
        # right behind reverse proxies and on every host.
        "servers": [{"url": "/"}],
        "security": [{}, {"basic": []}, {"bearer": []}, {"token": []}],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "parameters": _PARAMETERS,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <api key>`, as taxii2-client sends it.",
                },
            },
        },
    }


def openapi_document() -> Json:
    """The OpenAPI 3.0 document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())
