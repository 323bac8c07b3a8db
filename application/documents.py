"""Reading and deleting a widget's documents."""

from __future__ import annotations

from uuid import UUID

from application.answer_cache import AnswerCache
from application.ports.storage import DocumentRepository, WidgetRepository
from application.ports.vectors import VectorStore
from domain.errors import DocumentNotFoundError, WidgetNotFoundError
from domain.models import Document


class GetDocument:
    def __init__(self, documents: DocumentRepository) -> None:
        self._documents = documents

    async def __call__(self, document_id: UUID) -> Document:
        document = await self._documents.get(document_id)
        if document is None:
            raise DocumentNotFoundError(f"document {document_id} not found")
        return document


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
