"""Every ChatModel streams text deltas and then exactly one Usage."""

from __future__ import annotations

import pytest

from adapters.llm.extractive import ExtractiveChatModel
from application.ports import ChatModel
from domain.models import Usage
from domain.prompts import Prompt, PromptSource
from tests.fakes.core import ScriptedModel

PROMPT = Prompt(
    system="You help shoppers.",
    no_answer="Sorry, I don't know.",
    question="How long is the warranty on a kettle?",
    sources=(
        PromptSource(
            index=1, title="Shipping", text="We ship to Portugal and Spain. Parcels take two days."
        ),
        PromptSource(
            index=2,
            title="Warranty",
            text="Every kettle has a two-year warranty. Toasters have one year. Keep your receipt.",
        ),
    ),
)


@pytest.fixture(params=["extractive", "scripted"])
def model(request: pytest.FixtureRequest) -> ChatModel:
    return ExtractiveChatModel() if request.param == "extractive" else ScriptedModel("scripted")


async def test_streams_text_then_exactly_one_usage(model: ChatModel) -> None:
    items = [item async for item in model.stream(PROMPT)]

    assert isinstance(items[-1], Usage)
    assert all(isinstance(item, str) for item in items[:-1])
    assert "".join(items[:-1]).strip()  # type: ignore[arg-type]
    assert isinstance(model.name, str) and model.name


async def test_extractive_quotes_the_best_sentence_with_its_source_number() -> None:
    items = [item async for item in ExtractiveChatModel().stream(PROMPT)]
    text = "".join(i for i in items if isinstance(i, str))

    assert text.startswith("Every kettle has a two-year warranty. [2]")
    assert "Portugal" not in text
    assert len(items) > 5  # word by word
    assert items[-1] == Usage(0, 0, 0.0)


async def test_extractive_says_the_no_answer_message_when_nothing_matches() -> None:
    prompt = Prompt(
        system="",
        no_answer="Ask support.",
        question="Do you sell bicycles?",
        sources=PROMPT.sources,
    )
    text = "".join([i async for i in ExtractiveChatModel().stream(prompt) if isinstance(i, str)])
    assert text == "Ask support."


async def test_extractive_is_deterministic() -> None:
    runs = [[i async for i in ExtractiveChatModel().stream(PROMPT)] for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
