"""schemathesis against a live server, driven by the OpenAPI document it serves.

A real ``atlas-taxii serve`` (gunicorn, two workers, SQLite) is seeded with
collections, users and objects; schemathesis loads ``/taxii2/openapi.json`` from it
and sends, per operation, examples that fit the document (positive) and examples that
break it (negative), as the writer and anonymously.  Every response must be:

* not a 5xx (``not_a_server_error``);
* of the status codes, content type, headers and body schema the document declares;
* a 4xx for input the document calls invalid (``negative_data_rejection``);
* when it is an error, a TAXII error message with the TAXII media type (our check).

Then a stateful run follows the document's links (collections -> objects -> an object
-> its versions; POST -> its status; a page -> its ``next``).

Bounded for CI: a fixed number of examples per operation, a fixed seed, no deadline.
Generated path parameters are steered to the seeded API root, collections and
objects (deterministically, from the generated value) so most requests reach the code
behind the routing instead of stopping at a 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from taxii_server.openapi import OPENAPI_PATH, openapi_document
from tests.hardening.live import (
    INBOX,
    PUBLIC,
    ROOT,
    SECRET,
    TAXII,
    LiveTaxii,
    deploy,
    post_envelope,
)
from tests.interop.dataset import build_objects

MAX_EXAMPLES = 25
STATEFUL_EXAMPLES = 30
SEED = 20_240_611

_CHECKED = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
)
# Not checked: values that fit a pattern may still be refused (a pattern cannot say
# that 2024-02-30 is no date, or that an API root does not exist), auth is optional
# (anonymous callers read public collections), and response time is a benchmark's job.
_UNCHECKED = (
    "positive_data_acceptance",
    "missing_required_header",
    "ignored_auth",
    "object_level_authorization",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTaxii]:
    directory = tmp_path_factory.mktemp("schemathesis")
    server = deploy(directory, f"sqlite:///{directory / 'taxii.db'}").start()
    try:
        seeded = post_envelope(server, INBOX, build_objects(40))
        assert seeded.status_code == 202, seeded.text
        assert orjson.loads(seeded.content)["failure_count"] == 0
        assert post_envelope(server, PUBLIC, build_objects(6)[:6]).status_code == 202
        yield server
    finally:
        server.stop()


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
            },
            "checks": {
                **{name: {"enabled": True} for name in _CHECKED},
                **{name: {"enabled": False} for name in _UNCHECKED},
            },
        }
    )


def _pick(generated: Any, choices: tuple[str, ...]) -> str | None:
    """One of ``choices`` for most generated values; None (keep the generated value)
    for one in ``len(choices) + 1``."""
    digest = hashlib.sha256(repr(generated).encode()).digest()
    index = digest[0] % (len(choices) + 1)
    return None if index == len(choices) else choices[index]


_OBJECT_IDS = tuple(o["id"] for o in build_objects(6)[:3])


def _steer(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Point most generated path parameters at what the store holds."""
    if path_parameters is None:
        return None
    out = dict(path_parameters)
    if "api_root" in out and _pick(out["api_root"], (ROOT, ROOT, ROOT)):
        out["api_root"] = ROOT
    if "collection_id" in out:
        chosen = _pick(out["collection_id"], (INBOX, "inbox", SECRET, PUBLIC))
        out["collection_id"] = chosen or out["collection_id"]
    if "object_id" in out:
        out["object_id"] = _pick(out["object_id"], _OBJECT_IDS) or out["object_id"]
    return out


@pytest.fixture(scope="module")
def api(live: LiveTaxii) -> Any:
    """The schema as the live server serves it, with the steering hook."""
    schema = schemathesis.openapi.from_url(f"{live.base_url}{OPENAPI_PATH}", config=_config())
    schema.hook("map_path_parameters")(_steer)
    return schema


def _taxii_error_message(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx is a TAXII error message (TAXII 2.1 §3.6.1) with the TAXII media type."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type", [""])[0] == TAXII, response.headers
    body = orjson.loads(response.content)
    assert isinstance(body, dict) and body.get("http_status") == str(response.status_code)
    assert isinstance(body.get("title"), str) and isinstance(body.get("description"), str)
    return True


def _negatable(operation: dict[str, Any]) -> bool:
    """Whether the document constrains any input of ``operation`` (a pattern, a
    minimum, a body): only then are there requests it calls invalid."""
    parameters = openapi_document()["components"]["parameters"]
    for ref in operation.get("parameters", ()):
        schema = parameters[ref["$ref"].rsplit("/", 1)[1]]["schema"]
        if "pattern" in schema or "minimum" in schema:
            return True
    return "requestBody" in operation


OPERATIONS = [
    pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
    for path, item in openapi_document()["paths"].items()
    for method, operation in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _negatable(operation)
]
_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    max_examples=MAX_EXAMPLES,
)


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["writer", "anonymous"])
@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_operation(
    api: Any, live: LiveTaxii, method: str, path: str, caller: str, mode: GenerationMode
) -> None:
    operation = api[path][method]
    headers = live.writer.bearer if caller == "writer" else {}

    @_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode, hooks=api.hooks))
    def attack(case: Any) -> None:
        case.call_and_validate(headers=headers, additional_checks=[_taxii_error_message])

    attack()


@pytest.mark.slow
def test_linked_sequences_as_a_writer(api: Any, live: LiveTaxii) -> None:
    """Follow the document's links: a collection list into a collection's objects,
    a page into its ``next`` and its first object's versions, a POST into its status,
    a DELETE into a GET of what was deleted (``use_after_free``)."""
    credentials = live.writer.bearer

    class Workflow(api.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": credentials}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            super().validate_response(
                response, case, additional_checks=[_taxii_error_message], **kwargs
            )

    Workflow.run(
        settings=settings(_SETTINGS, max_examples=STATEFUL_EXAMPLES, stateful_step_count=6)
    )
