"""The widget's own routes on the real app: the script, its config, votes, the demo page."""

from __future__ import annotations

import asyncio
import gzip
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.http.app import create_app
from entrypoints.http.routes.embed import STATIC
from entrypoints.settings import Settings

pytestmark = pytest.mark.integration

OWNER = {"Authorization": "Bearer widget-token"}
SHOP = "https://shop.example"
HANDBOOK = "# Warranty\n\nEvery kettle has a two-year warranty. Keep your receipt."
MAX_GZIPPED_BYTES = 15 * 1024


@pytest.fixture
async def client(postgres_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(
        data_dir=tmp_path, database_url=postgres_url, admin_token="widget-token", log_format="json"
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as test_client:
        yield test_client


async def a_widget(client: AsyncTestClient, **settings: Any) -> dict[str, Any]:
    body = {"tenant_id": "shop", "plan": "free", "name": "Help", "allowed_origins": [SHOP]}
    response = await client.post("/api/widgets", json=body | settings, headers=OWNER)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def an_answer(client: AsyncTestClient, widget: dict[str, Any]) -> str:
    accepted = await client.post(
        "/api/widget/process-document",
        json={"widget_id": widget["id"], "title": "Handbook", "text": HANDBOOK},
        headers=OWNER,
    )
    document_id = accepted.json()["document_id"]
    deadline = time.monotonic() + 30
    while (await client.get(f"/api/widget/documents/{document_id}/status", headers=OWNER)).json()[
        "status"
    ] != "ready":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    answer = await client.post(
        "/api/widget/chat",
        json={"message": "How long is the kettle warranty?"},
        headers={"X-Widget-Key": widget["public_key"], "Origin": SHOP},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["message_id"])


async def test_the_script_is_small_versioned_and_revalidated(client: AsyncTestClient) -> None:
    plain = await client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert plain.content == (STATIC / "widget.js").read_bytes()
    assert plain.headers["cache-control"] == "public, max-age=300"
    version = plain.headers["x-widget-version"]

    zipped = await client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx undid the gzip
    size = len(gzip.compress(plain.content, compresslevel=9))
    assert size <= MAX_GZIPPED_BYTES, f"widget.js is {size} bytes gzipped"

    versioned = await client.get(f"/widget.js?v={version}")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    stale = await client.get("/widget.js?v=0000000000000000")
    assert stale.headers["cache-control"] == "public, max-age=300"

    etag = zipped.headers["etag"]
    again = await client.get(
        "/widget.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert (again.status_code, again.content) == (304, b"")


def test_the_script_needs_nothing_a_strict_csp_forbids() -> None:
    source = re.sub(r"/\*.*?\*/", "", (STATIC / "widget.js").read_text(), flags=re.S)

    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function",
                      "document.write", ".style.", "setAttribute(\"style\""):  # fmt: skip
        assert forbidden not in source, forbidden


async def test_the_config_is_the_widgets_public_face_for_allowed_origins(
    client: AsyncTestClient,
) -> None:
    widget = await a_widget(
        client,
        title="Kettle help",
        accent_color="#0A7D33",
        position="bottom-left",
        suggested_questions=["How long is the warranty?"],
    )
    key = {"X-Widget-Key": widget["public_key"]}

    config = await client.get("/api/widget/config", headers={**key, "Origin": SHOP})
    assert config.status_code == 200
    assert config.json() == {
        "name": "Help",
        "title": "Kettle help",
        "greeting": widget["greeting"],
        "placeholder": widget["placeholder"],
        "accent_color": "#0a7d33",
        "position": "bottom-left",
        "suggested_questions": ["How long is the warranty?"],
    }
    assert config.headers["access-control-allow-origin"] == SHOP

    refused = await client.get(
        "/api/widget/config", headers={**key, "Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    # Readable by that page, so the widget can say why it is not there.
    assert refused.headers["access-control-allow-origin"] == "https://evil.example"
    unknown = await client.get("/api/widget/config", headers={"X-Widget-Key": "wk_nope"})
    assert unknown.status_code == 401

    preflight = await client.options(
        "/api/widget/config",
        headers={"Origin": SHOP, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["access-control-allow-methods"]


async def test_an_origin_is_matched_and_echoed_only_in_the_form_browsers_send(
    client: AsyncTestClient,
) -> None:
    widget = await a_widget(client)
    key = {"X-Widget-Key": widget["public_key"]}

    for forged in (SHOP + "//", SHOP + "/", "https://SHOP.example", SHOP + ":443", "null"):
        refused = await client.get("/api/widget/config", headers={**key, "Origin": forged})
        assert refused.status_code == 403, forged
        assert refused.json()["error"]["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in refused.headers, forged
        chat = await client.post(
            "/api/widget/chat", json={"message": "hi"}, headers={**key, "Origin": forged}
        )
        assert chat.status_code == 403, forged
        assert "access-control-allow-origin" not in chat.headers, forged
        preflight = await client.options(
            "/api/widget/chat",
            headers={"Origin": forged, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 403, forged
        assert "access-control-allow-origin" not in preflight.headers, forged

    allowed = await client.get("/api/widget/config", headers={**key, "Origin": SHOP})
    assert allowed.headers["access-control-allow-origin"] == SHOP


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        (["HTTPS://Shop.Example:443/"], ["https://shop.example"]),
        (
            ["https://*.z.example", "http://localhost:3000"],
            ["https://*.z.example", "http://localhost:3000"],
        ),
        (
            ["https://bücher.example", "https://xn--bcher-kva.example"],
            ["https://xn--bcher-kva.example"],
        ),
    ],
)
async def test_allowed_origins_are_stored_as_browsers_send_them(
    client: AsyncTestClient, written: list[str], stored: list[str]
) -> None:
    widget = await a_widget(client, allowed_origins=written)
    assert widget["allowed_origins"] == stored

    subdomain = await client.get(
        "/api/widget/config",
        headers={"X-Widget-Key": widget["public_key"], "Origin": "https://a.z.example"},
    )
    assert subdomain.status_code == (200 if "https://*.z.example" in stored else 403)


@pytest.mark.parametrize(
    "bad", ["https://z.example/path", "https://shop.example//", "https://*.example", "shop.example"]
)
async def test_an_allowed_origin_no_browser_could_send_is_refused_with_422_naming_it(
    client: AsyncTestClient, bad: str
) -> None:
    created = await client.post(
        "/api/widgets",
        json={"tenant_id": "shop", "plan": "free", "name": "Help", "allowed_origins": [SHOP, bad]},
        headers=OWNER,
    )
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert bad in error["message"]
    assert error["details"] == {"field": "allowed_origins", "index": 1, "value": bad}

    widget = await a_widget(client)
    changed = await client.patch(
        f"/api/widgets/{widget['id']}", json={"allowed_origins": [bad]}, headers=OWNER
    )
    assert changed.status_code == 422, changed.text
    assert changed.json()["error"]["details"]["value"] == bad


@pytest.mark.parametrize(
    "bad",
    [
        {"accent_color": "blue"},
        {"position": "top-left"},
        {"suggested_questions": ["a", "b", "c", "d", "e"]},
        {"greeting": "g" * 501},
    ],
)
async def test_bad_display_settings_are_refused_with_422(
    client: AsyncTestClient, bad: dict[str, Any]
) -> None:
    widget = await a_widget(client)

    changed = await client.patch(f"/api/widgets/{widget['id']}", json=bad, headers=OWNER)

    assert changed.status_code in (400, 422), changed.text
    assert set(changed.json()["error"]) == {"code", "message", "details"}


async def test_a_vote_is_204_once_and_refused_for_another_widgets_answer(
    client: AsyncTestClient,
) -> None:
    widget, other = await a_widget(client), await a_widget(client)
    message_id = await an_answer(client, widget)
    mine = {"X-Widget-Key": widget["public_key"], "Origin": SHOP}

    voted = await client.post(
        "/api/widget/feedback",
        json={"message_id": message_id, "rating": "down", "comment": "Too short."},
        headers=mine,
    )
    assert (voted.status_code, voted.headers["access-control-allow-origin"]) == (204, SHOP)

    elsewhere = await client.post(
        "/api/widget/feedback",
        json={"message_id": message_id, "rating": "up"},
        headers={"X-Widget-Key": other["public_key"], "Origin": SHOP},
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "message_not_found"
    too_long = await client.post(
        "/api/widget/feedback",
        json={"message_id": message_id, "rating": "down", "comment": "x" * 1001},
        headers=mine,
    )
    assert too_long.status_code == 422
    bad_rating = await client.post(
        "/api/widget/feedback", json={"message_id": message_id, "rating": "meh"}, headers=mine
    )
    assert bad_rating.status_code == 422


async def test_the_demo_page_is_served_in_development_only(
    postgres_url: str, tmp_path: Path
) -> None:
    for environment, expected in (("development", 200), ("production", 404)):
        settings = Settings(
            data_dir=tmp_path / environment,
            database_url=postgres_url,
            admin_token="widget-token",
            environment=environment,  # type: ignore[arg-type]
        )
        async with AsyncTestClient(create_app(settings), timeout=30) as client:
            page = await client.get("/demo", params={"key": 'wk_"><script>x</script>'})
            assert page.status_code == expected
            if expected == 200:
                assert "script-src 'self'" in page.headers["content-security-policy"]
                assert 'data-widget-key="wk_&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page.text
                assert (await client.get("/demo/demo.css")).status_code == 200


async def test_an_upload_past_the_plans_documents_gets_429_saying_which_and_when(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        admin_token="widget-token",
        log_format="json",
        ingestion_free_documents_per_month=1,
    )
    async with AsyncTestClient(create_app(settings), timeout=30) as client:
        widget = await a_widget(client, tenant_id="capped")

        def upload(text: str) -> Any:
            body = {"widget_id": widget["id"], "title": "Handbook", "text": text}
            return client.post("/api/widget/process-document", json=body, headers=OWNER)

        assert (await upload(HANDBOOK)).status_code == 202
        refused = await upload(HANDBOOK + " Also for toasters.")

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "limit of 1 documents per month" in error["message"]
    assert error["details"]["scope"] == "documents_per_month"
    assert error["details"]["limit"] == 1
    assert 0 < int(refused.headers["retry-after"]) <= 31 * 86400
