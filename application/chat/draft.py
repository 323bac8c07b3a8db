"""The state of one answer in progress: its draft, its timing, its sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from application.answer_cache import CachedAnswer
from application.ports.system import Clock
from domain.models import ScoredChunk, Source, Usage
from domain.pricing import Price, cost_of
from domain.prompts import Prompt, prompt_tokens
from domain.tokens import estimate_tokens

SNIPPET_CHARS = 300


def sources_of(hits: Sequence[ScoredChunk]) -> tuple[Source, ...]:
    return tuple(
        Source(
            index=n,
            document_id=hit.chunk.document_id,
            title=hit.chunk.title,
            section=hit.chunk.section,
            snippet=hit.chunk.text[:SNIPPET_CHARS],
            score=round(hit.score, 4),
            page=hit.chunk.page,
            url=hit.chunk.url,
        )
        for n, hit in enumerate(hits, start=1)
    )


class Draft:
    """What has been produced so far; persisted whatever way the turn ends."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.sources: tuple[Source, ...] = ()
        self.usage = Usage()
        self.finish_reason = "cancelled"
        self.cached = False
        # What `model` was sent, until it reports its own usage.
        self.pending: Prompt | None = None
        # The question as it was found in the documents, when it differs from the visitor's
        # words (a misspelling put right): what the model is asked.
        self.asked_as: str | None = None
        # The earlier question a follow-up was searched with, when it was, and the vector
        # the sources were found with.
        self.context = ""
        self.vector: Sequence[float] = ()

    @property
    def text(self) -> str:
        return "".join(self.parts)


def estimated_usage(model: str, sent: Prompt, output: str, prices: Mapping[str, Price]) -> Usage:
    """A stream cut short never reports usage; the provider still bills what it did."""
    return cost_of(model, prompt_tokens(sent, estimate_tokens), estimate_tokens(output), prices)


def pieces_of(text: str) -> list[str]:
    """A cached answer streams word by word, like a fresh one."""
    words = text.split(" ")
    return [word + " " for word in words[:-1]] + words[-1:]


def cached_of(draft: Draft) -> CachedAnswer:
    return CachedAnswer(
        answer=draft.text,
        sources=draft.sources,
        model=draft.model,
        finish_reason=draft.finish_reason,
    )


class Timing:
    """Seconds since the answer began, at retrieval and at the first token."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.began = clock.monotonic()
        self.retrieval: float | None = None
        self.first: float | None = None

    def retrieved(self) -> None:
        self.retrieval = self._clock.monotonic() - self.began

    def first_token(self) -> None:
        if self.first is None:
            self.first = self._clock.monotonic() - self.began

    def total(self) -> float:
        return self._clock.monotonic() - self.began
