"""A busy pool is answered as load (503 `database_busy` with Retry-After), never as the
outage `database_unavailable` is; an outage's cause is logged, never answered."""

from __future__ import annotations

from typing import Any, cast

import pytest
from litestar import Request

from domain.errors import DatabaseBusyError, DatabaseUnavailableError
from entrypoints.http import errors
from entrypoints.http.errors import domain_error
from testkit.recording_log import RecordingLog


def test_a_busy_database_is_503_database_busy_with_retry_after() -> None:
    response = domain_error(
        cast(Request[Any, Any, Any], None),
        DatabaseBusyError("the service is busy; try again shortly", retry_after=3),
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert cast(dict[str, Any], response.content)["error"]["code"] == "database_busy"


def test_the_log_names_what_made_the_database_unavailable_and_the_answer_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = RecordingLog()
    monkeypatch.setattr(errors, "log", log)
    error = DatabaseUnavailableError("the database is unavailable")
    error.__cause__ = ConnectionRefusedError("connect to 10.0.0.7:5432 refused")

    response = domain_error(cast(Request[Any, Any, Any], None), error)

    [logged] = [entry for entry in log.entries if entry["event"] == "dependency_unavailable"]
    assert "10.0.0.7:5432 refused" in str(logged["cause"])
    assert "10.0.0.7" not in str(response.content)
