"""A greeting, a thank-you or a goodbye is answered as a person would: not searched, no
model's tokens, and not counted among the questions the documents could not answer."""

from __future__ import annotations

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.insights import UnansweredQuestions
from domain.models import Plan
from domain.small_talk import GOODBYE_REPLY, THANKS_REPLY, SmallTalk, small_talk
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, make_widget


@pytest.mark.parametrize(
    ("message", "talk"),
    [
        ("Hi!", SmallTalk.GREETING),
        ("hello there 👋", SmallTalk.GREETING),
        ("Good morning", SmallTalk.GREETING),
        ("Thanks!", SmallTalk.THANKS),
        ("ok, thank you so much for the help!", SmallTalk.THANKS),
        ("Bye", SmallTalk.GOODBYE),
        ("Hi, how do I return an item?", None),
        ("thanks, and how fast is express delivery?", None),
        ("Thanksgiving opening hours?", None),
    ],
)
def test_only_a_whole_message_of_small_talk_is_small_talk(
    message: str, talk: SmallTalk | None
) -> None:
    assert small_talk(message) is talk


async def test_small_talk_gets_a_reply_without_a_search_or_a_model() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app, greeting="Hello! Ask me about our shop.")
    await add_document(app, widget, HANDBOOK)
    searches = len(app.embedder.calls)

    replies = []
    for message in ("Hi!", "thanks!", "bye"):
        answer = await (
            await app.get(AnswerQuestion).start(Question(widget=widget, message=message))
        ).collect()
        replies.append((answer.answer, answer.finish_reason, answer.sources))

    assert replies == [
        ("Hello! Ask me about our shop.", "stop", ()),
        (THANKS_REPLY, "stop", ()),
        (GOODBYE_REPLY, "stop", ()),
    ]
    assert model.prompts == [] and len(app.embedder.calls) == searches
    assert (await app.get(UnansweredQuestions)(widget.id)).total == 0


async def test_a_greeting_with_a_question_is_answered_from_the_documents() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    await (
        await app.get(AnswerQuestion).start(
            Question(widget=widget, message="Hi, how many days do I have to return an item?")
        )
    ).collect()

    assert [p.question for p in model.prompts] == ["Hi, how many days do I have to return an item?"]
