"""Processing a document: parse, chunk, embed and index it, holding its job's lease."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Coroutine
from typing import Any, TypeVar

import msgspec

from application.answer_cache import AnswerCache
from application.ingestion.policy import IngestionPolicy
from application.ports.documents import DocumentParser
from application.ports.jobs import JobQueue
from application.ports.models import Embedder
from application.ports.storage import DocumentRepository
from application.ports.system import Clock
from application.ports.telemetry import JobRecord, Telemetry
from application.ports.vectors import VectorStore
from domain.chunking import chunk_elements
from domain.errors import ParseError
from domain.models import Document, DocumentStatus, Job, Progress, Stage


class LeaseLostError(Exception):
    """This worker's claim on a job expired and another worker took it."""


class _Outcome(enum.Enum):
    READY = "ready"
    DELETED = "deleted"
    CONTENT_CHANGED = "content_changed"


_T = TypeVar("_T")


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
        started = self._clock.monotonic()
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
            await self._give_up(job, document, reason, started)
            return
        try:
            outcome, chunks = await self._holding_lease(job, self._process(document))
        except LeaseLostError:
            self._finished("lease_lost", document, started)  # its new holder carries on
            return
        except ParseError as error:
            await self._give_up(job, document, error.message, started)
            return
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            if job.attempts >= self._policy.max_attempts:
                await self._give_up(job, document, reason, started)
            else:
                delay = self._policy.retry_base_seconds * 2 ** (job.attempts - 1)
                await self._set(document, status=DocumentStatus.QUEUED, stage=None, error=reason)
                await self._jobs.retry(job, reason, delay)
                self._finished("retried", document, started, error=reason)
            return
        if outcome is _Outcome.CONTENT_CHANGED:
            await self._jobs.retry(job, "its content changed while it was processed", 0.0)
            return
        await self._jobs.complete(job)
        await self._answers.forget_widget(document.widget_id)
        self._finished(outcome.value, document, started, chunks=chunks)

    def _finished(
        self,
        outcome: str,
        document: Document,
        started: float,
        *,
        chunks: int = 0,
        error: str | None = None,
    ) -> None:
        self._telemetry.job_finished(
            JobRecord(
                outcome=outcome,
                document_id=document.id,
                title=document.title,
                chunk_count=chunks,
                seconds=self._clock.monotonic() - started,
                error=error,
            )
        )

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

    async def _process(self, document: Document) -> tuple[_Outcome, int]:
        """How it ended, and the chunks published."""
        document = await self._set(document, status=DocumentStatus.PROCESSING, stage=Stage.PARSING)
        started = self._clock.monotonic()
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
            source_url=document.source_url,
            max_tokens=self._policy.chunk_tokens,
            overlap_tokens=self._policy.chunk_overlap_tokens,
            min_section_tokens=self._policy.chunk_min_section_tokens,
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
                began = self._clock.monotonic()
                # With its title and section, as BM25 sees it (docs/benchmarks.md).
                vectors = await self._embedder.embed([c.in_context() for c in part])
                embedded = self._clock.monotonic()
                # Staged: invisible to answers until the whole document is in.
                await self._vectors.stage(part, vectors)
                embedding += embedded - began
                indexing += self._clock.monotonic() - embedded
                document = await self._set(document, progress=Progress(start + len(part), total))
        document = await self._set(document, stage=Stage.INDEXING)
        began = self._clock.monotonic()
        current = await self._documents.get(document.id)
        if current is None:  # deleted while processed: leave nothing behind
            await self._vectors.delete_document(document.widget_id, document.id)
            return _Outcome.DELETED, 0
        if current.revision != document.revision:
            return _Outcome.CONTENT_CHANGED, 0
        await self._vectors.publish(document.widget_id, document.id, total)
        self._telemetry.stage_completed(Stage.EMBEDDING, embedding)
        self._telemetry.stage_completed(Stage.INDEXING, indexing + self._clock.monotonic() - began)
        await self._set(
            document, status=DocumentStatus.READY, stage=None, chunk_count=total, error=None
        )
        return _Outcome.READY, total

    async def _give_up(self, job: Job, document: Document, reason: str, started: float) -> None:
        await self._set(document, status=DocumentStatus.FAILED, error=reason)
        await self._jobs.fail(job, reason)
        self._finished("failed", document, started, error=reason)

    def _lap(self, stage: Stage, since: float) -> float:
        now = self._clock.monotonic()
        self._telemetry.stage_completed(stage, now - since)
        return now

    async def _set(self, document: Document, **changes: object) -> Document:
        updated = msgspec.structs.replace(document, updated_at=self._clock.now(), **changes)
        await self._documents.update(updated)
        return updated
