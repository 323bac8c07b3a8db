"""Visitors' votes on answers: kept per answer (the last wins), refused for anything else;
and the owner's read of them, in their own list and wherever conversations are read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.conversations import ExportConversations, ListConversations, ReadConversation
from application.data_rights import EraseVisitor, PurgeIdleConversations
from application.feedback import ListFeedback, RateAnswer, Vote
from application.insights import UnansweredQuestions
from application.widgets import UpdateWidget, WidgetChanges
from domain.errors import InvalidInputError, MessageNotFoundError, WidgetNotFoundError
from domain.models import Answer, ConversationOutcome, MessageFeedback, Rating, Widget
from testkit.fakes.core import FakeApp
from tests.unit.conftest import HANDBOOK, add_document, make_widget


async def answered(app: FakeApp, widget: Widget) -> Answer:
    turn = await app.get(AnswerQuestion).start(
        Question(widget=widget, message="How many days to return an item?")
    )
    return await turn.collect()


async def ask(app: FakeApp, widget: Widget, message: str, **question: Any) -> Answer:
    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message=message, **question))
    return await turn.collect()


async def test_a_vote_with_a_comment_is_kept_and_counted(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)

    kept = await app.get(RateAnswer)(
        widget, Vote(message_id=answer.message_id, rating=Rating.DOWN, comment="  Too vague. ")
    )

    assert (kept.rating, kept.comment, kept.widget_id) == (Rating.DOWN, "Too vague.", widget.id)
    [listed] = (await app.get(ListFeedback)(widget.id)).items
    assert (listed.message_id, listed.rating, listed.comment, listed.created_at) == (
        answer.message_id, Rating.DOWN, "Too vague.", kept.created_at,
    )  # fmt: skip
    assert app.telemetry.feedback == [Rating.DOWN]


async def test_the_last_vote_wins_and_a_blank_comment_is_none(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)
    rate = app.get(RateAnswer)

    await rate(widget, Vote(message_id=answer.message_id, rating=Rating.DOWN, comment="no"))
    last = await rate(widget, Vote(message_id=answer.message_id, rating=Rating.UP, comment=" "))

    assert last.comment is None
    [listed] = (await app.get(ListFeedback)(widget.id)).items
    assert (listed.rating, listed.comment) == (Rating.UP, None)


async def test_another_widgets_answer_is_unknown_here(app: FakeApp) -> None:
    widget, other = await make_widget(app), await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await answered(app, widget)

    for message_id in (answer.message_id, uuid4()):
        with pytest.raises(MessageNotFoundError):
            await app.get(RateAnswer)(other, Vote(message_id=message_id, rating=Rating.UP))

    assert (await app.get(ListFeedback)(other.id)).items == []
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


# The owner's side


async def rate(
    app: FakeApp, widget: Widget, answer: Answer, rating: Rating, comment: str | None = None
) -> None:
    await app.get(RateAnswer)(
        widget, Vote(message_id=answer.message_id, rating=rating, comment=comment)
    )


async def test_the_owners_list_reads_on_its_own_a_page_at_a_time(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    asked = ["How many days to return an item?", "How fast is express delivery?", "Refunds?"]
    answers = [await ask(app, widget, q, visitor_id=f"v-{n}") for n, q in enumerate(asked)]
    for answer, rating in zip(answers, (Rating.DOWN, Rating.UP, Rating.DOWN), strict=True):
        await rate(app, widget, answer, rating, comment=f"on {answer.conversation_id}")
    list_votes = app.get(ListFeedback)

    first = await list_votes(widget.id, limit=2)
    rest = await list_votes(widget.id, cursor=first.next_cursor, limit=2)
    down = await list_votes(widget.id, rating=Rating.DOWN)

    newest = [a.message_id for a in reversed(answers)]
    assert [v.message_id for v in [*first.items, *rest.items]] == newest
    assert rest.next_cursor is None
    assert [v.message_id for v in down.items] == [answers[2].message_id, answers[0].message_id]
    oldest = rest.items[-1]
    assert (oldest.question, oldest.answer, oldest.visitor_id) == (
        asked[0], answers[0].answer, "v-0",
    )  # fmt: skip
    assert (oldest.conversation_id, oldest.comment) == (
        answers[0].conversation_id, f"on {answers[0].conversation_id}",
    )  # fmt: skip


async def test_the_owners_list_takes_a_period_of_voting(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    early = await ask(app, widget, "Refunds?")
    late = await ask(app, widget, "Express delivery?")
    await rate(app, widget, early, Rating.UP)
    app.clock.current += timedelta(days=1)
    middle = app.clock.now()
    await rate(app, widget, late, Rating.UP)
    list_votes = app.get(ListFeedback)

    assert [v.message_id for v in (await list_votes(widget.id, since=middle)).items] == [
        late.message_id
    ]
    assert [v.message_id for v in (await list_votes(widget.id, until=middle)).items] == [
        early.message_id
    ]
    with pytest.raises(InvalidInputError):
        await list_votes(widget.id, since=middle, until=middle)
    with pytest.raises(InvalidInputError):
        await list_votes(widget.id, cursor="nope")


async def test_conversations_are_listed_with_their_votes_and_found_by_them(
    app: FakeApp,
) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    panned = await ask(app, widget, "How many days to return an item?")
    follow_up = await ask(app, widget, "And express?", conversation_id=panned.conversation_id)
    liked = await ask(app, widget, "How fast is express delivery?")
    silent = await ask(app, widget, "Refunds?")
    lost = await ask(app, widget, "quantum flux capacitor")  # the no-answer message
    await rate(app, widget, panned, Rating.DOWN, "Too vague.")
    await rate(app, widget, follow_up, Rating.UP)
    await rate(app, widget, liked, Rating.UP)
    await rate(app, widget, lost, Rating.DOWN)
    list_conversations = app.get(ListConversations)

    everything = await list_conversations(widget.id)
    down = await list_conversations(widget.id, rating=Rating.DOWN)
    up = await list_conversations(widget.id, rating=Rating.UP)
    down_and_unanswered = await list_conversations(
        widget.id, rating=Rating.DOWN, outcome=ConversationOutcome.NO_ANSWER
    )

    counts = {c.id: (c.feedback.up, c.feedback.down) for c in everything.items}
    assert counts == {
        panned.conversation_id: (1, 1),
        liked.conversation_id: (1, 0),
        silent.conversation_id: (0, 0),
        lost.conversation_id: (0, 1),
    }
    assert [c.id for c in down.items] == [lost.conversation_id, panned.conversation_id]
    assert [c.id for c in up.items] == [liked.conversation_id, panned.conversation_id]
    assert [c.id for c in down_and_unanswered.items] == [lost.conversation_id]


async def test_a_conversation_in_full_and_its_export_carry_each_answers_vote(
    app: FakeApp,
) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    answer = await ask(app, widget, "How many days to return an item?")
    unrated = await ask(app, widget, "And express?", conversation_id=answer.conversation_id)
    await rate(app, widget, answer, Rating.UP, "first thought")
    await rate(app, widget, answer, Rating.DOWN, "Too vague.")
    [vote] = app.feedback.votes.values()

    detail = await app.get(ReadConversation)(answer.conversation_id)
    exported = [row async for row in await app.get(ExportConversations)(widget.id)]

    expected = MessageFeedback(rating=Rating.DOWN, comment="Too vague.", created_at=vote.created_at)
    assert [(m.id, m.feedback) for m in detail.messages] == [
        (detail.messages[0].id, None),
        (answer.message_id, expected),
        (detail.messages[2].id, None),
        (unrated.message_id, None),
    ]
    assert [(r.message.id, r.feedback) for r in exported] == [
        (m.id, m.feedback) for m in detail.messages
    ]


async def test_a_question_whose_answer_was_rated_down_is_a_gap_in_insights(
    app: FakeApp,
) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    panned = await ask(app, widget, "How many days to return an item?")
    liked = await ask(app, widget, "How fast is express delivery?")
    await ask(app, widget, "Refunds to my card?")  # answered, not rated: no gap
    lost = await ask(app, widget, "quantum flux capacitor")  # a gap, rated down as well
    await rate(app, widget, panned, Rating.DOWN, "That is not what I asked.")
    await rate(app, widget, liked, Rating.UP)
    await rate(app, widget, lost, Rating.DOWN)

    insights = await app.get(UnansweredQuestions)(widget.id)

    assert insights.total == 2  # each question once, however many reasons it has
    assert sorted(g.example for g in insights.groups) == [
        "How many days to return an item?",
        "quantum flux capacitor",
    ]


async def test_a_visitors_votes_go_when_they_are_erased_or_their_conversation_is_purged(
    app: FakeApp,
) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    theirs = await ask(app, widget, "How many days to return an item?", visitor_id="v-gone")
    kept = await ask(app, widget, "How fast is express delivery?", visitor_id="v-stays")
    for answer in (theirs, kept):
        await rate(app, widget, answer, Rating.DOWN, "Not helped")

    await app.get(EraseVisitor)(widget.id, "v-gone")

    assert list(app.feedback.votes) == [kept.message_id]
    assert [v.message_id for v in (await app.get(ListFeedback)(widget.id)).items] == [
        kept.message_id
    ]
    assert (await app.get(UnansweredQuestions)(widget.id)).total == 1

    await app.get(UpdateWidget)(widget.id, WidgetChanges(retention_days=1))
    app.clock.current += timedelta(days=2)
    await app.get(PurgeIdleConversations)()

    assert app.feedback.votes == {}
