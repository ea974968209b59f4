"""``atlas-taxii audit``: the audit log printed filtered by user, collection and time, as
a table or as JSON Lines."""

from __future__ import annotations

import orjson
import pytest

from taxii_server.storage.base import AuditRecord, Storage
from taxii_server.timestamps import parse_timestamp
from tests.cli.conftest import INDICATORS_ID, Runner, cli, config_file, store

__all__ = ["cli", "config_file", "store"]

DAY1 = parse_timestamp("2024-06-01T08:00:00Z")
DAY2 = parse_timestamp("2024-06-02T23:59:59.999999Z")
GONE = "0b1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


@pytest.fixture
def logged(store: Storage) -> Storage:
    for record in (
        AuditRecord(DAY1, "alice", "192.0.2.1", "community", INDICATORS_ID, "objects", 12,
                    first=DAY1 - 10, last=DAY1 - 1, query="tlp=amber&match[type]=indicator",
                    added_after=DAY1 - 20),
        AuditRecord(DAY1 + 1, "bob", "2001:db8::7", "community", INDICATORS_ID, "add", 3,
                    status_id="9a7619de-9821-42ea-a242-380895fd5cb2", query="tlp=green"),
        AuditRecord(DAY2, "alice", "192.0.2.1", "community", GONE, "delete", 1,
                    object_id="indicator--3f0d1c7a-8e4b-4b6a-9d2e-5a7c1b9e0f42"),
        AuditRecord(DAY2 + 1, None, "198.51.100.3", "community", INDICATORS_ID, "manifest", 0,
                    query="tlp=clear"),
    ):  # fmt: skip
        store.record_audit(record)
    return store


def _lines(out: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in out.splitlines()]


def test_json_lines_hold_every_field(cli: Runner, logged: Storage) -> None:
    result = cli("audit", "--json")
    assert result.status == 0, result.err
    first, second, third, fourth = _lines(result.out)
    assert first == {
        "seq": first["seq"],
        "time": "2024-06-01T08:00:00.000000Z",
        "user": "alice",
        "address": "192.0.2.1",
        "api_root": "community",
        "collection_id": INDICATORS_ID,
        "action": "objects",
        "count": 12,
        "object_id": None,
        "status_id": None,
        "date_added_first": "2024-06-01T07:59:59.999990Z",
        "date_added_last": "2024-06-01T07:59:59.999999Z",
        # added_after is stored apart (it changes at every poll) and printed in place
        "query": "tlp=amber&added_after=2024-06-01T07:59:59.999980Z&match[type]=indicator",
    }
    assert second["status_id"] == "9a7619de-9821-42ea-a242-380895fd5cb2"
    assert third["object_id"] and fourth["user"] is None


@pytest.mark.parametrize(
    ("arguments", "counts"),
    [
        (("--user", "alice"), [12, 1]),
        (("--user", "nobody"), []),
        (("--collection", "indicators"), [12, 3, 0]),
        (("--collection", INDICATORS_ID.upper()), [12, 3, 0]),
        (("--collection", GONE), [1]),
        (("--collection", "Indicators", "--api-root", "community"), [12, 3, 0]),
        (("--since", "2024-06-02"), [1, 0]),
        (("--until", "2024-06-01"), [12, 3]),
        (("--since", "2024-06-01T08:00:00.000001Z", "--until", "2024-06-02"), [3, 1]),
        (("--user", "alice", "--collection", "indicators", "--until", "2024-06-30"), [12]),
    ],
)
def test_filters(
    cli: Runner, logged: Storage, arguments: tuple[str, ...], counts: list[int]
) -> None:
    result = cli("audit", "--json", *arguments)
    assert result.status == 0, result.err
    assert [line["count"] for line in _lines(result.out)] == counts


def test_table(cli: Runner, logged: Storage) -> None:
    result = cli("audit", "--user", "bob")
    assert result.status == 0, result.err
    header, row = result.out.splitlines()
    assert header.split() == ["TIME", "USER", "ADDRESS", "ACTION", "COLLECTION", "COUNT", "DETAIL"]
    assert "bob" in row and "2001:db8::7" in row and "add" in row
    assert "status 9a7619de-9821-42ea-a242-380895fd5cb2" in row
    anonymous = cli("audit", "--since", "2024-06-02T23:59:59.999999Z").out
    assert "(anonymous)" in anonymous and "delete" in anonymous


def test_nothing_to_show_says_so(cli: Runner, logged: Storage) -> None:
    result = cli("audit", "--user", "nobody")
    assert result.status == 0 and result.out == ""
    assert "no audit records match" in result.err


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (("--since", "yesterday"), "RFC 3339"),
        (("--until", "2024-13-01"), "2024-13-01"),
        (("--since", "2024-06-02", "--until", "2024-06-01"), "--since is after --until"),
        (("--collection", "nope"), "no collection"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(
    cli: Runner, logged: Storage, arguments: tuple[str, ...], says: str
) -> None:
    result = cli("audit", *arguments)
    assert result.status == 2
    assert result.err.startswith("atlas-taxii: error:") and says in result.err
    assert result.out == ""


def test_long_logs_are_read_page_by_page(cli: Runner, store: Storage) -> None:
    for n in range(2_500):
        store.record_audit(AuditRecord(DAY1 + n, "poller", "-", "community", INDICATORS_ID,
                                       "objects", n))  # fmt: skip
    counts = [line["count"] for line in _lines(cli("audit", "--json").out)]
    assert counts == list(range(2_500))


def test_purge_deletes_records_older_than_the_retention(cli: Runner, logged: Storage) -> None:
    kept = cli("audit", "purge", "--older-than", "36500")
    assert kept.status == 0 and kept.out.startswith("purged 0 audit records"), kept.err
    assert len(_lines(cli("audit", "--json").out)) == 4
    purged = cli("audit", "purge")  # audit.retain_days: 365, and these are from 2024
    assert purged.status == 0 and "purged 4 audit records from before" in purged.out
    assert "(365 days)" in purged.out
    assert cli("audit", "--json").out == ""


def test_purge_with_retention_off_needs_older_than(
    cli: Runner, logged: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATLAS_TAXII_AUDIT_RETAIN_DAYS", "0")
    refused = cli("audit", "purge")
    assert refused.status == 2 and "give --older-than DAYS" in refused.err
    assert len(_lines(cli("audit", "--json").out)) == 4
    assert cli("audit", "purge", "--older-than", "0").status == 0
    assert cli("audit", "--json").out == ""


@pytest.mark.parametrize("days", ["-1", "36501", "a week"])
def test_purge_refuses_a_bad_number_of_days(
    cli: Runner, logged: Storage, days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:  # argparse's usage error
        cli("audit", "purge", "--older-than", days)
    assert exited.value.code == 2
    assert "--older-than" in capsys.readouterr().err
    assert len(_lines(cli("audit", "--json").out)) == 4
