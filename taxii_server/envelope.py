"""A POSTed envelope read one object at a time (TAXII 2.1 §3.7, §5.5).

Parsing a whole envelope at once made every object a Python dictionary at the same
time, and the parser needed about twelve times the body's size while it worked: a
6.5 MB envelope of 50,000 small objects peaked near 100 MB before a single object was
validated.  Here msgspec (a maintained C parser) checks the whole body's JSON syntax
and finds where each item of ``objects`` begins and ends, keeping only those slices
(about 60 bytes an item); an item becomes a Python value when it is read, and can be
dropped as soon as it has been looked at.  The body itself stays in memory, bounded
by ``max_content_length``.

Two more things it gives: integers of any size come back exact (orjson turns one above
2**64 into a float, silently), and an error says where it is, as a JSON path or a line
and column.  Nesting deeper than the interpreter's recursion limit (1,000 levels) is
refused as such.  Of duplicate keys in one JSON object the last one counts, as with
every mainstream parser.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import msgspec
import orjson

from taxii_server.errors import BadRequest

__all__ = ["EnvelopeItems", "parse_envelope"]

_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_VALUE = msgspec.json.Decoder()


class _Identified(msgspec.Struct):
    """An item of ``objects`` read for its ``id`` alone (its other members skipped)."""

    id: Any = None


_IDS = msgspec.json.Decoder(list[_Identified])
# What a JSON value is, by its first byte, in the words of our messages.
_KINDS = {ord("{"): "an object", ord("["): "a list", ord('"'): "a string", ord("n"): "null"}
_KINDS |= {ord("t"): "a boolean", ord("f"): "a boolean"}


def _kind(raw: bytes | memoryview) -> str:
    text = bytes(raw).lstrip()
    return _KINDS.get(text[0], "a number") if text else "nothing"


def _syntax_error(
    body: bytes | msgspec.Raw, exc: msgspec.MsgspecError | RecursionError, where: str = ""
) -> BadRequest:
    """400 for a body (or, ``where`` it is, an item) that is not JSON.  Said in orjson's
    words, with a line and column: on this path only, the text is parsed again to find
    them (msgspec's own reasons are terser, and one unpaired surrogate reads as "input
    data was truncated")."""
    at = f" at {where}" if where else ""
    if isinstance(exc, RecursionError):
        return BadRequest(
            f"the body is not valid JSON: nesting depth beyond the parser's limit "
            f"(about 1,000 levels){at}"
        )
    try:
        orjson.loads(body if isinstance(body, bytes) else memoryview(body))
    except orjson.JSONDecodeError as error:
        if where:
            return BadRequest(f"the body is not valid JSON: {error.msg}{at}")
        return BadRequest(
            f"the body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
            details={"line": error.lineno, "column": error.colno},
        )
    return BadRequest(f"the body is not valid JSON: {exc}{at}")


class EnvelopeItems(Sequence[Any]):
    """The items of an envelope's ``objects``, each parsed when it is read.

    Reading an item parses its slice of the body again (nothing is kept), so iterate
    once and hold on to what is needed.  An item that is not valid JSON (invalid UTF-8,
    an unpaired surrogate, a number out of range) raises :class:`BadRequest` naming it.
    """

    def __init__(self, body: bytes, items: list[msgspec.Raw], objects: msgspec.Raw) -> None:
        self._body = body  # the items are slices of it
        self._items = items
        self._objects = objects  # the whole list

    def identifiers(self) -> list[Any] | None:
        """Each item's ``id`` (``None`` where it has none), read without building the
        items: one pass of the parser over the list, skipping every other member.
        ``None`` when an item is not a JSON object or not valid JSON: read the items
        themselves to say what is wrong."""
        try:
            return [item.id for item in _IDS.decode(self._objects)]
        except (msgspec.MsgspecError, RecursionError):
            return None

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._items)
        return _decoded(self._items[index], index)

    def __iter__(self) -> Iterator[Any]:
        # Without __getitem__'s overloads and index checks per item.
        for index, item in enumerate(self._items):
            yield _decoded(item, index)


def _decoded(item: msgspec.Raw, index: int) -> Any:
    """The envelope's item at ``index`` as Python values, or 400 saying what is wrong."""
    try:
        return _VALUE.decode(item)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise _syntax_error(item, exc, f"$.objects[{index}]") from None


def parse_envelope(body: bytes) -> EnvelopeItems:
    """The ``objects`` of a POSTed envelope, or 400 saying what is wrong and where.

    The whole body's syntax is checked here; each item's values (strings, numbers) when
    it is read.
    """
    try:
        top = _TOP.decode(body)
    except msgspec.ValidationError:
        raise BadRequest(
            "$: expected a TAXII envelope (a JSON object with an 'objects' list), "
            f"got {_kind(body)}"
        ) from None
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise _syntax_error(body, exc) from None
    objects = top.get("objects")
    if objects is None:
        raise BadRequest("$.objects: missing; a TAXII envelope carries its objects there")
    try:
        items = _ITEMS.decode(objects)
    except msgspec.ValidationError:
        raise BadRequest(
            f"$.objects: expected a list of STIX objects, got {_kind(memoryview(objects))}"
        ) from None
    return EnvelopeItems(body, items, objects)
