"""The app on a real Qdrant server (TEST_QDRANT_URL or a container of TEST_QDRANT_IMAGE).

Skipped, saying why, where no server can be had: no Qdrant image or binary can be had on
the CI machine, so there the qdrant-client adapter runs in the contract suite on
qdrant-client's local mode only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.integration.test_operations import widget_with_a_document

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(
    qdrant_url: str, postgres_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        qdrant_url=qdrant_url,
        admin_token="ops-token",
        log_format="json",
    )
    async with AsyncTestClient(create_app(settings), timeout=60) as test_client:
        yield test_client


async def test_the_app_on_a_qdrant_server_indexes_and_answers(client: AsyncTestClient) -> None:
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["vector_store"] == "ok"

    widget = await widget_with_a_document(client)
    answered = await client.post(
        "/api/widget/chat",
        json={"message": "How long can I return an item?"},
        headers={"X-Widget-Key": widget["public_key"]},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["sources"], answered.json()
    assert "30 days" in answered.json()["answer"]
