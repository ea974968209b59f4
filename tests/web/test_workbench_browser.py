"""The workbench in a real browser (see conftest.py): sign in, browse, hostile
strings, clearance, upload with a mistake then publish, the map, CSRF."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.conftest import (
    AMBER_ID,
    AMBER_NAME,
    ANALYST,
    COLLECTION_ID,
    DROP_ID,
    FIXTURES,
    GREEN_USER,
    HOSTILE_ID,
    HOSTILE_NAME,
    HOSTILE_URL,
    PASSWORD,
    LiveWorkbench,
)

OBJECTS = f"/ui/roots/community/collections/{COLLECTION_ID}/"


def _sign_in(page: Page, live: LiveWorkbench, user: str, shots: Path | None = None) -> None:
    page.goto(live.url("/ui/"))
    expect(page).to_have_url(re.compile(r"/ui/login"))
    if shots is not None:
        page.screenshot(path=shots / "01-sign-in.png")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who-name")).to_have_text(user)


def _errors(page: Page) -> list[str]:
    """Collect page errors and CSP violations from now on."""
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.on(
        "console",
        lambda message: seen.append(message.text) if message.type == "error" else None,
    )
    return seen


def test_sign_in_and_browse_to_an_object(
    page: Page, live: LiveWorkbench, screenshots: Path
) -> None:
    errors = _errors(page)
    _sign_in(page, live, ANALYST, screenshots)
    page.screenshot(path=screenshots / "02-collections.png")
    page.click("text=Community research")
    expect(page.locator("table.objects tbody tr").first).to_be_visible()
    page.screenshot(path=screenshots / "03-objects.png")
    # Filter by type through htmx: the table is replaced, the URL follows.
    page.fill("input[name=type]", "threat-actor")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"type=threat-actor"))
    types = page.locator("table.objects tbody .type").all_inner_texts()
    assert types and set(types) == {"threat-actor"}
    # Search by name finds the package's actor; open it.
    page.fill("input[name=q]", "Kestrel crew")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"q=Kestrel"))
    first = page.locator("table.objects tbody td.name a").first
    expect(first).to_contain_text("Kestrel crew")
    first.click()
    expect(page.locator("h1")).to_contain_text("Kestrel crew")
    expect(page.locator("text=Raw JSON")).to_be_visible()
    expect(page.locator("section.card h2", has_text="Relationships")).to_be_visible()
    page.screenshot(path=screenshots / "04-object.png")
    assert errors == []


def test_hostile_strings_are_shown_as_text_and_run_nothing(page: Page, live: LiveWorkbench) -> None:
    errors = _errors(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _sign_in(page, live, ANALYST)
    page.goto(live.url(f"{OBJECTS}?q=onerror"))
    expect(page.locator("table.objects td.name a")).to_have_text(HOSTILE_NAME)
    page.goto(live.url(f"{OBJECTS}objects/{HOSTILE_ID}/"))
    expect(page.locator("h1")).to_have_text(HOSTILE_NAME)
    assert page.locator("main img").count() == 0
    assert page.locator("main script:not([type='application/json'])").count() == 0
    # The javascript: URL is text, never a link.
    expect(page.locator(".unsafe-url")).to_have_text(HOSTILE_URL)
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert errors == []


def test_a_green_user_sees_no_amber_object_anywhere(page: Page, live: LiveWorkbench) -> None:
    _sign_in(page, live, GREEN_USER)
    pages = [
        "/ui/",
        OBJECTS,
        f"{OBJECTS}?q=Amber-only",
        f"{OBJECTS}?type=threat-actor",
        f"{OBJECTS}?tlp=amber",
        f"/ui/roots/community/collections/{COLLECTION_ID}/map",
    ]
    for path in pages:
        page.goto(live.url(path))
        content = page.content()
        assert AMBER_NAME not in content and AMBER_ID not in content, path
    response = page.goto(live.url(f"{OBJECTS}objects/{AMBER_ID}/"))
    assert response is not None and response.status == 404
    assert AMBER_NAME not in page.content()
    # The same user signed in as an amber reader does see it: the test can fail.
    page.click("text=Sign out")
    _sign_in(page, live, ANALYST)
    page.goto(live.url(f"{OBJECTS}?q=Amber-only"))
    expect(page.locator("table.objects td.name a")).to_have_text(AMBER_NAME)


def test_upload_a_mistake_fix_it_preview_publish_and_find_it(
    page: Page, live: LiveWorkbench, screenshots: Path
) -> None:
    errors = _errors(page)
    _sign_in(page, live, ANALYST)
    page.click("text=Convert & publish")
    package = (FIXTURES / "RP-2024-0052.yaml").read_text()
    broken = package.replace("tlp: green", "tlp: greenish", 1)
    line = broken.splitlines().index("tlp: greenish") + 1
    page.set_input_files(
        "input[name=package_file]",
        files=[{"name": "RP-2024-0052.yaml", "mimeType": "text/yaml", "buffer": broken.encode()}],
    )
    page.set_input_files("input[name=csv_file]", str(FIXTURES / "RP-2024-0052-points.csv"))
    page.select_option("select[name=collection]", f"community/{DROP_ID}")
    page.check("input[name=allow_unverified]")
    page.screenshot(path=screenshots / "05-upload.png")
    page.click("button:has-text('Convert and preview')")
    problem = page.locator(f"#package-line-{line} .problem")
    expect(problem).to_contain_text("tlp")
    expect(page.locator(f"#package-line-{line} .ln-text")).to_have_text("tlp: greenish")
    page.screenshot(path=screenshots / "06-problems.png")
    # Fix it in the page and check again.
    page.fill("textarea[name=package_text]", package)
    page.click("button:has-text('Check again')")
    expect(page.locator(".kpi.new b")).not_to_have_text("0")
    expect(page.locator("#package-graph")).to_have_attribute("data-nodes", re.compile(r"^[1-9]"))
    page.screenshot(path=screenshots / "07-preview.png")
    new = int(page.locator(".kpi.new b").inner_text())
    page.click("#publish")
    expect(page.locator("[role=status]")).to_contain_text(f"{new} new")
    page.click("text=Open Drafts")
    page.fill("input[name=q]", "Lanternfish")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.objects td.name a").first).to_contain_text("Lanternfish")
    # The problems page answers 422, which the console reports; nothing else.
    assert [e for e in errors if "status of 422" not in e] == []


def test_the_map_renders_with_its_nodes(page: Page, live: LiveWorkbench, screenshots: Path) -> None:
    errors = _errors(page)
    _sign_in(page, live, ANALYST)
    page.click("text=Ecosystem map")
    page.click("text=Community research")
    expect(page.locator("#ecomap")).to_have_attribute("data-nodes", re.compile(r"^[1-9]"))
    nodes = int(page.locator("#ecomap").get_attribute("data-nodes") or 0)
    assert nodes == page.evaluate("window.atlasGraphs.ecomap.nodes().length") > 3
    page.screenshot(path=screenshots / "08-map.png")
    candidates = page.locator("table.candidates tbody tr")
    expect(candidates.first).to_be_visible()
    candidates.first.click()
    expect(page.locator("#node-detail h3")).not_to_be_empty()
    # A large map starts without its ordinary data points; one click shows them all.
    visible = "window.atlasGraphs.ecomap.nodes(':visible').length"
    shown = page.evaluate(visible)
    assert 3 < shown < nodes
    page.check("[data-toggle-points=ecomap] input")
    assert page.evaluate(visible) == nodes
    assert errors == []


def test_a_form_post_without_the_csrf_token_is_refused(page: Page, live: LiveWorkbench) -> None:
    _sign_in(page, live, ANALYST)
    refused = page.request.post(live.url("/ui/logout"), form={"x": "1"}, max_redirects=0)
    assert refused.status == 400
    page.goto(live.url("/ui/"))
    expect(page.locator(".who-name")).to_have_text(ANALYST)  # still signed in
    forged = page.request.post(
        live.url("/ui/publish/commit"),
        form={"csrf_token": "forged", "collection": f"community/{DROP_ID}"},
        max_redirects=0,
    )
    assert forged.status == 400
