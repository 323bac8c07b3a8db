"""The relevance floor: the no-answer message when the widget's documents are far from the
question, unless a retrieved chunk holds every word the question asks or one of its
sentences is near the question."""

from __future__ import annotations

import math
from collections.abc import Sequence
from uuid import UUID

import msgspec
import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import ChatPolicy, Question
from application.ports.vectors import SearchQuery
from domain.models import Plan, ScoredChunk
from testkit.fakes.core import FakeApp
from testkit.fakes.embedder import HashEmbedder
from testkit.fakes.models import ScriptedModel
from testkit.fakes.vectorstore import MemoryVectorStore
from tests.unit.conftest import HANDBOOK, add_document, make_widget


class Measured(MemoryVectorStore):
    """The in-memory store's hits, with the cosine and coverage a test sets."""

    def __init__(self, similarity: float, coverage: float | None) -> None:
        super().__init__(HashEmbedder().dimension)
        self.similarity, self.coverage = similarity, coverage

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        hits = await super().search(widget_id, query, limit)
        return [
            msgspec.structs.replace(h, similarity=self.similarity, coverage=self.coverage)
            for h in hits
        ]


class OneSentenceNear(HashEmbedder):
    """The question "refund card" one unit vector, the handbook's sentence on refunds at
    `cosine` from it, every other text orthogonal to it: the embedder's reading of a short
    question against one sentence, set by the test."""

    def __init__(self, cosine: float) -> None:
        super().__init__()
        self.cosine = cosine

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        def unit(n: int) -> list[float]:
            return [1.0 if i == n else 0.0 for i in range(self.dimension)]

        def vector(text: str) -> list[float]:
            if text == "refund card":
                return unit(0)
            if text.startswith("Refunds are paid to the original card"):
                c = self.cosine
                return [c, math.sqrt(1.0 - c * c)] + [0.0] * (self.dimension - 2)
            return unit(1)

        return [vector(t) for t in texts]


async def answered(
    similarity: float,
    coverage: float | None,
    embedder: HashEmbedder | None = None,
    **policy: float,
) -> list[str]:
    """The prompts' questions the model was handed: empty when the floor said no."""
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(
        models={Plan.FREE: [model]},
        embedder=embedder or HashEmbedder(),
        vectors=Measured(similarity, coverage),
        chat_policy=ChatPolicy(min_score=0.3, **policy),
    )
    widget = await make_widget(app, no_answer_message="Ask our support team.")
    await add_document(app, widget, HANDBOOK)
    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="refund card"))
    ).collect()
    if answer.finish_reason == "no_answer":
        assert answer.answer == "Ask our support team." and answer.sources == ()
    return [prompt.question for prompt in model.prompts]


async def test_a_chunk_near_the_question_passes_the_floor() -> None:
    assert await answered(similarity=0.31, coverage=0.0) == ["refund card"]


async def test_a_chunk_holding_every_asked_word_passes_the_floor_whatever_its_cosine() -> None:
    # "We ship to the EU, Norway and Switzerland." in a section about delivery, asked "Do you
    # ship to Switzerland?": the section's other sentences pull its cosine below the floor.
    assert await answered(similarity=0.2, coverage=1.0) == ["refund card"]


@pytest.mark.parametrize("coverage", [0.5, None])
async def test_far_and_not_every_word_held_is_the_no_answer_message(
    coverage: float | None,
) -> None:
    assert await answered(similarity=0.2, coverage=coverage) == []


async def test_the_coverage_rule_can_be_turned_off() -> None:
    assert await answered(similarity=0.2, coverage=1.0, min_coverage=1.01) == []


async def test_far_as_a_chunk_but_near_by_one_sentence_passes_the_floor() -> None:
    # "Is there a minimum contract?": 0.22 against the section on cancelling, 0.53 against
    # its "There is no minimum term."
    assert await answered(0.2, 0.0, OneSentenceNear(0.6)) == ["refund card"]


async def test_no_sentence_near_either_is_the_no_answer_message() -> None:
    assert await answered(0.2, 0.0, OneSentenceNear(0.3)) == []


async def test_the_closer_look_can_be_turned_off() -> None:
    assert await answered(0.2, 0.0, OneSentenceNear(0.6), min_sentence_score=1.01) == []


class SpelledRight(MemoryVectorStore):
    """Near only for a question that spells "refunds" right, as an embedder is for a word
    it knows against one it splits into pieces."""

    def __init__(self) -> None:
        super().__init__(HashEmbedder().dimension)
        self.asked: list[str] = []

    async def search(self, widget_id: UUID, query: SearchQuery, limit: int) -> list[ScoredChunk]:
        self.asked.append(query.text)
        near = 0.9 if "refunds" in query.text.lower() else 0.1
        hits = await super().search(widget_id, query, limit)
        return [msgspec.structs.replace(h, similarity=near, coverage=None) for h in hits]


async def asked_with_a_slip(message: str) -> tuple[list[str], list[str], str]:
    """What was searched, what the model was asked, and the answer's finish."""
    model = ScriptedModel("openai:gpt-4o-mini")
    store = SpelledRight()
    app = FakeApp(models={Plan.FREE: [model]}, vectors=store, chat_policy=ChatPolicy(min_score=0.3))
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message=message))
    ).collect()
    return store.asked, [p.question for p in model.prompts], answer.finish_reason


async def test_a_misspelt_word_is_put_right_from_the_chunks_found_and_asked_again() -> None:
    searched, prompted, finish = await asked_with_a_slip("When are refnuds paid?")
    assert searched == ["When are refnuds paid?", "When are refunds paid?"]
    assert prompted == ["When are refunds paid?"] and finish == "stop"


async def test_a_question_found_as_asked_is_searched_once_and_asked_as_it_is() -> None:
    searched, prompted, _ = await asked_with_a_slip("When are Refunds paid?")
    assert searched == prompted == ["When are Refunds paid?"]


async def test_with_nothing_to_put_right_far_is_still_the_no_answer_message() -> None:
    searched, prompted, finish = await asked_with_a_slip("quantum flux capacitor")
    assert searched == ["quantum flux capacitor"]
    assert prompted == [] and finish == "no_answer"


async def test_a_model_that_finds_nothing_in_its_sources_is_no_answer_citing_none() -> None:
    # The prompt tells a model to say the no-answer message when its sources do not answer:
    # the widget then lists no sources under it, and the owner sees a question unanswered.
    model = ScriptedModel("openai:gpt-4o-mini", deltas=("Ask our ", "support team."))
    app = FakeApp(models={Plan.FREE: [model]}, vectors=Measured(0.9, None))
    widget = await make_widget(app, no_answer_message="Ask our support team.")
    await add_document(app, widget, HANDBOOK)

    answer = await (
        await app.get(AnswerQuestion).start(Question(widget=widget, message="refund card"))
    ).collect()

    assert model.prompts and answer.answer == "Ask our support team."
    assert (answer.finish_reason, answer.sources) == ("no_answer", ())
