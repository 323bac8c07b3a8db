"""A fetcher that serves pages from a dict, so URL ingestion is testable offline."""

from __future__ import annotations

from application.ports.documents import FetchedDocument
from domain.errors import FetchError


class StaticFetcher:
    def __init__(self, pages: dict[str, FetchedDocument] | None = None) -> None:
        self.pages = dict(pages or {})

    async def fetch(self, url: str) -> FetchedDocument:
        try:
            return self.pages[url]
        except KeyError:
            raise FetchError(f"{url} answered HTTP 404") from None
