"""What a document's compressed parts may inflate to, counted before anything inflates
them: an Office file's ZIP members (in the service's process) and a PDF's streams (in the
parser's child; called directly here)."""

from __future__ import annotations

import io
import zlib

import docx
import pytest

from adapters.parsing.archive_limits import check_archive
from adapters.parsing.pdf_limits import bomb_reason
from adapters.parsing.sample_documents import assemble_pdf, docx_bytes, pdf_bytes
from domain.errors import ParseError
from tests.support.bombs import flate_bomb_pdf, many_part_docx
from tests.support.documents import zip_bytes

LIMITS = {"max_unzipped_mb": 200, "max_ratio": 100}


def repetitive_docx(paragraphs: int) -> bytes:
    document = docx.Document()
    for _ in range(paragraphs):
        document.add_paragraph("Same paragraph text again and again.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_an_office_file_whose_small_parts_compress_very_well_is_accepted() -> None:
    # 3,000 identical paragraphs: document.xml deflates ~160:1 but weighs ~200 KB.
    check_archive(repetitive_docx(3000), **LIMITS)
    check_archive(docx_bytes(), **LIMITS)


def test_many_parts_under_a_megabyte_add_up_like_one_large_part() -> None:
    with pytest.raises(ParseError, match=r"190 parts inflate more than 100 times.*zip bomb"):
        check_archive(many_part_docx(), **LIMITS)


def test_one_part_over_the_ratio_is_refused_past_a_small_allowance() -> None:
    check_archive(zip_bytes({"word/pad.xml": bytes(900_000)}), **LIMITS)  # 0.9 MB: allowed
    with pytest.raises(ParseError, match=r"expands to more than 2 MB .*1 part inflates"):
        check_archive(zip_bytes({"word/pad.xml": bytes(3_000_000)}), **LIMITS)


def test_the_total_is_bounded_whatever_the_ratio() -> None:
    with pytest.raises(ParseError, match=r"more than 1 MB when unzipped \(2 MB declared\)"):
        check_archive(zip_bytes({"a.xml": bytes(2_500_000)}), max_unzipped_mb=1, max_ratio=10**6)


def flate_stream(data: bytes, extra: bytes = b"") -> bytes:
    deflated = zlib.compress(data)
    return b"<< /Length %d /Filter /FlateDecode%s >>\nstream\n%s\nendstream" % (
        len(deflated),
        extra,
        deflated,
    )


def pdf_with_streams(*streams: bytes) -> bytes:
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [] /Count 0 >>",
            *streams,
        ]
    )


def test_an_ordinary_pdf_passes() -> None:
    text = [(11, 700 - 14 * n, f"Line {n} of the manual.") for n in range(40)]
    assert bomb_reason(pdf_bytes([text] * 20), max_inflated_mb=200, max_ratio=100) is None


def test_a_flate_bomb_is_refused_without_being_inflated_whole() -> None:
    reason = bomb_reason(flate_bomb_pdf(), max_inflated_mb=200, max_ratio=100)
    assert reason == (
        "the PDF's content expands to more than 200 MB when inflated, over this service's limit"
    )


def test_many_small_streams_over_the_ratio_add_up() -> None:
    zeros = flate_stream(bytes(400_000))  # 400 KB from ~400 bytes, each
    reason = bomb_reason(pdf_with_streams(*[zeros] * 5), max_inflated_mb=200, max_ratio=100)
    # Counting stops at the stream that puts the file over: here the third.
    assert reason and "3 streams inflate more than 100 times" in reason and "flate bomb" in reason
    assert bomb_reason(pdf_with_streams(zeros), max_inflated_mb=200, max_ratio=100) is None


def test_images_are_not_counted_the_fast_strategy_never_decodes_them() -> None:
    image = flate_stream(bytes(5_000_000), b" /Type /XObject /Subtype /Image")
    assert bomb_reason(pdf_with_streams(image), max_inflated_mb=200, max_ratio=100) is None
    assert bomb_reason(pdf_with_streams(flate_stream(bytes(5_000_000))), max_inflated_mb=200,
                       max_ratio=100)  # fmt: skip
