"""Taking turns at the embedder: a document embeds whole unless another widget's document
waits, in which case it yields after a slice and is taken up again where it stopped."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from uuid import UUID

from application.ingestion.policy import IngestionPolicy
from application.ports.jobs import JobQueue
from application.ports.models import Embedder
from application.ports.system import Clock
from application.ports.telemetry import Telemetry
from application.ports.vectors import VectorStore
from domain.chunking import subject_of
from domain.models import Chunk, Document, DocumentStatus, Stage
from domain.vectors import folded


class Turn:
    """One document's hold on the embedder."""

    def __init__(self, turns: EmbeddingTurns, widget_id: UUID) -> None:
        self._turns = turns
        self._widget_id = widget_id
        self._held = False

    async def take(self) -> None:
        self._turns._waiting.append(self._widget_id)
        try:
            await self._turns._lock.acquire()
        finally:
            self._turns._waiting.remove(self._widget_id)
        self._held = True

    def leave(self) -> None:
        if self._held:
            self._held = False
            self._turns._lock.release()

    async def pass_on(self) -> None:
        """Lets the documents waiting go first, then takes the turn again (the lock is
        first come, first served: a release does not let its releaser barge back in)."""
        self.leave()
        await self.take()


class EmbeddingTurns:
    """The embedder, one document at a time, in the order they asked (asyncio's lock is
    first come, first served), knowing whose documents wait for it.

    One document at a time, rather than batch by batch, so that documents do not all finish
    together and then all parse at once while the embedder idles: the next document is
    parsed while this one is embedded. A document gives way only to another widget's.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._waiting: list[UUID] = []

    @asynccontextmanager
    async def turn(self, widget_id: UUID) -> AsyncIterator[Turn]:
        turn = Turn(self, widget_id)
        await turn.take()
        try:
            yield turn
        finally:
            turn.leave()

    def waiting_besides(self, widget_id: UUID) -> bool:
        return any(waiting != widget_id for waiting in self._waiting)


class YieldedChunks:
    """The chunks of the few documents that yielded in this process, so that taking one up
    again does not parse it again; a document taken up elsewhere (another worker, or after
    a crash) is parsed again, which its deterministic cut allows."""

    def __init__(self, capacity: int = 4) -> None:
        self._capacity = capacity
        self._kept: OrderedDict[tuple[UUID, int], list[Chunk]] = OrderedDict()

    def keep(self, document: Document, chunks: list[Chunk]) -> None:
        self._kept[(document.id, document.revision)] = chunks
        while len(self._kept) > self._capacity:
            self._kept.popitem(last=False)

    def take(self, document: Document) -> list[Chunk] | None:
        return self._kept.pop((document.id, document.revision), None)


def checkpoint(document: Document) -> int:
    """How many of its chunks are already staged: those its last run recorded as embedded
    (a run that yielded, or whose worker was killed), counted only after they were staged.
    A document replaced since has its progress reset, so this never spans two revisions."""
    if document.status is DocumentStatus.PROCESSING and document.stage is Stage.EMBEDDING:
        return document.progress.done
    return 0


class SlicedEmbedding:
    """Embeds and stages a document's chunks, whole, unless another widget's document waits
    once a slice of `slice_seconds` is done: one waiting in this process for the embedder
    goes first (the job stays here); one left in the queue for `unclaimed_seconds` (no
    worker was free to take it) makes this one stop there, for its job to go back in line
    behind it."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        vectors: VectorStore,
        jobs: JobQueue,
        clock: Clock,
        telemetry: Telemetry,
    ) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self._jobs = jobs
        self._clock = clock
        self._telemetry = telemetry
        self._turns = EmbeddingTurns()

    async def __call__(
        self,
        widget_id: UUID,
        chunks: list[Chunk],
        start_at: int,
        progressed: Callable[[int], Awaitable[None]],
        policy: IngestionPolicy,
    ) -> tuple[int, float]:
        """How many chunks are staged when it stops, and the seconds staging took (the
        indexing stage's, reported with the publishing); progress is recorded after each
        batch is staged, so a run killed midway resumes after the last batch recorded."""
        total, batch = len(chunks), policy.embed_batch
        done, embedding, indexing = start_at, 0.0, 0.0
        async with self._turns.turn(widget_id) as turn:
            slice_began = self._clock.monotonic()
            subject = await self._subject(chunks[start_at:], policy.subject_weight)
            for start in range(start_at, total, batch):
                part = chunks[start : start + batch]
                began = self._clock.monotonic()
                # With its title and section, as BM25 sees it (docs/benchmarks.md).
                vectors = await self._embedder.embed([c.in_context() for c in part])
                if subject is not None:
                    vectors = [folded(v, subject, policy.subject_weight) for v in vectors]
                embedded = self._clock.monotonic()
                # Staged: invisible to answers until the whole document is in.
                await self._vectors.stage(part, vectors)
                embedding += embedded - began
                indexing += self._clock.monotonic() - embedded
                done = start + len(part)
                await progressed(done)
                if done == total:
                    break
                if self._clock.monotonic() - slice_began >= policy.slice_seconds:
                    if self._turns.waiting_besides(widget_id):
                        await turn.pass_on()
                    elif await self._jobs.waiting_elsewhere(widget_id, policy.unclaimed_seconds):
                        break
                    slice_began = self._clock.monotonic()
        self._telemetry.stage_completed(Stage.EMBEDDING, embedding)
        return done, indexing

    async def _subject(self, chunks: list[Chunk], weight: float) -> list[float] | None:
        """The vector of the name line every chunk of the document carries, if it has one:
        each chunk's vector leans towards it. A chunk deep in git-revert's options never
        says what the page is for, and a question in other words ("undo a commit that was
        pushed") finds the name line nearer than any of the page's chunks
        (docs/benchmarks.md, issue 15 round 16)."""
        line = subject_of(chunks[0]) if chunks and weight > 0.0 else None
        if line is None:
            return None
        [vector] = await self._embedder.embed([line])
        return vector
