"""Fixtures shared by the contract tests."""

from __future__ import annotations

import pytest

from adapters.postgres.database import Database
from tests.support.repositories import Repositories, in_memory, on_postgres


@pytest.fixture(params=["memory", pytest.param("asyncpg", marks=pytest.mark.integration)])
def repos(request: pytest.FixtureRequest) -> Repositories:
    """The persistence ports, on the fakes and on PostgreSQL: one contract for both."""
    if request.param == "memory":
        return in_memory()
    database: Database = request.getfixturevalue("pg_database")
    return on_postgres(database)
