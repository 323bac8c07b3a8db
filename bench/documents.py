"""Real text in every format the service parses: Cranfield abstracts (../shared/data or
CRANFIELD_DIR) laid out as PDF, DOCX, HTML, Markdown and plain-text documents.

Each abstract becomes a section: its title as a heading, its text as paragraphs; a PDF
has as many pages as its text needs.
"""

from __future__ import annotations

import io
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from adapters.parsing.sample_documents import pdf_bytes

CRANFIELD = Path(
    os.environ.get("CRANFIELD_DIR", Path(__file__).resolve().parents[2] / "shared/data/cranfield")
)
TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "md": "text/markdown",
    "txt": "text/plain",
}


@dataclass(frozen=True)
class Section:
    title: str
    text: str


@dataclass(frozen=True)
class Sample:
    name: str
    content_type: str
    content: bytes


def abstracts() -> list[Section]:
    raw = (CRANFIELD / "cran.all.1400").read_text(encoding="latin-1")
    sections = []
    for record in raw.split(".I ")[1:]:
        fields = dict(re.findall(r"^\.([TAWB])\n(.*?)(?=^\.[TAWB]\n|\Z)", record, re.M | re.S))
        title = " ".join(fields.get("T", "").split()).rstrip(" .")
        text = " ".join(fields.get("W", "").split())
        if title and text:
            sections.append(Section(title[:1].upper() + title[1:], text))
    return sections


def pdf(sections: list[Section]) -> bytes:
    """Headings at 13 pt, text wrapped at 10 pt, 52 lines of it to a US Letter page."""
    pages: list[list[tuple[int, int, str]]] = [[]]
    y = 740

    def line(text: str, size: int, gap: int) -> None:
        nonlocal y
        if y < 72:
            pages.append([])
            y = 740
        pages[-1].append((size, y, text))
        y -= gap

    for section in sections:
        y -= 8
        line(section.title[:80], 13, 20)
        for wrapped in textwrap.wrap(section.text, 95):
            line(wrapped, 10, 13)
    return pdf_bytes(pages)


def docx(sections: list[Section]) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    for section in sections:
        document.add_heading(section.title, level=1)
        document.add_paragraph(section.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def html(sections: list[Section]) -> bytes:
    from html import escape

    body = "".join(f"<h2>{escape(s.title)}</h2>\n<p>{escape(s.text)}</p>\n" for s in sections)
    head = "<!doctype html><html><head><title>Papers</title></head>"
    return f"{head}<body>\n{body}</body></html>".encode()


def markdown(sections: list[Section]) -> bytes:
    return "".join(f"## {s.title}\n\n{s.text}\n\n" for s in sections).encode()


def plain(sections: list[Section]) -> bytes:
    return "".join(f"{s.title.upper()}\n\n{s.text}\n\n" for s in sections).encode()


WRITERS = {"pdf": pdf, "docx": docx, "html": html, "md": markdown, "txt": plain}


def mixed_set(per_type: int, sections_per_document: int) -> list[Sample]:
    """per_type documents of every type, each of its own run of consecutive abstracts."""
    pool = abstracts()
    samples = []
    start = 0
    for number in range(per_type):
        for extension, write in WRITERS.items():
            sections = pool[start : start + sections_per_document]
            start += sections_per_document
            name = f"papers-{number:02d}.{extension}"
            samples.append(Sample(name, TYPES[extension], write(sections)))
    return samples
