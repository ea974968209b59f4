"""Where a pull records its progress, so an interrupted pull continues where it stopped.

Beside the output file ``bundle.json`` a folder ``bundle.json.pull/`` holds

* ``objects.jsonl``: every object fetched so far, one JSON object per line, appended
  page by page and flushed to disk (``fsync``) before the state names it;
* ``state.json``: what was asked (API root, collection, filters), where the last
  stored page ended (its ``X-TAXII-Date-Added-Last`` and ``next``), and how many bytes
  of ``objects.jsonl`` belong to stored pages.  It is replaced atomically (written to
  a temporary file, flushed, renamed), so it is always either the old state or the
  new one;
* ``receipts.jsonl``: one line per stored page saying what was asked and what came
  back (when, ``added_after``, the page's ``X-TAXII-Date-Added-First``/``-Last``, the
  object count), appended like the objects: the chain of custody record of a signed
  pull (:mod:`taxii_server.remote.custody`) is made from it, across interrupted runs
  and ``--since-last``.

A process killed between the two steps leaves bytes in ``objects.jsonl`` beyond what
the state names; they are cut off when the pull resumes and that page is fetched
again.  After a complete pull both files stay: ``--since-last`` continues from the
recorded position, and the output is rewritten from all the objects.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from taxii_server.files import write_atomically

__all__ = ["Journal", "JournalError", "PullState", "Source", "write_atomically"]

#: Version of the state file's layout.
STATE_FORMAT = 1


class JournalError(Exception):
    """The pull's state folder cannot be used (unreadable, foreign, or for another pull)."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a pull fetches: resuming is allowed only for the same source."""

    api_root_url: str
    collection_id: str
    added_after: str | None
    all_versions: bool

    def describe(self) -> str:
        """The source in words, for messages."""
        what = "all versions" if self.all_versions else "latest versions"
        since = f", added after {self.added_after}" if self.added_after else ""
        return f"collection {self.collection_id} at {self.api_root_url} ({what}{since})"


@dataclass(frozen=True, slots=True)
class PullState:
    """Where a pull stands after its last stored page.

    ``position`` is the last page's ``X-TAXII-Date-Added-Last`` (TAXII 2.1 §3.4.2):
    a pull resumes with ``added_after`` set to it.  ``next`` is that page's token,
    used when the server sends no such header.  ``complete`` is set once the output
    file has been written.
    """

    source: Source
    position: str | None = None
    next: str | None = None
    pages: int = 0
    objects: int = 0
    sidecar_bytes: int = 0
    receipts_bytes: int = 0
    complete: bool = False


class Journal:
    """The state folder of one output file."""

    def __init__(self, output: Path) -> None:
        self.folder = output.parent / f"{output.name}.pull"
        self._state = self.folder / "state.json"
        self._objects = self.folder / "objects.jsonl"
        self._receipts = self.folder / "receipts.jsonl"

    def load(self) -> PullState | None:
        """The recorded state, or ``None`` when there is none."""
        try:
            raw = self._state.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JournalError(f"cannot read {self._state}: {exc.strerror}") from None
        try:
            data = orjson.loads(raw)
            if data.pop("format") != STATE_FORMAT:
                raise ValueError("unknown format")
            source = Source(**data.pop("source"))
            return PullState(source=source, **data)
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError):
            raise JournalError(
                f"{self._state} is not a pull state this version can read; "
                f"delete {self.folder} to start the pull afresh"
            ) from None

    def save(self, state: PullState) -> None:
        """Record ``state`` atomically."""
        data = {"format": STATE_FORMAT, **asdict(state)}
        write_atomically(self._state, orjson.dumps(data, option=orjson.OPT_INDENT_2))

    def start(self, source: Source) -> PullState:
        """Begin a new pull: an empty objects file and a fresh state."""
        self.folder.mkdir(exist_ok=True)
        write_atomically(self._objects, b"")
        write_atomically(self._receipts, b"")
        state = PullState(source=source)
        self.save(state)
        return state

    def append(
        self,
        state: PullState,
        lines: Sequence[bytes],
        receipt: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> PullState:
        """Append one page's objects (JSON lines) and its ``receipt`` after the bytes
        ``state`` names, make them durable, then record the new state with ``changes``."""
        size = _append(self._objects, state.sidecar_bytes, lines)
        receipts = state.receipts_bytes
        if receipt is not None:
            receipts = _append(self._receipts, receipts, [orjson.dumps(receipt)])
        new = replace(
            state,
            objects=state.objects + len(lines),
            sidecar_bytes=size,
            receipts_bytes=receipts,
            pages=state.pages + 1,
            **changes,
        )
        self.save(new)
        return new

    def receipts(self, state: PullState) -> list[dict[str, Any]]:
        """The page receipts recorded by ``state``, oldest first."""
        try:
            with self._receipts.open("rb") as source:
                data = source.read(state.receipts_bytes)
        except FileNotFoundError:  # a folder written before receipts were kept
            return []
        return [orjson.loads(line) for line in data.splitlines() if line.strip()]

    def objects(self, state: PullState) -> Iterator[dict[str, Any]]:
        """The objects recorded by ``state`` (not any bytes beyond it)."""
        with self._objects.open("rb") as source:
            data = source.read(state.sidecar_bytes)
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise JournalError(
                    f"{self._objects}:{number}: damaged; delete {self.folder} and pull again"
                ) from None
            if isinstance(obj, dict):
                yield obj

    def compact(self, state: PullState, objects: Sequence[dict[str, Any]]) -> PullState:
        """Replace the recorded objects with ``objects`` (the deduplicated set)."""
        data = b"".join(orjson.dumps(o) + b"\n" for o in objects)
        write_atomically(self._objects, data)
        new = replace(state, objects=len(objects), sidecar_bytes=len(data))
        self.save(new)
        return new


def _append(path: Path, recorded: int, lines: Sequence[bytes]) -> int:
    """Append JSON lines after the first ``recorded`` bytes of ``path``, durably;
    return the new length."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    with os.fdopen(fd, "r+b") as out:
        # Bytes past the recorded length belong to a page whose state was never saved
        # (a killed process): drop them, that page is being fetched again.  (A file
        # shorter than recorded was compacted just before a crash; never extend it
        # with zero bytes.)
        keep = min(out.seek(0, os.SEEK_END), recorded)
        out.truncate(keep)
        out.seek(keep)
        for line in lines:
            out.write(line)
            out.write(b"\n")
        out.flush()
        os.fsync(out.fileno())
        return out.tell()
