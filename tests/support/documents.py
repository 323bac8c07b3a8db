"""Office, PDF and archive files made in memory, for tests and benchmarks that need real
documents of every type without committing binaries."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx

from adapters.parsing.warmup_samples import pdf_bytes

__all__ = ["docx_bytes", "pdf_bytes", "pptx_bytes", "with_zero_part", "xlsx_bytes", "zip_bytes"]


def docx_bytes() -> bytes:
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
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Prices"
    for row in [("plan", "price"), ("free", 0), ("paid", 20)]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_zero_part(office: bytes, name: str, megabytes: int) -> bytes:
    """The Office file plus one part of zeros, streamed: it deflates ~1000 to 1."""
    buffer = io.BytesIO(office)
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as part,
    ):
        for _ in range(megabytes):
            part.write(bytes(1024 * 1024))
    return buffer.getvalue()
