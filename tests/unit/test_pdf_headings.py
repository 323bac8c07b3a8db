"""A PDF's titles by their size: unstructured gives a PDF's titles no depth, and takes a
block of lines (a table's rows, code) for a title when it reads like one."""

from __future__ import annotations

from types import SimpleNamespace

from adapters.parsing.element_mapping import _levels_by_size, _positional_furniture
from domain.models import Element


def title(text: str) -> Element:
    return Element(text=text, kind="title", page=1)


def text(words: str) -> Element:
    return Element(text=words, page=1)


def test_titles_are_ranked_by_size_largest_first() -> None:
    elements = [title("API"), title("Tokens"), text("Create a token."), title("Rate limits")]

    ranked = _levels_by_size(elements, [24.0, 18.0, None, 18.2])

    assert [(e.text, e.kind, e.level) for e in ranked] == [
        ("API", "title", 1),
        ("Tokens", "title", 2),
        ("Create a token.", "text", None),
        ("Rate limits", "title", 2),  # within a point of "Tokens": one size
    ]


def test_a_title_of_several_lines_is_text_and_opens_no_path() -> None:
    # A gnuplot manual's function table came as a 96-point-high "title" and became the
    # parent of every heading after it.
    elements = [title("Fit"), title("Function abs(x) acos(x) acosh(x)"), title("Tips")]

    ranked = _levels_by_size(elements, [14.3, 95.9, 12.0])

    assert [(e.text, e.kind, e.level) for e in ranked] == [
        ("Fit", "title", 1),
        ("Function abs(x) acos(x) acosh(x)", "text", None),
        ("Tips", "title", 2),
    ]


def test_titles_of_one_size_or_of_unknown_size_keep_an_unknown_depth() -> None:
    same = _levels_by_size([title("Returns"), title("Shipping")], [18.0, 18.0])
    unknown = _levels_by_size([title("Returns"), text("Thirty days.")], [None, None])

    assert [e.level for e in same] == [None, None]
    assert [e.level for e in unknown] == [None, None]


def line(text: str, top: float, category: str = "Title") -> SimpleNamespace:
    """An unstructured element as the PDF partitioner gives it: its box from the page's top."""
    box = [(72.0, top), (72.0, top + 10), (300.0, top + 10), (300.0, top)]
    system = SimpleNamespace(height=792.0)
    metadata = SimpleNamespace(coordinates=SimpleNamespace(points=box, system=system))
    return SimpleNamespace(category=category, text=text, metadata=metadata)


def test_what_repeats_in_a_pages_margin_is_furniture_whatever_its_category() -> None:
    # gnuplot's manual: its running title a "Title" on each of 311 pages, its page numbers
    # "UncategorizedText"; neither a "Header".
    running = [line("gnuplot 5.4", 56) for _ in range(3)]
    numbers = [line("271", 56, "UncategorizedText"), line("272", 760, "UncategorizedText")]
    welcome = line("Welcome", 40)  # set high on its page, once
    syntax = [line("Syntax:", 391) for _ in range(3)]  # repeated, but mid-page

    dropped = _positional_furniture([*running, *numbers, welcome, *syntax])

    assert dropped == {id(e) for e in (*running, *numbers)}
