from __future__ import annotations

import uuid

import msgspec
import pytest

from application.documents import DeleteDocument, GetDocument, ListDocuments
from application.ingestion.submission import NewDocument, SubmitDocument
from application.ingestion.titles import MAX_TITLE_CHARS
from domain.errors import (
    DocumentNotFoundError,
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    WidgetNotFoundError,
)
from domain.models import DocumentStatus, Widget
from testkit.fakes.core import FakeApp
from tests.unit.conftest import HANDBOOK, chunks_of, make_widget


def doc(widget: Widget, text: str = HANDBOOK, content_type: str = "text/markdown") -> NewDocument:
    return NewDocument(
        widget_id=widget.id, title="Handbook", content=text.encode(), content_type=content_type
    )


async def test_a_submitted_document_is_queued_then_processed_to_ready(app: FakeApp) -> None:
    widget = await make_widget(app)

    submitted = await app.get(SubmitDocument)(doc(widget))
    assert submitted.created and submitted.document.status is DocumentStatus.QUEUED
    await app.drain()

    ready = await app.get(GetDocument)(submitted.document.id)
    assert ready.status is DocumentStatus.READY
    assert ready.chunk_count == 2 == len(await chunks_of(app, widget, ready.id))
    assert ready.progress.done == ready.progress.total == 2
    assert ready.stage is None and ready.error is None


async def test_the_same_bytes_twice_are_one_document(app: FakeApp) -> None:
    widget = await make_widget(app)
    first = await app.get(SubmitDocument)(doc(widget))
    second = await app.get(SubmitDocument)(doc(widget))

    assert not second.created
    assert second.document.id == first.document.id
    assert len(app.jobs.jobs) == 1


@pytest.mark.parametrize(
    ("new", "error"),
    [
        (dict(content_type="application/x-msdownload"), UnsupportedMediaTypeError),
        (dict(content=b"x" * 10_001), PayloadTooLargeError),
        (dict(content=b"  \n "), InvalidInputError),
        (dict(widget_id=uuid.uuid4()), WidgetNotFoundError),
    ],
)
async def test_bad_submissions_are_refused(app: FakeApp, new: dict, error: type) -> None:
    widget = await make_widget(app)
    with pytest.raises(error):
        await app.get(SubmitDocument)(msgspec.structs.replace(doc(widget), **new))
    assert app.documents.documents == {}


async def test_an_unparseable_document_fails_with_a_readable_reason(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(doc(widget, "```\n```\n", "text/markdown"))
    await app.drain()

    failed = await app.get(GetDocument)(submitted.document.id)
    assert failed.status is DocumentStatus.FAILED
    assert failed.error == "the Markdown file contains no text"


async def test_binary_content_labelled_as_text_is_refused_at_upload(app: FakeApp) -> None:
    widget = await make_widget(app)
    with pytest.raises(UnsupportedMediaTypeError):
        await app.get(SubmitDocument)(doc(widget, "binary\x00junk", "text/plain"))


async def test_a_transient_failure_is_retried_then_given_up(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(doc(widget))
    app.vectors.available = False

    await app.drain()

    job = next(iter(app.jobs.jobs.values()))
    assert job.attempts == app.ingestion_policy.max_attempts
    failed = await app.get(GetDocument)(submitted.document.id)
    assert failed.status is DocumentStatus.FAILED
    assert "VectorStoreUnavailableError" in (failed.error or "")


async def test_a_failed_document_submitted_again_is_queued_again(app: FakeApp) -> None:
    widget = await make_widget(app)
    first = await app.get(SubmitDocument)(doc(widget))
    app.vectors.available = False
    await app.drain()
    app.vectors.available = True

    again = await app.get(SubmitDocument)(doc(widget))
    assert again.document.status is DocumentStatus.QUEUED and again.document.error is None
    await app.drain()
    assert (await app.get(GetDocument)(first.document.id)).status is DocumentStatus.READY


async def test_reprocessing_a_shorter_version_drops_the_stale_chunks(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(doc(widget))
    await app.drain()
    document_id = submitted.document.id
    app.documents.contents[document_id] = b"# Returns\n\nThirty days."
    await app.jobs.enqueue(document_id)

    await app.drain()

    assert len(await chunks_of(app, widget, document_id)) == 1


async def test_deleting_a_document_removes_its_chunks(app: FakeApp) -> None:
    widget = await make_widget(app)
    submitted = await app.get(SubmitDocument)(doc(widget))
    await app.drain()

    await app.get(DeleteDocument)(submitted.document.id)

    assert await chunks_of(app, widget) == []
    with pytest.raises(DocumentNotFoundError):
        await app.get(GetDocument)(submitted.document.id)


async def test_listing_is_per_widget(app: FakeApp) -> None:
    a, b = await make_widget(app), await make_widget(app)
    await app.get(SubmitDocument)(doc(a))
    await app.get(SubmitDocument)(doc(b, "# Other\n\nSomething else entirely."))

    assert [d.widget_id for d in await app.get(ListDocuments)(a.id)] == [a.id]
    with pytest.raises(WidgetNotFoundError):
        await app.get(ListDocuments)(uuid.uuid4())


async def test_concurrent_uploads_of_the_same_bytes_make_one_document(app: FakeApp) -> None:
    import asyncio

    widget = await make_widget(app)
    results = await asyncio.gather(*(app.get(SubmitDocument)(doc(widget)) for _ in range(5)))

    assert len({r.document.id for r in results}) == 1
    assert len(app.jobs.jobs) == 1


async def test_a_title_from_a_file_name_is_one_bounded_line_without_nul(app: FakeApp) -> None:
    widget = await make_widget(app)
    name = "Ret\x00urns\npolicy " + "x" * 8000 + ".md"
    new = msgspec.structs.replace(doc(widget), title="", filename=name)

    submitted = await app.get(SubmitDocument)(new)

    assert submitted.document.title == ("Returns policy " + "x" * 8000)[:MAX_TITLE_CHARS]
