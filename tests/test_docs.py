"""The documentation stands on its own: nothing points outside the repository, every
relative link in the Markdown pages leads to a file that exists, and every
cross-reference in a docstring names code that exists."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path
from types import ModuleType

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


# :role:`target` in a docstring or comment; a target may wrap onto the next line.
_REFERENCE = re.compile(r":(?:class|func|data|mod|meth|attr|exc):`([^`]+)`")
_PACKAGES = ("converters", "taxii_server", "ecosystem", "benchmarks", "tests")


def _python_modules() -> list[tuple[str, Path]]:
    """The project's modules: (dotted name, file)."""
    found = []
    for path in _tracked("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in _PACKAGES:
            found.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return found


def _has(obj: object, names: list[str]) -> bool:
    """Whether ``obj.<names...>`` exists, counting annotated fields of classes."""
    for name in names:
        if hasattr(obj, name):
            obj = getattr(obj, name)
        elif isinstance(obj, type) and any(
            name in getattr(c, "__annotations__", {}) for c in obj.__mro__
        ):
            return name == names[-1]
        else:
            return False
    return True


def _lookup(dotted: str) -> bool:
    """Whether a dotted name is a module, or an attribute path inside one."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        return _has(module, parts[end:])
    return False


def _resolves(module: ModuleType, target: str) -> bool:
    """Sphinx's reading of a target written in ``module``: absolute, relative to the
    module's package (``.problems.Failure``), or a name in the module or one of its
    classes (``tally`` inside ``ProgressBar``)."""
    target = "".join(target.split()).lstrip("~!").removesuffix("()")
    if "<" in target:  # "title <target>"
        target = target[target.index("<") + 1 : -1]
    if target.startswith("."):
        package = module.__name__ if hasattr(module, "__path__") else module.__package__ or ""
        for _ in range(len(target) - len(target.lstrip(".")) - 1):
            package = package.rpartition(".")[0]
        relative = target.lstrip(".")
        return _lookup(f"{package}.{relative}") or _lookup(f"{module.__name__}.{relative}")
    if _lookup(target) or _has(module, target.split(".")):
        return True
    classes = [c for c in vars(module).values() if isinstance(c, type)]
    return any(_has(c, target.split(".")) for c in classes if c.__module__ == module.__name__)


def test_docstring_cross_references_resolve() -> None:
    """A Sphinx role (class, func, data, mod, meth, attr, exc) naming a renamed or
    deleted object sends the next reader to nothing: every one names something that
    exists."""
    broken = []
    for name, path in _python_modules():
        module = importlib.import_module(name)
        for target in _REFERENCE.findall(path.read_text("utf-8")):
            if not _resolves(module, target):
                broken.append(f"{name}: {' '.join(target.split())}")
    assert not broken, "references to nothing:\n" + "\n".join(broken)
