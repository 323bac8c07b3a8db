"""Request bodies, read so that a malformed one is the client's error (400), never a
server error: the framework's decoders let bytes that are not UTF-8 (UnicodeDecodeError,
in a JSON body or a multipart text field) and JSON nesting deeper than the interpreter's
recursion limit (RecursionError) escape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

NOT_UTF8 = "the request body is not valid UTF-8"
TOO_DEEP = "the JSON body is nested too deeply"


@contextmanager
def malformed_body_refused() -> Iterator[None]:
    """Decoding inside it that fails on the body's bytes or depth raises a 400."""
    try:
        yield
    except UnicodeDecodeError:
        raise ClientException(NOT_UTF8) from None
    except RecursionError:
        raise ClientException(TOO_DEEP) from None


class JsonBodyRequest(Request[Any, Any, Any]):
    """The app's request class: every route that takes a JSON body reads it through here."""

    async def json(self) -> Any:
        with malformed_body_refused():
            return await super().json()
