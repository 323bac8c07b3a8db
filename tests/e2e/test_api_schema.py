"""The API describes itself: security schemes, every error in the shape the service really
answers, docs pages that work offline, and real responses that match the schema."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis

from tests.e2e.conftest import ADMIN_TOKEN, Service
from tests.e2e.test_service import RETURNS_MD

pytestmark = pytest.mark.e2e
OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# What the framework documents for its own errors, in a shape the service never sends.
FRAMEWORK_ERROR = {"status_code", "detail"}


@pytest.fixture(scope="module")
def document(service: Service) -> dict[str, Any]:
    return dict(httpx.get(service.url + "/schema/openapi.json", timeout=30).json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_owner_and_widget_calls_declare_their_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["owner"] == {
        "type": "http", "scheme": "bearer", "description": schemes["owner"]["description"],
    }  # fmt: skip
    assert (schemes["widgetKey"]["type"], schemes["widgetKey"]["in"]) == ("apiKey", "header")
    assert schemes["widgetKey"]["name"] == "X-Widget-Key"
    for path, method, operation in operations(document):
        if path == "/api/widget/config":  # the script's: a key, never a proxy
            assert operation["security"] == [{"widgetKey": []}], path
        elif path.startswith(("/api/widget/chat", "/api/widget/feedback")):
            assert operation["security"] == [{"widgetKey": []}, {"owner": []}], path
        elif path.startswith("/api/"):
            assert operation["security"] == [{"owner": []}], (method, path)
        else:
            assert "security" not in operation, path  # health, metrics: anyone


def test_every_error_is_documented_in_the_shape_the_service_answers(
    document: dict[str, Any],
) -> None:
    error_body = document["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "details"}
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            assert not set(schema.get("properties", {})) >= FRAMEWORK_ERROR, (method, path)
            if int(status) >= 400 and path.startswith("/api/") and status != "429":
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)


def test_the_stream_documents_its_events(document: dict[str, Any]) -> None:
    stream = document["paths"]["/api/widget/chat/stream"]["post"]["responses"]["200"]
    assert list(stream["content"]) == ["text/event-stream"]
    for event in ("`start`", "`sources`", "`token`", "`done`", "`error`"):
        assert event in stream["description"]
    assert "the model that answered" in stream["description"]
    events = [ref["$ref"].rsplit("/", 1)[-1] for ref in
              stream["content"]["text/event-stream"]["schema"]["oneOf"]]  # fmt: skip
    schemas = document["components"]["schemas"]
    assert {schemas[e]["properties"]["event"]["const"] for e in events} == {
        "start", "sources", "token", "done", "error",
    }  # fmt: skip
    done = schemas["DoneEvent"]["properties"]["data"]
    assert done["contentMediaType"] == "application/json"
    assert set(done["contentSchema"]["properties"]) == {"usage", "finish_reason", "model", "cached"}


def test_the_docs_pages_load_nothing_from_elsewhere(service: Service) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        for page in ("/schema", "/schema/swagger"):
            html = client.get(page)
            assert html.status_code == 200
            assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
            assert len(assets) >= 4, assets  # the script, its preset, the styles, the icon
            for asset in assets:
                assert asset.startswith("/schema/assets/"), asset
                loaded = client.get(asset)
                assert loaded.status_code == 200 and len(loaded.content) > 100, asset
            assert "cdn" not in html.text and "https://" not in html.text
        assert client.get("/schema/assets/../../etc/passwd").status_code == 404


def test_real_responses_match_the_schema(service: Service) -> None:
    """Successes and failures of every kind of route, each checked against what the schema
    says of its operation and status."""
    schema = schemathesis.openapi.from_url(service.url + "/schema/openapi.json")
    paths = schema.raw_schema["paths"]
    statuses: set[int] = set()
    client = httpx.Client(base_url=service.url, timeout=30, headers=OWNER)

    def call(method: str, template: str, path: str | None = None, **kwargs: Any) -> Any:
        response = client.request(method, path or template, **kwargs)
        documented = paths[template][method.lower()]["responses"]
        assert str(response.status_code) in documented, (method, template, response.text)
        schema[template][method].validate_response(response)
        statuses.add(response.status_code)
        json_body = response.headers.get("content-type", "").startswith("application/json")
        return response.json() if json_body else None

    with client:
        widget = call("POST", "/api/widgets", json={"tenant_id": "schema", "plan": "free",
                                                    "name": "S", "retention_days": 30})  # fmt: skip
        one = f"/api/widgets/{widget['id']}"
        call("POST", "/api/widgets", json={})
        call("POST", "/api/widgets", content=b"{")
        call("GET", "/api/widgets", params={"tenant_id": "schema"})
        call("GET", "/api/widgets", params={"tenant_id": "schema"}, headers={"Authorization": ""})
        call("GET", "/api/widgets/{widget_id}", one)
        call("GET", "/api/widgets/{widget_id}", f"/api/widgets/{uuid.uuid4()}")
        call("PATCH", "/api/widgets/{widget_id}", one, json={"top_k": 99})
        call("PATCH", "/api/widgets/{widget_id}", one, json={"name": "Renamed"})

        accepted = call("POST", "/api/widget/process-document",
                        json={"widget_id": widget["id"], "title": "Returns",
                              "text": RETURNS_MD.decode()})  # fmt: skip
        status = f"/api/widget/documents/{accepted['document_id']}/status"
        for _ in range(600):  # the first document starts the parser: seconds, on a busy box
            if call("GET", "/api/widget/documents/{document_id}/status", status)["status"] in (
                "ready",
                "failed",
            ):
                break
            time.sleep(0.1)
        call("POST", "/api/widget/documents/status",
             json={"document_ids": [accepted["document_id"]]})  # fmt: skip
        call("POST", "/api/widget/documents/status", json={"document_ids": []})
        call("GET", "/api/widget/documents", params={"widget_id": widget["id"]})

        visitor = {"X-Widget-Key": widget["public_key"], "Authorization": ""}
        chat = "/api/widget/chat"
        answer = call("POST", chat, json={"message": "How long to return an item?",
                                          "visitor_id": "v-1"}, headers=visitor)  # fmt: skip
        call("POST", chat, json={"message": " "}, headers=visitor)
        call("POST", chat, json={"message": "hi"}, headers={"X-Widget-Key": "no"})
        call("POST", chat, json={"message": "hi"}, headers={**visitor, "Origin": "https://x.test"})
        call("POST", "/api/widget/chat/stream", json={"message": "Refunds?"}, headers=visitor)
        call("POST", "/api/widget/feedback", json={"message_id": answer["message_id"],
             "rating": "down", "comment": "Too vague"}, headers=visitor)  # fmt: skip

        for params in ({}, {"since": "2026-01-01", "outcome": "no_answer", "limit": 1},
                       {"rating": "down"}, {"rating": "sideways"},
                       {"since": "not a date"}, {"limit": 0}, {"cursor": "nope"}):  # fmt: skip
            call("GET", "/api/conversations", params={"widget_id": widget["id"], **params})
        for params in ({"widget_id": widget["id"]}, {"widget_id": widget["id"], "rating": "up"},
                       {"widget_id": widget["id"], "limit": 0}, {"widget_id": str(uuid.uuid4())},
                       {}):  # fmt: skip
            call("GET", "/api/feedback", params=params)
        call("GET", "/api/conversations/{conversation_id}",
             f"/api/conversations/{answer['conversation_id']}")  # fmt: skip
        call("GET", "/api/conversations/export", params={"widget_id": widget["id"]})
        call("GET", "/api/insights/unanswered", params={"widget_id": widget["id"]})
        for params in ({"group_by": "day"}, {"group_by": "widget", "widget_id": widget["id"]},
                       {"group_by": "week"}, {"until": "1969-01-01"}):  # fmt: skip
            call("GET", "/api/usage", params={"tenant_id": "schema", **params})
        call("DELETE", "/api/widgets/{widget_id}/visitors/{visitor_id}", f"{one}/visitors/v-1")
        call("DELETE", "/api/widget/documents/{document_id}",
             f"/api/widget/documents/{accepted['document_id']}")  # fmt: skip
        call("GET", "/health/ready")

    assert {200, 201, 202, 204, 400, 401, 403, 404, 422} <= statuses
