from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import ENV_NAMES, Settings, SettingsError, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, Path("data"))
    assert settings.database_url is None and settings.worker_in_process is True
    assert settings.llm_chains == {"free": ["extractive"], "paid": ["extractive"]}


def test_values_are_parsed_into_their_types() -> None:
    settings = load_settings(
        {
            "PORT": "9001",
            "DATA_DIR": "/srv/cc",
            "WORKER_IN_PROCESS": "false",
            "RETRIEVAL_MIN_SCORE": "0.35",
            "LLM_PAID": "anthropic:claude-sonnet-4-5, extractive",
        }
    )
    assert settings.port == 9001 and settings.data_dir == Path("/srv/cc")
    assert settings.worker_in_process is False and settings.retrieval_min_score == 0.35
    assert settings.llm_chains["paid"] == ["anthropic:claude-sonnet-4-5", "extractive"]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"WORKER_IN_PROCESS": "perhaps"}, "WORKER_IN_PROCESS"),
        ({"MAX_UPLOAD_BYTES": "-1"}, "MAX_UPLOAD_BYTES"),
        ({"PARSE_IDLE_SECONDS": "-5"}, "PARSE_IDLE_SECONDS"),
        ({"ENVIRONMENT": "production"}, "ADMIN_TOKEN"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(environ: dict, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


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
