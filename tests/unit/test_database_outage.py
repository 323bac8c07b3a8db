"""While PostgreSQL is known unreachable, a request fails within seconds even when it gets
a connection: a paused server accepts a statement and never answers it, and the pool's
command timeout (tens of seconds) would hold every chat that long."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from adapters.postgres import database as db
from adapters.postgres.database import Database
from domain.errors import DatabaseBusyError, DatabaseUnavailableError


class _Connection:
    def __init__(self) -> None:
        self.terminated = self.cancelled = False

    async def execute(self, statement: str) -> None:
        try:
            await asyncio.sleep(3600)  # the paused server never answers
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    def terminate(self) -> None:
        self.terminated = True


class _Pool:
    """Hands out an idle connection at once, as a pool the outage has not reached yet; as
    asyncpg's, releasing a connection whose statement was cancelled waits for the server to
    confirm the cancellation, which a paused server never does."""

    def __init__(self, paused: bool) -> None:
        self.paused = paused

    async def acquire(self, timeout: float) -> _Connection:  # noqa: ASYNC109 (asyncpg's)
        return _Connection()

    async def release(self, connection: _Connection) -> None:
        if self.paused and connection.cancelled and not connection.terminated:
            await asyncio.sleep(3600)


async def _hangs(database: Database) -> None:
    async with database.connection() as connection:
        await connection.execute("SELECT 1")


async def _fails(database: Database) -> None:
    async with database.connection():
        raise OSError("connection reset by peer")


async def _within(seconds: float, coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs it for `seconds` at most and re-raises how it ended; one still running then
    fails the test (waiting for it to finish could mean waiting for the paused server)."""
    task = asyncio.ensure_future(coroutine)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        pytest.fail(f"still waiting after {seconds} s")
    task.result()


@pytest.fixture(autouse=True)
def _short_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "OUTAGE_STATEMENT_SECONDS", 0.05)


async def test_once_an_outage_is_seen_a_hanging_statement_is_cut_short() -> None:
    database = Database(_pool())
    with pytest.raises(DatabaseUnavailableError):
        await _fails(database)

    with pytest.raises(DatabaseUnavailableError):
        await _within(5, _hangs(database))


async def test_a_healthy_database_keeps_the_pools_own_timeouts() -> None:
    database = Database(_pool(paused=False))

    with pytest.raises(TimeoutError):  # not cut at the outage bound: still running at 0.3 s
        await asyncio.wait_for(_hangs(database), timeout=0.3)


async def test_a_statement_that_succeeds_ends_the_outage() -> None:
    database = Database(_pool(paused=False))
    with pytest.raises(DatabaseUnavailableError):
        await _fails(database)
    async with database.connection():
        pass  # answered

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(_hangs(database), timeout=0.3)


def _pool(paused: bool = True) -> Any:
    return _Pool(paused)


async def test_a_ping_its_caller_gave_up_on_marks_the_outage() -> None:
    # A readiness check cancels its ping after 1 s, before the ping's own 2 s deadline.
    database = Database(_pool())
    ping = asyncio.ensure_future(database.ping())
    await asyncio.sleep(0)
    done, _ = await asyncio.wait({ping}, timeout=0.01)
    assert not done
    ping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await ping

    with pytest.raises(DatabaseUnavailableError):
        await _within(5, _hangs(database))


# A busy database is not a down one: it goes on answering others while one call waits.


class _BusyConnection(_Connection):
    """Answered at once, unless slow: then it gives up after `seconds`, as asyncpg's
    command timeout does."""

    def __init__(self, seconds: float, slow: bool) -> None:
        super().__init__()
        self.seconds, self.slow = seconds, slow

    async def execute(self, statement: str) -> None:
        if self.slow:
            await asyncio.sleep(self.seconds)
            raise TimeoutError


class _BusyPool(_Pool):
    """The first connection it hands out is slow, the others quick."""

    def __init__(self, seconds: float) -> None:
        super().__init__(paused=False)
        self.seconds, self.handed = seconds, 0

    async def acquire(self, timeout: float) -> _Connection:  # noqa: ASYNC109 (asyncpg's)
        self.handed += 1
        return _BusyConnection(self.seconds, slow=self.handed == 1)


async def _select(database: Database) -> None:
    async with database.connection() as connection:
        await connection.execute("SELECT 1")


async def test_a_timeout_while_the_database_answers_others_is_busy_not_an_outage() -> None:
    database = Database(_BusyPool(seconds=0.1))
    slow = asyncio.ensure_future(_select(database))
    await asyncio.sleep(0.02)
    await _select(database)  # answered while the slow one waits

    with pytest.raises(DatabaseBusyError) as raised:
        await slow
    assert raised.value.retry_after >= 1
    assert not await _cut_short(database)


async def test_a_timeout_with_nothing_answered_meanwhile_is_an_outage() -> None:
    database = Database(_BusyPool(seconds=0.05))
    with pytest.raises(DatabaseUnavailableError):
        await _select(database)
    assert await _cut_short(database)


async def test_a_ping_given_up_on_while_the_database_answers_others_is_no_outage() -> None:
    # A readiness check under load: its ping waits (here on its statement; in the service
    # behind a full pool) and is cancelled, while the requests holding the pool are answered.
    database = Database(_BusyPool(seconds=60))
    ping = asyncio.ensure_future(database.ping())
    await asyncio.sleep(0.01)
    await _select(database)
    ping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await ping

    assert not await _cut_short(database)


async def _cut_short(database: Database) -> bool:
    """Whether a request that takes its time is cut at the outage bound (a known outage)."""
    try:
        async with database.connection():
            await asyncio.sleep(0.2)
    except DatabaseUnavailableError:
        return True
    return False
