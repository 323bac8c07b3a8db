"""Plain text and Markdown into titled paragraphs, with the standard library only."""

from __future__ import annotations

import re

from domain.errors import ParseError, UnsupportedMediaTypeError
from domain.models import Element

MARKDOWN = frozenset({"text/markdown", "text/x-markdown"})
SUPPORTED = frozenset({"text/plain"}) | MARKDOWN

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def decode(content: bytes) -> str:
    if b"\x00" in content[:8192]:
        raise ParseError("the file looks binary, not text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Most non-UTF-8 text on the web is Windows-1252; cp1252 fails on a few bytes.
        return content.decode("latin-1")


def _inline(text: str) -> str:
    return _EMPHASIS.sub(r"\2", _LINK.sub(r"\1", text))


def _markdown(text: str) -> list[Element]:
    elements: list[Element] = []
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph:
            elements.append(Element(text=_inline(" ".join(paragraph))))
            paragraph.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            flush()  # a code block is its own paragraph
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            elements.append(Element(text=_inline(heading.group(2)), kind="title", level=level))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return elements


def _plain(text: str) -> list[Element]:
    paragraphs = re.split(r"\n\s*\n", text)
    return [Element(text=" ".join(p.split())) for p in paragraphs if p.strip()]


class PlainTextParser:
    def supports(self, content_type: str) -> bool:
        return content_type in SUPPORTED

    def identify(self, content: bytes, declared: str) -> str:
        if declared not in SUPPORTED or b"\x00" in content[:8192]:
            raise UnsupportedMediaTypeError(
                f"content type {declared!r} is not supported", details={"content_type": declared}
            )
        return declared

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        text = decode(content)
        elements = _markdown(text) if content_type in MARKDOWN else _plain(text)
        if not elements:
            raise ParseError("the document contains no text")
        return elements
