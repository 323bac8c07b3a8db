"""The site owner's side, through HTTP on the real service: widgets and conversations
listed, read and exported, unanswered questions grouped, usage that adds up, failed answers
apart, visitors erased, retention, validation, readiness and the operator's log lines."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import asyncpg
import httpx
import pytest

from testkit.llm_stubs import Reply, StubServer, running_stub
from tests.e2e.conftest import ADMIN_TOKEN, Service
from tests.e2e.test_service import _until_ready, _upload

pytestmark = pytest.mark.e2e
OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HANDBOOK = b"""# Warranty

Every kettle has a two-year warranty. Keep your receipt.

# Refunds

Refunds are paid to the original card within five working days.
"""
NO_ANSWER = "Sorry, that is not in our help pages."


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    with running_stub() as server:
        yield server


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, stub: StubServer) -> Iterator[Service]:
    env = {
        "OPENAI_API_KEY": "sk-e2e",
        "OPENAI_BASE_URL": stub.url + "/v1",
        # Free widgets fall back to the offline answerer; paid ones have no fallback, so
        # their answers fail when the provider does.
        "LLM_FREE": "openai:gpt-4o-mini,extractive",
        "LLM_PAID": "openai:gpt-4o",
        "LLM_RETRY_BACKOFF": "0.01",
        "LLM_RETRY_ATTEMPTS": "1",
        "LLM_BREAKER_FAILURES": "1000",
        "RETENTION_SWEEP_SECONDS": "1",
    }
    service = Service(tmp_path_factory.mktemp("console"))
    with mock.patch.dict(os.environ, env):
        service.start()
    yield service
    service.stop()


@pytest.fixture
async def client(console: Service, stub: StubServer) -> AsyncIterator[httpx.AsyncClient]:
    stub.reset()
    async with httpx.AsyncClient(base_url=console.url, timeout=30) as client:
        yield client


async def a_widget(client: httpx.AsyncClient, **settings: Any) -> dict[str, Any]:
    body = {"tenant_id": "acme", "plan": "free", "name": "Help", "no_answer_message": NO_ANSWER}
    response = await client.post("/api/widgets", json=body | settings, headers=OWNER)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def a_helpdesk(client: httpx.AsyncClient, **settings: Any) -> dict[str, Any]:
    widget = await a_widget(client, **settings)
    document = await _upload(client, OWNER, widget["id"], "handbook.md", HANDBOOK)
    await _until_ready(client, OWNER, document)
    return widget


async def ask(
    client: httpx.AsyncClient, widget: dict[str, Any], message: str, status: int = 200, **more: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/widget/chat",
        json={"message": message, **more},
        headers={"X-Widget-Key": widget["public_key"]},
    )
    assert response.status_code == status, response.text
    return dict(response.json())


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=OWNER)
    assert response.status_code == 200, response.text
    return dict(response.json())


# Widgets


async def test_a_tenants_widgets_are_listed_a_page_at_a_time(client: httpx.AsyncClient) -> None:
    made = [await a_widget(client, tenant_id="pages", name=f"W{n}") for n in range(3)]

    first = await get(client, "/api/widgets", tenant_id="pages", limit=2)
    rest = await get(client, "/api/widgets", tenant_id="pages", cursor=first["next_cursor"])

    assert [w["id"] for w in first["items"] + rest["items"]] == [w["id"] for w in made]
    assert rest["next_cursor"] is None
    assert (await client.get("/api/widgets", headers=OWNER)).json()["error"]["message"] == (
        "query parameter 'tenant_id' is required"
    )


async def test_a_widget_may_name_only_models_this_service_can_call(
    client: httpx.AsyncClient,
) -> None:
    refused = await client.post(
        "/api/widgets",
        json={"tenant_id": "acme", "plan": "free", "name": "X",
              "models": ["extractive", "foo:bar"]},
        headers=OWNER,
    )  # fmt: skip
    no_key = await client.post(
        "/api/widgets",
        json={"tenant_id": "acme", "plan": "free", "name": "X",
              "models": ["anthropic:claude-haiku-4-5"]},
        headers=OWNER,
    )  # fmt: skip
    fine = await client.post(
        "/api/widgets",
        json={"tenant_id": "acme", "plan": "free", "name": "X",
              "models": ["openai:gpt-4o", "extractive"]},
        headers=OWNER,
    )  # fmt: skip

    assert refused.status_code == no_key.status_code == 422
    assert refused.json()["error"]["message"].startswith("models[1] 'foo:bar' cannot be used")
    assert refused.json()["error"]["details"] == {
        "field": "models", "index": 1, "value": "foo:bar",
    }  # fmt: skip
    assert "ANTHROPIC_API_KEY is not set" in no_key.json()["error"]["message"]
    assert fine.status_code == 201, fine.text


# Conversations


async def test_conversations_are_listed_filtered_read_and_exported(
    client: httpx.AsyncClient,
) -> None:
    widget = await a_helpdesk(client)
    first = await ask(client, widget, "How long is the kettle warranty?", visitor_id="v-1")
    await ask(client, widget, "And refunds?", conversation_id=first["conversation_id"])
    lost = await ask(client, widget, "Do you sell bicycles?", visitor_id="v-2")
    assert lost["answer"] == NO_ANSWER
    today = datetime.now(UTC).date().isoformat()

    listed = await get(client, "/api/conversations", widget_id=widget["id"], since=today)
    unanswered = await get(
        client, "/api/conversations", widget_id=widget["id"], outcome="no_answer"
    )
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    later = await get(client, "/api/conversations", widget_id=widget["id"], since=tomorrow)
    bad = await client.get(
        "/api/conversations", params={"widget_id": widget["id"], "since": "5 Dec"}, headers=OWNER
    )

    assert [c["id"] for c in listed["items"]] == [
        lost["conversation_id"],
        first["conversation_id"],
    ]
    older = listed["items"][1]
    assert (older["visitor_id"], older["first_question"], older["message_count"]) == (
        "v-1",
        "How long is the kettle warranty?",
        4,
    )
    assert [c["id"] for c in unanswered["items"]] == [lost["conversation_id"]]
    assert later["items"] == []
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == {"parameter": "since"}
    assert "'since'" in bad.json()["error"]["message"]

    full = await get(client, f"/api/conversations/{first['conversation_id']}")
    roles = [m["role"] for m in full["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    answer = full["messages"][1]
    assert (answer["model"], answer["finish_reason"]) == (first["model"], "stop")
    assert answer["sources"][0]["title"] == "handbook.md"
    assert answer["usage"] == first["usage"]

    params = {"widget_id": widget["id"]}
    jsonl = await client.get("/api/conversations/export", params=params, headers=OWNER)
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    as_csv = await client.get(
        "/api/conversations/export", params=params | {"format": "csv"}, headers=OWNER
    )
    table = list(csv.DictReader(io.StringIO(as_csv.text)))

    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert len(rows) == len(table) == 6
    assert [r["content"] for r in rows[:2]] == [
        "How long is the kettle warranty?",
        first["answer"],
    ]
    assert [r["conversation_id"] for r in table] == [r["conversation_id"] for r in rows]
    assert table[1]["model"] == first["model"]


async def test_unanswered_questions_are_grouped_by_meaning(client: httpx.AsyncClient) -> None:
    widget = await a_helpdesk(client)
    asked = [
        "How do I reset my password?",
        "I forgot my password, how can I change it?",
        "password reset",
        "Can I pay with PayPal?",
        "Do you accept PayPal?",
        "How long is the kettle warranty?",  # answered: not a gap
    ]
    for question in asked:
        await ask(client, widget, question)

    insights = await get(client, "/api/insights/unanswered", widget_id=widget["id"])

    assert insights["total"] == 5
    groups = [(g["count"], sorted(g["questions"])) for g in insights["groups"]]
    assert groups == [
        (3, sorted(asked[:3])),
        (2, sorted(asked[3:5])),
    ]


# Feedback


async def vote(
    client: httpx.AsyncClient, widget: dict[str, Any], answer: dict[str, Any], rating: str,
    comment: str | None = None,
) -> None:  # fmt: skip
    response = await client.post(
        "/api/widget/feedback",
        json={"message_id": answer["message_id"], "rating": rating, "comment": comment},
        headers={"X-Widget-Key": widget["public_key"]},
    )
    assert response.status_code == 204, response.text


async def test_a_thumbs_down_with_a_comment_reaches_every_owner_view_until_erased(
    client: httpx.AsyncClient,
) -> None:
    widget = await a_helpdesk(client, tenant_id="votes")
    panned = await ask(client, widget, "How are refunds paid?", visitor_id="v-unhappy")
    liked = await ask(client, widget, "How long is the kettle warranty?", visitor_id="v-happy")
    assert NO_ANSWER not in (panned["answer"], liked["answer"])
    params = {"widget_id": widget["id"]}
    assert (await get(client, "/api/insights/unanswered", **params))["total"] == 0
    comment = "=Which card? It does not say."

    await vote(client, widget, panned, "up")
    await vote(client, widget, panned, "down", comment)  # the last vote wins
    await vote(client, widget, liked, "up")

    listed = await get(client, "/api/conversations", **params)
    assert [(c["id"], c["feedback"]) for c in listed["items"]] == [
        (liked["conversation_id"], {"up": 1, "down": 0}),
        (panned["conversation_id"], {"up": 0, "down": 1}),
    ]
    down = await get(client, "/api/conversations", **params, rating="down")
    up = await get(client, "/api/conversations", **params, rating="up")
    assert [c["id"] for c in down["items"]] == [panned["conversation_id"]]
    assert [c["id"] for c in up["items"]] == [liked["conversation_id"]]
    refused = await client.get("/api/conversations", params={**params, "rating": "meh"},
                               headers=OWNER)  # fmt: skip
    assert refused.status_code == 422 and "rating" in refused.json()["error"]["message"]

    full = await get(client, f"/api/conversations/{panned['conversation_id']}")
    question, answer = full["messages"]
    assert question["feedback"] is None
    assert answer["id"] == panned["message_id"]
    assert (answer["feedback"]["rating"], answer["feedback"]["comment"]) == ("down", comment)
    voted_at = datetime.fromisoformat(answer["feedback"]["created_at"])
    assert abs(datetime.now(UTC) - voted_at) < timedelta(minutes=5)

    jsonl = await client.get("/api/conversations/export", params=params, headers=OWNER)
    rows = {r["message_id"]: r for r in map(json.loads, jsonl.text.splitlines())}
    as_csv = await client.get(
        "/api/conversations/export", params=params | {"format": "csv"}, headers=OWNER
    )
    cells = {r["message_id"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert (rows[panned["message_id"]]["rating"], rows[panned["message_id"]]["comment"]) == (
        "down", comment,
    )  # fmt: skip
    assert rows[liked["message_id"]]["rating"] == "up"
    assert all(r["rating"] is None for r in rows.values() if r["role"] == "user")
    panned_row = cells[panned["message_id"]]
    assert (panned_row["rating"], panned_row["comment"]) == ("down", "'" + comment)
    assert datetime.fromisoformat(panned_row["rated_at"]) == voted_at

    votes = await get(client, "/api/feedback", **params)
    downs = await get(client, "/api/feedback", **params, rating="down")
    assert [v["message_id"] for v in votes["items"]] == [liked["message_id"], panned["message_id"]]
    assert downs["items"] == [{
        "message_id": panned["message_id"], "conversation_id": panned["conversation_id"],
        "visitor_id": "v-unhappy", "rating": "down", "comment": comment,
        "created_at": answer["feedback"]["created_at"],
        "question": "How are refunds paid?", "answer": panned["answer"],
    }]  # fmt: skip
    first = await get(client, "/api/feedback", **params, limit=1)
    rest = await get(client, "/api/feedback", **params, cursor=first["next_cursor"])
    assert [v["message_id"] for v in first["items"] + rest["items"]] == [
        liked["message_id"], panned["message_id"],
    ]  # fmt: skip
    assert rest["next_cursor"] is None

    insights = await get(client, "/api/insights/unanswered", **params)
    assert insights["total"] == 1
    assert [g["example"] for g in insights["groups"]] == ["How are refunds paid?"]

    erased = await client.delete(f"/api/widgets/{widget['id']}/visitors/v-unhappy", headers=OWNER)
    assert erased.status_code == 204
    after = await get(client, "/api/feedback", **params)
    assert [v["message_id"] for v in after["items"]] == [liked["message_id"]]
    assert (await get(client, "/api/conversations", **params, rating="down"))["items"] == []
    assert (await get(client, "/api/insights/unanswered", **params))["total"] == 0
    export = await client.get("/api/conversations/export", params=params, headers=OWNER)
    assert comment not in export.text


async def test_the_feedback_list_needs_a_known_widget_and_the_owner(
    client: httpx.AsyncClient,
) -> None:
    nobody = {"widget_id": "00000000-0000-4000-8000-000000000000"}
    unknown = await client.get("/api/feedback", params=nobody, headers=OWNER)
    anonymous = await client.get("/api/feedback", params=nobody)
    missing = await client.get("/api/feedback", headers=OWNER)

    assert unknown.status_code == 404 and unknown.json()["error"]["code"]
    assert anonymous.status_code == 401
    assert missing.status_code == 422
    assert missing.json()["error"]["message"] == "query parameter 'widget_id' is required"


# Usage


async def test_failed_answers_are_not_billed_and_usage_adds_up(
    client: httpx.AsyncClient, stub: StubServer
) -> None:
    paid = await a_helpdesk(client, plan="paid", tenant_id="billing")
    free = await a_helpdesk(client, tenant_id="billing")
    stub.reset(Reply(status=500))
    for _ in range(2):
        failed = await ask(client, paid, "How long is the kettle warranty?", status=503)
        assert failed["error"]["code"] == "model_unavailable"
    stub.reset(Reply(deltas=("Two years [1].",), usage=(300, 6)))
    await ask(client, paid, "How are refunds paid?")
    await ask(client, free, "How are refunds paid?")

    summaries = {
        group_by: await get(client, "/api/usage", tenant_id="billing", group_by=group_by)
        for group_by in ("day", "widget", "model")
    }

    for summary in summaries.values():
        assert (summary["messages"], summary["failed"]["messages"]) == (2, 2)
        assert summary["messages"] == sum(g["messages"] for g in summary["groups"])
        assert summary["input_tokens"] == sum(g["input_tokens"] for g in summary["groups"])
        assert summary["output_tokens"] == sum(g["output_tokens"] for g in summary["groups"])
        assert summary["cost_usd"] == pytest.approx(sum(g["cost_usd"] for g in summary["groups"]))
        assert summary["failed"]["messages"] == sum(g["failed"] for g in summary["groups"])
    by_model = {g["key"]: g for g in summaries["model"]["groups"]}
    assert (by_model["openai:gpt-4o"]["messages"], by_model["openai:gpt-4o"]["failed"]) == (1, 2)
    assert by_model["openai:gpt-4o"]["input_tokens"] == 300
    assert {g["key"] for g in summaries["widget"]["groups"]} == {paid["id"], free["id"]}
    assert [g["key"] for g in summaries["day"]["groups"]] == [datetime.now(UTC).date().isoformat()]
    one = await get(client, "/api/usage", tenant_id="billing", widget_id=free["id"])
    assert (one["messages"], one["failed"]["messages"]) == (1, 0)


# Data rights


async def _database_text(service: Service) -> str:
    """Every row of every table of the service's database, as text."""
    connection = await asyncpg.connect(service.database_url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        dumps = []
        for table in tables:
            rows = await connection.fetch(
                f'SELECT row_to_json(t)::text AS row FROM "{table["tablename"]}" t'
            )
            dumps += [row["row"] for row in rows]
        return "\n".join(dumps)
    finally:
        await connection.close()


async def test_an_erased_visitor_leaves_nothing_in_postgresql(
    client: httpx.AsyncClient, console: Service
) -> None:
    widget = await a_helpdesk(client, tenant_id="rights")
    secret = "My card ending 4242 was charged twice for the kettle refund"
    first = await ask(client, widget, secret, visitor_id="visitor-to-forget")
    await ask(client, widget, "Thanks a lot, Ana Quaresma here", visitor_id="visitor-to-forget",
              conversation_id=first["conversation_id"])  # fmt: skip
    kept = await ask(client, widget, "How long is the kettle warranty?", visitor_id="v-stays")
    # Their vote on an answer, with a comment in their own words (issue 16's feedback).
    voted = await client.post(
        "/api/widget/feedback",
        json={"message_id": first["message_id"], "rating": "down",
              "comment": "Ana Quaresma was not helped"},
        headers={"X-Widget-Key": widget["public_key"]},
    )  # fmt: skip
    assert voted.status_code == 204, voted.text
    before = await get(client, "/api/usage", tenant_id="rights")
    assert secret in await _database_text(console)

    response = await client.delete(
        f"/api/widgets/{widget['id']}/visitors/visitor-to-forget", headers=OWNER
    )

    assert response.status_code == 204
    everything = await _database_text(console)
    for trace in ("visitor-to-forget", secret, "Ana Quaresma", first["conversation_id"],
                  first["message_id"]):  # fmt: skip
        assert trace not in everything
    assert kept["conversation_id"] in everything
    missing = await client.get(f"/api/conversations/{first['conversation_id']}", headers=OWNER)
    assert missing.status_code == 404
    after = await get(client, "/api/usage", tenant_id="rights")
    assert (after["messages"], after["input_tokens"]) == (
        before["messages"],
        before["input_tokens"],
    )
    again = await client.delete(
        f"/api/widgets/{widget['id']}/visitors/visitor-to-forget", headers=OWNER
    )
    assert again.status_code == 204


async def test_conversations_idle_past_the_retention_period_are_purged_by_the_worker(
    client: httpx.AsyncClient, console: Service
) -> None:
    widget = await a_helpdesk(client, retention_days=1)
    old = await ask(client, widget, "How long is the kettle warranty?")
    fresh = await ask(client, widget, "How are refunds paid?")
    connection = await asyncpg.connect(console.database_url)
    try:  # two days pass for one of them
        for table, column in (("conversations", "id"), ("messages", "conversation_id")):
            await connection.execute(
                f"UPDATE {table} SET created_at = created_at - interval '2 days' "
                f"WHERE {column} = $1",
                old["conversation_id"],
            )
    finally:
        await connection.close()

    for _ in range(100):  # the worker sweeps every second here
        gone = await client.get(f"/api/conversations/{old['conversation_id']}", headers=OWNER)
        if gone.status_code == 404:
            break
        await asyncio.sleep(0.1)

    assert gone.status_code == 404
    await get(client, f"/api/conversations/{fresh['conversation_id']}")
    assert any(r["conversations"] >= 1 for r in console.log_events("conversations_purged"))


# Operations


async def test_readiness_says_models_are_degraded_while_a_plans_models_all_fail(
    client: httpx.AsyncClient, stub: StubServer, console: Service
) -> None:
    paid = await a_helpdesk(client, plan="paid", tenant_id="ops")
    stub.reset(Reply(status=401, error_type="invalid_api_key"))
    await ask(client, paid, "How long is the kettle warranty?", status=503)

    degraded = await client.get("/health/ready")

    assert degraded.status_code == 200
    assert degraded.json()["checks"]["models"] == "degraded"
    [*_, failure] = [r for r in console.log_events("model_failed") if r["model"] == "openai:gpt-4o"]
    assert "401" in failure["cause"]

    stub.reset(Reply(deltas=("Two years [1].",)))
    await ask(client, paid, "How long is the kettle warranty? Once more.")
    assert (await client.get("/health/ready")).json()["checks"]["models"] == "ok"


async def test_log_lines_say_what_an_operator_needs(
    client: httpx.AsyncClient, console: Service
) -> None:
    widget = await a_helpdesk(client)
    empty = await client.post(
        "/api/widget/process-document",
        data={"widget_id": widget["id"]},
        files={"file": ("empty.md", b"   \n", "text/markdown")},
        headers=OWNER,
    )
    assert empty.status_code == 422

    finished = [
        r for r in console.log_events("ingestion_job_finished") if r["title"] == "handbook.md"
    ]
    assert finished and finished[-1]["outcome"] == "ready"
    assert finished[-1]["chunks"] >= 1 and finished[-1]["ms"] > 0
    assert finished[-1]["document_id"]
    refused = console.log_events("document_refused")[-1]
    assert (refused["status"], refused["reason"]) == (422, "document is empty")


async def test_many_documents_status_in_one_request(client: httpx.AsyncClient) -> None:
    widget = await a_widget(client)
    ids = [await _upload(client, OWNER, widget["id"], f"{n}.md", f"# {n}\n\nText {n}.\n".encode())
           for n in range(3)]  # fmt: skip
    unknown = "00000000-0000-4000-8000-000000000000"

    response = await client.post(
        "/api/widget/documents/status", json={"document_ids": [*ids, unknown]}, headers=OWNER
    )

    assert response.status_code == 200, response.text
    assert sorted(d["document_id"] for d in response.json()["documents"]) == sorted(ids)
    assert response.json()["missing"] == [unknown]
