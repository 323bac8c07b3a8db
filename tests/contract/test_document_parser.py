"""The DocumentParser contract, on the text both parsers take: the in-process one the
fakes use alone and the service's, which reads text with it and sends every other type to
unstructured's child process (covered in test_unstructured_parser.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.parsing.parser_by_type import ParserByType
from adapters.parsing.plaintext import PlainTextParser
from application.ports.documents import DocumentParser
from domain.errors import ParseError, UnsupportedMediaTypeError
from domain.models import Element

MARKDOWN = b"""# Guide

Intro with a [link](https://x.example) and **bold** text.

## Setup

```
# not a heading inside code
```
Step one
continues here.
"""


@pytest.fixture(scope="module", params=["plaintext", "by_type"])
def parser(request: pytest.FixtureRequest) -> Iterator[DocumentParser]:
    if request.param == "plaintext":
        yield PlainTextParser()
        return
    service = ParserByType()
    yield service
    service.close()


async def test_markdown_headings_become_titles_and_paragraphs_text(
    parser: DocumentParser,
) -> None:
    elements = await parser.parse(MARKDOWN, "text/markdown")

    assert elements == [
        Element(text="Guide", kind="title", level=1),
        Element(text="Intro with a link and bold text."),
        Element(text="Setup", kind="title", level=2),
        Element(text="# not a heading inside code"),
        Element(text="Step one continues here."),
    ]


async def test_plain_text_is_split_into_paragraphs(parser: DocumentParser) -> None:
    content = (
        b"The widget answers questions from the documents that the site owner gave\n"
        b"it, and it cites them.\n\n\nAnswers  stream token by token."
    )
    elements = await parser.parse(content, "text/plain")

    assert [(e.text, e.kind) for e in elements] == [
        (
            "The widget answers questions from the documents that the site owner gave "
            "it, and it cites them.",
            "text",
        ),
        ("Answers stream token by token.", "text"),
    ]


async def test_non_utf8_text_is_still_read(parser: DocumentParser) -> None:
    [element] = await parser.parse("Café crème".encode("latin-1"), "text/plain")
    assert element.text == "Café crème"


@pytest.mark.parametrize("content", [b"\x00\x01binary", b" \n\n "])
async def test_binary_or_blank_content_fails_with_a_reason(
    parser: DocumentParser, content: bytes
) -> None:
    with pytest.raises(ParseError):
        await parser.parse(content, "text/plain")


def test_identify_keeps_declared_text_and_refuses_binary_called_text(
    parser: DocumentParser,
) -> None:
    assert parser.identify(b"Plain words.", "text/plain") == "text/plain"
    assert parser.identify(b"# Title\n\nWords.", "text/markdown") == "text/markdown"
    with pytest.raises(UnsupportedMediaTypeError):
        parser.identify(b"\x00\x01\x02binary", "text/plain")


async def test_plaintext_parser_takes_text_only_and_joins_every_line_break() -> None:
    parser = PlainTextParser()
    elements = await parser.parse(b"First  line\nsame paragraph.\n\n\nSecond.", "text/plain")
    assert [e.text for e in elements] == ["First line same paragraph.", "Second."]
    with pytest.raises(ParseError, match="cannot be parsed here"):
        await parser.parse(b"%PDF-1.4", "application/pdf")
