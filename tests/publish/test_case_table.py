"""The CSV table for case systems: values, markings, producers, formula cells."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from converters.tlp import MARKING_IDS
from taxii_server.case_table import COLUMNS, case_table
from taxii_server.cli.progress import ProgressBar


def rows(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    table = list(csv.reader(io.StringIO(case_table(objects, "Cases").decode(), newline="")))
    assert tuple(table[0]) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in table[1:]]


INDICATOR = {
    "type": "indicator",
    "id": "indicator--1",
    "created": "2024-01-01T00:00:00.000Z",
    "modified": "2024-01-02T00:00:00.000Z",
    "pattern": r"[url:value = 'https://x.example/it\'s']",
    "pattern_type": "stix",
    "valid_from": "2024-01-01T00:00:00Z",
    "labels": ["a", "b"],
    "created_by_ref": "identity--1",
    "object_marking_refs": [MARKING_IDS["green"], "marking-definition--not-tlp"],
}


@pytest.mark.parametrize(
    ("obj", "value"),
    [
        pytest.param(INDICATOR, "https://x.example/it's", id="indicator"),
        pytest.param(dict(INDICATOR, pattern="[a:b = 'x'] AND [c:d = 'y']"), "", id="complex"),
        pytest.param(
            {"type": "file", "id": "file--1", "hashes": {"MD5": "m", "SHA-256": "s"}},
            "s",
            id="file",
        ),
        pytest.param(
            {"type": "autonomous-system", "id": "a--1", "number": 64511}, "64511", id="asn"
        ),
        pytest.param({"type": "bank-account", "id": "b--1", "iban": "NL00"}, "NL00", id="iban"),
        pytest.param({"type": "user-account", "id": "u--1", "user_id": "@x"}, "@x", id="account"),
        pytest.param({"type": "x-custom", "id": "x--1", "value": "v"}, "v", id="custom-sco"),
    ],
)
def test_the_value_column(obj: dict[str, Any], value: str) -> None:
    (row,) = rows([obj])
    assert row["value"] == value


def test_context_columns_and_what_is_left_out() -> None:
    producer = {"type": "identity", "id": "identity--1", "created": "x", "name": "Example FIU"}
    report = {"type": "report", "id": "report--1", "created": "x", "name": "r"}
    statement = {
        "type": "marking-definition",
        "id": "marking-definition--not-tlp",
        "created": "2024-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright Example FIU"},
    }
    (row,) = rows([producer, report, statement, INDICATOR])
    assert row["tlp"] == "TLP:GREEN"
    assert row["labels"] == "a;b"
    assert row["created_by"] == "Example FIU"
    assert row["collection"] == "Cases"
    (unknown,) = rows([dict(INDICATOR, created_by_ref="identity--2", object_marking_refs=[])])
    assert (unknown["created_by"], unknown["tlp"]) == ("identity--2", "")


def test_a_marking_the_server_cannot_rank_is_admin_only_as_on_the_server() -> None:
    """Without its definition in the pulled data, ``marking-definition--not-tlp`` may
    restrict more than RED (docs/security.md, Markings)."""
    (row,) = rows([INDICATOR])
    assert row["tlp"] == "ADMIN-ONLY"
    upper = dict(INDICATOR, object_marking_refs=[MARKING_IDS["amber"].upper()])
    assert rows([upper])[0]["tlp"] == "TLP:AMBER"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        pytest.param('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")', id="equals"),
        pytest.param("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0", id="at-call"),
        pytest.param("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0", id="dde"),
        pytest.param("@harbourline_support", "@harbourline_support", id="handle"),
        pytest.param("+31 6 0000 0000", "+31 6 0000 0000", id="phone"),
    ],
)
def test_formula_cells_are_defused(value: str, cell: str) -> None:
    (row,) = rows([{"type": "x-note", "id": "x--1", "value": value}])
    assert row["value"] == cell


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_tally_for_unknown_totals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProgressBar, "_DELAY", 0.0)
    terminal = _Terminal()
    bar = ProgressBar(terminal)
    bar.tally("pull", 1200, "objects")
    assert terminal.getvalue() == "\rpull                     1200 objects"
    bar.clear()
    assert terminal.getvalue().endswith(
        "\r" + " " * len("pull                     1200 objects") + "\r"
    )
    quiet = io.StringIO()
    ProgressBar(quiet).tally("pull", 1, "objects")
    assert quiet.getvalue() == ""
