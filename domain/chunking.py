"""Cutting parsed elements into token-bounded chunks that keep their headings."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from uuid import UUID

from domain.models import Chunk, Element, without_nul

_CHUNK_NAMESPACE = uuid.UUID("6f1c1f9e-8d2a-4c55-9a53-3c1b6a0e2f11")
_WORD = re.compile(r"\S+")
# WordPiece splits English words into ~1.3 pieces on average; the embedder truncates
# at 256 pieces, so a 200-token budget keeps every chunk fully embedded.
_PIECES_PER_WORD = 1.3


def chunk_id(document_id: UUID, index: int, revision: int = 1) -> UUID:
    """Deterministic, so re-processing a document overwrites instead of duplicating; a new
    revision of its content gets new ids, so it can be staged beside the live one."""
    name = f"{document_id}:{index}" if revision == 1 else f"{document_id}@{revision}:{index}"
    return uuid.uuid5(_CHUNK_NAMESPACE, name)


def estimate_tokens(text: str) -> int:
    return round(len(_WORD.findall(text)) * _PIECES_PER_WORD)


class _Section:
    def __init__(self, headings: list[str], page: int | None) -> None:
        self.heading = " › ".join(headings) if headings else None
        self.page = page
        self.paragraphs: list[str] = []


def _sections(elements: Sequence[Element]) -> Iterator[_Section]:
    """Paragraphs under their heading path ("Install › Linux"), so a cited chunk says where
    in the document it sits; a title of unknown depth starts a new path."""
    path: list[str] = []
    current = _Section(path, None)
    for element in elements:
        # A NUL extracted from a file is nothing its reader would miss, and could be stored
        # nowhere a chunk goes (its text becomes a source of answers kept in PostgreSQL).
        text = without_nul(element.text).strip()
        if not text:
            continue
        if element.kind == "title":
            if current.paragraphs:
                yield current
            depth = element.level if element.level and element.level > 0 else 1
            path = [*path[: depth - 1], text]
            current = _Section(path, element.page)
            continue
        if current.page is None:
            current.page = element.page
        current.paragraphs.append(text)
    if current.paragraphs:
        yield current


def _windows(words: list[str], size: int, overlap: int) -> Iterator[list[str]]:
    step = max(1, size - overlap)
    for start in range(0, len(words), step):
        yield words[start : start + size]
        if start + size >= len(words):
            return


def _pack(paragraphs: list[str], max_words: int, overlap_words: int) -> Iterator[str]:
    """Whole paragraphs while they fit; a paragraph too long alone is windowed."""
    buffer: list[str] = []
    size = 0
    for paragraph in paragraphs:
        words = paragraph.split()
        if len(words) > max_words:
            if buffer:
                yield "\n\n".join(buffer)
                buffer, size = [], 0
            for window in _windows(words, max_words, overlap_words):
                yield " ".join(window)
            continue
        if size + len(words) > max_words and buffer:
            yield "\n\n".join(buffer)
            tail = buffer[-1].split()[-overlap_words:] if overlap_words else []
            buffer, size = ([" ".join(tail)] if tail else []), len(tail)
        buffer.append(paragraph)
        size += len(words)
    if buffer:
        yield "\n\n".join(buffer)


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
) -> list[Chunk]:
    max_words = max(1, int(max_tokens / _PIECES_PER_WORD))
    overlap_words = min(max_words // 2, int(overlap_tokens / _PIECES_PER_WORD))
    chunks: list[Chunk] = []
    for section in _sections(elements):
        for text in _pack(section.paragraphs, max_words, overlap_words):
            index = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(document_id, index, revision),
                    widget_id=widget_id,
                    document_id=document_id,
                    index=index,
                    text=text,
                    title=document_title,
                    section=section.heading,
                    page=section.page,
                    url=source_url,
                )
            )
    return chunks
