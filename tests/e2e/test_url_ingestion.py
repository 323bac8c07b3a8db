"""Documents by URL: fetched, refreshed under the same document, private addresses refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Service
from tests.e2e.test_service import _ask, _until_ready, _widget

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html><html><head><title>Delivery times</title></head><body>
<h1>Delivery</h1><p>Standard delivery to Portugal takes {days} working days.</p>
<h2>Express</h2><p>Express parcels leave the warehouse the same afternoon.</p>
</body></html>"""


class Site:
    """One page whose text the test changes, served on loopback."""

    def __init__(self) -> None:
        self.body = PAGE.format(days="five").encode()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.body)))
                self.end_headers()
                self.wfile.write(site.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/delivery"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    served = Site()
    yield served
    served.server.shutdown()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    # Loopback only: other private networks stay refused.
    running = Service(tmp_path_factory.mktemp("urls"), FETCH_ALLOWED_NETWORKS="127.0.0.0/8")
    running.start()
    yield running
    running.stop()


async def _submit(client: httpx.AsyncClient, owner: dict[str, str], body: dict) -> httpx.Response:
    return await client.post("/api/widget/process-document", json=body, headers=owner)


async def test_a_page_is_fetched_cited_and_refreshed_in_place(
    service: Service, site: Site, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner)
        body = {"widget_id": widget["id"], "url": site.url}

        first = await _submit(client, owner, body)
        assert first.status_code == 202, first.text
        document_id = first.json()["document_id"]
        ready = await _until_ready(client, owner, document_id)
        assert (ready["title"], ready["source_url"], ready["revision"]) == (
            "Delivery times",
            site.url,
            1,
        )
        answer = await _ask(client, widget["public_key"], "How long does standard delivery take?")
        assert "five working days" in answer["answer"]
        assert answer["sources"][0]["title"] == "Delivery times"

        unchanged = await _submit(client, owner, body)
        assert (unchanged.status_code, unchanged.json()["document_id"]) == (200, document_id)

        site.body = PAGE.format(days="two").encode()
        refreshed = await _submit(client, owner, body)
        assert (refreshed.status_code, refreshed.json()["document_id"]) == (202, document_id)
        ready = await _until_ready(client, owner, document_id)
        assert ready["revision"] == 2
        answer = await _ask(client, widget["public_key"], "Standard delivery to Portugal?")
        assert "two working days" in answer["answer"]
        assert "five" not in " ".join(s["snippet"] for s in answer["sources"])
        listed = await client.get(f"/api/widget/documents?widget_id={widget['id']}", headers=owner)
        assert [d["document_id"] for d in listed.json()["documents"]] == [document_id]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("http://10.0.0.7/intranet", 422, "invalid_input"),
        ("http://169.254.169.254/latest/meta-data/", 422, "invalid_input"),
        ("file:///etc/passwd", 422, "invalid_input"),
        ("http://127.0.0.1:9/nothing-listens-here", 422, "fetch_failed"),
    ],
)
async def test_urls_that_cannot_or_must_not_be_fetched_are_refused(
    service: Service, owner: dict[str, str], url: str, status: int, code: str
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner)
        response = await _submit(client, owner, {"widget_id": widget["id"], "url": url})
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        listed = await client.get(f"/api/widget/documents?widget_id={widget['id']}", headers=owner)
        assert listed.json()["documents"] == []


async def test_a_large_page_is_refused_with_413(
    service: Service, site: Site, owner: dict[str, str]
) -> None:
    site.body = b"<html><body><p>" + b"word " * 100_000 + b"</p></body></html>"
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        widget = await _widget(client, owner)
        response = await _submit(client, owner, {"widget_id": widget["id"], "url": site.url})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
