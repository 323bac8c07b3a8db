"""Archives made in memory for tests that need damaged or inflating Office files; real
documents of every type come from adapters/parsing/sample_documents.py, which the
parser's child uses too."""

from __future__ import annotations

import io
import zipfile

from adapters.parsing.sample_documents import assemble_pdf


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


def pdf_with_a_ruled_table(heading: str, rows: list[list[str]], after: str) -> bytes:
    """One US Letter page: a heading, a table drawn with a rectangle round each cell (as a
    browser prints one), and a line of text under it."""
    width, height, left, top = 150, 20, 72, 680
    ops = [f"BT /F1 16 Tf {left} 720 Td ({heading}) Tj ET"]
    for r, row in enumerate(rows):
        y = top - r * height
        for c, cell in enumerate(row):
            x = left + c * width
            ops.append(f"{x} {y} {width} {height} re S")
            ops.append(f"BT /F1 10 Tf {x + 4} {y + 6} Td ({cell}) Tj ET")
    ops.append(f"BT /F1 11 Tf {left} {top - len(rows) * height - 30} Td ({after}) Tj ET")
    stream = "\n".join(ops).encode("latin-1")
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            b"<< /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        ]
    )
