"""Prometheus exposition, with the queue gauges read fresh at each scrape."""

from __future__ import annotations

import os

import structlog
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from adapters.telemetry.prometheus import PrometheusTelemetry
from application.ports.jobs import JobQueue
from domain.errors import ChatConnectError
from entrypoints.http.auth import metrics_reader
from entrypoints.http.openapi import errors

log = structlog.get_logger()


def _registry() -> CollectorRegistry:
    # With several worker processes each writes its own files; a scrape merges them.
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


@get(
    "/metrics",
    tags=["operations"],
    include_in_schema=True,
    media_type=CONTENT_TYPE_LATEST,
    guards=[metrics_reader],
    responses=errors(401),
)
@inject
async def metrics(jobs: FromDishka[JobQueue]) -> Response[bytes]:
    """Prometheus text format: HTTP, chat, tokens and cost, retrieval, ingestion. With
    `METRICS_TOKEN` set, only `Authorization: Bearer <METRICS_TOKEN>` may read it (401)."""
    try:
        PrometheusTelemetry.queue_observed(await jobs.stats())
    except ChatConnectError as error:
        # The database being down is exactly when the other metrics matter most.
        log.warning("queue_stats_unavailable", error=error.message)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
