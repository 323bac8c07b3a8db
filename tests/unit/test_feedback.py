"""Visitors' votes on answers: kept per answer (the last wins), refused for anything else."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.feedback import ListFeedback, RateAnswer, Vote
from domain.errors import InvalidInputError, MessageNotFoundError, WidgetNotFoundError
from domain.models import Answer, Rating, Widget
from testkit.fakes.core import FakeApp
from tests.unit.conftest import HANDBOOK, add_document, make_widget


async def answered(app: FakeApp, widget: Widget) -> Answer:
    turn = await app.get(AnswerQuestion).start(
        Question(widget=widget, message="How many days to return an item?")
    )
    return await turn.collect()


async def test_a_vote_with_a_comment_is_kept_and_counted(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)

    kept = await app.get(RateAnswer)(
        widget, Vote(message_id=answer.message_id, rating=Rating.DOWN, comment="  Too vague. ")
    )

    assert (kept.rating, kept.comment, kept.widget_id) == (Rating.DOWN, "Too vague.", widget.id)
    assert await app.get(ListFeedback)(widget.id) == [kept]
    assert app.telemetry.feedback == [Rating.DOWN]


async def test_the_last_vote_wins_and_a_blank_comment_is_none(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)
    rate = app.get(RateAnswer)

    await rate(widget, Vote(message_id=answer.message_id, rating=Rating.DOWN, comment="no"))
    last = await rate(widget, Vote(message_id=answer.message_id, rating=Rating.UP, comment=" "))

    assert last.comment is None
    assert await app.get(ListFeedback)(widget.id) == [last]


async def test_another_widgets_answer_is_unknown_here(app: FakeApp) -> None:
    widget, other = await make_widget(app), await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)

    for message_id in (answer.message_id, uuid4()):
        with pytest.raises(MessageNotFoundError):
            await app.get(RateAnswer)(other, Vote(message_id=message_id, rating=Rating.UP))

    assert await app.get(ListFeedback)(other.id) == []
    assert app.telemetry.feedback == []


async def test_a_comment_over_1000_characters_is_refused(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)
    rate = app.get(RateAnswer)

    await rate(widget, Vote(message_id=answer.message_id, rating=Rating.DOWN, comment="x" * 1000))
    with pytest.raises(InvalidInputError):
        await rate(
            widget, Vote(message_id=answer.message_id, rating=Rating.DOWN, comment="x" * 1001)
        )


async def test_the_owner_reads_an_existing_widgets_votes_only(app: FakeApp) -> None:
    with pytest.raises(WidgetNotFoundError):
        await app.get(ListFeedback)(uuid4())
