"""Reading and deleting a widget's documents."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.answer_cache import AnswerCache
from application.ports.storage import DocumentRepository, WidgetRepository
from application.ports.vectors import VectorStore
from domain.errors import DocumentNotFoundError, InvalidInputError, WidgetNotFoundError
from domain.models import Document


class GetDocument:
    def __init__(self, documents: DocumentRepository) -> None:
        self._documents = documents

    async def __call__(self, document_id: UUID) -> Document:
        document = await self._documents.get(document_id)
        if document is None:
            raise DocumentNotFoundError(f"document {document_id} not found")
        return document


MAX_DOCUMENTS_AT_ONCE = 1000


class GetDocuments:
    """Many documents' status in one call, for a client following an upload of many."""

    def __init__(self, documents: DocumentRepository) -> None:
        self._documents = documents

    async def __call__(self, document_ids: Sequence[UUID]) -> list[Document]:
        if not 1 <= len(document_ids) <= MAX_DOCUMENTS_AT_ONCE:
            raise InvalidInputError(
                f"document_ids must hold 1 to {MAX_DOCUMENTS_AT_ONCE} ids",
                details={"field": "document_ids"},
            )
        return await self._documents.get_many(document_ids)


class ListDocuments:
    def __init__(self, widgets: WidgetRepository, documents: DocumentRepository) -> None:
        self._widgets = widgets
        self._documents = documents

    async def __call__(self, widget_id: UUID) -> list[Document]:
        if await self._widgets.get(widget_id) is None:
            raise WidgetNotFoundError(f"widget {widget_id} not found")
        return await self._documents.list_for_widget(widget_id)


class DeleteDocument:
    def __init__(
        self, documents: DocumentRepository, vectors: VectorStore, answers: AnswerCache
    ) -> None:
        self._documents = documents
        self._vectors = vectors
        self._answers = answers

    async def __call__(self, document_id: UUID) -> None:
        document = await GetDocument(self._documents)(document_id)
        await self._vectors.delete_document(document.widget_id, document.id)
        await self._documents.delete(document.id)
        await self._answers.forget_widget(document.widget_id)
