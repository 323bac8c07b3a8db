"""The app as `chatconnect serve` runs it, beyond what create_app builds."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from dishka import AsyncContainer
from litestar.testing import AsyncTestClient

from application.chat.answer_question import AnswerQuestion
from entrypoints.http.app import create_served_app
from entrypoints.settings import Settings

pytestmark = pytest.mark.integration


async def test_the_heap_is_frozen_once_startup_has_warmed_everything_up(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=postgres_url, admin_token="t", log_format="json"
    )
    app = create_served_app(settings)
    try:
        async with AsyncTestClient(app, timeout=60) as client:
            assert (await client.get("/health/ready")).status_code == 200
            container: AsyncContainer = app.state.dishka_container
            answering = await container.get(AnswerQuestion)  # built by the warm-up
            tracked = gc.get_objects()  # the frozen generation is not among them
            assert not any(o is answering for o in tracked)
            assert not any(o is app for o in tracked)
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this process goes on to other tests
