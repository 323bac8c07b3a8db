"""Liveness (no I/O) and readiness (each dependency, briefly)."""

from __future__ import annotations

from importlib.metadata import version

from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get

from entrypoints.http.schemas import Health, Readiness
from entrypoints.readiness import Readiness as ReadinessCheck

VERSION = version("chatconnect")


@get("/health", tags=["health"])
async def health() -> Health:
    return Health(status="ok", version=VERSION)


@get("/health/ready", tags=["health"])
@inject
async def ready(check: FromDishka[ReadinessCheck]) -> Response[Readiness]:
    ok, checks = await check()
    body = Readiness(status="ok" if ok else "unavailable", checks=checks)
    return Response(body, status_code=200 if ok else 503)
