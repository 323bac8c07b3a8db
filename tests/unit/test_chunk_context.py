"""A chunk is embedded and BM25-encoded with its document's title, section heading and
summary, and handed to the model with the summary: its text alone is often silent on the
very name a question asks about, and on what its page is for."""

from __future__ import annotations

import msgspec
import pytest

from adapters.vectorstore.sparse import encode_chunk
from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from domain.models import Plan
from domain.models.documents import searchable_title
from domain.vectors import cosine, folded
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import add_document, make_widget


async def test_the_embedder_sees_the_title_and_section_with_the_text(app: FakeApp) -> None:
    widget = await make_widget(app)

    await add_document(app, widget, "# Cleaning\n\nDescale it every 60 days.", title="Kestrel 9")

    [embedded] = app.embedder.calls[-1]
    assert embedded.splitlines() == ["Kestrel 9", "Cleaning", "Descale it every 60 days."]


async def test_bm25_sees_the_same_text_as_the_embedder(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, "# Cleaning\n\nDescale it every 60 days.", title="Kestrel 9")
    [(chunk, _, sparse)] = app.vectors.points.values()

    assert chunk.in_context() == app.embedder.calls[-1][0]
    assert encode_chunk(chunk) == sparse
    bare = msgspec.structs.replace(chunk, title="", section=None)
    assert len(sparse.indices) > len(encode_chunk(bare).indices)


async def test_every_chunk_is_searched_with_what_its_document_is_for(app: FakeApp) -> None:
    # "Apply a commit from another branch" shares no word with the options of the page
    # that answers it; the page's name line says what the page is for.
    widget = await make_widget(app)
    options = "\n\n".join(f"Option {n} changes the way the tool works." for n in range(60))
    name = "git-cherry-pick - Apply the changes introduced by some existing commits"
    lead = "Given one or more existing commits, apply the change each one introduces."
    text = f"# NAME\n\n{name}\n\n# DESCRIPTION\n\n{lead}\n\n# OPTIONS\n\n{options}"

    await add_document(app, widget, text, title="git-cherry-pick(1)")

    embedded = app.embedder.calls[-1]
    assert len(embedded) > 1
    # Said once in each, where the chunk says it or after the title where it does not.
    assert all(e.count(name) == 1 and e.count(lead) == 1 for e in embedded)
    assert embedded[-1].splitlines()[:5] == [
        "git-cherry-pick(1)",
        name,
        lead,
        "Option 0 changes the way the tool works.",  # what its section opens with
        "OPTIONS",
    ]


async def test_a_chunks_vector_leans_towards_its_pages_name_line(app: FakeApp) -> None:
    # "How do I undo a commit that was already pushed?" is nearer git-revert's name line
    # than any of its chunks; each chunk's vector is moved towards that line's.
    widget = await make_widget(app)
    name = "git-revert - Revert some existing commits"
    options = "\n\n".join(f"Option {n} changes the way the tool works." for n in range(30))
    text = f"# NAME\n\n{name}\n\n# OPTIONS\n\n{options}"

    await add_document(app, widget, text, title="git-revert(1)")

    [line] = await app.embedder.embed([name])
    weight = app.ingestion_policy.subject_weight
    assert weight > 0.0
    points = list(app.vectors.points.values())
    assert len(points) > 1
    for chunk, stored, _ in points:
        [own] = await app.embedder.embed([chunk.in_context()])
        assert stored == pytest.approx(folded(own, line, weight))
        assert cosine(stored, line) > cosine(own, line)


async def test_a_page_without_a_name_line_keeps_its_chunks_vectors(app: FakeApp) -> None:
    widget = await make_widget(app)

    await add_document(app, widget, "# Cleaning\n\nDescale it every 60 days.", title="Kestrel 9")

    [(chunk, stored, _)] = app.vectors.points.values()
    [own] = await app.embedder.embed([chunk.in_context()])
    assert stored == pytest.approx(own)


async def test_the_model_is_handed_what_a_sources_document_is_for() -> None:
    model = ScriptedModel("openai:gpt-4o-mini")
    app = FakeApp(models={Plan.FREE: [model]})
    widget = await make_widget(app)
    name = "kettlectl-descale - Remove limescale from the kettle"
    lead = "Descaling dissolves the limescale that hard water leaves behind."
    options = "\n\n".join(f"Option {n} sets the descaling temperature." for n in range(60))
    text = f"# NAME\n\n{name}\n\n# DESCRIPTION\n\n{lead}\n\n# OPTIONS\n\n{options}"
    await add_document(app, widget, text, title="kettlectl-descale(1)")

    await (
        await app.get(AnswerQuestion).start(
            Question(widget=widget, message="Which option sets the temperature?")
        )
    ).collect()

    sources = model.prompts[-1].sources
    deep = [s for s in sources if "Option 40" in s.text]
    assert deep, "an options chunk is among the sources"
    assert all(s.about.startswith(f"{name}\n{lead}\n") and s.about in s.block("x") for s in deep)
    # The chunk that says it itself is not handed it twice.
    assert all((s.about + s.text).count(lead) == 1 for s in sources)


async def test_a_file_name_title_is_searched_without_its_extension(app: FakeApp) -> None:
    # An upload with no title is titled by its file name; ".docx" beside every chunk took
    # "Where is my data stored?" under the relevance floor, where ".md" did not.
    widget = await make_widget(app)

    await add_document(
        app, widget, "# Data\n\nOur servers are in Frankfurt.", title="data_policy.docx"
    )

    [embedded] = app.embedder.calls[-1]
    assert embedded.splitlines()[0] == "data policy"
    [(chunk, _, _)] = app.vectors.points.values()
    assert chunk.title == "data_policy.docx"  # what the owner uploaded, as sources show it


@pytest.mark.parametrize(
    ("title", "searched"),
    [
        ("security.md", "security"),
        ("Q3_price-list.PDF", "Q3 price list"),
        ("8.1. Numeric Types", "8.1. Numeric Types"),
        ("git-commit(1)", "git-commit(1)"),
        ("Release notes 2.4", "Release notes 2.4"),
        (".pdf", ".pdf"),
    ],
)
def test_only_a_file_name_loses_its_extension(title: str, searched: str) -> None:
    assert searchable_title(title) == searched
