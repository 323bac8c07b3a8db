"""Processing a document: parse, chunk, embed and index it, holding its job's lease."""

from __future__ import annotations

import enum

import msgspec

from application.answer_cache import AnswerCache
from application.ingestion.allowance import IngestionAllowance
from application.ingestion.lease import LeaseLostError, holding_lease
from application.ingestion.policy import IngestionPolicy
from application.ingestion.slicing import SlicedEmbedding, YieldedChunks, checkpoint
from application.ports.documents import DocumentParser
from application.ports.jobs import JobQueue
from application.ports.models import Embedder
from application.ports.storage import DocumentRepository, WidgetRepository
from application.ports.system import Clock
from application.ports.telemetry import JobRecord, Telemetry
from application.ports.vectors import VectorStore
from domain.chunking import chunk_elements
from domain.errors import ParseError
from domain.models import Chunk, Document, DocumentStatus, Job, Progress, Stage


class _Outcome(enum.Enum):
    READY = "ready"
    DELETED = "deleted"
    CONTENT_CHANGED = "content_changed"
    YIELDED = "yielded"  # another widget's document waits: back in line after a slice


class ProcessDocument:
    """Parse → chunk → embed → index one document, recording progress as it goes."""

    def __init__(
        self,
        *,
        documents: DocumentRepository,
        widgets: WidgetRepository,
        allowance: IngestionAllowance,
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
        self._widgets = widgets
        self._allowance = allowance
        self._jobs = jobs
        self._parser = parser
        self._embedder = embedder
        self._vectors = vectors
        self._clock = clock
        self._policy = policy
        self._yielded = YieldedChunks()
        self._embedding = SlicedEmbedding(
            embedder=embedder,
            vectors=vectors,
            jobs=jobs,
            clock=clock,
            telemetry=telemetry,
        )

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
            outcome, chunks = await holding_lease(
                self._jobs, job, self._process(document), self._policy.heartbeat_seconds
            )
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
        if outcome is _Outcome.YIELDED:
            await self._jobs.pause(job)
            self._finished(outcome.value, document, started, chunks=chunks)
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

    async def _process(self, document: Document) -> tuple[_Outcome, int]:
        """How it ended, and the chunks published (or, when it yielded, embedded so far)."""
        resume_at = checkpoint(document)
        chunks = self._yielded.take(document) or await self._cut(document)
        total = len(chunks)
        if resume_at >= total or document.progress.total != total:
            resume_at = 0  # not the cut it recorded progress in
        widget = await self._widgets.get(document.widget_id)
        if widget is None:  # deleted with its documents while this one was processed
            return _Outcome.DELETED, 0
        await self._allowance.take_chunks(widget, document, total)
        if resume_at == 0 and document.revision > 1:
            # A fresh start of a later revision: what a run of an earlier one staged (other
            # chunk ids) must not go live with it; a run of this revision's own leftovers
            # are overwritten, id for id. Not on a first revision: the delete is not free.
            await self._vectors.discard_staged(document.widget_id, document.id)
        document = await self._set(
            document,
            status=DocumentStatus.PROCESSING,
            stage=Stage.EMBEDDING,
            progress=Progress(resume_at, total),
        )

        async def progressed(done: int) -> None:
            nonlocal document
            document = await self._set(document, progress=Progress(done, total))

        staged, indexing = await self._embedding(
            document.widget_id, chunks, resume_at, progressed, self._policy
        )
        if staged < total:
            if gone := await self._gone(document):
                return gone, 0
            self._yielded.keep(document, chunks)
            return _Outcome.YIELDED, document.progress.done
        document = await self._set(document, stage=Stage.INDEXING)
        began = self._clock.monotonic()
        if gone := await self._gone(document):
            return gone, 0
        await self._vectors.publish(document.widget_id, document.id, total)
        # This run's staging and the publishing (a resumed document's earlier slices staged
        # in runs of their own).
        indexing += self._clock.monotonic() - began
        self._telemetry.stage_completed(Stage.INDEXING, indexing)
        await self._set(
            document, status=DocumentStatus.READY, stage=None, chunk_count=total, error=None
        )
        return _Outcome.READY, total

    async def _cut(self, document: Document) -> list[Chunk]:
        document = await self._set(document, status=DocumentStatus.PROCESSING, stage=Stage.PARSING)
        started = self._clock.monotonic()
        content = await self._documents.content(document.id)
        if content is None:
            raise ParseError("the document's content is missing")
        elements = await self._parser.parse(content, document.content_type)
        started = self._lap(Stage.PARSING, started)
        await self._set(document, stage=Stage.CHUNKING)
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
        self._lap(Stage.CHUNKING, started)
        return chunks

    async def _gone(self, document: Document) -> _Outcome | None:
        """Whether the document is no longer as this run knows it: deleted (leaving nothing
        behind) or its content replaced."""
        current = await self._documents.get(document.id)
        if current is None:
            await self._vectors.delete_document(document.widget_id, document.id)
            return _Outcome.DELETED
        if current.revision != document.revision:
            return _Outcome.CONTENT_CHANGED
        return None

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
