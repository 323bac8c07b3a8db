from __future__ import annotations

import pytest

from application.widgets import (
    AuthorizeVisitor,
    DeleteWidget,
    GetWidget,
    UpdateWidget,
    WidgetChanges,
)
from domain.errors import (
    AuthenticationError,
    InvalidInputError,
    OriginNotAllowedError,
    WidgetNotFoundError,
)
from domain.models import DEFAULT_TOP_K, Plan
from testkit.fakes.core import FakeApp
from tests.unit.conftest import HANDBOOK, add_document, chunks_of, make_widget


async def test_a_new_widget_gets_an_id_a_public_key_and_defaults(app: FakeApp) -> None:
    widget = await make_widget(app, allowed_origins=("https://shop.example/",))

    assert widget.public_key.startswith("wk_")
    assert widget.top_k == DEFAULT_TOP_K
    assert widget.allowed_origins == ("https://shop.example",)
    assert await app.get(GetWidget)(widget.id) == widget


@pytest.mark.parametrize(
    "bad",
    [dict(top_k=0), dict(top_k=21), dict(name=" "), dict(allowed_origins=("shop.example",))],
)
async def test_invalid_widget_settings_are_refused(app: FakeApp, bad: dict) -> None:
    with pytest.raises(InvalidInputError):
        await make_widget(app, **bad)


async def test_changes_touch_only_the_given_fields(app: FakeApp) -> None:
    widget = await make_widget(app)

    changed = await app.get(UpdateWidget)(widget.id, WidgetChanges(plan=Plan.PAID, top_k=8))

    assert (changed.plan, changed.top_k, changed.name) == (Plan.PAID, 8, widget.name)
    assert changed.updated_at > widget.updated_at


async def test_deleting_a_widget_removes_its_documents_and_chunks(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    await app.get(DeleteWidget)(widget.id)

    assert await chunks_of(app, widget) == []
    assert app.documents.documents == {}
    with pytest.raises(WidgetNotFoundError):
        await app.get(GetWidget)(widget.id)


async def test_a_visitor_is_recognised_by_key_and_origin(app: FakeApp) -> None:
    widget = await make_widget(app, allowed_origins=("https://shop.example",))

    assert await app.get(AuthorizeVisitor)(widget.public_key, "https://shop.example") == widget
    assert await app.get(AuthorizeVisitor)(widget.public_key, None) == widget  # server-side caller
    with pytest.raises(OriginNotAllowedError):
        await app.get(AuthorizeVisitor)(widget.public_key, "https://evil.example")
    with pytest.raises(OriginNotAllowedError):
        await app.get(AuthorizeVisitor)(widget.public_key, "http://shop.example")  # scheme matters
    with pytest.raises(AuthenticationError):
        await app.get(AuthorizeVisitor)("wk_nope", "https://shop.example")
    with pytest.raises(AuthenticationError):
        await app.get(AuthorizeVisitor)(None, "https://shop.example")


async def test_a_wildcard_allows_any_origin(app: FakeApp) -> None:
    widget = await make_widget(app, allowed_origins=("*",))
    assert await app.get(AuthorizeVisitor)(widget.public_key, "https://anywhere.example") == widget


async def test_a_widget_may_name_its_own_models_in_fallback_order() -> None:
    from adapters.llm.router import PlanModelRouter
    from testkit.fakes.models import ScriptedModel

    plan_model, own = ScriptedModel("extractive"), ScriptedModel("anthropic:claude-haiku-4-5")
    known = {own.name: own}
    router = PlanModelRouter({Plan.FREE: [plan_model]}, known.get)
    app = FakeApp()
    plain = await make_widget(app)
    custom = await make_widget(app, models=("openai:gpt-unknown", own.name))
    unusable = await make_widget(app, models=("openai:gpt-unknown",))

    assert router.models_for(plain) == (plan_model,)
    assert router.models_for(custom) == (own,)  # the unusable one is skipped
    assert router.models_for(unusable) == (plan_model,)
    with pytest.raises(InvalidInputError):
        await make_widget(app, models=("gpt-4o",))
