"""Answering a visitor's question: one code path for the JSON and the streaming API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from application.ports import (
    ChatModel,
    ChatModelRouter,
    Clock,
    ConversationRepository,
    Embedder,
    IdGenerator,
    SearchQuery,
    Transactions,
    UsageRepository,
    VectorStore,
)
from domain.errors import (
    ConversationNotFoundError,
    DependencyUnavailableError,
    InvalidInputError,
    ModelUnavailableError,
)
from domain.models import (
    Answer,
    Conversation,
    Message,
    Role,
    ScoredChunk,
    Source,
    Usage,
    UsageEvent,
    Widget,
)
from domain.pricing import DEFAULT_PRICES, Price, cost_of
from domain.prompts import Prompt, PromptSource, Turn

SNIPPET_CHARS = 300


class ChatPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_message_chars: int = 4000
    history_messages: int = 10
    # Cosine similarity below which a chunk is not evidence; see docs/benchmarks.md.
    min_score: float = 0.2
    prices: Mapping[str, Price] = msgspec.field(default_factory=lambda: dict(DEFAULT_PRICES))


class Question(msgspec.Struct, frozen=True, kw_only=True):
    widget: Widget
    message: str
    conversation_id: UUID | None = None
    visitor_id: str | None = None


class ChatStarted(msgspec.Struct, frozen=True):
    conversation_id: UUID
    message_id: UUID
    model: str


class SourcesFound(msgspec.Struct, frozen=True):
    sources: tuple[Source, ...]


class TokenDelta(msgspec.Struct, frozen=True):
    text: str


class ChatFinished(msgspec.Struct, frozen=True):
    usage: Usage
    finish_reason: str
    model: str


ChatEvent = ChatStarted | SourcesFound | TokenDelta | ChatFinished


def _sources(hits: Sequence[ScoredChunk]) -> tuple[Source, ...]:
    return tuple(
        Source(
            index=n,
            document_id=hit.chunk.document_id,
            title=hit.chunk.title,
            section=hit.chunk.section,
            snippet=hit.chunk.text[:SNIPPET_CHARS],
            score=round(hit.score, 4),
            page=hit.chunk.page,
        )
        for n, hit in enumerate(hits, start=1)
    )


class _Draft:
    """What has been produced so far; persisted whatever way the turn ends."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.sources: tuple[Source, ...] = ()
        self.usage = Usage()
        self.finish_reason = "cancelled"

    @property
    def text(self) -> str:
        return "".join(self.parts)


class ChatTurn:
    """A validated question, ready to be answered as a stream of events."""

    def __init__(
        self,
        owner: AnswerQuestion,
        question: Question,
        conversation: Conversation,
        is_new_conversation: bool,
        history: list[Message],
        message_id: UUID,
        asked_at: datetime,
    ) -> None:
        self._owner = owner
        self._question = question
        self._conversation = conversation
        self._is_new = is_new_conversation
        self._history = history
        self.message_id = message_id
        self.asked_at = asked_at

    @property
    def conversation_id(self) -> UUID:
        return self._conversation.id

    async def events(self) -> AsyncIterator[ChatEvent]:
        owner, widget = self._owner, self._question.widget
        models = owner.models_for(widget)
        draft = _Draft(models[0].name)
        try:
            yield ChatStarted(self.conversation_id, self.message_id, draft.model)
            hits = await owner.retrieve(widget, self._question.message)
            draft.sources = _sources(hits)
            yield SourcesFound(draft.sources)
            if not hits:
                draft.parts.append(widget.no_answer_message)
                draft.finish_reason = "no_answer"
                yield TokenDelta(widget.no_answer_message)
            else:
                prompt = self._prompt(hits)
                async for delta in owner.generate(models, prompt, draft):
                    yield TokenDelta(delta)
                draft.finish_reason = "stop"
            yield ChatFinished(draft.usage, draft.finish_reason, draft.model)
        except Exception:
            draft.finish_reason = "error"
            raise
        finally:
            # Shielded: a visitor who hangs up cancels the stream, not the bookkeeping.
            await asyncio.shield(owner.persist(self, draft))

    async def collect(self) -> Answer:
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
            sources=sources,
            model=finished.model,
            usage=finished.usage,
            finish_reason=finished.finish_reason,
        )

    def _prompt(self, hits: Sequence[ScoredChunk]) -> Prompt:
        widget = self._question.widget
        return Prompt(
            system=widget.system_prompt,
            no_answer=widget.no_answer_message,
            question=self._question.message,
            sources=tuple(
                PromptSource(
                    index=n,
                    title=" — ".join(filter(None, (hit.chunk.title, hit.chunk.section))),
                    text=hit.chunk.text,
                )
                for n, hit in enumerate(hits, start=1)
            ),
            history=tuple(Turn(m.role, m.content) for m in self._history),
        )

    @property
    def question(self) -> Question:
        return self._question

    @property
    def conversation(self) -> Conversation:
        return self._conversation

    @property
    def is_new_conversation(self) -> bool:
        return self._is_new


class AnswerQuestion:
    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        usage: UsageRepository,
        transactions: Transactions,
        embedder: Embedder,
        vectors: VectorStore,
        models: ChatModelRouter,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
    ) -> None:
        self._conversations = conversations
        self._usage = usage
        self._transactions = transactions
        self._embedder = embedder
        self._vectors = vectors
        self._models = models
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def start(self, question: Question) -> ChatTurn:
        """Checks everything that can be refused before a stream opens."""
        message = question.message.strip()
        if not message:
            raise InvalidInputError("message must not be empty", details={"field": "message"})
        limit = self._policy.max_message_chars
        if len(message) > limit:
            raise InvalidInputError(
                f"message is longer than {limit} characters", details={"field": "message"}
            )
        question = msgspec.structs.replace(question, message=message)
        conversation, is_new, history = await self._conversation_of(question)
        return ChatTurn(
            self, question, conversation, is_new, history, self._ids.new_id(), self._clock.now()
        )

    async def _conversation_of(
        self, question: Question
    ) -> tuple[Conversation, bool, list[Message]]:
        if question.conversation_id is None:
            conversation = Conversation(
                id=self._ids.new_id(),
                widget_id=question.widget.id,
                visitor_id=question.visitor_id,
                created_at=self._clock.now(),
            )
            return conversation, True, []
        found = await self._conversations.get(question.conversation_id)
        if found is None or found.widget_id != question.widget.id:
            raise ConversationNotFoundError(f"conversation {question.conversation_id} not found")
        history = await self._conversations.recent_messages(found.id, self._policy.history_messages)
        return found, False, history

    def models_for(self, widget: Widget) -> Sequence[ChatModel]:
        models = self._models.models_for(widget)
        if not models:
            raise ModelUnavailableError("no chat model is configured for this plan")
        return models

    async def retrieve(self, widget: Widget, message: str) -> list[ScoredChunk]:
        [vector] = await self._embedder.embed([message])
        hits = await self._vectors.search(
            widget.id, SearchQuery(text=message, vector=vector), widget.top_k
        )
        return [hit for hit in hits if hit.score >= self._policy.min_score]

    async def generate(
        self, models: Sequence[ChatModel], prompt: Prompt, draft: _Draft
    ) -> AsyncIterator[str]:
        """Falls over to the next model only while nothing has reached the visitor."""
        failures: list[str] = []
        for model in models:
            draft.model = model.name
            try:
                async for item in model.stream(prompt):
                    if isinstance(item, Usage):
                        draft.usage = cost_of(
                            model.name,
                            item.input_tokens,
                            item.output_tokens,
                            self._policy.prices,
                        )
                    else:
                        draft.parts.append(item)
                        yield item
                return
            except DependencyUnavailableError as error:
                if draft.parts:
                    raise
                failures.append(f"{model.name}: {error.message}")
        raise ModelUnavailableError("no chat model could answer", details={"failures": failures})

    async def persist(self, turn: ChatTurn, draft: _Draft) -> None:
        now = self._clock.now()
        question, conversation = turn.question, turn.conversation
        user_message = Message(
            id=self._ids.new_id(),
            conversation_id=conversation.id,
            role=Role.USER,
            content=question.message,
            created_at=turn.asked_at,
        )
        reply = Message(
            id=turn.message_id,
            conversation_id=conversation.id,
            role=Role.ASSISTANT,
            content=draft.text,
            created_at=now,
            model=draft.model,
            sources=draft.sources,
            usage=draft.usage,
            finish_reason=draft.finish_reason,
        )
        event = UsageEvent(
            id=self._ids.new_id(),
            tenant_id=question.widget.tenant_id,
            widget_id=question.widget.id,
            conversation_id=conversation.id,
            message_id=turn.message_id,
            plan=question.widget.plan,
            model=draft.model,
            usage=draft.usage,
            created_at=now,
        )
        async with self._transactions.begin():
            if turn.is_new_conversation:
                await self._conversations.add(conversation)
            await self._conversations.add_messages([user_message, reply])
            await self._usage.record(event)
