"""A visitor's right to be forgotten, and a widget's retention period."""

from __future__ import annotations

from uuid import UUID

from application.answer_cache import AnswerCache
from application.best_effort import best_effort
from application.chat.history import RecentHistory
from application.chat.question_vectors import QuestionVectors
from application.conversations import widget_of
from application.ports.storage import ConversationRepository, VisitorTrace, WidgetRepository
from application.ports.system import Clock
from application.ports.telemetry import Telemetry
from domain.errors import DependencyUnavailableError, InvalidInputError

MAX_VISITOR_ID = 128
PURGE_BATCH = 500


class DerivedCopies:
    """What the cache holds derived from a visitor's conversations: their history, their
    questions' vectors, and answers (keyed by question, so all the widget's go)."""

    def __init__(
        self, history: RecentHistory, vectors: QuestionVectors, answers: AnswerCache
    ) -> None:
        self._history = history
        self._vectors = vectors
        self._answers = answers

    async def erase(self, widget_id: UUID, trace: VisitorTrace) -> None:
        """Raises when the cache cannot be reached."""
        for conversation_id in trace.conversation_ids:
            await self._history.erase(conversation_id)
        for question in set(trace.questions):
            await self._vectors.erase(question)
        await self._answers.erase_widget(widget_id)


class EraseVisitor:
    def __init__(
        self,
        widgets: WidgetRepository,
        conversations: ConversationRepository,
        copies: DerivedCopies,
        telemetry: Telemetry,
    ) -> None:
        self._widgets = widgets
        self._conversations = conversations
        self._copies = copies
        self._telemetry = telemetry

    async def __call__(self, widget_id: UUID, visitor_id: str) -> int:
        """Erases the visitor's conversations and messages and every cached copy derived
        from them; their usage stays billed, unlinked. Returns how many conversations went;
        erasing a visitor twice (or one never seen) erases nothing and is no error."""
        if not visitor_id or len(visitor_id) > MAX_VISITOR_ID:
            raise InvalidInputError(
                f"visitor_id must be 1 to {MAX_VISITOR_ID} characters",
                details={"parameter": "visitor_id"},
            )
        await widget_of(self._widgets, widget_id)
        trace = await self._conversations.trace_of_visitor(widget_id, visitor_id)
        # The cache first: when it cannot be reached nothing is erased yet, and a retry
        # finds everything where it was. Then the database, in one statement.
        try:
            await self._copies.erase(widget_id, trace)
        except DependencyUnavailableError:
            raise DependencyUnavailableError(
                "the cache is unavailable, so cached copies of this visitor's conversations "
                "could not be erased; nothing was erased, try again"
            ) from None
        erased = await self._conversations.erase_visitor(widget_id, visitor_id)
        # An answer finishing meanwhile may have cached again what was just erased.
        await best_effort(self._copies.erase(widget_id, trace), None, self._telemetry, "erasure")
        return erased


class PurgeIdleConversations:
    """Deletes the conversations idle longer than their widget's retention period; the
    worker runs it now and then."""

    def __init__(
        self,
        conversations: ConversationRepository,
        history: RecentHistory,
        clock: Clock,
        telemetry: Telemetry,
    ) -> None:
        self._conversations = conversations
        self._history = history
        self._clock = clock
        self._telemetry = telemetry

    async def __call__(self) -> int:
        now = self._clock.now()
        purged = 0
        # In batches: short transactions, however much has piled up.
        while batch := await self._conversations.purge_idle(now, PURGE_BATCH):
            purged += len(batch)
            for conversation_id in batch:
                await best_effort(
                    self._history.erase(conversation_id), None, self._telemetry, "purge"
                )
            if len(batch) < PURGE_BATCH:
                break
        return purged
