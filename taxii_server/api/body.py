"""A POST's body, read no further than a limit, and inflated when it is gzip.

``Content-Encoding: gzip`` (RFC 9110 §8.4.1, RFC 1952) is decoded under the same limit
as a plain body: never more than ``max_content_length + 1`` bytes are inflated, so a
small body that inflates to gigabytes (a "zip bomb") costs what its first
``max_content_length`` bytes do and is refused with 413.  Other codings are refused
with 415 and an ``Accept-Encoding`` header saying which are understood (RFC 9110
§15.5.16); before this, a gzip body was read as it came and reported as "not valid
JSON".
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from flask import request

from taxii_server.errors import (
    BadRequest,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    quoted,
)

__all__ = ["RequestBody"]

_READ_SIZE = 256 * 1024
_IDENTITY = ("", "identity")
_GZIP = ("gzip", "x-gzip")  # x-gzip: RFC 9110 §8.4.1.3 asks servers to read it as gzip
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data


class RequestBody:
    """The body of the current request (see ``service.RequestBody``)."""

    @property
    def content_length(self) -> int | None:
        """The declared length: of the encoded body, which is never the longer one for
        a body that passes the limit."""
        return request.content_length

    def read(self, limit: int) -> bytes:
        """At most ``limit + 1`` bytes of the (decoded) body."""
        coding = request.headers.get("Content-Encoding", "").strip().lower()
        if coding in _IDENTITY:
            return b"".join(_chunks(limit + 1))
        if coding in _GZIP:
            return _inflated(limit)
        raise UnsupportedMediaType(
            f"Content-Encoding {quoted(coding)} is not supported; send the body as it is "
            "or with Content-Encoding: gzip",
            headers={"Accept-Encoding": "gzip, identity"},
        )


def _chunks(most: int) -> Iterator[bytes]:
    """The body as it arrives, until it ends or ``most`` bytes were read."""
    total = 0
    while total < most:
        # A WSGI stream may return less than asked before its end: read until it ends.
        try:
            chunk = request.stream.read(min(_READ_SIZE, most - total))
        except TimeoutError:  # the worker's client timeout (cli/workers.py)
            raise RequestTimeout(
                f"the body stopped arriving after {total} bytes; send it again"
            ) from None
        if not chunk:
            return
        total += len(chunk)
        yield chunk


def _inflated(limit: int) -> bytes:
    """The gzip body inflated, or 413 as soon as it would pass ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    inflater = zlib.decompressobj(_GZIP_WBITS)
    try:
        for chunk in _chunks(limit + 1):  # the encoded body is under the limit too
            while chunk:
                if inflater.eof:  # RFC 1952 §2.2: a file may hold several members
                    inflater = zlib.decompressobj(_GZIP_WBITS)
                part = inflater.decompress(chunk, limit + 1 - size)
                parts.append(part)
                size += len(part)
                if size > limit:
                    raise PayloadTooLarge(
                        f"the gzip body inflates to more than this API root's "
                        f"max_content_length of {limit} bytes; split the envelope",
                        details={"max_content_length": limit},
                    )
                chunk = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
    except zlib.error as exc:
        raise BadRequest(f"the body is not valid gzip (Content-Encoding: gzip): {exc}") from None
    if not inflater.eof:
        raise BadRequest("the gzip body ends early: it was cut off, or is not gzip")
    return b"".join(parts)
