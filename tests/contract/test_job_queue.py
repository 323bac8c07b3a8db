"""Contract of the JobQueue port, held by the in-memory fake and the asyncpg adapter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from uuid import UUID

import pytest

from adapters.postgres.database import Database
from adapters.postgres.documents import AsyncpgDocumentRepository
from adapters.postgres.jobs import AsyncpgJobQueue
from adapters.postgres.widgets import AsyncpgWidgetRepository
from testkit.entities import a_document, a_widget
from testkit.fakes.repositories import MemoryJobQueue


@dataclass(frozen=True)
class QueueBackend:
    make_queue: Callable[[float], MemoryJobQueue | AsyncpgJobQueue]
    # Jobs reference stored documents; each in a widget of its own unless given one.
    new_document: Callable[..., Awaitable[UUID]]
    new_widget: Callable[[str], Awaitable[UUID]]  # a widget of that tenant

    def queue(self, lease_seconds: float = 60.0) -> MemoryJobQueue | AsyncpgJobQueue:
        return self.make_queue(lease_seconds)


@pytest.fixture(params=["memory", pytest.param("asyncpg", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> QueueBackend:
    if request.param == "memory":
        owners: dict[UUID, tuple[str, UUID | None]] = {}
        tenants: dict[UUID, str] = {}

        async def memory_widget(tenant: str) -> UUID:
            widget_id = uuid.uuid4()
            tenants[widget_id] = tenant
            return widget_id

        async def any_document(widget_id: UUID | None = None) -> UUID:
            widget_id = widget_id or await memory_widget("tenant-1")
            document_id = uuid.uuid4()
            owners[document_id] = (tenants[widget_id], widget_id)
            return document_id

        def memory_queue(lease_seconds: float) -> MemoryJobQueue:
            return MemoryJobQueue(lease_seconds, owners=owners.__getitem__)

        return QueueBackend(memory_queue, any_document, memory_widget)

    database: Database = request.getfixturevalue("pg_database")
    widgets = AsyncpgWidgetRepository(database)
    documents = AsyncpgDocumentRepository(database)

    async def stored_widget(tenant: str) -> UUID:
        widget = a_widget(tenant_id=tenant)
        await widgets.add(widget)
        return widget.id

    async def stored_document(widget_id: UUID | None = None) -> UUID:
        widget_id = widget_id or await stored_widget("tenant-1")
        document = a_document(widget_id, uuid.uuid4().bytes)
        await documents.add(document, b"hello")
        return document.id

    return QueueBackend(partial(AsyncpgJobQueue, database), stored_document, stored_widget)


async def claim_all(queue: MemoryJobQueue | AsyncpgJobQueue) -> list[UUID]:
    claimed = []
    while job := await queue.claim():
        claimed.append(job.document_id)
    return claimed


async def test_tenants_take_turns_whatever_the_order_their_documents_queued_in(
    backend: QueueBackend,
) -> None:
    queue = backend.queue()
    big, small = await backend.new_widget("big-tenant"), await backend.new_widget("small-tenant")
    bigs = [await backend.new_document(big) for _ in range(3)]
    smalls = [await backend.new_document(small) for _ in range(2)]
    for document_id in bigs + smalls:
        await queue.enqueue(document_id)

    assert await claim_all(queue) == [bigs[0], smalls[0], bigs[1], smalls[1], bigs[2]]


async def test_a_tenants_widgets_take_turns_within_its_turn(backend: QueueBackend) -> None:
    queue = backend.queue()
    busy, quiet = await backend.new_widget("acme"), await backend.new_widget("acme")
    busy_docs = [await backend.new_document(busy) for _ in range(3)]
    quiet_doc = await backend.new_document(quiet)
    for document_id in [*busy_docs, quiet_doc]:
        await queue.enqueue(document_id)

    assert await claim_all(queue) == [busy_docs[0], quiet_doc, busy_docs[1], busy_docs[2]]


async def test_a_paused_job_keeps_its_place_and_counts_its_attempts_afresh(
    backend: QueueBackend,
) -> None:
    queue = backend.queue()
    widget = await backend.new_widget("acme")
    first, second = await backend.new_document(widget), await backend.new_document(widget)
    await queue.enqueue(first)
    await queue.enqueue(second)
    job = await queue.claim()
    assert job is not None and job.document_id == first

    await queue.pause(job)

    assert await queue.heartbeat(job) is False  # its slice is over: the lease went with it
    again = await queue.claim()
    assert again is not None
    assert (again.id, again.document_id, again.attempts) == (job.id, first, 1)


async def test_a_paused_job_gives_way_to_another_tenant(backend: QueueBackend) -> None:
    queue = backend.queue()
    big, small = await backend.new_widget("big-tenant"), await backend.new_widget("small-tenant")
    big_doc = await backend.new_document(big)
    await queue.enqueue(big_doc)
    job = await queue.claim()
    assert job is not None
    small_doc = await backend.new_document(small)
    await queue.enqueue(small_doc)

    await queue.pause(job)

    assert await claim_all(queue) == [small_doc, big_doc]


async def test_waiting_elsewhere_sees_due_jobs_of_other_widgets_only(
    backend: QueueBackend,
) -> None:
    queue = backend.queue()
    mine, theirs = await backend.new_widget("acme"), await backend.new_widget("other")
    await queue.enqueue(await backend.new_document(mine))
    assert await queue.waiting_elsewhere(mine) is False
    assert await queue.waiting_elsewhere(theirs) is True

    their_doc = await backend.new_document(theirs)
    await queue.enqueue(their_doc)
    assert await queue.waiting_elsewhere(mine) is True

    claimed = await claim_all(queue)  # both running now, under live leases
    assert their_doc in claimed
    assert await queue.waiting_elsewhere(mine) is False


async def test_waiting_elsewhere_can_ask_for_jobs_left_unclaimed_a_while(
    backend: QueueBackend,
) -> None:
    queue = backend.queue()
    mine, theirs = await backend.new_widget("acme"), await backend.new_widget("other")
    await queue.enqueue(await backend.new_document(theirs))

    assert await queue.waiting_elsewhere(mine, 60) is False  # a free worker may take it yet
    await asyncio.sleep(0.3)
    assert await queue.waiting_elsewhere(mine, 0.2) is True


async def test_nothing_to_claim_is_none(backend: QueueBackend) -> None:
    assert await backend.queue().claim() is None


async def test_a_claimed_job_is_leased_to_its_claimer(backend: QueueBackend) -> None:
    queue = backend.queue()
    document_id = await backend.new_document()
    await queue.enqueue(document_id)

    job = await queue.claim()

    assert job is not None
    assert (job.document_id, job.attempts) == (document_id, 1)
    assert await queue.claim() is None


async def test_jobs_are_claimed_in_the_order_they_became_due(backend: QueueBackend) -> None:
    queue = backend.queue()
    first, second = await backend.new_document(), await backend.new_document()
    await queue.enqueue(first)
    await queue.enqueue(second)

    claimed = [await queue.claim(), await queue.claim()]

    assert [job.document_id for job in claimed if job] == [first, second]


async def test_concurrent_claims_never_share_a_job(backend: QueueBackend) -> None:
    queue = backend.queue()
    document_ids = {await backend.new_document() for _ in range(10)}
    for document_id in document_ids:
        await queue.enqueue(document_id)

    claimed = await asyncio.gather(*(queue.claim() for _ in range(20)))

    jobs = [job for job in claimed if job is not None]
    assert len(jobs) == 10
    assert len({job.id for job in jobs}) == 10
    assert {job.document_id for job in jobs} == document_ids


async def test_an_expired_lease_is_claimed_again(backend: QueueBackend) -> None:
    queue = backend.queue(lease_seconds=0.05)
    await queue.enqueue(await backend.new_document())
    first = await queue.claim()
    assert first is not None

    await asyncio.sleep(0.15)
    again = await queue.claim()

    assert again is not None
    assert (again.id, again.attempts) == (first.id, 2)
    assert await queue.heartbeat(first) is False  # the first worker lost its lease
    assert await queue.heartbeat(again) is True


async def test_a_heartbeat_keeps_the_lease(backend: QueueBackend) -> None:
    queue = backend.queue(lease_seconds=0.5)
    await queue.enqueue(await backend.new_document())
    job = await queue.claim()
    assert job is not None

    await asyncio.sleep(0.3)
    assert await queue.heartbeat(job) is True
    await asyncio.sleep(0.35)  # past the first lease, within the extended one

    assert await queue.claim() is None


async def test_a_completed_job_is_not_claimed_again(backend: QueueBackend) -> None:
    queue = backend.queue()
    await queue.enqueue(await backend.new_document())
    job = await queue.claim()
    assert job is not None

    await queue.complete(job)

    assert await queue.claim() is None
    assert await queue.heartbeat(job) is False


async def test_a_retry_waits_for_its_delay(backend: QueueBackend) -> None:
    queue = backend.queue()
    await queue.enqueue(await backend.new_document())
    job = await queue.claim()
    assert job is not None

    await queue.retry(job, "embedder timed out", delay_seconds=0.5)
    assert await queue.claim() is None

    await asyncio.sleep(0.6)
    again = await queue.claim()
    assert again is not None
    assert (again.id, again.attempts) == (job.id, 2)


async def test_only_the_lease_holder_can_end_a_job(backend: QueueBackend) -> None:
    queue = backend.queue(lease_seconds=0.2)
    await queue.enqueue(await backend.new_document())
    stalled = await queue.claim()
    assert stalled is not None
    await asyncio.sleep(0.3)
    successor = await queue.claim()  # the stalled worker's lease ran out
    assert successor is not None

    await queue.complete(stalled)
    await queue.fail(stalled, "too late")
    await queue.retry(stalled, "too late", delay_seconds=0)

    assert await queue.heartbeat(stalled) is False
    assert await queue.heartbeat(successor) is True
    assert (await queue.stats()).jobs_by_state == {"running": 1}


async def test_a_failed_job_is_not_claimed_again(backend: QueueBackend) -> None:
    queue = backend.queue()
    await queue.enqueue(await backend.new_document())
    job = await queue.claim()
    assert job is not None

    await queue.fail(job, "not a PDF")

    assert await queue.claim() is None


async def test_enqueueing_a_queued_or_running_document_again_changes_nothing(
    backend: QueueBackend,
) -> None:
    queue = backend.queue()
    document_id = await backend.new_document()
    await queue.enqueue(document_id)
    await queue.enqueue(document_id)

    job = await queue.claim()
    assert job is not None
    await queue.enqueue(document_id)

    assert await queue.claim() is None
    assert await queue.heartbeat(job) is True


@pytest.mark.parametrize("end", ["complete", "fail"])
async def test_enqueueing_a_finished_document_starts_it_over(
    backend: QueueBackend, end: str
) -> None:
    queue = backend.queue()
    document_id = await backend.new_document()
    await queue.enqueue(document_id)
    job = await queue.claim()
    assert job is not None
    if end == "complete":
        await queue.complete(job)
    else:
        await queue.fail(job, "gave up")

    await queue.enqueue(document_id)

    again = await queue.claim()
    assert again is not None
    assert (again.id, again.document_id, again.attempts) == (job.id, document_id, 1)


async def test_stats_count_jobs_by_state_and_age_the_longest_waiting(
    backend: QueueBackend,
) -> None:
    queue = backend.queue()
    assert (await queue.stats()).jobs_by_state == {}
    for _ in range(3):
        await queue.enqueue(await backend.new_document())
    running = await queue.claim()
    delayed = await queue.claim()
    assert running is not None and delayed is not None
    await queue.retry(delayed, "later", delay_seconds=600)  # queued, but not due: not waiting
    await asyncio.sleep(0.05)

    stats = await queue.stats()

    assert stats.jobs_by_state == {"queued": 2, "running": 1}
    assert 0.04 <= stats.oldest_queued_seconds < 5
