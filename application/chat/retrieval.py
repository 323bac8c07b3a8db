"""Finding the sources of an answer among the widget's chunks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import UUID

import msgspec

from application.chat.condensing import Condensing
from application.chat.draft import Draft
from application.chat.follow_ups import page_answered, previous_question, staying
from application.chat.question import AdmittedQuestion, ChatPolicy
from application.chat.question_vectors import QuestionVectors
from application.ports.models import Embedder
from application.ports.spelling import Spelling
from application.ports.vectors import SearchQuery, VectorStore
from domain.errors import DependencyUnavailableError
from domain.models import ScoredChunk
from domain.stop_words import STOP_WORDS
from domain.vectors import cosine, folded

# The closer look reads at most this many sentences of the hits, each of at least a few
# words and cut to the first few dozen (the embedding is the cost, on the refusal path only).
CLOSER_LOOK_SENTENCES = 24
_MIN_WORDS = 3
_MAX_WORDS = 48
# Candidates beyond the widget's top k that the conversation's page may lift into it.
CONVERSATION_POOL = 5
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])|\n\s*\n")


class Retrieval:
    def __init__(
        self,
        vectors: VectorStore,
        question_vectors: QuestionVectors,
        condensing: Condensing,
        spelling: Spelling,
        embedder: Embedder,
        policy: ChatPolicy,
    ) -> None:
        self._vectors = vectors
        self._question_vectors = question_vectors
        self._condensing = condensing
        self._spelling = spelling
        self._embedder = embedder
        self._policy = policy

    async def __call__(self, admitted: AdmittedQuestion, draft: Draft) -> list[ScoredChunk]:
        """The best chunks, or none when even the best is too far from the question."""
        widget = admitted.widget
        query = await self.query(admitted, draft)
        # The model reads a follow-up with its context too, and the question as searched.
        draft.context, draft.vector = query.context, query.vector
        page = self._page_leaned_on(admitted)
        hits = await self._search(widget.id, query, widget.top_k, page)
        # A misspelt word ("waranty") takes the question's embedding far from the section
        # that spells it right (0.18 against 0.58), BM25 finds no such word, and the answer's
        # sentences are chosen by the words: the chunks found mostly hold it, spelled right.
        # Asked again with it put right, the answer is given for that question, which the
        # model is handed too (docs/benchmarks.md: a slip in each manual question cost 8 of
        # 31 facts; asked again, none).
        corrected = self._spelling.corrected(query.text, [h.chunk.in_context() for h in hits])
        if corrected != query.text:
            again = msgspec.structs.replace(
                query, text=corrected, vector=await self._vector(corrected, query)
            )
            found = await self._search(widget.id, again, widget.top_k, page)
            if self._relevant(found):
                draft.asked_as, draft.vector = corrected, again.vector
                return await self._unless_unheard_of(widget.id, corrected, found)
        if self._relevant(hits) or await a_sentence_near(
            self._embedder, query.vector, hits, self._policy.min_sentence_score
        ):
            return await self._unless_unheard_of(widget.id, query.text, hits)
        return []

    async def _unless_unheard_of(
        self, widget_id: UUID, text: str, hits: list[ScoredChunk]
    ) -> list[ScoredChunk]:
        """No sources when the question names something the widget's documents never
        mention: "How do I use PostgreSQL with Django?" finds pages on PostgreSQL that say
        nothing of Django, and an answer from them would only look like one."""
        if not self._policy.refuse_unheard_of_names:
            return hits
        named = names_in(text, [h.chunk.in_context() for h in hits])
        if named and await self._vectors.unused_words(widget_id, named):
            return []
        return hits

    def _page_leaned_on(self, admitted: AdmittedQuestion) -> UUID | None:
        """The page the previous answer came from first, in a conversation."""
        if self._policy.conversation_page_bonus <= 0.0:
            return None
        return page_answered(admitted.history)

    async def _search(
        self, widget_id: UUID, query: SearchQuery, limit: int, page: UUID | None
    ) -> list[ScoredChunk]:
        if page is None:
            return await self._vectors.search(widget_id, query, limit)
        # A question in a conversation stays on the page the conversation is on unless
        # another is clearly better. Every question, not only those that read as follow-ups:
        # "How do I preview what would be deleted?" after "What does git clean do?" neither
        # is short nor points back, yet asks about git clean. A new subject's page wins by
        # more than the bonus (docs/benchmarks.md, issue 15 round 10).
        found = await self._vectors.search(widget_id, query, limit + CONVERSATION_POOL)
        return staying(found, page, self._policy.conversation_page_bonus)[:limit]

    def _relevant(self, hits: list[ScoredChunk]) -> bool:
        # The floor gates the answer as a whole, on the dense cosine: fused scores rank the
        # hits of one search but mean nothing across questions, and a keyword hit with a low
        # cosine is still worth citing when a better hit shows the widget knows the topic.
        best = max((h.score if h.similarity is None else h.similarity for h in hits), default=None)
        if best is None:
            return False
        return best >= self._policy.min_score or covered(hits, self._policy.min_coverage)

    async def _vector(self, text: str, like: SearchQuery) -> list[float]:
        """The vector of `text` searched as `like` was: with its context folded in."""
        vector = await self._question_vectors.embed(text)
        if not like.context:
            return vector
        return await self._folded(vector, like.context, like.context_weight)

    async def query(self, admitted: AdmittedQuestion, draft: Draft) -> SearchQuery:
        """The question; a follow-up rewritten to stand alone (when condensing is on), or
        else with the question before it folded in."""
        rewritten = await self._condensing(admitted, draft)
        if rewritten is not None:
            return SearchQuery(text=rewritten, vector=await self._question_vectors.embed(rewritten))
        message, vector = admitted.question.message, await admitted.vector
        context = previous_question(message, admitted.history)
        weight = self._policy.follow_up_weight
        if context is None or weight <= 0.0:
            return SearchQuery(text=message, vector=vector)
        return SearchQuery(
            text=message,
            vector=await self._folded(vector, context, weight),
            context=context,
            context_weight=weight,
        )

    async def _folded(self, vector: list[float], context: str, weight: float) -> list[float]:
        # Cached: the earlier question was embedded when it was asked.
        return folded(vector, await self._question_vectors.embed(context), weight)


def names_in(question: str, found: Sequence[str]) -> list[str]:
    """The question's words that look like names (a capital past its first word, or inside
    a word: "Django", "pgBouncer"), that no text found says as they are. Not numbers, and not
    abbreviations: "SSO" and "2FA" are how visitors ask about what documents spell out."""
    words = _WORD.findall(question)
    said = {word.lower() for text in found for word in _WORD.findall(text)}
    return [
        word
        for n, word in enumerate(words)
        if any(c.isupper() for c in word[1 if n == 0 else 0 :])
        and not word.isupper()
        and not word.isdigit()
        and word.lower() not in STOP_WORDS
        and word.lower() not in said
    ]


def covered(hits: Sequence[ScoredChunk], least: float) -> bool:
    """Some hit holds at least this share of the question's own words."""
    return any(h.coverage is not None and h.coverage >= least for h in hits)


async def a_sentence_near(
    embedder: Embedder, question: Sequence[float], hits: Sequence[ScoredChunk], floor: float
) -> bool:
    """A closer look before saying no: a short question gets a low cosine with a whole
    section ("Is there a minimum contract?" against a section on cancelling, 0.22) even
    where one of its sentences answers it ("There is no minimum term.", 0.53). The hits'
    sentences are embedded, and one with a cosine of at least `floor` with the question (its
    vector as it was searched: a follow-up's with the question before it) lets the answer
    through. Asked on
    the refusal path only, so an answered question never pays for it; above 1, never."""
    texts = closer_look(hits)
    if floor > 1.0 or not texts:
        return False
    try:
        read = await embedder.embed(texts)
    except DependencyUnavailableError:
        return False  # the floor has said no; nothing closer to look with
    return max(cosine(question, vector) for vector in read) >= floor


def closer_look(hits: Sequence[ScoredChunk]) -> list[str]:
    """The hits' sentences the closer look reads, best hit first."""
    found: list[str] = []
    for hit in hits:
        for sentence in _SENTENCE_BREAK.split(hit.chunk.text):
            words = sentence.split()
            if len(words) >= _MIN_WORDS:
                found.append(" ".join(words[:_MAX_WORDS]))
                if len(found) == CLOSER_LOOK_SENTENCES:
                    return found
    return found
