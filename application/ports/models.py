"""The models the service calls: an embedder, and chat models chosen per widget."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from domain.models import Usage, Widget
from domain.prompts import Prompt


class Embedder(Protocol):
    """Turns texts into vectors of one model's space."""

    @property
    def model(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class ChatModel(Protocol):
    """One provider + model; streams text deltas, then exactly one Usage.

    A stream that cannot start raises a DependencyUnavailableError (the next model is
    tried); one that breaks after its first delta raises one too, and the use case keeps
    what was said. Closing the stream early must release the provider's request.
    """

    @property
    def name(self) -> str: ...

    def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]: ...


class ChatModelRouter(Protocol):
    """The ordered models to try for a widget: first choice, then fallbacks."""

    def models_for(self, widget: Widget) -> Sequence[ChatModel]: ...

    def offline(self) -> ChatModel:
        """The answerer that costs nothing (the extractive one), always there: what a widget
        past its spending ceiling answers with."""
        ...

    def unusable(self, spec: str) -> str | None:
        """Why a widget cannot name this model here ("ANTHROPIC_API_KEY is not set", an
        unknown provider), or None when it can."""
        ...
