"""Plain text and Markdown into titled paragraphs, in the service's own process.

Reading them needs no layout analysis: blank lines, headings and list markers say where
a paragraph ends and what it is. Parsing them here keeps the parser's child process
(~0.5 GB, seconds to start) for the types that need it, so a service fed only text never
starts it. The work is a pass over the lines, linear in the text's size.

The elements are those the unstructured path gave these types: Markdown headings are
titles with their level, list items and code blocks are paragraphs of their own, a
table keeps each row on its line; in plain text a short line that reads like a heading
(few words, no closing punctuation, not lower case) is a title without a level.

The text is anyone's upload and this is the service's own process, so every pattern here
is linear in what it reads (none pairs an opening mark with a closing one anywhere
further on), lines are read one at a time, and a paragraph longer than _PIECE_CHARS is
given out as it is read, in pieces of at most that length cut at spaces: no step holds
the interpreter for long, and nothing needs memory per word or per line of the text
(the chunker cuts paragraphs far shorter anyway).
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Iterator
from itertools import islice

from adapters.parsing import content_types as ct
from adapters.parsing import sniffing
from domain.errors import ParseError, UnsupportedMediaTypeError
from domain.models import Element
from domain.tables import row_text

SUPPORTED = frozenset({ct.PLAIN, ct.MARKDOWN})
# Larger texts are parsed on a thread, so the event loop is not held for their pass.
_INLINE_BYTES = 64 * 1024


def decode_text(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")  # most non-UTF-8 text on the web
    except UnicodeDecodeError:
        return content.decode("latin-1")  # cp1252 leaves five bytes undefined


_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n(?:[ \t\r\f\v]*\n)+")  # two or more line ends: one blank line
_PIECE_CHARS = 4096


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _lines(text: str) -> Iterator[str]:
    """One at a time, never all at once (nor copied whole: io.StringIO would hold it at
    four bytes a character); call with \\r\\n and \\r made \\n."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield text[start:end]
        start = end + 1


def _one_line_end(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")  # the text itself if neither


def _pieces(text: str) -> Iterator[str]:
    """`text` with its whitespace flattened, in pieces of at most _PIECE_CHARS."""
    start = 0
    while start < len(text):
        end = start + _PIECE_CHARS
        if end < len(text):
            cut = text.rfind(" ", start + 1, end)
            end = cut if cut > start else end
        piece = _flat(text[start:end])
        if piece:
            yield piece
        start = end


class _Block:
    """The lines of the block being read. Past twice _PIECE_CHARS all but its last piece
    go out at once (`spill`), so a block of any length holds a few KB."""

    def __init__(self, spill: Callable[[str], None]) -> None:
        self._spill = spill
        self.lines: list[str] = []
        self.spilled = False
        self._size = 0

    def __bool__(self) -> bool:
        return bool(self.lines)

    def append(self, line: str) -> None:
        self.lines.append(line)
        self._size += len(line)
        if self._size > 2 * _PIECE_CHARS:
            *done, rest = list(_pieces(" ".join(self.lines))) or [""]
            for piece in done:
                self._spill(piece)
            self.lines, self._size, self.spilled = [rest], len(rest), True

    def pop(self) -> str:
        line = self.lines.pop()
        self._size -= len(line)
        return line

    def take(self) -> tuple[str, bool]:
        """The block's text (its lines joined) and whether part of it went out already."""
        taken = " ".join(self.lines), self.spilled
        self.lines, self._size, self.spilled = [], 0, False
        return taken


class _Elements(list[Element]):
    """Refuses the document as soon as it has too many, rather than after reading it all."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit

    def add(self, element: Element) -> None:
        if len(self) >= self._limit:
            raise ParseError(
                f"the document has more than {self._limit} parts (paragraphs, titles, rows), "
                "the limit"
            )
        self.append(element)


# --- titles -----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_MAX_TITLE_WORDS = 12
_MAX_TITLE_CHARS = 200


# Words a sentence cannot stop on: a line ending on one is a sentence cut at a line's end
# ("A simple graph can be formatted using", above the example it introduces).
_DANGLING = frozenset(
    {
        *("a", "an", "the", "its", "their", "your", "our"),
        *("of", "to", "for", "with", "by", "from", "into", "as", "using", "than"),
        *("and", "or", "but", "nor", "that", "which", "whose"),
        *("is", "are", "was", "were", "be"),
    }
)


def plausible_title(text: str) -> bool:
    """A heading does not end a sentence, nor start in lower case ("Thanks for reading.",
    "same paragraph." from a broken line are no titles), nor stop on a word that needs
    another after it; and it has a word (a letter alone is a formula's)."""
    first_letter = next((c for c in text if c.isalpha()), "")
    words = text.split()
    return (
        not _SENTENCE_END.search(text)
        and not first_letter.islower()
        and (not words or words[-1].lower() not in _DANGLING)
        and sum(c.isalpha() for c in text) >= 2
    )


def reads_like_title(text: str) -> bool:
    """unstructured's test for a title, less its verb check (a tagger's work): at most 12
    words, mostly letters, not a number, not ending in a comma (nor a colon: a lead-in),
    one sentence."""
    if len(text) > _MAX_TITLE_CHARS or text.count(" ") >= _MAX_TITLE_WORDS:
        return False
    if text.endswith((",", ":", ";")) or text.isnumeric():
        return False
    visible = [c for c in text if not c.isspace()]
    if sum(c.isalpha() for c in visible) < len(visible) / 2:
        return False
    long_sentences = [s for s in _SENTENCES.split(text) if len(s.split()) >= 5]
    return len(long_sentences) <= 1 and plausible_title(text)


# --- plain text -------------------------------------------------------------------------

# The glyphs unstructured takes for bullets; a dash or an asterisk only when a space
# follows it (else it is a sign, or emphasis).
_BULLET = re.compile(
    "^\\s*(?:[\u2022\u2023\u2043\u204c\u204d\u2219\u25cb\u25cf\u25d8\u25e6\u2619\u2765\u2767"
    "\u29be\u29bf\u0095\u00b7]|[-\u2013*](?=\\s))\\s*"
)
_UNDERLINE = re.compile(r"^[ \t]*([=\-_*~#])\1{2,}[ \t]*$")
# Fewer blank lines than this among the first lines: every line is its own paragraph.
_BLANK_LINE_SHARE = 0.1
_SAMPLE_LINES = 2000


def plain_elements(text: str, max_elements: int) -> list[Element]:
    elements = _Elements(max_elements)
    bulleted = False

    def add(piece: str, title_allowed: bool = False) -> None:
        title = title_allowed and not bulleted and reads_like_title(piece)
        elements.add(Element(text=piece, kind="title" if title else "text"))

    def close() -> None:
        text, spilled = item.take()
        pieces = list(_pieces(text))
        for piece in pieces:
            add(piece, title_allowed=len(pieces) == 1 and not spilled)

    item = _Block(add)
    sample = list(islice(_lines(text), _SAMPLE_LINES))
    line_per_paragraph = sum(not line.strip() for line in sample) < _BLANK_LINE_SHARE * len(sample)
    for line in _lines(_BLANK_LINES.sub("\n\n", text)):
        first = line.lstrip()[:1]
        if not first or (not first.isalnum() and _UNDERLINE.match(line)):  # "===" ends it
            close()
            continue
        bullet = None if first.isalnum() else _BULLET.match(line)
        if bullet and line[bullet.end() :].strip():  # a list item starts
            close()
            bulleted = True
            item.append(line[bullet.end() :])
            continue
        if line_per_paragraph:
            close()
        if not item:
            bulleted = False
        item.append(line)
    close()
    return elements


# --- Markdown ---------------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?=\S)")
_QUOTES = re.compile(r"^(?: {0,3}>[ \t]?)+")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\[\]]{1,999}\]:[ \t]*\S")

# Inline marks. Each scan stops at the next character that could open another mark, so
# no character is read from more than one starting point.
_COMMENT = re.compile(r"<!--(?:[^<-]|-(?!->))*-->")
_LINK = re.compile(r"!?\[([^\[\]]*)\](?:\([^()\s]*(?:\s+\"[^\"()]*\")?\)|\[[^\[\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+|[^<>\s@]+@[^<>\s@]+)>")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
# Emphasis and strike-through marks where they open (after a space or an opening
# bracket, before a letter) or close a span; not inside a word ("snake_case") nor alone
# ("2 * 3").
_MARK = re.compile(
    r"(?<![^\s(\[\"'])(?:\*{1,3}|_{1,3}|~~)(?=[^\s*_~])"
    r"|(?<=[^\s*_~])(?:\*{1,3}|_{1,3}|~~)(?![^\s)\].,;:!?\"'])"
)
# A code span: a run of backticks, text without one, and a run of as many (a span holding
# a backtick, "``a ` b``", is read as prose: the scan stays linear on hostile input).
_CODE_SPAN = re.compile(r"(?<!`)(`{1,3})(?!`)([^`]+)\1(?!`)")
# An escaped mark ("\\*") is set aside as a private-use character until the marks are gone.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SET_ASIDE = 0xE000
_RESTORE = {_SET_ASIDE + code: code for code in range(0x21, 0x7F)}


def _set_aside(match: re.Match[str]) -> str:
    return chr(_SET_ASIDE + ord(match.group(1)))


def _inline(text: str) -> str:
    # A code span is literal ("`Authorization: Bearer <token>`", "`*args`"): no tag, mark,
    # escape or entity inside it is markup.
    pieces, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        pieces += [_marked_up(text[last : span.start()]), span.group(2)]
        last = span.end()
    pieces.append(_marked_up(text[last:]))
    return _flat("".join(pieces))


def _marked_up(text: str) -> str:
    text = _ESCAPE.sub(_set_aside, text)
    text = _AUTOLINK.sub(r"\1", _LINK.sub(r"\1", _COMMENT.sub("", text)))
    text = _MARK.sub("", _TAG.sub("", text)).replace("`", "")
    return html.unescape(text.translate(_RESTORE))


def _row(line: str) -> str:
    cells = line.strip().removeprefix("|").removesuffix("|").split("|")
    return row_text(_inline(cell) for cell in cells)


def _heading_text(rest: str) -> str:
    """An ATX heading's text: without its closing run of #s, if a space precedes it."""
    text = rest.strip()
    unclosed = text.rstrip("#")
    if not unclosed or unclosed[-1] in " \t":
        text = unclosed.strip()
    return text


def _front_matter_lines(text: str) -> int:
    """How many lines a YAML front matter block (Jekyll, Hugo) takes at the top, else 0."""
    head = list(islice(_lines(text), 100))
    if not head or head[0].strip() != "---":
        return 0
    for number, line in enumerate(head[1:], start=1):
        if line.strip() in ("---", "..."):
            return number + 1
    return 0


class _MarkdownBlocks:
    """The state of one pass over a Markdown text's lines."""

    def __init__(self, max_elements: int) -> None:
        self.elements = _Elements(max_elements)
        self.lines = _Block(lambda piece: self.add(_inline(piece)))  # paragraph or item
        self.item = False  # the open block is a list item
        self.table: list[str] = []  # rows, given out a few KB at a time
        self.table_size = 0
        self.fence = ""  # the marker of the open code block
        self.code = _Block(self.add)

    def add(self, text: str, *, level: int | None = None) -> None:
        if text:
            kind = "title" if level else "text"
            self.elements.add(Element(text=text, kind=kind, level=level))

    def add_table(self) -> None:
        rows = [_row(row) for row in self.table]
        self.add("\n".join(row for row in rows if row.strip(" |")))
        self.table, self.table_size = [], 0

    def add_row(self, row: str) -> None:
        self.table.append(row)
        self.table_size += len(row)
        if self.table_size > 2 * _PIECE_CHARS:
            self.add_table()

    def close(self) -> None:
        if self.lines:
            for piece in _pieces(self.lines.take()[0]):
                self.add(_inline(piece))
        if self.table:
            self.add_table()
        self.item = False

    def line(self, line: str) -> None:
        first = line.lstrip()[:1]
        if first.isalpha() and not self.fence and not self.table and "|" not in line:
            self.lines.append(line.strip())  # text going on: most lines, and the quickest
            return
        if first == ">" and (quotes := _QUOTES.match(line)):
            line = line[quotes.end() :]
        if self.fence:
            closing = line.strip()
            if closing.startswith(self.fence) and not closing.strip(self.fence[0]):
                for piece in _pieces(self.code.take()[0]):
                    self.add(piece)
                self.fence = ""
            else:
                self.code.append(line)
            return
        if not line.strip():
            self.close()
            return
        if len(line) > _PIECE_CHARS:  # no heading, rule or table row is this long
            if self.table:
                self.close()
            self.lines.append(line)
            return
        if fence := _FENCE.match(line):
            self.close()
            self.fence = fence.group(1)
            return
        if self.table:
            if "|" in line:
                self.add_row(line)
                return
            self.close()
        if heading := _ATX.match(line):
            self.close()
            self.add(_inline(_heading_text(line[heading.end() :])), level=len(heading.group(1)))
            return
        heading_above = self.lines and not self.item and not self.lines.spilled
        if heading_above and (underline := _SETEXT.match(line)):
            self.add(_inline(self.lines.take()[0]), level=1 if underline[1][0] == "=" else 2)
            return
        if _RULE.match(line):
            self.close()
            return
        if self.lines and "|" in self.lines.lines[-1] and "|" in line and _TABLE_RULE.match(line):
            header = self.lines.pop()  # a table may interrupt a paragraph
            self.close()
            self.add_row(header)
            return
        if item := _LIST_ITEM.match(line):
            self.close()
            self.lines.append(line[item.end() :])
            self.item = True
            return
        if not self.lines and _LINK_DEFINITION.match(line):
            return
        self.lines.append(line.strip())

    def end(self) -> list[Element]:
        if self.fence:  # a code block left open runs to the end, as in CommonMark
            for piece in _pieces(self.code.take()[0]):
                self.add(piece)
        self.close()
        return self.elements


def markdown_elements(text: str, max_elements: int) -> list[Element]:
    blocks = _MarkdownBlocks(max_elements)
    # Blank lines in a row are one; inside a code block they are flattened away anyway.
    text = _BLANK_LINES.sub("\n\n", text)
    for line in islice(_lines(text), _front_matter_lines(text), None):
        blocks.line(line)
    return blocks.end()


# --- the parser -------------------------------------------------------------------------


class PlainTextParser:
    """Plain text and Markdown only. The service reaches it through ParserByType; the
    test fakes use it alone, as their whole DocumentParser."""

    def __init__(self, *, max_elements: int = 50_000) -> None:
        self._max_elements = max_elements

    def identify(self, content: bytes, declared: str) -> str:
        content_type = sniffing.identify(content, declared)
        if content_type not in SUPPORTED:
            raise UnsupportedMediaTypeError(
                f"{ct.a_label(content_type)} cannot be read here: plain text and Markdown only",
                details={"declared": declared, "detected": content_type},
            )
        return content_type

    async def parse(self, content: bytes, content_type: str) -> list[Element]:
        if len(content) > _INLINE_BYTES:
            return await asyncio.to_thread(self.elements, content, content_type)
        return self.elements(content, content_type)

    def elements(self, content: bytes, content_type: str) -> list[Element]:
        content_type = ct.normalize(content_type)
        if content_type not in SUPPORTED:
            raise ParseError(f"documents of type {content_type!r} cannot be parsed here")
        if not sniffing.is_text(content[:8192]):
            raise ParseError("the file looks binary, not text")
        read = markdown_elements if content_type == ct.MARKDOWN else plain_elements
        elements = read(_one_line_end(decode_text(content)), self._max_elements)
        if not elements:
            raise ParseError(f"the {ct.label(content_type)} contains no text")
        return list(elements)
