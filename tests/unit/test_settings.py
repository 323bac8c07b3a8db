from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import (
    ENV_NAMES,
    POSITIVE_FIELDS,
    Settings,
    SettingsError,
    load_settings,
)


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, Path("data"))
    assert settings.database_url is None and settings.worker_in_process is True
    assert settings.llm_chains["free"] == ["openai:gpt-4o-mini", "extractive"]


def test_values_are_parsed_into_their_types() -> None:
    settings = load_settings(
        {
            "PORT": "9001",
            "DATA_DIR": "/srv/cc",
            "WORKER_IN_PROCESS": "false",
            "RETRIEVAL_MIN_SCORE": "0.35",
            "RETRIEVAL_MIN_SENTENCE_SCORE": "1.5",
            "LLM_PAID": "anthropic:claude-sonnet-5-5, extractive",
        }
    )
    assert settings.port == 9001 and settings.data_dir == Path("/srv/cc")
    assert settings.worker_in_process is False and settings.retrieval_min_score == 0.35
    assert settings.retrieval_min_sentence_score == 1.5
    assert settings.llm_chains["paid"] == ["anthropic:claude-sonnet-5-5", "extractive"]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"WORKER_IN_PROCESS": "perhaps"}, "WORKER_IN_PROCESS"),
        ({"MAX_UPLOAD_BYTES": "-1"}, "MAX_UPLOAD_BYTES"),
        ({"PARSE_IDLE_SECONDS": "-5"}, "PARSE_IDLE_SECONDS"),
        ({"RETRIEVAL_MIN_SENTENCE_SCORE": "nan"}, "RETRIEVAL_MIN_SENTENCE_SCORE"),
        ({"RETRIEVAL_CONVERSATION_PAGE_BONUS": "-0.1"}, "RETRIEVAL_CONVERSATION_PAGE_BONUS"),
        ({"RETRIEVAL_CONVERSATION_PAGE_BONUS": "nan"}, "RETRIEVAL_CONVERSATION_PAGE_BONUS"),
        ({"ENVIRONMENT": "production"}, "ADMIN_TOKEN"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(environ: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


@pytest.mark.parametrize("name", POSITIVE_FIELDS)
def test_a_bound_of_zero_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name.upper()} must be positive$"):
        load_settings({name.upper(): "0"})


def test_every_setting_has_an_upper_case_variable() -> None:
    assert set(ENV_NAMES) == set(Settings.__struct_fields__)
    assert {
        "HOST",
        "PORT",
        "DATA_DIR",
        "ADMIN_TOKEN",
        "DATABASE_URL",
        "REDIS_URL",
        "QDRANT_URL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "LLM_FREE",
        "LLM_PAID",
        "EMBEDDINGS",
        "LOG_LEVEL",
        "LOG_FORMAT",
    } <= set(ENV_NAMES.values())


def test_the_default_routing_is_the_seeds_with_an_offline_fallback() -> None:
    chains = load_settings({}).llm_chains

    assert chains["free"][0] == "openai:gpt-4o-mini"
    assert chains["paid"][0].startswith("anthropic:claude-sonnet-")
    assert chains["free"][-1] == chains["paid"][-1] == "extractive"


def test_every_default_model_has_a_price_and_none_is_past_its_end_of_life() -> None:
    from anthropic._data.deprecated_models import DEPRECATED_MODELS

    from domain.pricing import price_of

    chains = load_settings({}).llm_chains
    for spec in chains["free"] + chains["paid"]:
        assert price_of(spec) is not None, f"{spec} would be billed at 0"
        _, _, model = spec.partition(":")
        assert model not in DEPRECATED_MODELS, f"{spec} retires on {DEPRECATED_MODELS[model]}"
