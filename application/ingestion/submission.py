"""Taking a document in: checked, stored durably with its bytes, and queued, at once."""

from __future__ import annotations

import hashlib
from uuid import UUID

import msgspec

from application.ingestion.allowance import IngestionAllowance
from application.ingestion.policy import IngestionPolicy
from application.ingestion.titles import title_of
from application.ports.documents import DocumentFetcher, DocumentParser
from application.ports.jobs import JobQueue
from application.ports.storage import DocumentRepository, Transactions, WidgetRepository
from application.ports.system import Clock, IdGenerator
from domain.errors import InvalidInputError, PayloadTooLargeError, WidgetNotFoundError
from domain.models import Document, DocumentStatus, Progress, Widget


class NewDocument(msgspec.Struct, frozen=True, kw_only=True):
    widget_id: UUID
    title: str  # "" when the owner gave none: the document's own, or its file name, then
    content: bytes
    content_type: str
    source_url: str | None = None
    filename: str | None = None


class Submitted(msgspec.Struct, frozen=True):
    document: Document
    created: bool


class SubmitDocument:
    def __init__(
        self,
        *,
        widgets: WidgetRepository,
        documents: DocumentRepository,
        jobs: JobQueue,
        transactions: Transactions,
        parser: DocumentParser,
        clock: Clock,
        ids: IdGenerator,
        policy: IngestionPolicy,
        allowance: IngestionAllowance,
    ) -> None:
        self._allowance = allowance
        self._widgets = widgets
        self._documents = documents
        self._jobs = jobs
        self._transactions = transactions
        self._parser = parser
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def __call__(self, new: NewDocument) -> Submitted:
        new = self._validate(new)
        widget = await self._widgets.get(new.widget_id)
        if widget is None:
            raise WidgetNotFoundError(f"widget {new.widget_id} not found")
        digest = hashlib.sha256(new.content).hexdigest()
        existing = await self._documents.find_by_hash(new.widget_id, digest)
        if existing is not None:
            return Submitted(await self._retry_if_failed(existing), created=False)
        if new.source_url is not None:
            earlier = await self._documents.find_by_source(new.widget_id, new.source_url)
            if earlier is not None:
                return Submitted(await self._replace(widget, earlier, new, digest), created=True)
        now = self._clock.now()
        document = Document(
            id=self._ids.new_id(),
            widget_id=new.widget_id,
            title=title_of(new.title, new.content, new.content_type, new.filename),
            content_type=new.content_type,
            size_bytes=len(new.content),
            sha256=digest,
            source_url=new.source_url,
            created_at=now,
            updated_at=now,
        )
        async with self._transactions.begin():
            # Refused past the plan's monthly documents, before anything is stored.
            await self._allowance.take_document(widget, document)
            stored = await self._documents.add(document, new.content)
            if stored.id != document.id:  # a concurrent upload of the same bytes won
                return Submitted(stored, created=False)
            await self._jobs.enqueue(document.id)
        return Submitted(document, created=True)

    async def _replace(
        self, widget: Widget, earlier: Document, new: NewDocument, digest: str
    ) -> Document:
        """The page at a known URL changed: same document, next revision. Its live chunks
        keep answering until the new ones are published."""
        changed = self._queued_again(
            earlier,
            title=new.title.strip() or earlier.title,
            content_type=new.content_type,
            size_bytes=len(new.content),
            sha256=digest,
        )
        async with self._transactions.begin():
            # A new revision counts as a document taken in.
            await self._allowance.take_document(
                widget, msgspec.structs.replace(changed, revision=earlier.revision + 1)
            )
            stored = await self._documents.replace_content(changed, new.content)
            await self._jobs.enqueue(stored.id)
        return stored

    def _validate(self, new: NewDocument) -> NewDocument:
        if len(new.content) > self._policy.max_document_bytes:
            raise PayloadTooLargeError(
                f"document is larger than {self._policy.max_document_bytes} bytes"
            )
        if not new.content.strip():
            raise InvalidInputError("document is empty", details={"field": "file"})
        content_type = self._parser.identify(new.content, new.content_type)
        return msgspec.structs.replace(new, content_type=content_type)

    async def _retry_if_failed(self, document: Document) -> Document:
        if document.status is not DocumentStatus.FAILED:
            return document
        requeued = self._queued_again(document)
        async with self._transactions.begin():
            await self._documents.update(requeued)
            await self._jobs.enqueue(document.id)
        return requeued

    def _queued_again(self, document: Document, **changes: object) -> Document:
        """The document waiting for its job again, with nothing left of its last run."""
        return msgspec.structs.replace(
            document,
            status=DocumentStatus.QUEUED,
            stage=None,
            error=None,
            progress=Progress(),
            updated_at=self._clock.now(),
            **changes,
        )


class SubmitUrl:
    """A page or file by its URL; the same URL again refreshes that document."""

    def __init__(
        self, *, widgets: WidgetRepository, fetcher: DocumentFetcher, submit: SubmitDocument
    ) -> None:
        self._widgets = widgets
        self._fetcher = fetcher
        self._submit = submit

    async def __call__(self, widget_id: UUID, url: str, title: str | None = None) -> Submitted:
        if await self._widgets.get(widget_id) is None:  # before reaching out to anyone
            raise WidgetNotFoundError(f"widget {widget_id} not found")
        fetched = await self._fetcher.fetch(url)
        return await self._submit(
            NewDocument(
                widget_id=widget_id,
                title=(title or "").strip() or fetched.title or fetched.url,
                content=fetched.content,
                content_type=fetched.content_type,
                source_url=url,
            )
        )
