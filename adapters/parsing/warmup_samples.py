"""One tiny document of each type, parsed once by every new child process.

unstructured's first parse of a type pays for lazy imports, the spaCy pipeline's first
run and numba's compilation (seconds, for PDF); paying it at the child's start keeps it
off the clock of the first real document and off its time limit.
"""

from __future__ import annotations

import io

from adapters.parsing import content_types as ct

_SENTENCE = "The widget answers questions from the documents it was given."


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[list[tuple[int, int, str]]]) -> bytes:
    """A PDF whose pages hold (font size, baseline from the bottom, text) lines, in
    Helvetica on US Letter; written by hand (no PDF writer ships with the service), with
    a correct cross-reference table. The tests build their PDFs with it too."""
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


def _pdf() -> bytes:
    return pdf_bytes([[(18, 700, "Getting started"), (11, 660, _SENTENCE)]])


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Getting started", level=1)
    document.add_paragraph(_SENTENCE)
    document.add_table(rows=1, cols=2).cell(0, 0).text = "Plan"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pptx() -> bytes:
    import pptx

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Getting started"
    slide.placeholders[1].text = _SENTENCE
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["plan", "price"])
    sheet.append(["free", 0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def samples() -> dict[str, bytes]:
    text = f"Getting started\n\n{_SENTENCE}\n".encode()
    return {
        ct.PDF: _pdf(),
        ct.DOCX: _docx(),
        ct.PPTX: _pptx(),
        ct.XLSX: _xlsx(),
        ct.HTML: b"<html><body><h1>Getting started</h1><p>" + _SENTENCE.encode() + b"</p>",
        ct.MARKDOWN: b"# Getting started\n\n" + _SENTENCE.encode() + b"\n",
        ct.PLAIN: text,
        ct.CSV: b"plan,price\nfree,0\n",
    }
