"""The served app with a stand-in OpenAI model, a third-party page on a second origin, and
headless Chromium; skipped, saying why, where Chromium or Playwright is missing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import httpx
import pytest

from testkit.browser import WATCH_VIOLATIONS, EmbeddingSite, embedding_site, launch, why_no_browser
from testkit.llm_stubs import StubServer, running_stub
from tests.e2e.conftest import ADMIN_TOKEN, Service

REASON = why_no_browser()
# Every test here: skipped, saying why, where the browser cannot run.
needs_browser = [
    pytest.mark.browser,
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]
OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HANDBOOK = b"""# Warranty

Every kettle has a two-year warranty. Keep your receipt to claim it.

# Refunds

Refunds are paid to the original card within five working days.
"""


@pytest.fixture(scope="session")
def stub() -> Iterator[StubServer]:
    with running_stub() as server:
        yield server


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, stub: StubServer) -> Iterator[Service]:
    env = {
        "OPENAI_API_KEY": "sk-browser",
        "OPENAI_BASE_URL": stub.url + "/v1",
        "LLM_FREE": "openai:gpt-4o-mini",
        "LLM_PAID": "openai:gpt-4o-mini",
        "LLM_RETRY_ATTEMPTS": "1",
        "ENVIRONMENT": "development",
    }
    running = Service(tmp_path_factory.mktemp("browser"))
    with mock.patch.dict(os.environ, env):  # Service.start() hands os.environ to the child
        running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def site(service: Service) -> Iterator[EmbeddingSite]:
    with embedding_site(service.url) as running:
        yield running


@pytest.fixture(scope="session")
def owner_client(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, headers=OWNER, timeout=30) as client:
        yield client


def until_ready(client: httpx.Client, document_id: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.get(f"/api/widget/documents/{document_id}/status").json()
        if status["status"] == "ready":
            return
        assert status["status"] != "failed", status
        time.sleep(0.2)
    raise TimeoutError(f"document {document_id} not ready")


def make_widget(
    client: httpx.Client, documents: dict[str, bytes] | None = None, **settings: Any
) -> dict[str, Any]:
    body = {"tenant_id": "shop", "plan": "free", "name": "Kettle help", **settings}
    response = client.post("/api/widgets", json=body)
    assert response.status_code == 201, response.text
    widget = dict(response.json())
    for name, content in (documents if documents is not None else {"h.md": HANDBOOK}).items():
        uploaded = client.post(
            "/api/widget/process-document",
            data={"widget_id": widget["id"]},
            files={"file": (name, content, "application/octet-stream")},
        )
        assert uploaded.status_code == 202, uploaded.text
        until_ready(client, uploaded.json()["document_id"])
    return widget


@pytest.fixture(scope="session")
def widget(owner_client: httpx.Client, site: EmbeddingSite) -> dict[str, Any]:
    """Allowed on the embedding site, with the handbook, answered by the stub."""
    return make_widget(
        owner_client,
        allowed_origins=[site.origin],
        title="Kettle help",
        greeting="Hi! Ask me about our kettles.",
        suggested_questions=["How long is the warranty?", "How are refunds paid?"],
        accent_color="#0a7d33",
    )


# Module scope: Playwright's sync API keeps an event loop running in this thread until it
# stops, and the async tests of the other modules need the thread's loop to themselves.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


class Watched:
    """A page with what it said: console errors, dialogs, CSP violations."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("dialog", self._dialog)
        page.add_init_script(WATCH_VIOLATIONS)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def violations(self) -> list[str]:
        seen = list(self.page.evaluate("window.__violations || []"))
        return seen + [line for line in self.console if "Content Security Policy" in line]


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def watched(context: Any) -> Watched:
    return Watched(context.new_page())


@pytest.fixture(autouse=True)
def _reset_stub(stub: StubServer) -> None:
    stub.reset()
