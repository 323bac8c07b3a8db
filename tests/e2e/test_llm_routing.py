"""Provider keys and base URLs in the environment route free and paid widgets to OpenAI and
Anthropic with no code change: the real service, pointed at local stand-ins."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest import mock

import httpx
import pytest
from httpx_sse import aconnect_sse

from domain.pricing import DEFAULT_PRICES
from testkit.llm_stubs import Reply, StubServer
from tests.e2e.conftest import Service
from tests.e2e.test_service import _ask, _until_ready, _upload, _widget
from tests.support.sse import Event, chat_events

pytestmark = pytest.mark.e2e
HANDBOOK = b"""# Warranty

Every kettle has a two-year warranty. Keep your receipt.

# Refunds

Refunds are paid to the original card within five working days.
"""
WAIT_S = 30.0


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory, stub: StubServer) -> Iterator[Service]:
    env = {
        "OPENAI_API_KEY": "sk-e2e",
        "OPENAI_BASE_URL": stub.url + "/v1",
        "ANTHROPIC_API_KEY": "sk-ant-e2e",
        "ANTHROPIC_BASE_URL": stub.url,
        "LLM_FREE": "openai:gpt-4o-mini,extractive",
        "LLM_PAID": "anthropic:claude-sonnet-5-5,openai:gpt-4o",
        "LLM_RETRY_BACKOFF": "0.01",
        "LLM_FIRST_TOKEN_TIMEOUT": "2",
    }
    service = Service(tmp_path_factory.mktemp("routed"))
    with mock.patch.dict(os.environ, env):  # Service.start() hands os.environ to the child
        service.start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
async def widgets(routed: Service, owner_headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    made = {}
    async with httpx.AsyncClient(base_url=routed.url, timeout=WAIT_S) as client:
        for plan in ("free", "paid"):
            widget = await _widget(client, owner_headers, plan=plan, tenant_id=f"t-{plan}")
            document = await _upload(client, owner_headers, widget["id"], "h.md", HANDBOOK)
            await _until_ready(client, owner_headers, document)
            made[plan] = widget
    return made


@pytest.fixture(scope="module")
def owner_headers() -> dict[str, str]:
    from tests.e2e.conftest import ADMIN_TOKEN

    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def client(routed: Service, stub: StubServer) -> AsyncIterator[httpx.AsyncClient]:
    stub.reset()
    async with httpx.AsyncClient(base_url=routed.url, timeout=WAIT_S) as client:
        yield client


async def _events(client: httpx.AsyncClient, key: str, message: str) -> list[Event]:
    return await chat_events(client, {"message": message}, {"X-Widget-Key": key})


async def test_free_widgets_answer_with_openai_and_paid_with_anthropic(
    client: httpx.AsyncClient, stub: StubServer, widgets: dict[str, dict[str, Any]]
) -> None:
    stub.script(
        Reply(deltas=("Two years [1].",), usage=(300, 6)),
        Reply(deltas=("Two ", "years [1]."), usage=(400, 8)),
    )

    free = await _ask(client, widgets["free"]["public_key"], "How long is the kettle warranty?")
    paid = await _ask(client, widgets["paid"]["public_key"], "How long is the kettle warranty?")

    assert (free["model"], free["answer"]) == ("openai:gpt-4o-mini", "Two years [1].")
    assert (paid["model"], paid["answer"]) == ("anthropic:claude-sonnet-5-5", "Two years [1].")
    assert stub.paths() == ["/v1/chat/completions", "/v1/messages"]
    openai_request, anthropic_request = stub.requests
    assert openai_request.headers["authorization"] == "Bearer sk-e2e"
    # The sources go in the visitor's message, fenced as data; the system message has rules.
    system, *_, asked = openai_request.body["messages"]
    assert system["role"] == "system" and "two-year warranty" not in system["content"]
    assert asked["role"] == "user" and "two-year warranty" in asked["content"]
    assert "two-year warranty" not in anthropic_request.body["system"]
    assert "two-year warranty" in anthropic_request.body["messages"][-1]["content"]
    price = DEFAULT_PRICES["anthropic:claude-sonnet-5-5"]
    assert paid["usage"] == {
        "input_tokens": 400,
        "output_tokens": 8,
        "cost_usd": pytest.approx((400 * price.input_per_mtok + 8 * price.output_per_mtok) / 1e6),
    }


async def test_an_overloaded_anthropic_fails_over_to_openai_unseen(
    client: httpx.AsyncClient, stub: StubServer, widgets: dict[str, dict[str, Any]]
) -> None:
    overloaded = Reply(status=529, error_type="overloaded_error")
    stub.script(overloaded, overloaded, overloaded, Reply(deltas=("Five days [1].",)))

    events = await _events(client, widgets["paid"]["public_key"], "How are refunds paid?")

    assert [name for name, _ in events] == ["start", "sources", "token", "done"]
    assert events[-1][1]["model"] == "openai:gpt-4o"
    assert stub.paths() == ["/v1/messages"] * 3 + ["/v1/chat/completions"]


async def test_a_stream_cut_mid_answer_ends_with_an_error_event_not_a_500(
    client: httpx.AsyncClient, stub: StubServer, widgets: dict[str, dict[str, Any]]
) -> None:
    stub.script(Reply(deltas=("Refunds ", "are ", "paid"), fail_after=2))

    events = await _events(client, widgets["free"]["public_key"], "When are refunds paid?")

    assert [name for name, _ in events] == ["start", "sources", "token", "token", "error"]
    assert events[-1][1]["code"] == "answer_interrupted"


async def _usage(client: httpx.AsyncClient, owner: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/usage", params={"tenant_id": "t-free"}, headers=owner)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_visitor_who_disconnects_cancels_the_provider_request_and_is_billed(
    client: httpx.AsyncClient,
    stub: StubServer,
    widgets: dict[str, dict[str, Any]],
    owner_headers: dict[str, str],
) -> None:
    before = await _usage(client, owner_headers)
    stub.script(Reply(deltas=("Refunds ", *("more " for _ in range(100))), delay=0.05))

    async with aconnect_sse(
        client,
        "POST",
        "/api/widget/chat/stream",
        json={"message": "Which card gets the refund?"},
        headers={"X-Widget-Key": widgets["free"]["public_key"]},
    ) as source:
        async for event in source.aiter_sse():
            if event.event == "token":
                break  # leaving the block closes the connection

    [seen] = stub.requests
    assert await asyncio.to_thread(seen.wait_ended, WAIT_S) == "client_closed"
    after = before
    for _ in range(100):  # the turn is settled after the disconnect, shielded from it
        after = await _usage(client, owner_headers)
        if after["output_tokens"] > before["output_tokens"]:
            break
        await asyncio.sleep(0.05)
    assert after["messages"] == before["messages"] + 1
    assert after["output_tokens"] > before["output_tokens"]  # counted, not reported
    assert after["cost_usd"] > before["cost_usd"]


@pytest.fixture(scope="module")
def remote_embeddings(
    tmp_path_factory: pytest.TempPathFactory, stub: StubServer
) -> Iterator[Service]:
    env = {
        "OPENAI_API_KEY": "sk-e2e",
        "OPENAI_BASE_URL": stub.url + "/v1",
        "EMBEDDINGS": "openai:text-embedding-3-small",
        # The stand-in's vectors are hashes: no two texts are alike, so take every chunk.
        "RETRIEVAL_MIN_SCORE": "-1",
    }
    service = Service(tmp_path_factory.mktemp("embeddings"))
    with mock.patch.dict(os.environ, env):
        service.start()
    yield service
    service.stop()


async def test_embeddings_setting_switches_to_openai_in_a_collection_of_its_own(
    remote_embeddings: Service, stub: StubServer, owner_headers: dict[str, str]
) -> None:
    stub.reset()
    async with httpx.AsyncClient(base_url=remote_embeddings.url, timeout=WAIT_S) as client:
        widget = await _widget(client, owner_headers)
        document = await _upload(client, owner_headers, widget["id"], "h.md", HANDBOOK)
        await _until_ready(client, owner_headers, document)
        answer = await _ask(client, widget["public_key"], "How long is the kettle warranty?")

    assert answer["sources"], answer
    embedded = [s.body["input"] for s in stub.requests if s.path == "/v1/embeddings"]
    assert any("two-year warranty" in text for batch in embedded for text in batch)
    assert ["How long is the kettle warranty?"] in embedded
    shards = {p.name for p in (remote_embeddings.data_dir / "vectors").iterdir()}
    assert shards == {"chunks_openai_text_embedding_3_small"}
