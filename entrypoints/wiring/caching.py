"""The cache (in-process unless REDIS_URL names a Redis shared by replicas) and the limits
it counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from adapters.cache.memory import MemoryCache
from application.chat.limits import LimitPolicy, PlanLimits
from application.ports.caching import Cache
from domain.models import Plan
from entrypoints.settings import Settings
from entrypoints.wiring.configured import Configured


class CachingProvider(Provider):
    scope = Scope.APP

    @provide
    def memory(self) -> Cache:
        return MemoryCache()

    @provide(when=Configured("redis"))
    async def redis(self, settings: Settings) -> AsyncIterator[Cache]:
        assert settings.redis_url is not None
        # Imported only when configured: redis-py is ~7 MB of a worker on the in-process cache.
        from adapters.cache.redis import RedisCache

        redis = RedisCache.from_url(settings.redis_url)
        yield redis
        await redis.close()

    @provide
    def limit_policy(self, settings: Settings) -> LimitPolicy:
        s = settings
        return LimitPolicy(
            by_plan={
                Plan.FREE: PlanLimits(
                    visitor_per_minute=s.rate_limit_free_visitor_per_minute,
                    address_per_minute=s.rate_limit_free_address_per_minute,
                    widget_per_minute=s.rate_limit_free_widget_per_minute,
                    messages_per_month=s.quota_free_messages_per_month,
                    monthly_budget_usd=s.free_monthly_budget_usd,
                ),
                Plan.PAID: PlanLimits(
                    visitor_per_minute=s.rate_limit_paid_visitor_per_minute,
                    address_per_minute=s.rate_limit_paid_address_per_minute,
                    widget_per_minute=s.rate_limit_paid_widget_per_minute,
                    messages_per_month=s.quota_paid_messages_per_month,
                    monthly_budget_usd=s.paid_monthly_budget_usd,
                ),
            },
            fail_open=s.rate_limit_fail_open,
        )
