"""A document a site owner feeds a widget, its parsed pieces and its chunks."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from uuid import UUID

import msgspec

# The files the service takes (its routes and parser), by their extensions.
DOCUMENT_EXTENSIONS = (
    ".pdf",
    ".docx",
    ".html",
    ".htm",
    ".md",
    ".markdown",
    ".txt",
    ".pptx",
    ".xlsx",
    ".csv",
)
# A title that is only the file a document came in (what a title falls back to when its
# owner gave none and the document holds none).
_FILE_NAME = re.compile(
    r"(?P<stem>.+)(?:" + "|".join(re.escape(e) for e in DOCUMENT_EXTENSIONS) + ")",
    re.IGNORECASE,
)
_NAME_SEPARATORS = re.compile(r"[\s_.-]+")


def searchable_title(title: str) -> str:
    """A title as search reads it: a file name without its extension, its separators read
    as spaces ("security.docx" is "security", "q3_price-list.pdf" is "q3 price list"). The
    extension says nothing of what the document is about, yet the embedder reads it with
    every chunk: "Where is my data stored?" met the same section at a cosine of 0.33 from
    "security.md" and 0.27 from "security.docx", under the relevance floor's 0.3."""
    found = _FILE_NAME.fullmatch(title.strip())
    if found is None:
        return title
    return _NAME_SEPARATORS.sub(" ", found["stem"]).strip() or title


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Stage(enum.StrEnum):
    PARSING = "parsing"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    INDEXING = "indexing"


class Progress(msgspec.Struct, frozen=True):
    done: int = 0
    total: int = 0


class Document(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    widget_id: UUID
    title: str
    content_type: str
    size_bytes: int
    sha256: str
    source_url: str | None = None
    revision: int = 1  # grows when the content at source_url changes
    status: DocumentStatus = DocumentStatus.QUEUED
    stage: Stage | None = None
    progress: Progress = Progress()
    chunk_count: int = 0
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class Element(msgspec.Struct, frozen=True, kw_only=True):
    """One structural piece of a parsed document."""

    text: str
    kind: str = "text"  # "title" or "text"
    page: int | None = None
    level: int | None = None  # a title's depth: 1 for the top heading, 2 below it, …


# Between the headings of a section path, from the document's top heading down.
SECTION_SEPARATOR = " › "


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    widget_id: UUID
    document_id: UUID
    index: int
    text: str
    title: str
    section: str | None = None
    page: int | None = None
    url: str | None = None  # the document's source URL, when it came from one
    # What the document is about, when it says so up front (a manual page's name line and
    # the sentence its description opens with: "git-cherry-pick - Apply the changes
    # introduced by some existing commits"), and, in a section's later chunks, the sentence
    # the section opens with; one line each.
    summary: str | None = None

    def about(self) -> str:
        """The lines of the document's summary that the chunk's text does not say itself:
        a chunk deep in a page's options is silent on what the page is for."""
        if not self.summary:
            return ""
        return "\n".join(line for line in self.summary.splitlines() if line not in self.text)

    def in_context(self) -> str:
        """What search sees of a chunk, by words and by meaning: its text is often silent
        on the names its document's title and section heading carry, and on what the
        document is for."""
        parts = (searchable_title(self.title), self.about(), self.section, self.text)
        return "\n".join(part for part in parts if part)


class ScoredChunk(msgspec.Struct, frozen=True):
    """A retrieved chunk. `score` orders the hits of one search (for hybrid retrieval, a
    fused score); `similarity` is the question's dense cosine with the chunk, when the store
    measured it: unlike a fused score it means the same for every question and widget.
    `coverage` is the share of the question's own search terms (its words, stemmed, stop
    words left out; not those of a follow-up's context) that the chunk holds, when the store
    counted them and the question has at least two: one word vouches for no topic."""

    chunk: Chunk
    score: float
    similarity: float | None = None
    coverage: float | None = None


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed unit of work: process one document."""

    id: UUID
    document_id: UUID
    attempts: int
