"""Bad input at the boundary, on the real app and PostgreSQL: a NUL (which PostgreSQL
cannot store) is refused with 422 naming its field, bytes that are not UTF-8 and JSON
nested past the recursion limit get 400, and none of them reaches the database as a 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from testkit.llm_stubs import StubServer

pytestmark = pytest.mark.integration

OWNER = {"Authorization": "Bearer boundary-token"}
JSON = {"Content-Type": "application/json"}
NUL = "\u0000"
NOT_UTF8 = b'{"title": "caf\xe9"}'
DEEP = b"[" * 3000 + b"]" * 3000  # past the recursion limit, within every body limit
NUL_WORDS = "the NUL character (\\u0000)"


@pytest.fixture
async def client(
    postgres_url: str, tmp_path: Path, stub: StubServer
) -> AsyncIterator[AsyncTestClient]:
    stub.reset()
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        admin_token="boundary-token",
        log_format="json",
        openai_api_key="sk-boundary",
        openai_base_url=stub.url + "/v1",
        llm_free="openai:gpt-4o-mini",
        llm_retry_attempts=1,
        retrieval_min_score=-1.0,
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as test_client:
        yield test_client


@pytest.fixture
async def widget(client: AsyncTestClient) -> dict[str, Any]:
    body = {"tenant_id": "edge", "plan": "free", "name": "Edge"}
    response = await client.post("/api/widgets", json=body, headers=OWNER)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _key(widget: dict[str, Any]) -> dict[str, str]:
    return {"X-Widget-Key": widget["public_key"]}


def assert_refused_naming(response: Any, field: str, source: str = "body") -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert NUL_WORDS in error["message"] and repr(field) in error["message"], error
    assert error["details"][0]["key"] == field and error["details"][0]["source"] == source


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("tenant_id", {"tenant_id": f"acme{NUL}", "plan": "free", "name": "Help"}),
        ("name", {"tenant_id": "acme", "plan": "free", "name": f"Help{NUL}"}),
        ("system_prompt", {"tenant_id": "a", "plan": "free", "name": "H", "system_prompt": NUL}),
        (
            "allowed_origins",
            {
                "tenant_id": "a",
                "plan": "free",
                "name": "H",
                "allowed_origins": [f"https://a.example{NUL}"],
            },
        ),
        ("models", {"tenant_id": "a", "plan": "free", "name": "H", "models": [f"openai:x{NUL}"]}),
    ],
)
async def test_a_nul_in_a_new_widget_is_refused_naming_its_field(
    client: AsyncTestClient, field: str, body: dict[str, Any]
) -> None:
    response = await client.post("/api/widgets", json=body, headers=OWNER)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert response.json()["error"]["details"][0]["key"].startswith(field)


@pytest.mark.parametrize(
    "field",
    ["greeting", "placeholder", "title", "limit_message", "no_answer_message", "accent_color"],
)
async def test_a_nul_in_a_widget_change_is_refused_naming_its_field(
    client: AsyncTestClient, widget: dict[str, Any], field: str
) -> None:
    response = await client.patch(
        f"/api/widgets/{widget['id']}", json={field: f"x{NUL}"}, headers=OWNER
    )
    assert_refused_naming(response, field)
    unchanged = await client.get(f"/api/widgets/{widget['id']}", headers=OWNER)
    assert unchanged.json()[field] == widget[field]


async def test_a_nul_in_a_suggested_question_is_refused(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/api/widgets/{widget['id']}",
        json={"suggested_questions": ["Fine?", f"Not{NUL}"]},
        headers=OWNER,
    )
    assert response.status_code == 422, response.text
    assert "suggested_questions" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/widget/chat", "/api/widget/chat/stream"])
@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("message", {"message": f"Where is my order?{NUL}"}),
        ("visitor_id", {"message": "Where is my order?", "visitor_id": f"v{NUL}"}),
    ],
)
async def test_a_nul_in_a_chat_is_refused_naming_its_field(
    client: AsyncTestClient, widget: dict[str, Any], path: str, field: str, body: dict[str, Any]
) -> None:
    response = await client.post(path, json=body, headers=_key(widget))
    assert_refused_naming(response, field)


async def test_a_nul_in_a_vote_comment_is_refused(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    body = {"message_id": widget["id"], "rating": "down", "comment": f"bad{NUL}"}
    response = await client.post("/api/widget/feedback", json=body, headers=_key(widget))
    assert_refused_naming(response, "comment")


async def test_a_nul_in_a_document_title_is_refused_as_json_and_as_a_form(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    as_json = await client.post(
        "/api/widget/process-document",
        json={"widget_id": widget["id"], "title": f"Guide{NUL}", "text": "Returns take 30 days."},
        headers=OWNER,
    )
    assert_refused_naming(as_json, "title")
    as_form = await client.post(
        "/api/widget/process-document",
        data={"widget_id": widget["id"], "title": f"Guide{NUL}"},
        files={"file": ("guide.md", b"# Guide\n\nReturns take 30 days.\n")},
        headers=OWNER,
    )
    assert_refused_naming(as_form, "title")


async def test_a_nul_in_a_document_text_is_dropped_not_refused(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/widget/process-document",
        json={"widget_id": widget["id"], "title": "Guide", "text": f"Returns take{NUL} 30 days."},
        headers=OWNER,
    )
    assert response.status_code == 202, response.text
    status = await _ready(client, response.json()["document_id"])
    assert status["status"] == "ready", status


@pytest.mark.parametrize(
    ("path", "parameter", "source"),
    [
        ("/api/widgets?tenant_id=acme%00", "tenant_id", "query"),
        ("/api/usage?tenant_id=acme%00", "tenant_id", "query"),
        ("/api/widgets/{widget}/visitors/v%00", "visitor_id", "path"),
    ],
)
async def test_a_nul_in_a_parameter_is_refused_naming_it(
    client: AsyncTestClient, widget: dict[str, Any], path: str, parameter: str, source: str
) -> None:
    url = path.format(widget=widget["id"])
    response = await (client.delete if source == "path" else client.get)(url, headers=OWNER)
    assert_refused_naming(response, parameter, source)
    assert response.json()["error"]["details"][0]["source"] == source


def _json_routes(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """Every route that reads a JSON body, with the credentials it takes."""
    return [
        ("POST", "/api/widget/chat", _key(widget)),
        ("POST", "/api/widget/chat/stream", _key(widget)),
        ("POST", "/api/widget/feedback", _key(widget)),
        ("POST", "/api/widgets", OWNER),
        ("PATCH", f"/api/widgets/{widget['id']}", OWNER),
        ("POST", "/api/widget/process-document", OWNER),
        ("POST", "/api/widget/documents/status", OWNER),
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [(NOT_UTF8, "not valid UTF-8"), (b'{"message": "x", "more": ' + DEEP + b"}", "too deeply")],
)
async def test_a_body_not_utf8_or_nested_too_deep_is_a_bad_request_on_every_route(
    client: AsyncTestClient, widget: dict[str, Any], body: bytes, words: str
) -> None:
    for method, path, credentials in _json_routes(widget):
        response = await client.request(method, path, content=body, headers=credentials | JSON)
        assert response.status_code == 400, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "bad_request" and words in error["message"], (path, error)


async def test_an_empty_chat_body_says_what_is_missing(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    response = await client.post("/api/widget/chat", content=b"", headers=_key(widget) | JSON)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == "the request body is empty: a JSON object is required"
    assert "'data'" not in response.text


async def test_a_stream_with_a_nul_is_refused_before_anything_is_spent(
    client: AsyncTestClient, widget: dict[str, Any], stub: StubServer
) -> None:
    document = await client.post(
        "/api/widget/process-document",
        json={"widget_id": widget["id"], "title": "Returns", "text": "Returns take 30 days."},
        headers=OWNER,
    )
    assert (await _ready(client, document.json()["document_id"]))["status"] == "ready"
    asked = {"message": f"How long do returns take?{NUL}", "visitor_id": "v1"}

    refused = await client.post("/api/widget/chat/stream", json=asked, headers=_key(widget))

    assert_refused_naming(refused, "message")
    assert refused.headers["content-type"].startswith("application/json")
    assert stub.requests == []  # no model was asked
    usage = await client.get("/api/usage?tenant_id=edge", headers=OWNER)
    assert usage.json()["messages"] == 0 and usage.json()["failed"]["messages"] == 0
    conversations = await client.get(f"/api/conversations?widget_id={widget['id']}", headers=OWNER)
    assert conversations.json()["items"] == []
    # The same question without the NUL is answered by the model, and counted.
    answered = await client.post(
        "/api/widget/chat/stream",
        json={"message": "How long do returns take?"},
        headers=_key(widget),
    )
    assert answered.status_code == 200 and "event: done" in answered.text, answered.text
    assert len(stub.requests) == 1


async def _ready(client: AsyncTestClient, document_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status = (
            await client.get(f"/api/widget/documents/{document_id}/status", headers=OWNER)
        ).json()
        if status["status"] in ("ready", "failed") or time.monotonic() > deadline:
            return dict(status)
        await asyncio.sleep(0.1)


async def test_a_file_name_too_long_for_the_form_is_refused_naming_it(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/widget/process-document",
        data={"widget_id": widget["id"]},
        files={"file": ("r" * 8000 + ".md", b"# Returns\n\nReturns take 30 days.\n")},
        headers=OWNER,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "file name is too long" in error["message"]
    assert error["details"]["field"] == "file"


async def test_a_form_field_not_utf8_is_a_bad_request(
    client: AsyncTestClient, widget: dict[str, Any]
) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="widget_id"\r\n\r\n'
        + widget["id"].encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="title"\r\n\r\ncaf\xe9\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n'
        b"Content-Type: text/markdown\r\n\r\n# Returns\n\nThirty days.\r\n--B--\r\n"
    )
    response = await client.post(
        "/api/widget/process-document",
        content=body,
        headers=OWNER | {"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 400, response.text
    assert "not valid UTF-8" in response.json()["error"]["message"]
