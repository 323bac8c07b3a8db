"""Cutting parsed elements into token-bounded chunks that keep their headings."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from uuid import UUID

from domain.callouts import with_callouts_read
from domain.models import SECTION_SEPARATOR, Chunk, Element, without_nul
from domain.tables import cells, table_of

_CHUNK_NAMESPACE = uuid.UUID("6f1c1f9e-8d2a-4c55-9a53-3c1b6a0e2f11")
_WORD = re.compile(r"\S+")
_NAVIGATION = re.compile(r"(prev(ious)?|next|up|home|top|contents)?", re.I)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(\s|$)")
# A name line: a page's name, a dash, what it is for ("git-revert - Revert some existing
# commits", "VACUUM — garbage-collect and optionally analyze a database"), as manual pages
# and reference pages open.
_NAME_LINE = re.compile(r"^(?P<name>[^\s—–]+(?: [^\s—–]+){0,3}) [-—–] (?P<what>\S.*)$")
_NAME_LINE_MAX_WORDS = 24
# It stands among a page's first few elements (after its heading and navigation) or not at all.
_NAME_LINE_WITHIN = 6
# The sentence that opens the text after it (past a synopsis): a statement, not syntax.
_LEAD_WITHIN = 4
_LEAD_MIN_WORDS = 4
_LEAD_MAX_WORDS = 60
_FIRST_SENTENCE = re.compile(r"^[A-Za-z][^\n]*?[.!?](?=\s+[A-Z(\"']|$)")
_SYNTAX = re.compile(r"[\[\]{}<>|]")
# One sentence asking something: opening on a capital, no sentence ending before its
# question mark, three words at least ("%G?", a format's placeholder, asks nothing).
_QUESTION = re.compile(r"^[A-Z][^.!?]*\s\S+\s[^.!?]*\?[\"')\]]*$")
_QUESTION_MAX_WORDS = 20
# WordPiece splits English words into ~1.3 pieces on average; the embedder truncates
# at 256 pieces, so a 200-token budget keeps every chunk fully embedded.
_PIECES_PER_WORD = 1.3
# A definition-list term ("-d, --delete", "work_mem (integer)"), and how many in a row
# name one item.
_TERM_MAX_WORDS = 8
# A synopsis's brackets and bars ("ADD [ COLUMN ] [ IF NOT EXISTS ]") are no words of a term.
_SYNOPSIS_MARKS = frozenset({"[", "]", "{", "}", "|", "...", "…"})
_TERMS_CARRIED = 3
# A line of code names nothing that follows: a statement ("SELECT SUM(value) FROM mytab
# WHERE class = 2;"), a prompt's command ("$ git bisect run", "alice$ cd project"), a
# history graph ("I---X"). Read as terms, such lines opened every later chunk of their
# section, and the sources a model is handed quoted them for no reason.
_CODE_LINE = re.compile(r";$|^\S*[$#] |\s\$ |\S-{3,}\S")


def chunk_id(document_id: UUID, index: int, revision: int = 1) -> UUID:
    """Deterministic, so re-processing a document overwrites instead of duplicating; a new
    revision of its content gets new ids, so it can be staged beside the live one."""
    name = f"{document_id}:{index}" if revision == 1 else f"{document_id}@{revision}:{index}"
    return uuid.uuid5(_CHUNK_NAMESPACE, name)


def estimate_tokens(text: str) -> int:
    return round(len(_WORD.findall(text)) * _PIECES_PER_WORD)


class _Section:
    def __init__(self, headings: list[str], page: int | None) -> None:
        self.heading = SECTION_SEPARATOR.join(headings) if headings else None
        # The heading of a short section this one's first chunk opens with, if any.
        self.opening: str | None = None
        self.page = page
        self.paragraphs: list[str] = []


def _sections(elements: Sequence[Element]) -> Iterator[_Section]:
    """Paragraphs under their heading path ("Install › Linux"), so a cited chunk says where
    in the document it sits; a title of unknown depth starts a new path."""
    # The open headings with their depths: a page's headings may start at any depth (a
    # manual's page at h2, its sections at h3), so a heading closes those at its own depth
    # or deeper, not the path's first entries.
    open_headings: list[tuple[int, str]] = []
    current = _Section([], None)
    # A NUL extracted from a file is nothing its reader would miss, and could be stored
    # nowhere a chunk goes (its text becomes a source of answers kept in PostgreSQL).
    # A table of links to the pages beside this one ("Prev | Up | Next" over "UPDATE |
    # Home | VALUES") is furniture: kept, it lent its neighbours' names to a chunk.
    parts = [(e, t) for e in elements if (t := without_nul(e.text).strip()) and not _navigation(t)]
    for n, (element, text) in enumerate(parts):
        asks = element.kind != "title" and _heads_its_answer(text, parts[n + 1 : n + 2])
        if element.kind == "title" or asks:
            if current.paragraphs:
                yield current
            if asks:
                # Under the open path, beside the question before it.
                last = open_headings[-1] if open_headings else (0, "")
                depth = last[0] if _QUESTION.match(last[1]) else last[0] + 1
            else:
                depth = element.level if element.level and element.level > 0 else 1
            while open_headings and open_headings[-1][0] >= depth:
                open_headings.pop()
            open_headings.append((depth, text))
            current = _Section([heading for _, heading in open_headings], element.page)
            continue
        if current.page is None:
            current.page = element.page
        current.paragraphs.append(text)
    if current.paragraphs:
        yield current


def _heads_its_answer(text: str, following: Sequence[tuple[Element, str]]) -> bool:
    """An FAQ's question set as a paragraph of its own (a PDF's, a plain-text page's, a
    bold line's) heads the answer that follows it, as a question heading does in HTML:
    so the answer is cited and read under its question."""
    if not _QUESTION.match(text) or len(text.split()) > _QUESTION_MAX_WORDS or not following:
        return False
    after, after_text = following[0]
    return after.kind != "title" and not _QUESTION.match(after_text)


def _standalone(sections: Iterator[_Section], min_words: int) -> Iterator[_Section]:
    """Sections too short to stand alone and stating nothing open the next one: a heading
    over one line (a manual's NAME, a one-line SYNOPSIS) would be a chunk too small to rank
    or to answer, and the line is often what the page is about. The merged chunk is cited where it
    begins, by the short section's heading and page; the next section's later chunks
    keep their own heading."""
    carried: _Section | None = None
    # Held back one step: a document's last words, when they say nothing, close it.
    before: _Section | None = None
    for section in sections:
        if carried is not None:
            section.paragraphs = carried.paragraphs + section.paragraphs
            # Cited by the path that names both: a heading's short introduction opening
            # its first subsection is that subsection's ("Orders > Can I collect my
            # order?"), a sibling's is where it begins.
            if carried.opening or not _within(section.heading, carried.heading):
                section.opening = carried.opening or carried.heading
            section.page = carried.page if carried.page is not None else section.page
            carried = None
        if _says_nothing(section.paragraphs, min_words):
            carried = section
            continue
        if before is not None:
            yield before
        before = section
    if carried is not None and before is not None:
        # A manual's "SEE ALSO gitignore(5)" and "Part of the git(1) suite", a reference
        # page's "See Also" line: alone, they were a chunk that ranked by the page's summary
        # alone and was handed to the model (and shown the visitor) as a source.
        before.paragraphs.extend(carried.paragraphs)
    elif carried is not None:
        before = carried  # all the document says: kept, however little
    if before is not None:
        yield before


def _within(heading: str | None, outer: str | None) -> bool:
    return outer is None or bool(heading and heading.startswith(outer + SECTION_SEPARATOR))


def _says_nothing(paragraphs: Sequence[str], min_words: int) -> bool:
    """Short and without a sentence or a table: a name line, a synopsis, a label. A short
    section that states something ("Every kettle has a two-year warranty.", a price list's
    table of spare parts) answers on its own and keeps its own citation."""
    short = sum(len(p.split()) for p in paragraphs) < min_words
    return short and not any(_SENTENCE_END.search(p) or table_of(p) for p in paragraphs)


def _navigation(paragraph: str) -> bool:
    """A table of a page's links to the pages beside it: "Prev | Up | Next" over
    "CREATE CONVERSION | Home | CREATE DATABASE"."""
    table = table_of(paragraph)
    header = cells(table[0]) if table is not None else []
    return any(header) and all(_NAVIGATION.fullmatch(c) for c in header)


def summary_of(elements: Sequence[Element]) -> str | None:
    """What the document is about, when it opens with a name line: that line and the first
    sentence of the text after it ("Given one or more existing commits, apply the change
    each one introduces..."), the best statement of its subject, which a chunk deep in
    its options never repeats. A document without a name line has none."""
    opening = list(elements[: _NAME_LINE_WITHIN + _LEAD_WITHIN])
    for n, element in enumerate(opening[:_NAME_LINE_WITHIN]):
        line = " ".join(without_nul(element.text).split())
        if element.kind != "title" and _is_name_line(line):
            body = [e.text for e in opening[n + 1 : n + 1 + _LEAD_WITHIN] if e.kind != "title"]
            lead = _lead(body)
            return f"{line}\n{lead}" if lead else line
    return None


def subject_of(chunk: Chunk) -> str | None:
    """The name line of the chunk's document ("git-revert - Revert some existing
    commits"), when its summary opens with one; a section's opening sentence is none."""
    first = chunk.summary.partition("\n")[0] if chunk.summary else ""
    return first if _is_name_line(first) else None


def _is_name_line(line: str) -> bool:
    """A name, a dash and what it is ("git-revert - Revert some existing commits"), on one
    short line that is no sentence."""
    return name_line_shape(line) and not _SENTENCE_END.search(line)


def name_line_shape(line: str) -> bool:
    """A short line opening on a name of at most four words, a dash and what it is."""
    return len(line.split()) <= _NAME_LINE_MAX_WORDS and bool(_NAME_LINE.match(line))


def _lead(paragraphs: Sequence[str]) -> str | None:
    """The first sentence of prose among these paragraphs: not a synopsis, not a list."""
    for paragraph in paragraphs:
        text = " ".join(without_nul(paragraph).split())
        first = _FIRST_SENTENCE.match(text)
        if first is None:
            continue
        sentence = first.group(0).strip()
        words = sentence.split()
        if _LEAD_MIN_WORDS <= len(words) <= _LEAD_MAX_WORDS and not _SYNTAX.search(sentence):
            return sentence
    return None


def _windows(words: list[str], size: int, overlap: int) -> Iterator[list[str]]:
    step = max(1, size - overlap)
    for start in range(0, len(words), step):
        yield words[start : start + size]
        if start + size >= len(words):
            return


def _pack(paragraphs: list[str], max_words: int, overlap_words: int) -> Iterator[str]:
    """Whole paragraphs while they fit; a paragraph too long alone is windowed. A chunk
    that opens inside a description opens with the terms it describes."""
    buffer: list[str] = []
    size = 0
    for paragraph, described in zip(paragraphs, _described(paragraphs), strict=True):
        words = paragraph.split()
        if len(words) > max_words:
            terms = _trailing_terms(buffer)
            heads = terms or described
            if _words(heads) > max_words // 4:
                heads, terms = [], []  # a budget too small to repeat them in every window
            kept = buffer[: len(buffer) - len(terms)]
            if kept:
                yield "\n\n".join(kept)
            buffer, size = [], 0
            room = max_words - _words(heads)
            pieces = _table_windows(paragraph, room) or [
                " ".join(window) for window in _windows(words, room, overlap_words)
            ]
            yield from ("\n\n".join([*heads, piece]) for piece in pieces)
            continue
        if size + len(words) > max_words and buffer:
            # "--squash" and "--no-squash" over one description: cut after the first term,
            # the next chunk opened on "--no-squash" alone and the answer said that
            # "--no-squash" produces a squashed merge. Cut inside a description, the next
            # chunk said "The default value is 2.0" of no setting in particular.
            terms = _trailing_terms(buffer)
            if terms and len(buffer) > len(terms):
                yield "\n\n".join(buffer[: len(buffer) - len(terms)])
                buffer = terms
            else:
                yield "\n\n".join(buffer)
                tail = buffer[-1].split()[-overlap_words:] if overlap_words else []
                # The overlap read under its terms too: it says "The default value is
                # 2.0" as well.
                buffer = described + ([" ".join(tail)] if tail else [])
            size = _words(buffer)
        buffer.append(paragraph)
        size += len(words)
    if buffer:
        yield "\n\n".join(buffer)


def _described(paragraphs: list[str]) -> list[list[str]]:
    """For each paragraph, the definition-list terms it goes on describing ("work_mem
    (integer)" over the paragraphs until the next term), or none."""
    run: list[str] = []
    terms: list[str] = []
    found: list[list[str]] = []
    for paragraph in paragraphs:
        if _term(paragraph):
            run.append(paragraph)
            found.append([])
            continue
        if run:
            # "For example:" introduces; more terms in a row are a list's items.
            listed = len(run) > _TERMS_CARRIED or run[-1].rstrip().endswith(":")
            terms, run = ([] if listed else run), []
        found.append(terms)
    return found


def _trailing_terms(paragraphs: list[str]) -> list[str]:
    """The definition-list terms the paragraphs end on ("-q", "--quiet"): each one short
    line that is no sentence and no table. More in a row are a list's items, which stay
    with the line that introduces them."""
    n = len(paragraphs)
    while n > 0 and _term(paragraphs[n - 1]):
        n -= 1
    return paragraphs[n:] if len(paragraphs) - n <= _TERMS_CARRIED else []


def term_words(line: str) -> int:
    """How many words a definition-list term says, its synopsis's brackets not counted."""
    return sum(w not in _SYNOPSIS_MARKS for w in line.split())


def code_line(line: str) -> bool:
    """A statement, a prompt's command or a history graph: code, which is no term."""
    return bool(_CODE_LINE.search(line.strip()))


def _term(paragraph: str) -> bool:
    line = paragraph.strip()
    return (
        "\n" not in line
        and term_words(line) <= _TERM_MAX_WORDS
        and not _SENTENCE_END.search(line)
        and not code_line(line)
        and table_of(line) is None
    )


def _words(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def _closed(pieces: Iterator[str], min_words: int) -> list[str]:
    """The pieces of a section, the last joining the one before when it says nothing (a
    footer after a paragraph long enough to be windowed)."""
    packed = list(pieces)
    if len(packed) > 1 and _says_nothing(packed[-1].split("\n\n"), min_words):
        packed[-2:] = [f"{packed[-2]}\n\n{packed[-1]}"]
    return packed


def _table_windows(paragraph: str, max_words: int) -> list[str]:
    """A table too long for one chunk, cut between rows, each piece under the header row:
    a row read without its header ("Ghent | Pieter Claes") says nothing of what its cells
    are. None when the paragraph is no table or a row alone is too long."""
    table = table_of(paragraph)
    if table is None:
        return []
    header, rows = table
    budget = max_words - len(header.split())
    pieces: list[list[str]] = [[]]
    size = 0
    for row in rows:
        n = len(row.split())
        if n > budget:
            return []
        if size + n > budget and pieces[-1]:
            pieces.append([])
            size = 0
        pieces[-1].append(row)
        size += n
    return ["\n".join([header, *piece]) for piece in pieces]


def chunk_elements(
    elements: Sequence[Element],
    *,
    widget_id: UUID,
    document_id: UUID,
    document_title: str,
    revision: int = 1,
    source_url: str | None = None,
    max_tokens: int = 200,
    overlap_tokens: int = 30,
    min_section_tokens: int = 50,
) -> list[Chunk]:
    max_words = max(1, int(max_tokens / _PIECES_PER_WORD))
    overlap_words = min(max_words // 2, int(overlap_tokens / _PIECES_PER_WORD))
    min_words = min(max_words // 2, int(min_section_tokens / _PIECES_PER_WORD))
    elements = with_callouts_read(elements)
    summary = summary_of(elements)
    chunks: list[Chunk] = []
    for section in _standalone(_sections(elements), min_words):
        # A section's later chunks are read with the sentence it opens with: "A foreign key
        # constraint specifies..." defines what the chunks after it go on about.
        lead = _lead(section.paragraphs[:_LEAD_WITHIN]) if section.heading else None
        for n, text in enumerate(
            _closed(_pack(section.paragraphs, max_words, overlap_words), min_words)
        ):
            index = len(chunks)
            about = "\n".join(filter(None, (summary, lead if n > 0 else None))) or None
            chunks.append(
                Chunk(
                    id=chunk_id(document_id, index, revision),
                    widget_id=widget_id,
                    document_id=document_id,
                    index=index,
                    text=text,
                    title=document_title,
                    section=section.opening if n == 0 and section.opening else section.heading,
                    page=section.page,
                    url=source_url,
                    summary=about,
                )
            )
    return chunks
