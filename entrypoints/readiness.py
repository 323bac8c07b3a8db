"""Readiness: every dependency checked at once, each with a short timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import structlog

log = structlog.get_logger()

Check = Callable[[], Awaitable[None]]


class Readiness:
    def __init__(
        self,
        required: Mapping[str, Check],
        optional: Mapping[str, Check],
        timeout_seconds: float = 1.0,
    ) -> None:
        self._required = dict(required)
        self._optional = dict(optional)
        self._timeout = timeout_seconds

    async def _probe(self, name: str, check: Check, failed_as: str) -> tuple[str, str]:
        try:
            async with asyncio.timeout(self._timeout):
                await check()
        except Exception as error:
            log.warning("readiness_check_failed", dependency=name, error=repr(error))
            return name, failed_as
        return name, "ok"

    async def __call__(self) -> tuple[bool, dict[str, str]]:
        results = await asyncio.gather(
            *(self._probe(n, c, "down") for n, c in self._required.items()),
            *(self._probe(n, c, "degraded") for n, c in self._optional.items()),
        )
        checks = dict(results)
        return all(checks[n] == "ok" for n in self._required), checks
