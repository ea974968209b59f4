"""The publishing guide's demonstration (docs/publishing.md), step by step: a research
package published to a running server, pulled back with ``atlas-taxii pull``, and the
same objects out as in."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from converters import convert_package
from tests.live_server import ServerProcess, free_port

from .conftest import EXAMPLE, Runner

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "a long analyst password\n"


def _demo_section() -> str:
    guide = (ROOT / "docs" / "publishing.md").read_text("utf-8")
    return guide.partition("## Demonstration")[2].partition("\n## ")[0]


def _configuration(port: int, directory: Path) -> Path:
    """The demonstration's configuration, on a free port, with the database in ``directory``."""
    toml = re.search(r"```toml\n(.*?)```", _demo_section(), re.S)
    assert toml is not None
    text = toml.group(1).replace("port = 8000", f"port = {port}")
    text = text.replace('"sqlite:///atlas.db"', f'"sqlite:///{directory / "atlas.db"}"')
    path = directory / "atlas-taxii.toml"
    path.write_text(text)
    return path


def test_the_readme_demonstration(cli: Runner, tmp_path: Path) -> None:
    port = free_port()
    config = _configuration(port, tmp_path)
    steps = _demo_section()
    for command in (
        "users add analyst",
        "users grant analyst research",
        "serve &",
        "publish",
        "pull",
    ):
        assert f"atlas-taxii {command}" in steps
    assert '--organization "Example Bank FIU"' in steps  # the package's author

    added = cli(
        "users",
        "add",
        "analyst",
        "--clearance",
        "red",
        "--organization",
        "Example Bank FIU",
        "--password-stdin",
        "--config",
        str(config),
        stdin=PASSWORD,
    )
    assert added.status == 0, added.err
    granted = cli(
        "users", "grant", "analyst", "research", "--read", "--write", "--config", str(config)
    )
    assert granted.status == 0, granted.err
    code = "import sys; from taxii_server.cli import main; sys.exit(main())"
    server = ServerProcess(
        [sys.executable, "-c", code, "serve", "--config", str(config)], port, tmp_path
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{port}"
        published = cli(
            "publish", str(EXAMPLE), "--url", f"{base}/community/", "--collection", "research",
            "--user", "analyst", "--password-stdin", stdin=PASSWORD,
        )  # fmt: skip
        assert published.status == 0, published.err
        count = len(convert_package(EXAMPLE)["objects"])
        summary = f"{count} new, 0 changed, 0 unchanged, 0 failed"
        assert published.out.endswith(f"'Research': {summary}\n")
        assert summary in steps

        output = tmp_path / "pulled.json"
        pulled = cli(
            "pull", f"{base}/taxii2/", "--collection", "research", "--user", "analyst",
            "--password-stdin", "-o", str(output), stdin=PASSWORD,
        )  # fmt: skip
        assert pulled.status == 0, pulled.err
        fetched = f"{count} objects from 'Research' ({count} fetched in 1 page(s))"
        assert pulled.out == f"{output}: {fetched}\n"
        assert f"pulled.json: {fetched}" in steps
    finally:
        server.stop()

    converted = tmp_path / "converted.json"
    assert cli("convert", str(EXAMPLE), "-o", str(converted)).status == 0

    def objects(path: Path) -> list[str]:
        return sorted(
            json.dumps(o, sort_keys=True) for o in json.loads(path.read_bytes())["objects"]
        )

    assert objects(output) == objects(converted)
