"""Readiness: every dependency checked at once, each with a short timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog

from domain.models import Plan

log = structlog.get_logger()

Check = Callable[[], Awaitable[None]]
OFFLINE = "extractive"


class ModelsFailingError(Exception):
    """Every hosted model of a plan failed its last call."""


def models_answering(
    plans: Mapping[Plan, Sequence[str]], failing: Callable[[str], str | None]
) -> Check:
    """A check that fails when, for some plan, every hosted model's last call failed: its
    visitors then get only the offline answerer, or nothing. The offline answerer itself
    never fails, so it does not count."""

    async def check() -> None:
        for plan, models in plans.items():
            hosted = [model for model in models if model != OFFLINE]
            causes = {model: failing(model) for model in hosted}
            if hosted and all(causes.values()):
                said = "; ".join(f"{model}: {cause}" for model, cause in causes.items())
                raise ModelsFailingError(f"every model of the {plan.value} plan fails ({said})")

    return check


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
        self._abandoned: set[asyncio.Future[None]] = set()

    async def _probe(self, name: str, check: Check, failed_as: str) -> tuple[str, str]:
        # The check runs as its own task so the answer never waits for a driver's
        # cleanup after a timeout (asyncpg cancelling a query on a hung server can take
        # seconds); the abandoned task finishes in the background.
        task = asyncio.ensure_future(check())
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            task.cancel()
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            log.warning("readiness_check_timed_out", dependency=name)
            return name, failed_as
        if task.exception() is not None:
            log.warning("readiness_check_failed", dependency=name, error=repr(task.exception()))
            return name, failed_as
        return name, "ok"

    async def __call__(self) -> tuple[bool, dict[str, str]]:
        results = await asyncio.gather(
            *(self._probe(n, c, "down") for n, c in self._required.items()),
            *(self._probe(n, c, "degraded") for n, c in self._optional.items()),
        )
        checks = dict(results)
        return all(checks[n] == "ok" for n in self._required), checks
