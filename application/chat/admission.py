"""Admitting a question: everything that can refuse it happens before a stream opens."""

from __future__ import annotations

import asyncio

import msgspec

from application.chat.billing import Billing
from application.chat.history import RecentHistory
from application.chat.limits import ChatLimits
from application.chat.question import AdmittedQuestion, ChatPolicy, Question
from application.chat.question_vectors import QuestionVectors
from application.ports.storage import ConversationRepository
from application.ports.system import Clock, IdGenerator
from domain.errors import ConversationNotFoundError, InvalidInputError
from domain.models import Conversation, Message
from domain.small_talk import small_talk


class Admission:
    def __init__(
        self,
        *,
        conversations: ConversationRepository,
        history: RecentHistory,
        question_vectors: QuestionVectors,
        limits: ChatLimits,
        billing: Billing,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
    ) -> None:
        self._conversations = conversations
        self._history = history
        self._question_vectors = question_vectors
        self._limits = limits
        self._billing = billing
        self._clock = clock
        self._ids = ids
        self._policy = policy
        # Questions' embeddings in flight, held until done (the loop keeps only weak ones).
        self._embeddings: set[asyncio.Future[list[float]]] = set()

    async def __call__(self, question: Question) -> AdmittedQuestion:
        message = question.message.strip()
        if not message:
            raise InvalidInputError("message must not be empty", details={"field": "message"})
        limit = self._policy.max_message_chars
        if len(message) > limit:
            raise InvalidInputError(
                f"message is longer than {limit} characters", details={"field": "message"}
            )
        question = msgspec.structs.replace(question, message=message)
        await self._limits.admit(question.widget, question.visitor, question.client_ip)
        # The model is the slowest step before an answer: it starts now and runs while the
        # conversation is looked up, the stream opens and the answer cache is asked. It is
        # never cancelled, only left to finish when unneeded: a cache call cut mid-command
        # would spoil its connection (and its vector is worth caching anyway).
        talk = small_talk(message)
        vector: asyncio.Future[list[float]]
        if talk is None:
            vector = asyncio.ensure_future(self._question_vectors.embed(message))
            self._embeddings.add(vector)
            vector.add_done_callback(self._embedded)
        else:  # "Hi!" is replied to, never searched: nothing to embed
            vector = asyncio.get_running_loop().create_future()
            vector.set_result([])
        conversation, is_new, history = await self._conversation_of(question)
        message_id, asked_at = self._ids.new_id(), self._clock.now()
        # Last, once nothing else can refuse the question: from here on it is billed.
        reservation = await self._billing.reserve(question, conversation.id, message_id, asked_at)
        return AdmittedQuestion(
            question=question,
            conversation=conversation,
            is_new_conversation=is_new,
            history=history,
            message_id=message_id,
            asked_at=asked_at,
            vector=vector,
            usage_id=reservation.usage_id,
            over_budget=reservation.over_budget,
            small_talk=talk,
        )

    def _embedded(self, vector: asyncio.Future[list[float]]) -> None:
        self._embeddings.discard(vector)
        if not vector.cancelled():
            vector.exception()  # seen: a turn answered from the cache never awaits it

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
        history = await self._history.recent(found.id)
        return found, False, history
