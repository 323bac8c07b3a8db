"""Rate limits per visitor and per widget; the policy of the monthly allowance and spending
ceilings too, which billing (chat/billing.py) enforces when it reserves a question."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

import msgspec

from application.ports.caching import Cache
from application.ports.system import Clock
from application.ports.telemetry import Telemetry
from domain.errors import DependencyUnavailableError, RateLimitedError
from domain.models import Plan, Widget

WINDOW_SECONDS = 60


class PlanLimits(msgspec.Struct, frozen=True, kw_only=True):
    visitor_per_minute: int
    widget_per_minute: int
    messages_per_month: int
    # What a tenant's answers may cost per calendar month, in USD; None: no ceiling.
    monthly_budget_usd: float | None = None


class LimitPolicy(msgspec.Struct, frozen=True, kw_only=True):
    by_plan: Mapping[Plan, PlanLimits]
    # With the cache down: admit everyone (open) or refuse with 503 (closed).
    fail_open: bool = True


class ChatLimits:
    def __init__(
        self, cache: Cache, clock: Clock, telemetry: Telemetry, policy: LimitPolicy
    ) -> None:
        self._cache = cache
        self._clock = clock
        self._telemetry = telemetry
        self._policy = policy

    def _limits(self, widget: Widget) -> PlanLimits:
        plan = self._policy.by_plan[widget.plan]
        return PlanLimits(
            visitor_per_minute=widget.visitor_limit_per_minute or plan.visitor_per_minute,
            widget_per_minute=widget.widget_limit_per_minute or plan.widget_per_minute,
            messages_per_month=plan.messages_per_month,
            monthly_budget_usd=plan.monthly_budget_usd,
        )

    async def admit(self, widget: Widget, visitor: str) -> None:
        """Counts this message; raises when a limit is reached."""
        limits = self._limits(widget)
        now = self._clock.now()
        try:
            await self._within_rate(widget, visitor, limits, now)
        except DependencyUnavailableError:
            self._telemetry.cache_degraded("rate_limit")
            if not self._policy.fail_open:
                raise

    async def _within_rate(
        self, widget: Widget, visitor: str, limits: PlanLimits, now: datetime
    ) -> None:
        window = int(now.timestamp()) // WINDOW_SECONDS
        retry_after = WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS
        # Hashed: visitor ids and IP addresses never sit in the cache in the clear.
        who = hashlib.blake2b(visitor.encode(), digest_size=12).hexdigest()
        counts = (
            ("visitor", f"rl:v:{widget.id}:{who}:{window}", limits.visitor_per_minute),
            ("widget", f"rl:w:{widget.id}:{window}", limits.widget_per_minute),
        )
        for scope, key, limit in counts:
            if await self._cache.incr(key, WINDOW_SECONDS) > limit:
                self._telemetry.rate_limited(scope)
                raise RateLimitedError(
                    widget.limit_message, retry_after=retry_after, details={"scope": scope}
                )
