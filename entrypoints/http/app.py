"""The Litestar application factory."""

from __future__ import annotations

import structlog
from dishka import Provider, make_async_container
from dishka.integrations.litestar import setup_dishka
from litestar import Litestar
from litestar.plugins.prometheus import PrometheusConfig

from application.chat.answer_question import AnswerQuestion
from application.data_rights import PurgeIdleConversations
from application.ingestion.processing import ProcessDocument
from entrypoints.admin_token import admin_token
from entrypoints.heap import freeze_startup_heap
from entrypoints.http.bodies import JsonBodyRequest
from entrypoints.http.client_address import parse_networks
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.middleware import RequestIdMiddleware, WidgetCorsMiddleware
from entrypoints.http.openapi import docs_asset, openapi_config
from entrypoints.http.routes import (
    chat,
    conversations,
    documents,
    embed,
    feedback,
    health,
    insights,
    metrics,
    usage,
    visitors,
    widget_api,
    widgets,
)
from entrypoints.logs import configure_logging
from entrypoints.readiness import Readiness
from entrypoints.settings import Settings, load_settings
from entrypoints.wiring import providers
from entrypoints.worker import Worker

log = structlog.get_logger()

ROUTES = [
    health.health,
    health.ready,
    widgets.create_widget,
    widgets.list_widgets,
    widgets.read_widget,
    widgets.change_widget,
    widgets.delete_widget,
    visitors.erase_visitor,
    documents.process_document,
    documents.document_status,
    documents.documents_status,
    documents.list_documents,
    documents.delete_document,
    chat.chat,
    chat.chat_stream,
    conversations.list_conversations,
    conversations.export_conversations,
    conversations.read_conversation,
    insights.unanswered,
    feedback.list_feedback,
    usage.usage,
    embed.widget_js,
    widget_api.widget_config,
    widget_api.feedback,
    docs_asset,
]
# A sample third-party page embedding the widget, for trying it out locally.
DEMO_ROUTES = [embed.demo_page, embed.demo_css]
HTTP_METRICS = PrometheusConfig(
    app_name="chatconnect",
    prefix="chatconnect_http",
    group_path=True,  # the route template, not the path: ids would explode the label set
    exclude=["^/metrics$"],
    exclude_unhandled_paths=True,
)
# Room for multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 64 * 1024


def create_app(settings: Settings | None = None, *extra_providers: Provider) -> Litestar:
    """Builds the app; providers given here override the default bindings (for tests)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    container = make_async_container(*providers(), *extra_providers, context={Settings: settings})
    worker: Worker | None = None

    async def start() -> None:
        nonlocal worker
        # Opens the database, vector store, embedding model and provider clients now, so the
        # first visitor does not pay for them.
        await container.get(Readiness)
        await container.get(AnswerQuestion)
        if settings.worker_in_process:
            worker = Worker(
                await container.get(ProcessDocument),
                concurrency=settings.worker_concurrency,
                purge=await container.get(PurgeIdleConversations),
                purge_seconds=settings.retention_sweep_seconds,
            )
            worker.start()
            app.state.wake_worker = worker.wake

    async def stop() -> None:
        if worker is not None:
            await worker.stop()
        await container.close()

    routes = [*ROUTES, *(DEMO_ROUTES if settings.environment == "development" else [])]
    app = Litestar(
        route_handlers=[*routes, metrics.metrics] if settings.metrics_enabled else routes,
        middleware=[HTTP_METRICS.middleware] if settings.metrics_enabled else [],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        on_startup=[start],
        on_shutdown=[stop],
        openapi_config=openapi_config(health.VERSION),
        request_max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        request_class=JsonBodyRequest,
        logging_config=None,
        debug=False,
    )
    app.state.admin_token_bytes = admin_token(settings).encode()
    app.state.metrics_token_bytes = (
        settings.metrics_token.encode() if settings.metrics_token else None
    )
    app.state.heartbeat_seconds = 15.0
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.wake_worker = lambda: None
    setup_dishka(container, app)
    app.asgi_handler = RequestIdMiddleware(WidgetCorsMiddleware(app.asgi_handler))
    return app


def create_served_app(settings: Settings | None = None) -> Litestar:
    """The app as `chatconnect serve` runs it: once started, its heap is frozen."""
    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)  # after the warm-up of create_app's hook
    return app
