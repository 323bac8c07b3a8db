"""Taking documents in, and turning them into indexed chunks."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import time
from collections.abc import Coroutine
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from application.answer_cache import AnswerCache
from application.ports import (
    Clock,
    DocumentFetcher,
    DocumentParser,
    DocumentRepository,
    Embedder,
    IdGenerator,
    JobQueue,
    Telemetry,
    Transactions,
    VectorStore,
    WidgetRepository,
)
from domain.chunking import chunk_elements
from domain.errors import (
    InvalidInputError,
    ParseError,
    PayloadTooLargeError,
    WidgetNotFoundError,
)
from domain.models import Document, DocumentStatus, Job, Progress, Stage


class IngestionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_document_bytes: int = 20 * 1024 * 1024
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 30
    embed_batch: int = 32
    max_attempts: int = 3
    retry_base_seconds: float = 2.0
    # Well inside the queue's lease, so one missed beat does not lose the job.
    heartbeat_seconds: float = 20.0


class LeaseLostError(Exception):
    """This worker's claim on a job expired and another worker took it."""


class _Outcome(enum.Enum):
    READY = "ready"
    DELETED = "deleted"
    CONTENT_CHANGED = "content_changed"


_T = TypeVar("_T")


class NewDocument(msgspec.Struct, frozen=True, kw_only=True):
    widget_id: UUID
    title: str
    content: bytes
    content_type: str
    source_url: str | None = None


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
    ) -> None:
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
        if await self._widgets.get(new.widget_id) is None:
            raise WidgetNotFoundError(f"widget {new.widget_id} not found")
        digest = hashlib.sha256(new.content).hexdigest()
        existing = await self._documents.find_by_hash(new.widget_id, digest)
        if existing is not None:
            return Submitted(await self._retry_if_failed(existing), created=False)
        if new.source_url is not None:
            earlier = await self._documents.find_by_source(new.widget_id, new.source_url)
            if earlier is not None:
                return Submitted(await self._replace(earlier, new, digest), created=True)
        now = self._clock.now()
        document = Document(
            id=self._ids.new_id(),
            widget_id=new.widget_id,
            title=new.title.strip() or "Untitled",
            content_type=new.content_type,
            size_bytes=len(new.content),
            sha256=digest,
            source_url=new.source_url,
            created_at=now,
            updated_at=now,
        )
        async with self._transactions.begin():
            stored = await self._documents.add(document, new.content)
            if stored.id != document.id:  # a concurrent upload of the same bytes won
                return Submitted(stored, created=False)
            await self._jobs.enqueue(document.id)
        return Submitted(document, created=True)

    async def _replace(self, earlier: Document, new: NewDocument, digest: str) -> Document:
        """The page at a known URL changed: same document, next revision. Its live chunks
        keep answering until the new ones are published."""
        changed = msgspec.structs.replace(
            earlier,
            title=new.title.strip() or earlier.title,
            content_type=new.content_type,
            size_bytes=len(new.content),
            sha256=digest,
            status=DocumentStatus.QUEUED,
            stage=None,
            error=None,
            progress=Progress(),
            updated_at=self._clock.now(),
        )
        async with self._transactions.begin():
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
        requeued = msgspec.structs.replace(
            document,
            status=DocumentStatus.QUEUED,
            stage=None,
            error=None,
            progress=Progress(),
            updated_at=self._clock.now(),
        )
        async with self._transactions.begin():
            await self._documents.update(requeued)
            await self._jobs.enqueue(document.id)
        return requeued


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


class ProcessDocument:
    """Parse → chunk → embed → index one document, recording progress as it goes."""

    def __init__(
        self,
        *,
        documents: DocumentRepository,
        jobs: JobQueue,
        parser: DocumentParser,
        embedder: Embedder,
        vectors: VectorStore,
        clock: Clock,
        policy: IngestionPolicy,
        telemetry: Telemetry,
        answers: AnswerCache,
    ) -> None:
        self._telemetry = telemetry
        self._answers = answers
        self._documents = documents
        self._jobs = jobs
        self._parser = parser
        self._embedder = embedder
        self._vectors = vectors
        self._clock = clock
        self._policy = policy
        self._embedding_turn = asyncio.Lock()

    async def next_job(self) -> bool:
        """Processes one claimed job; False when the queue had nothing ready."""
        job = await self._jobs.claim()
        if job is None:
            return False
        await self(job)
        return True

    async def __call__(self, job: Job) -> None:
        document = await self._documents.get(job.document_id)
        if document is None:  # deleted while queued
            await self._jobs.complete(job)
            return
        if job.attempts > self._policy.max_attempts:
            # Every earlier claim ended without a verdict: the worker was killed, each time.
            reason = (
                f"processing stopped {job.attempts - 1} times without finishing "
                "(the worker was stopped or ran out of memory on this document)"
            )
            await self._give_up(job, document, reason)
            return
        try:
            outcome = await self._holding_lease(job, self._process(document))
        except LeaseLostError:
            self._telemetry.job_finished("lease_lost")  # its new holder carries on
            return
        except ParseError as error:
            await self._give_up(job, document, error.message)
            return
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            if job.attempts >= self._policy.max_attempts:
                await self._give_up(job, document, reason)
            else:
                delay = self._policy.retry_base_seconds * 2 ** (job.attempts - 1)
                await self._set(document, status=DocumentStatus.QUEUED, stage=None, error=reason)
                await self._jobs.retry(job, reason, delay)
                self._telemetry.job_finished("retried")
            return
        if outcome is _Outcome.CONTENT_CHANGED:
            await self._jobs.retry(job, "its content changed while it was processed", 0.0)
            return
        await self._jobs.complete(job)
        await self._answers.forget_widget(document.widget_id)
        self._telemetry.job_finished(outcome.value)

    async def _holding_lease(self, job: Job, work: Coroutine[Any, Any, _T]) -> _T:
        """Runs the work while renewing the job's lease; a lost lease stops it, since the
        job now belongs to another worker."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._policy.heartbeat_seconds)
                if done:
                    return task.result()
                try:
                    kept = await self._jobs.heartbeat(job)
                except Exception:
                    kept = True  # a database blip: the lease may well hold; beat again later
                if not kept:
                    raise LeaseLostError(f"the lease on job {job.id} was lost")
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _process(self, document: Document) -> _Outcome:
        document = await self._set(document, status=DocumentStatus.PROCESSING, stage=Stage.PARSING)
        started = time.perf_counter()
        content = await self._documents.content(document.id)
        if content is None:
            raise ParseError("the document's content is missing")
        elements = await self._parser.parse(content, document.content_type)
        started = self._lap(Stage.PARSING, started)
        document = await self._set(document, stage=Stage.CHUNKING)
        chunks = chunk_elements(
            elements,
            widget_id=document.widget_id,
            document_id=document.id,
            document_title=document.title,
            revision=document.revision,
            max_tokens=self._policy.chunk_tokens,
            overlap_tokens=self._policy.chunk_overlap_tokens,
        )
        if not chunks:
            raise ParseError("the document contains no text")
        total = len(chunks)
        self._lap(Stage.CHUNKING, started)
        document = await self._set(document, stage=Stage.EMBEDDING, progress=Progress(0, total))
        batch = self._policy.embed_batch
        embedding = indexing = 0.0
        # One document embeds at a time, whole: documents taking turns batch by batch would
        # finish together and then all parse at once, leaving the embedder idle; this way
        # the next document is parsed while this one is embedded.
        async with self._embedding_turn:
            for start in range(0, total, batch):
                part = chunks[start : start + batch]
                began = time.perf_counter()
                vectors = await self._embedder.embed([c.text for c in part])
                embedded = time.perf_counter()
                # Staged: invisible to answers until the whole document is in.
                await self._vectors.stage(part, vectors)
                embedding += embedded - began
                indexing += time.perf_counter() - embedded
                document = await self._set(document, progress=Progress(start + len(part), total))
        document = await self._set(document, stage=Stage.INDEXING)
        began = time.perf_counter()
        current = await self._documents.get(document.id)
        if current is None:  # deleted while processed: leave nothing behind
            await self._vectors.delete_document(document.widget_id, document.id)
            return _Outcome.DELETED
        if current.revision != document.revision:
            return _Outcome.CONTENT_CHANGED
        await self._vectors.publish(document.widget_id, document.id, total)
        self._telemetry.stage_completed(Stage.EMBEDDING, embedding)
        self._telemetry.stage_completed(Stage.INDEXING, indexing + time.perf_counter() - began)
        await self._set(
            document, status=DocumentStatus.READY, stage=None, chunk_count=total, error=None
        )
        return _Outcome.READY

    async def _give_up(self, job: Job, document: Document, reason: str) -> None:
        await self._set(document, status=DocumentStatus.FAILED, error=reason)
        await self._jobs.fail(job, reason)
        self._telemetry.job_finished("failed")

    def _lap(self, stage: Stage, since: float) -> float:
        now = time.perf_counter()
        self._telemetry.stage_completed(stage, now - since)
        return now

    async def _set(self, document: Document, **changes: object) -> Document:
        updated = msgspec.structs.replace(document, updated_at=self._clock.now(), **changes)
        await self._documents.update(updated)
        return updated
