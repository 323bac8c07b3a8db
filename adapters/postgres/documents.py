"""Documents in PostgreSQL; their bytes live in document_contents, read only on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from adapters.postgres.database import Database
from domain.models import Document, DocumentStatus, Progress, Stage

# What processing may change; the rest is fixed when a document is added.
_MUTABLE = (
    "title",
    "source_url",
    "status",
    "stage",
    "progress_done",
    "progress_total",
    "chunk_count",
    "error",
    "updated_at",
)
# Set when a document is added, and again only when its content is replaced.
_CONTENT = ("content_type", "size_bytes", "sha256", "revision")
_COLUMNS = ("id", "widget_id", "created_at", *_CONTENT, *_MUTABLE)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM documents "
_INSERT = (
    f"INSERT INTO documents ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(_COLUMNS) + 1))}) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_UPDATE = (
    f"UPDATE documents SET ({', '.join(_MUTABLE)}) = "
    f"({', '.join(f'${n}' for n in range(2, len(_MUTABLE) + 2))}) "
    f"WHERE id = $1 AND revision = ${len(_MUTABLE) + 2}"
)


def _row(document: Document) -> dict[str, Any]:
    return {
        **{c: getattr(document, c, None) for c in _COLUMNS},
        "status": document.status.value,
        "stage": document.stage.value if document.stage is not None else None,
        "progress_done": document.progress.done,
        "progress_total": document.progress.total,
    }


def _document(row: asyncpg.Record) -> Document:
    return Document(
        id=row["id"],
        widget_id=row["widget_id"],
        title=row["title"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        source_url=row["source_url"],
        revision=row["revision"],
        status=DocumentStatus(row["status"]),
        stage=Stage(row["stage"]) if row["stage"] is not None else None,
        progress=Progress(row["progress_done"], row["progress_total"]),
        chunk_count=row["chunk_count"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class AsyncpgDocumentRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, document: Document, content: bytes) -> Document:
        """Adds nothing when the widget already has a document with the same sha256 (or id):
        of two racing uploads of one file the first wins, and both get its document."""
        row = _row(document)
        async with self._database.connection() as connection:
            status = await connection.execute(
                f"WITH added AS ({_INSERT}) "
                f"INSERT INTO document_contents (document_id, content) "
                f"SELECT id, ${len(_COLUMNS) + 1} FROM added",
                *(row[c] for c in _COLUMNS),
                content,
            )
            if status.endswith(" 1"):
                return document
            row = await connection.fetchrow(
                _SELECT + "WHERE id = $1 OR (widget_id = $2 AND sha256 = $3) LIMIT 1",
                document.id,
                document.widget_id,
                document.sha256,
            )
            return _document(row)

    async def get(self, document_id: UUID) -> Document | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(_SELECT + "WHERE id = $1", document_id)
        return _document(row) if row is not None else None

    async def get_many(self, document_ids: Sequence[UUID]) -> list[Document]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                _SELECT + "WHERE id = ANY($1::uuid[]) ORDER BY created_at, id", list(document_ids)
            )
        return [_document(row) for row in rows]

    async def find_by_hash(self, widget_id: UUID, sha256: str) -> Document | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(
                _SELECT + "WHERE widget_id = $1 AND sha256 = $2", widget_id, sha256
            )
        return _document(row) if row is not None else None

    async def find_by_source(self, widget_id: UUID, source_url: str) -> Document | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(
                _SELECT + "WHERE widget_id = $1 AND source_url = $2 ORDER BY created_at LIMIT 1",
                widget_id,
                source_url,
            )
        return _document(row) if row is not None else None

    async def replace_content(self, document: Document, content: bytes) -> Document:
        row = _row(document)
        changed = (*_CONTENT[:-1], *_MUTABLE)
        assignments = ", ".join(f"{c} = ${n}" for n, c in enumerate(changed, start=2))
        async with self._database.connection() as connection, connection.transaction():
            stored = await connection.fetchrow(
                f"UPDATE documents SET {assignments}, revision = revision + 1 "
                f"WHERE id = $1 RETURNING {', '.join(_COLUMNS)}",
                document.id,
                *(row[c] for c in changed),
            )
            await connection.execute(
                "UPDATE document_contents SET content = $2 WHERE document_id = $1",
                document.id,
                content,
            )
        return _document(stored)

    async def list_for_widget(self, widget_id: UUID) -> list[Document]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(
                _SELECT + "WHERE widget_id = $1 ORDER BY created_at, id", widget_id
            )
        return [_document(row) for row in rows]

    async def content(self, document_id: UUID) -> bytes | None:
        async with self._database.connection() as connection:
            content: bytes | None = await connection.fetchval(
                "SELECT content FROM document_contents WHERE document_id = $1", document_id
            )
        return content

    async def update(self, document: Document) -> None:
        """Writes what changes while a document is processed; an unknown id is ignored, and
        so is a writer of an earlier revision (its worker still running when the content
        was replaced), whose progress must not pass for the new revision's."""
        row = _row(document)
        async with self._database.connection() as connection:
            await connection.execute(
                _UPDATE, document.id, *(row[c] for c in _MUTABLE), document.revision
            )

    async def delete(self, document_id: UUID) -> None:
        """Its bytes and its job go with it."""
        async with self._database.connection() as connection:
            await connection.execute("DELETE FROM documents WHERE id = $1", document_id)
