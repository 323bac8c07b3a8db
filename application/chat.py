"""Answering a visitor's question: one code path for the JSON and the streaming API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from application.answer_cache import AnswerCache
from application.chat_events import ChatEvent, ChatFinished, ChatStarted, SourcesFound, TokenDelta
from application.history import RecentHistory
from application.limits import ChatLimits
from application.ports import (
    ChatModel,
    ChatModelRouter,
    ChatRecord,
    Clock,
    ConversationRepository,
    IdGenerator,
    SavedTurn,
    SearchQuery,
    Telemetry,
    TurnRepository,
    VectorStore,
)
from application.query_embeddings import QueryEmbeddings
from application.turn_state import (
    Draft,
    Timing,
    cached_of,
    counter_for,
    estimated_usage,
    pieces_of,
    sources_of,
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
    Plan,
    Role,
    ScoredChunk,
    Source,
    Usage,
    UsageEvent,
    Widget,
)
from domain.pricing import DEFAULT_PRICES, Price, cost_of
from domain.prompts import Prompt, PromptBudget, PromptSource, Turn, fit_prompt


class ChatPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_message_chars: int = 4000
    history_messages: int = 10
    # Relevance floor: when no retrieved chunk has at least this dense cosine with the
    # question, the widget's no-answer message is the answer; see docs/benchmarks.md.
    min_score: float = 0.3
    prices: Mapping[str, Price] = msgspec.field(default_factory=lambda: dict(DEFAULT_PRICES))
    # The history window and the hard cap on what one question sends to a model.
    budget: PromptBudget = msgspec.field(default_factory=PromptBudget)


class Question(msgspec.Struct, frozen=True, kw_only=True):
    widget: Widget
    message: str
    conversation_id: UUID | None = None
    visitor_id: str | None = None
    client_ip: str | None = None

    @property
    def visitor(self) -> str:
        """Who the per-visitor limit counts: the widget's visitor id, else the address."""
        return self.visitor_id or self.client_ip or "anonymous"


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
        vector: asyncio.Future[list[float]],
    ) -> None:
        self._owner = owner
        self._question = question
        self._conversation = conversation
        self._is_new = is_new_conversation
        self._history = history
        self.message_id = message_id
        self.asked_at = asked_at
        self._vector = vector

    @property
    def conversation_id(self) -> UUID:
        return self._conversation.id

    async def events(self) -> AsyncIterator[ChatEvent]:
        owner, widget = self._owner, self._question.widget
        models = owner.models_for(widget)
        draft = Draft(models[0].name)
        timing = Timing()
        persisted = False
        try:
            yield ChatStarted(self.conversation_id, self.message_id, draft.model)
            # Only a conversation's first question: later ones may lean on what came before.
            key = (
                await owner.answers.key_for(widget, self._question.message)
                if self._is_new
                else None
            )
            cached = await owner.answers.recall(key) if key is not None else None
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
                if key is not None:
                    await owner.answers.remember(key, cached_of(draft))
            # Saved before `done`: a visitor told the answer is complete can rely on it
            # being in the conversation; a failed save ends the stream with `error` instead.
            persisted = True
            await asyncio.shield(owner.persist(self, draft))
            yield ChatFinished(draft.usage, draft.finish_reason, draft.model, draft.cached)
        except Exception:
            draft.finish_reason = "error"
            raise
        finally:
            if not persisted:
                # Shielded: a visitor who hangs up cancels the stream, not the bookkeeping.
                await asyncio.shield(owner.persist(self, draft))
            if not self._is_new:  # only a follow-up ever read (and cached) the history
                await owner.history.forget(self.conversation_id, owner.history_messages)
            owner.report(widget, draft, timing)

    async def _answer(
        self, models: Sequence[ChatModel], draft: Draft, timing: Timing
    ) -> AsyncIterator[ChatEvent]:
        owner, widget = self._owner, self._question.widget
        hits = await owner.retrieve(widget, self._question.message, await self._vector)
        timing.retrieved()
        draft.sources = sources_of(hits)
        yield SourcesFound(draft.sources)
        if not hits:
            draft.parts.append(widget.no_answer_message)
            draft.finish_reason = "no_answer"
            timing.first_token()
            yield TokenDelta(widget.no_answer_message)
            return
        prompt = self._prompt(hits)
        async for delta in owner.generate(widget.plan, models, prompt, draft):
            timing.first_token()
            yield TokenDelta(delta)
        draft.finish_reason = "stop"

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
            cached=finished.cached,
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
        turns: TurnRepository,
        questions: QueryEmbeddings,
        vectors: VectorStore,
        models: ChatModelRouter,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
        telemetry: Telemetry,
        limits: ChatLimits,
        answers: AnswerCache,
        history: RecentHistory,
    ) -> None:
        self._telemetry = telemetry
        self._limits = limits
        self.answers = answers
        self.history = history
        self._conversations = conversations
        self._turns = turns
        self._questions = questions
        self._vectors = vectors
        self._models = models
        self._clock = clock
        self._ids = ids
        self._policy = policy
        # Questions' embeddings in flight, held until done (the loop keeps only weak ones).
        self._embeddings: set[asyncio.Future[list[float]]] = set()

    def _embedded(self, vector: asyncio.Future[list[float]]) -> None:
        self._embeddings.discard(vector)
        if not vector.cancelled():
            vector.exception()  # seen: a turn answered from the cache never awaits it

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
        await self._limits.admit(question.widget, question.visitor)
        # The model is the slowest step before an answer: it starts now and runs while the
        # conversation is looked up, the stream opens and the answer cache is asked. It is
        # never cancelled, only left to finish when unneeded: a cache call cut mid-command
        # would spoil its connection (and its vector is worth caching anyway).
        vector = asyncio.ensure_future(self._questions.embed(message))
        self._embeddings.add(vector)
        vector.add_done_callback(self._embedded)
        conversation, is_new, history = await self._conversation_of(question)
        return ChatTurn(
            self,
            question,
            conversation,
            is_new,
            history,
            self._ids.new_id(),
            self._clock.now(),
            vector,
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
        history = await self.history.recent(found.id, self.history_messages)
        return found, False, history

    @property
    def history_messages(self) -> int:
        return self._policy.history_messages

    def report(self, widget: Widget, draft: Draft, timing: Timing) -> None:
        self._telemetry.chat_completed(
            ChatRecord(
                widget_id=widget.id,
                plan=widget.plan,
                model=draft.model,
                finish_reason=draft.finish_reason,
                usage=draft.usage,
                sources=len(draft.sources),
                retrieval_seconds=timing.retrieval,
                first_token_seconds=timing.first,
                total_seconds=timing.total(),
                cached=draft.cached,
            )
        )

    def models_for(self, widget: Widget) -> Sequence[ChatModel]:
        models = self._models.models_for(widget)
        if not models:
            raise ModelUnavailableError("no chat model is configured for this plan")
        return models

    async def retrieve(
        self, widget: Widget, message: str, vector: list[float]
    ) -> list[ScoredChunk]:
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

    async def generate(
        self, plan: Plan, models: Sequence[ChatModel], prompt: Prompt, draft: Draft
    ) -> AsyncIterator[str]:
        """Falls over to the next model only while nothing has reached the visitor."""
        failures: list[str] = []
        for model in models:
            draft.model = model.name
            sent = fit_prompt(prompt, self._policy.budget, counter_for(model))
            draft.pending = (model, sent)
            try:
                async for item in model.stream(sent):
                    if isinstance(item, Usage):
                        draft.usage = cost_of(
                            model.name,
                            item.input_tokens,
                            item.output_tokens,
                            self._policy.prices,
                        )
                        draft.pending = None
                    else:
                        draft.parts.append(item)
                        yield item
                return
            except DependencyUnavailableError as error:
                if draft.parts:
                    self._telemetry.model_failed(plan, model.name, "interrupted")
                    raise
                self._telemetry.model_failed(plan, model.name, "failover")
                draft.pending = None  # a refused or failed request is not billed
                failures.append(f"{model.name}: {error.message}")
        raise ModelUnavailableError("no chat model could answer", details={"failures": failures})

    async def persist(self, turn: ChatTurn, draft: Draft) -> None:
        if draft.pending is not None:
            model, sent = draft.pending
            draft.usage = estimated_usage(model, sent, draft.text, self._policy.prices)
            draft.pending = None
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
            cached=draft.cached,
            created_at=now,
        )
        await self._turns.save(
            SavedTurn(
                new_conversation=conversation if turn.is_new_conversation else None,
                messages=(user_message, reply),
                usage=event,
            )
        )
