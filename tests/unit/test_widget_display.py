"""Display settings: set by the owner, checked, and handed to the script without secrets."""

from __future__ import annotations

import msgspec
import pytest

from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.ingestion.submission import NewDocument, SubmitDocument
from application.widget_config import WidgetConfig
from application.widgets import UpdateWidget, WidgetChanges
from domain.errors import InvalidInputError
from domain.models import DEFAULT_ACCENT_COLOR, WidgetPosition
from testkit.fakes.core import FakeApp
from tests.unit.conftest import HANDBOOK, make_widget


async def test_a_new_widget_has_display_defaults_and_its_name_as_title(app: FakeApp) -> None:
    widget = await make_widget(app, name="Kettle help")

    config = WidgetConfig.of(widget)

    assert config.title == "Kettle help"
    assert config.accent_color == DEFAULT_ACCENT_COLOR
    assert config.position is WidgetPosition.BOTTOM_RIGHT
    assert config.suggested_questions == ()
    assert config.greeting and config.placeholder


async def test_display_settings_are_trimmed_and_the_colour_lowercased(app: FakeApp) -> None:
    widget = await make_widget(app)

    changed = await app.get(UpdateWidget)(
        widget.id,
        WidgetChanges(
            title="  Ask us ",
            accent_color="#0A7D33",
            position=WidgetPosition.BOTTOM_LEFT,
            suggested_questions=(" How long is the warranty? ", "Refunds?"),
        ),
    )

    assert WidgetConfig.of(changed) == WidgetConfig(
        name="Help",
        title="Ask us",
        greeting=changed.greeting,
        placeholder=changed.placeholder,
        accent_color="#0a7d33",
        position=WidgetPosition.BOTTOM_LEFT,
        suggested_questions=("How long is the warranty?", "Refunds?"),
    )


def test_the_config_carries_nothing_private() -> None:
    fields = {field.name for field in msgspec.structs.fields(WidgetConfig)}

    assert fields == {
        "name", "title", "greeting", "placeholder", "accent_color", "position",
        "suggested_questions",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (dict(accent_color="red"), "accent_color"),
        (dict(accent_color="#12345"), "accent_color"),
        (dict(accent_color="#12345g"), "accent_color"),
        (dict(accent_color="#fff;}x{"), "accent_color"),
        (dict(title="t" * 81), "title"),
        (dict(greeting="g" * 501), "greeting"),
        (dict(placeholder="p" * 101), "placeholder"),
        (dict(suggested_questions=("a", "b", "c", "d", "e")), "suggested_questions"),
        (dict(suggested_questions=("fine", "  ")), "suggested_questions"),
        (dict(suggested_questions=("q" * 151,)), "suggested_questions"),
    ],
)
async def test_out_of_bounds_display_settings_are_refused(
    app: FakeApp, bad: dict, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await make_widget(app, **bad)

    assert refused.value.details == {"field": field}


async def test_the_short_colour_and_four_questions_are_accepted(app: FakeApp) -> None:
    widget = await make_widget(app, accent_color="#FA0", suggested_questions=("a", "b", "c", "d"))

    assert (widget.accent_color, len(widget.suggested_questions)) == ("#fa0", 4)


async def test_a_source_from_a_url_carries_that_url(app: FakeApp) -> None:
    widget = await make_widget(app)
    for title, url in (("Returns", "https://shop.example/returns"), ("Notes", None)):
        await app.get(SubmitDocument)(
            NewDocument(
                widget_id=widget.id,
                title=title,
                content=(HANDBOOK if url else "Shipping notes: parcels ship daily.").encode(),
                content_type="text/markdown",
                source_url=url,
            )
        )
    await app.drain()

    answer = await (
        await app.get(AnswerQuestion).start(
            Question(widget=widget, message="How many days to return an item for a refund?")
        )
    ).collect()

    urls = {source.title: source.url for source in answer.sources}
    assert urls["Returns"] == "https://shop.example/returns"
    assert urls.get("Notes") is None
