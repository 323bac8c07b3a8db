"""The service's document parser: the content decides the type, and the type decides who
reads it. Plain text and Markdown are read in the service's own process (plaintext.py);
PDF, Office files, HTML and CSV by unstructured in a child process, which therefore
starts only when one of those arrives.
"""

from __future__ import annotations

from adapters.parsing import content_types as ct
from adapters.parsing import sniffing
from adapters.parsing.limits import ParseLimits
from adapters.parsing.plaintext import SUPPORTED as IN_PROCESS
from adapters.parsing.plaintext import PlainTextParser
from adapters.parsing.unstructured_parser import UnstructuredParser
from domain.models import Element


class ParserByType:
    def __init__(self, limits: ParseLimits | None = None) -> None:
        limits = limits or ParseLimits()
        self._text = PlainTextParser(max_elements=limits.max_elements)
        self._documents = UnstructuredParser(limits)

    @property
    def child_started(self) -> bool:
        """Whether the parser's child process exists right now."""
        return self._documents.started

    def identify(self, content: bytes, declared: str) -> str:
        return sniffing.identify(content, declared)

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        if ct.normalize(content_type) in IN_PROCESS:
            return await self._text.parse(content, content_type)
        return await self._documents.parse(content, content_type)

    async def warm_up(self) -> None:
        await self._documents.warm_up()

    def close(self) -> None:
        self._documents.close()
