"""Provider settings: parsed, checked at start, and turned into per-plan model chains."""

from __future__ import annotations

import pytest

from adapters.llm.anthropic import AnthropicChatModel
from adapters.llm.catalog import ModelCatalog
from adapters.llm.extractive import ExtractiveChatModel
from adapters.llm.openai import OpenAIChatModel
from domain.pricing import Price
from entrypoints.settings import SettingsError, load_settings
from entrypoints.wiring import models as container
from entrypoints.wiring.models import chat_models, provider_config
from testkit.fakes.telemetry import RecordingTelemetry
from testkit.recording_log import RecordingLog


def test_provider_settings_are_parsed() -> None:
    settings = load_settings(
        {
            "ANTHROPIC_BASE_URL": "http://gateway:8080",
            "LLM_FIRST_TOKEN_TIMEOUT": "3.5",
            "LLM_RETRY_ATTEMPTS": "5",
            "LLM_PRICES": "openai:llama3.2=0.1/0.2",
        }
    )
    config = provider_config(settings)
    assert config.anthropic_base_url == "http://gateway:8080"
    assert config.resilience.first_token_seconds == 3.5
    assert config.resilience.attempts == 5
    assert settings.prices["openai:llama3.2"] == Price(0.1, 0.2)
    assert settings.prices["openai:gpt-4o-mini"] == Price(0.15, 0.60)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"LLM_FREE": "gemini:pro"}, "LLM_FREE"),
        ({"LLM_PAID": "anthropic:"}, "LLM_PAID"),
        ({"LLM_PRICES": "gpt-4o=cheap"}, "LLM_PRICES"),
        ({"LLM_RETRY_ATTEMPTS": "0"}, "LLM_RETRY_ATTEMPTS"),
        ({"LLM_TOTAL_TIMEOUT": "-1"}, "LLM_TOTAL_TIMEOUT"),
        ({"PROMPT_HISTORY_TOKENS": "20000"}, "PROMPT_HISTORY_TOKENS"),
    ],
)
def test_a_bad_provider_setting_stops_start_up_naming_it(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_without_keys_provider_models_are_skipped_with_a_log_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = RecordingLog()
    monkeypatch.setattr(container, "log", log)
    catalog = ModelCatalog(provider_config(load_settings({})), RecordingTelemetry())

    models = chat_models(catalog, ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"], "free")

    assert [type(m) for m in models] == [ExtractiveChatModel]
    skipped = [entry for entry in log.entries if entry["event"] == "chat_model_skipped"]
    assert [(e["model"], e["reason"]) for e in skipped] == [
        ("openai:gpt-4o-mini", "OPENAI_API_KEY is not set"),
        ("anthropic:claude-haiku-4-5", "ANTHROPIC_API_KEY is not set"),
    ]
    assert [e["event"] for e in log.entries][-1] == "chat_model_fallback"


async def test_with_keys_the_chain_keeps_its_order_and_shares_one_client() -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "sk-ant-x"})
    catalog = ModelCatalog(provider_config(settings), RecordingTelemetry())
    paid = chat_models(catalog, ["anthropic:claude-sonnet-5-5", "openai:gpt-4o"], "paid")
    free = chat_models(catalog, ["openai:gpt-4o-mini", "extractive"], "free")

    assert [m.name for m in paid] == ["anthropic:claude-sonnet-5-5", "openai:gpt-4o"]
    assert [type(m) for m in paid] == [AnthropicChatModel, OpenAIChatModel]
    assert [m.name for m in free] == ["openai:gpt-4o-mini", "extractive"]
    assert paid[1]._client is free[0]._client  # type: ignore[attr-defined]
    await catalog.close()
