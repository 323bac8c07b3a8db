"""With the setting on, a question naming something the widget's documents never mention
gets the no-answer message, however near its other words come: "How do I use PostgreSQL
with Django?" finds pages on PostgreSQL, and an answer from them would only look like one."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import ChatPolicy, Question
from application.chat.retrieval import names_in
from domain.models import Plan, Widget
from testkit.fakes.core import FakeApp
from testkit.fakes.embedder import HashEmbedder
from testkit.fakes.models import ScriptedModel
from testkit.fakes.vectorstore import MemoryVectorStore
from tests.unit.conftest import HANDBOOK, add_document, make_widget

NO_ANSWER = "Ask our support team."


class Counting(MemoryVectorStore):
    """The in-memory store, remembering which words it was asked about."""

    def __init__(self) -> None:
        super().__init__(HashEmbedder().dimension)  # the fake app's embedder
        self.asked: list[list[str]] = []

    async def unused_words(self, widget_id: UUID, words: Sequence[str]) -> list[str]:
        self.asked.append(list(words))
        return await super().unused_words(widget_id, words)


async def shop(refuse: bool = True) -> tuple[FakeApp, Widget, ScriptedModel, Counting]:
    model = ScriptedModel("openai:gpt-4o-mini")
    store = Counting()
    # Every hit passes the relevance floor: only the names decide.
    app = FakeApp(
        models={Plan.FREE: [model]},
        vectors=store,
        chat_policy=ChatPolicy(min_score=-1.0, refuse_unheard_of_names=refuse),
    )
    widget = await make_widget(app, no_answer_message=NO_ANSWER)
    await add_document(app, widget, HANDBOOK)
    # Another tenant's documents name Porto: that is no mention in this widget's.
    other = await make_widget(app, tenant_id="globex")
    await add_document(app, other, "Our Porto warehouse ships refunds in two days.")
    return app, widget, model, store


async def ask(app: FakeApp, widget: Widget, message: str) -> str:
    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message=message))
    answer = await turn.collect()
    assert (answer.finish_reason == "no_answer") == (answer.answer == NO_ANSWER)
    return answer.answer


async def test_a_name_no_document_of_the_widget_mentions_is_the_no_answer_message() -> None:
    app, widget, model, store = await shop()

    assert await ask(app, widget, "Do refunds from the Porto warehouse take long?") == NO_ANSWER
    assert model.prompts == []  # no model is paid to answer from sources that cannot
    assert store.asked == [["Porto"]]


async def test_a_name_the_documents_mention_is_answered() -> None:
    app, widget, model, store = await shop()

    answer = await ask(app, widget, "Do orders ship from Lisbon?")

    assert answer != NO_ANSWER and len(model.prompts) == 1
    assert store.asked == []  # said by the chunks found: nothing to ask the store


async def test_a_name_held_by_a_chunk_not_found_is_no_reason_to_refuse() -> None:
    app, _, model, store = await shop()
    widget = await make_widget(app, top_k=1, no_answer_message=NO_ANSWER)
    await add_document(app, widget, HANDBOOK)
    await add_document(app, widget, "Gold members get free express delivery.", title="Gold")

    answer = await ask(app, widget, "Are refunds paid to the original card for Gold members?")

    assert answer != NO_ANSWER
    [source] = model.prompts[0].sources  # the one hit, which does not say "Gold"
    assert "Refunds are paid to the original card" in source.text
    assert store.asked == [["Gold"]]  # not in it: asked, and the widget says it elsewhere


async def test_abbreviations_first_words_and_numbers_are_not_names() -> None:
    assert names_in("Do you support SSO and 2FA?", []) == []
    assert names_in("Refunds within 30 days?", []) == []
    assert names_in("How do I use PostgreSQL with Django or pgBouncer?", ["PostgreSQL"]) == [
        "Django",
        "pgBouncer",
    ]


async def test_unheard_of_names_are_answered_unless_the_widget_asks_for_refusals() -> None:
    # Off by default: "How do I clone a repository from Bitbucket?" is answered by git clone's page.
    app, widget, model, store = await shop(refuse=ChatPolicy().refuse_unheard_of_names)

    assert await ask(app, widget, "Do refunds from the Porto warehouse take long?") != NO_ANSWER
    assert len(model.prompts) == 1 and store.asked == []


@pytest.mark.parametrize("unused", [[], ["Porto"]])
async def test_the_store_decides_what_the_widget_has_never_said(unused: list[str]) -> None:
    app, widget, _, store = await shop()

    async def told(widget_id: UUID, words: Sequence[str]) -> list[str]:
        return unused

    store.unused_words = told  # type: ignore[method-assign]
    answer = await ask(app, widget, "Do refunds from the Porto warehouse take long?")
    assert (answer == NO_ANSWER) == bool(unused)
