"""A stand-in for a module's structlog logger: structlog caches its loggers once
configured, so `structlog.testing.capture_logs` cannot see them in a full test run."""

from __future__ import annotations


class RecordingLog:
    def __init__(self) -> None:
        self.entries: list[dict[str, object]] = []

    def _record(self, event: str, **fields: object) -> None:
        self.entries.append({"event": event, **fields})

    info = warning = error = _record
