"""Writing a draft research package as YAML an analyst can read, vet and finish.

The draft is the package document with a header of comments: what it was made from,
what to do before it converts (vet each data point), and what was left out —
values rejected for a failed checksum, input items no mapping covers.  Comments are
for the reader only; the package format ignores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["draft_yaml"]


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, long strings folded at 100."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # no &anchors: each data point reads on its own


def draft_yaml(document: dict[str, Any], header: Sequence[str]) -> str:
    """The package as YAML, after ``header`` lines written as comments."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header)
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return comments + body
