from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.postgres.database import Database
from application.ports.caching import Cache
from application.ports.vectors import VectorStore
from entrypoints.readiness import Readiness


class HealthProvider(Provider):
    scope = Scope.APP

    @provide
    def readiness(self, database: Database, vectors: VectorStore, cache: Cache) -> Readiness:
        return Readiness(
            required={"database": database.ping, "vector_store": vectors.ping},
            optional={"cache": cache.ping},
        )
