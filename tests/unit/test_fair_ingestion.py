"""No document waits for another widget's whole document: a big one yields the embedder
after a slice, and is taken up again where it stopped (also after its worker died)."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec

from application.documents import GetDocument
from application.ingestion.processing import ProcessDocument
from application.ingestion.submission import NewDocument, SubmitDocument
from domain.models import DocumentStatus, Widget
from testkit.fakes.core import FakeApp
from tests.unit.conftest import chunks_of, make_widget

SECTIONS = 12


def big_text(name: str) -> str:
    return "".join(
        f"# {name} part {n}\n\n{name} says thing number {n}.\n\n" for n in range(SECTIONS)
    )


async def submit(app: FakeApp, widget: Widget, title: str, text: str) -> NewDocument:
    new = NewDocument(
        widget_id=widget.id, title=title, content=text.encode(), content_type="text/markdown"
    )
    await app.get(SubmitDocument)(new)
    return new


def one_chunk_batches_in_slices_of_one(app: FakeApp) -> None:
    app.get(ProcessDocument)._policy = msgspec.structs.replace(
        app.ingestion_policy, embed_batch=1, slice_seconds=0, unclaimed_seconds=0
    )


def counting_embeds(app: FakeApp) -> list[str]:
    embedded: list[str] = []
    embed = app.embedder.embed

    async def counting(texts: list[str]) -> list[list[float]]:
        embedded.extend(texts)
        return await embed(texts)

    app.embedder.embed = counting  # type: ignore[method-assign]
    return embedded


async def status_of(app: FakeApp, title: str) -> DocumentStatus:
    found = [d for d in app.documents.documents.values() if d.title == title]
    return (await app.get(GetDocument)(found[0].id)).status


async def test_another_tenants_small_document_does_not_wait_for_a_big_one(app: FakeApp) -> None:
    big_tenant = await make_widget(app, tenant_id="big")
    small_tenant = await make_widget(app, tenant_id="small")
    await submit(app, big_tenant, "Big", big_text("Big"))
    await submit(app, small_tenant, "Small", "# Hours\n\nOpen from nine to five.\n")
    one_chunk_batches_in_slices_of_one(app)
    embedded = counting_embeds(app)
    process = app.get(ProcessDocument)

    assert await process.next_job()  # the big one, queued first: one slice, then it yields
    assert await status_of(app, "Big") is DocumentStatus.PROCESSING
    assert await process.next_job()  # the small one's tenant has not been served yet

    assert await status_of(app, "Small") is DocumentStatus.READY
    assert await status_of(app, "Big") is DocumentStatus.PROCESSING
    await app.drain()
    assert await status_of(app, "Big") is DocumentStatus.READY
    big = next(d for d in app.documents.documents.values() if d.title == "Big")
    assert len(await chunks_of(app, big_tenant, big.id)) == big.chunk_count == SECTIONS
    # Taken up where it stopped: every chunk embedded once.
    assert len(embedded) == SECTIONS + 1
    assert app.telemetry.jobs == ["yielded", "ready", "ready"]


async def test_a_document_alone_embeds_whole_without_yielding(app: FakeApp) -> None:
    widget = await make_widget(app)
    await submit(app, widget, "Big", big_text("Big"))
    # Another document of the same widget waits in line behind it, as before: in order.
    await submit(app, widget, "Next", "# Hours\n\nOpen from nine to five.\n")
    one_chunk_batches_in_slices_of_one(app)

    await app.drain()

    assert app.telemetry.jobs == ["ready", "ready"]


async def test_a_big_document_whose_worker_died_resumes_where_it_stopped(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(
        NewDocument(
            widget_id=widget.id,
            title="Big",
            content=big_text("Big").encode(),
            content_type="text/markdown",
        )
    )
    one_chunk_batches_in_slices_of_one(app)
    embedded = counting_embeds(app)
    counted = app.embedder.embed
    killed = asyncio.Event()

    async def dying_after_five(texts: list[str]) -> list[list[float]]:
        if len(embedded) >= 5:
            killed.set()
            await asyncio.Event().wait()  # the worker is gone: never returns, never ends
        return await counted(texts)

    app.embedder.embed = dying_after_five  # type: ignore[method-assign]
    app.jobs._lease = app.jobs._lease * 0  # its lease runs out at once, as a dead worker's
    first = asyncio.ensure_future(app.get(ProcessDocument).next_job())
    await asyncio.wait_for(killed.wait(), timeout=5)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    app.embedder.embed = counted  # type: ignore[method-assign]
    midway = await app.get(GetDocument)(submitted.document.id)
    assert (midway.progress.done, midway.progress.total) == (5, SECTIONS)

    # Another worker process: nothing of the first one's memory.
    app.get(ProcessDocument)._yielded = type(app.get(ProcessDocument)._yielded)()
    await app.drain()

    ready = await app.get(GetDocument)(submitted.document.id)
    assert (ready.status, ready.chunk_count) == (DocumentStatus.READY, SECTIONS)
    assert len(await chunks_of(app, widget, ready.id)) == SECTIONS
    assert len(embedded) == SECTIONS  # chunks 5.. only, the second time


async def test_a_document_replaced_while_it_yielded_starts_its_new_revision_afresh(
    app: FakeApp,
) -> None:
    widget = await make_widget(app, tenant_id="big")
    other = await make_widget(app, tenant_id="other")
    url = "https://shop.example/big"
    page = NewDocument(
        widget_id=widget.id,
        title="Big",
        content=big_text("Big").encode(),
        content_type="text/markdown",
        source_url=url,
    )
    first = await app.get(SubmitDocument)(page)
    await submit(app, other, "Small", "# Hours\n\nOpen from nine to five.\n")
    one_chunk_batches_in_slices_of_one(app)
    assert await app.get(ProcessDocument).next_job()  # one slice of revision 1, then yields

    changed = msgspec.structs.replace(page, content=big_text("Changed").encode())
    await app.get(SubmitDocument)(changed)
    await app.drain()

    ready = await app.get(GetDocument)(first.document.id)
    assert (ready.status, ready.revision, ready.chunk_count) == (DocumentStatus.READY, 2, SECTIONS)
    texts = [c.text for c in await chunks_of(app, widget, ready.id)]
    assert len(texts) == SECTIONS and all("Changed" in t for t in texts)


async def test_a_big_document_passes_the_embedder_to_another_lanes_document(
    app: FakeApp,
) -> None:
    # Two lanes: the small document, parsed on the other lane, waits for the embedder; the
    # big one lets it go first after a slice and carries on, its job never leaving it.
    big_tenant = await make_widget(app, tenant_id="big")
    small_tenant = await make_widget(app, tenant_id="small")
    await submit(app, big_tenant, "Big", big_text("Big"))
    await submit(app, small_tenant, "Small", "# Hours\n\nOpen from nine to five.\n")
    app.get(ProcessDocument)._policy = msgspec.structs.replace(
        app.ingestion_policy, embed_batch=1, slice_seconds=0, unclaimed_seconds=3600
    )
    events: list[str] = []
    embed = app.embedder.embed

    async def slow_embed(texts: list[str]) -> list[list[float]]:
        await asyncio.sleep(0.01)
        events.append("Small" if "Hours" in texts[0] else "Big")
        return await embed(texts)

    app.embedder.embed = slow_embed  # type: ignore[method-assign]
    process = app.get(ProcessDocument)

    await asyncio.gather(process.next_job(), process.next_job())

    assert events.count("Big") == SECTIONS and events.count("Small") == 1
    assert events.index("Small") < SECTIONS // 2  # not after the big one's last chunk
    assert sorted(app.telemetry.jobs) == ["ready", "ready"]  # nobody went back in line
