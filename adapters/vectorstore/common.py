"""What every vector store adapter shares: names, payloads and the checks on calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from application.ports.vectors import SearchQuery, Vector
from domain.models import Chunk

# Named vectors of every point: the embedding model's and the BM25 encoder's.
DENSE = "dense"
SPARSE = "bm25"
# Payload keys the stores filter on, both keyword-indexed; widget_id is the tenant key.
WIDGET = "widget_id"
DOCUMENT = "document_id"
INDEX = "index"
# Keeps each write bounded: a request body on a server, a GIL hold in the embedded engine.
UPSERT_BATCH = 256


class Sparse(NamedTuple):
    """A sparse vector in library-neutral form: hashed token ids and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]


def check_stage(chunks: Sequence[Chunk], vectors: Sequence[Vector], dimension: int) -> None:
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    for vector in vectors:
        check_vector(vector, dimension)


def check_search(query: SearchQuery, limit: int, dimension: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    check_vector(query.vector, dimension)


def check_vector(vector: Vector, dimension: int) -> None:
    if len(vector) != dimension:
        raise ValueError(f"expected a {dimension}-dimensional vector, got {len(vector)}")


def payload(chunk: Chunk) -> dict[str, Any]:
    fields: dict[str, Any] = msgspec.to_builtins(chunk)
    del fields["id"]  # it is the point id
    return fields


def staged(widget_id: UUID) -> str:
    """The tenant key of chunks written but not yet published: no search filters on it."""
    return f"staged:{widget_id}"


def staged_payload(chunk: Chunk) -> dict[str, Any]:
    return {**payload(chunk), WIDGET: staged(chunk.widget_id)}


def chunk_of(point_id: object, fields: Any) -> Chunk:
    return msgspec.convert({**fields, "id": point_id}, Chunk)


def point_key(point_id: object) -> str:
    """The canonical text of a point id, whichever type the library gave it as."""
    return point_id if isinstance(point_id, str) else str(point_id)
