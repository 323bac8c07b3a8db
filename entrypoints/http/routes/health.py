"""Liveness (no I/O) and readiness (each dependency, briefly)."""

from __future__ import annotations

from importlib.metadata import version

from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get
from litestar.openapi import ResponseSpec

from entrypoints.http.schemas import Health, Readiness
from entrypoints.readiness import Readiness as ReadinessCheck

VERSION = version("chatconnect")


@get("/health", tags=["health"])
async def health() -> Health:
    return Health(status="ok", version=VERSION)


@get(
    "/health/ready",
    tags=["health"],
    responses={
        503: ResponseSpec(
            data_container=Readiness,
            description="A required dependency (`database`, `vector_store`) is down.",
            generate_examples=False,
        )
    },
)
@inject
async def ready(check: FromDishka[ReadinessCheck]) -> Response[Readiness]:
    """Each dependency checked at once, within a second each: `database` and
    `vector_store` are required (503 when down); `cache` and `models` only degrade (200
    with `degraded`): `models` is `degraded` when every hosted model of a plan is failing,
    so that its visitors get only the offline answerer, or no answer."""
    ok, checks = await check()
    body = Readiness(status="ok" if ok else "unavailable", checks=checks)
    return Response(body, status_code=200 if ok else 503)
