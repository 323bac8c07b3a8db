"""The parser's child process exists only while documents need it: plain text and Markdown
never start it, any other type does, and it stops after a while without documents."""

from __future__ import annotations

import asyncio
import multiprocessing

from adapters.parsing import content_types as ct
from adapters.parsing.limits import ParseLimits
from adapters.parsing.parser_by_type import ParserByType
from tests.support.bombs import big_text

PAGE = b"<html><body><h1>Shipping</h1><p>Express shipping takes two days.</p></body></html>"


def children() -> set[int]:
    return {c.pid for c in multiprocessing.active_children() if c.name.startswith("pebble")}


async def test_text_and_markdown_never_start_the_child_and_a_page_does() -> None:
    parser = ParserByType()
    try:
        await parser.parse(b"# Returns\n\nReturn any item within 30 days.\n", "text/x-markdown")
        await parser.parse(b"Opening hours\n\nThe store opens at nine.\n", ct.PLAIN)
        await parser.parse(big_text(seed=3, size=2 * 1024 * 1024), ct.PLAIN)
        assert not parser.child_started and not children()

        await parser.parse(PAGE, ct.HTML)
        assert parser.child_started and children()
    finally:
        parser.close()
    assert not children()


async def test_the_child_stops_when_idle_and_the_next_document_starts_another() -> None:
    parser = ParserByType(ParseLimits(idle_seconds=1))
    try:
        await parser.parse(PAGE, ct.HTML)
        first = children()
        assert parser.child_started and first

        for _ in range(300):  # the idle time, and the stop; well within 30 s
            if not parser.child_started and not children():
                break
            await asyncio.sleep(0.1)
        assert not parser.child_started and not children()

        [element, *_] = await parser.parse(PAGE, ct.HTML)
        assert element.text == "Shipping"
        assert children() and not children() & first
    finally:
        parser.close()


async def test_a_child_busy_with_a_document_is_not_stopped_as_idle() -> None:
    parser = ParserByType(ParseLimits(idle_seconds=0.5))
    try:
        await parser.parse(PAGE, ct.HTML)
        first = children()
        # ~3 s of parsing, six idle times: the child is working, not idle.
        page = "".join(f"<p>The widget answers question number {n}.</p>" for n in range(900))
        elements = await parser.parse(page.encode(), ct.HTML)
        assert len(elements) == 900
        assert children() == first
    finally:
        parser.close()
