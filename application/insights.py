"""What the documents are missing: the questions that got the no-answer message, or an
answer the visitor rated down, grouped by meaning with the embedding model, with how often
each was asked."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from application.answer_cache import normalize
from application.conversations import check_period, widget_of
from application.ports.models import Embedder
from application.ports.storage import ConversationFilter, ConversationRepository, WidgetRepository
from domain.grouping import group_by_similarity

# The newest questions read; older gaps show in an earlier period.
MAX_QUESTIONS = 2000
EMBED_BATCH = 64
# Cosine at or above which two questions ask the same (all-MiniLM-L6-v2: paraphrases
# score 0.63 to 0.89 on bench/insights_grouping.py, other questions at most 0.46).
SAME_MEANING = 0.55
QUESTIONS_PER_GROUP = 20


class QuestionGroup(msgspec.Struct, frozen=True, kw_only=True):
    example: str  # the question asked most often in the group
    count: int  # how many times its questions were asked
    questions: list[str]  # distinct wordings, most asked first


class UnansweredInsights(msgspec.Struct, frozen=True, kw_only=True):
    widget_id: UUID
    since: datetime | None
    until: datetime | None
    total: int  # questions read (answered with the no-answer message, or rated down)
    groups: list[QuestionGroup]


class UnansweredQuestions:
    def __init__(
        self, widgets: WidgetRepository, conversations: ConversationRepository, embedder: Embedder
    ) -> None:
        self._widgets = widgets
        self._conversations = conversations
        self._embedder = embedder

    async def __call__(
        self, widget_id: UUID, since: datetime | None = None, until: datetime | None = None
    ) -> UnansweredInsights:
        check_period(since, until)
        widget = await widget_of(self._widgets, widget_id)
        where = ConversationFilter(
            since=since, until=until, no_answer_message=widget.no_answer_message
        )
        asked = await self._conversations.unanswered_questions(widget_id, where, MAX_QUESTIONS)
        # One entry per wording (as the answer cache normalises it), with its count; the
        # first wording seen, the newest, stands for it.
        wordings: dict[str, str] = {}
        counts: dict[str, int] = {}
        for question in asked:
            key = normalize(question.text)
            wordings.setdefault(key, question.text)
            counts[key] = counts.get(key, 0) + 1
        keys = list(wordings)
        texts = [wordings[k] for k in keys]
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors += await self._embedder.embed(texts[start : start + EMBED_BATCH])
        weights = [counts[k] for k in keys]
        groups = group_by_similarity(vectors, weights, SAME_MEANING)
        return UnansweredInsights(
            widget_id=widget_id,
            since=since,
            until=until,
            total=len(asked),
            groups=[
                QuestionGroup(
                    example=texts[group[0]],
                    count=sum(weights[i] for i in group),
                    questions=[texts[i] for i in group[:QUESTIONS_PER_GROUP]],
                )
                for group in groups
            ],
        )
