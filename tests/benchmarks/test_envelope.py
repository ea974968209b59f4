"""Reading objects pages without parsing every object: the same answer as a full parse
on pages shaped as each server shapes them, and a page it would misread is caught."""

from __future__ import annotations

import json

import orjson
import pytest

from benchmarks.envelope import PageSummary, check, parse, summarize
from benchmarks.workload import generate

_OBJECTS = [orjson.loads(body) for body in generate(300, seed=5).bodies[:25]]


@pytest.mark.parametrize(
    "body",
    [
        # atlas-taxii: compact, paging keys first
        orjson.dumps({"more": True, "next": "tok_en-1", "objects": _OBJECTS}),
        # medallion: json.dumps with its spaces, next as a UUID
        json.dumps({"more": True, "next": "5a0e-4b", "objects": _OBJECTS}).encode(),
        # OpenTAXII: objects first, next last, base64 with '=' and '/'
        json.dumps({"more": True, "objects": _OBJECTS, "next": "MjAy/NC0x=="}).encode(),
        orjson.dumps({"more": False, "objects": _OBJECTS[:3]}),
        b"{}",  # OpenTAXII's empty page
        b"",
    ],
    ids=["atlas", "medallion", "opentaxii", "last-page", "empty-object", "empty-body"],
)
def test_summary_matches_a_full_parse(body: bytes) -> None:
    assert check(body) is None
    assert summarize(body).objects == parse(body).objects


def test_summary_reads_more_and_next() -> None:
    body = json.dumps({"more": True, "next": 'a\\b"c', "objects": _OBJECTS}).encode()
    assert summarize(body) == PageSummary(len(_OBJECTS), True, 'a\\b"c')


def test_a_page_it_would_misread_is_reported() -> None:
    stripped = [{k: v for k, v in o.items() if k != "spec_version"} for o in _OBJECTS]
    problem = check(orjson.dumps({"more": False, "objects": stripped}))
    assert problem is not None and "parsed" in problem
