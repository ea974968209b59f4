"""The README's promise: ``./scripts/demo`` (``atlas-taxii serve --demo``) prints the
workbench URL beside the TAXII ones, and a new user signs in there with the printed
credentials, browses, uploads the example package and publishes it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.live_server import ServerProcess, free_port
from tests.web.conftest import ATLAS_TAXII, FIXTURES


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    argv = [ATLAS_TAXII, "serve", "--demo", "--demo-dir", str(folder / "demo"), "--port", str(port)]
    server = ServerProcess(argv, port, folder, "demo").start(ready_marker="curl")
    try:
        yield server
    finally:
        assert server.stop() == 0, server.output


def test_the_demo_prints_the_workbench_and_its_users_can_publish(
    page: Page, demo: ServerProcess
) -> None:
    banner = demo.stdout
    workbench = re.search(r"^workbench: (\S+)$", banner, re.MULTILINE)
    assert workbench and workbench.group(1) == f"{demo.base_url}/ui/"
    assert re.search(r"^discovery: ", banner, re.MULTILINE)  # beside the TAXII URLs
    user, password = re.search(r"^user: (\S+) clearance=\S+ password=(\S+)", banner, re.M).groups()  # type: ignore[union-attr]

    page.goto(workbench.group(1))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator(".who-name")).to_have_text(user)
    page.locator("table.table a").first.click()
    expect(page.locator("table.objects tbody tr").first).to_be_visible()

    page.click("text=Convert & publish")
    page.set_input_files("input[name=package_file]", str(FIXTURES / "RP-2024-0007.yaml"))
    page.select_option("select[name=collection]", index=1)
    page.click("button:has-text('Convert and preview')")
    # The demo loaded this package's bundle already: what the user may read there is
    # unchanged; what is above their clearance they cannot compare with (new to them).
    unchanged = int(page.locator(".kpi b").nth(2).inner_text())
    assert unchanged > 10
    assert page.locator(".kpi b").nth(3).inner_text() == "0"  # would fail
    page.click("#publish")
    expect(page.locator("[role=status]")).to_contain_text("0 changed")
    expect(page.locator("[role=status]")).to_contain_text("0 failed")
    page.click("text=Open Demo")
    page.fill("input[name=q]", "Harbourline")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.objects td.name a").first).to_contain_text("Harbourline")
