"""What ``atlas-taxii serve`` prints before gunicorn takes over: where to connect.

The demo banner carries everything a person needs to try the server at once: the
discovery URL, the collection id (the form Microsoft Sentinel asks for), the demo
credentials, and taxii2-client and curl commands that run as pasted (below
:data:`PASTE_HEADER`).  Its ``key: value`` lines are stable so scripts (and our
tests) can read them.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from taxii_server.bootstrap import BootstrapReport
from taxii_server.cli.store import display_url
from taxii_server.demo import Demo, DemoUser
from taxii_server.settings import Settings

__all__ = ["PASTE_HEADER", "demo_banner", "server_banner"]

_TAXII_ACCEPT = "application/taxii+json;version=2.1"
# Enough to see what kind of problem it is; the rest would push the credentials away.
_REFUSALS_SHOWN = 5
#: The line above the commands to paste (everything after it may be pasted at once).
PASTE_HEADER = "Try it: paste these lines into a shell on this machine."


def server_banner(report: BootstrapReport, settings: Settings, base_url: str) -> str:
    """Discovery URL and the collections the configuration declares."""
    lines = [f"atlas-taxii serving TAXII 2.1 on {base_url}/taxii2/"]
    lines.append(f"  storage: {display_url(settings.storage_url)}")
    lines.append(f"  workers: {settings.workers}")
    if settings.ui_enabled:
        lines.append(f"  workbench: {base_url}/ui/ (sign in with a TAXII user name and password)")
    for collection in report.collections:
        alias = f" (alias {collection.alias})" if collection.alias else ""
        lines.append(
            f"  collection {collection.title!r}: {base_url}/{collection.api_root}"
            f"/collections/{collection.id}/{alias}"
        )
    if not settings.api_roots:
        lines.append("  no [[api_roots]] in the configuration: clients will find no API root")
    return "\n".join(lines)


def demo_banner(demo: Demo, base_url: str, directory: Path, *, workbench: bool = True) -> str:
    """Everything needed to connect to the demo, with examples; ``workbench``: the
    workbench is served (``ui.enabled``)."""
    collection = demo.collection
    api_root_url = f"{base_url}/{collection.api_root}/"
    collection_url = f"{api_root_url}collections/{collection.id}/"
    first = demo.users[0]
    if demo.bundles:
        refused = f"{len(demo.rejected)} refused" + (" (below)" if demo.rejected else "")
        loaded = (
            f"{demo.added} objects added, {demo.unchanged} already stored, "
            f"{refused}, from {len(demo.bundles)} fixture bundle(s)"
        )
    else:
        loaded = "no fixture bundles found (fixtures/bundles/*.json): the collection is empty"
    lines = [
        "atlas-taxii demo",
        f"discovery: {base_url}/taxii2/",
        f"api root: {api_root_url}",
        f"collection id: {collection.id}",
        f"collection alias: {collection.alias}",
        f"objects url: {collection_url}objects/",
        *([f"workbench: {base_url}/ui/"] if workbench else []),
        f"database: {directory / 'atlas.db'} (kept between runs; delete the folder to start over)",
        f"loaded: {loaded}",
    ]
    lines.extend(f"refused: {problem}" for problem in demo.rejected[:_REFUSALS_SHOWN])
    if len(demo.rejected) > _REFUSALS_SHOWN:
        lines.append(f"refused: … and {len(demo.rejected) - _REFUSALS_SHOWN} more")
    lines.append(
        "users (new passwords and keys at every start of the demo; "
        "each may read and write the collection):"
    )
    for user in demo.users:
        lines.append(
            f"user: {user.name} clearance={user.level} password={user.password} "
            f"api_key={user.api_key}"
        )
    lines.append(
        f"  {first.name} is cleared for TLP:{first.level.upper()}: objects marked above it "
        "do not exist for that user."
    )
    if workbench:
        lines.append(
            f"  In a browser: {base_url}/ui/, sign in as {first.name} with the password above; "
            "'Convert & publish' takes a research package such as "
            "fixtures/packages/RP-2024-0007.yaml."
        )
    lines += ["", PASTE_HEADER, "", *_snippets(collection_url, first), ""]
    return "\n".join(lines)


def _snippets(collection_url: str, user: DemoUser) -> list[str]:
    """Shell commands that work when pasted as printed: flush left (an indented
    ``EOF`` never ends a heredoc, indented Python does not run), with the Python that
    runs atlas-taxii, which has taxii2-client (a bare ``python`` may not)."""
    python = shlex.quote(sys.executable)
    return [
        f"# taxii2-client (Python), as {user.name} with the password",
        f"{python} - <<'EOF'",
        "from taxii2client.v21 import Collection, as_pages",
        f"c = Collection({collection_url!r}, user={user.name!r}, password={user.password!r})",
        "for page in as_pages(c.get_objects, per_request=50):",
        '    print(len(page.get("objects", [])), "objects")',
        "EOF",
        "",
        f"# curl, as {user.name} with the API key as a Bearer token",
        f"curl -sS -H 'Accept: {_TAXII_ACCEPT}' -H 'Authorization: Bearer {user.api_key}' "
        f"'{collection_url}objects/?limit=10'",
        "echo",
    ]
