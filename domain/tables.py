"""A table as the parsers write one into a document's text: a line a row, cells split by
" | " (a CSV, a spreadsheet, an HTML or Markdown table), its first line the header."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Between a row's cells.
_CELL = re.compile(r"\s\|\s")


def row_text(cells: Iterable[str]) -> str:
    """A row as every parser writes it into a document's text (read back by `cells`)."""
    return " | ".join(cells)


def table_of(paragraph: str) -> tuple[str, list[str]] | None:
    """The header line and the rows, when every line of the paragraph has as many cells as
    the header (two at least) and there is a row; otherwise None."""
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    width = len(cells(lines[0]))
    if width < 2 or any(len(cells(line)) != width for line in lines):
        return None
    return lines[0], lines[1:]


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in _CELL.split(row)]
