"""A follow-up is searched with the question before it: "And how do I list its keys?"
after a question about bash arrays is about arrays, not about readline key bindings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.follow_ups import page_answered, previous_question, staying
from application.chat.question import ChatPolicy, Question
from application.ports.vectors import SearchQuery
from domain.models import Chunk, Message, Plan, Role, ScoredChunk, Source, Usage
from domain.prompts import Prompt
from domain.vectors import folded
from testkit.entities import EPOCH
from testkit.fakes.core import FakeApp
from testkit.fakes.embedder import HashEmbedder
from testkit.fakes.models import ScriptedModel
from testkit.fakes.vectorstore import MemoryVectorStore
from tests.unit.conftest import add_document, make_widget

ARRAYS = (
    "# Arrays\n\nBash provides indexed and associative arrays. An associative array is "
    "declared with declare -A before use. Expanding ${!name[@]} lists the keys of the array."
)
READLINE = (
    "# Readline key bindings\n\nReadline lets you list the keys bound to commands: bind -p "
    "lists every key and its binding. Bind a key with bind and a keyseq."
)


def message(role: Role, content: str, *pages: uuid.UUID) -> Message:
    sources = tuple(
        Source(index=n, document_id=page, title="", snippet="", score=0.5)
        for n, page in enumerate(pages, start=1)
    )
    return Message(
        id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        role=role,
        content=content,
        created_at=EPOCH,
        sources=sources,
    )


async def ask(app: FakeApp, widget, text: str, conversation=None):  # type: ignore[no-untyped-def]
    turn = await app.get(AnswerQuestion).start(
        Question(widget=widget, message=text, conversation_id=conversation)
    )
    return await turn.collect()


async def first_title(follow_up_weight: float) -> str:
    """The first source of the follow-up, asked in the conversation of the first question."""
    app = FakeApp(chat_policy=ChatPolicy(min_score=0.0, follow_up_weight=follow_up_weight))
    widget = await make_widget(app)
    await add_document(app, widget, ARRAYS, title="Arrays")
    await add_document(app, widget, READLINE, title="Readline")
    first = await ask(app, widget, "How do I declare an associative array in bash?")
    then = await ask(app, widget, "And how do I list its keys?", first.conversation_id)
    return then.sources[0].title


async def test_a_follow_up_retrieves_with_the_question_before_it() -> None:
    assert await first_title(follow_up_weight=0.5) == "Arrays"


async def test_the_same_follow_up_searched_alone_goes_astray() -> None:
    # What the test above guards against: on its own words the follow-up is about readline.
    assert await first_title(follow_up_weight=0.0) == "Readline"


DUMP = (
    "# pg_dump\n\npg_dump backs up a PostgreSQL database cluster: to back up a whole "
    "database with pg_dump, run pg_dump dbname. A database backed up by pg_dump is a script "
    "or an archive file; the whole database cluster can be backed up with pg_dumpall."
)
RESTORE = (
    "# pg_restore\n\npg_restore restores a database from an archive file created by "
    "pg_dump. How do I restore it? Restore it with pg_restore -d dbname."
)


async def test_the_model_is_handed_the_question_a_follow_up_was_searched_with() -> None:
    # The offline answerer reads a follow-up with what retrieval read it with, and nothing
    # for a question that stands alone in the same conversation.
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]}, chat_policy=ChatPolicy(min_score=0.0))
    widget = await make_widget(app)
    await add_document(app, widget, ARRAYS, title="Arrays")
    first = await ask(app, widget, "How do I declare an associative array in bash?")

    await ask(app, widget, "And how do I list its keys?", first.conversation_id)
    follow_up = model.prompts[-1]
    await ask(app, widget, "How do I bind a readline key to a command?", first.conversation_id)
    standing_alone = model.prompts[-1]

    assert follow_up.context == "How do I declare an associative array in bash?"
    assert standing_alone.context == ""


async def test_the_model_is_handed_the_vector_the_sources_were_found_with() -> None:
    # An answerer ranking sentences with the same embedding model reads the question as it
    # was searched, a follow-up's vector moved towards the question before it, and need
    # not embed it again.
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]}, chat_policy=ChatPolicy(min_score=0.0))
    widget = await make_widget(app)
    await add_document(app, widget, ARRAYS, title="Arrays")
    first_question, then = "How do I declare an associative array in bash?", "And its keys?"
    first = await ask(app, widget, first_question)
    alone = model.prompts[-1]

    await ask(app, widget, then, first.conversation_id)
    follow_up = model.prompts[-1]

    asked, before, own = await app.embedder.embed([first_question, first_question, then])
    assert alone.vector == pytest.approx(asked)
    weight = ChatPolicy().follow_up_weight
    assert follow_up.vector == pytest.approx(folded(own, before, weight))


async def test_a_follow_up_finds_the_page_its_own_words_ask_for_not_the_previous_one() -> None:
    # The question before says five things and the follow-up one ("restore"): counted at
    # the context weight each, the earlier question's words would find pg_dump's page again.
    app = FakeApp(chat_policy=ChatPolicy(min_score=0.0))
    widget = await make_widget(app)
    await add_document(app, widget, DUMP, title="pg_dump")
    await add_document(app, widget, RESTORE, title="pg_restore")
    first = await ask(app, widget, "How do I back up a whole database cluster with pg_dump?")
    assert first.sources[0].title == "pg_dump"

    then = await ask(app, widget, "And how do I restore it?", first.conversation_id)

    assert then.sources[0].title == "pg_restore"


def test_only_a_short_or_pointing_back_question_leans_on_the_one_before() -> None:
    history = [
        message(Role.USER, "How do I declare an associative array in bash?"),
        message(Role.ASSISTANT, "With declare -A. [1]"),
    ]
    assert previous_question("And how do I list its keys?", history) == history[0].content
    # No pronoun, but "later" presupposes what was said before.
    assert previous_question("How do I get the changes back later?", history) is not None
    assert previous_question("How do I get the changes back from a stash?", history) is None
    unrelated = "How many days do I have to return a parcel bought online?"
    assert previous_question(unrelated, history) is None
    assert previous_question("And the keys?", []) is None


def test_a_short_question_naming_two_things_stands_alone() -> None:
    history = [
        message(Role.USER, "How do I rename a branch in git?"),
        message(Role.ASSISTANT, "With git branch -m. [1]"),
    ]
    # Five words, but "git pull" says what it is about: searched with the branch question
    # folded in, it found git-branch's page (the answer eval's one-conversation set).
    assert previous_question("What does git pull do?", history) is None
    # Short and naming one thing at most, or opening on what it adds to: a follow-up.
    for follow_up in ("Any limits?", "What about tags?", "And the remote branches?"):
        assert previous_question(follow_up, history) == history[0].content, follow_up


def test_the_context_moves_the_question_towards_it_without_replacing_it() -> None:
    moved = folded([1.0, 0.0], [0.0, 1.0], 0.5)

    assert abs(sum(x * x for x in moved) - 1.0) < 1e-9
    assert moved[0] > moved[1] > 0.0


class RewritingModel:
    """Rewrites a follow-up when asked to (an ungrounded prompt), answers otherwise."""

    name = "openai:gpt-4o-mini"

    def __init__(self) -> None:
        self.prompts: list[Prompt] = []

    async def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        self.prompts.append(prompt)
        if prompt.grounded:
            yield "An answer. [1]"
            yield Usage(100, 5)
        else:
            yield "How do I list the keys of an associative array in bash?"
            yield Usage(20, 8)


async def test_condensing_searches_the_rewritten_follow_up_and_bills_the_rewrite() -> None:
    model = RewritingModel()
    policy = ChatPolicy(min_score=0.0, follow_up_weight=0.0, condense_follow_ups=True)
    app = FakeApp(models={Plan.FREE: [model]}, chat_policy=policy)
    widget = await make_widget(app)
    await add_document(app, widget, ARRAYS, title="Arrays")
    await add_document(app, widget, READLINE, title="Readline")
    first = await ask(app, widget, "How do I declare an associative array in bash?")

    then = await ask(app, widget, "And how do I list its keys?", first.conversation_id)

    assert then.sources[0].title == "Arrays"
    assert then.usage.input_tokens == 20 + 100
    assert then.usage.output_tokens == 8 + 5
    rewrite = model.prompts[-2]
    assert not rewrite.grounded and rewrite.question == "And how do I list its keys?"
    assert rewrite.history[0].content == "How do I declare an associative array in bash?"


async def test_condensing_is_off_by_default() -> None:
    model = RewritingModel()
    app = FakeApp(models={Plan.FREE: [model]}, chat_policy=ChatPolicy(min_score=0.0))
    widget = await make_widget(app)
    await add_document(app, widget, ARRAYS, title="Arrays")
    first = await ask(app, widget, "How do I declare an associative array in bash?")

    then = await ask(app, widget, "And how do I list its keys?", first.conversation_id)

    assert all(p.grounded for p in model.prompts)
    assert then.usage.input_tokens == 100


def test_a_thank_you_in_between_is_no_question_to_lean_on() -> None:
    history = [
        message(Role.USER, "How do I declare an associative array in bash?"),
        message(Role.ASSISTANT, "With declare -A. [1]"),
        message(Role.USER, "Thanks!"),
        message(Role.ASSISTANT, "You're welcome!"),
    ]
    assert previous_question("And how do I list its keys?", history) == history[0].content


# --- the conversation's page ---------------------------------------------------------------

CLEAN = (
    "# git clean\n\ngit clean removes untracked files from the working tree. Use -n, "
    "--dry-run to show what would be done without removing anything."
)
RM = (
    "# git rm\n\ngit rm removes files from the index. A file deleted with git rm is gone "
    "from the next commit: --dry-run shows what would be deleted."
)


class FixedScores(MemoryVectorStore):
    """Ranks as the in-memory store does, then scores each hit by its page's title: a
    margin as small as a real search's between two near pages, which the fake's own scores
    are not."""

    def __init__(self, dimension: int, scores: dict[str, float]) -> None:
        super().__init__(dimension)
        self.scores = scores

    async def search(self, widget_id: uuid.UUID, query: SearchQuery, limit: int):  # type: ignore[no-untyped-def]
        found = await super().search(widget_id, query, limit)
        rescored = [ScoredChunk(h.chunk, self.scores[h.chunk.title], h.similarity) for h in found]
        return sorted(rescored, key=lambda h: -h.score)


async def follow_up_titles(bonus: float, scores: dict[str, float]) -> tuple[list[str], list[str]]:
    """The follow-up's sources in the conversation of "What does git clean do?", and alone."""
    store = FixedScores(HashEmbedder().dimension, {"git clean": 0.9, "git rm": 0.3})
    policy = ChatPolicy(min_score=0.0, conversation_page_bonus=bonus)
    app = FakeApp(chat_policy=policy, vectors=store)
    widget = await make_widget(app)
    await add_document(app, widget, CLEAN, title="git clean")
    await add_document(app, widget, RM, title="git rm")
    first = await ask(app, widget, "What does git clean do?")
    assert first.sources[0].title == "git clean"
    store.scores = scores
    # Seven words and no pronoun: not a follow-up by its words, yet about git clean.
    follow_up = "How do I preview what would be deleted?"
    then = await ask(app, widget, follow_up, first.conversation_id)
    alone = await ask(app, widget, follow_up)
    return [s.title for s in then.sources], [s.title for s in alone.sources]


async def test_a_question_in_a_conversation_stays_on_its_page_when_another_is_barely_better() -> (
    None
):
    then, alone = await follow_up_titles(0.03, {"git clean": 0.69, "git rm": 0.70})

    assert then == ["git clean", "git rm"]
    assert alone == ["git rm", "git clean"]  # the page is the conversation's, not the words'


async def test_without_the_bonus_the_barely_better_page_comes_first() -> None:
    then, _ = await follow_up_titles(0.0, {"git clean": 0.69, "git rm": 0.70})

    assert then == ["git rm", "git clean"]


async def test_a_clearly_better_page_wins_over_the_conversations() -> None:
    then, _ = await follow_up_titles(0.03, {"git clean": 0.60, "git rm": 0.70})

    assert then == ["git rm", "git clean"]


def test_the_page_leaned_on_is_the_first_source_of_the_answer_to_the_last_question() -> None:
    clean, rm, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    history = [
        message(Role.USER, "How do I remove a file from git?"),
        message(Role.ASSISTANT, "With git rm. [1]", other),
        message(Role.USER, "What does git clean do?"),
        message(Role.ASSISTANT, "It removes untracked files. [1]", clean, rm),
        message(Role.USER, "Thanks!"),
        message(Role.ASSISTANT, "You're welcome!"),
    ]

    assert page_answered(history) == clean
    assert page_answered(history[:2]) == other
    assert page_answered(history[:3]) is None  # not answered yet
    assert page_answered([]) is None
    no_answer = [message(Role.USER, "Do you sell helmets?"), message(Role.ASSISTANT, "Sorry.")]
    assert page_answered(no_answer) is None


def test_staying_reorders_without_changing_the_reported_scores() -> None:
    page, other = uuid.uuid4(), uuid.uuid4()

    def hit(document: uuid.UUID, score: float) -> ScoredChunk:
        chunk = Chunk(
            id=uuid.uuid4(), widget_id=page, document_id=document, index=0, text="", title=""
        )
        return ScoredChunk(chunk, score)

    hits = [hit(other, 0.70), hit(page, 0.69), hit(other, 0.60)]

    stayed = staying(hits, page, 0.03)

    assert [h.score for h in stayed] == [0.69, 0.70, 0.60]
    assert staying(hits, page, 0.0) == hits
