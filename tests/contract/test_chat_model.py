"""Every ChatModel streams text deltas and then exactly one Usage."""

from __future__ import annotations

import pytest

from adapters.llm.catalog import ModelCatalog
from adapters.llm.extractive import ExtractiveChatModel
from adapters.providers.retries import Resilience
from application.ports.models import ChatModel
from domain.models import Role, Usage
from domain.prompts import PastMessage, Prompt, PromptSource
from testkit.fakes.models import ScriptedModel
from testkit.llm_stubs import Reply, StubServer

PROVIDER_SPECS = {"openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-haiku-4-5"}

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


@pytest.fixture
def stub_resilience() -> Resilience:
    return Resilience(first_token_seconds=5, total_seconds=10)


@pytest.fixture(params=["extractive", "scripted", "openai", "anthropic"])
def model(request: pytest.FixtureRequest) -> ChatModel:
    if request.param in PROVIDER_SPECS:
        catalog: ModelCatalog = request.getfixturevalue("catalog")
        return catalog.model(PROVIDER_SPECS[request.param])
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


@pytest.mark.parametrize("provider", sorted(PROVIDER_SPECS))
async def test_providers_get_the_grounded_prompt_and_report_their_own_usage(
    catalog: ModelCatalog, stub: StubServer, provider: str
) -> None:
    stub.script(Reply(deltas=("Two ", "years [2]."), usage=(321, 4)))
    prompt = Prompt(
        system=PROMPT.system,
        no_answer=PROMPT.no_answer,
        question=PROMPT.question,
        sources=PROMPT.sources,
        history=(PastMessage(Role.USER, "Hi"), PastMessage(Role.ASSISTANT, "Hello! [1]")),
    )

    items = [item async for item in catalog.model(PROVIDER_SPECS[provider]).stream(prompt)]

    assert items == ["Two ", "years [2].", Usage(321, 4)]
    [seen] = stub.requests
    body = seen.body
    assert body["stream"] is True
    if provider == "openai":
        assert seen.path == "/v1/chat/completions"
        assert body["stream_options"] == {"include_usage": True}
        assert seen.headers["authorization"] == "Bearer sk-test"
        system, *turns = body["messages"]
        assert system == {"role": "system", "content": prompt.system_text()}
    else:
        assert seen.path == "/v1/messages"
        assert body["system"] == prompt.system_text()
        assert body["max_tokens"] > 0
        turns = body["messages"]
    assert turns == prompt.chat_messages()
    # The rules in the system message; the sources fenced as data in the visitor's message.
    assert "Every kettle" not in prompt.system_text()
    assert turns[-1]["role"] == "user"
    assert (
        f'<source-{prompt.fence} id="2">\nWarranty\nEvery kettle has a two-year warranty.'
    ) in turns[-1]["content"]
    assert turns[-1]["content"].endswith(f"Question: {prompt.question}")
    assert seen.wait_ended() == "completed"
