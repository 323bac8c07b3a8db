"""Documents: the parser (unstructured, in a child process started at the first parse)
and the URL fetcher, within the limits the settings set."""

from __future__ import annotations

from collections.abc import Iterator

from dishka import Provider, Scope, provide

from adapters.fetching.http_fetcher import HttpFetcher
from adapters.parsing.limits import ParseLimits
from adapters.parsing.unstructured_parser import UnstructuredParser
from application.ports.documents import DocumentFetcher, DocumentParser
from entrypoints.settings import Settings


class DocumentProvider(Provider):
    scope = Scope.APP

    @provide
    def parser(self, settings: Settings) -> Iterator[DocumentParser]:
        parser = UnstructuredParser(
            ParseLimits(
                timeout_seconds=settings.parse_timeout_seconds,
                max_pages=settings.parse_max_pages,
                max_elements=settings.parse_max_elements,
                max_unzipped_mb=settings.parse_max_unzipped_mb,
                max_memory_mb=settings.parse_max_memory_mb or None,
                workers=settings.parse_workers,
            )
        )
        yield parser
        parser.close()

    @provide
    def fetcher(self, settings: Settings) -> DocumentFetcher:
        return HttpFetcher(
            timeout=settings.fetch_timeout,
            max_bytes=settings.max_upload_bytes,
            max_redirects=settings.fetch_max_redirects,
            allow_private=settings.fetch_allow_private,
            allowed_networks=settings.allowed_networks,
        )
