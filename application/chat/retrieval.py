"""Finding the sources of an answer among the widget's chunks."""

from __future__ import annotations

from application.chat.question import AdmittedQuestion, ChatPolicy
from application.ports.vectors import SearchQuery, VectorStore
from domain.models import ScoredChunk


class Retrieval:
    def __init__(self, vectors: VectorStore, policy: ChatPolicy) -> None:
        self._vectors = vectors
        self._policy = policy

    async def __call__(self, admitted: AdmittedQuestion) -> list[ScoredChunk]:
        """The best chunks, or none when even the best is too far from the question."""
        widget, message = admitted.widget, admitted.question.message
        vector = await admitted.vector
        hits = await self._vectors.search(
            widget.id, SearchQuery(text=message, vector=vector), widget.top_k
        )
        # The floor gates the answer as a whole, on the dense cosine: fused scores rank the
        # hits of one search but mean nothing across questions, and a keyword hit with a low
        # cosine is still worth citing when a better hit shows the widget knows the topic.
        best = max((h.score if h.similarity is None else h.similarity for h in hits), default=None)
        if best is None or best < self._policy.min_score:
            return []
        return hits
