"""``atlas-taxii collections``: add, list, update and remove collections."""

from __future__ import annotations

import re
import uuid

import pytest

from taxii_server.cli import main
from taxii_server.storage.base import Storage

from .conftest import INDICATORS_ID, Runner


def _added_id(out: str) -> str:
    match = re.search(r"^id: (\S+)$", out, re.MULTILINE)
    assert match is not None, out
    return match.group(1)


def test_configured_collections_exist_before_the_server_ever_ran(cli: Runner) -> None:
    listed = cli("collections", "list")
    assert listed.status == 0, listed.err
    rows = [line.split() for line in listed.out.splitlines()[1:]]
    assert ["community", INDICATORS_ID, "indicators", "no", "yes", "Indicators"] in rows
    assert any(row[0] == "partners" and row[-1] == "Indicators" for row in rows)


def test_add_gives_a_uuid4_and_stores_every_field(cli: Runner, store: Storage) -> None:
    result = cli(
        "collections",
        "add",
        "--api-root",
        "community",
        "--title",
        "Wallets",
        "--alias",
        "wallets",
        "--description",
        "Crypto wallets",
        "--public",
    )
    assert result.status == 0, result.err
    collection_id = _added_id(result.out)
    assert uuid.UUID(collection_id).version == 4
    stored = store.get_collection("community", "wallets")
    assert stored is not None and stored.id == collection_id
    assert (stored.title, stored.description, stored.public) == ("Wallets", "Crypto wallets", True)
    assert "anyone may read its TLP:CLEAR objects" in result.out


@pytest.mark.parametrize("action", ["add", "update"])
def test_the_help_of_public_says_what_the_server_does(
    action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``--public`` promises is what ``service.py`` does (tests/server/
    test_clearance.py): TLP:CLEAR for everyone, more only with a read grant."""
    with pytest.raises(SystemExit):
        main(["collections", action, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--public anyone may read its TLP:CLEAR objects, signed in or not" in text
    assert "(more needs a read grant)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--api-root", "community", "--title", "Indicators"],
            "already has a collection titled 'Indicators'",
            id="duplicate-title",
        ),
        pytest.param(
            ["--api-root", "community", "--title", "Other", "--alias", "indicators"],
            "already uses alias 'indicators'",
            id="duplicate-alias",
        ),
        pytest.param(
            ["--api-root", "nowhere", "--title", "Other"],
            "unknown API root 'nowhere' (API roots: community, partners)",
            id="unknown-api-root",
        ),
        pytest.param(
            ["--api-root", "community", "--title", "Other", "--alias", str(uuid.uuid4())],
            "looks like a collection id",
            id="alias-like-an-id",
        ),
        pytest.param(
            ["--api-root", "community", "--title", "Other", "--alias", "a/b"],
            "without '/'",
            id="alias-with-slash",
        ),
    ],
)
def test_add_refuses_bad_input(cli: Runner, store: Storage, argv: list[str], message: str) -> None:
    before = {root.name: store.list_collections(root.name) for root in store.list_api_roots()}
    result = cli("collections", "add", *argv)
    assert result.status == 2
    assert message in result.err and "Traceback" not in result.err
    after = {root.name: store.list_collections(root.name) for root in store.list_api_roots()}
    assert after == before


def test_update_changes_only_what_is_asked(cli: Runner, store: Storage) -> None:
    added = cli(
        "collections",
        "add",
        "--api-root",
        "community",
        "--title",
        "Wallets",
        "--description",
        "kept",
    )
    collection_id = _added_id(added.out)
    result = cli(
        "collections",
        "update",
        "Wallets",
        "--title",
        "Crypto wallets",
        "--alias",
        "wallets",
        "--public",
    )
    assert result.status == 0, result.err
    stored = store.get_collection("community", collection_id)
    assert stored is not None
    assert (stored.title, stored.alias, stored.public, stored.description) == (
        "Crypto wallets",
        "wallets",
        True,
        "kept",
    )
    assert cli("collections", "update", collection_id, "--no-alias", "--private").status == 0
    stored = store.get_collection("community", collection_id)
    assert stored is not None and stored.alias is None and not stored.public

    nothing = cli("collections", "update", collection_id)
    assert nothing.status == 2 and "nothing to change" in nothing.err


def test_update_warns_about_a_collection_the_configuration_manages(cli: Runner) -> None:
    result = cli("collections", "update", "indicators", "--description", "new")
    assert result.status == 0
    assert "declared in the configuration file" in result.err


def test_remove_needs_confirmation_and_deletes_objects_and_grants(
    cli: Runner, store: Storage
) -> None:
    collection_id = _added_id(
        cli("collections", "add", "--api-root", "community", "--title", "Scratch").out
    )
    cli("users", "add", "alice")
    cli("users", "grant", "alice", collection_id)

    refused = cli("collections", "remove", "Scratch")  # standard input is no terminal
    assert refused.status == 2 and "add --yes to confirm" in refused.err
    assert store.get_collection("community", collection_id) is not None

    result = cli("collections", "remove", "Scratch", "--yes")
    assert result.status == 0, result.err
    assert store.get_collection("community", collection_id) is None
    assert store.get_grant("alice", collection_id) is None


def test_a_configured_collection_cannot_be_removed_from_the_command_line(
    cli: Runner, store: Storage
) -> None:
    result = cli("collections", "remove", INDICATORS_ID, "--yes")
    assert result.status == 2 and "remove it from the file first" in result.err
    assert store.get_collection("community", INDICATORS_ID) is not None


def test_list_filters_by_api_root(cli: Runner) -> None:
    listed = cli("collections", "list", "--api-root", "partners")
    assert listed.status == 0
    assert INDICATORS_ID not in listed.out and "partners" in listed.out
    unknown = cli("collections", "list", "--api-root", "nowhere")
    assert unknown.status == 2 and "unknown API root 'nowhere'" in unknown.err
