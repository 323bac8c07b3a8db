"""Sources cut into whole sentences, each told apart as prose, a command or code, and the
lines no answer should quote (navigation, index tables, bare headings, cut fragments).

A sentence keeps what it is about when its own words do not say it: the term of the
definition-list item it describes ("work_mem (integer)" above "The default value is four
megabytes.", "--soft" above "Does not touch the index file...") and the first sentence of
its paragraph."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import NamedTuple

from domain.chunking import name_line_shape, term_words
from domain.prompts import PromptSource
from domain.stop_words import STOP_WORDS
from domain.tables import cells, table_of


class Kind(enum.Enum):
    PROSE = "prose"
    COMMAND = "command"  # a shell or SQL line to type
    CODE = "code"  # program source
    NOISE = "noise"  # never quoted


class Sentence(NamedTuple):
    text: str
    source: int  # the source's number, as cited
    order: int  # reading order over the whole prompt
    kind: Kind
    # The definition-list term the sentence describes ("--soft", "work_mem (integer)").
    label: str = ""
    # The first sentence of its paragraph, when it is not that sentence.
    topic: str = ""
    # The page's name line ("git-pull - Fetch from and integrate with another repository")
    # when the sentence is the one that follows it: the page's own statement of what its
    # subject does, which rarely names the subject ("Incorporates changes from a remote
    # repository into the current branch.").
    lead_of: str = ""
    # A table row's first cell: what the row is about ("Kestrel 9" in "Model: Kestrel 9;
    # Price: £89.").
    key: str = ""
    # It is what the sentence before it introduces ("To enable scaling log base 2 of the y
    # axis:" before "set logscale y 2").
    introduced: bool = False


# A sentence ends at . ! or ? before a space and what can open a sentence, with the quote or
# bracket it closes ("(Without --cached, ... index.)"); abbreviations and initials are
# joined back below.
_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[`<$]?[A-Z0-9-])")
_ABBREVIATION = re.compile(
    r"(\b(e\.g|i\.e|etc|vs|cf|al|approx|fig|no|vol|ch|sec)\.|\b[A-Z]\.)$", re.I
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_TERMINAL = re.compile(r"[.!?:][\"')\]]*$")
# Program source: definitions, imports, braces, statement ends, assignments, docstrings.
_CODE = re.compile(
    r"^(def|class|import|from \S+ import|return|function|var|let|const|#include|public|"
    r"private|static|if \(|for \(|while \()\b|[{};]\s*$|^\s*[{}]|\"\"\"|'''|=>|^\w+\s*=\s*\S|"
    r"^@\w+|\)\s*:\s*$"
)
# A line to type: a shell prompt, a command with options, or an SQL statement.
_COMMAND = re.compile(
    r"^(\$|#|%|=>|postgres=#)\s|^[a-z][\w.-]*(\s+\S+)*\s+--?[a-z]|"
    r"^(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|GRANT|REVOKE|VACUUM|ANALYZE|EXPLAIN|"
    r"REFRESH|TRUNCATE|COPY|BEGIN|COMMIT|SET|SHOW)\b.*;$"
)
_SEPARATORS = re.compile(r"[|»›·•]")
_NAVIGATION = re.compile(r"^(prev|next|up|home|top|previous|contents|table of contents)\b", re.I)
_SECTION_NUMBER = re.compile(r"(^|\s)\d+(\.\d+)+\.?(?=\s)")
_MIN_WORDS = 4
# A definition-list term is a short line: an option, a setting, a command form; a line
# naming a page and what it is for ("git-revert - Revert some existing commits") is not.
_LABEL_MAX_WORDS = 6
# ... nor a call with several arguments: a prototype above code ("int fwrite_matrix(file,m,
# nrl,nch)"), whose next lines are no description of it as a term's are.
_SIGNATURE = re.compile(r"\w\([^()]*,[^()]*\)")
# ... but a line of plain words under a term is its description, though it ends on no stop
# ("-a", "--annotate", "Make an unsigned, annotated tag object").
_DESCRIPTION = re.compile(r"[A-Z][a-z]+(?:,? [a-z][a-z'-]*| \([a-z][^()]*\)){2,}")
_NAME_LINE = re.compile(r"\s[-—–]\s")
# A line to type is one command: longer, or with several prompts, it is a flattened block.
_MAX_COMMAND_CHARS = 160
_PROMPT = re.compile(r"(^|\s)\$\s")
# A root prompt is a comment's mark too: a line opening on one and holding another is a
# flattened block of commented code ("# plot all values in row with index N # plot columns
# 3 to 7 for all rows"), where "$ git add . # stage it" is one command and its comment.
_ROOT_PROMPT = re.compile(r"(^|\s)#\s")
_PLACEHOLDER = re.compile(r"[\[<][^\]>]*[\]>]")
# A sentence introducing what follows it ("To enable scaling log base 2 of the y axis:"),
# and a line that may be what it introduces: a short line opening on a lower-case word,
# ending on no stop.
_ENDS_ON_COLON = re.compile(r":[\"')\]]*$")
_TYPED = re.compile(r"[a-z][\w.-]*(?: \S+){0,23}(?<![.!?:])")


def sentences(sources: tuple[PromptSource, ...]) -> list[Sentence]:
    """Every sentence of the sources in reading order, classified, with its context: what
    a source's document is for (its `about` lines) before its text."""
    found: list[Sentence] = []
    for source in sources:
        # Each line of what the document is for stands alone (a name line, a sentence).
        about = "\n\n".join(source.about.splitlines())
        name = _read(about, source.index, found, "", whole=True)
        _read(source.text, source.index, found, name, whole=False)
    return found


def _read(text: str, index: int, found: list[Sentence], name: str, *, whole: bool) -> str:
    """Appends the sentences of one text (`whole` when it cannot open mid-sentence);
    returns the name line still waiting for the sentence that follows it."""
    label, labels_open, first = "", False, not whole
    for paragraph in _paragraphs(text):
        rows = table_rows(paragraph)
        if rows:
            # A data table (a CSV, a price list) answers by its rows, each read with the
            # header above it: "city: Ghent; manager: Pieter Claes."
            for row, key in rows:
                found.append(Sentence(row, index, len(found), Kind.PROSE, key=key))
            first = False
            continue
        if _is_name_line(paragraph):
            name, first = paragraph.strip(), False  # a text opening with it opens whole
            continue
        texts = _split(paragraph)
        describes = labels_open and bool(_DESCRIPTION.fullmatch(paragraph.strip()))
        # A short line after a sentence introducing it ("To enable scaling log base 2 of
        # the y axis:") is what that sentence introduces, no term the next one describes;
        # one opening in lower case is a line to type ("set logscale y 2") though it has
        # no prompt, option or semicolon to tell it by.
        introduced = _introduced(found, index)
        typed = introduced and _TYPED.fullmatch(paragraph.strip()) is not None
        term = _is_label(paragraph) and not describes and not introduced
        if term:
            # Consecutive terms name one item ("-q", "--quiet"); a term after a
            # description starts the next item.
            label = f"{label}, {paragraph}" if labels_open else paragraph
            labels_open = True
        else:
            if labels_open and texts and classify(texts[0]) in (Kind.CODE, Kind.COMMAND):
                # Code under it: the "term" was a synopsis's first line ("set terminal
                # png" above its options), which the prose after it does not describe.
                label = ""
            labels_open = False
        for n, sentence in enumerate(texts):
            kind = Kind.PROSE if describes else classify(sentence)
            if typed and kind is Kind.NOISE:
                kind = Kind.CODE if len(_PLACEHOLDER.findall(sentence)) >= 2 else Kind.COMMAND
            # A chunk opening mid-sentence: the tail of the one before. Anywhere, one opening
            # on a function word ("will plot rows of the matrix, ...", after a flattened
            # example) is the tail of a sentence cut by what came before it; a command's
            # name ("psql is ...") opens a sentence in lower case.
            opening = _WORD.match(sentence) if kind is Kind.PROSE else None
            if opening and sentence[0].islower() and (first or opening[0] in STOP_WORDS):
                kind = Kind.NOISE
            # A chunk may open on the terms it describes, then on the overlap with the one
            # before: the text after them is the one that may open mid-sentence.
            first = first and term
            context = "" if labels_open or introduced else label
            topic = texts[0] if n > 0 else ""
            lead_of = name if kind is Kind.PROSE else ""
            if lead_of:
                name = ""
            found.append(
                Sentence(
                    sentence,
                    index,
                    len(found),
                    kind,
                    context,
                    topic,
                    lead_of,
                    introduced=introduced and n == 0,
                )
            )
    return name


def _introduced(found: list[Sentence], index: int) -> bool:
    """The last sentence read, of this source, is prose introducing what follows it."""
    last = found[-1] if found else None
    return (
        last is not None
        and last.source == index
        and last.kind is Kind.PROSE
        and _ENDS_ON_COLON.search(last.text) is not None
    )


def table_rows(paragraph: str) -> list[tuple[str, str]]:
    """A table's data rows, each as its cells after their column's header ("city: Ghent;
    manager: Pieter Claes.") with its first cell; none when the paragraph is no table."""
    table = table_of(paragraph)
    if table is None:
        return []
    header = cells(table[0])
    if not all(header):
        return []
    return [
        (
            "; ".join(f"{name}: {cell}" for name, cell in zip(header, row, strict=True) if cell)
            + ".",
            row[0],
        )
        for row in map(cells, table[1])
        if any(row)
    ]


def _is_name_line(paragraph: str) -> bool:
    """A page's name line: "git-pull - Fetch from and integrate with another repository"."""
    line = paragraph.strip()
    return "\n" not in line and name_line_shape(line) and not _TERMINAL.search(line)


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)", text) if p.strip()]


def _is_label(paragraph: str) -> bool:
    """A definition-list term: one short line that is no sentence."""
    line = paragraph.strip()
    return (
        "\n" not in line
        and term_words(line) <= _LABEL_MAX_WORDS
        and not _NAME_LINE.search(line)
        and not _TERMINAL.search(line)
        and not _NAVIGATION.match(line)
        and not _SECTION_NUMBER.search(line)  # a table of contents' entry
        and len(_SEPARATORS.findall(line)) < 2
        and not _SIGNATURE.search(line)
    )


def _split(paragraph: str) -> list[str]:
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    if not lines:
        return []
    # A block of lines to type stays line by line; prose lines are one paragraph.
    if len(lines) > 1 and sum(bool(_CODE.search(x) or _COMMAND.search(x)) for x in lines) > 1:
        return lines
    return list(_sentences(" ".join(line.lstrip("-*•> ").strip() for line in lines)))


def _sentences(paragraph: str) -> Iterator[str]:
    pending = ""
    for piece in _BREAK.split(paragraph):
        pending = f"{pending} {piece}".strip() if pending else piece.strip()
        if not _ABBREVIATION.search(pending):
            if pending:
                yield pending
            pending = ""
    if pending:
        yield pending


def symbolic(text: str) -> bool:
    """More symbols than words, as a reader counts them: an option's term and its
    description can read as code together ("--squash: ... --fixup=amend: or
    --fixup=reword: ...") when neither does alone."""
    return sum(not c.isalnum() and not c.isspace() for c in text) > len(text.split())


def classify(text: str) -> Kind:
    words = _WORD.findall(text)
    if _COMMAND.search(text):
        prompts = _ROOT_PROMPT if text.startswith("# ") else _PROMPT
        block = len(text) > _MAX_COMMAND_CHARS or len(prompts.findall(text)) > 1
        # A synopsis ("git switch [<options>] <branch>") shows a syntax, not a command.
        synopsis = len(_PLACEHOLDER.findall(text)) >= 2
        return Kind.CODE if block or synopsis else Kind.COMMAND
    if _CODE.search(text):
        return Kind.CODE
    symbols = sum(not c.isalnum() and not c.isspace() for c in text)
    if symbols > max(len(words), 3):
        return Kind.CODE
    if len(words) < _MIN_WORDS or not _TERMINAL.search(text):
        return Kind.NOISE  # a bare heading, a table cell, a sentence cut by the chunker
    if len(_SEPARATORS.findall(text)) >= 2 or _NAVIGATION.match(text):
        return Kind.NOISE
    if len(_SECTION_NUMBER.findall(text)) >= 2:
        return Kind.NOISE  # a table of contents: "5.3. Constraints 5.4. System Columns"
    return Kind.PROSE
