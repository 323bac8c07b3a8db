"""Recording an exchange: the question, its answer and its usage, saved whole, whatever way
the answer ended; then what it cost and how fast it was, reported.

Saving settles the usage reserved at admission. When the exchange cannot be saved (the
database refuses a message, or is gone), the usage is settled alone: an answer delivered
and not kept is still billed. Should that fail too, the reservation stays pending, and
counts against the allowance as it did from the start.
"""

from __future__ import annotations

from application.chat.draft import Draft, Timing, estimated_usage
from application.chat.history import RecentHistory
from application.chat.question import AdmittedQuestion, ChatPolicy
from application.ports.storage import Exchange, ExchangeRepository, UsageRepository
from application.ports.system import Clock, IdGenerator
from application.ports.telemetry import ChatRecord, Telemetry
from domain.models import FINISH_FAILED, OVER_BUDGET, Message, Role, UsageEvent


class Recording:
    def __init__(
        self,
        *,
        exchanges: ExchangeRepository,
        usage: UsageRepository,
        history: RecentHistory,
        clock: Clock,
        ids: IdGenerator,
        policy: ChatPolicy,
        telemetry: Telemetry,
    ) -> None:
        self._exchanges = exchanges
        self._usage = usage
        self._history = history
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._telemetry = telemetry

    async def save(self, admitted: AdmittedQuestion, draft: Draft) -> None:
        if draft.pending is not None:
            draft.usage = draft.usage + estimated_usage(
                draft.model, draft.pending, draft.text, self._policy.prices
            )
            draft.pending = None
        exchange = self._exchange(admitted, draft)
        try:
            await self._exchanges.save(exchange)
        except Exception as error:
            try:
                await self._usage.settle(exchange.usage)
            except Exception as settling:
                # Still pending, still counted: the save's own error is the one to raise.
                error.add_note(f"its usage stays pending: {settling!r}")
            raise

    def _exchange(self, admitted: AdmittedQuestion, draft: Draft) -> Exchange:
        now = self._clock.now()
        question, conversation = admitted.question, admitted.conversation
        asked = Message(
            id=self._ids.new_id(),
            conversation_id=conversation.id,
            role=Role.USER,
            content=question.message,
            created_at=admitted.asked_at,
        )
        answered = Message(
            id=admitted.message_id,
            conversation_id=conversation.id,
            role=Role.ASSISTANT,
            content=draft.text,
            created_at=now,
            model=draft.model,
            sources=draft.sources,
            usage=draft.usage,
            finish_reason=draft.finish_reason,
        )
        usage = UsageEvent(
            id=admitted.usage_id,
            tenant_id=question.widget.tenant_id,
            widget_id=question.widget.id,
            conversation_id=conversation.id,
            message_id=admitted.message_id,
            plan=question.widget.plan,
            model=draft.model,
            usage=draft.usage,
            cached=draft.cached,
            failed=draft.finish_reason == FINISH_FAILED,
            reason=OVER_BUDGET if admitted.over_budget else None,
            created_at=admitted.asked_at,
        )
        return Exchange(
            new_conversation=conversation if admitted.is_new_conversation else None,
            messages=(asked, answered),
            usage=usage,
        )

    async def finish(self, admitted: AdmittedQuestion, draft: Draft, timing: Timing) -> None:
        """After the save: the cached history is stale, and the exchange is reported."""
        if not admitted.is_new_conversation:  # only a follow-up ever read (and cached) it
            await self._history.forget(admitted.conversation.id)
        self._telemetry.chat_completed(
            ChatRecord(
                widget_id=admitted.widget.id,
                plan=admitted.widget.plan,
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
