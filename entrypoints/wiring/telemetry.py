from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.telemetry.fanout import FanOutTelemetry
from adapters.telemetry.logs import LogTelemetry
from adapters.telemetry.model_health import ModelHealth
from adapters.telemetry.prometheus import PrometheusTelemetry
from application.ports.telemetry import Telemetry
from entrypoints.settings import Settings


class TelemetryProvider(Provider):
    scope = Scope.APP

    @provide
    def model_health(self) -> ModelHealth:
        return ModelHealth()

    @provide
    def telemetry(self, settings: Settings, health: ModelHealth) -> Telemetry:
        sinks: list[Telemetry] = [LogTelemetry(), health]
        if settings.metrics_enabled:
            sinks.append(PrometheusTelemetry())
        return FanOutTelemetry(sinks)
