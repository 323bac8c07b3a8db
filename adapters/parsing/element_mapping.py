"""unstructured's elements into the domain's: titles with their depth, text, pages.

Runs in the parser's child process, on objects unstructured made there.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from adapters.parsing import content_types as ct
from adapters.parsing.pdf_tables import Table
from adapters.parsing.plaintext import plausible_title, reads_like_title
from domain.models import Element
from domain.tables import row_text

# Layout furniture, not content: a running header repeats on every page and would end up
# in every chunk; page breaks carry no text.
_FURNITURE = frozenset({"Header", "Footer", "PageNumber", "PageBreak", "Image"})
_PAGE_NUMBER = re.compile(r"[-–\s]*(page\s*)?(\d+|[ivx]{1,6})(\s*(of|/)\s*\d+)?[-–\s]*", re.I)
_DIGITS = re.compile(r"\d+")
# A page's top and bottom margins, as a share of its height, where running headers sit.
_MARGIN = 0.1
# A title taller than this many times the document's typical title is a block of lines
# unstructured took for one (a table's rows, code): text, not a heading.
_ONE_LINE = 1.5
# Types without heading markup, whose titles unstructured guesses from a line's shape (plain
# text no longer goes through unstructured: adapters/parsing/plaintext.py reads it).
_GUESSED_TITLES = frozenset({ct.PDF})
# What unstructured sends to text from such a type although the line reads like a heading:
# its title test rejects a line with a verb ("Lost access", "Frequently asked questions").
# A PDF's line is read by its shape, as a plain-text page's is.
_TEXT_CATEGORIES = frozenset({"NarrativeText", "UncategorizedText"})
# A line of links ("Home | Shop | FAQ | Contact") or a footer's parts: no heading.
_SEPARATORS = re.compile(r"\s[|·•]\s")
# The link glyph documentation sites put after each heading and caption (Sphinx, MkDocs:
# <a class="headerlink">¶</a>), which would otherwise end every section name.
_PERMALINKS = "¶🔗 "


def _guessed(category: str, text: str) -> str:
    """A PDF's title or text, by the line's shape where unstructured guessed it."""
    if category == "Title" and (
        not plausible_title(text)
        or text.endswith(":")  # a lead-in ("Syntax:", "Examples:"), as in plain text
        or len(_SEPARATORS.findall(text)) >= 2
    ):
        return "NarrativeText"
    if category in _TEXT_CATEGORIES and reads_like_title(text) and not _SEPARATORS.search(text):
        return "Title"
    return category


def _normalized(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def _table_text(element: Any) -> str:
    """A table as one line per row, cells split by '|', so a row's values stay together in
    its chunk; unstructured's own text runs all cells into one line."""
    html = getattr(element.metadata, "text_as_html", None)
    if not html:
        return str(element.text)
    from lxml import html as lxml_html

    try:
        table = lxml_html.fromstring(html)
    except Exception:  # malformed markup: its flat text is still worth keeping
        return str(element.text)
    rows = []
    for row in table.iter("tr"):
        cells = [" ".join(cell.text_content().split()) for cell in row if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(row_text(cells))
    return "\n".join(rows) or str(element.text)


def _positional_furniture(elements: list[Any]) -> set[int]:
    """The PDF headers and footers to drop: what repeats across pages, or is a page number,
    in a page's top or bottom margin. unstructured calls a line there a header or footer by
    position alone, which would also drop a title set high on its page, and misses many (a
    manual's running title, which cut every page's text into a section of its own)."""
    margin = [e for e in elements if e.category in ("Header", "Footer") or _in_margin(e)]
    repeats = Counter(_normalized(e.text) for e in margin)
    return {
        id(e)
        for e in margin
        if repeats[_normalized(e.text)] > 1 or _PAGE_NUMBER.fullmatch(e.text.strip())
    }


def _in_margin(element: Any) -> bool:
    box = _box(element)
    if box is None:
        return False
    page_height = getattr(getattr(element.metadata.coordinates, "system", None), "height", 0)
    if not page_height:
        return False
    _, top, _, bottom = box
    return bottom < _MARGIN * page_height or top > (1 - _MARGIN) * page_height


def _box(element: Any) -> tuple[float, float, float, float] | None:
    """An element's box on its page (left, top, right, bottom, from the top-left corner),
    when unstructured measured it (it does for a PDF)."""
    points = getattr(getattr(element.metadata, "coordinates", None), "points", None)
    if not points:
        return None
    xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def to_domain(
    elements: Iterable[Any], content_type: str, tables: Sequence[Table] = ()
) -> list[Element]:
    """`tables`: a PDF's tables read cell by cell (adapters/parsing/pdf_tables.py); each
    stands, as one table element, where the first of the elements inside it stood."""
    from unstructured.partition.text import element_from_text

    elements = list(elements)
    furniture = _positional_furniture(elements) if content_type == ct.PDF else set()
    result: list[Element] = []
    heights: list[float | None] = []  # a PDF title's height on its page, for its depth
    placed: set[int] = set()
    for element in elements:
        category = element.category
        if id(element) in furniture:
            continue
        table = _table_of(element, tables)
        if table is not None:
            if id(table) not in placed:
                placed.add(id(table))
                result.append(Element(text=table.text(), page=table.page))
                heights.append(None)
            continue
        if category in ("Header", "Footer") and content_type == ct.PDF:
            # Kept: classify it as if it sat mid-page (title or text by its wording).
            category = element_from_text(element.text).category
        elif category in _FURNITURE:
            continue  # a DOCX's or HTML page's own header and footer parts
        if category == "Table":
            text = _table_text(element).strip()
        else:
            text = " ".join(str(element.text).split())  # pdfminer's line breaks, runs of spaces
        text = text.rstrip(_PERMALINKS)
        if not text:
            continue
        metadata = element.metadata
        page = metadata.page_number
        if content_type in _GUESSED_TITLES:
            category = _guessed(category, text)
        if category == "Title":
            depth = metadata.category_depth
            level = depth + 1 if depth is not None else None
            result.append(Element(text=text, kind="title", page=page, level=level))
            heights.append(_height(element) if content_type in _GUESSED_TITLES else None)
        else:
            result.append(Element(text=text, page=page))
            heights.append(None)
    return _levels_by_size(result, heights) if content_type in _GUESSED_TITLES else result


def _table_of(element: Any, tables: Sequence[Table]) -> Table | None:
    """The table the element's box is centred in, if any."""
    box = _box(element) if tables else None
    if box is None:
        return None
    left, top, right, bottom = box
    page = element.metadata.page_number
    x, y = (left + right) / 2, (top + bottom) / 2
    return next((t for t in tables if t.page == page and t.holds(x, y)), None)


def _height(element: Any) -> float | None:
    """The height of an element's box on its page: a one-line title's is its type's size."""
    box = _box(element)
    return box[3] - box[1] if box else None


def _levels_by_size(elements: list[Element], heights: list[float | None]) -> list[Element]:
    """A PDF's titles, depth by their type's size: the largest at 1, the next at 2 ("API >
    Rate limits" rather than "Rate limits"); unstructured gives no depth for a PDF. A
    "title" much taller than the document's typical one is several lines, which no heading
    is (a table's row, code): text. A title whose size is not known, or a document with
    titles of one size, keeps its depth unknown."""
    known = [h for h in heights if h]
    if not known:
        return elements
    tallest = _ONE_LINE * statistics.median(known)
    sizes = sorted({round(h) for h in known if h <= tallest}, reverse=True)
    rank = {size: n for n, size in enumerate(sizes, 1)} if len(sizes) > 1 else {}
    result = []
    for element, height in zip(elements, heights, strict=True):
        if element.kind != "title" or not height:
            result.append(element)
        elif height > tallest:
            result.append(Element(text=element.text, page=element.page))
        else:
            level = rank.get(round(height))
            result.append(Element(text=element.text, kind="title", page=element.page, level=level))
    return result
