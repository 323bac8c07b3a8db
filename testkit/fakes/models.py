"""Chat models that say what the test scripts, and fail where it says."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from domain.errors import ModelUnavailableError
from domain.models import Usage
from domain.prompts import Prompt


class ScriptedModel:
    """Streams the given deltas; can fail before the first one or after some."""

    def __init__(
        self,
        name: str,
        deltas: Sequence[str] = ("Hello ", "world [1]"),
        usage: Usage | None = None,
        fail_after: int | None = None,
        error: Exception | None = None,
    ) -> None:
        self.name = name
        self._deltas = deltas
        self._usage = usage or Usage(12, 3)
        self._fail_after = fail_after
        self._error = error or ModelUnavailableError(f"{name} is down")
        self.prompts: list[Prompt] = []

    async def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        self.prompts.append(prompt)
        for n, delta in enumerate(self._deltas):
            if self._fail_after is not None and n >= self._fail_after:
                raise self._error
            yield delta
        if self._fail_after is not None and self._fail_after >= len(self._deltas):
            raise self._error
        yield self._usage
