"""Documents made to exhaust a parser, built in memory in a second or two (no binary is
committed): a PDF whose content stream inflates to a gigabyte, a .docx of many parts
that each stay under a megabyte, and large texts that differ from each other (the same
bytes twice would be one document)."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

from adapters.parsing.sample_documents import assemble_pdf, docx_bytes

_MB = 1024 * 1024
_LINE = b"BT /F1 12 Tf 72 700 Td (All work and no play makes a parser a dull parser.) Tj ET\n"


def flate_bomb_pdf(inflated_mb: int = 1024) -> bytes:
    """One page whose content stream inflates to `inflated_mb` MiB of text operators.

    The stream is one MiB of operators deflated once and repeated: after a full flush a
    deflate segment refers to nothing before it, so the copies decode one after the
    other (then an empty final block and the checksum of the whole)."""
    block = (_LINE * (_MB // len(_LINE) + 1))[:_MB]
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(inflated_mb):
        checksum = zlib.adler32(block, checksum)
    stream = b"\x78\x9c" + segment * inflated_mb + b"\x03\x00" + struct.pack(">I", checksum)
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        ]
    )


def many_part_docx(parts: int = 190, part_bytes: int = 990_000) -> bytes:
    """A real .docx plus `parts` header parts just under a megabyte each (188 MB in all),
    every one small enough to pass a ratio check that looks only at large parts."""
    run = b"<w:p><w:r><w:t>ACME confidential</w:t></w:r></w:p>"
    body = b'<w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    xml = body + run * ((part_bytes - len(body) - 8) // len(run)) + b"</w:hdr>"
    buffer = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        for number in range(parts):
            archive.writestr(f"word/header{number + 10}.xml", xml)
    return buffer.getvalue()


_WORDS = (
    "widget", "answers", "question", "document", "owner", "site", "visitor", "source", "chunk",
    "title", "section", "page", "parser", "memory", "limit", "child", "process", "token",
    "stream", "plan", "price", "order", "shipping", "return", "warranty", "store", "hours",
    "manager", "city", "script", "origin", "browser", "install", "guide", "support",
)  # fmt: skip


def big_text(seed: int, size: int = 20 * _MB) -> bytes:
    """`size` bytes of paragraphs of 100-200 seeded random words (a 20 MiB one has ~20,000
    paragraphs, within the parser's limit of parts); another seed, another text."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    total = 0
    while total < size:
        paragraph = " ".join(rng.choices(_WORDS, k=rng.randint(100, 200))).capitalize() + "."
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs).encode()[:size]


def big_csv(seed: int, size: int = 20 * _MB) -> bytes:
    """`size` bytes of CSV rows of seeded random values."""
    rng = random.Random(seed)
    rows = ["order,amount,city,manager"]
    total = 0
    while total < size:
        rows.append(
            f"{rng.randrange(10**6)},{rng.randrange(10**4)},"
            f"city{rng.randrange(999)},name{rng.randrange(9999)}"
        )
        total += len(rows[-1]) + 1
    return "\\n".join(rows).encode()
