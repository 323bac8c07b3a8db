"""One admitted question answered as a stream of events: start, sources, tokens, done.

The answer flows one way through the steps — recall a cached answer or retrieve and
generate, then record — and the guarantees are kept here: the exchange is saved before
`done` (a failed save ends the stream with an error instead), and its usage, reserved at
admission, is settled whatever way the answer ends, a visitor hanging up or the save
failing included (chat/recording.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from uuid import UUID

from application.answer_cache import AnswerCache
from application.chat.draft import Draft, Timing, cached_of, pieces_of, sources_of
from application.chat.events import ChatEvent, ChatFinished, ChatStarted, SourcesFound, TokenDelta
from application.chat.generation import Generation
from application.chat.question import AdmittedQuestion
from application.chat.recording import Recording
from application.chat.retrieval import Retrieval
from application.ports.models import ChatModel
from application.ports.system import Clock
from domain.models import (
    FINISH_FAILED,
    FINISH_NO_ANSWER,
    PENDING_MODEL,
    Answer,
    Source,
    says_no_answer,
)
from domain.small_talk import reply_to


@dataclass(frozen=True, kw_only=True)
class AnswerSteps:
    """The steps an admitted question goes through, in order."""

    answers: AnswerCache
    retrieval: Retrieval
    generation: Generation
    recording: Recording
    clock: Clock


class ChatTurn:
    def __init__(self, admitted: AdmittedQuestion, steps: AnswerSteps) -> None:
        self._admitted = admitted
        self._steps = steps

    @property
    def conversation_id(self) -> UUID:
        return self._admitted.conversation.id

    @property
    def message_id(self) -> UUID:
        return self._admitted.message_id

    async def events(self) -> AsyncIterator[ChatEvent]:
        steps, admitted = self._steps, self._admitted
        draft = Draft(PENDING_MODEL)
        timing = Timing(steps.clock)
        saved = False
        try:
            # Inside: with no model to answer, the reserved usage is settled as failed.
            models = steps.generation.models_for(admitted.widget, admitted.over_budget)
            draft.model = models[0].name
            yield ChatStarted(self.conversation_id, self.message_id, draft.model)
            # Only a conversation's first question: later ones may lean on what came before.
            key = (
                await steps.answers.key_for(admitted.widget, admitted.question.message)
                if admitted.is_new_conversation
                else None
            )
            cached = await steps.answers.recall(key) if key is not None else None
            if cached is not None:
                draft.cached, draft.model, draft.sources = True, cached.model, cached.sources
                yield SourcesFound(draft.sources)
                for piece in pieces_of(cached.answer):
                    draft.parts.append(piece)
                    timing.first_token()
                    yield TokenDelta(piece)
                draft.finish_reason = cached.finish_reason
            else:
                async for event in self._answer(models, draft, timing):
                    yield event
                # An offline answer given over budget would outlive the month that forced it.
                if key is not None and not admitted.over_budget:
                    await steps.answers.remember(key, cached_of(draft))
            saved = True
            await asyncio.shield(steps.recording.save(admitted, draft))
            yield ChatFinished(draft.usage, draft.finish_reason, draft.model, draft.cached)
        except Exception:
            draft.finish_reason = FINISH_FAILED
            raise
        finally:
            if not saved:
                # Shielded: a visitor who hangs up cancels the stream, not the bookkeeping.
                await asyncio.shield(steps.recording.save(admitted, draft))
            await steps.recording.finish(admitted, draft, timing)

    async def _answer(
        self, models: Sequence[ChatModel], draft: Draft, timing: Timing
    ) -> AsyncIterator[ChatEvent]:
        steps, admitted = self._steps, self._admitted
        talk = admitted.small_talk
        if talk is not None:
            # "Hi!" or "thanks!": answered as a person would, without searching the documents
            # (which would find nothing and say so) and without a model's tokens.
            yield SourcesFound(())
            yield _said(reply_to(talk, admitted.widget.greeting), "stop", draft, timing)
            return
        hits = await steps.retrieval(admitted, draft)
        timing.retrieved()
        draft.sources = sources_of(hits)
        yield SourcesFound(draft.sources)
        if not hits:
            yield _said(admitted.widget.no_answer_message, FINISH_NO_ANSWER, draft, timing)
            return
        async for delta in steps.generation(admitted, hits, models, draft):
            timing.first_token()
            yield TokenDelta(delta)
        # A model that found nothing in its sources says the no-answer message, as it is
        # told to: that is no answer either, and cites none of the sources it was handed.
        found_nothing = says_no_answer("".join(draft.parts), admitted.widget.no_answer_message)
        draft.finish_reason = FINISH_NO_ANSWER if found_nothing else "stop"

    async def collect(self) -> Answer:
        """The whole answer at once, for the JSON API."""
        sources: tuple[Source, ...] = ()
        parts: list[str] = []
        finished: ChatFinished | None = None
        async for event in self.events():
            if isinstance(event, SourcesFound):
                sources = event.sources
            elif isinstance(event, TokenDelta):
                parts.append(event.text)
            elif isinstance(event, ChatFinished):
                finished = event
        assert finished is not None  # events() always ends with ChatFinished or raises
        return Answer(
            conversation_id=self.conversation_id,
            message_id=self.message_id,
            answer="".join(parts),
            # What was searched backs no answer (the conversation keeps it for the owner).
            sources=() if finished.finish_reason == FINISH_NO_ANSWER else sources,
            model=finished.model,
            usage=finished.usage,
            finish_reason=finished.finish_reason,
            cached=finished.cached,
        )


def _said(text: str, finish_reason: str, draft: Draft, timing: Timing) -> TokenDelta:
    """An answer of one fixed text, no model asked: recorded, timed and sent whole."""
    draft.parts.append(text)
    draft.finish_reason = finish_reason
    timing.first_token()
    return TokenDelta(text)
