"""Billing and spending ceilings through HTTP, on the served app and its PostgreSQL: an answer
the database cannot keep is billed all the same, and an owner sees why a widget past its
monthly ceiling answers offline."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import httpx
import pytest

from domain.pricing import DEFAULT_PRICES
from testkit.llm_stubs import Reply, StubServer
from tests.e2e.conftest import ADMIN_TOKEN, Service
from tests.e2e.test_service import _ask, _until_ready, _upload, _widget
from tests.support.sse import chat_events

pytestmark = pytest.mark.e2e
HANDBOOK = b"""# Warranty

Every kettle has a two-year warranty. Keep your receipt.

# Refunds

Refunds are paid to the original card within five working days.
"""
OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MINI = "openai:gpt-4o-mini"
WAIT_S = 30.0


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory, stub: StubServer) -> Iterator[Service]:
    env = {
        "OPENAI_API_KEY": "sk-e2e",
        "OPENAI_BASE_URL": stub.url + "/v1",
        "LLM_FREE": f"{MINI},extractive",
        "QUOTA_FREE_MESSAGES_PER_MONTH": "2",
    }
    service = Service(tmp_path_factory.mktemp("billing"))
    with mock.patch.dict(os.environ, env):  # Service.start() hands os.environ to the child
        service.start()
    yield service
    service.stop()


@pytest.fixture
async def client(billed: Service, stub: StubServer) -> AsyncIterator[httpx.AsyncClient]:
    stub.reset()
    async with httpx.AsyncClient(base_url=billed.url, timeout=WAIT_S) as client:
        yield client


async def _ready_widget(client: httpx.AsyncClient, tenant_id: str, **extra: Any) -> dict[str, Any]:
    widget = await _widget(client, OWNER, tenant_id=tenant_id, **extra)
    document = await _upload(client, OWNER, widget["id"], "h.md", HANDBOOK)
    await _until_ready(client, OWNER, document)
    return widget


async def _usage(client: httpx.AsyncClient, tenant_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        "/api/usage", params={"tenant_id": tenant_id, **params}, headers=OWNER
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_an_answer_the_database_refuses_to_keep_is_billed_and_spends_the_allowance(
    client: httpx.AsyncClient, stub: StubServer
) -> None:
    widget = await _ready_widget(client, "t-unkept")
    # A NUL in the model's answer: PostgreSQL cannot store the message, so the turn's save
    # fails after the whole answer reached the visitor.
    stub.script(Reply(deltas=("Two years\u0000 ", "[1]."), usage=(300, 6)))

    events = await chat_events(
        client, {"message": "How long is the warranty?"}, {"X-Widget-Key": widget["public_key"]}
    )

    names = [name for name, _ in events]
    assert names[:2] == ["start", "sources"] and names[-1] == "error"
    assert "".join(data["text"] for name, data in events if name == "token") == (
        "Two years\u0000 [1]."
    )
    usage = await _usage(client, "t-unkept")
    price = DEFAULT_PRICES[MINI]
    assert (usage["messages"], usage["input_tokens"], usage["output_tokens"]) == (1, 300, 6)
    assert usage["cost_usd"] == pytest.approx(
        (300 * price.input_per_mtok + 6 * price.output_per_mtok) / 1e6
    )
    await _ask(client, widget["public_key"], "How are refunds paid?")  # the second of two
    refused = await client.post(
        "/api/widget/chat",
        json={"message": "And a third?"},
        headers={"X-Widget-Key": widget["public_key"]},
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"


async def test_past_its_monthly_ceiling_a_widget_answers_offline_and_its_owner_sees_why(
    client: httpx.AsyncClient, stub: StubServer
) -> None:
    # 400,000 input tokens of GPT-4o-mini: $0.06, past a $0.05 ceiling.
    widget = await _ready_widget(client, "t-ceiling", monthly_budget_usd=0.05)
    assert widget["monthly_budget_usd"] == 0.05
    stub.script(Reply(deltas=("Two years [1].",), usage=(400_000, 0)))

    first = await _ask(client, widget["public_key"], "How long is the kettle warranty?")
    second = await _ask(client, widget["public_key"], "How are refunds paid?")

    assert (first["model"], second["model"]) == (MINI, "extractive")
    assert stub.paths() == ["/v1/chat/completions"]  # the paid model was not asked again
    assert "five working days" in second["answer"]
    usage = await _usage(client, "t-ceiling", widget_id=widget["id"])
    assert usage["over_budget"] == 1
    assert usage["budget"]["over_budget"] is True
    assert usage["budget"]["limited_by"] == "widget"
    assert usage["budget"]["widget"] == {"monthly_budget_usd": 0.05, "spent_usd": 0.06}
    assert usage["budget"]["plan"]["monthly_budget_usd"] is None

    # The owner raises the ceiling: the paid model answers again.
    raised = await client.patch(
        f"/api/widgets/{widget['id']}", json={"monthly_budget_usd": 1.0}, headers=OWNER
    )
    assert raised.status_code == 200, raised.text
    usage = await _usage(client, "t-ceiling", widget_id=widget["id"])
    assert usage["budget"]["over_budget"] is False and usage["budget"]["limited_by"] is None


async def test_questions_racing_for_the_last_of_the_allowance_admit_exactly_it(
    client: httpx.AsyncClient,
) -> None:
    widget = await _ready_widget(client, "t-race")

    async def ask(n: int) -> int:
        response = await client.post(
            "/api/widget/chat",
            json={"message": f"How long is the warranty? ({n})", "visitor_id": f"v-{n}"},
            headers={"X-Widget-Key": widget["public_key"]},
        )
        assert response.status_code in (200, 429), response.text
        return response.status_code

    statuses = await asyncio.gather(*(ask(n) for n in range(12)))

    assert sorted(statuses) == [200] * 2 + [429] * 10  # QUOTA_FREE_MESSAGES_PER_MONTH=2
    assert (await _usage(client, "t-race"))["messages"] == 2
