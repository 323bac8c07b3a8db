"""Operators' view of the real app: metrics that move, readiness that names what is down."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.proxy import ThreadedProxy, through, upstream_of
from tests.support.sse import chat_events

pytestmark = pytest.mark.integration

OWNER = {"Authorization": "Bearer ops-token"}
HANDBOOK = "# Returns\n\nYou can return any item within 30 days of delivery for a full refund."


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[ThreadedProxy]:
    running = ThreadedProxy(upstream_of(postgres_url))
    yield running
    running.close()


@pytest.fixture
async def client(
    postgres_url: str, proxy: ThreadedProxy, tmp_path: Path
) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=through(postgres_url, proxy.port),
        admin_token="ops-token",
        log_format="json",
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as test_client:
        yield test_client


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    """How much every series of `name` matching `labels` grew."""

    def total(values: dict) -> float:
        return sum(
            v for (n, ls), v in values.items() if n == name and set(labels.items()) <= set(ls)
        )

    return total(after) - total(before)


async def widget_with_a_document(client: AsyncTestClient) -> dict:
    widget = (
        await client.post(
            "/api/widgets", json={"tenant_id": "ops", "plan": "free", "name": "Ops"}, headers=OWNER
        )
    ).json()
    accepted = await client.post(
        "/api/widget/process-document",
        json={"widget_id": widget["id"], "title": "Handbook", "text": HANDBOOK},
        headers=OWNER,
    )
    document_id = accepted.json()["document_id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = await client.get(f"/api/widget/documents/{document_id}/status", headers=OWNER)
        if status.json()["status"] == "ready":
            return dict(widget)
        await _pause()
    raise AssertionError(f"document never became ready: {status.json()}")


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_metrics_move_after_an_ingest_a_chat_and_a_streamed_chat(
    client: AsyncTestClient,
) -> None:
    before = samples((await client.get("/metrics")).text)

    widget = await widget_with_a_document(client)
    key = {"X-Widget-Key": widget["public_key"]}
    answered = await client.post(
        "/api/widget/chat", json={"message": "return within?"}, headers=key
    )
    assert answered.status_code == 200
    events = await chat_events(client, {"message": "refund?"}, key)
    assert events[-1][0] == "done"

    scraped = await client.get("/metrics")
    assert scraped.headers["content-type"].startswith("text/plain")
    after = samples(scraped.text)
    chat = {"plan": "free", "provider": "extractive"}
    assert moved(before, after, "chatconnect_chats_total", finish_reason="stop", **chat) == 2
    assert moved(before, after, "chatconnect_chat_first_token_seconds_count", **chat) == 2
    assert moved(before, after, "chatconnect_chat_duration_seconds_count", **chat) == 2
    assert moved(before, after, "chatconnect_retrieval_seconds_count") == 2
    assert moved(before, after, "chatconnect_chat_sources_sum") >= 2
    assert moved(before, after, "chatconnect_ingestion_jobs_total", outcome="ready") == 1
    for stage in ("parsing", "chunking", "embedding", "indexing"):
        assert moved(before, after, "chatconnect_ingestion_stage_seconds_count", stage=stage) == 1
    assert ("chatconnect_ingestion_queue_jobs", frozenset({("state", "done")})) in after
    http = {"path": "/api/widget/chat", "status_code": "200"}
    assert moved(before, after, "chatconnect_http_requests_total", **http) == 1
    stream = {"path": "/api/widget/chat/stream", "status_code": "200"}
    assert moved(before, after, "chatconnect_http_request_duration_seconds_count", **stream) == 1
    # Label sets stay bounded: no widget ids or raw document paths anywhere.
    assert widget["id"] not in scraped.text


async def test_readiness_names_the_database_when_it_is_gone_and_recovers(
    client: AsyncTestClient, proxy: ThreadedProxy
) -> None:
    widget = await widget_with_a_document(client)
    key = {"X-Widget-Key": widget["public_key"]}
    assert (await client.get("/health/ready")).status_code == 200

    proxy.cut()
    started = time.monotonic()
    ready = await client.get("/health/ready")
    assert time.monotonic() - started < 2
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "down"
    assert ready.json()["checks"]["vector_store"] == "ok"
    assert (await client.get("/health")).status_code == 200
    refused = await client.post("/api/widget/chat", json={"message": "refund?"}, headers=key)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "database_unavailable"

    proxy.restore()
    assert (await client.get("/health/ready")).status_code == 200
    again = await client.post("/api/widget/chat", json={"message": "refund?"}, headers=key)
    assert again.status_code == 200, again.text


async def test_a_hung_database_fails_readiness_within_two_seconds(
    client: AsyncTestClient, proxy: ThreadedProxy
) -> None:
    assert (await client.get("/health/ready")).status_code == 200
    proxy.freeze()
    try:
        started = time.monotonic()
        ready = await client.get("/health/ready")
        assert time.monotonic() - started < 2
        assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "down")
    finally:
        proxy.restore()


async def test_with_metrics_token_set_only_its_bearer_reads_the_metrics(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        admin_token="ops-token",
        metrics_token="scrape-secret",
        log_format="json",
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as guarded:
        for headers in ({}, {"Authorization": "Bearer wrong"}, OWNER):
            refused = await guarded.get("/metrics", headers=headers)
            assert refused.status_code == 401, (headers, refused.text)
            assert refused.json()["error"]["code"] == "unauthorized"
            assert "chatconnect_" not in refused.text

        scraped = await guarded.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert scraped.status_code == 200
        assert "# TYPE chatconnect_" in scraped.text


async def test_without_metrics_token_anyone_reads_the_metrics(client: AsyncTestClient) -> None:
    assert (await client.get("/metrics")).status_code == 200
