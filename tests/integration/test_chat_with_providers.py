"""A visitor's question answered by real provider adapters (real SDKs, local stand-ins):
the SSE events the widget sees, failover, what is saved and billed, and a visitor who
hangs up mid-answer."""

from __future__ import annotations

import asyncio

import pytest

from adapters.llm.catalog import ModelCatalog
from adapters.providers.retries import Resilience
from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.chat.turn import ChatTurn
from domain.errors import ModelUnavailableError
from domain.models import Plan, Widget
from domain.pricing import DEFAULT_PRICES
from domain.tokens import estimate_tokens
from entrypoints.http.sse import sse_frames
from testkit.fakes.core import FakeApp
from testkit.llm_stubs import Reply, StubServer
from tests.support.sse import Event, events_in
from tests.unit.conftest import HANDBOOK, add_document, make_widget

SONNET, MINI, GPT4O = "anthropic:claude-sonnet-5-5", "openai:gpt-4o-mini", "openai:gpt-4o"
WAIT_S = 10.0


@pytest.fixture
def stub_resilience() -> Resilience:
    return Resilience(attempts=2, backoff_seconds=0.01, first_token_seconds=0.5, total_seconds=5)


async def app_with(catalog: ModelCatalog, plan: Plan, *specs: str) -> tuple[FakeApp, Widget]:
    app = FakeApp(models={plan: [catalog.model(spec) for spec in specs]})
    widget = await make_widget(app, plan=plan)
    await add_document(app, widget, HANDBOOK)
    return app, widget


async def stream(turn: ChatTurn) -> list[Event]:
    async with asyncio.timeout(WAIT_S):
        return events_in([frame async for frame in sse_frames(turn.events())])


async def ask(app: FakeApp, widget: Widget, message: str = "How are refunds paid?") -> ChatTurn:
    return await app.get(AnswerQuestion).start(Question(widget=widget, message=message))


async def test_the_widget_sees_the_providers_tokens_and_its_usage_is_billed(
    catalog: ModelCatalog, stub: StubServer
) -> None:
    app, widget = await app_with(catalog, Plan.PAID, SONNET)
    stub.script(Reply(deltas=("Refunds go ", "to the card [1]."), usage=(900, 12)))

    events = await stream(await ask(app, widget))

    assert [name for name, _ in events] == ["start", "sources", "token", "token", "done"]
    assert events[-1][1]["usage"]["input_tokens"] == 900
    price = DEFAULT_PRICES[SONNET]
    [saved] = app.usage.events
    assert saved.model == SONNET
    assert saved.usage.cost_usd == pytest.approx(
        (900 * price.input_per_mtok + 12 * price.output_per_mtok) / 1e6
    )
    reply = app.conversations.messages[-1]
    assert (reply.content, reply.finish_reason) == ("Refunds go to the card [1].", "stop")
    sent = stub.requests[0].body
    assert "Refunds are paid to the original card" not in sent["system"]  # data, not rules
    assert "Refunds are paid to the original card" in sent["messages"][-1]["content"]


async def test_failover_before_the_first_token_is_invisible_to_the_visitor(
    catalog: ModelCatalog, stub: StubServer
) -> None:
    app, widget = await app_with(catalog, Plan.PAID, SONNET, GPT4O)
    overloaded = Reply(status=529, error_type="overloaded_error")
    stub.script(overloaded, overloaded, Reply(deltas=("From GPT-4o [1].",), usage=(50, 5)))

    events = await stream(await ask(app, widget))

    assert "error" not in [name for name, _ in events]
    assert events[-1] == ("done", {**events[-1][1], "model": GPT4O})
    assert stub.paths() == ["/v1/messages", "/v1/messages", "/v1/chat/completions"]
    [saved] = app.usage.events
    assert (saved.model, saved.usage.input_tokens, saved.usage.output_tokens) == (GPT4O, 50, 5)


async def test_a_slow_first_token_fails_over_without_the_visitor_noticing(
    catalog: ModelCatalog, stub: StubServer
) -> None:
    app, widget = await app_with(catalog, Plan.FREE, MINI, SONNET)
    slow = Reply(first_token_delay=3.0)
    stub.script(slow, slow, Reply(deltas=("Quick [1].",)))

    events = await stream(await ask(app, widget))

    assert [name for name, _ in events][-2:] == ["token", "done"]
    assert events[-1][1]["model"] == SONNET
    assert [s.wait_ended() for s in stub.requests[:2]] == ["client_closed", "client_closed"]


async def test_a_stream_cut_after_the_first_token_ends_with_an_error_event_and_is_saved(
    catalog: ModelCatalog, stub: StubServer
) -> None:
    app, widget = await app_with(catalog, Plan.FREE, MINI, SONNET)
    stub.script(Reply(deltas=("Refunds are paid ", "to the original card ", "in"), fail_after=2))

    events = await stream(await ask(app, widget))

    names = [name for name, _ in events]
    assert names == ["start", "sources", "token", "token", "error"]
    assert events[-1][1]["code"] == "answer_interrupted"
    assert stub.paths() == ["/v1/chat/completions"]  # no silent switch mid-answer
    reply = app.conversations.messages[-1]
    partial = "Refunds are paid to the original card "
    assert (reply.content, reply.finish_reason, reply.model) == (partial, "error", MINI)
    [saved] = app.usage.events
    # Never reported by the provider: estimated from what was said.
    assert saved.usage.output_tokens == estimate_tokens(partial)
    assert saved.usage.input_tokens > 100
    assert saved.usage.cost_usd > 0


async def test_malformed_json_mid_stream_ends_with_an_error_event(
    catalog: ModelCatalog, stub: StubServer
) -> None:
    app, widget = await app_with(catalog, Plan.PAID, SONNET)
    stub.script(Reply(deltas=("Part one. ", "Part two."), fail_after=1, failure="malformed"))

    events = await stream(await ask(app, widget))

    assert [name for name, _ in events][-2:] == ["token", "error"]
    assert app.conversations.messages[-1].content == "Part one. "


async def test_when_every_model_fails_the_stream_ends_with_an_error_not_a_hang(
    catalog: ModelCatalog, stub: StubServer
) -> None:
    app, widget = await app_with(catalog, Plan.PAID, SONNET, GPT4O)
    stub.reset(default=Reply(status=500))

    events = await stream(await ask(app, widget))

    assert events[-1] == ("error", {**events[-1][1], "code": "model_unavailable"})
    assert len(stub.requests) == 4  # two attempts at each
    with pytest.raises(ModelUnavailableError):
        await (await ask(app, widget)).collect()
    assert [m.finish_reason for m in app.conversations.messages[1::2]] == ["error", "error"]
    assert all(e.usage.cost_usd == 0 for e in app.usage.events)  # refused: not billed


@pytest.mark.parametrize("spec", [MINI, SONNET])
async def test_a_visitor_who_hangs_up_cancels_the_provider_request_and_is_billed(
    catalog: ModelCatalog, stub: StubServer, spec: str
) -> None:
    app, widget = await app_with(catalog, Plan.FREE, spec)
    stub.script(
        Reply(deltas=("Refunds ", "are ", "paid ", *("more " for _ in range(40))), delay=0.05)
    )
    frames: list[bytes] = []
    first_token = asyncio.Event()

    async def visitor() -> None:
        async for frame in sse_frames((await ask(app, widget)).events()):
            frames.append(frame)
            if frame.startswith(b"event: token"):
                first_token.set()

    task = asyncio.create_task(visitor())
    async with asyncio.timeout(WAIT_S):
        await first_token.wait()
    task.cancel()  # what the ASGI server does when the visitor's connection drops
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(stub.requests[0].wait_ended) == "client_closed"
    reply = app.conversations.messages[-1]
    assert reply.finish_reason == "cancelled"
    assert reply.content.startswith("Refunds ")
    [saved] = app.usage.events
    assert saved.usage.input_tokens > 100 and saved.usage.output_tokens >= 1
    assert saved.usage.cost_usd > 0
