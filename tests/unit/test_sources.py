"""An answer's sources: the page with the most evidence first, not the one lucky chunk."""

from __future__ import annotations

import uuid

from domain.models import Chunk, ScoredChunk
from domain.sources import by_document

WIDGET = uuid.uuid4()
LUCKY, THOROUGH, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def hit(document: uuid.UUID, score: float, text: str) -> ScoredChunk:
    chunk = Chunk(
        id=uuid.uuid4(), widget_id=WIDGET, document_id=document, index=0, text=text, title="T"
    )
    return ScoredChunk(chunk, score)


def test_the_page_with_the_most_evidence_comes_first_with_its_chunks_together() -> None:
    hits = [
        hit(LUCKY, 0.9, "lucky"),
        hit(THOROUGH, 0.8, "thorough 1"),
        hit(OTHER, 0.75, "other"),
        hit(THOROUGH, 0.7, "thorough 2"),
        hit(THOROUGH, 0.6, "thorough 3"),
    ]

    chosen = by_document(hits, limit=4)

    assert [h.chunk.text for h in chosen] == [
        "thorough 1",
        "thorough 2",
        "thorough 3",
        "lucky",
    ]


def test_only_the_best_chunks_of_a_page_count() -> None:
    many_weak = [hit(OTHER, 0.1, f"weak {n}") for n in range(10)]
    chosen = by_document([hit(LUCKY, 0.9, "strong"), *many_weak], limit=2, best_of=3)

    assert [h.chunk.text for h in chosen] == ["strong", "weak 0"]
