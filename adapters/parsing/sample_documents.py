"""Small real documents of the types the parser's child reads, made in memory.

Every new child parses one of each before its first document: unstructured's first parse
of a type pays for lazy imports, the spaCy pipeline's first run and numba's compilation
(seconds, for PDF), which would otherwise land on the first real document's clock. The
tests and benchmarks build their documents with the same functions, so no binary is
committed.
"""

from __future__ import annotations

import io

from adapters.parsing import content_types as ct

_SENTENCE = "The widget answers questions from the documents it was given."


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[list[tuple[int, int, str]]]) -> bytes:
    """A PDF whose pages hold (font size, baseline from the bottom, text) lines, in
    Helvetica on US Letter (an empty text draws a filled square instead); written by hand
    (no PDF writer ships with the service), with a correct cross-reference table."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        ops = [
            f"BT /F1 {size} Tf 72 {y} Td ({_pdf_text(text)}) Tj ET"
            if text
            else "72 72 100 100 re f"
            for size, y, text in lines
        ]
        stream = "\n".join(ops).encode("latin-1", "replace")
        bodies.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    return assemble_pdf(bodies)


def assemble_pdf(bodies: list[bytes]) -> bytes:
    """A PDF of these objects, numbered from 1 (the first is the catalog), with a correct
    cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def docx_bytes() -> bytes:
    """Headings of two levels, a list, a table and a page header."""
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "ACME confidential"
    document.add_heading("Installation Guide", level=1)
    document.add_paragraph("This guide explains how the widget is installed on a website.")
    document.add_heading("Requirements", level=2)
    document.add_paragraph("A modern browser with JavaScript enabled", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {
        (0, 0): "Plan",
        (0, 1): "Price",
        (1, 0): "Free",
        (1, 1): "0 USD",
    }.items():
        table.cell(row, col).text = text
    document.add_heading("Troubleshooting", level=1)
    document.add_paragraph("If the widget does not appear, check the allowed origins.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_bytes() -> bytes:
    """Two slides with titles and bodies, the second with speaker notes."""
    import pptx

    presentation = pptx.Presentation()
    for title, body, notes in [
        ("Quarterly results", "Revenue grew by ten percent in the third quarter.", None),
        ("Outlook", "We expect steady growth next year.", "Mention the new office."),
    ]:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    """One sheet, "Prices", of three rows."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Prices"
    for row in [("plan", "price"), ("free", 0), ("paid", 20)]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def warmup_samples() -> dict[str, bytes]:
    """One document of each type the child parses."""
    return {
        ct.PDF: pdf_bytes([[(18, 700, "Getting started"), (11, 660, _SENTENCE)]]),
        ct.DOCX: docx_bytes(),
        ct.PPTX: pptx_bytes(),
        ct.XLSX: xlsx_bytes(),
        ct.HTML: b"<html><body><h1>Getting started</h1><p>" + _SENTENCE.encode() + b"</p>",
        ct.CSV: b"plan,price\nfree,0\n",
    }
