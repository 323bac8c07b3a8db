"""Settings in the container, and the one rule of which optional services are configured."""

from __future__ import annotations

from dishka import Marker, Provider, Scope, activate, from_context

from entrypoints.settings import Settings


class Configured(Marker):
    """Active when the service it names is configured: "postgres" (DATABASE_URL),
    "qdrant" (QDRANT_URL), "redis" (REDIS_URL), "openai_embeddings" (EMBEDDINGS)."""


class ConfigurationProvider(Provider):
    scope = Scope.APP
    settings = from_context(provides=Settings)

    @activate(Configured)
    def configured(self, marker: Configured, settings: Settings) -> bool:
        switches = {
            "postgres": settings.database_url is not None,
            "qdrant": bool(settings.qdrant_url),
            "redis": settings.redis_url is not None,
            "openai_embeddings": settings.embeddings != "local",
        }
        return switches[marker.value]
