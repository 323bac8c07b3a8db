"""A PDF's ruled tables, read cell by cell. Runs in the parser's child process.

unstructured's `fast` strategy reads a PDF's text layer line by line, so a price list's
table came out as a run of cells ("Model Capacity Price Warranty Kestrel 5 1.2 litres £39
Kestrel 7 ...") with rows taken for headings. pdfplumber finds a table by its ruling lines
and gives its cells; the table then reaches the chunker as the other parsers write one (a
row a line, cells split by " | "), where each row is read with its header. Finding tables
means laying the page out again, so only pages drawn with enough lines for a grid are read
(pdfium counts a page's paths in a fraction of a millisecond).
"""

from __future__ import annotations

import io
import time
from collections.abc import Collection
from dataclasses import dataclass

from domain.tables import row_text

# A ruled table of two rows and two columns is drawn with six lines at least (or a
# rectangle per cell); a page's frame or a rule under its header is not.
_MIN_PATHS = 6
# Laying pages out again costs ~45 ms a page: past this, the pages left keep the text
# unstructured read, so a long drawn document still parses within PARSE_TIMEOUT_SECONDS.
_BUDGET_SECONDS = 30.0


@dataclass(frozen=True)
class Table:
    page: int  # 1-based, as unstructured numbers pages
    # On the page, in points from its top-left corner, as unstructured's coordinates are.
    left: float
    top: float
    right: float
    bottom: float
    rows: tuple[tuple[str, ...], ...]

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def text(self) -> str:
        """A row a line, cells split by " | " (a bar inside a cell would split it)."""
        return "\n".join(row_text(cell.replace("|", "/") for cell in row) for row in self.rows)


def ruled_tables(content: bytes, read: Collection[int]) -> list[Table]:
    """The tables of at least two rows and two columns on the pages drawn with a grid's
    lines, among the pages `read` (those unstructured read text from: a table has text,
    and a page it could not read, such as one that inflates past the child's memory, is
    not opened again); none when the file defeats either reader (the text is read all
    the same)."""
    try:
        pages = _drawn_pages(content, read)
        if not pages:
            return []
        return _tables(content, pages)
    except Exception:  # a table is a refinement: a PDF pdfium or pdfplumber cannot read
        return []  # still gives its text through unstructured


def _drawn_pages(content: bytes, read: Collection[int]) -> list[int]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    document = pdfium.PdfDocument(content)
    try:
        drawn = []
        for number in sorted(n - 1 for n in read if 1 <= n <= len(document)):
            page = document[number]
            try:
                paths = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2)
                if sum(1 for _ in zip(range(_MIN_PATHS), paths, strict=False)) >= _MIN_PATHS:
                    drawn.append(number + 1)
            finally:
                page.close()
        return drawn
    finally:
        document.close()


def _tables(content: bytes, pages: list[int]) -> list[Table]:
    import pdfplumber

    found = []
    deadline = time.monotonic() + _BUDGET_SECONDS
    with pdfplumber.open(io.BytesIO(content), pages=pages) as pdf:
        for page in pdf.pages:
            if time.monotonic() > deadline:
                break
            for table in page.find_tables():
                rows = tuple(
                    tuple(" ".join((cell or "").split()) for cell in row) for row in table.extract()
                )
                rows = tuple(row for row in rows if any(row))
                if len(rows) >= 2 and min(len(row) for row in rows) >= 2:
                    left, top, right, bottom = table.bbox
                    found.append(Table(page.page_number, left, top, right, bottom, rows))
            page.close()
    return found
