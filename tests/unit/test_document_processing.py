"""Processing that survives crashes, stalls, deletions and changing content."""

from __future__ import annotations

import asyncio
import itertools

import msgspec

from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.documents import DeleteDocument, GetDocument
from application.ingestion.processing import ProcessDocument
from application.ingestion.submission import NewDocument, SubmitDocument
from domain.models import DocumentStatus, Element, Widget
from testkit.fakes.core import FakeApp
from tests.unit.conftest import chunks_of, make_widget

PAGE_V1 = "# Delivery\n\nStandard delivery takes five days.\n\n# Fees\n\nDelivery is free.\n"
PAGE_V2 = "# Delivery\n\nStandard delivery now takes two days.\n"
URL = "https://shop.example/delivery"


def page(widget: Widget, text: str) -> NewDocument:
    return NewDocument(
        widget_id=widget.id,
        title="Delivery",
        content=text.encode(),
        content_type="text/markdown",
        source_url=URL,
    )


async def ask(app: FakeApp, widget: Widget, message: str) -> list[str]:
    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message=message))
    answer = await turn.collect()
    return [s.snippet for s in answer.sources]


async def test_a_changed_page_replaces_its_chunks_under_the_same_document(app: FakeApp) -> None:
    widget = await make_widget(app)
    first = await app.get(SubmitDocument)(page(widget, PAGE_V1))
    await app.drain()

    second = await app.get(SubmitDocument)(page(widget, PAGE_V2))
    assert second.created and second.document.id == first.document.id
    assert second.document.revision == 2
    # Until the new revision is processed, answers come from the old one alone.
    assert any("five days" in s for s in await ask(app, widget, "How long is delivery?"))
    await app.drain()

    ready = await app.get(GetDocument)(first.document.id)
    assert (ready.status, ready.revision, ready.chunk_count) == (DocumentStatus.READY, 2, 1)
    assert len(await chunks_of(app, widget, ready.id)) == 1
    snippets = await ask(app, widget, "How long is delivery?")
    assert snippets and all("two days" in s for s in snippets)


async def test_the_same_page_again_is_the_same_document_unchanged(app: FakeApp) -> None:
    widget = await make_widget(app)
    first = await app.get(SubmitDocument)(page(widget, PAGE_V1))
    again = await app.get(SubmitDocument)(page(widget, PAGE_V1))

    assert not again.created
    assert (again.document.id, again.document.revision) == (first.document.id, 1)


async def test_chunks_are_unseen_until_the_whole_document_is_in(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(page(widget, PAGE_V1))
    seen_while_embedding: list[int] = []
    embed = app.embedder.embed

    async def watching(texts: list[str]) -> list[list[float]]:
        seen_while_embedding.append(len(await chunks_of(app, widget)))
        return await embed(texts)

    app.embedder.embed = watching  # type: ignore[method-assign]
    app.get(ProcessDocument)._policy = msgspec.structs.replace(app.ingestion_policy, embed_batch=1)
    await app.drain()

    assert seen_while_embedding == [0, 0]
    assert len(await chunks_of(app, widget, submitted.document.id)) == 2


async def test_a_document_deleted_while_processed_leaves_no_chunks(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(page(widget, PAGE_V1))
    embed = app.embedder.embed

    async def deleting(texts: list[str]) -> list[list[float]]:
        await app.get(DeleteDocument)(submitted.document.id)
        return await embed(texts)

    app.embedder.embed = deleting  # type: ignore[method-assign]
    await app.drain()

    assert await chunks_of(app, widget) == []
    assert not app.vectors.points
    assert [j.state for j in app.jobs.jobs.values()] == ["done"]


async def test_a_document_that_keeps_killing_its_worker_ends_failed(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(page(widget, PAGE_V1))
    app.jobs._lease = app.jobs._lease * 0  # every claim expires at once, as if its worker died
    for _ in range(app.ingestion_policy.max_attempts):
        assert await app.jobs.claim() is not None  # claimed, then the worker was killed

    await app.drain()

    failed = await app.get(GetDocument)(submitted.document.id)
    assert failed.status is DocumentStatus.FAILED
    assert "stopped 3 times without finishing" in (failed.error or "")


async def test_a_worker_that_loses_its_lease_stops_and_leaves_the_verdict(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(page(widget, PAGE_V1))
    app.get(ProcessDocument)._policy = msgspec.structs.replace(
        app.ingestion_policy, heartbeat_seconds=0.01
    )
    job = await app.jobs.claim()
    assert job is not None
    embed = app.embedder.embed

    async def stalling(texts: list[str]) -> list[list[float]]:
        app.jobs.jobs[job.id].attempts += 1  # meanwhile another worker took the job over
        await asyncio.sleep(1)
        return await embed(texts)

    app.embedder.embed = stalling  # type: ignore[method-assign]
    await asyncio.wait_for(app.get(ProcessDocument)(job), timeout=0.5)

    assert app.jobs.jobs[job.id].state == "running"  # still the successor's
    assert await chunks_of(app, widget) == []
    assert app.telemetry.jobs == ["lease_lost"]
    assert (await app.get(GetDocument)(submitted.document.id)).status is DocumentStatus.PROCESSING


async def test_documents_embed_one_at_a_time_while_the_next_is_parsed(app: FakeApp) -> None:
    # Taking turns batch by batch, two documents would finish embedding together and then
    # both parse while the embedder idles; whole turns let one parse while the other embeds.
    widget = await make_widget(app)
    for name in ("Alpha", "Beta"):
        sections = "".join(f"# {name} {n}\n\n{name} text number {n}.\n\n" for n in range(3))
        await app.get(SubmitDocument)(
            NewDocument(
                widget_id=widget.id,
                title=name,
                content=sections.encode(),
                content_type="text/markdown",
            )
        )
    app.get(ProcessDocument)._policy = msgspec.structs.replace(app.ingestion_policy, embed_batch=1)
    events: list[str] = []
    parse, embed = app.parser.parse, app.embedder.embed

    async def slow_parse(content: bytes, content_type: str) -> list[Element]:
        name = "Alpha" if b"Alpha" in content else "Beta"
        await asyncio.sleep(0.05)
        events.append(f"parsed {name}")
        return await parse(content, content_type)

    async def slow_embed(texts: list[str]) -> list[list[float]]:
        await asyncio.sleep(0.02)
        events.append("embedded " + ("Alpha" if "Alpha" in texts[0] else "Beta"))
        return await embed(texts)

    app.parser.parse = slow_parse  # type: ignore[method-assign]
    app.embedder.embed = slow_embed  # type: ignore[method-assign]
    await asyncio.gather(app.get(ProcessDocument).next_job(), app.get(ProcessDocument).next_job())

    embedded = [e.split()[1] for e in events if e.startswith("embedded")]
    assert len(embedded) == 6 and [k for k, _ in itertools.groupby(embedded)] in (
        ["Alpha", "Beta"],
        ["Beta", "Alpha"],
    )
    first, second = embedded[0], embedded[-1]
    # The second document was parsed before the first had finished embedding.
    last_of_first = max(i for i, e in enumerate(events) if e == f"embedded {first}")
    assert events.index(f"parsed {second}") < last_of_first
