"""In-memory fakes of the persistence ports; the contract suites keep them honest."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from application.paging import Position
from application.ports.jobs import QueueStats
from application.ports.storage import ConversationFilter, Exchange, FeedbackFilter, VisitorTrace
from domain.models import (
    FINISH_FAILED,
    OVER_BUDGET,
    AskedQuestion,
    Conversation,
    ConversationDetail,
    ConversationOutcome,
    ConversationSummary,
    Document,
    ExportedMessage,
    FailedUsage,
    Feedback,
    FeedbackCounts,
    Job,
    Message,
    MessageFeedback,
    ModelUsage,
    MonthToDate,
    RatedAnswer,
    RatedMessage,
    Rating,
    Role,
    UsageEvent,
    UsageGroup,
    UsageGrouping,
    UsageSummary,
    Widget,
    is_no_answer,
)


class FakeTransactions:
    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        yield


class MemoryWidgetRepository:
    def __init__(self) -> None:
        self.widgets: dict[UUID, Widget] = {}

    async def add(self, widget: Widget) -> None:
        self.widgets[widget.id] = widget

    async def get(self, widget_id: UUID) -> Widget | None:
        return self.widgets.get(widget_id)

    async def get_by_public_key(self, public_key: str) -> Widget | None:
        return next((w for w in self.widgets.values() if w.public_key == public_key), None)

    async def update(self, widget: Widget) -> None:
        if widget.id in self.widgets:
            self.widgets[widget.id] = widget

    async def delete(self, widget_id: UUID) -> None:
        self.widgets.pop(widget_id, None)

    async def list_for_tenant(
        self, tenant_id: str, after: Position | None, limit: int
    ) -> list[Widget]:
        mine = sorted(
            (w for w in self.widgets.values() if w.tenant_id == tenant_id),
            key=lambda w: (w.created_at, w.id),
        )
        if after is not None:
            mine = [w for w in mine if (w.created_at, w.id) > (after.at, after.id)]
        return mine[:limit]


class MemoryDocumentRepository:
    def __init__(self) -> None:
        self.documents: dict[UUID, Document] = {}
        self.contents: dict[UUID, bytes] = {}

    async def add(self, document: Document, content: bytes) -> Document:
        """Like PostgreSQL's unique (widget_id, sha256): the first copy wins and is returned."""
        existing = self.documents.get(document.id) or await self.find_by_hash(
            document.widget_id, document.sha256
        )
        if existing is not None:
            return existing
        self.documents[document.id] = document
        self.contents[document.id] = content
        return document

    async def get(self, document_id: UUID) -> Document | None:
        return self.documents.get(document_id)

    async def get_many(self, document_ids: Sequence[UUID]) -> list[Document]:
        found = [self.documents[i] for i in set(document_ids) if i in self.documents]
        return sorted(found, key=lambda d: (d.created_at, d.id))

    async def find_by_hash(self, widget_id: UUID, sha256: str) -> Document | None:
        return next(
            (d for d in self.documents.values() if d.widget_id == widget_id and d.sha256 == sha256),
            None,
        )

    async def find_by_source(self, widget_id: UUID, source_url: str) -> Document | None:
        mine = await self.list_for_widget(widget_id)
        return next((d for d in mine if d.source_url == source_url), None)

    async def replace_content(self, document: Document, content: bytes) -> Document:
        current = self.documents[document.id]
        stored = msgspec.structs.replace(document, revision=current.revision + 1)
        self.documents[document.id] = stored
        self.contents[document.id] = content
        return stored

    async def list_for_widget(self, widget_id: UUID) -> list[Document]:
        docs = [d for d in self.documents.values() if d.widget_id == widget_id]
        return sorted(docs, key=lambda d: (d.created_at, d.id))

    async def content(self, document_id: UUID) -> bytes | None:
        return self.contents.get(document_id)

    async def update(self, document: Document) -> None:
        current = self.documents.get(document.id)
        # Like PostgreSQL's: an earlier revision's writer changes nothing; content, hash
        # and revision stay.
        if current is not None and current.revision == document.revision:
            self.documents[document.id] = msgspec.structs.replace(
                document,
                content_type=current.content_type,
                size_bytes=current.size_bytes,
                sha256=current.sha256,
                revision=current.revision,
            )

    async def delete(self, document_id: UUID) -> None:
        self.documents.pop(document_id, None)
        self.contents.pop(document_id, None)


class MemoryConversationRepository:
    def __init__(
        self,
        widgets: MemoryWidgetRepository | None = None,
        usage: MemoryUsageRepository | None = None,
    ) -> None:
        self.conversations: dict[UUID, Conversation] = {}
        self.messages: list[Message] = []
        # Visitors' votes by the answer they rate (MemoryFeedbackRepository keeps them):
        # here, as in the database, they go with their messages.
        self.votes: dict[UUID, Feedback] = {}
        # What the database's joins and cascades reach: widgets' retention, usage links.
        self.widgets = widgets or MemoryWidgetRepository()
        self.usage = usage

    async def get(self, conversation_id: UUID) -> Conversation | None:
        return self.conversations.get(conversation_id)

    def _of(self, conversation_id: UUID) -> list[Message]:
        # Chronological; messages of the same instant stay in the order they were added.
        return sorted(
            (m for m in self.messages if m.conversation_id == conversation_id),
            key=lambda m: m.created_at,
        )

    def question_before(self, answer: Message) -> Message | None:
        before = self._of(answer.conversation_id)
        before = before[: next(i for i, m in enumerate(before) if m.id == answer.id)]
        return next((m for m in reversed(before) if m.role is Role.USER), None)

    async def recent_messages(self, conversation_id: UUID, limit: int) -> list[Message]:
        mine = self._of(conversation_id)
        return mine[-limit:] if limit > 0 else []

    def _rating_of(self, message: Message) -> Rating | None:
        vote = self.votes.get(message.id)
        return vote.rating if vote is not None else None

    def _feedback_on(self, message: Message) -> MessageFeedback | None:
        vote = self.votes.get(message.id)
        if vote is None:
            return None
        return MessageFeedback(rating=vote.rating, comment=vote.comment, created_at=vote.created_at)

    def _matches(self, conversation: Conversation, where: ConversationFilter) -> bool:
        if where.since is not None and conversation.created_at < where.since:
            return False
        if where.until is not None and conversation.created_at >= where.until:
            return False
        answers = [m for m in self._of(conversation.id) if m.role is Role.ASSISTANT]
        if where.rating is not None and all(self._rating_of(m) != where.rating for m in answers):
            return False
        if where.outcome is ConversationOutcome.NO_ANSWER:
            return any(is_no_answer(m, where.no_answer_message) for m in answers)
        if where.outcome is ConversationOutcome.FAILED:
            return any(m.finish_reason == FINISH_FAILED for m in answers)
        return True

    async def list_for_widget(
        self, widget_id: UUID, where: ConversationFilter, after: Position | None, limit: int
    ) -> list[ConversationSummary]:
        mine = sorted(
            (
                c
                for c in self.conversations.values()
                if c.widget_id == widget_id and self._matches(c, where)
            ),
            key=lambda c: (c.created_at, c.id),
            reverse=True,
        )
        if after is not None:
            mine = [c for c in mine if (c.created_at, c.id) < (after.at, after.id)]
        return [self._summary(c) for c in mine[:limit]]

    def _summary(self, conversation: Conversation) -> ConversationSummary:
        messages = self._of(conversation.id)
        return ConversationSummary(
            id=conversation.id,
            widget_id=conversation.widget_id,
            visitor_id=conversation.visitor_id,
            created_at=conversation.created_at,
            first_question=next((m.content for m in messages if m.role is Role.USER), None),
            message_count=len(messages),
            last_activity=max((m.created_at for m in messages), default=conversation.created_at),
            feedback=FeedbackCounts(
                up=sum(self._rating_of(m) is Rating.UP for m in messages),
                down=sum(self._rating_of(m) is Rating.DOWN for m in messages),
            ),
        )

    async def detail(self, conversation_id: UUID) -> ConversationDetail | None:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return None
        return ConversationDetail(
            **msgspec.structs.asdict(conversation),
            messages=tuple(
                RatedMessage(**msgspec.structs.asdict(m), feedback=self._feedback_on(m))
                for m in self._of(conversation_id)
            ),
        )

    async def export(
        self, widget_id: UUID, since: datetime | None, until: datetime | None
    ) -> AsyncIterator[ExportedMessage]:
        mine = sorted(
            (c for c in self.conversations.values() if c.widget_id == widget_id),
            key=lambda c: (c.created_at, c.id),
        )
        for conversation in mine:
            for message in self._of(conversation.id):
                if (since is None or message.created_at >= since) and (
                    until is None or message.created_at < until
                ):
                    yield ExportedMessage(
                        visitor_id=conversation.visitor_id,
                        message=message,
                        feedback=self._feedback_on(message),
                    )

    async def unanswered_questions(
        self, widget_id: UUID, where: ConversationFilter, limit: int
    ) -> list[AskedQuestion]:
        found: list[tuple[Message, AskedQuestion]] = []
        for conversation in self.conversations.values():
            if conversation.widget_id != widget_id:
                continue
            question: Message | None = None
            for message in self._of(conversation.id):
                if message.role is Role.USER:
                    question = message
                    continue
                in_period = (where.since is None or message.created_at >= where.since) and (
                    where.until is None or message.created_at < where.until
                )
                gap = is_no_answer(message, where.no_answer_message) or (
                    self._rating_of(message) is Rating.DOWN
                )
                if question and in_period and gap:
                    asked = AskedQuestion(
                        text=question.content,
                        asked_at=question.created_at,
                        conversation_id=conversation.id,
                    )
                    found.append((message, asked))
        found.sort(key=lambda pair: pair[0].created_at, reverse=True)
        return [asked for _, asked in found[:limit]]

    async def trace_of_visitor(self, widget_id: UUID, visitor_id: str) -> VisitorTrace:
        mine = sorted(
            c.id
            for c in self.conversations.values()
            if c.widget_id == widget_id and c.visitor_id == visitor_id
        )
        return VisitorTrace(
            conversation_ids=tuple(mine),
            questions=tuple(m.content for c in mine for m in self._of(c) if m.role is Role.USER),
        )

    async def erase_visitor(self, widget_id: UUID, visitor_id: str) -> int:
        doomed = set((await self.trace_of_visitor(widget_id, visitor_id)).conversation_ids)
        self._forget(doomed)
        if self.usage is not None:
            self.usage.unlink(doomed)
        return len(doomed)

    def _forget(self, doomed: set[UUID]) -> None:
        for conversation_id in doomed:
            del self.conversations[conversation_id]
        self.messages = [m for m in self.messages if m.conversation_id not in doomed]
        kept = {m.id for m in self.messages}
        self.votes = {i: vote for i, vote in self.votes.items() if i in kept}

    async def purge_idle(self, now: datetime, limit: int) -> list[UUID]:
        idle = []
        for conversation in self.conversations.values():
            widget = await self.widgets.get(conversation.widget_id)
            if widget is None or widget.retention_days is None:
                continue
            cutoff = now - timedelta(days=widget.retention_days)
            if self._summary(conversation).last_activity < cutoff:
                idle.append(conversation.id)
        doomed = idle[:limit]
        self._forget(set(doomed))
        return doomed


class MemoryFeedbackRepository:
    """Checks, like the database's statement, that the message is the widget's answer."""

    def __init__(self, conversations: MemoryConversationRepository) -> None:
        self._conversations = conversations

    @property
    def votes(self) -> dict[UUID, Feedback]:
        return self._conversations.votes

    async def save(self, feedback: Feedback) -> bool:
        message = next(
            (m for m in self._conversations.messages if m.id == feedback.message_id), None
        )
        if message is None or message.role is not Role.ASSISTANT:
            return False
        conversation = self._conversations.conversations.get(message.conversation_id)
        if conversation is None or conversation.widget_id != feedback.widget_id:
            return False
        self.votes[feedback.message_id] = feedback
        return True

    async def list_for_widget(
        self, widget_id: UUID, where: FeedbackFilter, after: Position | None, limit: int
    ) -> list[RatedAnswer]:
        mine = sorted(
            (
                vote
                for vote in self.votes.values()
                if vote.widget_id == widget_id
                and (where.rating is None or vote.rating is where.rating)
                and (where.since is None or vote.created_at >= where.since)
                and (where.until is None or vote.created_at < where.until)
                and (after is None or (vote.created_at, vote.message_id) < (after.at, after.id))
            ),
            key=lambda vote: (vote.created_at, vote.message_id),
            reverse=True,
        )
        return [self._in_context(vote) for vote in mine[:limit]]

    def _in_context(self, vote: Feedback) -> RatedAnswer:
        answer = next(m for m in self._conversations.messages if m.id == vote.message_id)
        conversation = self._conversations.conversations[answer.conversation_id]
        question = self._conversations.question_before(answer)
        return RatedAnswer(
            message_id=vote.message_id,
            conversation_id=conversation.id,
            visitor_id=conversation.visitor_id,
            rating=vote.rating,
            comment=vote.comment,
            created_at=vote.created_at,
            question=question.content if question else None,
            answer=answer.content,
        )


class MemoryExchangeRepository:
    """Saves into the conversation and usage fakes, and like the database, all or nothing."""

    def __init__(
        self, conversations: MemoryConversationRepository, usage: MemoryUsageRepository
    ) -> None:
        self._conversations = conversations
        self._usage = usage
        # Set by a test: every save raises it, saving nothing (as PostgreSQL refusing a row).
        self.fail_with: Exception | None = None

    async def save(self, turn: Exchange) -> None:
        """Like PostgreSQL's: a conversation saved already is not added again, nor is a usage
        event counted twice; a message saved already fails the whole turn."""
        if self.fail_with is not None:
            raise self.fail_with
        if not turn.messages:
            raise ValueError("a turn has at least one message")
        known = {m.id for m in self._conversations.messages}
        if any(m.id in known for m in turn.messages):
            raise ValueError("a message of this turn is saved already")
        if turn.new_conversation is not None:
            conversation = turn.new_conversation
            self._conversations.conversations.setdefault(conversation.id, conversation)
        self._conversations.messages.extend(turn.messages)
        await self._usage.settle(turn.usage)


def _same_month(a: datetime, b: datetime) -> bool:
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    return (a.year, a.month) == (b.year, b.month)


class MemoryUsageRepository:
    def __init__(self) -> None:
        self.events: list[UsageEvent] = []
        # Set by a test: settling raises it, settling nothing (the database down).
        self.fail_settle_with: Exception | None = None

    async def reserve(self, event: UsageEvent, messages_per_month: int) -> MonthToDate | None:
        # No await before the append: one reservation at a time, as the row lock makes it.
        if self._month(event.tenant_id, event.widget_id, event.created_at).tenant_messages >= (
            messages_per_month
        ):
            return None
        self.events.append(event)
        return self._month(event.tenant_id, event.widget_id, event.created_at)

    async def settle(self, event: UsageEvent) -> None:
        if self.fail_settle_with is not None:
            raise self.fail_settle_with
        for n, known in enumerate(self.events):
            if known.id == event.id:
                if known.pending:  # what the reservation set stays: when, and for whom
                    self.events[n] = msgspec.structs.replace(
                        event,
                        pending=False,
                        created_at=known.created_at,
                        conversation_id=known.conversation_id,
                        message_id=known.message_id,
                    )
                return
        self.events.append(msgspec.structs.replace(event, pending=False))

    async def month_to_date(self, tenant_id: str, widget_id: UUID, at: datetime) -> MonthToDate:
        return self._month(tenant_id, widget_id, at)

    def _month(self, tenant_id: str, widget_id: UUID, at: datetime) -> MonthToDate:
        counted = [
            e
            for e in self.events
            if e.tenant_id == tenant_id and not e.failed and _same_month(e.created_at, at)
        ]
        return MonthToDate(
            tenant_messages=len(counted),
            tenant_cost_usd=sum(e.usage.cost_usd for e in counted),
            widget_cost_usd=sum(e.usage.cost_usd for e in counted if e.widget_id == widget_id),
        )

    def unlink(self, conversation_ids: set[UUID]) -> None:
        self.events = [
            msgspec.structs.replace(e, conversation_id=None, message_id=None)
            if e.conversation_id in conversation_ids
            else e
            for e in self.events
        ]

    async def summarize(
        self,
        tenant_id: str,
        since: datetime,
        until: datetime,
        *,
        widget_id: UUID | None = None,
        group_by: UsageGrouping = UsageGrouping.MODEL,
    ) -> UsageSummary:
        events = [
            e
            for e in self.events
            if e.tenant_id == tenant_id
            and since <= e.created_at < until
            and (widget_id is None or e.widget_id == widget_id)
        ]
        billed = [e for e in events if not e.failed]
        failed = [e for e in events if e.failed]
        key_of = {
            UsageGrouping.DAY: lambda e: e.created_at.astimezone(UTC).date().isoformat(),
            UsageGrouping.WIDGET: lambda e: str(e.widget_id),
            UsageGrouping.MODEL: lambda e: e.model,
        }[group_by]
        return UsageSummary(
            tenant_id=tenant_id,
            since=since,
            until=until,
            widget_id=widget_id,
            group_by=group_by,
            messages=len(billed),
            input_tokens=sum(e.usage.input_tokens for e in billed),
            output_tokens=sum(e.usage.output_tokens for e in billed),
            cost_usd=sum(e.usage.cost_usd for e in billed),
            by_model=tuple(
                ModelUsage(
                    model=model,
                    messages=len(group),
                    input_tokens=sum(e.usage.input_tokens for e in group),
                    output_tokens=sum(e.usage.output_tokens for e in group),
                    cost_usd=sum(e.usage.cost_usd for e in group),
                )
                for model, group in _grouped(billed, lambda e: e.model)
            ),
            groups=tuple(
                UsageGroup(
                    key=key,
                    messages=sum(not e.failed for e in group),
                    input_tokens=sum(e.usage.input_tokens for e in group if not e.failed),
                    output_tokens=sum(e.usage.output_tokens for e in group if not e.failed),
                    cost_usd=sum(e.usage.cost_usd for e in group if not e.failed),
                    failed=sum(e.failed for e in group),
                )
                for key, group in _grouped(events, key_of)
            ),
            failed=FailedUsage(
                messages=len(failed),
                input_tokens=sum(e.usage.input_tokens for e in failed),
                output_tokens=sum(e.usage.output_tokens for e in failed),
                cost_usd=sum(e.usage.cost_usd for e in failed),
            ),
            over_budget=sum(e.reason == OVER_BUDGET for e in events),
        )


def _grouped(
    events: list[UsageEvent], key_of: Callable[[UsageEvent], str]
) -> list[tuple[str, list[UsageEvent]]]:
    groups: dict[str, list[UsageEvent]] = {}
    for event in events:
        groups.setdefault(key_of(event), []).append(event)
    return sorted(groups.items())


class _QueuedJob(msgspec.Struct, kw_only=True):
    id: UUID
    document_id: UUID
    attempts: int = 0
    state: str = "queued"  # queued | running | done | failed
    available_at: datetime
    queued_at: datetime
    leased_until: datetime | None = None
    error: str | None = None


# Whose document this is: (tenant, widget); the PostgreSQL queue joins them from the tables.
Owners = Callable[[UUID], tuple[str, UUID | None]]


def _nobody(document_id: UUID) -> tuple[str, UUID | None]:
    return "", None


class MemoryJobQueue:
    """Like PostgreSQL's: tenants, then widgets, take turns by when each was last served."""

    def __init__(self, lease_seconds: float = 60.0, owners: Owners = _nobody) -> None:
        self.jobs: dict[UUID, _QueuedJob] = {}
        self._lease = timedelta(seconds=lease_seconds)
        self.owners = owners
        self._served: dict[object, int] = {}
        self._turns = itertools.count(1)

    def _now(self) -> datetime:
        return datetime.now(UTC)

    async def stats(self) -> QueueStats:
        by_state: dict[str, int] = {}
        for job in self.jobs.values():
            by_state[job.state] = by_state.get(job.state, 0) + 1
        now = self._now()
        due = [j.available_at for j in self.jobs.values() if j.state == "queued"]
        due = [at for at in due if at <= now]
        oldest = (now - min(due)).total_seconds() if due else 0.0
        return QueueStats(jobs_by_state=by_state, oldest_queued_seconds=oldest)

    async def enqueue(self, document_id: UUID) -> None:
        existing = next((j for j in self.jobs.values() if j.document_id == document_id), None)
        if existing is not None and existing.state in ("queued", "running"):
            return
        now = self._now()
        if existing is not None:
            existing.state, existing.attempts = "queued", 0
            existing.available_at = existing.queued_at = now
            return
        job = _QueuedJob(id=uuid.uuid4(), document_id=document_id, available_at=now, queued_at=now)
        self.jobs[job.id] = job

    def _due(self, job: _QueuedJob, now: datetime) -> bool:
        ready = job.state == "queued" and job.available_at <= now
        expired = job.state == "running" and job.leased_until is not None and job.leased_until < now
        return ready or expired

    def _place(self, job: _QueuedJob) -> tuple[int, int, datetime]:
        tenant, widget = self.owners(job.document_id)
        return (
            self._served.get(("tenant", tenant), 0),
            self._served.get(("widget", widget), 0),
            job.queued_at,
        )

    async def claim(self) -> Job | None:
        now = self._now()
        due = sorted((j for j in self.jobs.values() if self._due(j, now)), key=self._place)
        if not due:
            return None
        job = due[0]
        job.state, job.leased_until = "running", now + self._lease
        job.attempts += 1
        tenant, widget = self.owners(job.document_id)
        self._served[("tenant", tenant)] = self._served[("widget", widget)] = next(self._turns)
        return Job(id=job.id, document_id=job.document_id, attempts=job.attempts)

    async def waiting_elsewhere(self, widget_id: UUID, for_seconds: float = 0.0) -> bool:
        now = self._now() - timedelta(seconds=for_seconds)
        return any(
            self._due(j, now) and self.owners(j.document_id)[1] != widget_id
            for j in self.jobs.values()
        )

    async def pause(self, job: Job) -> None:
        if queued := self._held(job):
            queued.state, queued.attempts, queued.available_at = "queued", 0, self._now()

    async def heartbeat(self, job: Job) -> bool:
        """Extends the lease; False when it was lost (expired and claimed again, or ended)."""
        queued = self._held(job)
        if queued is None:
            return False
        queued.leased_until = self._now() + self._lease
        return True

    def _held(self, job: Job) -> _QueuedJob | None:
        """Like PostgreSQL's: only the current lease holder may end a job."""
        queued = self.jobs.get(job.id)
        if queued is None or queued.state != "running" or queued.attempts != job.attempts:
            return None
        return queued

    async def complete(self, job: Job) -> None:
        if queued := self._held(job):
            queued.state = "done"

    async def retry(self, job: Job, error: str, delay_seconds: float) -> None:
        if queued := self._held(job):
            queued.state, queued.error = "queued", error
            queued.available_at = self._now() + timedelta(seconds=delay_seconds)

    async def fail(self, job: Job, error: str) -> None:
        if queued := self._held(job):
            queued.state, queued.error = "failed", error
