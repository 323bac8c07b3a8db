from __future__ import annotations

import pytest

from adapters.parsing.plaintext import PlainTextParser
from domain.errors import ParseError
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


@pytest.fixture
def parser() -> PlainTextParser:
    return PlainTextParser()


async def test_markdown_headings_become_titles_and_paragraphs_text(parser: PlainTextParser) -> None:
    elements = await parser.parse(MARKDOWN, "text/markdown")

    assert elements == [
        Element(text="Guide", kind="title", level=1),
        Element(text="Intro with a link and bold text."),
        Element(text="Setup", kind="title", level=2),
        Element(text="# not a heading inside code"),
        Element(text="Step one continues here."),
    ]


async def test_plain_text_is_split_into_paragraphs(parser: PlainTextParser) -> None:
    elements = await parser.parse(b"First  line\nsame paragraph.\n\n\nSecond.", "text/plain")
    assert [e.text for e in elements] == ["First line same paragraph.", "Second."]


async def test_non_utf8_text_is_still_read(parser: PlainTextParser) -> None:
    [element] = await parser.parse("Café crème".encode("latin-1"), "text/plain")
    assert element.text == "Café crème"


@pytest.mark.parametrize("content", [b"\x00\x01binary", b" \n\n "])
async def test_binary_or_blank_content_fails_with_a_reason(
    parser: PlainTextParser, content: bytes
) -> None:
    with pytest.raises(ParseError):
        await parser.parse(content, "text/plain")


def test_supports_text_and_markdown_only(parser: PlainTextParser) -> None:
    assert parser.supports("text/plain") and parser.supports("text/markdown")
    assert not parser.supports("application/pdf")
