"""A PDF's ruled tables, cell by cell; a refinement that never costs the document."""

from __future__ import annotations

import pytest

from adapters.parsing import pdf_tables
from adapters.parsing.pdf_tables import ruled_tables
from adapters.parsing.sample_documents import pdf_bytes
from tests.support.documents import pdf_with_a_ruled_table

ROWS = [["Part", "Price"], ["Limescale filter", "6 pounds"], ["Lid hinge", "12 pounds"]]


def test_a_ruled_table_gives_its_rows_and_where_it_stands() -> None:
    [table] = ruled_tables(pdf_with_a_ruled_table("Spare parts", ROWS, "Prices include VAT."), {1})

    assert table.page == 1
    assert table.rows == tuple(tuple(row) for row in ROWS)
    assert table.text() == "Part | Price\nLimescale filter | 6 pounds\nLid hinge | 12 pounds"
    assert table.holds(72 + 10, 792 - 690)  # inside its first row, from the page's top


def test_a_page_drawn_with_no_lines_is_not_laid_out_again() -> None:
    assert ruled_tables(pdf_bytes([[(12, 700, "Model Price Kestrel 5 39 pounds")]]), {1}) == []


def test_a_page_no_text_was_read_from_is_not_opened_again() -> None:
    # A page unstructured could not read (one that inflates past the child's memory gave
    # no element) made pdfium abort the child when it was opened.
    table = pdf_with_a_ruled_table("Spare parts", ROWS, "Prices include VAT.")

    assert ruled_tables(table, set()) == []


def test_a_file_neither_reader_can_read_gives_no_tables() -> None:
    assert ruled_tables(b"%PDF-1.4 this is no PDF", {1}) == []


def test_past_its_time_budget_the_pages_left_keep_their_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf_tables, "_BUDGET_SECONDS", -1.0)

    assert (
        ruled_tables(pdf_with_a_ruled_table("Spare parts", ROWS, "Prices include VAT."), {1}) == []
    )
