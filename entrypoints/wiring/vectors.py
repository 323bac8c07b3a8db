"""Vectors: Qdrant Edge in-process (one shard under DATA_DIR) unless QDRANT_URL names a
Qdrant server; one collection per embedding model, so vector spaces never mix."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide

from adapters.vectorstore.edge import EdgeVectorStore
from adapters.vectorstore.retrieval import Tuning
from application.ports.models import Embedder
from application.ports.vectors import VectorStore
from entrypoints.settings import Settings
from entrypoints.wiring.configured import Configured


def collection_name(model: str) -> str:
    return "chunks_" + re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")


def _tuning(settings: Settings) -> Tuning:
    return Tuning(
        dense_weight=settings.retrieval_dense_weight, feedback=settings.retrieval_feedback
    )


class VectorProvider(Provider):
    scope = Scope.APP

    @provide
    async def edge(self, settings: Settings, embedder: Embedder) -> AsyncIterator[VectorStore]:
        path = settings.data_dir / "vectors" / collection_name(embedder.model)
        edge = await asyncio.to_thread(EdgeVectorStore, path, embedder.dimension, _tuning(settings))
        yield edge
        await edge.close()

    @provide(when=Configured("qdrant"))
    async def server(self, settings: Settings, embedder: Embedder) -> AsyncIterator[VectorStore]:
        # Imported only when configured: qdrant-client is ~39 MB of a worker on Qdrant Edge.
        from qdrant_client import AsyncQdrantClient

        from adapters.vectorstore.server import QdrantVectorStore

        client = AsyncQdrantClient(
            url=settings.qdrant_url,
            api_key=settings.qdrant_api_key,
            timeout=5,
            check_compatibility=False,
        )
        name = collection_name(embedder.model)
        server = QdrantVectorStore(client, name, embedder.dimension, _tuning(settings))
        await server.ensure_collection()
        yield server
        await server.close()
