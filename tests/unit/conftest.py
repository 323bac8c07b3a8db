from __future__ import annotations

from uuid import UUID

import pytest

from application.chat.events import TokenDelta
from application.chat.turn import ChatTurn
from application.ingestion.submission import SubmitDocument
from application.widgets import CreateWidget
from domain.models import Chunk, Plan, Widget, WidgetSpec
from testkit.fakes.core import FakeApp
from testkit.vectors import live_chunks

HANDBOOK = """# Returns

You can return any item within 30 days of delivery for a full refund.
Refunds are paid to the original card within five working days.

# Shipping

Orders ship from our Lisbon warehouse. Express delivery takes two days.
"""


@pytest.fixture
def app() -> FakeApp:
    return FakeApp()


async def make_widget(app: FakeApp, plan: Plan = Plan.FREE, **extra: object) -> Widget:
    fields: dict[str, object] = {"tenant_id": "acme", "name": "Help", **extra}
    spec = WidgetSpec(plan=plan, **fields)  # type: ignore[arg-type]
    return await app.get(CreateWidget)(spec)


async def add_document(app: FakeApp, widget: Widget, text: str, title: str = "Handbook") -> None:
    from application.ingestion.submission import NewDocument

    await app.get(SubmitDocument)(
        NewDocument(
            widget_id=widget.id, title=title, content=text.encode(), content_type="text/markdown"
        )
    )
    await app.drain()


async def chunks_of(app: FakeApp, widget: Widget, document_id: UUID | None = None) -> list[Chunk]:
    """The widget's chunks that answers can draw on (of one document, if given)."""
    return await live_chunks(app.vectors, widget.id, app.embedder.dimension, document_id)


async def leave_at_first_token(turn: ChatTurn) -> None:
    """What a visitor hanging up once the answer has begun does to the turn: its events
    are closed mid-way."""
    events = turn.events()
    async for event in events:
        if isinstance(event, TokenDelta):
            break
    await events.aclose()
