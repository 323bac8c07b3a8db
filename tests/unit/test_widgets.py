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
from testkit.entities import a_widget
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
    [
        dict(top_k=0),
        dict(top_k=21),
        dict(name=" "),
        dict(allowed_origins=("shop.example",)),
        dict(allowed_origins=("https://z.example/path",)),
        dict(allowed_origins=("https://shop.example//",)),
        dict(allowed_origins=("https://*.example",)),
    ],
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


async def test_an_origin_not_as_a_browser_sends_it_is_refused(app: FakeApp) -> None:
    widget = await make_widget(app, allowed_origins=("https://shop.example",))

    for forged in ("https://shop.example//", "https://shop.example/", "https://Shop.example"):
        with pytest.raises(OriginNotAllowedError):
            await app.get(AuthorizeVisitor)(widget.public_key, forged)


async def test_a_wildcard_allows_any_origin(app: FakeApp) -> None:
    widget = await make_widget(app, allowed_origins=("*",))
    assert await app.get(AuthorizeVisitor)(widget.public_key, "https://anywhere.example") == widget


async def test_a_widget_may_name_its_own_models_in_fallback_order() -> None:
    from adapters.llm.router import PlanModelRouter
    from testkit.fakes.models import ScriptedModel

    plan_model, own = ScriptedModel("extractive"), ScriptedModel("anthropic:claude-haiku-4-5")
    known = {own.name: own}
    router = PlanModelRouter({Plan.FREE: [plan_model]}, known.get)
    # Stored earlier, when these models could still be used: a key removed since.
    plain = a_widget()
    custom = a_widget(models=("openai:gpt-unknown", own.name))
    unusable = a_widget(models=("openai:gpt-unknown",))

    assert router.models_for(plain) == (plan_model,)
    assert router.models_for(custom) == (own,)  # the unusable one is skipped
    assert router.models_for(unusable) == (plan_model,)
    with pytest.raises(InvalidInputError):
        await make_widget(FakeApp(), models=("gpt-4o",))


async def test_a_widget_may_name_only_models_this_service_can_call() -> None:
    from adapters.llm.router import PlanModelRouter
    from testkit.fakes.models import ScriptedModel

    haiku = ScriptedModel("anthropic:claude-haiku-4-5")
    app = FakeApp(models={Plan.FREE: [haiku], Plan.PAID: [haiku]})
    ok = await make_widget(app, models=(haiku.name, "extractive"))

    with pytest.raises(InvalidInputError) as refused:
        await make_widget(app, models=("extractive", "foo:bar"))
    assert "models[1] 'foo:bar'" in refused.value.message
    assert refused.value.details == {"field": "models", "index": 1, "value": "foo:bar"}
    with pytest.raises(InvalidInputError, match=r"models\[0\] 'openai:gpt-4o'"):
        await app.get(UpdateWidget)(ok.id, WidgetChanges(models=("openai:gpt-4o",)))
    assert (await app.get(GetWidget)(ok.id)).models == (haiku.name, "extractive")

    # With the provider catalog's reasons, as production wires it.
    router = PlanModelRouter({Plan.FREE: [haiku]}, explain=lambda s: f"{s} needs a key")
    assert router.unusable("openai:gpt-4o") == "openai:gpt-4o needs a key"


async def test_a_stored_chain_does_not_block_changing_other_settings() -> None:
    app = FakeApp()
    widget = a_widget(models=("anthropic:claude-haiku-4-5",))  # its key was removed since
    await app.widgets.add(widget)

    changed = await app.get(UpdateWidget)(widget.id, WidgetChanges(name="Renamed"))

    assert (changed.name, changed.models) == ("Renamed", widget.models)
