"""Contract of usage reserved at admission and settled at the end, with the month's counts
behind the allowance and the spending ceilings: the fake and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import msgspec
import pytest

from adapters.postgres.database import Database, create_pool
from adapters.postgres.usage import AsyncpgUsageRepository
from application.ports.storage import (
    Exchange,
)
from domain.models import (
    OVER_BUDGET,
    PENDING_MODEL,
    Conversation,
    Message,
    MonthToDate,
    Plan,
    Role,
    Usage,
    UsageEvent,
    Widget,
)
from testkit.entities import EPOCH, a_widget
from tests.support.repositories import Repositories

MINI = "openai:gpt-4o-mini"


def reservation(widget: Widget, days: float = 0, **overrides: object) -> UsageEvent:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": widget.tenant_id,
        "widget_id": widget.id,
        "conversation_id": uuid.uuid4(),
        "message_id": uuid.uuid4(),
        "plan": Plan.FREE,
        "model": PENDING_MODEL,
        "usage": Usage(),
        "pending": True,
        "created_at": EPOCH + timedelta(days=days),
    }
    return UsageEvent(**(fields | overrides))  # type: ignore[arg-type]


def settled(event: UsageEvent, usage: Usage, **overrides: object) -> UsageEvent:
    return msgspec.structs.replace(event, model=MINI, usage=usage, pending=False, **overrides)  # type: ignore[arg-type]


async def a_tenants_widget(repos: Repositories, tenant_id: str = "acme") -> Widget:
    widget = a_widget(tenant_id=tenant_id)
    await repos.widgets.add(widget)
    return widget


async def test_a_reservation_counts_at_once_and_the_allowance_refuses_past_it(
    repos: Repositories,
) -> None:
    widget = await a_tenants_widget(repos)

    first = await repos.usage.reserve(reservation(widget), messages_per_month=2)
    second = await repos.usage.reserve(reservation(widget), messages_per_month=2)
    refused = reservation(widget)
    third = await repos.usage.reserve(refused, messages_per_month=2)

    assert (first, second, third) == (
        MonthToDate(tenant_messages=1),
        MonthToDate(tenant_messages=2),
        None,
    )
    summary = await repos.usage.summarize(widget.tenant_id, EPOCH, EPOCH + timedelta(days=1))
    assert summary.messages == 2  # the refused one recorded nothing
    assert [m.model for m in summary.by_model] == [PENDING_MODEL]


async def test_an_allowance_of_nothing_admits_nothing(repos: Repositories) -> None:
    widget = await a_tenants_widget(repos)
    assert await repos.usage.reserve(reservation(widget), messages_per_month=0) is None


async def test_settling_bills_the_tokens_once_to_the_tenant_and_the_widget(
    repos: Repositories,
) -> None:
    widget = await a_tenants_widget(repos)
    other = await a_tenants_widget(repos)
    event = reservation(widget)
    await repos.usage.reserve(event, messages_per_month=10)

    await repos.usage.settle(settled(event, Usage(900, 9, 0.25)))
    await repos.usage.settle(settled(event, Usage(900, 9, 0.25)))  # again: counted once

    month = await repos.usage.month_to_date(widget.tenant_id, widget.id, EPOCH)
    assert month == MonthToDate(tenant_messages=1, tenant_cost_usd=0.25, widget_cost_usd=0.25)
    others = await repos.usage.month_to_date(widget.tenant_id, other.id, EPOCH)
    assert others == MonthToDate(tenant_messages=1, tenant_cost_usd=0.25, widget_cost_usd=0.0)
    summary = await repos.usage.summarize(widget.tenant_id, EPOCH, EPOCH + timedelta(days=1))
    assert (summary.messages, summary.input_tokens, summary.cost_usd) == (1, 900, 0.25)
    assert [m.model for m in summary.by_model] == [MINI]


async def test_a_failed_answer_is_taken_off_the_allowance_and_never_billed(
    repos: Repositories,
) -> None:
    widget = await a_tenants_widget(repos)
    event = reservation(widget)
    await repos.usage.reserve(event, messages_per_month=1)

    await repos.usage.settle(settled(event, Usage(50, 2, 0.1), failed=True))

    month = await repos.usage.month_to_date(widget.tenant_id, widget.id, EPOCH)
    assert month == MonthToDate()
    assert await repos.usage.reserve(reservation(widget), messages_per_month=1) is not None


async def test_usage_settled_without_a_reservation_is_recorded_and_counted(
    repos: Repositories,
) -> None:
    widget = await a_tenants_widget(repos)
    event = settled(reservation(widget), Usage(10, 1, 0.5))

    await repos.usage.settle(event)

    month = await repos.usage.month_to_date(widget.tenant_id, widget.id, EPOCH)
    assert month == MonthToDate(tenant_messages=1, tenant_cost_usd=0.5, widget_cost_usd=0.5)
    assert await repos.usage.reserve(reservation(widget), messages_per_month=1) is None


async def test_a_saved_exchange_settles_its_reservation(repos: Repositories) -> None:
    widget = await a_tenants_widget(repos)
    conversation = Conversation(
        id=uuid.uuid4(), widget_id=widget.id, visitor_id=None, created_at=EPOCH
    )
    question, answer = (
        Message(id=uuid.uuid4(), conversation_id=conversation.id, role=role, content=text,
                created_at=EPOCH)
        for role, text in ((Role.USER, "How long?"), (Role.ASSISTANT, "Thirty days."))
    )  # fmt: skip
    event = reservation(widget, conversation_id=conversation.id, message_id=answer.id)
    await repos.usage.reserve(event, messages_per_month=10)

    usage = settled(event, Usage(120, 4, 0.125), reason=OVER_BUDGET)
    await repos.turns.save(
        Exchange(new_conversation=conversation, messages=(question, answer), usage=usage)
    )

    assert await repos.conversations.recent_messages(conversation.id, 5) == [question, answer]
    summary = await repos.usage.summarize(widget.tenant_id, EPOCH, EPOCH + timedelta(days=1))
    assert (summary.messages, summary.input_tokens, summary.over_budget) == (1, 120, 1)
    month = await repos.usage.month_to_date(widget.tenant_id, widget.id, EPOCH)
    assert month == MonthToDate(tenant_messages=1, tenant_cost_usd=0.125, widget_cost_usd=0.125)


async def test_each_calendar_month_has_its_own_allowance(repos: Repositories) -> None:
    widget = await a_tenants_widget(repos)
    this_month = reservation(widget)
    await repos.usage.reserve(this_month, messages_per_month=1)
    await repos.usage.settle(settled(this_month, Usage(1, 1, 2.0)))

    next_month = reservation(widget, days=40)
    assert await repos.usage.reserve(next_month, messages_per_month=1) == MonthToDate(
        tenant_messages=1
    )
    assert await repos.usage.reserve(reservation(widget, days=1), messages_per_month=1) is None


async def test_questions_racing_for_the_allowance_admit_exactly_it(repos: Repositories) -> None:
    widget = await a_tenants_widget(repos)
    events = [reservation(widget) for _ in range(30)]

    admitted = await asyncio.gather(
        *(repos.usage.reserve(event, messages_per_month=7) for event in events)
    )

    assert sum(month is not None for month in admitted) == 7
    assert sorted(m.tenant_messages for m in admitted if m is not None) == list(range(1, 8))
    summary = await repos.usage.summarize(widget.tenant_id, EPOCH, EPOCH + timedelta(days=1))
    assert summary.messages == 7


@pytest.mark.integration
async def test_a_reservation_leaves_its_connections_settings_as_they_were(
    postgres_url: str,
) -> None:
    # It commits without waiting for the disk, for its own transaction only. One connection:
    # the next statement runs where the reservation ran.
    pool = await create_pool(postgres_url, min_size=1, max_size=1)
    try:
        database = Database(pool)
        usage = AsyncpgUsageRepository(database)
        widget = a_widget(tenant_id=f"sync-{uuid.uuid4().hex}")
        async with database.connection() as connection:
            before = await connection.fetchval("SHOW synchronous_commit")

        assert await usage.reserve(reservation(widget), messages_per_month=5) is not None

        async with database.connection() as connection:
            assert await connection.fetchval("SHOW synchronous_commit") == before == "on"
    finally:
        await pool.close()
