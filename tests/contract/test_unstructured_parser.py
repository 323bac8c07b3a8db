"""The unstructured parser on real documents of every type it takes (PDF, Office, HTML,
CSV), made here in memory; and the type each document is judged to be by its content.

One parser (one warm child process) serves the module; its warm-up (~7 s) is paid once.
Plain text and Markdown are read in-process: see test_plaintext_parser.py.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from adapters.parsing import content_types as ct
from adapters.parsing.limits import ParseLimits
from adapters.parsing.sample_documents import docx_bytes, pdf_bytes, pptx_bytes, xlsx_bytes
from adapters.parsing.sniffing import identify
from adapters.parsing.unstructured_parser import UnstructuredParser
from domain.errors import ParseError, UnsupportedMediaTypeError
from domain.models import Element
from tests.support.documents import pdf_with_a_ruled_table, with_zero_part, zip_bytes

ROOT = Path(__file__).resolve().parents[2]


def noise(size: int) -> bytes:
    return random.Random(size).randbytes(size)  # seeded: no magic number by chance


# --- documents --------------------------------------------------------------------------


TWO_PAGE_PDF = pdf_bytes(
    [
        [
            (20, 700, "Installation Guide"),
            (11, 670, "This guide explains how the widget is installed on a website."),
            (11, 650, "You paste one script tag into the page and the widget loads itself."),
        ],
        [
            (16, 700, "Troubleshooting"),
            (11, 670, "If the widget does not appear, check the allowed origins of the widget."),
        ],
    ]
)


HTML = b"""<!DOCTYPE html><html><head><title>Docs</title><style>p { color: red }</style>
<script>var tracking = "should not be indexed";</script></head><body>
<h1>Installation Guide</h1><p>This guide explains how the widget is installed.</p>
<h2>Requirements</h2><ul><li>A modern browser</li></ul>
<h3>Browsers</h3><p>Chrome, Firefox and Safari are supported in their last two versions.</p>
</body></html>"""

MARKDOWN = b"""# Installation Guide

This guide explains how the widget is installed on a website.

## Requirements

- A modern browser
- JavaScript enabled

### Browsers

Chrome, Firefox and Safari are supported.

```
# not a heading inside code
```
"""

TEXT = b"""Installation Guide

This guide explains how the widget is installed on a website. It was written
for site owners who have never touched the code of their site, and it takes
about five minutes to follow from start to end.

Requirements

- A modern browser
- JavaScript enabled

Thanks for reading.
"""


# --- the parser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parser():
    parser = UnstructuredParser()
    yield parser
    parser.close()


def texts(elements: list[Element]) -> str:
    return "\n".join(e.text for e in elements)


def titles(elements: list[Element]) -> list[tuple[str, int | None]]:
    return [(e.text, e.level) for e in elements if e.kind == "title"]


# --- identify: the content decides ------------------------------------------------------


DOCX = ct.DOCX
OCTET = "application/octet-stream"


@pytest.mark.parametrize(
    ("content", "declared", "expected"),
    [
        (TWO_PAGE_PDF, OCTET, ct.PDF),
        (TWO_PAGE_PDF, "application/pdf", ct.PDF),
        (docx_bytes(), OCTET, ct.DOCX),
        (docx_bytes(), "application/zip", ct.DOCX),
        (pptx_bytes(), "", ct.PPTX),
        (xlsx_bytes(), OCTET, ct.XLSX),
        (HTML, OCTET, ct.HTML),
        (HTML, "text/plain", ct.HTML),  # servers label pages text/plain
        (HTML, "text/html; charset=utf-8", ct.HTML),
        (MARKDOWN, OCTET, ct.MARKDOWN),
        (MARKDOWN, "text/x-markdown", ct.MARKDOWN),
        (TEXT, OCTET, ct.PLAIN),
        (TEXT, "text/markdown", ct.MARKDOWN),  # any text may be read as Markdown
        (b"plan,price\nfree,0\n", "text/csv", ct.CSV),
        ("Café crème brûlée".encode("latin-1"), "text/plain", ct.PLAIN),
        ("Grüße aus Köln".encode("utf-16"), OCTET, ct.PLAIN),
        (b"Notes: a PDF starts with %PDF-1.7 in its header.", "text/plain", ct.PLAIN),
        (b"MZ Motors: annual report", OCTET, ct.PLAIN),  # not a Windows program
    ],
)
def test_identify_judges_by_content(content: bytes, declared: str, expected: str) -> None:
    assert identify(content, declared) == expected


@pytest.mark.parametrize(
    ("content", "declared", "words"),
    [
        (docx_bytes(), "application/pdf", ["Word document", "PDF"]),
        (TWO_PAGE_PDF, DOCX, ["PDF", "Word document"]),
        (xlsx_bytes(), DOCX, ["Excel workbook", "Word document"]),
        (TEXT, "application/pdf", ["sent as a PDF", "is text"]),
        (bytes(range(256)) * 8, "text/plain", ["binary"]),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "application/msword", ["legacy"]),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png", ["PNG image"]),
        (zip_bytes({"a.txt": b"hello"}), OCTET, ["ZIP archive", "not a Word"]),
        (noise(2048) + b"\x00", OCTET, ["no supported type"]),
        (b'{"json": true}', "application/json", ["not supported"]),
        (b"{\\rtf1\\ansi Hello}", "application/rtf", ["RTF document"]),
    ],
)
def test_identify_refuses_what_it_cannot_or_should_not_read(
    content: bytes, declared: str, words: list[str]
) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as refused:
        identify(content, declared)
    for word in words:
        assert word in refused.value.message


# --- zip bombs: refused from the archive's directory, before any child inflates them -----


async def test_an_office_file_that_would_inflate_past_the_limit_is_refused() -> None:
    parser = UnstructuredParser(ParseLimits(max_unzipped_mb=5))
    bomb = with_zero_part(docx_bytes(), "word/media/padding.bin", 6)
    assert len(bomb) < 100_000
    with pytest.raises(ParseError, match=r"expands to more than 5 MB when unzipped"):
        await parser.parse(bomb, DOCX)


async def test_a_part_that_inflates_like_a_zip_bomb_is_refused() -> None:
    parser = UnstructuredParser()  # 200 MB in total is allowed, 2 MB from 2 KB is not
    bomb = with_zero_part(pptx_bytes(), "ppt/slides/slide9.xml", 2)
    with pytest.raises(ParseError, match=r"expands to more than 2 MB from \d+ KB.*zip bomb"):
        await parser.parse(bomb, ct.PPTX)
    assert not parser.started  # refused from the archive's directory alone


async def test_many_parts_each_under_a_megabyte_are_refused_like_one_large_one() -> None:
    parser = UnstructuredParser()
    parts = {f"word/header{n}.xml": b"<w:p>ACME confidential</w:p>" * 20_000 for n in range(8)}
    bomb = zip_bytes({**parts, "word/document.xml": b"<w:document/>"})
    assert len(bomb) < 50_000  # 8 parts of 0.5 MB each, every one far past 100:1
    with pytest.raises(ParseError, match=r"8 parts inflate more than 100 times.*zip bomb"):
        await parser.parse(bomb, DOCX)


# --- each type: titles with their levels, text, pages -----------------------------------


async def test_pdf_gives_titles_text_and_page_numbers(parser: UnstructuredParser) -> None:
    elements = await parser.parse(TWO_PAGE_PDF, ct.PDF)

    assert [(e.text, e.kind, e.page) for e in elements] == [
        ("Installation Guide", "title", 1),
        ("This guide explains how the widget is installed on a website.", "text", 1),
        ("You paste one script tag into the page and the widget loads itself.", "text", 1),
        ("Troubleshooting", "title", 2),
        ("If the widget does not appear, check the allowed origins of the widget.", "text", 2),
    ]


async def test_pdf_running_headers_and_page_numbers_are_dropped_a_lone_top_line_kept(
    parser: UnstructuredParser,
) -> None:
    def page(number: int) -> list[tuple[int, int, str]]:
        return [
            (9, 775, "ACME Widget Manual"),  # in the top margin of every page
            (11, 500, f"The widget answers questions from your documents ({number})."),
            (9, 30, f"Page {number}"),  # in the bottom margin
        ]

    first = [(18, 745, "Welcome"), *page(1)]  # a title set high on the first page only
    elements = await parser.parse(pdf_bytes([first, page(2), page(3)]), ct.PDF)

    assert "ACME Widget Manual" not in texts(elements)
    assert "Page" not in texts(elements)
    assert texts(elements).count("answers questions") == 3
    assert elements[0].text == "Welcome" and elements[0].page == 1


async def test_a_pdfs_headings_are_ranked_by_size_and_a_line_of_links_is_no_heading(
    parser: UnstructuredParser,
) -> None:
    # unstructured's title test refuses a line with a verb: "Lost access" and "Frequently
    # asked questions" were text, and the chunker's readers took them for terms.
    faq = pdf_bytes(
        [
            [
                (10, 760, "Home | Shop | FAQ | Contact"),
                (18, 720, "Frequently asked questions"),
                (14, 690, "Lost access"),
                (11, 660, "Use one of the ten recovery codes you saved when you turned it on."),
                (11, 630, "How long does delivery take?"),
                (11, 600, "Bikes are delivered within 5 to 7 working days."),
            ]
        ]
    )
    elements = await parser.parse(faq, ct.PDF)

    # A PDF marks no heading's depth: its titles are ranked by their type's size.
    assert [(e.text, e.kind, e.level) for e in elements] == [
        ("Home | Shop | FAQ | Contact", "text", None),
        ("Frequently asked questions", "title", 1),
        ("Lost access", "title", 2),
        ("Use one of the ten recovery codes you saved when you turned it on.", "text", None),
        # the chunker makes it its answer's heading
        ("How long does delivery take?", "text", None),
        ("Bikes are delivered within 5 to 7 working days.", "text", None),
    ]


async def test_a_pdfs_running_title_and_page_numbers_go_and_a_lead_in_is_no_heading(
    parser: UnstructuredParser,
) -> None:
    # A manual's running title, which unstructured took for a title on every page, cut
    # each page into a section of its own; "Syntax:" cut a command's entry in two.
    def page(number: int, command: str) -> list[tuple[int, int, str]]:
        return [
            (10, 736, "gnuplot 5.4"),  # in the top margin, on every page
            (12, 700, command),
            (11, 670, f"The {command.lower()} terminal writes a picture file."),
            (10, 640, "Syntax:"),
            (10, 620, f"set terminal {command.lower()} size 640,480"),
            (10, 40, str(270 + number)),  # in the bottom margin
        ]

    elements = await parser.parse(
        pdf_bytes([page(1, "Png"), page(2, "Jpeg"), page(3, "Svg")]), ct.PDF
    )

    assert "gnuplot 5.4" not in texts(elements)
    assert not any(e.text.isdigit() for e in elements)
    assert [e.text for e in elements if e.kind == "title"] == ["Png", "Jpeg", "Svg"]
    assert ("Syntax:", "text") in [(e.text, e.kind) for e in elements]


async def test_a_pdfs_ruled_table_is_read_cell_by_cell(parser: UnstructuredParser) -> None:
    # A price list printed to PDF came as a run of cells ("Model Capacity Price Kestrel 5
    # 1.2 litres 39 ...") with a row taken for a heading.
    rows = [
        ["Model", "Capacity", "Price"],
        ["Kestrel 5", "1.2 litres", "39 pounds"],
        ["Kestrel 9", "1.7 litres", "89 pounds"],
    ]
    pdf = pdf_with_a_ruled_table("Price list", rows, "All prices include VAT.")

    elements = await parser.parse(pdf, ct.PDF)

    assert [(e.text, e.kind) for e in elements] == [
        ("Price list", "title"),
        (
            "Model | Capacity | Price\nKestrel 5 | 1.2 litres | 39 pounds\n"
            "Kestrel 9 | 1.7 litres | 89 pounds",
            "text",
        ),
        ("All prices include VAT.", "text"),
    ]


async def test_docx_heading_levels_lists_and_tables_without_its_page_header(
    parser: UnstructuredParser,
) -> None:
    elements = await parser.parse(docx_bytes(), DOCX)

    assert titles(elements) == [
        ("Installation Guide", 1),
        ("Requirements", 2),
        ("Troubleshooting", 1),
    ]
    body = texts(elements)
    assert "A modern browser with JavaScript enabled" in body
    assert "Plan | Price\nFree | 0 USD" in body  # a row's cells stay together
    assert "ACME confidential" not in body


async def test_pptx_slides_are_pages_with_their_titles_and_notes(
    parser: UnstructuredParser,
) -> None:
    elements = await parser.parse(pptx_bytes(), ct.PPTX)

    assert [(e.text, e.level, e.page) for e in elements if e.kind == "title"] == [
        ("Quarterly results", 1, 1),
        ("Outlook", 1, 2),
    ]
    assert any(e.text.startswith("Revenue grew") and e.page == 1 for e in elements)
    assert any("new office" in e.text and e.page == 2 for e in elements)


async def test_html_headings_give_levels_and_scripts_give_nothing(
    parser: UnstructuredParser,
) -> None:
    elements = await parser.parse(HTML, ct.HTML)

    assert titles(elements) == [("Installation Guide", 1), ("Requirements", 2), ("Browsers", 3)]
    assert "Chrome, Firefox and Safari" in texts(elements)
    assert "tracking" not in texts(elements) and "color" not in texts(elements)


async def test_documentation_sites_heading_links_do_not_end_their_titles(
    parser: UnstructuredParser,
) -> None:
    """Sphinx and MkDocs put a permalink after each heading: `<a class="headerlink">¶</a>`."""
    page = """<html><head><title>Guide</title></head><body>
    <h1>Install guide<a class="headerlink" href="#a" title="Link to this heading">¶</a></h1>
    <h2 id="x">On Linux <a class="headerlink" href="#x">¶</a></h2>
    <p>Run the installer. It takes a minute or so, and then you are done with it.</p>
    </body></html>""".encode()

    elements = await parser.parse(page, ct.HTML)

    assert titles(elements) == [("Install guide", 1), ("On Linux", 2)]
    assert "¶" not in texts(elements)


async def test_spreadsheets_keep_each_row_on_its_line(parser: UnstructuredParser) -> None:
    [sheet] = await parser.parse(xlsx_bytes(), ct.XLSX)
    [table] = await parser.parse(b"plan,price\nfree,0\npaid,20\n", ct.CSV)

    assert sheet.text == "plan | price\nfree | 0\npaid | 20" and sheet.page == 1
    assert table.text == "plan | price\nfree | 0\npaid | 20"


async def test_legacy_text_encodings_are_read(parser: UnstructuredParser) -> None:
    page = await parser.parse(
        "<p>Crème brûlée is served at the café.</p>".encode("cp1252"), ct.HTML
    )
    [table] = await parser.parse("city,dish\nLyon,crème brûlée\n".encode("cp1252"), ct.CSV)

    assert texts(page) == "Crème brûlée is served at the café."
    assert "Lyon | crème brûlée" in table.text


# --- what it cannot read, it says why ---------------------------------------------------


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(TWO_PAGE_PDF)))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        pytest.param(TWO_PAGE_PDF[:300], ct.PDF, "damaged or truncated", id="truncated-pdf"),
        pytest.param(b"%PDF-1.7\n" + noise(4000), ct.PDF, "damaged", id="garbage-pdf"),
        pytest.param(encrypted_pdf(), ct.PDF, "password-protected", id="encrypted-pdf"),
        pytest.param(pdf_bytes([[(0, 0, "")]]), ct.PDF, "no text layer", id="pdf-without-text"),
        pytest.param(noise(5000), DOCX, "damaged", id="random-bytes-as-docx"),
        pytest.param(
            zip_bytes({"word/readme.txt": b"not a document"}),
            DOCX,
            "Word document (.docx) lacks a part every such file has",
            id="zip-without-document",
        ),
        pytest.param(
            zip_bytes({"[Content_Types].xml": b"<Types", "xl/workbook.xml": b"<broken"}),
            ct.XLSX,
            "not a valid Excel workbook (.xlsx)",
            id="broken-xlsx",
        ),
        pytest.param(
            b"<html><body><script>x()</script><div> </div></body></html>",
            ct.HTML,
            "HTML page contains no text",
            id="html-without-text",
        ),
    ],
)
async def test_unreadable_documents_fail_with_a_readable_reason(
    parser: UnstructuredParser, content: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(ParseError) as failed:
        await parser.parse(content, content_type)

    assert reason in failed.value.message
    assert "Traceback" not in failed.value.message and "\n" not in failed.value.message


async def test_a_pdf_over_the_page_limit_is_refused_before_it_is_parsed(
    parser: UnstructuredParser,
) -> None:
    strict = parser.with_limits(ParseLimits(max_pages=1))
    with pytest.raises(ParseError, match="the PDF has 2 pages, more than the limit of 1"):
        await strict.parse(TWO_PAGE_PDF, ct.PDF)


async def test_a_document_over_the_element_limit_is_refused(parser: UnstructuredParser) -> None:
    strict = parser.with_limits(ParseLimits(max_elements=3))
    with pytest.raises(ParseError, match="more than the limit of 3"):
        await strict.parse(HTML, ct.HTML)


# --- time, memory and the event loop ----------------------------------------------------


def long_page(paragraphs: int) -> bytes:
    """An HTML page whose paragraphs unstructured classifies one by one (~3 ms each)."""
    sentence = "The widget answers each question from the documents it was given, citing them."
    body = "".join(f"<p>{sentence} ({i})</p>" for i in range(paragraphs))
    return f"<html><body>{body}</body></html>".encode()


async def test_a_parse_past_its_time_is_killed_and_the_next_parse_works(
    parser: UnstructuredParser,
) -> None:
    hasty = parser.with_limits(ParseLimits(timeout_seconds=1))
    await parser.parse(HTML, ct.HTML)  # a child is up and warm
    started = time.monotonic()
    with pytest.raises(ParseError, match=r"parsing took longer than 1 s"):
        await hasty.parse(long_page(3000), ct.HTML)  # ~10 s of classification
    assert time.monotonic() - started < 5  # killed, not waited for

    elements = await parser.parse(HTML, ct.HTML)  # a new child, warmed up first
    assert titles(elements)[0] == ("Installation Guide", 1)


async def test_a_cancelled_parse_stops_its_child_and_the_next_parse_works(
    parser: UnstructuredParser,
) -> None:
    await parser.parse(HTML, ct.HTML)  # a child is up and warm
    before = {child.pid for child in multiprocessing.active_children()}
    parsing = asyncio.create_task(parser.parse(long_page(3000), ct.HTML))
    await asyncio.sleep(0.5)
    parsing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await parsing

    assert titles(await parser.parse(HTML, ct.HTML))[0] == ("Installation Guide", 1)
    assert not before & {child.pid for child in multiprocessing.active_children()}


async def test_the_event_loop_runs_on_while_a_document_parses(
    parser: UnstructuredParser,
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    await parser.parse(long_page(300), ct.HTML)
    elapsed = time.monotonic() - started
    ticker.cancel()

    assert elapsed > 0.3 and ticks >= elapsed / 0.01 * 0.5


# --- offline, and lazy ------------------------------------------------------------------

# Loaded by every Python process started with this PYTHONPATH, the pool's children too:
# a connection to anything but a local socket is recorded and refused.
NO_NETWORK = """
import os, socket
_log = os.environ["NETWORK_ATTEMPTS_LOG"]
def _refuse(*args, **kwargs):
    with open(_log, "a") as log:
        log.write(f"{os.getpid()} {[a for a in args if not isinstance(a, socket.socket)]}\\n")
    raise OSError("network disabled by the test")
_connect = socket.socket.connect
def _connect_local_only(self, address):
    if self.family == socket.AF_UNIX:
        return _connect(self, address)
    _refuse(self, address)
socket.socket.connect = _connect_local_only
socket.socket.connect_ex = _connect_local_only
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
"""

PARSE_ALL_THEN_CLOSE = """
import asyncio, multiprocessing, sys
sys.path.insert(0, {tests!r})
from tests.contract.test_unstructured_parser import HTML, MARKDOWN, TEXT, TWO_PAGE_PDF
from adapters.parsing import content_types as ct
from adapters.parsing.sample_documents import docx_bytes, pptx_bytes, xlsx_bytes
from adapters.parsing.parser_by_type import ParserByType

async def main():
    parser = ParserByType()
    for content, content_type in [
        (TWO_PAGE_PDF, ct.PDF), (docx_bytes(), ct.DOCX), (pptx_bytes(), ct.PPTX),
        (xlsx_bytes(), ct.XLSX), (HTML, ct.HTML), (MARKDOWN, ct.MARKDOWN), (TEXT, ct.PLAIN),
        (b"plan,price\\nfree,0\\n", ct.CSV),
    ]:
        elements = await parser.parse(content, content_type)
        print(content_type, len(elements), elements[0].text)
    parser.close()
    print("children left:", len(multiprocessing.active_children()))

asyncio.run(main())
"""


def test_parsing_needs_no_network(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(NO_NETWORK)
    attempts = tmp_path / "attempts.log"
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "NETWORK_ATTEMPTS_LOG": str(attempts),
        **{name: dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
        **{name.lower(): dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
        "NO_PROXY": "",
        "no_proxy": "",
    }
    script = PARSE_ALL_THEN_CLOSE.format(tests=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert not attempts.exists(), attempts.read_text()
    for content_type in ct.BINARY | ct.TEXT:
        assert f"{content_type} " in done.stdout
    assert "children left: 0" in done.stdout


def test_importing_and_constructing_the_parser_starts_nothing() -> None:
    script = textwrap.dedent(
        """
        import multiprocessing, sys
        from adapters.parsing.parser_by_type import ParserByType
        ParserByType()
        heavy = [m for m in ("unstructured", "spacy", "numpy", "pdfminer") if m in sys.modules]
        print("heavy:", heavy, "children:", len(multiprocessing.active_children()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "heavy: [] children: 0", done.stderr
