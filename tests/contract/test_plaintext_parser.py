"""Plain text and Markdown, read in the service's own process: the elements the
unstructured path gave them (titles with levels, lists, code, tables), and the bounds that
keep a large or hostile text cheap."""

from __future__ import annotations

import pytest

from adapters.parsing import content_types as ct
from adapters.parsing.plaintext import PlainTextParser
from domain.errors import ParseError, UnsupportedMediaTypeError
from domain.models import Element


@pytest.fixture
def parser() -> PlainTextParser:
    return PlainTextParser()


def titles(elements: list[Element]) -> list[tuple[str, int | None]]:
    return [(e.text, e.level) for e in elements if e.kind == "title"]


def texts(elements: list[Element]) -> list[str]:
    return [e.text for e in elements if e.kind == "text"]


MARKDOWN = b"""---
title: front matter is not content
---
# Installation Guide

This guide explains how the widget is installed on a **website**; see the
[docs](https://x.example/docs "the docs") or <https://x.example>.

## Requirements

- A modern browser
- JavaScript *enabled*,
  on every page
1. Then paste the snippet

### Browsers

> Chrome, Firefox and Safari are supported.

```
# not a heading inside code
```

Pricing
=======

| Plan | Price |
|------|------:|
| Free | 0 USD |
| Paid | 20 USD |

Troubleshooting #
---------------

Use `snake_case` names, 2 * 3 is 6, and \\*stars\\* stay.

Send `Authorization: Bearer <token>` with `*args`, not <b>bold</b>.
"""


async def test_markdown_headings_become_titles_with_their_levels(
    parser: PlainTextParser,
) -> None:
    elements = await parser.parse(MARKDOWN, ct.MARKDOWN)

    assert titles(elements) == [
        ("Installation Guide", 1),
        ("Requirements", 2),
        ("Browsers", 3),
        ("Pricing", 1),  # setext headings, as python-markdown reads them
        ("Troubleshooting #", 2),
    ]


async def test_markdown_blocks_become_paragraphs_without_their_markup(
    parser: PlainTextParser,
) -> None:
    elements = await parser.parse(MARKDOWN, ct.MARKDOWN)

    assert texts(elements) == [
        "This guide explains how the widget is installed on a website; see the docs or "
        "https://x.example.",
        "A modern browser",
        "JavaScript enabled, on every page",
        "Then paste the snippet",
        "Chrome, Firefox and Safari are supported.",
        "# not a heading inside code",
        "Plan | Price\nFree | 0 USD\nPaid | 20 USD",  # a row's cells stay together
        "Use snake_case names, 2 * 3 is 6, and *stars* stay.",
        # a code span is literal: what reads as a tag or a mark inside it is text
        "Send Authorization: Bearer <token> with *args, not bold.",
    ]
    assert "front matter" not in " ".join(e.text for e in elements)


TEXT = b"""Installation Guide

This guide explains how the widget is installed on a website. It was written
for site owners who have never touched the code of their site, and it takes
about five minutes to follow from start to end.

Requirements

- A modern browser
- JavaScript enabled

Things to check:

Thanks for reading.
"""


async def test_plain_text_paragraphs_and_titles_guessed_from_short_lines(
    parser: PlainTextParser,
) -> None:
    elements = await parser.parse(TEXT, ct.PLAIN)

    # Titles are guessed from short lines; a hard-wrapped paragraph stays one paragraph;
    # a list item, a lead-in and a short sentence are no titles.
    assert [(e.text, e.kind, e.level) for e in elements] == [
        ("Installation Guide", "title", None),
        (
            "This guide explains how the widget is installed on a website. It was written "
            "for site owners who have never touched the code of their site, and it takes "
            "about five minutes to follow from start to end.",
            "text",
            None,
        ),
        ("Requirements", "title", None),
        ("A modern browser", "text", None),
        ("JavaScript enabled", "text", None),
        ("Things to check:", "text", None),
        ("Thanks for reading.", "text", None),
    ]


async def test_an_upper_case_heading_with_a_dash_is_a_title(parser: PlainTextParser) -> None:
    abstract = (
        b"The flow past slender blunt bodies is reviewed. An extension of the theory is "
        b"given for bodies of revolution at high Mach numbers."
    )
    heading = b"FLOW PAST SLENDER BLUNT BODIES - A REVIEW AND EXTENSION"
    elements = await parser.parse(heading + b"\n\n" + abstract + b"\n", ct.PLAIN)

    assert [(e.text, e.kind) for e in elements] == [
        (heading.decode(), "title"),
        (abstract.decode(), "text"),
    ]


async def test_a_line_cut_from_its_sentence_is_no_title(parser: PlainTextParser) -> None:
    # A manual's "A simple graph can be formatted using" above its example became a
    # heading, and the example's section was named by half a sentence.
    text = b"Examples\n\nA simple graph can be formatted using\n\nset terminal gpic\n\nZ\n"
    elements = await parser.parse(text, ct.PLAIN)

    assert titles(elements) == [("Examples", None)]


async def test_text_without_blank_lines_is_a_paragraph_per_line(
    parser: PlainTextParser,
) -> None:
    lines = [f"Line {n} of a list that has no blank lines between its entries." for n in range(30)]
    elements = await parser.parse("\n".join(lines).encode(), ct.PLAIN)

    assert [e.text for e in elements] == lines


async def test_an_underline_ends_a_heading_in_plain_text(parser: PlainTextParser) -> None:
    elements = await parser.parse(b"OVERVIEW\n========\nThe widget answers.\n\nMore.", ct.PLAIN)

    assert elements[0] == Element(text="OVERVIEW", kind="title")
    assert "=" not in " ".join(e.text for e in elements)


async def test_legacy_text_encodings_are_read(parser: PlainTextParser) -> None:
    latin = await parser.parse("Crème brûlée is served at the café.".encode("cp1252"), ct.PLAIN)
    wide = await parser.parse("Grüße aus Köln, sagt das Team.".encode("utf-16"), ct.PLAIN)

    assert [e.text for e in latin] == ["Crème brûlée is served at the café."]
    assert [e.text for e in wide] == ["Grüße aus Köln, sagt das Team."]


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b"\n\n   \n", ct.PLAIN, "the text file contains no text"),
        (b"```\n```\n", ct.MARKDOWN, "the Markdown file contains no text"),
        (b"---\n\n***\n", ct.MARKDOWN, "the Markdown file contains no text"),
        (b"\x00\x01\x02binary", ct.PLAIN, "looks binary"),
    ],
)
async def test_what_it_cannot_read_fails_with_a_reason(
    parser: PlainTextParser, content: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(ParseError, match=reason):
        await parser.parse(content, content_type)


async def test_too_many_parts_are_refused_before_the_rest_is_read() -> None:
    parser = PlainTextParser(max_elements=3)
    with pytest.raises(ParseError, match=r"more than 3 parts"):
        await parser.parse(b"- one\n- two\n- three\n- four\n" * 1000, ct.MARKDOWN)


async def test_a_huge_paragraph_becomes_pieces_cut_at_spaces(parser: PlainTextParser) -> None:
    words = [f"word{n}" for n in range(400_000)]  # 4.3 MB, one paragraph
    for content_type in (ct.PLAIN, ct.MARKDOWN):
        elements = await parser.parse(" ".join(words).encode(), content_type)

        assert len(elements) > 1 and all(len(e.text) <= 4096 for e in elements)
        assert " ".join(e.text for e in elements).split() == words  # nothing lost or cut


@pytest.mark.parametrize(
    "hostile",
    [
        b"*a " * 200_000,  # emphasis marks that never close
        b"[" * 600_000,  # link texts that never close
        b"<!--" * 150_000,  # comments that never close
        b"<http://" * 80_000,
        b"> " * 300_000,  # one line of nested quotes
    ],
    ids=["open-emphasis", "open-brackets", "open-comments", "open-autolinks", "deep-quotes"],
)
async def test_hostile_markup_is_read_as_text(parser: PlainTextParser, hostile: bytes) -> None:
    # Patterns that pair an opening mark with a closing one anywhere further on would
    # take quadratic time on these; every mark here is left as text (or dropped), once.
    elements = await parser.parse(hostile + b"\n\nThe end.", ct.MARKDOWN)

    assert elements[-1].text == "The end."
    assert all(len(e.text) <= 4096 for e in elements)


def test_identify_takes_text_and_refuses_what_needs_the_other_parser(
    parser: PlainTextParser,
) -> None:
    assert parser.identify(b"Plain words.", "text/plain") == ct.PLAIN
    assert parser.identify(b"# Title\n\nWords.", "application/octet-stream") == ct.MARKDOWN
    with pytest.raises(UnsupportedMediaTypeError, match="plain text and Markdown only"):
        parser.identify(b"<html><body><p>A page.</p></body></html>", "text/html")
    with pytest.raises(UnsupportedMediaTypeError):
        parser.identify(b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
