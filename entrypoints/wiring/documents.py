"""Documents: the parser (text and Markdown in-process; everything else through unstructured
in a child process, started by the first document that needs it and stopped after
PARSE_IDLE_SECONDS idle) and the URL fetcher, within the limits the settings set."""

from __future__ import annotations

from collections.abc import Iterator

from dishka import Provider, Scope, provide

from adapters.fetching.http_fetcher import HttpFetcher
from adapters.parsing.limits import ParseLimits
from adapters.parsing.parser_by_type import ParserByType
from application.ports.documents import DocumentFetcher, DocumentParser
from entrypoints.settings import Settings


class DocumentProvider(Provider):
    scope = Scope.APP

    @provide
    def parser(self, settings: Settings) -> Iterator[DocumentParser]:
        parser = ParserByType(
            ParseLimits(
                timeout_seconds=settings.parse_timeout_seconds,
                max_pages=settings.parse_max_pages,
                max_elements=settings.parse_max_elements,
                max_unzipped_mb=settings.parse_max_unzipped_mb,
                max_memory_mb=settings.parse_max_memory_mb or None,
                workers=settings.parse_workers,
                idle_seconds=settings.parse_idle_seconds or None,
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
