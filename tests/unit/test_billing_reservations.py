"""Billing no failure can skip: a question's usage is reserved when it is admitted and
settled when it ends, so an answer delivered is counted whatever happens after it."""

from __future__ import annotations

import asyncio

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.events import ChatStarted, TokenDelta
from application.chat.limits import LimitPolicy, PlanLimits
from application.chat.question import Question
from domain.errors import QuotaExceededError
from domain.models import PENDING_MODEL, Plan, Usage, Widget
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, leave_at_first_token, make_widget

MINI = "openai:gpt-4o-mini"


class RefusedRow(Exception):
    """What PostgreSQL says of a row it cannot store (a NUL in a message, say)."""


def allowance(month: int) -> LimitPolicy:
    limits = PlanLimits(
        visitor_per_minute=1000,
        address_per_minute=1000,
        widget_per_minute=1000,
        messages_per_month=month,
    )
    return LimitPolicy(by_plan=dict.fromkeys(Plan, limits))


async def _app(month: int = 10_000) -> tuple[FakeApp, Widget]:
    model = ScriptedModel(MINI, deltas=("Thirty ", "days [1]"), usage=Usage(120, 4))
    app = FakeApp(models={Plan.FREE: [model]}, limit_policy=allowance(month))
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    return app, widget


async def _start(app: FakeApp, widget: Widget, message: str = "refund") -> object:
    return await app.get(AnswerQuestion).start(Question(widget=widget, message=message))


async def test_a_question_is_counted_when_it_is_admitted_before_any_answer() -> None:
    app, widget = await _app()
    turn = await _start(app, widget)

    [reserved] = app.usage.events
    assert (reserved.pending, reserved.model, reserved.message_id) == (
        True,
        PENDING_MODEL,
        turn.message_id,  # type: ignore[attr-defined]
    )
    await turn.collect()  # type: ignore[attr-defined]
    [settled] = app.usage.events
    assert (settled.id, settled.pending, settled.model) == (reserved.id, False, MINI)
    assert (settled.usage.input_tokens, settled.usage.output_tokens) == (120, 4)


async def test_an_answer_whose_save_fails_is_billed_and_spends_the_allowance() -> None:
    app, widget = await _app(month=1)
    app.exchanges.fail_with = RefusedRow("invalid byte sequence for encoding UTF8: 0x00")
    turn = await _start(app, widget)

    said: list[str] = []
    with pytest.raises(RefusedRow):
        async for event in turn.events():  # type: ignore[attr-defined]
            if isinstance(event, TokenDelta):
                said.append(event.text)

    assert "".join(said) == "Thirty days [1]"  # the whole answer reached the visitor
    [billed] = app.usage.events
    assert (billed.pending, billed.failed, billed.model) == (False, False, MINI)
    assert (billed.usage.input_tokens, billed.usage.output_tokens) == (120, 4)
    summary = await app.usage.summarize(widget.tenant_id, billed.created_at, app.clock.now())
    assert (summary.messages, summary.input_tokens) == (1, 120)
    with pytest.raises(QuotaExceededError):
        await _start(app, widget, "and another")


async def test_with_the_save_and_the_settlement_failing_the_reservation_still_counts() -> None:
    app, widget = await _app(month=1)
    app.exchanges.fail_with = RefusedRow("database gone")
    app.usage.fail_settle_with = RefusedRow("database still gone")

    with pytest.raises(RefusedRow) as raised:
        await (await _start(app, widget)).collect()  # type: ignore[attr-defined]

    assert any("stays pending" in note for note in raised.value.__notes__)
    [reserved] = app.usage.events
    assert reserved.pending
    with pytest.raises(QuotaExceededError):
        await _start(app, widget, "and another")


async def test_a_visitor_who_hangs_up_is_billed_and_spends_the_allowance() -> None:
    app, widget = await _app(month=1)
    await leave_at_first_token(await _start(app, widget))  # type: ignore[arg-type]

    [billed] = app.usage.events
    assert not billed.pending and billed.usage.output_tokens > 0
    with pytest.raises(QuotaExceededError):
        await _start(app, widget, "and another")


async def test_a_failed_answer_gives_its_message_back_to_the_allowance() -> None:
    app = FakeApp(
        models={Plan.FREE: [ScriptedModel(MINI, fail_after=0)]}, limit_policy=allowance(1)
    )
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    with pytest.raises(Exception, match="no chat model could answer"):
        await (await _start(app, widget)).collect()  # type: ignore[attr-defined]
    [failed] = app.usage.events
    assert failed.failed and not failed.pending

    await _start(app, widget, "again")  # admitted: the failed one was never counted


async def test_parallel_questions_admit_exactly_the_allowance() -> None:
    app, widget = await _app(month=5)

    async def one(n: int) -> bool:
        try:
            await _start(app, widget, f"refund {n}")
        except QuotaExceededError:
            return False
        return True

    admitted = await asyncio.gather(*(one(n) for n in range(20)))

    assert sum(admitted) == 5
    assert len(app.usage.events) == 5


async def test_the_stream_starts_only_once_the_question_is_reserved() -> None:
    app, widget = await _app()
    turn = await _start(app, widget)
    events = turn.events()  # type: ignore[attr-defined]
    started = await anext(events)
    await events.aclose()

    assert isinstance(started, ChatStarted) and started.model == MINI
    [settled] = app.usage.events
    assert not settled.pending  # a stream closed before any answer settles too
