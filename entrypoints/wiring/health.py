from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.llm.router import PlanModelRouter
from adapters.postgres.database import Database
from adapters.telemetry.model_health import ModelHealth
from application.ports.caching import Cache
from application.ports.models import ChatModelRouter
from application.ports.vectors import VectorStore
from entrypoints.readiness import Readiness, models_answering


class HealthProvider(Provider):
    scope = Scope.APP

    @provide
    def readiness(
        self,
        database: Database,
        vectors: VectorStore,
        cache: Cache,
        router: ChatModelRouter,
        health: ModelHealth,
    ) -> Readiness:
        plans = router.plans if isinstance(router, PlanModelRouter) else {}
        return Readiness(
            required={"database": database.ping, "vector_store": vectors.ping},
            optional={"cache": cache.ping, "models": models_answering(plans, health.failing)},
        )
