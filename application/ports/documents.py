"""How documents come in: fetched by URL, then parsed into structural elements."""

from __future__ import annotations

from typing import Protocol

import msgspec

from domain.models import Element


class DocumentParser(Protocol):
    """Bytes of a known content type into structural elements."""

    def identify(self, content: bytes, declared: str) -> str:
        """The content type these bytes will be parsed as, judged by their content.

        Raises UnsupportedMediaTypeError when the content is of no supported type, or
        when it contradicts the declared type (a ZIP called a PDF)."""
        ...

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        """Raises ParseError with a reason a site owner can read; never returns []."""
        ...


class FetchedDocument(msgspec.Struct, frozen=True, kw_only=True):
    content: bytes
    content_type: str  # as the server declared it, without parameters
    url: str  # after redirects
    title: str | None = None


class DocumentFetcher(Protocol):
    """Brings a web page or file in by URL, within size and time bounds."""

    async def fetch(self, url: str) -> FetchedDocument:
        """Raises InvalidInputError for a refused address (private, loopback, …),
        PayloadTooLargeError past the size bound, FetchError when it cannot be had."""
        ...
