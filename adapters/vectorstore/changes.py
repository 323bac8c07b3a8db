"""What publishing and deleting change, written once for every store.

Each is a few operations on the points a payload filter picks (tenant key, document, index
range), applied in order; a store translates them into its library's updates, so staged
chunks go live, and documents and widgets go, the same way in every store.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias
from uuid import UUID

from adapters.vectorstore.common import staged


class Points(NamedTuple):
    """The points whose tenant key is `tenant`; of `document` if given; from chunk index
    `from_index` on if given."""

    tenant: str
    document: UUID | None = None
    from_index: int | None = None


class Delete(NamedTuple):
    points: Points


class Relabel(NamedTuple):
    """Gives the points another tenant key: how staged chunks go live."""

    points: Points
    tenant: str


Change: TypeAlias = Delete | Relabel


def live(widget_id: UUID, document_id: UUID | None = None) -> Points:
    """What searches see: the widget's published chunks."""
    return Points(str(widget_id), document_id)


def staging(widget_id: UUID, document_id: UUID, from_index: int | None = None) -> Points:
    return Points(staged(widget_id), document_id, from_index)


def publishing(widget_id: UUID, document_id: UUID, chunk_count: int) -> tuple[Change, ...]:
    return (
        Delete(live(widget_id, document_id)),
        Delete(staging(widget_id, document_id, from_index=chunk_count)),
        Relabel(staging(widget_id, document_id), live(widget_id).tenant),
    )


def discarding_staged(widget_id: UUID, document_id: UUID) -> tuple[Change, ...]:
    return (Delete(staging(widget_id, document_id)),)


def deleting_document(widget_id: UUID, document_id: UUID) -> tuple[Change, ...]:
    return Delete(live(widget_id, document_id)), Delete(staging(widget_id, document_id))


def deleting_widget(widget_id: UUID) -> tuple[Change, ...]:
    # Staged chunks too: a run still working on a deleted widget's document must leave
    # nothing behind that a later publish could bring to life.
    return Delete(live(widget_id)), Delete(Points(staged(widget_id)))
