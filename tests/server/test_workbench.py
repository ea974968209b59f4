"""The workbench (taxii_server.web) through Flask's test client, on every store:
sign-in and its limits, the session cookie, CSRF, clearance, escaping, publishing,
audit, and switching it off.  tests/web drives the same pages in a real browser."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from taxii_server.storage.base import AuditQuery, Storage, User
from taxii_server.web import session as session_module
from taxii_server.web.headers import CONTENT_SECURITY_POLICY

from . import data
from .conftest import EMPTY, ROOT, SHARED, World, cheap_hash, password_of, store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "packages"
OBJECTS = f"/ui/roots/{ROOT}/collections/{SHARED}/"


def _token(page: TestResponse) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def sign_in(client: FlaskClient, user: str, password: str | None = None) -> TestResponse:
    page = client.get("/ui/login")
    if page.status_code == 302:  # signed in already: sign out first
        client.post("/ui/logout", data={"csrf_token": _token(client.get("/ui/"))})
        page = client.get("/ui/login")
    token = _token(page)
    return client.post(
        "/ui/login",
        data={"username": user, "password": password or password_of(user), "csrf_token": token},
    )


def _basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}", "Accept": "application/taxii+json;version=2.1"}


def test_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    response = client.get(OBJECTS + "?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/ui/login?next=")
    assert client.get("/ui/login").status_code == 200


def test_sign_in_sets_a_strict_http_only_cookie_and_signs_out(client: FlaskClient) -> None:
    response = sign_in(client, "alice")
    assert response.status_code == 302 and response.headers["Location"] == "/ui/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert "Expires=" in cookie and "Secure" not in cookie  # plain HTTP here
    assert password_of("alice") not in cookie
    home = client.get("/ui/")
    assert home.status_code == 200 and "Shared" in home.text
    assert client.post("/ui/logout", data={"csrf_token": _token(home)}).status_code == 302
    assert client.get("/ui/").status_code == 302


def test_the_cookie_is_secure_over_https(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/ui/login", base_url="https://localhost")
    token = _token(page)
    response = client.post(
        "/ui/login",
        base_url="https://localhost",
        data={"username": "alice", "password": password_of("alice"), "csrf_token": token},
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_only_workbench_pages_open_a_session(app: Flask) -> None:
    # A TAXII poll neither reads nor saves a session: it gets Flask's null session.
    interface = app.session_interface
    for path, null in (("/taxii2/", True), (f"/{ROOT}/collections/", True), ("/ui/login", False)):
        with app.test_request_context(path):
            assert interface.is_null_session(interface.open_session(app, request)) is null, path


def test_a_wrong_password_is_refused_with_a_message(client: FlaskClient) -> None:
    response = sign_in(client, "alice", "wrong")
    assert response.status_code == 401
    assert "Unknown user name or wrong password" in response.text
    assert sign_in(client, "nobody", "wrong").status_code == 401


def test_failed_logins_are_limited_with_taxii_in_both_directions(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(auth_failures_per_minute=3)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/taxii2/", headers=_basic("alice", "wrong")).status_code == 401
    # The right password from the same address: refused in the workbench too.
    assert sign_in(client, "alice").status_code == 429
    other = make_app(auth_failures_per_minute=3).test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    for _ in range(3):
        assert sign_in(other, "alice", "wrong").status_code == 401
    answer = other.get("/taxii2/", headers=_basic("alice", password_of("alice")))
    assert answer.status_code == 429


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient) -> None:
    refused = client.post("/ui/login", data={"username": "alice", "password": "x"})
    assert refused.status_code == 400 and "security token" in refused.text
    sign_in(client, "alice")
    assert client.post("/ui/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/ui/").status_code == 200  # still signed in


def test_sign_in_returns_only_to_a_workbench_page(client: FlaskClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/taxii2/", "/ui\\evil"):
        token = _token(client.get("/ui/login"))
        response = client.post(
            "/ui/login",
            data={
                "username": "alice",
                "password": password_of("alice"),
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["Location"] == "/ui/", target
        client.post("/ui/logout", data={"csrf_token": _token(client.get("/ui/"))})


def test_a_changed_password_or_a_removed_user_ends_the_session(
    client: FlaskClient, world: World
) -> None:
    sign_in(client, "amy")
    assert client.get("/ui/").status_code == 200
    world.storage.put_user(User("amy", 2, cheap_hash("a new password")))
    assert client.get("/ui/").status_code == 302
    sign_in(client, "bob")
    world.storage.delete_user("bob")
    assert client.get("/ui/").status_code == 302


def test_a_session_expires_after_its_hours(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, "alice")
    start = session_module._now()
    monkeypatch.setattr(session_module, "_now", lambda: start + 7.9 * 3600)
    assert client.get("/ui/").status_code == 200
    monkeypatch.setattr(session_module, "_now", lambda: start + 8.1 * 3600)
    assert client.get("/ui/").status_code == 302


def test_pages_carry_a_strict_content_security_policy(client: FlaskClient) -> None:
    for response in (client.get("/ui/login"), client.get("/ui/nowhere")):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.mimetype == "text/html"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    # TAXII responses are untouched.
    taxii = client.get("/taxii2/", headers=_basic("alice", password_of("alice")))
    assert "Content-Security-Policy" not in taxii.headers
    assert taxii.mimetype == "application/taxii+json"


def test_a_user_cleared_for_green_sees_no_amber_object(client: FlaskClient) -> None:
    amber = data.IND_AMBER["id"]
    sign_in(client, "bob")
    for query in ("", "?q=amber", "?tlp=amber", "?type=indicator", "?tlp=green"):
        page = client.get(OBJECTS + query)
        assert page.status_code == 200 and amber not in page.text, query
    assert client.get(f"{OBJECTS}objects/{amber}/").status_code == 404
    assert amber not in client.get(f"/ui/roots/{ROOT}/collections/{SHARED}/map").text
    # An amber reader does see it: the same pages can show it.
    sign_in(client, "amy")
    assert amber in client.get(OBJECTS + "?q=amber").text
    assert client.get(f"{OBJECTS}objects/{amber}/").status_code == 200


def test_filters_by_type_tlp_and_text(client: FlaskClient) -> None:
    sign_in(client, "alice")
    green = client.get(OBJECTS + "?tlp=green").text
    assert data.IND_GREEN["id"] in green and data.IND_CLEAR["id"] not in green
    named = client.get(OBJECTS + "?q=RED").text  # case-insensitive, in names
    assert data.IND_RED["id"] in named and data.IND_GREEN["id"] not in named
    bad = client.get(OBJECTS + "?type=Not A Type")
    assert bad.status_code == 400 and "STIX type" in bad.text


def test_paging_follows_next_links_to_every_object(client: FlaskClient, world: World) -> None:
    many = [data.indicator(f"bulk-{n:03d}", "clear") for n in range(120)]
    store(world.storage, EMPTY, many)
    sign_in(client, "alice")
    url: str | None = f"/ui/roots/{ROOT}/collections/{EMPTY}/"
    seen: list[str] = []
    while url:
        page = client.get(url)
        seen += re.findall(r"/objects/(indicator--[0-9a-f-]+)/", page.text)
        found = re.search(r'href="([^"]+)" rel="next"|rel="next" href="([^"]+)"', page.text)
        url = (found.group(1) or found.group(2)).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(o["id"] for o in many)


def test_hostile_strings_are_escaped_and_script_urls_never_links(
    client: FlaskClient, world: World
) -> None:
    hostile = dict(
        data.indicator("hostile", "clear"),
        name='<img src=x onerror="alert(1)">',
        description="</textarea><script>alert(2)</script>",
        external_references=[
            {"source_name": "a", "url": "javascript:alert(3)"},
            {"source_name": "b", "url": "https://example.org/report"},
        ],
    )
    store(world.storage, SHARED, [hostile])
    sign_in(client, "alice")
    for path in (OBJECTS + "?q=onerror", f"{OBJECTS}objects/{hostile['id']}/"):
        text = client.get(path).text
        assert "<img src=x" not in text and "<script>alert" not in text
        assert "&lt;img src=x onerror=" in text
    page = client.get(f"{OBJECTS}objects/{hostile['id']}/").text
    assert 'href="javascript' not in page and "javascript:alert(3)" in page
    assert 'href="https://example.org/report"' in page


def _upload(client: FlaskClient, target: str, package: str, **extra: str) -> TestResponse:
    token = _token(client.get("/ui/publish"))
    return client.post(
        "/ui/publish/preview",
        data={
            "csrf_token": token,
            "collection": target,
            "package_name": "RP-2024-0007.yaml",
            "package_text": package,
            **extra,
        },
    )


def test_a_package_problem_is_shown_at_its_line(client: FlaskClient) -> None:
    sign_in(client, "alice")
    package = (FIXTURES / "RP-2024-0007.yaml").read_text()
    broken = package.replace("revision: ", "revision: -", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "revision: -" in x))
    response = _upload(client, f"{ROOT}/{EMPTY}", broken)
    assert response.status_code == 422
    block = re.search(rf'id="package-line-{line + 1}".*?</div>\s*</div>', response.text, flags=re.S)
    assert block and "revision" in block.group(0) and 'class="problem"' in block.group(0)
    assert "atlas-upload-" not in response.text  # no temporary folder named


@pytest.mark.parametrize(
    ("fixture", "line", "why"),
    [
        ("alias-bomb.yaml", 14, "YAML aliases expand this to 597,871 values"),
        ("too-deep.yaml", 9, "nested more than 100 levels deep"),
    ],
)
def test_a_package_that_would_blow_up_is_refused_at_its_line(
    client: FlaskClient, fixture: str, line: int, why: str
) -> None:
    """Nine lines of YAML aliases stand for 436 million values (a billion laughs with
    one line more).  Before the bound, converting them held a process for ten seconds
    and 2.7 GB, and failed only when memory ran out."""
    sign_in(client, "alice")
    package = (FIXTURES.parent / "invalid" / fixture).read_text()
    response = _upload(client, f"{ROOT}/{EMPTY}", package)
    assert response.status_code == 422
    block = re.search(rf'id="package-line-{line}".*?</div>\s*</div>', response.text, flags=re.S)
    assert block and why in block.group(0)


def test_a_package_nested_past_the_yaml_parser_is_refused(client: FlaskClient) -> None:
    """Also when a CSV side file comes with it: its name is looked up in the package."""
    sign_in(client, "alice")
    package = "format: atlas-package/1\nx_nested: " + "[" * 5000 + "]" * 5000 + "\n"
    for extra in ({}, {"csv_text": "type,value\ndomain,example.com\n"}):
        response = _upload(client, f"{ROOT}/{EMPTY}", package, **extra)
        assert response.status_code == 422
        assert "maximum nesting depth" in response.text


@pytest.mark.parametrize(
    "value", ["!!int abc", "!!timestamp 2024-13-45", "9" * 5000, "{[a, b]: 1}", "!!map [a]"]
)
def test_a_value_yaml_cannot_construct_is_a_problem_not_a_500(
    client: FlaskClient, value: str
) -> None:
    """Also with a CSV side file, whose name is looked up in the package."""
    sign_in(client, "alice")
    package = (FIXTURES / "RP-2024-0007.yaml").read_text() + f"x_value: {value}\n"
    for extra in ({}, {"csv_text": "type,value\ndomain,example.com\n"}):
        response = _upload(client, f"{ROOT}/{EMPTY}", package, **extra)
        assert response.status_code == 422
        assert "not valid YAML" in response.text


def _join_the_author(world: World, name: str = "alice") -> None:
    """Make ``name`` a member of the example packages' author (STIX 2.1 §3.6: only the
    creator publishes an object)."""
    user = world.storage.get_user(name)
    assert user is not None
    world.storage.put_user(replace(user, organization="Example Bank FIU"))


def test_preview_publish_and_audit(client: FlaskClient, world: World) -> None:
    _join_the_author(world)
    sign_in(client, "alice")
    package = (FIXTURES / "RP-2024-0007.yaml").read_text()
    preview = _upload(client, f"{ROOT}/{EMPTY}", package)
    assert preview.status_code == 200, preview.text[:2000]
    new = int(re.search(r'kpi new"><b>(\d+)</b>', preview.text).group(1))  # type: ignore[union-attr]
    assert new > 10
    assert _audit(world.storage, "add") == []  # a preview stores and records nothing
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview.text))
    assert hidden["collection"] == f"{ROOT}/{EMPTY}"
    form = {**{k: _unescape(v) for k, v in hidden.items()}, "csrf_token": _token(preview)}
    done = client.post("/ui/publish/commit", data=form)
    assert done.status_code == 200 and f"{new} new" in done.text
    (record,) = _audit(world.storage, "add")
    assert record.user == "alice" and record.collection_id == EMPTY
    again = _upload(client, f"{ROOT}/{EMPTY}", package)
    assert re.search(r'kpi new"><b>0</b>', again.text)
    bundle = client.post("/ui/publish/bundle", data=form)
    assert bundle.mimetype == "application/stix+json" and b'"type":"bundle"' in bundle.data
    client.get(f"/ui/roots/{ROOT}/collections/{EMPTY}/")
    reads = _audit(world.storage, "objects")
    assert reads and reads[-1].user == "alice"


def test_a_package_of_another_organization_would_fail_and_fails(
    client: FlaskClient, world: World
) -> None:
    sign_in(client, "alice")  # Atlas Research; the package is Example Bank FIU's
    package = (FIXTURES / "RP-2024-0007.yaml").read_text()
    preview = _upload(client, f"{ROOT}/{EMPTY}", package)
    failing = int(re.search(r"<b>(\d+)</b><span>would fail", preview.text).group(1))  # type: ignore[union-attr]
    assert failing > 10 and "is not your organization" in preview.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview.text))
    form = {**{k: _unescape(v) for k, v in hidden.items()}, "csrf_token": _token(preview)}
    done = client.post("/ui/publish/commit", data=form)
    assert f"{failing} failed" in done.text and "is not your organization" in done.text


def test_a_user_of_no_organization_cannot_publish(client: FlaskClient, world: World) -> None:
    user = world.storage.get_user("alice")
    assert user is not None
    world.storage.put_user(replace(user, organization=None))
    sign_in(client, "alice")
    package = (FIXTURES / "RP-2024-0007.yaml").read_text()
    refused = _upload(client, f"{ROOT}/{EMPTY}", package)
    assert refused.status_code == 403 and "belongs to no organization" in refused.text


def test_publishing_needs_write_access(client: FlaskClient) -> None:
    sign_in(client, "bob")  # reads SHARED, writes nothing
    package = (FIXTURES / "RP-2024-0007.yaml").read_text()
    assert _upload(client, f"{ROOT}/{SHARED}", package).status_code == 403
    assert _upload(client, f"{ROOT}/{EMPTY}", package).status_code == 404


def test_the_workbench_can_be_switched_off(make_app: Callable[..., Flask]) -> None:
    client = make_app(ui_enabled=False).test_client()
    response = client.get("/ui/login")
    assert response.status_code == 404
    assert response.mimetype == "application/taxii+json"


def _audit(storage: Storage, action: str) -> list[object]:
    records = storage.query_audit(AuditQuery(limit=1000))
    return [r for r in records if r.action == action]


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_publishing_reveals_nothing_above_the_clearance(app: Flask, world: World) -> None:
    from taxii_server.app import get_service
    from taxii_server.auth import Principal
    from taxii_server.user_publishing import publish_as

    from .conftest import OTHER

    secret = data.indicator("held-red", "red")
    store(world.storage, OTHER, [secret])
    with app.app_context():
        service = get_service()
        carol = Principal(world.storage.get_user("carol"))  # amber, writes OTHER
        preview = publish_as(service, carol, ROOT, OTHER, [secret], dry_run=True)
        published = publish_as(service, carol, ROOT, OTHER, [secret])
        root = Principal(world.storage.get_user("root"))  # red: may compare
        again = publish_as(service, root, ROOT, OTHER, [secret])
    assert (preview.new, preview.unchanged) == (1, 0)
    assert (published.new, published.unchanged, published.failed) == (1, 0, 0)
    assert (again.new, again.unchanged) == (0, 1)


def test_a_form_larger_than_the_limit_is_refused_unread(make_app: Callable[..., Flask]) -> None:
    client = make_app(max_content_length=2000).test_client()
    sign_in(client, "alice")
    token = _token(client.get("/ui/publish"))
    big = "x" * (2000 + 70 * 1024)
    response = client.post("/ui/publish/preview", data={"csrf_token": token, "package_text": big})
    assert response.status_code == 413 and "max_content_length" in response.text


def test_an_htmx_update_after_the_session_ended_goes_to_sign_in(client: FlaskClient) -> None:
    response = client.get(OBJECTS + "?type=indicator", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/ui/login?next=")


def test_markings_rank_as_the_store_ranks_them(client: FlaskClient, world: World) -> None:
    """A partner's own red definition lists as TLP:RED; an unknown marking makes an
    object admin-only: an admin cleared for red sees it labelled so, a red user never."""
    from converters.tlp import TLP_EXTENSION_ID

    partner = "marking-definition--3a1c4c0e-7f1b-4d8e-9a57-0b6f2f1e5d11"
    unknown = "marking-definition--0d6e3a2f-9b1c-4f7e-8a5d-3c2b1a0f9e87"
    definition = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": partner,
        "created": "2024-01-01T00:00:00.000Z",
        "name": "Partner TLP:RED",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "red"},
        },
    }
    red = {**data.indicator("partner-red"), "object_marking_refs": [partner]}
    hidden = {**data.indicator("unknown-marked"), "object_marking_refs": [unknown]}
    store(world.storage, SHARED, [definition, red, hidden])
    sign_in(client, "alice")  # red, not an admin
    listed = client.get(OBJECTS + "?tlp=red").text
    assert red["id"] in listed and hidden["id"] not in listed
    assert client.get(f"{OBJECTS}objects/{hidden['id']}/").status_code == 404
    sign_in(client, "root")  # an admin cleared for red
    page = client.get(f"{OBJECTS}objects/{hidden['id']}/")
    assert page.status_code == 200 and "ADMIN-ONLY" in page.text
    assert "TLP:ADMIN" not in client.get("/ui/").text
