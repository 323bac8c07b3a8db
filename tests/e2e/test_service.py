"""The README's walk-through, against the real service over HTTP and SSE."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.e2e.conftest import MAX_UPLOAD_BYTES, Service

pytestmark = pytest.mark.e2e

RETURNS_MD = b"""# Returns policy

## Time limit

You can return any item within 30 days of delivery for a full refund.

## Refunds

Refunds are paid to the original card within five working days.
"""
JSON_TYPE = {"Content-Type": "application/json"}
HOURS_TXT = b"""Opening hours

The Lisbon store opens at 9am and closes at 7pm from Monday to Saturday.

On Sundays the store is closed, but the online shop takes orders all day.
"""


async def _widget(client: httpx.AsyncClient, owner: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"tenant_id": "acme", "plan": "free", "name": "Help", **extra}
    response = await client.post("/api/widgets", json=body, headers=owner)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _upload(
    client: httpx.AsyncClient, owner: dict[str, str], widget_id: str, name: str, content: bytes
) -> str:
    response = await client.post(
        "/api/widget/process-document",
        data={"widget_id": widget_id},
        files={"file": (name, content, "application/octet-stream")},
        headers=owner,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return str(response.json()["document_id"])


async def _until_done(
    client: httpx.AsyncClient, owner: dict[str, str], document_id: str, seconds: float = 60
) -> tuple[dict[str, Any], list[str]]:
    """The document's status once ready or failed, and the states it went through. The
    bound is generous: the first PDF, Office or HTML document starts the parser's child
    process, which takes tens of seconds on a machine busy with other work."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = (
            await client.get(f"/api/widget/documents/{document_id}/status", headers=owner)
        ).json()
        if not seen or seen[-1] != status["status"]:
            seen.append(status["status"])
        if status["status"] in ("ready", "failed"):
            return dict(status), seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {seen[-1]} after {seconds} s")


async def _until_ready(
    client: httpx.AsyncClient, owner: dict[str, str], document_id: str
) -> dict[str, Any]:
    status, seen = await _until_done(client, owner, document_id)
    assert status["status"] == "ready", status
    assert set(seen) <= {"queued", "processing", "ready"}
    return status


async def _ask(client: httpx.AsyncClient, key: str, message: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/widget/chat", json={"message": message, **extra}, headers={"X-Widget-Key": key}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_documents_become_ready_and_answers_cite_them(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner)
        returns = await _upload(client, owner, widget["id"], "returns.md", RETURNS_MD)
        hours = await _upload(client, owner, widget["id"], "hours.txt", HOURS_TXT)
        for document_id in (returns, hours):
            status = await _until_ready(client, owner, document_id)
            assert status["chunk_count"] >= 1
            assert status["progress"]["done"] == status["progress"]["total"]

        answer = await _ask(
            client, widget["public_key"], "How many days do I have to return an item?"
        )
        assert "30 days" in answer["answer"]
        assert answer["sources"][0]["document_id"] == returns
        assert answer["sources"][0]["section"] == "Returns policy › Time limit"
        assert "[1]" in answer["answer"]

        events: list[tuple[str, Any]] = []
        async with aconnect_sse(
            client,
            "POST",
            "/api/widget/chat/stream",
            json={"message": "When does the Lisbon store open?"},
            headers={"X-Widget-Key": widget["public_key"]},
        ) as source:
            assert source.response.headers["cache-control"] == "no-cache"
            assert source.response.headers["x-accel-buffering"] == "no"
            async for event in source.aiter_sse():
                events.append((event.event, json.loads(event.data)))

    names = [name for name, _ in events]
    assert names[:2] == ["start", "sources"] and names[-1] == "done"
    assert set(names[2:-1]) == {"token"} and len(names) > 4
    assert events[1][1]["sources"][0]["document_id"] == hours
    streamed = "".join(data["text"] for name, data in events if name == "token")
    assert "9am" in streamed

    connection = await asyncpg.connect(service.database_url)
    try:
        messages = await connection.fetch(
            "SELECT role, content FROM messages WHERE conversation_id = ANY($1::uuid[])",
            [answer["conversation_id"], events[0][1]["conversation_id"]],
        )
        usage = await connection.fetchval(
            "SELECT count(*) FROM usage_events WHERE tenant_id='acme'"
        )
    finally:
        await connection.close()
    assert sorted(role for role, _ in messages) == ["assistant", "assistant", "user", "user"]
    assert streamed in {content for _, content in messages}
    assert usage == 2


async def test_two_widgets_never_see_each_others_chunks(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        shop, clinic = await _widget(client, owner), await _widget(client, owner)
        shop_doc = await _upload(client, owner, shop["id"], "returns.md", RETURNS_MD)
        clinic_doc = await _upload(client, owner, clinic["id"], "hours.txt", HOURS_TXT)
        await _until_ready(client, owner, shop_doc)
        await _until_ready(client, owner, clinic_doc)

        for widget, own in ((shop, shop_doc), (clinic, clinic_doc)):
            for question in ("return an item refund", "when does the store open", "Lisbon hours"):
                answer = await _ask(client, widget["public_key"], question)
                assert {s["document_id"] for s in answer["sources"]} <= {own}


async def _declared_length_only(
    service: Service, path: str, length: int, headers: dict[str, str]
) -> bytes:
    """A request announcing a body far over the limit: refused before it is sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{head}Content-Type: multipart/form-data; "
        f"boundary=b\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    await writer.drain()
    response = await asyncio.wait_for(reader.read(4096), timeout=10)
    writer.close()
    return response


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return str(body["error"]["code"])


async def test_bad_input_gets_the_documented_error_shape_and_status(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner, allowed_origins=["https://shop.example"])
        key = {"X-Widget-Key": widget["public_key"]}
        chat = "/api/widget/chat"

        _error(await client.post(chat, json={"message": "hi"}), 401)
        _error(
            await client.post(chat, json={"message": "hi"}, headers={"X-Widget-Key": "nope"}), 401
        )
        _error(await client.post("/api/widgets", json={}), 401)
        _error(
            await client.post("/api/widgets", json={}, headers={"Authorization": "Bearer x"}), 401
        )
        origin = {**key, "Origin": "https://evil.example"}
        _error(await client.post(chat, json={"message": "hi"}, headers=origin), 403)
        _error(await client.post(chat, json={"message": "   "}, headers=key), 422)
        _error(await client.post(chat, json={"message": "x" * 4001}, headers=key), 422)
        _error(await client.post(chat + "/stream", json={"message": ""}, headers=key), 422)
        _error(await client.post(chat, json={"text": "hi"}, headers=key), 422)
        malformed = await client.post(
            chat, content=b'{"message": ', headers={**key, "Content-Type": "application/json"}
        )
        _error(malformed, 400)
        upload = "/api/widget/process-document"
        exe = {"file": ("tool.exe", b"MZ\x90\x00", "application/x-msdownload")}
        _error(
            await client.post(upload, data={"widget_id": widget["id"]}, files=exe, headers=owner),
            415,
        )
        big = {"file": ("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "text/plain")}
        _error(
            await client.post(upload, data={"widget_id": widget["id"]}, files=big, headers=owner),
            413,
        )
        huge = await _declared_length_only(service, upload, 50 * MAX_UPLOAD_BYTES, owner)
        assert huge.startswith(b"HTTP/1.1 413") and b'"error"' in huge, huge[:300]
        unknown = "00000000-0000-4000-8000-000000000000"
        _error(await client.get(f"/api/widget/documents/{unknown}/status", headers=owner), 404)
        _error(await client.get(f"/api/widgets/{unknown}", headers=owner), 404)
        assert (
            _error(
                await client.post(
                    chat, json={"message": "hi", "conversation_id": unknown}, headers=key
                ),
                404,
            )
            == "conversation_not_found"
        )


async def test_a_kept_alive_client_goes_on_after_a_body_refused_as_too_large(
    service: Service, owner: dict[str, str]
) -> None:
    """A 413 leaves the body unread and the server closes the connection: it says so, so
    that the client's next request goes on a new connection instead of into a closed one."""
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner)
        key = {"X-Widget-Key": widget["public_key"]}
        too_long = b'{"message": "' + b"x" * 70_000 + b'"}'  # over the chat's 64 KiB

        for _ in range(3):
            refused = await client.post(
                "/api/widget/chat", content=too_long, headers={**key, **JSON_TYPE}
            )
            assert refused.status_code == 413, refused.text
            assert refused.headers["connection"] == "close"
            next_one = await client.post(
                "/api/widget/chat", json={"message": "Any refunds?"}, headers=key
            )
            assert next_one.status_code == 200, next_one.text


async def test_browsers_get_cors_for_allowed_origins_only(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner, allowed_origins=["https://shop.example"])
        preflight = await client.options(
            "/api/widget/chat",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert "X-Widget-Key" in preflight.headers["access-control-allow-headers"]

        allowed = await client.post(
            "/api/widget/chat",
            json={"message": "hello"},
            headers={"X-Widget-Key": widget["public_key"], "Origin": "https://shop.example"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        assert allowed.headers["vary"] == "Origin"

        owner_route = await client.get(
            f"/api/widgets/{widget['id']}", headers={**owner, "Origin": "https://shop.example"}
        )
        assert "access-control-allow-origin" not in owner_route.headers


async def test_everything_survives_a_restart(tmp_path: Any, owner: dict[str, str]) -> None:
    service = Service(tmp_path)
    service.start()
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            widget = await _widget(client, owner)
            document = await _upload(client, owner, widget["id"], "returns.md", RETURNS_MD)
            before = await _until_ready(client, owner, document)
            first = await _ask(client, widget["public_key"], "return an item within how many days?")
        service.stop()
        service.start()
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            after = (
                await client.get(f"/api/widget/documents/{document}/status", headers=owner)
            ).json()
            assert (after["status"], after["chunk_count"]) == ("ready", before["chunk_count"])
            again = await _ask(
                client,
                widget["public_key"],
                "and how are refunds paid?",
                conversation_id=first["conversation_id"],
            )
            assert again["conversation_id"] == first["conversation_id"]
            assert again["sources"] and again["sources"][0]["document_id"] == document
            usage = (
                await client.get("/api/usage", params={"tenant_id": "acme"}, headers=owner)
            ).json()
            assert usage["messages"] == 2
    finally:
        service.stop()
    connection = None
    service.start()
    try:
        connection = await asyncpg.connect(service.database_url)
        count = await connection.fetchval(
            "SELECT count(*) FROM messages WHERE conversation_id = $1::uuid",
            first["conversation_id"],
        )
        assert count == 4
    finally:
        if connection is not None:
            await connection.close()
        service.stop()


async def test_concurrent_uploads_of_the_same_file_are_one_document(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner)
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/widget/process-document",
                    data={"widget_id": widget["id"]},
                    files={"file": ("returns.md", RETURNS_MD, "text/markdown")},
                    headers=owner,
                )
                for _ in range(6)
            )
        )
        assert sorted(r.status_code for r in responses) == [200] * 5 + [202]
        assert len({r.json()["document_id"] for r in responses}) == 1
        listed = (
            await client.get(
                "/api/widget/documents", params={"widget_id": widget["id"]}, headers=owner
            )
        ).json()
        assert len(listed["documents"]) == 1
