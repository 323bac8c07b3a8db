"""A busy pool is answered as load (503 `database_busy` with Retry-After), never as the
outage `database_unavailable` is."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request

from domain.errors import DatabaseBusyError
from entrypoints.http.errors import domain_error


def test_a_busy_database_is_503_database_busy_with_retry_after() -> None:
    response = domain_error(
        cast(Request[Any, Any, Any], None),
        DatabaseBusyError("the service is busy; try again shortly", retry_after=3),
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert cast(dict[str, Any], response.content)["error"]["code"] == "database_busy"
