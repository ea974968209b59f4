"""``atlas-taxii users``: users, clearance, passwords, API keys and grants in the store."""

from __future__ import annotations

import getpass
import io
import sys
from pathlib import Path

import pytest

from taxii_server.credentials import parse_api_key, verify_api_key, verify_secret
from taxii_server.storage.base import Storage

from .conftest import INDICATORS_ID, Runner

PASSWORD = "correct horse battery"


def test_add_hashes_the_password_and_never_stores_it(
    cli: Runner, store: Storage, tmp_path: Path
) -> None:
    result = cli(
        "users", "add", "alice", "--clearance", "amber", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert result.status == 0, result.err
    assert "alice" in result.out and "amber" in result.out
    user = store.get_user("alice")
    assert user is not None and user.clearance == 2 and not user.admin
    assert user.password_hash is not None and verify_secret(PASSWORD, user.password_hash)
    assert PASSWORD.encode() not in (tmp_path / "atlas.db").read_bytes()
    assert PASSWORD not in result.out + result.err


def test_add_without_password_makes_a_key_only_user(cli: Runner, store: Storage) -> None:
    result = cli("users", "add", "sentinel", "--admin")
    assert result.status == 0, result.err
    user = store.get_user("sentinel")
    assert user is not None and user.password_hash is None and user.admin
    assert user.clearance == 0  # the default is the least: TLP:CLEAR


@pytest.mark.parametrize("level", ["AMBER+STRICT", "tlp:amber+strict", "amber+strict"])
def test_levels_are_read_case_insensitively(cli: Runner, store: Storage, level: str) -> None:
    assert cli("users", "add", "bob", "--clearance", level).status == 0
    user = store.get_user("bob")
    assert user is not None and user.clearance == 3


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        pytest.param(
            ["users", "add", "alice", "--clearance", "secret"],
            "",
            "unknown TLP level 'secret'; valid levels: clear, green, amber, amber+strict, red",
            id="unknown-level",
        ),
        pytest.param(
            ["users", "add", "alice:x"], "", "is not a valid user name", id="colon-in-name"
        ),
        pytest.param(
            ["users", "add", "admin\n"], "", "is not a valid user name", id="trailing-newline"
        ),
        pytest.param(
            ["users", "add", "alice", "--password-stdin"],
            "short\n",
            "at least 12 characters",
            id="short-password",
        ),
        pytest.param(
            ["users", "add", "alice", "--password"],
            "",
            "use --password-stdin",
            id="prompt-without-terminal",
        ),
    ],
)
def test_bad_input_is_refused_without_creating_the_user(
    cli: Runner, store: Storage, argv: list[str], stdin: str, message: str
) -> None:
    result = cli(*argv, stdin=stdin)
    assert result.status == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert store.list_users() == []


def test_duplicate_and_unknown_users_are_clear_errors(cli: Runner) -> None:
    assert cli("users", "add", "alice").status == 0
    duplicate = cli("users", "add", "alice")
    assert duplicate.status == 2 and "user 'alice' already exists" in duplicate.err
    for argv in (
        ["users", "remove", "mallory"],
        ["users", "set-clearance", "mallory", "red"],
        ["users", "passwd", "mallory", "--password-stdin"],
        ["users", "key", "create", "mallory"],
        ["users", "key", "list", "mallory"],
        ["users", "grant", "mallory", "indicators", "--api-root", "community"],
    ):
        result = cli(*argv, stdin=PASSWORD + "\n")
        assert result.status == 2, argv
        assert "unknown user 'mallory' (users: alice)" in result.err, argv


def test_set_clearance_and_passwd_keep_the_rest(cli: Runner, store: Storage) -> None:
    cli("users", "add", "alice", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert cli("users", "set-clearance", "alice", "red").status == 0
    result = cli("users", "passwd", "alice", "--password-stdin", stdin="another long secret\n")
    assert result.status == 0, result.err
    user = store.get_user("alice")
    assert user is not None and user.clearance == 4 and user.admin
    assert user.password_hash is not None
    assert verify_secret("another long secret", user.password_hash)
    assert not verify_secret(PASSWORD, user.password_hash)


def test_api_key_is_printed_once_and_stored_hashed(cli: Runner, store: Storage) -> None:
    cli("users", "add", "sentinel")
    created = cli("users", "key", "create", "sentinel", "--label", "sentinel-prod")
    assert created.status == 0, created.err
    token = parse_api_key(created.out.strip().splitlines()[-1])
    assert token is not None
    key = store.get_api_key(token.key_id)
    assert key is not None and key.user == "sentinel" and key.label == "sentinel-prod"
    assert verify_api_key(token.secret, key.secret_hash)

    listed = cli("users", "key", "list", "sentinel")
    assert token.key_id in listed.out and "sentinel-prod" in listed.out
    assert token.secret not in listed.out


@pytest.mark.parametrize("by", ["key_id", "token"])
def test_revoke_key_by_id_or_whole_key(cli: Runner, store: Storage, by: str) -> None:
    cli("users", "add", "sentinel")
    token = parse_api_key(cli("users", "key", "create", "sentinel").out.splitlines()[-1])
    assert token is not None
    result = cli("users", "key", "revoke", token.key_id if by == "key_id" else token.token)
    assert result.status == 0, result.err
    assert store.get_api_key(token.key_id) is None
    again = cli("users", "key", "revoke", token.key_id)
    assert again.status == 2 and f"no API key with id {token.key_id!r}" in again.err


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        pytest.param(INDICATORS_ID, [], id="by-id"),
        pytest.param("indicators", [], id="by-alias"),
        pytest.param("Indicators", ["--api-root", "community"], id="by-title"),
    ],
)
def test_grant_names_a_collection_by_id_alias_or_title(
    cli: Runner, store: Storage, name: str, extra: list[str]
) -> None:
    cli("users", "add", "alice")
    result = cli("users", "grant", "alice", name, *extra)
    assert result.status == 0, result.err
    grant = store.get_grant("alice", INDICATORS_ID)
    assert grant is not None and grant.can_read and not grant.can_write


def test_a_title_in_two_api_roots_is_ambiguous(cli: Runner, store: Storage) -> None:
    cli("users", "add", "alice")
    result = cli("users", "grant", "alice", "Indicators")
    assert result.status == 2
    assert "names several collections" in result.err and "give the id or --api-root" in result.err
    assert store.list_grants("alice") == []


def test_unknown_collection_lists_the_known_ones(cli: Runner) -> None:
    cli("users", "add", "alice")
    result = cli("users", "grant", "alice", "nope")
    assert result.status == 2
    assert "no collection with id, alias or title 'nope'" in result.err
    assert INDICATORS_ID in result.err


def test_grants_add_up_and_revoke_takes_away(cli: Runner, store: Storage) -> None:
    cli("users", "add", "alice")
    cli("users", "grant", "alice", "indicators", "--write")
    cli("users", "grant", "alice", "indicators", "--read")
    grant = store.get_grant("alice", INDICATORS_ID)
    assert grant is not None and grant.can_read and grant.can_write

    assert cli("users", "revoke", "alice", "indicators", "--write").status == 0
    grant = store.get_grant("alice", INDICATORS_ID)
    assert grant is not None and grant.can_read and not grant.can_write

    result = cli("users", "revoke", "alice", "indicators")
    assert result.status == 0 and "no more access" in result.out
    assert store.get_grant("alice", INDICATORS_ID) is None
    again = cli("users", "revoke", "alice", "indicators")
    assert again.status == 2 and "has no grant" in again.err


def test_list_and_remove(cli: Runner, store: Storage) -> None:
    cli("users", "add", "alice", "--clearance", "green", "--password-stdin", stdin=PASSWORD + "\n")
    cli("users", "key", "create", "alice")
    cli("users", "grant", "alice", "indicators", "--read", "--write")
    listed = cli("users", "list")
    assert listed.status == 0
    row = next(line for line in listed.out.splitlines() if line.startswith("alice"))
    assert row.split()[:6] == ["alice", "green", "-", "no", "yes", "1"]
    assert "Indicators(rw)" in row

    assert cli("users", "remove", "alice").status == 0
    assert store.get_user("alice") is None
    assert store.list_api_keys("alice") == []
    assert store.get_grant("alice", INDICATORS_ID) is None
    assert "no users yet" in cli("users", "list").out


def test_the_store_may_be_named_by_environment_or_storage_url(
    tmp_path: Path,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from taxii_server.cli import main

    monkeypatch.setenv("ATLAS_TAXII_CONFIG", str(config_file))
    assert main(["users", "add", "from-env"]) == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["users", "add", "elsewhere", "--storage", other]) == 0
    capsys.readouterr()

    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "from-env" in listed and "elsewhere" not in listed
    assert main(["users", "list", "--storage", other]) == 0
    assert "elsewhere" in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answers", "status"),
    [
        pytest.param([PASSWORD, PASSWORD], 0, id="typed-twice"),
        pytest.param([PASSWORD, PASSWORD + "x"], 2, id="mismatch"),
    ],
)
def test_password_prompt_on_a_terminal(
    config_file: Path,
    store: Storage,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answers: list[str],
    status: int,
) -> None:
    from taxii_server.cli import main

    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return answers[len(prompts) - 1]

    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    assert main(["users", "add", "carol", "--password", "--config", str(config_file)]) == status
    assert prompts == ["New password for carol: ", "Repeat it: "]
    user = store.get_user("carol")
    if status == 0:
        assert user is not None and user.password_hash is not None
        assert verify_secret(PASSWORD, user.password_hash)
    else:
        assert user is None
        assert "the two passwords differ" in capsys.readouterr().err


def test_an_unreachable_store_is_exit_1_with_the_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taxii_server.cli import main

    monkeypatch.delenv("ATLAS_TAXII_CONFIG", raising=False)
    # Port 1 on the loopback: nothing listens, the refusal is immediate.
    assert main(["users", "list", "--storage", "postgresql://atlas@127.0.0.1:1/atlas"]) == 1
    store, _, err = capsys.readouterr().err.partition("\n")
    assert store == "store: postgresql://atlas@127.0.0.1:1/atlas"
    assert err.startswith("atlas-taxii: error: ") and "Connection refused" in err
    assert "Traceback" not in err


# -- organizations (issue 9, finding 2) -------------------------------------------------


def test_a_user_is_added_with_their_organization_and_its_identity(
    cli: Runner, store: Storage
) -> None:
    from converters import convert_package
    from converters.ids import organization_identity_id

    result = cli("users", "add", "fiu", "--organization", "Example Bank FIU")
    assert result.status == 0, result.err
    identity = organization_identity_id("Example Bank FIU")
    assert f"fiu writes for Example Bank FIU ({identity})" in result.out
    user = store.get_user("fiu")
    assert user is not None and user.organization == "Example Bank FIU"
    # The identity is the one a package by that author names as creator.
    example = Path(__file__).resolve().parents[2] / "fixtures/packages/RP-2024-0007.yaml"
    creators = {o.get("created_by_ref") for o in convert_package(example)["objects"]}
    assert identity in creators
    listed = cli("users", "list").out.splitlines()
    assert "ORGANIZATION" in listed[0]
    assert any(line.startswith("fiu ") and "Example Bank FIU" in line for line in listed)


def test_a_user_without_one_is_told_they_cannot_write(cli: Runner, store: Storage) -> None:
    result = cli("users", "add", "reader")
    assert result.status == 0
    assert "can read but not write" in result.out
    assert "users set-organization reader ORG" in result.out


def test_set_organization(cli: Runner, store: Storage) -> None:
    from converters.ids import organization_identity_id

    cli("users", "add", "bob", "--clearance", "green", "--password-stdin", stdin=PASSWORD + "\n")
    before = store.get_user("bob")
    result = cli("users", "set-organization", "bob", "Northsea Bank FIU")
    assert result.status == 0, result.err
    identity = organization_identity_id("Northsea Bank FIU")
    assert f"bob now writes for Northsea Bank FIU ({identity})" in result.out
    after = store.get_user("bob")
    assert before is not None and after is not None
    assert after.organization == "Northsea Bank FIU"
    assert (after.clearance, after.password_hash) == (before.clearance, before.password_hash)
    # Other changes keep it.
    assert cli("users", "set-clearance", "bob", "red").status == 0
    changed = store.get_user("bob")
    assert changed is not None and changed.organization == "Northsea Bank FIU"
    unknown = cli("users", "set-organization", "nobody", "Northsea Bank FIU")
    assert unknown.status == 2 and "unknown user 'nobody'" in unknown.err


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Example Bank FIU\n", id="trailing-newline"),
        pytest.param(" Example", id="leading-space"),
        pytest.param("Example ", id="trailing-space"),
        pytest.param("Example  Bank", id="double-space"),
        pytest.param("Bank\tFIU", id="tab"),
        pytest.param("Bank\u202eUIF", id="bidi-override"),
        pytest.param("", id="empty"),
        pytest.param("x" * 129, id="too-long"),
        pytest.param("<script>", id="markup"),
    ],
)
def test_organization_names_are_checked_whole(cli: Runner, store: Storage, name: str) -> None:
    for argv in (
        ["users", "add", "eve", "--organization", name],
        ["users", "set-organization", "eve", name],
    ):
        result = cli(*argv)
        assert result.status == 2, argv
        assert "is not a valid organization name" in result.err
    assert store.get_user("eve") is None


@pytest.mark.parametrize(
    "name", ["Example Bank FIU", "Société Générale CERT", "O'Neil & Co.", "A", "x" * 128]
)
def test_organization_names_as_packages_spell_authors(
    cli: Runner, store: Storage, name: str
) -> None:
    assert cli("users", "add", "ok", "--organization", name).status == 0
    user = store.get_user("ok")
    assert user is not None and user.organization == name
