"""The documentation stands on its own: nothing points outside the repository, and
every relative link in the Markdown pages leads to a file that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# [text](target) outside code spans; the target up to a closing parenthesis or a space.
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _tracked(pattern: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", pattern],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:  # not a git checkout (an sdist): read the tree instead
        return sorted(p for p in ROOT.rglob(pattern) if ".venv" not in p.parts)
    return [ROOT / line for line in out.stdout.splitlines() if (ROOT / line).is_file()]


def test_no_file_refers_to_a_sibling_shared_folder() -> None:
    """A user's clone has no sibling ``shared`` folder: the project's docs are its own.
    (The name is assembled so that this file, checked too, does not mention it.)"""
    sibling = "../" + "shared"
    offenders = []
    for path in _tracked("*"):
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if sibling in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _markdown() -> list[Path]:
    return [p for p in _tracked("*.md") if "node_modules" not in p.parts]


@pytest.mark.parametrize("page", _markdown(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.S)
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_readme_links_every_docs_page() -> None:
    """A page nobody links to is a page nobody finds."""
    readme = (ROOT / "README.md").read_text("utf-8")
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert [p for p in pages if f"docs/{p}" not in readme] == []
