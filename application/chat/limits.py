"""Rate limits per visitor, per address and per widget; the policy of the monthly allowance
and spending ceilings too, which billing (chat/billing.py) enforces when it reserves a
question."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime

import msgspec

from application.ports.caching import Cache
from application.ports.system import Clock
from application.ports.telemetry import Telemetry
from domain.errors import DependencyUnavailableError, RateLimitedError
from domain.models import Plan, Widget
from domain.rate_windows import RateCheck, SlidingWindow

WINDOW = SlidingWindow(seconds=60)


class PlanLimits(msgspec.Struct, frozen=True, kw_only=True):
    visitor_per_minute: int
    # The visitor id is the widget's to choose, so a new one per message would pass the
    # visitor's limit: the client's address is counted too (shared by everyone behind one
    # NAT, hence a higher limit).
    address_per_minute: int
    widget_per_minute: int
    messages_per_month: int
    # What a tenant's answers may cost per calendar month, in USD; None: no ceiling.
    monthly_budget_usd: float | None = None


class LimitPolicy(msgspec.Struct, frozen=True, kw_only=True):
    by_plan: Mapping[Plan, PlanLimits]
    # With the cache down: admit everyone (open) or refuse with 503 (closed).
    fail_open: bool = True


def _hashed(who: str) -> str:
    return hashlib.blake2b(who.encode(), digest_size=12).hexdigest()


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
        visitor = widget.visitor_limit_per_minute or plan.visitor_per_minute
        return PlanLimits(
            visitor_per_minute=visitor,
            # One visitor is one address: a widget that lets a visitor send more (a kiosk)
            # lets that visitor's address send as much.
            address_per_minute=max(plan.address_per_minute, visitor),
            widget_per_minute=widget.widget_limit_per_minute or plan.widget_per_minute,
            messages_per_month=plan.messages_per_month,
            monthly_budget_usd=plan.monthly_budget_usd,
        )

    async def admit(self, widget: Widget, visitor: str, address: str | None = None) -> None:
        """Counts this message; raises when a limit is reached."""
        limits = self._limits(widget)
        now = self._clock.now()
        try:
            await self._within_rate(widget, visitor, address, limits, now)
        except DependencyUnavailableError:
            self._telemetry.cache_degraded("rate_limit")
            if not self._policy.fail_open:
                raise

    async def _within_rate(
        self, widget: Widget, visitor: str, address: str | None, limits: PlanLimits, now: datetime
    ) -> None:
        # Hashed: visitor ids and IP addresses never sit in the cache in the clear. One
        # hash tag per widget: its counters live together on a Redis cluster, for one script.
        scopes = [
            ("visitor", f"rl:{{{widget.id}}}:v:{_hashed(visitor)}", limits.visitor_per_minute)
        ]
        if address is not None:
            scopes.append(
                ("address", f"rl:{{{widget.id}}}:a:{_hashed(address)}", limits.address_per_minute)
            )
        scopes.append(("widget", f"rl:{{{widget.id}}}:w", limits.widget_per_minute))
        checks = [RateCheck(key, limit) for _, key, limit in scopes]
        refused = await self._cache.take(checks, WINDOW, now.timestamp())
        if refused is not None:
            scope = scopes[refused.index][0]
            self._telemetry.rate_limited(scope)
            raise RateLimitedError(
                widget.limit_message,
                retry_after=max(1, math.ceil(refused.retry_after)),
                details={"scope": scope},
            )
