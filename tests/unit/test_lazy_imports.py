"""The provider SDKs stay out of a process that does not use them (issue 19's footprint:
anthropic, qdrant-client, openai and redis-py are ~100 MB of an API worker on
the local defaults)."""

from __future__ import annotations

import json
import subprocess
import sys

UNUSED_ON_THE_DEFAULTS = ("anthropic", "openai", "qdrant_client", "redis")

PROGRAM = """
import json, sys
import entrypoints.http.app
import entrypoints.wiring.caching, entrypoints.wiring.models, entrypoints.wiring.vectors
from adapters.llm.catalog import ModelCatalog, ProviderConfig
from adapters.telemetry.logs import LogTelemetry

catalog = ModelCatalog(ProviderConfig(), LogTelemetry())
catalog.model("extractive")
catalog.missing("openai:gpt-4o-mini")
print(json.dumps(sorted(name for name in %r if name in sys.modules)))
"""


def _loaded(program: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_app_on_its_defaults_imports_no_provider_sdk() -> None:
    assert _loaded(PROGRAM % (UNUSED_ON_THE_DEFAULTS,)) == []


def test_a_hosted_model_still_brings_its_sdk() -> None:
    program = PROGRAM.replace(
        'catalog.model("extractive")',
        'ModelCatalog(ProviderConfig(openai_api_key="sk-x"), LogTelemetry())'
        '.model("openai:gpt-4o-mini")',
    )
    assert _loaded(program % (("openai",),)) == ["openai"]
