"""Rate limits per visitor, per address and per widget, and the tenant's monthly message
allowance."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

from application.best_effort import best_effort
from application.ports.caching import Cache
from application.ports.storage import UsageRepository
from application.ports.system import Clock
from application.ports.telemetry import Telemetry
from domain.errors import DependencyUnavailableError, QuotaExceededError, RateLimitedError
from domain.models import Plan, Widget
from domain.rate_windows import RateCheck, SlidingWindow

WINDOW = SlidingWindow(seconds=60)
# The monthly count is read from usage at most this often per tenant; a burst inside that
# window can overshoot the allowance by what it sends, which a monthly quota tolerates.
QUOTA_REFRESH_SECONDS = 30.0


class PlanLimits(msgspec.Struct, frozen=True, kw_only=True):
    visitor_per_minute: int
    # The visitor id is the widget's to choose, so a new one per message would pass the
    # visitor's limit: the client's address is counted too (shared by everyone behind one
    # NAT, hence a higher limit).
    address_per_minute: int
    widget_per_minute: int
    messages_per_month: int


class LimitPolicy(msgspec.Struct, frozen=True, kw_only=True):
    by_plan: Mapping[Plan, PlanLimits]
    # With the cache down: admit everyone (open) or refuse with 503 (closed).
    fail_open: bool = True


def _hashed(who: str) -> str:
    return hashlib.blake2b(who.encode(), digest_size=12).hexdigest()


def _month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def _next_month(now: datetime) -> datetime:
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


class ChatLimits:
    def __init__(
        self,
        cache: Cache,
        usage: UsageRepository,
        clock: Clock,
        telemetry: Telemetry,
        policy: LimitPolicy,
    ) -> None:
        self._cache = cache
        self._usage = usage
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
        )

    async def admit(self, widget: Widget, visitor: str, address: str | None = None) -> None:
        """Counts this message; raises when a limit or the allowance is spent."""
        limits = self._limits(widget)
        now = self._clock.now()
        try:
            await self._within_rate(widget, visitor, address, limits, now)
        except DependencyUnavailableError:
            self._telemetry.cache_degraded("rate_limit")
            if not self._policy.fail_open:
                raise
        await self._within_quota(widget, limits, now)

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

    async def _within_quota(self, widget: Widget, limits: PlanLimits, now: datetime) -> None:
        month = f"{now:%Y%m}"
        key = f"quota:{widget.tenant_id}:{month}"
        cached = await best_effort(self._cache.get(key), None, self._telemetry, "quota")
        if cached is None:
            # Counted from usage, the source of truth: a lost cache costs a query, not money.
            summary = await self._usage.summarize(widget.tenant_id, _month_start(now), now)
            used = summary.messages
            encoded = str(used).encode()
            await best_effort(
                self._cache.set(key, encoded, QUOTA_REFRESH_SECONDS), None, self._telemetry, "quota"
            )
        else:
            used = int(cached)
        if used >= limits.messages_per_month:
            self._telemetry.rate_limited("quota")
            raise QuotaExceededError(
                f"This site's monthly allowance of {limits.messages_per_month} messages is "
                "spent; it renews at the start of next month.",
                retry_after=int((_next_month(now) - now).total_seconds()),
                details={"scope": "quota"},
            )
