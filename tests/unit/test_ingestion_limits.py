"""Each plan's monthly ingestion limits: documents refused at upload, chunks at cutting."""

from __future__ import annotations

import pytest

from application.documents import GetDocument
from application.ingestion.allowance import IngestionLimitPolicy, IngestionLimits
from application.ingestion.submission import NewDocument, SubmitDocument
from domain.errors import QuotaExceededError
from domain.models import DocumentStatus, Plan, Widget
from testkit.fakes.core import FakeApp
from tests.unit.conftest import make_widget


@pytest.fixture
def app() -> FakeApp:
    return FakeApp(
        ingestion_limits=IngestionLimitPolicy(
            by_plan={
                Plan.FREE: IngestionLimits(documents_per_month=2, chunks_per_month=5),
                Plan.PAID: IngestionLimits(),
            }
        )
    )


async def upload(app: FakeApp, widget: Widget, n: int, sections: int = 1) -> NewDocument:
    body = "".join(f"# Part {n}.{s}\n\nLine {s} of document {n}.\n\n" for s in range(sections))
    new = NewDocument(
        widget_id=widget.id, title=f"Doc {n}", content=body.encode(), content_type="text/markdown"
    )
    await app.get(SubmitDocument)(new)
    return new


async def test_uploads_past_the_documents_limit_get_429_saying_which_and_when(
    app: FakeApp,
) -> None:
    widget = await make_widget(app)
    other_widget = await make_widget(app)  # the same tenant: its documents count together
    await upload(app, widget, 1)
    await upload(app, other_widget, 2)

    with pytest.raises(QuotaExceededError) as refused:
        await upload(app, widget, 3)

    error = refused.value
    assert "2 of its free plan's limit of 2 documents per month" in error.message
    assert "renews on 2026-02-01" in error.message
    assert error.details == {
        "scope": "documents_per_month",
        "limit": 2,
        "used": 2,
        "resets_at": "2026-02-01T00:00:00+00:00",
    }
    assert 0 < error.retry_after <= 31 * 86400
    assert len(app.documents.documents) == 2  # nothing of the refused one kept
    assert len(app.jobs.jobs) == 2


async def test_the_same_bytes_again_and_other_tenants_are_not_counted(app: FakeApp) -> None:
    widget = await make_widget(app)
    await upload(app, widget, 1)
    await upload(app, widget, 1)  # a duplicate: the same document
    await upload(app, widget, 2)
    other_tenant = await make_widget(app, tenant_id="globex")

    await upload(app, other_tenant, 3)

    assert len(app.documents.documents) == 3


async def test_a_paid_plan_without_limits_takes_everything(app: FakeApp) -> None:
    widget = await make_widget(app, plan=Plan.PAID)
    for n in range(5):
        await upload(app, widget, n, sections=3)
    await app.drain()

    statuses = {d.status for d in app.documents.documents.values()}
    assert statuses == {DocumentStatus.READY}


async def test_a_document_past_the_chunks_limit_fails_with_a_readable_reason(
    app: FakeApp,
) -> None:
    widget = await make_widget(app)
    await upload(app, widget, 1, sections=3)
    await app.drain()
    await upload(app, widget, 2, sections=3)  # 3 + 3 chunks > 5
    await app.drain()

    first, second = sorted(app.documents.documents.values(), key=lambda d: d.title)
    assert (first.status, first.chunk_count) == (DocumentStatus.READY, 3)
    failed = await app.get(GetDocument)(second.id)
    assert failed.status is DocumentStatus.FAILED
    assert failed.error == (
        "the document has 3 chunks, more than the 2 left this month of the free plan's "
        "5 chunks per month (3 used); the allowance renews on 2026-02-01 (UTC)"
    )
    assert all(chunk.document_id == first.id for chunk, *_ in app.vectors.points.values())
