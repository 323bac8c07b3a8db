"""Which adapter fulfils which port: dishka providers, one module per family of ports.

A family whose adapter depends on configuration provides its embedded default
unconditionally and the configured alternative `when=Configured(...)`, so each choice
reads in one place (configured.py says what turns each on).
"""

from __future__ import annotations

from dishka import Provider

from entrypoints.wiring.caching import CachingProvider
from entrypoints.wiring.configured import ConfigurationProvider
from entrypoints.wiring.documents import DocumentProvider
from entrypoints.wiring.health import HealthProvider
from entrypoints.wiring.models import ModelProvider
from entrypoints.wiring.storage import StorageProvider
from entrypoints.wiring.system import SystemProvider
from entrypoints.wiring.telemetry import TelemetryProvider
from entrypoints.wiring.use_cases import PolicyProvider, UseCaseProvider
from entrypoints.wiring.vectors import VectorProvider


def providers() -> list[Provider]:
    """Production: every port wired to its adapter as the settings choose."""
    return [
        ConfigurationProvider(),
        SystemProvider(),
        TelemetryProvider(),
        StorageProvider(),
        VectorProvider(),
        ModelProvider(),
        DocumentProvider(),
        CachingProvider(),
        PolicyProvider(),
        UseCaseProvider(),
        HealthProvider(),
    ]
