"""``atlas-taxii map --url``: the three partners' packages published to a real server
and mapped through TAXII with pull's client give the map the files give, same_as
included (it travels in the objects); a user without read access is refused."""

from __future__ import annotations

import json

from tests.ecosystem.conftest import PARTNERS
from tests.ecosystem.test_partners import CASH_OUT, HOSTER

from .conftest import Account, Result, Runner, Server


def _map(cli: Runner, server: Server, collection: str, account: Account) -> Result:
    return cli(
        "map",
        "--collection",
        collection,
        "--url",
        server.api_root_url,
        "--user",
        account.name,
        "--password-stdin",
        "--format",
        "json",
        stdin=account.password + "\n",
    )


def test_a_remote_collection_maps_like_the_files(cli: Runner, server: Server) -> None:
    collection = server.new_collection()
    # Three partners' packages: each is its author's to post (STIX 2.1 §3.6), so the
    # operator loads them into the store, acting for each author.
    loaded = cli(
        "publish",
        *(str(p) for p in PARTNERS),
        "--collection",
        collection,
        "--config",
        str(server.config),
    )
    assert loaded.status == 0, loaded.out + loaded.err
    result = _map(cli, server, collection, server.analyst)
    assert result.status == 0, result.err
    document = json.loads(result.out)
    top = [(c["members"], c["impact"]) for c in document["candidates"][:2]]
    assert top == [(CASH_OUT, 5), (HOSTER, 3)]
    assert any(e["reason"] == "same_as" for c in document["clusters"] for e in c["evidence"])


def test_a_user_who_may_not_read_is_refused(cli: Runner, server: Server) -> None:
    result = _map(cli, server, server.new_collection(writer_only=True), server.writer)
    assert result.status == 2
    assert "may not read" in result.err
