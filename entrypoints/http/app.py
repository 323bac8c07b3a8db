"""The Litestar application factory."""

from __future__ import annotations

import structlog
from dishka import Provider, make_async_container
from dishka.integrations.litestar import setup_dishka
from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from application.ingestion import ProcessDocument
from entrypoints.admin_token import admin_token
from entrypoints.container import providers
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.middleware import RequestIdMiddleware, WidgetCorsMiddleware
from entrypoints.http.routes import chat, documents, health, usage, widgets
from entrypoints.logs import configure_logging
from entrypoints.readiness import Readiness
from entrypoints.settings import Settings, load_settings
from entrypoints.worker import Worker

log = structlog.get_logger()

ROUTES = [
    health.health,
    health.ready,
    widgets.create_widget,
    widgets.read_widget,
    widgets.change_widget,
    widgets.delete_widget,
    documents.process_document,
    documents.document_status,
    documents.list_documents,
    documents.delete_document,
    chat.chat,
    chat.chat_stream,
    usage.usage,
]
# Room for multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 64 * 1024


# Accepted now so deployments can set them; their adapters arrive with later issues.
NOT_YET_USED = ("redis_url", "openai_api_key", "openai_base_url", "anthropic_api_key")


def _warn_unused(settings: Settings) -> None:
    for name in NOT_YET_USED:
        if getattr(settings, name):
            log.warning(
                "setting_not_used_yet",
                variable=name.upper(),
                reason="this build has no adapter for it; the embedded default is used",
            )


def create_app(settings: Settings | None = None, *extra_providers: Provider) -> Litestar:
    """Builds the app; providers given here override the default bindings (for tests)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    _warn_unused(settings)
    container = make_async_container(*providers(), *extra_providers, context={Settings: settings})
    worker: Worker | None = None

    async def start() -> None:
        nonlocal worker
        await container.get(Readiness)  # opens the database, vector store and model now
        if settings.worker_in_process:
            worker = Worker(await container.get(ProcessDocument))
            worker.start()
            app.state.wake_worker = worker.wake

    async def stop() -> None:
        if worker is not None:
            await worker.stop()
        await container.close()

    app = Litestar(
        route_handlers=ROUTES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        on_startup=[start],
        on_shutdown=[stop],
        openapi_config=OpenAPIConfig(title="ChatConnect", version=health.VERSION, path="/schema"),
        request_max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        logging_config=None,
        debug=False,
    )
    app.state.admin_token_bytes = admin_token(settings).encode()
    app.state.heartbeat_seconds = 15.0
    app.state.wake_worker = lambda: None
    setup_dishka(container, app)
    app.asgi_handler = RequestIdMiddleware(WidgetCorsMiddleware(app.asgi_handler))
    return app
